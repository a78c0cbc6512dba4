//! The console: tables, items, indexes, backups and PITR, TTL, streams, exports and imports,
//! metrics, cost and functions in the browser, served by `tarn serve` on the admin port under
//! `/console/`.
//!
//! - [`assets`]: the pages, scripts and styles, embedded in the binary (the front end's sources
//!   are in `ui/`, vendored libraries in `ui/vendor/` with their licences; no Node build).
//! - [`auth`]: one-time login links, the login page's sessions, CSRF tokens.
//! - [`api`]: the console's JSON API under `/console/api/`. It runs DynamoDB operations through
//!   the same [`crate::api::Api::call`] the DynamoDB port uses (without SigV4: the session is
//!   the credential, and no AWS key ever reaches the browser), and reads the function side's
//!   versions, routes, counters, trigger status and logs from the deploy [`Runtime`].
//! - [`cost`]: the Cost page's arithmetic over `prices.toml`, the one price file.
//! - [`http`]: how every console response is built (security headers) and requests are read.
//!
//! Deploy knows nothing of the console: [`Console`] plugs into the admin port as its
//! [`AdminPages`], and `tarn serve` hands it over with a callback that prints the one-time
//! login link once the admin port listens.
//!
//! | path | who | what |
//! |---|---|---|
//! | `GET /console/` | session | the app (else a redirect to the login page) |
//! | `GET /console/login` | anyone | the login page |
//! | `GET /console/login?token=T` | one-time token | signs in (once), then opens the app |
//! | `POST /console/login` | admin token (form field `token`) | signs in |
//! | `GET /console/assets/...` | anyone | embedded scripts, styles, vendored libraries |
//! | `/console/api/...` | session (+ CSRF header if not GET) | the JSON API ([`api`]) |

pub mod api;
pub mod assets;
pub mod auth;
pub mod cost;
pub mod http;

use std::net::SocketAddr;
use std::sync::Arc;

use hyper::body::Incoming;

use crate::deploy::ports::{AdminPages, PageFuture};
use crate::deploy::Runtime;
use crate::host::http::ResponseBody;

/// Largest login form body read.
const MAX_LOGIN_BODY: usize = 4096;

/// Receives the one-time login URL when the admin port listens (`tarn serve` prints it).
pub type Announce = Box<dyn Fn(&str) + Send + Sync>;

/// The console: its sessions, its price list, and where the DynamoDB API listens. Cloning it
/// is cheap and shares everything (each request holds a clone).
#[derive(Clone)]
pub struct Console {
    auth: Arc<auth::Auth>,
    prices: Arc<cost::Prices>,
    dynamodb_endpoint: Option<Arc<str>>,
    announce: Option<Arc<Announce>>,
}

impl std::fmt::Debug for Console {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never the sessions or tokens.
        f.debug_struct("Console")
            .field("dynamodb_endpoint", &self.dynamodb_endpoint)
            .finish_non_exhaustive()
    }
}

/// Why the console could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum ConsoleError {
    /// The embedded price list does not parse.
    #[error("the console's price list (prices.toml) is invalid: {0}")]
    Prices(#[from] toml::de::Error),
}

impl Console {
    /// A console with no sessions yet. `dynamodb_endpoint` is shown in the page so people can
    /// point their SDKs at it.
    pub fn new(dynamodb_endpoint: Option<String>) -> Result<Self, ConsoleError> {
        Ok(Console {
            auth: Arc::new(auth::Auth::new()),
            prices: Arc::new(cost::Prices::embedded()?),
            dynamodb_endpoint: dynamodb_endpoint.map(Arc::from),
            announce: None,
        })
    }

    /// Calls `announce` with the one-time login URL once the admin port listens.
    pub fn announce_with(mut self, announce: Announce) -> Self {
        self.announce = Some(Arc::new(announce));
        self
    }

    /// Logins and sessions.
    pub fn auth(&self) -> &auth::Auth {
        &self.auth
    }

    /// The price list of the Cost page.
    pub fn prices(&self) -> &cost::Prices {
        &self.prices
    }

    /// The DynamoDB API's address, if known.
    pub fn dynamodb_endpoint(&self) -> Option<&str> {
        self.dynamodb_endpoint.as_deref()
    }

