//! Bindings generated from `guest-sdk/wit`, the one contract shared with guests.
//!
//! One module per world a function can be built for. The `stream-handler` world generates the
//! imports every world shares (`types`, `tables`, `log`); the `schedule-handler` world reuses
//! them through bindgen's `with`, so each import has one Rust type and one host implementation
//! ([`crate::tables`], [`crate::log`]). The `http-handler` world is wasi-http's `proxy` plus
//! these imports: its export side comes from `wasmtime_wasi_http`.

/// The `stream-handler` world; also provides the `tables`, `log` and `types` imports every
/// world shares.
pub mod stream {
    wasmtime::component::bindgen!({
        path: "../guest-sdk/wit",
        world: "tarn:function/stream-handler",
        imports: { default: async },
        exports: { default: async },
    });
}

/// The `schedule-handler` world, reusing the shared imports above.
pub mod schedule {
    wasmtime::component::bindgen!({
        path: "../guest-sdk/wit",
        world: "tarn:function/schedule-handler",
        imports: { default: async },
        exports: { default: async },
        with: {
            "tarn:function/types": super::stream::tarn::function::types,
            "tarn:function/tables": super::stream::tarn::function::tables,
            "tarn:function/log": super::stream::tarn::function::log,
        },
    });
}

pub use stream::tarn::function::{log, tables, types};
