//! `wasi-0-2-0`: a plain `wasi:http/proxy@0.2.0` component (wit-bindgen alone, no tarn-sdk),
//! built against the oldest 0.2.x release of WASI. `wit/deps` is `guest-sdk/wit/deps` with
//! every `@0.2.12` rewritten to `@0.2.0` and the three items added after 0.2.0 taken out
//! (`field-name`, `exit-with-code`, the deprecation of `field-key`). Its imports and its
//! `wasi:http/incoming-handler@0.2.0` export are all 0.2.0: the host, built against a newer
//! 0.2.x, must link and call it all the same.
//!
//! Every request gets `200 text/plain` with `wasi 0.2.0 component: METHOD PATH`.

wit_bindgen::generate!({
    path: "wit",
    world: "tarn:wasi-0-2-0/old",
    generate_all,
});

use exports::wasi::http::incoming_handler::Guest;
use wasi::http::types::{
    Fields, IncomingRequest, Method, OutgoingBody, OutgoingResponse, ResponseOutparam,
};

struct Old;

impl Guest for Old {
    fn handle(request: IncomingRequest, out: ResponseOutparam) {
        let method = match request.method() {
            Method::Get => "GET".to_string(),
            Method::Post => "POST".into(),
            Method::Put => "PUT".into(),
            Method::Delete => "DELETE".into(),
            Method::Other(m) => m,
            other => format!("{other:?}"),
        };
        let path = request.path_with_query().unwrap_or_else(|| "/".into());
        let text = format!("wasi 0.2.0 component: {method} {path}\n");
        let headers = Fields::from_list(&[("content-type".to_string(), b"text/plain".to_vec())])
            .expect("valid header");
        let response = OutgoingResponse::new(headers);
        response.set_status_code(200).expect("valid status");
        let body = response.body().expect("body taken once");
        ResponseOutparam::set(out, Ok(response));
        let stream = body.write().expect("stream taken once");
        stream
            .blocking_write_and_flush(text.as_bytes())
            .expect("write");
        drop(stream);
        OutgoingBody::finish(body, None).expect("finish");
    }
}

export!(Old);
