//! HTTP invocations: one `wasi:http/incoming-handler.handle` call per request, on a fresh store
//! (or a reused instance's, with `reuse`).
//!
//! The guest runs in its own tokio task, so it may keep streaming the response body after it has
//! set the response head; the task (and with it the store) ends when the guest returns, traps, or
//! reaches its deadline. A failure before the head was sent becomes the error the caller turns
//! into a 500/504 JSON answer; a failure after it cuts the body short.
//!
//! The head travels through an [`Answer`]: the invocation passes it on while the call runs, and
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
use tokio::sync::oneshot;
use wasmtime_wasi_http::p2::bindings::http::types::{ErrorCode, Scheme};
use wasmtime_wasi_http::p2::body::HyperOutgoingBody;
use wasmtime_wasi_http::WasiHttpView;

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

/// Why an HTTP invocation failed when its guest never set the response.
pub(crate) const NO_RESPONSE: &str = "the handler returned without setting a response";

/// What a guest's `response-outparam` carries: the response head, or the error code it set.
type GuestResponse = Result<hyper::Response<ResponseBody>, ErrorCode>;

/// The way of one HTTP invocation's response head from the guest's `response-outparam` to the
/// caller of [`Host::invoke_http`], owned by the invocation while its call runs.
pub(crate) struct Answer {
    /// What the guest sets (the sender is the outparam, in the store).
    from_guest: oneshot::Receiver<GuestResponse>,
    /// The caller's end, until the head is passed on (or the call ended without one).
    to_caller: Option<oneshot::Sender<GuestResponse>>,
    /// Whether the guest set the response.
    answered: bool,
}

impl Answer {
    /// The outparam's sender, the invocation's [`Answer`], and the caller's receiver.
    fn channels() -> (
        oneshot::Sender<GuestResponse>,
        Answer,
        oneshot::Receiver<GuestResponse>,
    ) {
        let (guest_tx, guest_rx) = oneshot::channel();
        let (caller_tx, caller_rx) = oneshot::channel();
        let answer = Answer {
            from_guest: guest_rx,
            to_caller: Some(caller_tx),
            answered: false,
        };
        (guest_tx, answer, caller_rx)
    }

    /// Runs `call` to its end, passing the response on to the caller as soon as the guest sets
    /// it (the guest may go on streaming its body). No extra task: the head is looked for each
    /// time the call yields.
    pub(crate) async fn forward_during<F: Future>(&mut self, call: F) -> F::Output {
        let mut call = std::pin::pin!(call);
        std::future::poll_fn(|cx| {
            self.poll_head(cx);
            call.as_mut().poll(cx)
        })
        .await
    }

    /// Passes the head on if the guest has set it.
    fn poll_head(&mut self, cx: &mut Context<'_>) {
        let Some(to_caller) = self.to_caller.take() else {
            return;
        };
        match Pin::new(&mut self.from_guest).poll(cx) {
            Poll::Ready(Ok(head)) => {
                self.answered = true;
                let _ = to_caller.send(head);
            }
            // The guest dropped the outparam unset: the caller hears it now.
            Poll::Ready(Err(_)) => drop(to_caller),
            Poll::Pending => self.to_caller = Some(to_caller),
        }
    }

    /// After the call: passes on a head set in its last moments, else tells the caller at once
    /// that none comes (even while the outparam lives on in a store). Returns whether the guest
    /// set the response.
    pub(crate) fn finish(mut self) -> bool {
        if let Some(to_caller) = self.to_caller.take() {
            if let Ok(head) = self.from_guest.try_recv() {
                self.answered = true;
                let _ = to_caller.send(head);
            }
        }
        self.answered
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
