//! A small router: method + path patterns (`/todos/:id`, `/static/*`) to handlers.

use crate::http::{percent_decode, HttpError, IntoResponse, Method, Request, Response};

type Handler = Box<dyn Fn(Request) -> Response>;

/// One segment of a route pattern.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Segment {
    /// Must equal the path segment.
    Literal(String),
    /// `:name`: matches one segment, captured as `name`.
    Param(String),
    /// `*`: matches the rest of the path (possibly empty), captured as `*`.
    Rest,
}

struct Route {
    method: Option<Method>,
    pattern: Vec<Segment>,
    handler: Handler,
}

/// Routes requests to handlers by method and path pattern; first match wins.
///
/// Patterns are `/`-separated segments: a literal, `:name` (one segment, read with
/// [`Request::param`]), or a final `*` (the rest of the path, `param("*")`). Empty segments
/// are ignored, so `/todos/` matches `/todos`. A path that matches a route with another
/// method gets 405 with an `allow` header; no match at all gets 404.
///
/// ```
/// use tarn_sdk::http::{Method, Request, Response};
/// use tarn_sdk::Router;
///
/// let router = Router::new()
///     .get("/todos/:id", |req: Request| Response::text(200, req.param("id").unwrap().to_string()))
///     .get("/static/*", |req: Request| Response::text(200, req.param("*").unwrap().to_string()));
/// let resp = router.handle(Request::new(Method::Get, "/todos/42"));
/// assert_eq!(resp.body(), b"42");
/// assert_eq!(router.handle(Request::new(Method::Delete, "/todos/42")).status(), 405);
/// ```
#[derive(Default)]
pub struct Router {
    routes: Vec<Route>,
}

impl Router {
    /// A router without routes.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a route for `method` (`None`: any method).
    pub fn route<R, F>(mut self, method: Option<Method>, pattern: &str, handler: F) -> Self
    where
        R: IntoResponse,
        F: Fn(Request) -> R + 'static,
    {
        let pattern = pattern
            .split('/')
            .filter(|s| !s.is_empty())
            .map(|s| match s {
                "*" => Segment::Rest,
                p if p.starts_with(':') => Segment::Param(p[1..].to_string()),
                lit => Segment::Literal(lit.to_string()),
            })
            .collect();
        self.routes.push(Route {
            method,
            pattern,
            handler: Box::new(move |r| handler(r).into_response()),
        });
        self
    }

    /// Adds a GET route (also answering HEAD).
    pub fn get<R: IntoResponse, F: Fn(Request) -> R + 'static>(
        self,
        pattern: &str,
        handler: F,
    ) -> Self {
        self.route(Some(Method::Get), pattern, handler)
    }

    /// Adds a POST route.
    pub fn post<R: IntoResponse, F: Fn(Request) -> R + 'static>(
        self,
        pattern: &str,
        handler: F,
    ) -> Self {
        self.route(Some(Method::Post), pattern, handler)
    }

    /// Adds a PUT route.
    pub fn put<R: IntoResponse, F: Fn(Request) -> R + 'static>(
        self,
        pattern: &str,
        handler: F,
    ) -> Self {
        self.route(Some(Method::Put), pattern, handler)
    }

    /// Adds a PATCH route.
    pub fn patch<R: IntoResponse, F: Fn(Request) -> R + 'static>(
        self,
        pattern: &str,
        handler: F,
    ) -> Self {
        self.route(Some(Method::Patch), pattern, handler)
    }

    /// Adds a DELETE route.
    pub fn delete<R: IntoResponse, F: Fn(Request) -> R + 'static>(
        self,
        pattern: &str,
        handler: F,
    ) -> Self {
        self.route(Some(Method::Delete), pattern, handler)
    }

    /// Adds a route for any method.
    pub fn any<R: IntoResponse, F: Fn(Request) -> R + 'static>(
        self,
        pattern: &str,
        handler: F,
    ) -> Self {
        self.route(None, pattern, handler)
    }

    /// Routes `request` to the first matching handler and returns its response.
    pub fn handle(&self, mut request: Request) -> Response {
        let path: Vec<&str> = request
            .path()
            .split('/')
            .filter(|s| !s.is_empty())
            .collect();
        let mut allowed: Vec<&str> = Vec::new();
        for route in &self.routes {
            let Some(params) = matches(&route.pattern, &path) else {
                continue;
            };
            let method_ok = match &route.method {
                None => true,
                Some(m) => {
                    m == request.method()
                        || (*m == Method::Get && *request.method() == Method::Head)
                }
            };
            if method_ok {
                request.params = params;
                return (route.handler)(request);
            }
            if let Some(m) = &route.method {
                allowed.push(m.as_str());
            }
        }
        if allowed.is_empty() {
            HttpError::not_found(format!("no route for {}", request.path())).into_response()
        } else {
            allowed.dedup();
            HttpError::new(405, format!("method {} not allowed", request.method()))
                .into_response()
                .with_header("allow", &allowed.join(", "))
        }
    }
}

