//! Typed access to one table: [`Table`] and its builders ([`Update`], [`Query`], [`Scan`]),
//! [`Condition`] for conditional writes, [`Page`] for paged reads, [`Transaction`] for
//! all-or-nothing writes.

use crate::error::{Error, Result};
use crate::host::{call, Operation};
use crate::item::{from_item, to_attribute, to_item, Item};
use crate::token;
use serde::{de::DeserializeOwned, Serialize};
use serde_json::{json, Map, Value};

/// BatchWriteItem takes at most this many requests.
const BATCH_WRITE_MAX: usize = 25;
/// BatchGetItem takes at most this many keys.
const BATCH_GET_MAX: usize = 100;
/// How many times batch calls resend unprocessed requests before giving up.
const BATCH_RETRIES: usize = 8;

/// Expression attribute names and values, shared by a request's expressions, and the first
/// error met while building them (reported when the request is sent).
#[derive(Debug, Default)]
struct Params {
    names: Map<String, Value>,
    values: Map<String, Value>,
    error: Option<Error>,
    next: usize,
}

impl Params {
    fn name(&mut self, placeholder: &str, attribute: &str) {
        self.names.insert(
            placeholder.to_string(),
            Value::String(attribute.to_string()),
        );
    }

    fn value<V: Serialize + ?Sized>(&mut self, placeholder: &str, value: &V) {
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
    fn auto<V: Serialize + ?Sized>(
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

    fn merge(&mut self, other: Params) {
        self.names.extend(other.names);
        self.values.extend(other.values);
        if let Some(e) = other.error {
            self.error.get_or_insert(e);
        }
    }

    /// Adds the maps to `request` (when not empty), or returns the deferred error.
    fn apply(self, request: &mut Map<String, Value>) -> Result<()> {
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

/// A condition expression with its `#name` and `:value` placeholders, for conditional writes.
///
/// ```
/// use tarn_sdk::Condition;
/// let only_new = Condition::new("attribute_not_exists(id)");
/// let same_version = Condition::new("#v = :v").name("#v", "version").value(":v", &3);
/// ```
#[derive(Debug)]
pub struct Condition {
    expression: String,
    params: Params,
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

    fn apply(self, request: &mut Map<String, Value>) -> Result<()> {
        request.insert("ConditionExpression".into(), Value::String(self.expression));
        self.params.apply(request)
    }
}

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
        Update {
            table: self.clone(),
            key,
            actions: Default::default(),
            raw: None,
            condition: None,
            params,
        }
    }

    /// Query: build the key condition and options, then [`Query::send`] or [`Query::all`].
    pub fn query(&self) -> Query {
        Query {
            read: Read::new(self.clone()),
            key_condition: None,
            forward: true,
        }
    }

    /// Scan: build the options, then [`Scan::send`] or [`Scan::all`].
    pub fn scan(&self) -> Scan {
        Scan {
            read: Read::new(self.clone()),
            segment: None,
        }
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
    fn body(self) -> Result<Map<String, Value>> {
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

/// One page of a Query or Scan.
#[derive(Debug, Clone)]
pub struct Page<T> {
    /// The items of this page.
    pub items: Vec<T>,
    /// Where the next page starts (`LastEvaluatedKey`); `None` on the last page.
    pub last_key: Option<Item>,
    /// Items read before the filter expression (`ScannedCount`).
    pub scanned_count: u64,
}

impl<T> Page<T> {
    /// An opaque URL-safe token for the next page ([`Query::after_token`]), `None` on the last page.
    pub fn next_token(&self) -> Option<String> {
        self.last_key.as_ref().map(token::encode)
    }
}

/// What Query and Scan share: filter, projection, index, limit, paging, consistency.
#[derive(Debug)]
struct Read {
    table: Table,
    index: Option<String>,
    filter: Option<String>,
    projection: Option<String>,
    limit: Option<u32>,
    start: Option<Item>,
    consistent: bool,
    params: Params,
}

impl Read {
    fn new(table: Table) -> Self {
        Self {
            table,
            index: None,
            filter: None,
            projection: None,
            limit: None,
            start: None,
            consistent: false,
            params: Params::default(),
        }
    }

    fn after_token(&mut self, token: Option<&str>) {
        match token.filter(|t| !t.is_empty()).map(token::decode) {
            None => self.start = None,
            Some(Ok(key)) => self.start = Some(key),
            Some(Err(e)) => {
                self.params.error.get_or_insert(e);
            }
        }
    }

    fn body(&mut self, extra: impl FnOnce(&mut Map<String, Value>)) -> Result<Map<String, Value>> {
        if let Some(e) = self.params.error.take() {
            return Err(e);
        }
        let mut req = self.table.request();
        if let Some(i) = &self.index {
            req.insert("IndexName".into(), json!(i));
        }
        if let Some(f) = &self.filter {
            req.insert("FilterExpression".into(), json!(f));
        }
        if let Some(p) = &self.projection {
            req.insert("ProjectionExpression".into(), json!(p));
        }
        if let Some(l) = self.limit {
            req.insert("Limit".into(), json!(l));
        }
        if let Some(s) = &self.start {
            req.insert("ExclusiveStartKey".into(), Value::Object(s.clone()));
        }
        if self.consistent {
            req.insert("ConsistentRead".into(), json!(true));
        }
        extra(&mut req);
        if !self.params.names.is_empty() {
            req.insert(
                "ExpressionAttributeNames".into(),
                Value::Object(self.params.names.clone()),
            );
        }
        if !self.params.values.is_empty() {
            req.insert(
                "ExpressionAttributeValues".into(),
                Value::Object(self.params.values.clone()),
            );
        }
        Ok(req)
    }

    fn page<T: DeserializeOwned>(resp: Value) -> Result<Page<T>> {
        let items = match resp.get("Items") {
            Some(Value::Array(items)) => items
                .iter()
                .map(|i| match i {
                    Value::Object(m) => from_item(m.clone()).map_err(Error::from),
                    _ => Err(Error::Response("an item is not a map".into())),
                })
                .collect::<Result<Vec<T>>>()?,
            _ => Vec::new(),
        };
        let last_key = match resp.get("LastEvaluatedKey") {
            Some(Value::Object(k)) if !k.is_empty() => Some(k.clone()),
            _ => None,
        };
        let scanned_count = resp
            .get("ScannedCount")
            .and_then(Value::as_u64)
            .unwrap_or(items.len() as u64);
        Ok(Page {
            items,
            last_key,
            scanned_count,
        })
    }

    fn all<T: DeserializeOwned>(
        &mut self,
        op: Operation,
        extra: impl Fn(&mut Map<String, Value>),
    ) -> Result<Vec<T>> {
        let mut out = Vec::new();
        loop {
            let page: Page<T> = Self::page(call(op, &Value::Object(self.body(&extra)?))?)?;
            out.extend(page.items);
            match page.last_key {
                Some(k) => self.start = Some(k),
                None => return Ok(out),
            }
        }
    }
}

macro_rules! read_options {
    ($t:ty) => {
        impl $t {
            /// Reads a secondary index instead of the table.
            pub fn index(mut self, index: &str) -> Self {
                self.read.index = Some(index.to_string());
                self
            }
            /// A filter expression, applied after reading (it does not reduce what is read).
            pub fn filter(mut self, expression: impl Into<String>) -> Self {
                self.read.filter = Some(expression.into());
                self
            }
            /// Returns only these attributes (a projection expression).
            pub fn project(mut self, expression: impl Into<String>) -> Self {
                self.read.projection = Some(expression.into());
                self
            }
            /// Binds a `#placeholder` to an attribute name.
            pub fn name(mut self, placeholder: &str, attribute: &str) -> Self {
                self.read.params.name(placeholder, attribute);
                self
            }
            /// Binds a `:placeholder` to a value.
            pub fn value<V: Serialize + ?Sized>(mut self, placeholder: &str, value: &V) -> Self {
                self.read.params.value(placeholder, value);
                self
            }
            /// Reads at most `limit` items per page (before filtering, as DynamoDB counts).
            pub fn limit(mut self, limit: u32) -> Self {
                self.read.limit = Some(limit);
                self
            }
            /// Starts after this key (a previous page's [`Page::last_key`]).
            pub fn start_after(mut self, key: Option<Item>) -> Self {
                self.read.start = key;
                self
            }
            /// Starts after the key in `token` (a previous page's [`Page::next_token`]); `None` or
            /// `""` starts at the beginning. A bad token makes `send` fail with
            /// [`Error::InvalidToken`].
            pub fn after_token(mut self, token: Option<&str>) -> Self {
                self.read.after_token(token);
                self
            }
            /// Strongly consistent reads.
            pub fn consistent(mut self) -> Self {
                self.read.consistent = true;
                self
            }
        }
    };
}

/// A Query being built (from [`Table::query`]).
///
/// ```no_run
/// # use tarn_sdk::Table;
/// # #[derive(serde::Deserialize)] struct Order {}
/// let page = Table::open("orders")
///     .query()
///     .key_condition("customer = :c AND begins_with(sk, :p)")
///     .value(":c", "alice")
///     .value(":p", "2026-")
///     .descending()
///     .limit(20)
///     .send::<Order>()?;
/// let next = page.next_token();
/// # Ok::<(), tarn_sdk::Error>(())
/// ```
#[derive(Debug)]
#[must_use = "a query does nothing until sent"]
pub struct Query {
    read: Read,
    key_condition: Option<String>,
    forward: bool,
}

read_options!(Query);

impl Query {
    /// The key condition expression (required): equality on the partition key, optionally a
    /// condition on the sort key.
    pub fn key_condition(mut self, expression: impl Into<String>) -> Self {
        self.key_condition = Some(expression.into());
        self
    }

    /// Sort key descending (`ScanIndexForward: false`).
    pub fn descending(mut self) -> Self {
        self.forward = false;
        self
    }

    fn extra(key_condition: Option<String>, forward: bool) -> impl Fn(&mut Map<String, Value>) {
        move |req| {
            if let Some(k) = &key_condition {
                req.insert("KeyConditionExpression".into(), json!(k));
            }
            if !forward {
                req.insert("ScanIndexForward".into(), json!(false));
            }
        }
    }

    /// Reads one page.
    pub fn send<T: DeserializeOwned>(mut self) -> Result<Page<T>> {
        let body = self
            .read
            .body(Self::extra(self.key_condition.take(), self.forward))?;
        Read::page(call(Operation::Query, &Value::Object(body))?)
    }

    /// Reads every page from the start point on and returns all items.
    pub fn all<T: DeserializeOwned>(mut self) -> Result<Vec<T>> {
        let extra = Self::extra(self.key_condition.take(), self.forward);
        self.read.all(Operation::Query, extra)
    }
}

/// A Scan being built (from [`Table::scan`]).
#[derive(Debug)]
#[must_use = "a scan does nothing until sent"]
pub struct Scan {
    read: Read,
    segment: Option<(u32, u32)>,
}

read_options!(Scan);

impl Scan {
    /// Reads only segment `segment` of `total` (parallel scan).
    pub fn segment(mut self, segment: u32, total: u32) -> Self {
        self.segment = Some((segment, total));
        self
    }

    fn extra(segment: Option<(u32, u32)>) -> impl Fn(&mut Map<String, Value>) {
        move |req| {
            if let Some((s, t)) = segment {
                req.insert("Segment".into(), json!(s));
                req.insert("TotalSegments".into(), json!(t));
            }
        }
    }

    /// Reads one page.
    pub fn send<T: DeserializeOwned>(mut self) -> Result<Page<T>> {
        let body = self.read.body(Self::extra(self.segment))?;
        Read::page(call(Operation::Scan, &Value::Object(body))?)
    }

    /// Reads every page from the start point on and returns all items.
    pub fn all<T: DeserializeOwned>(mut self) -> Result<Vec<T>> {
        let extra = Self::extra(self.segment);
        self.read.all(Operation::Scan, extra)
    }
}

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
    use super::*;
    use crate::testing::set_tables_handler;
    use serde::Deserialize;
    use std::cell::RefCell;
    use std::rc::Rc;

    #[derive(Debug, PartialEq, Serialize, Deserialize)]
    struct Todo {
        id: String,
        title: String,
        version: u64,
    }

    /// Records requests and answers each with `answer`.
    fn record(answer: Value) -> Rc<RefCell<Vec<(Operation, Value)>>> {
        let log = Rc::new(RefCell::new(Vec::new()));
        let l = log.clone();
        set_tables_handler(move |op, req| {
            l.borrow_mut().push((op, req.clone()));
            Ok(answer.clone())
        });
        log
    }

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

    #[test]
    fn query_and_paging_tokens() {
        let log = record(
            json!({"Items": [{"id": {"S": "a"}, "title": {"S": "t"}, "version": {"N": "1"}}],
                                "Count": 1, "ScannedCount": 3, "LastEvaluatedKey": {"id": {"S": "a"}}}),
        );
        let page: Page<Todo> = Table::open("todos")
            .query()
            .key_condition("id = :id")
            .value(":id", "a")
            .filter("#v > :z")
            .name("#v", "version")
            .value(":z", &0)
            .limit(1)
            .descending()
            .send()
            .unwrap();
        assert_eq!(page.items.len(), 1);
        assert_eq!(page.scanned_count, 3);
        let token = page.next_token().unwrap();
        assert_eq!(
            log.borrow()[0].1,
            json!({"TableName": "todos", "FilterExpression": "#v > :z", "Limit": 1,
                   "KeyConditionExpression": "id = :id", "ScanIndexForward": false,
                   "ExpressionAttributeNames": {"#v": "version"},
                   "ExpressionAttributeValues": {":id": {"S": "a"}, ":z": {"N": "0"}}})
        );
        let log = record(json!({"Items": []}));
        let page: Page<Todo> = Table::open("todos")
            .scan()
            .limit(5)
            .after_token(Some(&token))
            .send()
            .unwrap();
        assert!(page.items.is_empty() && page.next_token().is_none());
        assert_eq!(
            log.borrow()[0].1,
            json!({"TableName": "todos", "Limit": 5, "ExclusiveStartKey": {"id": {"S": "a"}}})
        );
        let bad = Table::open("todos")
            .scan()
            .after_token(Some("%%"))
            .send::<Todo>();
        assert!(matches!(bad, Err(Error::InvalidToken)));
    }

    #[test]
    fn scan_all_follows_pages() {
        let calls = Rc::new(RefCell::new(0));
        let c = calls.clone();
        set_tables_handler(move |_, req| {
            *c.borrow_mut() += 1;
            Ok(if req.get("ExclusiveStartKey").is_none() {
                json!({"Items": [{"id": {"S": "a"}, "title": {"S": "x"}, "version": {"N": "1"}}], "LastEvaluatedKey": {"id": {"S": "a"}}})
            } else {
                json!({"Items": [{"id": {"S": "b"}, "title": {"S": "y"}, "version": {"N": "1"}}]})
            })
        });
        let all: Vec<Todo> = Table::open("todos").scan().all().unwrap();
        assert_eq!(
            all.iter().map(|t| t.id.as_str()).collect::<Vec<_>>(),
            ["a", "b"]
        );
        assert_eq!(*calls.borrow(), 2);
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