    /// The path of a fresh one-time login link (`/console/login?token=...`).
    pub fn login_path(&self) -> String {
        format!("/console/login?token={}", self.auth.new_login_token())
    }

    /// The live session of `req`'s cookie, with its cookie value.
    pub fn session_of<B>(&self, req: &hyper::Request<B>) -> Option<(String, auth::Session)> {
        req.headers()
            .get_all(hyper::header::COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .filter_map(|h| auth::cookie(h, auth::SESSION_COOKIE))
            .find_map(|id| self.auth.session(id).map(|s| (id.to_string(), s)))
    }

    async fn route(
        self,
        rt: Arc<Runtime>,
        req: hyper::Request<Incoming>,
    ) -> hyper::Response<ResponseBody> {
        let path = req.uri().path().to_string();
        let response = self.answer(rt, req, &path).await;
        tracing::debug!(
            status = response.status().as_u16(),
            "console request answered"
        );
        response
    }

    async fn answer(
        self,
        rt: Arc<Runtime>,
        req: hyper::Request<Incoming>,
        path: &str,
    ) -> hyper::Response<ResponseBody> {
        match (req.method().as_str(), path) {
            (_, "/console") => http::see_other("/console/"),
            ("GET" | "HEAD", "/console/" | "/console/index.html") => {
                if self.session_of(&req).is_some() {
                    assets::page("index.html")
                } else {
                    http::see_other("/console/login")
                }
            }
            ("GET" | "HEAD", "/console/login") => self.login_page(&req),
            ("POST", "/console/login") => self.login_form(&rt, req).await,
            ("GET" | "HEAD", p) if p.starts_with("/console/assets/") => {
                assets::serve(&p["/console/assets/".len()..], &req)
            }
            (_, p) if p.starts_with("/console/api/") => api::handle(&self, rt, req).await,
            _ => http::error(404, "NotFound", format!("no console page {path}")),
        }
    }

    /// `GET /console/login`: with `?token=`, redeems a one-time link; else the login page.
    fn login_page<B>(&self, req: &hyper::Request<B>) -> hyper::Response<ResponseBody> {
        let token = req
            .uri()
            .query()
            .and_then(|q| http::query_param(q, "token"));
        match token {
            None => login_html(200, None),
            Some(t) if self.auth.redeem_login_token(&t) => self.signed_in(false),
            Some(_) => login_html(
                401,
                Some("That sign-in link was used already or has expired. Paste the admin token instead, or run `tarn console` for a new link."),
            ),
        }
    }

    /// `POST /console/login`: the login page's form, with the admin token.
    async fn login_form(
        &self,
        rt: &Runtime,
        req: hyper::Request<Incoming>,
    ) -> hyper::Response<ResponseBody> {
        if !same_origin(&req) {
            return http::closing(http::error(
                403,
                "Forbidden",
                "cross-origin sign-in refused",
            ));
        }
        let body = match http::read_body(req, MAX_LOGIN_BODY).await {
            Ok(b) => b,
            Err(e) => return http::error(400, "BadRequest", e),
        };
        let token = form_urlencoded::parse(&body)
            .find(|(k, _)| k == "token")
            .map(|(_, v)| v.trim().to_string())
            .unwrap_or_default();
        if auth::secret_matches(&token, rt.token()) {
            self.signed_in(true)
        } else {
            login_html(401, Some("That is not the admin token."))
        }
    }

    /// Starts a session and sends the browser on to the app: a 303 after the login form (a
    /// same-site request), a page that moves on by itself after a link (so the
    /// `SameSite=Strict` cookie goes with the next request even when the link was opened from
    /// another application).
    fn signed_in(&self, after_form: bool) -> hyper::Response<ResponseBody> {
        let (id, _) = self.auth.start_session();
        let builder = if after_form {
            http::response(303, "text/plain; charset=utf-8", "no-store")
                .header("location", "/console/")
        } else {
            http::response(200, "text/html; charset=utf-8", "no-store")
        };
        let body: &'static [u8] = if after_form {
            b""
        } else {
            assets::SIGNED_IN_HTML.as_bytes()
        };
        http::finish(
            builder.header(hyper::header::SET_COOKIE, auth::session_cookie(&id)),
            body,
        )
    }
}

