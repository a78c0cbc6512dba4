//! Invocation: the one path every trigger's call takes into a guest.
//!
//! [`Host::invoke_stream`], [`Host::invoke_schedule`] and [`Host::invoke_http`] (in
//! [`crate::http`], which also sets up the request's resources) differ only in what they pass
//! ([`Call`]). Each admits the invocation under the function's `max_concurrency`, builds a fresh
//! [`Store`] with the function's limits, grants and captured output ([`Host::start`]), then
//! [`Invocation::run`] instantiates the component, calls its export, and turns the outcome into
//! a result: a trap, the timeout or the memory limit becomes an [`InvocationError`], counted in
//! the function's metrics and logged with the request id, and the guest's captured
//! stdout/stderr goes to the log ring.

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::OwnedSemaphorePermit;
use tracing::Instrument;
use wasmtime::component::{Resource, ResourceTable};
use wasmtime::{Store, UpdateDeadline};
use wasmtime_wasi::WasiCtx;
use wasmtime_wasi_http::p2::types::{HostIncomingRequest, HostResponseOutparam};
use wasmtime_wasi_http::WasiHttpCtx;

use crate::answer::{Answer, NO_RESPONSE};
use crate::error::InvocationError;
use crate::function::{FunctionKind, LoadedFunction, Pre};
use crate::limits::{Deadline, MemoryLimiter, Timeout};
use crate::log::{self, Capture, CapturedOutput, InvocationLog, LogBudget, CAPTURE_LIMIT};
use crate::reuse::{Instance, Reused};
use crate::state::{InvocationState, OutboundHttp};
use crate::tables::{TableAccess, TablesCtx};
use crate::Host;

