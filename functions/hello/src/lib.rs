//! `hello`: the smallest tarn function, for benchmarks.
//!
//! Every request gets `200 hello from tarn` (a fixed body). It uses no table and no log, so the
//! built component imports nothing beyond `wasi:http/proxy`'s world: `wasmtime serve` runs the
//! same `hello.wasm` (the peer of `runtime/benches/functions.rs`). The GetItem handler the
//! benchmark also measures is `get-one`.

use tarn_sdk::http::{Request, Response};

/// The fixed body of every answer.
pub const HELLO: &str = "hello from tarn\n";

/// The HTTP handler: the fixed body, whatever the method and path.
pub fn handle(_req: Request) -> Response {
    Response::text(200, HELLO)
}

tarn_sdk::http_handler!(handle);

#[cfg(test)]
mod tests {
    use super::*;
    use tarn_sdk::http::Method;

    #[test]
    fn fixed_body_anywhere() {
        for (method, path) in [
            (Method::Get, "/"),
            (Method::Get, "/hello"),
            (Method::Post, "/a/b/c"),
        ] {
            let r = handle(Request::new(method, path));
            assert_eq!((r.status(), r.body()), (200, HELLO.as_bytes()));
        }
    }
}
