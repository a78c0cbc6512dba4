//! Route patterns and the route table of an app's `[[route]]`s: which function serves a
//! method and path, and what the pattern captured. Pure matching, no I/O: the manifest checks
//! its patterns with [`RoutePattern::parse`], deploy builds a [`RouteTable`] for each version,
//! and the HTTP trigger ([`super::http`]) looks requests up in it.
//!
//! Patterns: literal segments, `:name` (one segment, percent-decoded) and a final `*` (the rest
//! of the path, maybe empty). Paths under `/_tarn/` are reserved for the admin API and never
//! routed. When several routes match, the more specific wins, segment by segment (literal
//! before `:param` before `*`), then a route naming the method before one taking any method.
//! A path that matches only routes of other methods is [`RouteMatch::MethodNotAllowed`].

use http::Method;

/// One segment of a route pattern.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Segment {
    Literal(String),
    Param(String),
    Wildcard,
}

/// A parsed route path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoutePattern {
    text: String,
    segments: Vec<Segment>,
}

/// What a match captured.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Captures {
    /// `:name` values, in pattern order.
    pub params: Vec<(String, String)>,
    /// What `*` matched (no leading slash).
    pub wildcard: Option<String>,
}

impl RoutePattern {
    /// Parses `/a/:b/*`.
    pub fn parse(path: &str) -> Result<RoutePattern, String> {
        if !path.starts_with('/') {
            return Err("a route path starts with /".into());
        }
        if path == "/_tarn" || path.starts_with("/_tarn/") {
            return Err("paths under /_tarn/ are reserved for the admin API".into());
        }
        let parts: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
        let mut segments = Vec::new();
        for (i, part) in parts.iter().enumerate() {
            let seg = if *part == "*" {
                if i + 1 != parts.len() {
                    return Err("`*` may only be the last segment".into());
                }
                Segment::Wildcard
            } else if let Some(name) = part.strip_prefix(':') {
                if name.is_empty()
                    || !name
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
                {
                    return Err(format!("bad parameter name `{part}`"));
                }
                Segment::Param(name.to_string())
            } else {
                Segment::Literal(part.to_string())
            };
            segments.push(seg);
        }
        Ok(RoutePattern {
            text: path.to_string(),
            segments,
        })
    }

    /// The pattern as written.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// Matches `path` (no query string).
    pub fn matches(&self, path: &str) -> Option<Captures> {
        let parts: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
        let mut caps = Captures::default();
        for (i, seg) in self.segments.iter().enumerate() {
            match seg {
                Segment::Wildcard => {
                    caps.wildcard = Some(parts[i.min(parts.len())..].join("/"));
                    return Some(caps);
                }
                Segment::Literal(l) => {
                    if parts.get(i) != Some(&l.as_str()) {
                        return None;
                    }
                }
                Segment::Param(name) => {
                    let value = parts.get(i)?;
                    caps.params.push((name.clone(), percent_decode(value)));
                }
            }
        }
        (parts.len() == self.segments.len()).then_some(caps)
    }

