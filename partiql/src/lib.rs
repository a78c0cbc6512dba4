//! tarn-partiql: DynamoDB's dialect of PartiQL (`ExecuteStatement`, `BatchExecuteStatement`,
//! `ExecuteTransaction`), parsed and translated to the operations tarn already has.
//!
//! PartiQL here is a front end, not a second engine: [`parse`] turns a statement into a small
//! syntax tree ([`ast`]), and [`plan`] translates that tree, with the statement's `?`
//! parameters and the key schema of the table or index it names, into a [`plan::Plan`]: a
//! Query, Scan, PutItem, UpdateItem or DeleteItem described with the store's own expression
//! language (KeyConditionExpression, FilterExpression, ConditionExpression, UpdateExpression,
//! ProjectionExpression, with placeholder names and values). The runtime runs those through the
//! same handlers, and so the same expression evaluator, as every other request.
//!
//! Nothing here knows DynamoDB JSON or HTTP: parameters arrive as decoded
//! [`AttributeValue`](tarn_store::AttributeValue)s.

#![warn(missing_docs)]

pub mod ast;
mod error;
mod lexer;
mod parser;
pub mod plan;
pub mod row;

pub use error::PartiqlError;
pub use parser::{parse, MAX_STATEMENT_CHARS};
