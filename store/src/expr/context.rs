//! [`ExprContext`]: one request's placeholder maps, and the entry points that parse with them.
//!
//! A request's expressions share its ExpressionAttributeNames and ExpressionAttributeValues, and
//! DynamoDB rejects a request in which some entry is used by none of them. The context resolves
//! placeholders for every parse and remembers which were used, so [`ExprContext::finish`] can
//! report the unused ones.

use std::collections::{BTreeSet, HashMap, HashSet};

use super::ast::{Condition, Projection, UpdateExpr};
use super::error::{ExprError, ExprKind};
use super::key_condition::{from_condition, from_condition_keys, KeyCondition};
use super::parser::{Maps, Parser};
use crate::value::AttributeValue;

/// The placeholders of one request, and which of them its expressions used.
#[derive(Clone, Debug, Default)]
pub struct ExprContext {
    names: HashMap<String, String>,
    values: HashMap<String, AttributeValue>,
    used_names: HashSet<String>,
    used_values: HashSet<String>,
}

impl ExprContext {
    /// A context over a request's ExpressionAttributeNames (`#n` -> name) and
    /// ExpressionAttributeValues (`:v` -> value). Empty maps when the request has none.
    pub fn new(names: HashMap<String, String>, values: HashMap<String, AttributeValue>) -> Self {
        ExprContext {
            names,
            values,
            used_names: HashSet::new(),
            used_values: HashSet::new(),
        }
    }

    fn parse<T>(
        &mut self,
        src: &str,
        kind: ExprKind,
        rule: impl FnOnce(&mut Parser<'_>) -> Result<T, super::parser::Fail>,
    ) -> Result<T, ExprError> {
        let maps = Maps {
            names: &self.names,
            values: &self.values,
        };
        let mut parser = Parser::new(src, kind, maps)?;
        let result = parser.run(rule);
        let (names, values) = (
            std::mem::take(&mut parser.used_names),
            std::mem::take(&mut parser.used_values),
        );
        drop(parser);
        if result.is_ok() {
            self.used_names.extend(names);
            self.used_values.extend(values);
        } else {
            tracing::debug!(expression = src, kind = %kind, "expression rejected");
        }
        result
    }

    /// Parses a ConditionExpression.
    pub fn parse_condition(&mut self, expr: &str) -> Result<Condition, ExprError> {
        self.parse(expr, ExprKind::Condition, |p| p.condition())
    }

    /// Parses a FilterExpression (the same language; errors say "Invalid FilterExpression").
    pub fn parse_filter(&mut self, expr: &str) -> Result<Condition, ExprError> {
        self.parse(expr, ExprKind::Filter, |p| p.condition())
    }

    /// Parses an UpdateExpression.
    pub fn parse_update(&mut self, expr: &str) -> Result<UpdateExpr, ExprError> {
        self.parse(expr, ExprKind::Update, |p| p.update())
    }

    /// Parses a ProjectionExpression.
    pub fn parse_projection(&mut self, expr: &str) -> Result<Projection, ExprError> {
        self.parse(expr, ExprKind::Projection, |p| p.projection())
    }

    /// Parses a KeyConditionExpression for a table (or index) whose partition key is `hash_key`
    /// and whose sort key, if any, is `range_key`.
    pub fn parse_key_condition(
        &mut self,
        expr: &str,
        hash_key: &str,
        range_key: Option<&str>,
    ) -> Result<KeyCondition, ExprError> {
        let cond = self.parse(expr, ExprKind::KeyCondition, |p| p.condition())?;
        from_condition(&cond, hash_key, range_key)
    }

    /// Parses a KeyConditionExpression for a key of any number of partition attributes
    /// (`hash_keys`) and sort attributes (`range_keys`): a global secondary index with a
    /// multi-attribute key, or (one and at most one) any other key.
    pub fn parse_key_condition_keys(
        &mut self,
        expr: &str,
        hash_keys: &[&str],
        range_keys: &[&str],
    ) -> Result<KeyCondition, ExprError> {
        let cond = self.parse(expr, ExprKind::KeyCondition, |p| p.condition())?;
        from_condition_keys(&cond, hash_keys, range_keys)
    }

    /// Ends the request's parsing: fails if some name or value placeholder was never used
    /// (names are checked first, keys listed in sorted order).
    pub fn finish(self) -> Result<(), ExprError> {
        let unused = |keys: Vec<&String>, used: &HashSet<String>| -> Option<String> {
            let left: BTreeSet<&String> = keys.into_iter().filter(|k| !used.contains(*k)).collect();
            (!left.is_empty()).then(|| left.into_iter().cloned().collect::<Vec<_>>().join(", "))
        };
        if let Some(keys) = unused(self.names.keys().collect(), &self.used_names) {
            return Err(ExprError::UnusedNames(keys));
        }
        if let Some(keys) = unused(self.values.keys().collect(), &self.used_values) {
            return Err(ExprError::UnusedValues(keys));
        }
        Ok(())
    }
}
