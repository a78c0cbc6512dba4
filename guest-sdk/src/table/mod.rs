//! Typed access to one table: [`Table`] (item reads and writes, batches) and its builders, one
//! module each: [`Condition`] for conditional writes ([`condition`]), [`Update`] ([`update`]),
//! [`Query`] and [`Scan`] with the [`Page`] they return ([`read`]), and [`Transaction`] for
//! all-or-nothing writes ([`transaction`]). The placeholders every builder collects are in
//! [`params`].

pub mod condition;
mod params;
pub mod read;
#[cfg(test)]
mod testutil;
pub mod transaction;
pub mod update;

pub use condition::Condition;
pub use read::{Page, Query, Scan};
pub use transaction::Transaction;
pub use update::Update;

use crate::error::{Error, Result};
use crate::host::{call, Operation};
use crate::item::{from_item, to_item, Item};
use params::Params;
use serde::{de::DeserializeOwned, Serialize};
use serde_json::{json, Map, Value};

/// BatchWriteItem takes at most this many requests.
const BATCH_WRITE_MAX: usize = 25;
/// BatchGetItem takes at most this many keys.
const BATCH_GET_MAX: usize = 100;
/// How many times batch calls resend unprocessed requests before giving up.
const BATCH_RETRIES: usize = 8;

/// One table, by name. Opening is free: no host call happens until an operation runs.
///
/// Keys and items are any serde types that serialize to maps (structs, `HashMap`s,
/// `serde_json::json!({..})`); results deserialize into any `DeserializeOwned` type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Table {
    name: String,
}

impl Table {
    /// The table called `name` (it must be granted to the function by its manifest).
    pub fn open(name: impl Into<String>) -> Self {
        Self { name: name.into() }
    }

    /// The table's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    fn request(&self) -> Map<String, Value> {
        let mut m = Map::new();
        m.insert("TableName".into(), Value::String(self.name.clone()));
        m
    }

    /// GetItem: the item with `key`, or `None`. Strongly consistent.
    pub fn get<T: DeserializeOwned, K: Serialize + ?Sized>(&self, key: &K) -> Result<Option<T>> {
        let mut req = self.request();
        req.insert("Key".into(), Value::Object(to_item(key)?));
        req.insert("ConsistentRead".into(), Value::Bool(true));
        let resp = call(Operation::GetItem, &Value::Object(req))?;
        match resp.get("Item") {
            Some(Value::Object(item)) => Ok(Some(from_item(item.clone())?)),
            _ => Ok(None),
        }
    }

    /// PutItem: writes `item`, replacing any item with the same key.
    pub fn put<T: Serialize + ?Sized>(&self, item: &T) -> Result<()> {
        self.put_request(item, None).map(drop)
    }

    /// PutItem when `condition` holds; else [`crate::ErrorKind::ConditionalCheckFailed`].
    pub fn put_if<T: Serialize + ?Sized>(&self, item: &T, condition: Condition) -> Result<()> {
        self.put_request(item, Some(condition)).map(drop)
    }

    fn put_request<T: Serialize + ?Sized>(
        &self,
        item: &T,
        condition: Option<Condition>,
    ) -> Result<Value> {
        let mut req = self.request();
        req.insert("Item".into(), Value::Object(to_item(item)?));
        if let Some(c) = condition {
            c.apply(&mut req)?;
        }
        call(Operation::PutItem, &Value::Object(req))
    }

    /// DeleteItem: deletes the item with `key`; returns the deleted item, `None` if there was none.
    pub fn delete<T: DeserializeOwned, K: Serialize + ?Sized>(&self, key: &K) -> Result<Option<T>> {
        self.delete_request(key, None)
    }

    /// DeleteItem when `condition` holds; returns the deleted item.
    pub fn delete_if<T: DeserializeOwned, K: Serialize + ?Sized>(
        &self,
        key: &K,
        condition: Condition,
    ) -> Result<Option<T>> {
        self.delete_request(key, Some(condition))
    }

    fn delete_request<T: DeserializeOwned, K: Serialize + ?Sized>(
        &self,
        key: &K,
        condition: Option<Condition>,
    ) -> Result<Option<T>> {
        let mut req = self.request();
        req.insert("Key".into(), Value::Object(to_item(key)?));
        req.insert("ReturnValues".into(), json!("ALL_OLD"));
        if let Some(c) = condition {
            c.apply(&mut req)?;
        }
        let resp = call(Operation::DeleteItem, &Value::Object(req))?;
        match resp.get("Attributes") {
            Some(Value::Object(item)) if !item.is_empty() => Ok(Some(from_item(item.clone())?)),
            _ => Ok(None),
        }
    }

    /// UpdateItem on the item with `key`: build the update, then [`Update::send`].
    pub fn update<K: Serialize + ?Sized>(&self, key: &K) -> Update {
        let mut params = Params::default();
        let key = to_item(key).unwrap_or_else(|e| {
            params.error = Some(e.into());
            Item::new()
        });
        Update::new(self.clone(), key, params)
    }

    /// Query: build the key condition and options, then [`Query::send`] or [`Query::all`].
    pub fn query(&self) -> Query {
        Query::new(self.clone())
    }

    /// Scan: build the options, then [`Scan::send`] or [`Scan::all`].
    pub fn scan(&self) -> Scan {
        Scan::new(self.clone())
    }

    /// BatchGetItem: the items with these keys that exist (in no particular order). Any number
    /// of keys: the SDK splits them into requests of 100 and resends unprocessed keys.
    pub fn batch_get<T: DeserializeOwned, K: Serialize>(&self, keys: &[K]) -> Result<Vec<T>> {
        let keys = keys
            .iter()
            .map(|k| to_item(k).map(Value::Object))
            .collect::<Result<Vec<_>, _>>()?;
        let mut out = Vec::new();
        for chunk in keys.chunks(BATCH_GET_MAX) {
            let mut pending = json!({ &self.name: { "Keys": chunk, "ConsistentRead": true } });
            for attempt in 0.. {
                let resp = call(Operation::BatchGetItem, &json!({ "RequestItems": pending }))?;
                if let Some(Value::Array(items)) =
                    resp.pointer(&format!("/Responses/{}", escape(&self.name)))
                {
                    for item in items {
                        if let Value::Object(item) = item {
                            out.push(from_item(item.clone())?);
                        }
                    }
                }
                match resp.get("UnprocessedKeys") {
                    Some(Value::Object(m)) if !m.is_empty() => {
                        if attempt == BATCH_RETRIES {
                            return Err(Error::table(
                                "ProvisionedThroughputExceededException",
                                "keys left unprocessed",
                            ));
                        }
                        pending = Value::Object(m.clone());
                    }
                    _ => break,
                }
            }
        }
        Ok(out)
    }

    /// BatchWriteItem puts: writes all `items` (any number, sent 25 at a time, unprocessed
    /// ones resent). Not atomic: use a [`Transaction`] for that.
    pub fn batch_put<T: Serialize>(&self, items: &[T]) -> Result<()> {
        let reqs = items
            .iter()
            .map(|i| Ok(json!({ "PutRequest": { "Item": to_item(i)? } })))
            .collect::<Result<Vec<_>>>()?;
        self.batch_write(reqs)
    }

    /// BatchWriteItem deletes: deletes the items with these keys.
    pub fn batch_delete<K: Serialize>(&self, keys: &[K]) -> Result<()> {
        let reqs = keys
            .iter()
            .map(|k| Ok(json!({ "DeleteRequest": { "Key": to_item(k)? } })))
            .collect::<Result<Vec<_>>>()?;
        self.batch_write(reqs)
    }

    fn batch_write(&self, requests: Vec<Value>) -> Result<()> {
        for chunk in requests.chunks(BATCH_WRITE_MAX) {
            let mut pending = json!({ &self.name: chunk });
            for attempt in 0.. {
                let resp = call(
                    Operation::BatchWriteItem,
                    &json!({ "RequestItems": pending }),
                )?;
                match resp.get("UnprocessedItems") {
                    Some(Value::Object(m)) if !m.is_empty() => {
                        if attempt == BATCH_RETRIES {
                            return Err(Error::table(
                                "ProvisionedThroughputExceededException",
                                "items left unprocessed",
                            ));
                        }
                        pending = Value::Object(m.clone());
                    }
                    _ => break,
                }
            }
        }
        Ok(())
    }
}

