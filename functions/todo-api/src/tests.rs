//! Tests of the API against a small in-memory stand-in for the `todos` table that understands
//! exactly the requests this crate sends.

use super::*;
use serde_json::{Map, Value};
use std::cell::RefCell;
use std::collections::BTreeMap;
use std::rc::Rc;
use tarn_sdk::host::Operation;
use tarn_sdk::http::Method;
use tarn_sdk::testing::set_tables_handler;
use tarn_sdk::Error;

type Store = Rc<RefCell<BTreeMap<String, Map<String, Value>>>>;

fn key_of(req: &Value) -> String {
    req["Key"]["id"]["S"].as_str().unwrap().to_string()
}

/// Evaluates the conditions this crate uses against `item`.
fn condition_holds(req: &Value, item: Option<&Map<String, Value>>) -> bool {
    let Some(cond) = req.get("ConditionExpression").and_then(Value::as_str) else {
        return true;
    };
    let values = &req["ExpressionAttributeValues"];
    let mut ok = true;
    for part in cond.split(" AND ") {
        ok &= match part {
            "attribute_not_exists(#_k)" => item.is_none(),
            "attribute_exists(id)" => item.is_some(),
            "#cv = :cv" => item.is_some_and(|i| i.get("version") == Some(&values[":cv"])),
            other => panic!("unexpected condition {other}"),
        };
    }
    ok
}

fn fake_table() -> Store {
    let store: Store = Rc::default();
    let s = store.clone();
    set_tables_handler(move |op, req| {
        assert_eq!(req["TableName"], TABLE);
        let mut s = s.borrow_mut();
        let failed = || {
            Err(Error::table(
                "ConditionalCheckFailedException",
                "The conditional request failed",
            ))
        };
        match op {
            Operation::GetItem => Ok(s
                .get(&key_of(req))
                .map(|i| json!({ "Item": i }))
                .unwrap_or(json!({}))),
            Operation::PutItem => {
                let item = req["Item"].as_object().unwrap().clone();
                let id = item["id"]["S"].as_str().unwrap().to_string();
                if !condition_holds(req, s.get(&id)) {
                    return failed();
                }
                s.insert(id, item);
                Ok(json!({}))
            }
            Operation::DeleteItem => {
                let id = key_of(req);
                if !condition_holds(req, s.get(&id)) {
                    return failed();
                }
                Ok(s.remove(&id)
                    .map(|i| json!({ "Attributes": i }))
                    .unwrap_or(json!({})))
            }
            Operation::UpdateItem => {
                let id = key_of(req);
                if !condition_holds(req, s.get(&id)) {
                    return failed();
                }
                let expr = req["UpdateExpression"]
                    .as_str()
                    .unwrap()
                    .strip_prefix("SET ")
                    .unwrap();
                let item = s.entry(id.clone()).or_insert_with(|| {
                    let mut m = Map::new();
                    m.insert("id".into(), json!({ "S": id }));
                    m
                });
                for assignment in expr.split(", ") {
                    let (n, v) = assignment.split_once(" = ").unwrap();
                    let name = req["ExpressionAttributeNames"][n].as_str().unwrap();
                    item.insert(name.into(), req["ExpressionAttributeValues"][v].clone());
                }
                Ok(json!({ "Attributes": item }))
            }
            Operation::Scan => {
                let limit = req["Limit"].as_u64().unwrap() as usize;
                let start = req
                    .pointer("/ExclusiveStartKey/id/S")
                    .and_then(Value::as_str)
                    .map(str::to_string);
                let items: Vec<_> = s
                    .iter()
                    .filter(|(k, _)| start.as_ref().is_none_or(|st| *k > st))
                    .take(limit)
                    .map(|(_, v)| v.clone())
                    .collect();
                let more = items.len() == limit
                    && s.keys()
                        .filter(|k| start.as_ref().is_none_or(|st| *k > st))
                        .count()
                        > limit;
                let mut resp = json!({ "Items": items, "Count": items.len() });
                if more {
                    resp["LastEvaluatedKey"] = json!({ "id": items.last().unwrap()["id"] });
                }
                Ok(resp)
            }
            other => panic!("unexpected {other:?}"),
        }
    });
    store
}

