//! Paged reads: [`Query`] and [`Scan`] builders, the options they share (index, filter,
//! projection, limit, start key or paging token, consistency), and the [`Page`] they return.

use super::params::Params;
use super::Table;
use crate::error::{Error, Result};
use crate::host::{call, Operation};
use crate::item::{from_item, Item};
use crate::token;
use serde::{de::DeserializeOwned, Serialize};
use serde_json::{json, Map, Value};

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
    /// A query of `table`, ascending, with no key condition yet.
    pub(super) fn new(table: Table) -> Self {
        Query {
            read: Read::new(table),
            key_condition: None,
            forward: true,
        }
    }

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
    /// A scan of all of `table`.
    pub(super) fn new(table: Table) -> Self {
        Scan {
            read: Read::new(table),
            segment: None,
        }
    }

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

#[cfg(test)]
mod tests {
    use super::super::testutil::{record, Todo};
    use super::*;
    use crate::testing::set_tables_handler;
    use std::cell::RefCell;
    use std::rc::Rc;

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
}
