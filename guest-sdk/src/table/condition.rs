//! [`Condition`]: a condition expression with its placeholders, for conditional writes,
//! updates and transaction checks.

use super::params::Params;
use crate::error::Result;
use serde::Serialize;
use serde_json::{Map, Value};

/// A condition expression with its `#name` and `:value` placeholders, for conditional writes.
///
/// ```
/// use tarn_sdk::Condition;
/// let only_new = Condition::new("attribute_not_exists(id)");
/// let same_version = Condition::new("#v = :v").name("#v", "version").value(":v", &3);
/// ```
#[derive(Debug)]
pub struct Condition {
    pub(super) expression: String,
    pub(super) params: Params,
}

impl Condition {
    /// A condition from DynamoDB's condition-expression syntax.
    pub fn new(expression: impl Into<String>) -> Self {
        Self {
            expression: expression.into(),
            params: Params::default(),
        }
    }

    /// The item must not exist yet (`attribute_not_exists` on `key_attribute`).
    pub fn not_exists(key_attribute: &str) -> Self {
        Self::new("attribute_not_exists(#_k)").name("#_k", key_attribute)
    }

    /// The item must exist (`attribute_exists` on `key_attribute`).
    pub fn exists(key_attribute: &str) -> Self {
        Self::new("attribute_exists(#_k)").name("#_k", key_attribute)
    }

    /// `attribute` must equal `value`: the usual optimistic-locking check.
    pub fn equals<V: Serialize + ?Sized>(attribute: &str, value: &V) -> Self {
        Self::new("#_c = :_c")
            .name("#_c", attribute)
            .value(":_c", value)
    }

    /// Binds a `#placeholder` to an attribute name.
    pub fn name(mut self, placeholder: &str, attribute: &str) -> Self {
        self.params.name(placeholder, attribute);
        self
    }

    /// Binds a `:placeholder` to a value (any serde value).
    pub fn value<V: Serialize + ?Sized>(mut self, placeholder: &str, value: &V) -> Self {
        self.params.value(placeholder, value);
        self
    }

    /// Adds the condition and its placeholders to `request`.
    pub(super) fn apply(self, request: &mut Map<String, Value>) -> Result<()> {
        request.insert("ConditionExpression".into(), Value::String(self.expression));
        self.params.apply(request)
    }
}