    fn rank(&self) -> Vec<u8> {
        self.segments
            .iter()
            .map(|s| match s {
                Segment::Literal(_) => 0,
                Segment::Param(_) => 1,
                Segment::Wildcard => 2,
            })
            .collect()
    }
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).ok();
            if let Some(b) = hex.and_then(|h| u8::from_str_radix(h, 16).ok()) {
                out.push(b);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// One route: method (None = any), pattern, function name.
#[derive(Debug, Clone)]
pub struct Route {
    /// The method, or None for any.
    pub method: Option<Method>,
    /// The path pattern.
    pub pattern: RoutePattern,
    /// The function serving it.
    pub function: String,
}

/// The outcome of a lookup.
#[derive(Debug)]
pub enum RouteMatch<'a> {
    /// A route matched.
    Found(&'a Route, Captures),
    /// Routes match the path, none for this method.
    MethodNotAllowed,
    /// Nothing matches.
    NotFound,
}

/// All routes of an app, most specific first.
#[derive(Debug, Clone, Default)]
pub struct RouteTable {
    routes: Vec<Route>,
}

impl RouteTable {
    /// Builds the table from `(method, path, function)` triples.
    pub fn new<'a>(
        defs: impl IntoIterator<Item = (Option<&'a str>, &'a str, &'a str)>,
    ) -> Result<RouteTable, String> {
        let mut routes = Vec::new();
        for (method, path, function) in defs {
            let method = match method.map(str::trim) {
                None | Some("") | Some("*") | Some("ANY") | Some("any") => None,
                Some(m) => Some(
                    Method::from_bytes(m.to_ascii_uppercase().as_bytes())
                        .map_err(|_| format!("route {path}: bad method {m}"))?,
                ),
            };
            routes.push(Route {
                method,
                pattern: RoutePattern::parse(path)?,
                function: function.to_string(),
            });
        }
        routes.sort_by(|a, b| {
            a.pattern
                .rank()
                .cmp(&b.pattern.rank())
                .then(b.method.is_some().cmp(&a.method.is_some()))
        });
        Ok(RouteTable { routes })
    }

    /// The routes, in match order.
    pub fn routes(&self) -> &[Route] {
        &self.routes
    }

    /// Finds the route for `method` and `path`.
    pub fn lookup(&self, method: &Method, path: &str) -> RouteMatch<'_> {
        let mut path_matched = false;
        for r in &self.routes {
            if let Some(caps) = r.pattern.matches(path) {
                if r.method.as_ref().is_none_or(|m| m == method) {
                    return RouteMatch::Found(r, caps);
                }
                path_matched = true;
            }
        }
        if path_matched {
            RouteMatch::MethodNotAllowed
        } else {
            RouteMatch::NotFound
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table() -> RouteTable {
        RouteTable::new([
            (Some("GET"), "/todos", "list"),
            (Some("POST"), "/todos", "create"),
            (Some("GET"), "/todos/:id", "get"),
            (None, "/todos/special", "special"),
            (None, "/static/*", "files"),
            (None, "/*", "fallback"),
        ])
        .unwrap()
    }

    fn found(t: &RouteTable, m: Method, p: &str) -> (String, Captures) {
        match t.lookup(&m, p) {
            RouteMatch::Found(r, c) => (r.function.clone(), c),
            other => panic!("{p}: {other:?}"),
        }
    }

    #[test]
    fn specific_routes_win() {
        let t = table();
        assert_eq!(found(&t, Method::GET, "/todos").0, "list");
        assert_eq!(found(&t, Method::POST, "/todos").0, "create");
        assert_eq!(found(&t, Method::GET, "/todos/special").0, "special");
        let (f, c) = found(&t, Method::GET, "/todos/a%20b");
        assert_eq!(f, "get");
        assert_eq!(c.params, vec![("id".to_string(), "a b".to_string())]);
        let (f, c) = found(&t, Method::GET, "/static/css/site.css");
        assert_eq!(f, "files");
        assert_eq!(c.wildcard.as_deref(), Some("css/site.css"));
        assert_eq!(found(&t, Method::DELETE, "/todos").0, "fallback");
    }

    #[test]
    fn method_not_allowed_and_not_found() {
        let t = RouteTable::new([(Some("GET"), "/a/:x", "f")]).unwrap();
        assert!(matches!(
            t.lookup(&Method::POST, "/a/1"),
            RouteMatch::MethodNotAllowed
        ));
        assert!(matches!(t.lookup(&Method::GET, "/b"), RouteMatch::NotFound));
        assert!(matches!(
            t.lookup(&Method::GET, "/a/1/2"),
            RouteMatch::NotFound
        ));
        assert!(RoutePattern::parse("/a/*/b").is_err());
        assert!(RoutePattern::parse("/_tarn/x").is_err());
    }
}
