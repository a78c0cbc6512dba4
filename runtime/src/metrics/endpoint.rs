//! `GET /metrics` on the admin listener: the Prometheus text exposition of [`Metrics`].
//!
//! Who may scrape it is [`MetricsAccess`] (`tarn serve --metrics`): by default anyone who can
//! reach the admin listener, without a token, as Prometheus scrapes (the admin listener binds
//! loopback unless credentials are configured); `token` asks for the admin token as a bearer
//! token (Prometheus' `authorization` scrape setting); `off` answers 404. SECURITY.md says what
//! the figures reveal.

use tarn_host::http::{full_body, ResponseBody};

use super::registry::CONTENT_TYPE;
use super::Metrics;

/// The path the exposition is served at.
pub const PATH: &str = "/metrics";

/// Who may read `GET /metrics`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum MetricsAccess {
    /// Anyone who reaches the admin listener, without a token.
    #[default]
    Public,
    /// Only with the admin token (`Authorization: Bearer <token>`).
    Token,
    /// Not served (404).
    Off,
}

fn plain(status: u16, text: &str) -> hyper::Response<ResponseBody> {
    hyper::Response::builder()
        .status(status)
        .header("content-type", "text/plain; charset=utf-8")
        .body(full_body(text.to_string()))
        .expect("a valid response")
}

/// Answers a request for [`PATH`]: `authorized` says whether it carried the admin token.
pub async fn answer(
    metrics: &Metrics,
    sizes: impl std::future::Future<Output = Vec<(String, String, u64, u64)>>,
    access: MetricsAccess,
    method: &http::Method,
    authorized: bool,
) -> hyper::Response<ResponseBody> {
    match access {
        MetricsAccess::Off => return plain(404, "metrics are off (tarn serve --metrics off)\n"),
        MetricsAccess::Token if !authorized => {
            return plain(
                401,
                "missing or wrong admin token (Authorization: Bearer <token>)\n",
            )
        }
        _ => {}
    }
    if method != http::Method::GET && method != http::Method::HEAD {
        let mut resp = plain(405, "GET only\n");
        resp.headers_mut()
            .insert("allow", http::HeaderValue::from_static("GET, HEAD"));
        return resp;
    }
    // The tables' sizes (`sizes`: from the tables' seam), then the rendering, which reads the
    // store's own figures: off the executor.
    let sizes = sizes.await;
    let m = metrics.clone();
    let text = match tokio::task::spawn_blocking(move || m.render(sizes)).await {
        Ok(t) => t,
        Err(e) => {
            tracing::error!(error = %e, "rendering the metrics panicked");
            return plain(500, "could not render the metrics\n");
        }
    };
    // For HEAD, hyper sends the headers (Content-Length included) and not the body.
    hyper::Response::builder()
        .status(200)
        .header("content-type", CONTENT_TYPE)
        .body(full_body(text))
        .expect("a valid response")
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use http_body_util::BodyExt;

    use super::*;

    async fn body(resp: hyper::Response<ResponseBody>) -> String {
        let bytes = resp.into_body().collect().await.unwrap().to_bytes();
        String::from_utf8(bytes.to_vec()).unwrap()
    }

    #[tokio::test]
    async fn access_modes() {
        let dir = tempfile::tempdir().unwrap();
        let m = Metrics::new(Arc::new(tarn_store::Store::open(dir.path()).unwrap()));
        let get = http::Method::GET;
        let open = answer(&m, async { Vec::new() }, MetricsAccess::Public, &get, false).await;
        assert_eq!(open.status(), 200);
        assert_eq!(open.headers()["content-type"], CONTENT_TYPE);
        assert!(body(open).await.contains("tarn_build_info{version="));
        assert_eq!(
            answer(&m, async { Vec::new() }, MetricsAccess::Token, &get, false)
                .await
                .status(),
            401
        );
        assert_eq!(
            answer(&m, async { Vec::new() }, MetricsAccess::Token, &get, true)
                .await
                .status(),
            200
        );
        assert_eq!(
            answer(&m, async { Vec::new() }, MetricsAccess::Off, &get, true)
                .await
                .status(),
            404
        );
        let post = answer(
            &m,
            async { Vec::new() },
            MetricsAccess::Public,
            &http::Method::POST,
            false,
        )
        .await;
        assert_eq!(post.status(), 405);
        let head = answer(
            &m,
            async { Vec::new() },
            MetricsAccess::Public,
            &http::Method::HEAD,
            false,
        )
        .await;
        assert_eq!(head.status(), 200);
    }
}
