//! [`Update`]: an UpdateItem being built, clause by clause (`SET`, `REMOVE`, `ADD`, `DELETE`) or
//! from a raw expression, with an optional condition.

use super::condition::Condition;
use super::params::Params;
use super::Table;
use crate::error::{Error, Result};
use crate::host::{call, Operation};
use crate::item::{from_item, Item};
use serde::{de::DeserializeOwned, Serialize};
use serde_json::{json, Map, Value};

/// The clauses of an update expression, by action.
#[derive(Debug, Default)]
struct Actions {
    set: Vec<String>,
    remove: Vec<String>,
    add: Vec<String>,
    delete: Vec<String>,
}

/// An UpdateItem being built (from [`Table::update`]).
///
/// Attribute arguments are top-level attribute names (placeholders are generated); for nested
/// paths or anything else use [`Update::expression`] with [`Update::name`] / [`Update::value`].
///
/// ```no_run
/// # use tarn_sdk::{Table, Condition};
/// # #[derive(serde::Deserialize)] struct Todo {}
/// let todo: Todo = Table::open("todos")
///     .update(&serde_json::json!({ "id": "t1" }))
///     .set("title", "buy milk")
///     .add("version", &1)
///     .condition(Condition::equals("version", &3))
///     .send_returning()?;
/// # Ok::<(), tarn_sdk::Error>(())
/// ```
#[derive(Debug)]
#[must_use = "an update does nothing until sent"]
pub struct Update {
    table: Table,
    key: Item,
    actions: Actions,
    raw: Option<String>,
    condition: Option<String>,
    params: Params,
}

impl Update {
    /// An update of the item with `key` in `table`; `params` may carry a deferred error.
    pub(super) fn new(table: Table, key: Item, params: Params) -> Self {
        Update {
            table,
            key,
            actions: Actions::default(),
            raw: None,
            condition: None,
            params,
        }
    }

    /// `SET attribute = value`.
    pub fn set<V: Serialize + ?Sized>(mut self, attribute: &str, value: &V) -> Self {
        let (n, v) = self.params.auto(attribute, Some(value));
        self.actions.set.push(format!("{n} = {v}"));
        self
    }

    /// `SET attribute = if_not_exists(attribute, value)`: sets it only when absent.
    pub fn set_if_absent<V: Serialize + ?Sized>(mut self, attribute: &str, value: &V) -> Self {
        let (n, v) = self.params.auto(attribute, Some(value));
        self.actions
            .set
            .push(format!("{n} = if_not_exists({n}, {v})"));
        self
    }

    /// `REMOVE attribute`.
    pub fn remove(mut self, attribute: &str) -> Self {
        let (n, _) = self.params.auto::<()>(attribute, None);
        self.actions.remove.push(n);
        self
    }

    /// `ADD attribute value`: adds to a number (creating it at 0) or to a set.
    pub fn add<V: Serialize + ?Sized>(mut self, attribute: &str, value: &V) -> Self {
        let (n, v) = self.params.auto(attribute, Some(value));
        self.actions.add.push(format!("{n} {v}"));
        self
    }

    /// `DELETE attribute value`: removes elements from a set.
    pub fn delete<V: Serialize + ?Sized>(mut self, attribute: &str, value: &V) -> Self {
        let (n, v) = self.params.auto(attribute, Some(value));
        self.actions.delete.push(format!("{n} {v}"));
        self
    }

    /// A raw update expression (`"SET #a = #a + :one"`), used instead of the clauses above.
    pub fn expression(mut self, expression: impl Into<String>) -> Self {
        self.raw = Some(expression.into());
        self
    }

    /// Binds a `#placeholder` for [`Update::expression`] or a condition.
    pub fn name(mut self, placeholder: &str, attribute: &str) -> Self {
        self.params.name(placeholder, attribute);
        self
    }

    /// Binds a `:placeholder` for [`Update::expression`] or a condition.
    pub fn value<V: Serialize + ?Sized>(mut self, placeholder: &str, value: &V) -> Self {
        self.params.value(placeholder, value);
        self
    }

    /// Applies the update only when `condition` holds, else fails with
    /// [`crate::ErrorKind::ConditionalCheckFailed`].
    pub fn condition(mut self, condition: Condition) -> Self {
        self.condition = Some(condition.expression);
        self.params.merge(condition.params);
        self
    }

    /// The UpdateItem request body, without `ReturnValues`.
    pub(super) fn body(self) -> Result<Map<String, Value>> {
        let mut req = self.table.request();
        req.insert("Key".into(), Value::Object(self.key));
        let expr = match self.raw {
            Some(raw) => raw,
            None => {
                let a = &self.actions;
                let mut clauses = Vec::new();
                for (word, list) in [
                    ("SET", &a.set),
                    ("REMOVE", &a.remove),
                    ("ADD", &a.add),
                    ("DELETE", &a.delete),
                ] {
                    if !list.is_empty() {
                        clauses.push(format!("{word} {}", list.join(", ")));
                    }
                }
                clauses.join(" ")
            }
        };
        if !expr.is_empty() {
            req.insert("UpdateExpression".into(), Value::String(expr));
        }
        if let Some(c) = self.condition {
            req.insert("ConditionExpression".into(), Value::String(c));
        }
        self.params.apply(&mut req)?;
        Ok(req)
    }

    /// Sends the update.
    pub fn send(self) -> Result<()> {
        call(Operation::UpdateItem, &Value::Object(self.body()?)).map(drop)
    }

    /// Sends the update and returns the whole item as it is after it (`ReturnValues: ALL_NEW`).
    pub fn send_returning<T: DeserializeOwned>(self) -> Result<T> {
        let mut req = self.body()?;
        req.insert("ReturnValues".into(), json!("ALL_NEW"));
        let resp = call(Operation::UpdateItem, &Value::Object(req))?;
        match resp.get("Attributes") {
            Some(Value::Object(item)) => Ok(from_item(item.clone())?),
            _ => Err(Error::Response("UpdateItem returned no Attributes".into())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::testutil::{record, Todo};
    use super::*;

    #[test]
    fn update_builds_expression() {
        let log = record(
            json!({"Attributes": {"id": {"S": "a"}, "title": {"S": "n"}, "version": {"N": "4"}}}),
        );
        let t: Todo = Table::open("todos")
            .update(&json!({"id": "a"}))
            .set("title", "n")
            .add("version", &1)
            .remove("old")
            .condition(Condition::equals("version", &3))
            .send_returning()
            .unwrap();
        assert_eq!(t.version, 4);
        assert_eq!(
            log.borrow()[0].1,
            json!({"TableName": "todos", "Key": {"id": {"S": "a"}},
                   "UpdateExpression": "SET #_0 = :_0 REMOVE #_2 ADD #_1 :_1",
                   "ConditionExpression": "#_c = :_c",
                   "ExpressionAttributeNames": {"#_0": "title", "#_1": "version", "#_2": "old", "#_c": "version"},
                   "ExpressionAttributeValues": {":_0": {"S": "n"}, ":_1": {"N": "1"}, ":_c": {"N": "3"}},
                   "ReturnValues": "ALL_NEW"})
        );
    }
}