/// The login page, with `message` (one of the fixed sentences above, never request input).
fn login_html(status: u16, message: Option<&'static str>) -> hyper::Response<ResponseBody> {
    let page = assets::LOGIN_HTML.replace(
        "<!--message-->",
        &message
            .map(|m| {
                format!(
                    "<p class=\"login-error\" role=\"alert\">{}</p>",
                    escape_html(m)
                )
            })
            .unwrap_or_default(),
    );
    http::html(status, page)
}

/// `s` with HTML's special characters escaped.
pub fn escape_html(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// Whether a state-changing request comes from the console's own pages: its `Origin` (sent by
/// browsers on every POST), if present, names the host it was sent to; so does its
/// `Sec-Fetch-Site`, if present.
pub fn same_origin<B>(req: &hyper::Request<B>) -> bool {
    let headers = req.headers();
    if let Some(site) = headers.get("sec-fetch-site").and_then(|v| v.to_str().ok()) {
        if site != "same-origin" && site != "none" {
            return false;
        }
    }
    match headers.get(hyper::header::ORIGIN) {
        None => true,
        Some(origin) => {
            let host = headers
                .get(hyper::header::HOST)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("");
            origin.to_str().ok() == Some(&format!("http://{host}")) && !host.is_empty()
        }
    }
}

impl AdminPages for Console {
    fn serves(&self, path: &str) -> bool {
        path == "/console" || path.starts_with("/console/")
    }

    fn handle(&self, rt: Arc<Runtime>, req: hyper::Request<Incoming>) -> PageFuture {
        let span = tracing::debug_span!(
            "console",
            method = %req.method(),
            // The path only: a login link's token is in the query, and is never logged.
            path = %req.uri().path(),
        );
        Box::pin(tracing::Instrument::instrument(
            self.clone().route(rt, req),
            span,
        ))
    }

    fn listening(&self, _rt: &Runtime, addr: SocketAddr) {
        let Some(announce) = &self.announce else {
            return;
        };
        let host = match addr.ip() {
            ip if ip.is_unspecified() && ip.is_ipv4() => "127.0.0.1".to_string(),
            ip if ip.is_unspecified() => "[::1]".to_string(),
            std::net::IpAddr::V6(ip) => format!("[{ip}]"),
            ip => ip.to_string(),
        };
        announce(&format!(
            "http://{host}:{}{}",
            addr.port(),
            self.login_path()
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(headers: &[(&str, &str)]) -> hyper::Request<()> {
        let mut b = hyper::Request::builder()
            .method("POST")
            .uri("/console/login");
        for (k, v) in headers {
            b = b.header(*k, *v);
        }
        b.body(()).unwrap()
    }

    #[test]
    fn same_origin_checks_origin_and_fetch_site() {
        assert!(same_origin(&request(&[("host", "127.0.0.1:8081")])));
        assert!(same_origin(&request(&[
            ("host", "127.0.0.1:8081"),
            ("origin", "http://127.0.0.1:8081"),
            ("sec-fetch-site", "same-origin"),
        ])));
        assert!(!same_origin(&request(&[
            ("host", "127.0.0.1:8081"),
            ("origin", "http://evil.example"),
        ])));
        assert!(!same_origin(&request(&[
            ("host", "127.0.0.1:8081"),
            ("sec-fetch-site", "cross-site"),
        ])));
        assert!(!same_origin(&request(&[("origin", "http://")])));
    }

    #[test]
    fn html_is_escaped() {
        assert_eq!(
            escape_html("<script>alert('x') & \"y\"</script>"),
            "&lt;script&gt;alert(&#39;x&#39;) &amp; &quot;y&quot;&lt;/script&gt;"
        );
    }

    #[test]
    fn sessions_come_from_the_cookie_header() {
        let console = Console::new(None).unwrap();
        let (id, s) = console.auth().start_session();
        let req = hyper::Request::builder()
            .header("cookie", format!("x=1; {}={id}", auth::SESSION_COOKIE))
            .body(())
            .unwrap();
        assert_eq!(console.session_of(&req).unwrap().1.csrf, s.csrf);
        let req = hyper::Request::builder()
            .header("cookie", format!("{}=nope", auth::SESSION_COOKIE))
            .body(())
            .unwrap();
        assert!(console.session_of(&req).is_none());
        assert!(console.login_path().starts_with("/console/login?token="));
    }
}
