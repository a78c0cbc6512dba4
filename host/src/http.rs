//! HTTP invocations: one `wasi:http/incoming-handler.handle` call per request, on a fresh store
//! (or a reused instance's, with `reuse`).
//!
//! The guest runs in its own tokio task, so it may keep streaming the response body after it has
//! set the response head; the task (and with it the store) ends when the guest returns, traps, or
//! reaches its deadline. A failure before the head was sent becomes the error the caller turns
//! into a 500/504 JSON answer; a failure after it cuts the body short.
//!
//! The head travels through an [`Answer`](crate::answer::Answer): the invocation passes it on while the call runs, and
//! when the call ends without one (the guest returned, or trapped, without setting its
//! `response-outparam`) the caller hears so at once. It does not wait for the outparam to be
//! dropped: a reused instance's store may keep it alive (StarlingMonkey holds on to the first
//! request's), and the instance is dropped.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use bytes::Bytes;
use http_body_util::BodyExt;
use wasmtime_wasi_http::p2::bindings::http::types::Scheme;
use wasmtime_wasi_http::p2::body::HyperOutgoingBody;
use wasmtime_wasi_http::WasiHttpView;

use crate::answer::{Answer, NO_RESPONSE};
use crate::error::InvocationError;
use crate::function::{FunctionKind, LoadedFunction};
use crate::invoke::Call;
use crate::tables::TableAccess;
use crate::Host;

/// The body type of a function's HTTP response.
pub type ResponseBody = HyperOutgoingBody;

/// A complete body from bytes.
pub fn full_body(bytes: impl Into<Bytes>) -> ResponseBody {
    http_body_util::Full::new(bytes.into())
        .map_err(|never| match never {})
        .boxed_unsync()
}

impl<A: TableAccess> Host<A> {
    /// Runs HTTP function `f` on `req`. `req`'s URI should be absolute-path form; the guest sees
    /// scheme `http` and the request's `Host` header as authority.
    pub async fn invoke_http<B>(
        &self,
        f: &Arc<LoadedFunction>,
        request_id: &str,
        req: hyper::Request<B>,
    ) -> Result<hyper::Response<ResponseBody>, InvocationError>
    where
        B: hyper::body::Body<Data = Bytes> + Send + 'static,
        B::Error: Into<wasmtime_wasi_http::Error>,
    {
        let mut invocation = self.start(f, request_id, FunctionKind::Http)?;
        let (from_guest, answer, receiver) = Answer::channels();
        let setup = (|| {
            let data = invocation.state();
            let request = data.http().new_incoming_request(Scheme::Http, req)?;
            let response = data.http().new_response_outparam(from_guest)?;
            wasmtime::Result::<_>::Ok(Call::Http { request, response })
        })();
        let call = setup.map_err(|e| InvocationError::Failed(format!("{e:#}")))?;
        // The guest runs in its own task: it may stream the body after setting the head.
        let task = tokio::spawn(invocation.run_http(call, answer));

        match receiver.await {
            // With reuse, the body ends only once the guest has returned and its instance is
            // back in the pool: a client that sends its next request after reading this answer
            // finds the instance waiting (one request at a time, in order).
            Ok(Ok(response)) if f.warm.enabled() => Ok(response.map(|inner| {
                EndsAfterTask {
                    inner,
                    task: Some(task),
                }
                .boxed_unsync()
            })),
            Ok(Ok(response)) => Ok(response),
            Ok(Err(code)) => {
                // The guest answered with an error code instead of a response.
                let _ = task.await;
                Err(InvocationError::Failed(format!(
                    "handler returned error code {code:?}"
                )))
            }
            // The call ended without a response; the task says why (it has dropped the
            // instance).
            Err(_) => match task.await {
                Ok(Err(e)) => Err(e),
                Ok(Ok(_)) => Err(InvocationError::Failed(NO_RESPONSE.into())),
                Err(join) => Err(InvocationError::Failed(format!(
                    "handler task failed: {join}"
                ))),
            },
        }
    }
}

/// A response body that, after its last frame, waits for the invocation's task to end.
struct EndsAfterTask<T> {
    inner: ResponseBody,
    task: Option<tokio::task::JoinHandle<T>>,
}

impl<T> hyper::body::Body for EndsAfterTask<T> {
    type Data = Bytes;
    type Error = <ResponseBody as hyper::body::Body>::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<hyper::body::Frame<Bytes>, Self::Error>>> {
        match Pin::new(&mut self.inner).poll_frame(cx) {
            Poll::Ready(None) => {}
            other => return other,
        }
        if let Some(task) = self.task.as_mut() {
            // The task's own outcome was logged and counted by the task.
            if Pin::new(task).poll(cx).is_pending() {
                return Poll::Pending;
            }
            self.task = None;
        }
        Poll::Ready(None)
    }

    fn is_end_stream(&self) -> bool {
        self.task.is_none() && self.inner.is_end_stream()
    }

    fn size_hint(&self) -> hyper::body::SizeHint {
        self.inner.size_hint()
    }
}

/// The JSON error answer for a failed invocation: status and body
/// `{"error": kind, "message": ..., "requestId": ...}`.
pub fn error_response(err: &InvocationError, request_id: &str) -> hyper::Response<ResponseBody> {
    let body = serde_json::json!({
        "error": err.kind(),
        "message": err.to_string(),
        "requestId": request_id,
    });
    let mut builder = hyper::Response::builder()
        .status(err.status())
        .header("content-type", "application/json")
        .header("x-tarn-request-id", request_id);
    if matches!(err, InvocationError::Throttled(_)) {
        builder = builder.header("retry-after", "1");
    }
    builder
        .body(full_body(body.to_string()))
        .expect("a valid response")
}
