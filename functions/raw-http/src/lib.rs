//! `raw-http`: a plain `wasi:http/proxy` component, built with wit-bindgen alone (no tarn-sdk),
//! to show that any standard wasi-http component runs on tarn.
//!
//! Every request gets `200 text/plain` with `raw wasi:http component: METHOD PATH (N body bytes)`,
//! except these, which misbehave on purpose for the host's tests:
//! - `/count`: adds one to a global and answers it (1 on a fresh instance, more on a reused one);
//! - `/keep-response`: returns without setting its response, keeping the outparam alive in a
//!   global (as an engine that holds on to its first request does);
//! - `/drop-response`: returns without setting its response, dropping the outparam.

wit_bindgen::generate!({
    path: "../../guest-sdk/wit",
    world: "wasi:http/proxy@0.2.12",
    generate_all,
});

use std::cell::RefCell;
use std::sync::atomic::{AtomicU64, Ordering};

use exports::wasi::http::incoming_handler::Guest;
use wasi::http::types::{
    Fields, IncomingRequest, Method, OutgoingBody, OutgoingResponse, ResponseOutparam,
};

struct RawHttp;

static COUNT: AtomicU64 = AtomicU64::new(0);

thread_local! {
    /// Outparams `/keep-response` never set.
    static KEPT: RefCell<Vec<ResponseOutparam>> = const { RefCell::new(Vec::new()) };
}

impl Guest for RawHttp {
    fn handle(request: IncomingRequest, out: ResponseOutparam) {
        let method = match request.method() {
            Method::Get => "GET".to_string(),
            Method::Head => "HEAD".into(),
            Method::Post => "POST".into(),
            Method::Put => "PUT".into(),
            Method::Delete => "DELETE".into(),
            Method::Patch => "PATCH".into(),
            Method::Options => "OPTIONS".into(),
            Method::Connect => "CONNECT".into(),
            Method::Trace => "TRACE".into(),
            Method::Other(m) => m,
        };
        let path = request.path_with_query().unwrap_or_else(|| "/".into());
        match path.as_str() {
            "/keep-response" => {
                KEPT.with(|kept| kept.borrow_mut().push(out));
                return;
            }
            "/drop-response" => {
                drop(out);
                return;
            }
            "/count" => {
                let n = COUNT.fetch_add(1, Ordering::Relaxed) + 1;
                answer(out, &format!("{n}\n"));
                return;
            }
            _ => {}
        }
        let mut received = 0usize;
        if let Ok(body) = request.consume() {
            if let Ok(stream) = body.stream() {
                while let Ok(chunk) = stream.blocking_read(64 * 1024) {
                    received += chunk.len();
                }
            }
        }
        let text = format!("raw wasi:http component: {method} {path} ({received} body bytes)\n");
        answer(out, &text);
    }
}

/// Sets `out` to `200 text/plain` with `text`.
fn answer(out: ResponseOutparam, text: &str) {
    let headers = Fields::from_list(&[("content-type".to_string(), b"text/plain".to_vec())])
        .expect("valid header");
    let response = OutgoingResponse::new(headers);
    response.set_status_code(200).expect("valid status");
    let body = response.body().expect("body taken once");
    ResponseOutparam::set(out, Ok(response));
    let stream = body.write().expect("stream taken once");
    for chunk in text.as_bytes().chunks(4096) {
        stream.blocking_write_and_flush(chunk).expect("write");
    }
    drop(stream);
    OutgoingBody::finish(body, None).expect("finish");
}

export!(RawHttp);
