//! DynamoDB's expression language: one parser and one evaluator for condition, filter, update,
//! projection and key-condition expressions, plus the legacy parameters that predate them.
//!
//! Usage: build an [`ExprContext`] from the request's ExpressionAttributeNames and
//! ExpressionAttributeValues, parse each expression the request carries with it, then call
//! [`ExprContext::finish`] to reject placeholders no expression used. The parsed trees are
//! then evaluated against items:
//!
//! ```
//! use std::collections::HashMap;
//! use tarn_store::expr::ExprContext;
//! use tarn_store::{AttributeValue, Item, Number};
//!
//! let names = HashMap::from([("#s".to_string(), "status".to_string())]);
//! let values = HashMap::from([(":one".to_string(), AttributeValue::N(Number::from_i64(1)))]);
//! let mut ctx = ExprContext::new(names, values);
//! let update = ctx.parse_update("SET #s = :one ADD hits :one").unwrap();
//! let cond = ctx.parse_condition("attribute_not_exists(#s)").unwrap();
//! ctx.finish().unwrap();
//!
//! let mut item = Item::new();
//! assert!(cond.evaluate(Some(&item)).unwrap());
//! update.apply(&mut item).unwrap();
//! assert_eq!(item["hits"], AttributeValue::N(Number::from_i64(1)));
//! ```
//!
//! Every error is an [`ExprError`] whose `Display` is DynamoDB's message; all of them are
//! `ValidationException`s on the wire.

#![warn(missing_docs)]

mod ast;
mod context;
mod error;
mod eval;
mod key_condition;
mod legacy;
mod lexer;
mod parser;
mod path;
mod projection;
mod reserved;
mod update;

pub use ast::{
    CmpOp, Condition, Operand, Path, PathElem, Projection, SetValue, UpdateExpr, UpdateOperand,
    ValueRef,
};
pub use context::ExprContext;
pub use error::{ExprError, ExprKind, Reason};
pub use eval::{begins_with, compare_values, contains, size};
pub use key_condition::{KeyCondition, RangeCondition};
pub use legacy::{
    attribute_updates, attributes_to_get, expected, filter, key_conditions, key_conditions_keys,
    AttributeAction, AttributeUpdate, ComparisonOperator, ConditionalOperator, ExpectedAttribute,
};
pub use parser::{MAX_EXPRESSION_BYTES, MAX_IN_OPERANDS};
pub use path::resolve;
pub use reserved::{is_reserved, RESERVED_WORDS};

#[cfg(test)]
mod tests;
