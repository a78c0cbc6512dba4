//! Tests of the expression language through its public API (see the submodules for the rest).
