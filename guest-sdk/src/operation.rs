//! The guest's end of the `tarn:function/tables` interface: [`Operation`], one variant per WIT
//! function, and the call of the generated import each one names.
//!
//! The list is the WIT's, written once here as pairs (DynamoDB operation => generated import
//! function): the macro below makes the enum, its names and the dispatch from the same pairs.
//! A function removed from or renamed in the WIT fails to compile here (its generated import is
//! gone); a function added to the WIT fails this module's test, which reads the interface from
//! `wit/tarn.wit` with `wit-parser`. The host's end (`TableOp` in tarn-host) is held to the same
//! WIT by its generated `Host` trait, so neither end can drift from the contract.

use crate::bindings::http::tarn::function::{tables, types};

/// Defines [`Operation`] and [`call_import`] from one list of `Variant => import_function`.
macro_rules! operations {
    ($($op:ident => $import:ident),* $(,)?) => {
        /// The DynamoDB item operations the host offers (the `tables` interface of the WIT); the
        /// variant's name is the DynamoDB operation's.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum Operation {
            $(
                #[doc = concat!(stringify!($op), ".")]
                $op,
            )*
        }

        impl Operation {
            /// Every operation, in the WIT's order.
            pub const ALL: &'static [Operation] = &[$(Operation::$op),*];

            /// DynamoDB's name for the operation (`GetItem`).
            pub fn name(self) -> &'static str {
                match self {
                    $(Operation::$op => stringify!($op),)*
                }
            }

            /// The WIT function of the `tables` interface it calls (`get`, `batch-get`...), with
            /// `_` for `-` as in the generated bindings.
            pub fn import_name(self) -> &'static str {
                match self {
                    $(Operation::$op => stringify!($import),)*
                }
            }
        }

        /// Calls the `tables` import for `op`. Only a component has the import: on any other
        /// target the generated function is a stub that panics, so callers route around it
        /// (`host::call_text`). It is compiled on every target all the same, so that native
        /// builds and tests check the list against the generated bindings too.
        #[cfg_attr(not(target_arch = "wasm32"), allow(dead_code))]
        pub(crate) fn call_import(op: Operation, request: &str) -> Result<String, types::Error> {
            match op {
                $(Operation::$op => tables::$import(request),)*
            }
        }
    };
}

operations! {
    GetItem => get,
    PutItem => put,
    UpdateItem => update,
    DeleteItem => delete,
    Query => query,
    Scan => scan,
    BatchGetItem => batch_get,
    BatchWriteItem => batch_write,
    TransactWriteItems => transact_write,
    TransactGetItems => transact_get,
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    /// The WIT's `tables` functions, in order, as generated bindings name them.
    fn wit_tables_functions() -> Vec<String> {
        let mut resolve = wit_parser::Resolve::default();
        let wit = Path::new(env!("CARGO_MANIFEST_DIR")).join("wit");
        let (package, _) = resolve.push_dir(&wit).expect("wit/ parses");
        let tables = resolve.packages[package].interfaces["tables"];
        resolve.interfaces[tables]
            .functions
            .keys()
            .map(|name| name.replace('-', "_"))
            .collect()
    }

    #[test]
    fn operations_are_the_wit_tables_functions() {
        let ours: Vec<&str> = Operation::ALL.iter().map(|op| op.import_name()).collect();
        assert_eq!(ours, wit_tables_functions());
    }

    #[test]
    fn names_are_dynamodb_operations() {
        assert_eq!(Operation::GetItem.name(), "GetItem");
        assert_eq!(Operation::BatchWriteItem.name(), "BatchWriteItem");
        assert_eq!(Operation::TransactGetItems.import_name(), "transact_get");
    }
}
