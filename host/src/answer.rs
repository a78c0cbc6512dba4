//! The way of an HTTP invocation's response head from the guest to the caller.
//!
//! The guest sets its head through its `response-outparam` (a oneshot sender living in the
//! store); [`Answer`] passes it on to [`crate::Host::invoke_http`]'s caller while the call runs,
//! and when the call ends without one, tells the caller at once instead of waiting for the
//! outparam to be dropped (a reused instance's store may keep it alive). [`crate::http`] makes
//! the channels; [`crate::invoke`] drives the call through them.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use tokio::sync::oneshot;
use wasmtime_wasi_http::p2::bindings::http::types::ErrorCode;
use wasmtime_wasi_http::p2::body::HyperOutgoingBody;

/// Why an HTTP invocation failed when its guest never set the response.
pub(crate) const NO_RESPONSE: &str = "the handler returned without setting a response";

/// What a guest's `response-outparam` carries: the response head, or the error code it set.
pub(crate) type GuestResponse = Result<hyper::Response<HyperOutgoingBody>, ErrorCode>;

/// The way of one HTTP invocation's response head from the guest's `response-outparam` to the
/// caller of [`Host::invoke_http`](crate::Host::invoke_http), owned by the invocation while its call runs.
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
    pub(crate) fn channels() -> (
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