/// The captured parameters if `path` matches `pattern`.
fn matches(pattern: &[Segment], path: &[&str]) -> Option<Vec<(String, String)>> {
    let mut params = Vec::new();
    for (i, seg) in pattern.iter().enumerate() {
        match seg {
            Segment::Rest => {
                let rest = path
                    .get(i..)
                    .unwrap_or(&[])
                    .iter()
                    .map(|s| percent_decode(s))
                    .collect::<Vec<_>>();
                params.push(("*".to_string(), rest.join("/")));
                return Some(params);
            }
            Segment::Literal(lit) => {
                if path.get(i) != Some(&lit.as_str()) {
                    return None;
                }
            }
            Segment::Param(name) => params.push((name.clone(), percent_decode(path.get(i)?))),
        }
    }
    (pattern.len() == path.len()).then_some(params)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn router() -> Router {
        Router::new()
            .get("/todos", |_| "list")
            .post("/todos", |_| Response::new(201))
            .get("/todos/:id", |r: Request| {
                format!("get {}", r.param("id").unwrap())
            })
            .put("/todos/:id", |r: Request| {
                format!("put {}", r.param("id").unwrap())
            })
            .get("/users/:u/todos/:t", |r: Request| {
                format!("{}/{}", r.param("u").unwrap(), r.param("t").unwrap())
            })
            .get("/static/*", |r: Request| {
                format!("file {}", r.param("*").unwrap())
            })
            .any("/health", |r: Request| format!("{}", r.method()))
    }

    fn call(m: Method, uri: &str) -> (u16, String) {
        let r = router().handle(Request::new(m, uri));
        (r.status(), String::from_utf8(r.body().to_vec()).unwrap())
    }

    #[test]
    fn matches_literals_params_and_wildcards() {
        assert_eq!(call(Method::Get, "/todos"), (200, "list".into()));
        assert_eq!(call(Method::Get, "/todos/"), (200, "list".into()));
        assert_eq!(call(Method::Post, "/todos").0, 201);
        assert_eq!(
            call(Method::Get, "/todos/a%20b?x=1"),
            (200, "get a b".into())
        );
        assert_eq!(call(Method::Put, "/todos/7"), (200, "put 7".into()));
        assert_eq!(call(Method::Get, "/users/al/todos/3"), (200, "al/3".into()));
        assert_eq!(
            call(Method::Get, "/static/css/site.css"),
            (200, "file css/site.css".into())
        );
        assert_eq!(call(Method::Get, "/static"), (200, "file ".into()));
        assert_eq!(call(Method::Patch, "/health"), (200, "PATCH".into()));
        assert_eq!(call(Method::Head, "/todos").0, 200);
    }

    #[test]
    fn not_found_and_method_not_allowed() {
        assert_eq!(call(Method::Get, "/nope").0, 404);
        assert_eq!(call(Method::Get, "/todos/1/extra").0, 404);
        let r = router().handle(Request::new(Method::Delete, "/todos/1"));
        assert_eq!(r.status(), 405);
        assert_eq!(r.header("allow"), Some("GET, PUT"));
    }
}