/// What one call into a guest's export passes.
pub(crate) enum Call<'a> {
    /// `wasi:http/incoming-handler.handle`: the request and its response slot, already in the
    /// store's resource table.
    Http {
        /// The incoming request.
        request: Resource<HostIncomingRequest>,
        /// Where the guest sets the response.
        response: Resource<HostResponseOutparam>,
    },
    /// `tarn:function/stream.handle`: a JSON array of stream records.
    Stream(&'a str),
    /// `tarn:function/schedule.handle`: the tick's time, RFC 3339.
    Schedule(&'a str),
}

/// One admitted invocation, ready to run: its store (fresh, or a reused instance's), its captured
/// output, its concurrency permit (held until it ends, an HTTP response's body streaming
/// included).
pub(crate) struct Invocation {
    function: Arc<LoadedFunction>,
    request_id: String,
    store: Store<InvocationState>,
    /// The instance of a reused store (None: instantiate in `store`).
    instance: Option<Instance>,
    /// Requests the instance served before this one.
    served: u32,
    capture: Capture,
    span: tracing::Span,
    _permit: Option<OwnedSemaphorePermit>,
}

impl<A: TableAccess> Host<A> {
    /// Runs a stream handler on one batch (`records`: a JSON array of stream records). Returns
    /// the sequence numbers of the records it failed.
    pub async fn invoke_stream(
        &self,
        f: &Arc<LoadedFunction>,
        request_id: &str,
        records: &str,
    ) -> Result<Vec<String>, InvocationError> {
        self.start(f, request_id, FunctionKind::Stream)?
            .run(Call::Stream(records))
            .await
    }

    /// Runs a schedule handler for the tick at `scheduled_time` (RFC 3339).
    pub async fn invoke_schedule(
        &self,
        f: &Arc<LoadedFunction>,
        request_id: &str,
        scheduled_time: &str,
    ) -> Result<(), InvocationError> {
        self.start(f, request_id, FunctionKind::Schedule)?
            .run(Call::Schedule(scheduled_time))
            .await
            .map(drop)
    }

    /// Starts one invocation of `f`, which must be of `kind`: admits it under the function's
    /// `max_concurrency` and builds its store.
    pub(crate) fn start(
        &self,
        f: &Arc<LoadedFunction>,
        request_id: &str,
        kind: FunctionKind,
    ) -> Result<Invocation, InvocationError> {
        if f.kind != kind {
            return Err(InvocationError::Failed(format!(
                "{} is not {}",
                f.spec.name,
                kind.describe()
            )));
        }
        let permit = f.admit()?;
        let span = tracing::info_span!("invoke", function = %f.spec.name, version = f.spec.version, request_id);
        if let Some(mut warm) = f.warm.take() {
            // A reused instance: this request's own deadline, log and captured output.
            let log = self.invocation_log(f, request_id);
            let state = warm.store.data_mut();
            state.deadline = Deadline::starting_now(f.spec.limits.timeout);
            state.limiter.reset();
            state.log = log.clone();
            warm.store.set_epoch_deadline(1);
            warm.capture.log = log;
            return Ok(Invocation {
                function: f.clone(),
                request_id: request_id.to_string(),
                store: warm.store,
                instance: Some(warm.instance),
                served: warm.served,
                capture: warm.capture,
                span,
                _permit: permit,
            });
        }
        let (store, capture) = self.new_store(f, request_id);
        Ok(Invocation {
            function: f.clone(),
            request_id: request_id.to_string(),
            store,
            instance: None,
            served: 0,
            capture,
            span,
            _permit: permit,
        })
    }

    /// The log context of one invocation of `f`.
    fn invocation_log(&self, f: &LoadedFunction, request_id: &str) -> InvocationLog {
        InvocationLog {
            sink: self.inner.logs.clone(),
            function: f.spec.name.as_str().into(),
            version: f.spec.version,
            request_id: request_id.into(),
            budget: Arc::new(LogBudget::new(log::MAX_LOG_BYTES_PER_INVOCATION)),
        }
    }

    /// A fresh store for one invocation of `f`, with its limits, grants and captured output.
    fn new_store(&self, f: &LoadedFunction, request_id: &str) -> (Store<InvocationState>, Capture) {
        let spec = &f.spec;
        let stdout = CapturedOutput::new(CAPTURE_LIMIT);
        let stderr = CapturedOutput::new(CAPTURE_LIMIT);
        let mut wasi = WasiCtx::builder();
        wasi.stdout(stdout.clone()).stderr(stderr.clone());
        wasi.env("TARN_FUNCTION", &spec.name);
        wasi.env("TARN_VERSION", spec.version.to_string());
        wasi.env("TARN_REQUEST_ID", request_id);
        for (k, v) in &spec.env {
            wasi.env(k, v);
        }
        // No preopened directories: the guest sees no file system. Sockets only if granted.
        wasi.allow_tcp(spec.network)
            .allow_udp(spec.network)
            .allow_ip_name_lookup(spec.network);
        if spec.network {
            wasi.inherit_network();
        }
        let log = self.invocation_log(f, request_id);
        let function = log.function.clone();
        let state = InvocationState {
            wasi: wasi.build(),
            http: WasiHttpCtx::new(),
            table: ResourceTable::new(),
            hooks: OutboundHttp {
                allowed: spec.network,
            },
            limiter: MemoryLimiter::new(spec.limits.memory_bytes),
            deadline: Deadline::starting_now(spec.limits.timeout),
            tables: TablesCtx {
                api: self.inner.api.clone(),
                function,
                grants: f.grants.clone(),
            },
            log: log.clone(),
        };
        let mut store = Store::new(&self.inner.engine, state);
        store.limiter(|s| &mut s.limiter);
        // On every epoch tick: past the deadline, interrupt; otherwise yield to the executor and
        // check again next tick.
        store.epoch_deadline_callback(|ctx| {
            let d = ctx.data().deadline;
            if d.expired() {
                Err(wasmtime::Error::new(Timeout(d.timeout)))
            } else {
                Ok(UpdateDeadline::Yield(1))
            }
        });
        store.set_epoch_deadline(1);
        (
            store,
            Capture {
                stdout,
                stderr,
                log,
            },
        )
    }
}

impl Invocation {
    /// The store's data, to put a call's arguments in its resource table before it runs.
    pub(crate) fn state(&mut self) -> &mut InvocationState {
        self.store.data_mut()
    }

    /// The one instantiate-and-call path: runs `call` under the function's limits, then records
    /// metrics and flushes captured output. Returns the sequence numbers a stream handler
    /// failed (empty for the other kinds, which return nothing). With reuse, an instance that
    /// answered without a trap, timeout or memory failure goes back to its function's pool.
    pub(crate) async fn run(self, call: Call<'_>) -> Result<Vec<String>, InvocationError> {
        self.run_answering(call, None).await
    }

    /// As [`Invocation::run`], for an HTTP call whose response head `answer` passes on to the
    /// caller while the guest runs.
    pub(crate) async fn run_http(
        self,
        call: Call<'_>,
        answer: Answer,
    ) -> Result<Vec<String>, InvocationError> {
        self.run_answering(call, Some(answer)).await
    }

    async fn run_answering(
        self,
        call: Call<'_>,
        mut answer: Option<Answer>,
    ) -> Result<Vec<String>, InvocationError> {
        let Invocation {
            function: f,
            request_id,
            mut store,
            mut instance,
            served,
            capture,
            span,
            _permit,
        } = self;
        async move {
            let started = Instant::now();
            f.metrics.invocations.fetch_add(1, Ordering::Relaxed);
            // The epoch callback interrupts wasm at the deadline; this outer timeout (one second
            // of grace) covers a guest blocked in a host call.
            let outer = f.spec.limits.timeout + Duration::from_secs(1);
            let called = async {
                let called = instantiate_and_call(&f, &mut store, &mut instance, call);
                match answer.as_mut() {
                    Some(answer) => answer.forward_during(called).await,
                    None => called.await,
                }
            };
            let (mut result, mut clean) = match tokio::time::timeout(outer, called).await {
                // The guest answered (an error it returned is an answer, not a failure of the
                // instance).
                Ok(Ok(r)) => (r, true),
                Ok(Err(e)) => (
                    Err(classify(&f, &e, store.data().limiter.exceeded())),
                    false,
                ),
                Err(_) => (
                    Err(InvocationError::Timeout(
                        f.spec.limits.timeout.as_millis() as u64
                    )),
                    false,
                ),
            };
            // An HTTP guest that returned without setting its response failed: the caller
            // answers 500 now, and the instance, whose state did not finish the request, goes.
            if let Some(answer) = answer {
                if !answer.finish() && clean {
                    result = Err(InvocationError::Failed(NO_RESPONSE.into()));
                    clean = false;
                }
            }
            capture.flush();
            // A timed-out call was dropped above, and a trapped instance cannot be trusted:
            // their stores end here. A clean one may serve again.
            match instance {
                Some(instance)
                    if clean && f.warm.enabled() && !store.data().limiter.exceeded() =>
                {
                    f.warm.put(Reused {
                    store,
                    instance,
                    served: served + 1,
                        capture: capture.clone(),
                    })
                }
                _ => drop(store),
            }
            f.metrics.record(started, result.as_ref().map(|_| ()));
            if let Err(e) = &result {
                capture.log.host_line("error", e.to_string());
                tracing::warn!(function = %f.spec.name, %request_id, kind = e.kind(), "invocation failed: {e}");
            }
            result
        }
        .instrument(span)
        .await
    }
}

/// Instantiates `f` in `store` (unless `instance` holds a reused instance; a new one is left
/// there) and calls the export `call` names. The outer error is wasmtime's (a trap, the
/// deadline); the inner one the guest's own answer.
async fn instantiate_and_call(
    f: &LoadedFunction,
    store: &mut Store<InvocationState>,
    instance: &mut Option<Instance>,
    call: Call<'_>,
) -> wasmtime::Result<Result<Vec<String>, InvocationError>> {
    if instance.is_none() {
        let t = Instant::now();
        *instance = Some(match &f.pre {
            Pre::Http(pre) => Instance::Http(pre.instantiate_async(&mut *store).await?),
            Pre::Stream(pre) => Instance::Stream(pre.instantiate_async(&mut *store).await?),
            Pre::Schedule(pre) => Instance::Schedule(pre.instantiate_async(&mut *store).await?),
        });
        f.metrics.instantiated(t);
    }
    match (instance.as_ref(), call) {
        (Some(Instance::Http(proxy)), Call::Http { request, response }) => {
            proxy
                .wasi_http_incoming_handler()
                .call_handle(&mut *store, request, response)
                .await?;
            Ok(Ok(Vec::new()))
        }
        (Some(Instance::Stream(handler)), Call::Stream(records)) => {
            let failed = handler
                .tarn_function_stream()
                .call_handle(&mut *store, records)
                .await?;
            Ok(failed.map_err(InvocationError::Failed))
        }
        (Some(Instance::Schedule(handler)), Call::Schedule(time)) => {
            let done = handler
                .tarn_function_schedule()
                .call_handle(&mut *store, time)
                .await?;
            Ok(done.map(|()| Vec::new()).map_err(InvocationError::Failed))
        }
        // Host::start checked the kind; a mismatch is a host bug, reported as a failure.
        _ => Ok(Err(InvocationError::Failed(format!(
            "{} was called with the wrong kind of arguments",
            f.spec.name
        )))),
    }
}

/// Turns a wasmtime error from an invocation into an [`InvocationError`].
fn classify(f: &LoadedFunction, err: &wasmtime::Error, memory_exceeded: bool) -> InvocationError {
    if err.downcast_ref::<Timeout>().is_some() {
        InvocationError::Timeout(f.spec.limits.timeout.as_millis() as u64)
    } else if memory_exceeded {
        InvocationError::OutOfMemory((f.spec.limits.memory_bytes >> 20) as u64)
    } else if err
        .downcast_ref::<wasmtime::PoolConcurrencyLimitError>()
        .is_some()
    {
        InvocationError::Busy(format!("{err}"))
    } else if let Some(trap) = err.downcast_ref::<wasmtime::Trap>() {
        let detail = format!("{err:#}");
        InvocationError::Trap(if detail.is_empty() {
            trap.to_string()
        } else {
            detail
        })
    } else {
        InvocationError::Trap(format!("{err:#}"))
    }
}