fn call(method: Method, uri: &str, body: &str) -> (u16, Value) {
    let r = handle(Request::new(method, uri).with_body(body));
    let v = if r.body().is_empty() {
        Value::Null
    } else {
        serde_json::from_slice(r.body()).unwrap()
    };
    (r.status(), v)
}

#[test]
fn create_get_update_delete() {
    fake_table();
    let (s, created) = call(Method::Post, "/todos", r#"{"title": " milk "}"#);
    assert_eq!(s, 201);
    assert_eq!(
        (
            created["title"].as_str(),
            created["version"].as_u64(),
            created["done"].as_bool()
        ),
        (Some("milk"), Some(1), Some(false))
    );
    let id = created["id"].as_str().unwrap().to_string();
    assert_eq!(id.len(), 32);

    let (s, got) = call(Method::Get, &format!("/todos/{id}"), "");
    assert_eq!((s, &got), (200, &created));

    let (s, updated) = call(
        Method::Put,
        &format!("/todos/{id}"),
        r#"{"done": true, "version": 1}"#,
    );
    assert_eq!(s, 200);
    assert_eq!(
        (
            updated["done"].as_bool(),
            updated["version"].as_u64(),
            updated["title"].as_str()
        ),
        (Some(true), Some(2), Some("milk"))
    );

    // A stale version conflicts.
    let (s, err) = call(
        Method::Put,
        &format!("/todos/{id}"),
        r#"{"title": "x", "version": 1}"#,
    );
    assert_eq!(s, 409, "{err}");
    assert!(err["error"].as_str().unwrap().contains("version 2"));

    assert_eq!(
        call(Method::Delete, &format!("/todos/{id}?version=1"), "").0,
        409
    );
    assert_eq!(
        call(Method::Delete, &format!("/todos/{id}?version=2"), "").0,
        204
    );
    assert_eq!(call(Method::Get, &format!("/todos/{id}"), "").0, 404);
    assert_eq!(call(Method::Delete, &format!("/todos/{id}"), "").0, 404);
    assert_eq!(
        call(
            Method::Put,
            &format!("/todos/{id}"),
            r#"{"done": true, "version": 2}"#
        )
        .0,
        404
    );
}

#[test]
fn bad_input_is_400() {
    fake_table();
    for body in [
        "",
        "{",
        r#"{"title": ""}"#,
        r#"{"title": "a", "extra": 1}"#,
        r#"{"title": 5}"#,
        "[]",
    ] {
        assert_eq!(call(Method::Post, "/todos", body).0, 400, "{body}");
    }
    let long = format!(r#"{{"title": "{}"}}"#, "x".repeat(MAX_TITLE + 1));
    assert_eq!(call(Method::Post, "/todos", &long).0, 400);
    assert_eq!(call(Method::Put, "/todos/a", r#"{"version": 1}"#).0, 400);
    assert_eq!(call(Method::Put, "/todos/a", r#"{"done": true}"#).0, 400);
    for q in ["limit=0", "limit=101", "limit=x", "next=%%%"] {
        assert_eq!(call(Method::Get, &format!("/todos?{q}"), "").0, 400, "{q}");
    }
    assert_eq!(call(Method::Delete, "/todos/a?version=x", "").0, 400);
    assert_eq!(call(Method::Patch, "/todos/a", "").0, 405);
}

#[test]
fn list_pages_through_everything() {
    fake_table();
    let mut ids = Vec::new();
    for i in 0..7 {
        ids.push(
            call(Method::Post, "/todos", &format!(r#"{{"title": "t{i}"}}"#)).1["id"]
                .as_str()
                .unwrap()
                .to_string(),
        );
    }
    ids.sort();
    let (mut seen, mut next, mut pages) = (Vec::new(), None::<String>, 0);
    loop {
        let uri = match &next {
            Some(t) => format!("/todos?limit=3&next={t}"),
            None => "/todos?limit=3".into(),
        };
        let (s, page) = call(Method::Get, &uri, "");
        assert_eq!(s, 200);
        pages += 1;
        seen.extend(
            page["items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|t| t["id"].as_str().unwrap().to_string()),
        );
        match page["next"].as_str() {
            Some(t) => next = Some(t.to_string()),
            None => break,
        }
    }
    assert_eq!(pages, 3);
    assert_eq!(seen, ids);
}