/// Escapes a JSON-pointer segment.
fn escape(s: &str) -> String {
    s.replace('~', "~0").replace('/', "~1")
}

#[cfg(test)]
mod tests {
    use super::testutil::{record, Todo};
    use super::*;
    use crate::testing::set_tables_handler;
    use std::cell::RefCell;
    use std::rc::Rc;

    #[test]
    fn get_maps_key_and_item() {
        let log =
            record(json!({"Item": {"id": {"S": "a"}, "title": {"S": "t"}, "version": {"N": "2"}}}));
        let t: Option<Todo> = Table::open("todos").get(&json!({"id": "a"})).unwrap();
        assert_eq!(
            t,
            Some(Todo {
                id: "a".into(),
                title: "t".into(),
                version: 2
            })
        );
        assert_eq!(
            log.borrow()[0],
            (
                Operation::GetItem,
                json!({"TableName": "todos", "Key": {"id": {"S": "a"}}, "ConsistentRead": true})
            )
        );
        record(json!({}));
        assert_eq!(
            Table::open("todos")
                .get::<Todo, _>(&json!({"id": "b"}))
                .unwrap(),
            None
        );
    }

    #[test]
    fn put_if_sends_condition() {
        let log = record(json!({}));
        let todo = Todo {
            id: "a".into(),
            title: "t".into(),
            version: 1,
        };
        Table::open("todos")
            .put_if(&todo, Condition::not_exists("id"))
            .unwrap();
        assert_eq!(
            log.borrow()[0].1,
            json!({"TableName": "todos", "Item": {"id": {"S": "a"}, "title": {"S": "t"}, "version": {"N": "1"}},
                   "ConditionExpression": "attribute_not_exists(#_k)", "ExpressionAttributeNames": {"#_k": "id"}})
        );
    }

    #[test]
    fn batch_write_chunks_and_retries() {
        let calls = Rc::new(RefCell::new(Vec::new()));
        let c = calls.clone();
        set_tables_handler(move |_, req| {
            let n = req["RequestItems"]["todos"].as_array().unwrap().len();
            c.borrow_mut().push(n);
            // The first call leaves one item unprocessed.
            Ok(if c.borrow().len() == 1 {
                json!({"UnprocessedItems": {"todos": [req["RequestItems"]["todos"][0]]}})
            } else {
                json!({})
            })
        });
        let items: Vec<Todo> = (0..30)
            .map(|i| Todo {
                id: i.to_string(),
                title: "t".into(),
                version: 1,
            })
            .collect();
        Table::open("todos").batch_put(&items).unwrap();
        assert_eq!(*calls.borrow(), [25, 1, 5]);
    }

    #[test]
    fn errors_pass_through() {
        set_tables_handler(|_, _| Err(Error::table("AccessDeniedException", "no grant")));
        let e = Table::open("secret").put(&json!({"id": "a"})).unwrap_err();
        assert_eq!(e.kind(), crate::ErrorKind::AccessDenied);
        let e = Table::open("t").put(&5).unwrap_err();
        assert!(matches!(e, Error::Item(_)));
    }
}
