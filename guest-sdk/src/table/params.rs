//! Expression attribute names and values (`#name`, `:value` placeholders) shared by a
//! request's expressions, with the first error met while building them. Every builder
//! ([`super::Condition`], [`super::Update`], Query and Scan) collects its placeholders here.

use crate::error::{Error, Result};
use crate::item::to_attribute;
use serde::Serialize;
use serde_json::{Map, Value};

/// Expression attribute names and values, shared by a request's expressions, and the first
/// error met while building them (reported when the request is sent).
#[derive(Debug, Default)]
pub(super) struct Params {
    pub(super) names: Map<String, Value>,
    pub(super) values: Map<String, Value>,
    pub(super) error: Option<Error>,
    next: usize,
}

impl Params {
    pub(super) fn name(&mut self, placeholder: &str, attribute: &str) {
        self.names.insert(
            placeholder.to_string(),
            Value::String(attribute.to_string()),
        );
    }

    pub(super) fn value<V: Serialize + ?Sized>(&mut self, placeholder: &str, value: &V) {
        match to_attribute(value) {
            Ok(v) => {
                self.values.insert(placeholder.to_string(), v);
            }
            Err(e) => {
                self.error.get_or_insert(e.into());
            }
        }
    }

    /// Fresh placeholders `#_N` / `:_N` for `attribute` and `value`.
    pub(super) fn auto<V: Serialize + ?Sized>(
        &mut self,
        attribute: &str,
        value: Option<&V>,
    ) -> (String, String) {
        let n = self.next;
        self.next += 1;
        let (name, val) = (format!("#_{n}"), format!(":_{n}"));
        self.name(&name, attribute);
        if let Some(v) = value {
            self.value(&val, v);
        }
        (name, val)
    }

    pub(super) fn merge(&mut self, other: Params) {
        self.names.extend(other.names);
        self.values.extend(other.values);
        if let Some(e) = other.error {
            self.error.get_or_insert(e);
        }
    }

    /// Adds the maps to `request` (when not empty), or returns the deferred error.
    pub(super) fn apply(self, request: &mut Map<String, Value>) -> Result<()> {
        if let Some(e) = self.error {
            return Err(e);
        }
        if !self.names.is_empty() {
            request.insert("ExpressionAttributeNames".into(), Value::Object(self.names));
        }
        if !self.values.is_empty() {
            request.insert(
                "ExpressionAttributeValues".into(),
                Value::Object(self.values),
            );
        }
        Ok(())
    }
}
