//! A loaded function: one function version compiled (or read from the cache), linked against the
//! host's imports ([`InstancePre`](wasmtime::component::InstancePre)), and typed by the handler it
//! exports ([`FunctionKind`]), with the manifest settings and limits it runs under and its
//! counters. [`Host::load`] makes one; [`crate::invoke`] runs it.

use std::collections::BTreeMap;
use std::sync::Arc;

use serde::Serialize;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::bindings;
use crate::error::{HostError, InvocationError};
use crate::limits::FunctionLimits;
use crate::metrics::FunctionMetrics;
use crate::reuse::WarmPool;
use crate::state::InvocationState;
use crate::tables::{Grants, TableAccess};
use crate::{cache, Host};

/// What kind of handler a component exports, found by inspecting it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum FunctionKind {
    /// `wasi:http/incoming-handler`.
    Http,
    /// `tarn:function/stream`.
    Stream,
    /// `tarn:function/schedule`.
    Schedule,
}

impl FunctionKind {
    /// "an HTTP handler", "a stream handler"...: for messages.
    pub fn describe(self) -> &'static str {
        match self {
            FunctionKind::Http => "an HTTP handler",
            FunctionKind::Stream => "a stream handler",
            FunctionKind::Schedule => "a schedule handler",
        }
    }
}

/// Everything needed to load one function version.
#[derive(Debug, Clone)]
pub struct FunctionSpec {
    /// The function's name in the manifest.
    pub name: String,
    /// The app version it belongs to.
    pub version: u64,
    /// The component's bytes.
    pub wasm: Arc<[u8]>,
    /// Memory and time limits.
    pub limits: FunctionLimits,
    /// The tables it may reach.
    pub grants: Grants,
    /// Environment variables the guest sees.
    pub env: BTreeMap<String, String>,
    /// Whether the guest may open sockets and make outgoing HTTP requests.
    pub network: bool,
    /// Instance reuse: how many requests one instance serves, one at a time, before it is
    /// dropped (0 or 1: a fresh instance per request, the default). See [`crate::reuse`].
    pub reuse: u32,
}

/// The component, pre-instantiated for the world it was built for.
pub(crate) enum Pre {
    /// wasi-http's `proxy` world (plus tarn's imports).
    Http(wasmtime_wasi_http::p2::bindings::ProxyPre<InvocationState>),
    /// `stream-handler`.
    Stream(bindings::stream::StreamHandlerPre<InvocationState>),
    /// `schedule-handler`.
    Schedule(bindings::schedule::ScheduleHandlerPre<InvocationState>),
}

/// One function version, compiled and linked, ready to instantiate.
pub struct LoadedFunction {
    /// The manifest settings it was loaded with (the bytes included).
    pub spec: FunctionSpec,
    /// Its kind.
    pub kind: FunctionKind,
    /// SHA-256 of the component bytes.
    pub hash: String,
    /// Whether the compiled code came from the on-disk cache.
    pub from_cache: bool,
    /// Its counters.
    pub metrics: Arc<FunctionMetrics>,
    /// Invocation slots when the function has a `max_concurrency`.
    concurrency: Option<Arc<Semaphore>>,
    /// Its grants, shared with every invocation's `tables` context.
    pub(crate) grants: Arc<Grants>,
    /// Its idle instances, with `reuse`.
    pub(crate) warm: WarmPool,
    /// The linked component.
    pub(crate) pre: Pre,
}

impl std::fmt::Debug for LoadedFunction {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LoadedFunction")
            .field("name", &self.spec.name)
            .field("version", &self.spec.version)
            .field("kind", &self.kind)
            .field("hash", &self.hash)
            .finish()
    }
}

impl LoadedFunction {
    /// Admits one invocation under the function's `max_concurrency`: the permit to hold while it
    /// runs (None without a limit), or [`InvocationError::Throttled`] at the limit.
    pub(crate) fn admit(&self) -> Result<Option<OwnedSemaphorePermit>, InvocationError> {
        let Some(slots) = &self.concurrency else {
            return Ok(None);
        };
        match slots.clone().try_acquire_owned() {
            Ok(permit) => Ok(Some(permit)),
            Err(_) => {
                self.metrics.throttled();
                let limit = self.spec.limits.max_concurrency.unwrap_or(0);
                tracing::debug!(function = %self.spec.name, limit, "invocation throttled");
                Err(InvocationError::Throttled(limit))
            }
        }
    }
}

impl<A: TableAccess> Host<A> {
    /// Compiles (or loads from the cache) and links one function version. CPU-heavy on a cache
    /// miss: call from a blocking thread.
    pub fn load(&self, spec: FunctionSpec) -> Result<LoadedFunction, HostError> {
        if spec.limits.memory_bytes > self.inner.max_memory_bytes {
            return Err(HostError::Link(format!(
                "function {} asks for {} MiB of memory; this server allows at most {} MiB",
                spec.name,
                spec.limits.memory_bytes >> 20,
                self.inner.max_memory_bytes >> 20
            )));
        }
        let hash = cache::content_hash(&spec.wasm);
        let (component, from_cache) = self.inner.cache.load(&self.inner.engine, &spec.wasm)?;
        let pre = self
            .inner
            .linker
            .instantiate_pre(&component)
            .map_err(|e| HostError::Link(format!("function {}: {e:#}", spec.name)))?;
        let (kind, pre) =
            if let Ok(p) = wasmtime_wasi_http::p2::bindings::ProxyPre::new(pre.clone()) {
                (FunctionKind::Http, Pre::Http(p))
            } else if let Ok(p) = bindings::stream::StreamHandlerPre::new(pre.clone()) {
                (FunctionKind::Stream, Pre::Stream(p))
            } else if let Ok(p) = bindings::schedule::ScheduleHandlerPre::new(pre) {
                (FunctionKind::Schedule, Pre::Schedule(p))
            } else {
                return Err(HostError::Link(format!(
                "function {} exports no handler tarn knows: expected wasi:http/incoming-handler, \
                     tarn:function/stream or tarn:function/schedule",
                spec.name
            )));
            };
        tracing::info!(function = %spec.name, version = spec.version, ?kind, %hash, from_cache, "loaded function");
        let grants = Arc::new(spec.grants.clone());
        let metrics = Arc::new(FunctionMetrics::observed(
            &spec.name,
            self.inner.observer.clone(),
        ));
        let concurrency = spec
            .limits
            .max_concurrency
            .map(|n| Arc::new(Semaphore::new(n as usize)));
        let warm = WarmPool::new(spec.reuse, self.inner.idle_slots.clone());
        Ok(LoadedFunction {
            spec,
            warm,
            kind,
            hash,
            from_cache,
            metrics,
            concurrency,
            grants,
            pre,
        })
    }
}
