//! [`Transaction`]: all-or-nothing writes (TransactWriteItems): puts, updates, deletes and
//! condition checks across tables.

use super::condition::Condition;
use super::update::Update;
use super::Table;
use crate::error::Result;
use crate::host::{call, Operation};
use crate::item::to_item;
use serde::Serialize;
use serde_json::{json, Value};

/// An all-or-nothing set of writes (TransactWriteItems, at most 100 actions).
///
/// ```no_run
/// # use tarn_sdk::{Table, Condition, Transaction};
/// let accounts = Table::open("accounts");
/// Transaction::new()
///     .update(accounts.update(&serde_json::json!({"id": "a"})).add("balance", &-10)
///         .condition(Condition::new("balance >= :n").value(":n", &10)))
///     .update(accounts.update(&serde_json::json!({"id": "b"})).add("balance", &10))
///     .commit()?;
/// # Ok::<(), tarn_sdk::Error>(())
/// ```
#[derive(Debug, Default)]
#[must_use = "a transaction does nothing until committed"]
pub struct Transaction {
    items: Vec<Result<Value>>,
}

impl Transaction {
    /// An empty transaction.
    pub fn new() -> Self {
        Self::default()
    }

    /// Puts `item` into `table`.
    pub fn put<T: Serialize + ?Sized>(self, table: &Table, item: &T) -> Self {
        self.put_opt(table, item, None)
    }

    /// Puts `item` into `table` if `condition` holds.
    pub fn put_if<T: Serialize + ?Sized>(
        self,
        table: &Table,
        item: &T,
        condition: Condition,
    ) -> Self {
        self.put_opt(table, item, Some(condition))
    }

    fn put_opt<T: Serialize + ?Sized>(self, table: &Table, item: &T, c: Option<Condition>) -> Self {
        self.push_action("Put", table, "Item", item, c)
    }

    /// Adds one action `{kind: {TableName, member: value, <condition>}}`.
    fn push_action<T: Serialize + ?Sized>(
        mut self,
        kind: &str,
        table: &Table,
        member: &str,
        value: &T,
        condition: Option<Condition>,
    ) -> Self {
        let action = (|| {
            let mut req = table.request();
            req.insert(member.into(), Value::Object(to_item(value)?));
            if let Some(c) = condition {
                c.apply(&mut req)?;
            }
            Ok(json!({ kind: req }))
        })();
        self.items.push(action);
        self
    }

    /// Applies an update built with [`Table::update`].
    pub fn update(mut self, update: Update) -> Self {
        self.items
            .push(update.body().map(|req| json!({ "Update": req })));
        self
    }

    /// Deletes the item with `key` from `table`, if `condition` (optional) holds.
    pub fn delete<K: Serialize + ?Sized>(
        self,
        table: &Table,
        key: &K,
        condition: Option<Condition>,
    ) -> Self {
        self.push_action("Delete", table, "Key", key, condition)
    }

    /// Checks `condition` on the item with `key` without writing it.
    pub fn check<K: Serialize + ?Sized>(
        self,
        table: &Table,
        key: &K,
        condition: Condition,
    ) -> Self {
        self.push_action("ConditionCheck", table, "Key", key, Some(condition))
    }

    /// Commits: all writes happen or none does ([`crate::ErrorKind::TransactionCanceled`]).
    pub fn commit(self) -> Result<()> {
        let items = self.items.into_iter().collect::<Result<Vec<_>>>()?;
        call(
            Operation::TransactWriteItems,
            &json!({ "TransactItems": items }),
        )
        .map(drop)
    }
}

#[cfg(test)]
mod tests {
    use super::super::testutil::record;
    use super::*;

    #[test]
    fn transaction_body() {
        let log = record(json!({}));
        let t = Table::open("todos");
        Transaction::new()
            .put(&t, &json!({"id": "a"}))
            .delete(&t, &json!({"id": "b"}), Some(Condition::exists("id")))
            .update(t.update(&json!({"id": "c"})).add("n", &1))
            .commit()
            .unwrap();
        let body = &log.borrow()[0].1;
        assert_eq!(body["TransactItems"].as_array().unwrap().len(), 3);
        assert_eq!(
            body["TransactItems"][1]["Delete"]["ConditionExpression"],
            json!("attribute_exists(#_k)")
        );
        assert_eq!(
            body["TransactItems"][2]["Update"]["UpdateExpression"],
            json!("ADD #_0 :_0")
        );
    }
}
