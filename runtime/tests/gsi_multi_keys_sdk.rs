//! End-to-end: a global secondary index with a multi-attribute key (two partition attributes,
//! two sort attributes) through the official Rust AWS SDK against a real `tarn serve`:
//! CreateTable and DescribeTable keep the KeySchema's order, Query takes equality on every
//! partition attribute and a sort-key prefix, pages carry every key attribute, and a
//! misplaced range condition is a ValidationException.
#![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test

mod common;

use std::collections::HashMap;

use aws_sdk_dynamodb::types::{
    AttributeDefinition, AttributeValue, BillingMode, GlobalSecondaryIndex, KeySchemaElement,
    KeyType, Projection, ProjectionType, ScalarAttributeType,
};
use common::{err_code, unique_name, wait_active, TarnServer};

fn s(v: &str) -> AttributeValue {
    AttributeValue::S(v.to_string())
}

fn n(v: i64) -> AttributeValue {
    AttributeValue::N(v.to_string())
}

fn key(name: &str, t: KeyType) -> KeySchemaElement {
    KeySchemaElement::builder()
        .attribute_name(name)
        .key_type(t)
        .build()
        .unwrap()
}

fn def(name: &str, t: ScalarAttributeType) -> AttributeDefinition {
    AttributeDefinition::builder()
        .attribute_name(name)
        .attribute_type(t)
        .build()
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn multi_attribute_gsi_through_the_sdk() {
    let server = TarnServer::start();
    let c = server.client();
    let t = unique_name("multikey");
    let keys = vec![
        key("org", KeyType::Hash),
        key("dept", KeyType::Hash),
        key("level", KeyType::Range),
        key("hired", KeyType::Range),
    ];
    c.create_table()
        .table_name(&t)
        .billing_mode(BillingMode::PayPerRequest)
        .key_schema(key("pk", KeyType::Hash))
        .attribute_definitions(def("pk", ScalarAttributeType::S))
        .attribute_definitions(def("org", ScalarAttributeType::S))
        .attribute_definitions(def("dept", ScalarAttributeType::S))
        .attribute_definitions(def("level", ScalarAttributeType::N))
        .attribute_definitions(def("hired", ScalarAttributeType::S))
        .global_secondary_indexes(
            GlobalSecondaryIndex::builder()
                .index_name("by_team")
                .set_key_schema(Some(keys.clone()))
                .projection(
                    Projection::builder()
                        .projection_type(ProjectionType::All)
                        .build(),
                )
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
    wait_active(&c, &t).await;
    let desc = c.describe_table().table_name(&t).send().await.unwrap();
    let ix = &desc.table().unwrap().global_secondary_indexes()[0];
    assert_eq!(ix.key_schema(), keys.as_slice());

    // (org, dept, level, hired); person 6 has no `hired` and is not indexed.
    let people = [
        (1, "acme", "eng", 2, "2021"),
        (2, "acme", "eng", 1, "2023"),
        (3, "acme", "eng", 2, "2019"),
        (4, "acme", "ops", 1, "2020"),
        (5, "acme", "eng", 10, "2018"),
    ];
    for (id, org, dept, level, hired) in people {
        c.put_item()
            .table_name(&t)
            .item("pk", s(&format!("p{id}")))
            .item("org", s(org))
            .item("dept", s(dept))
            .item("level", n(level))
            .item("hired", s(hired))
            .send()
            .await
            .unwrap();
    }
    c.put_item()
        .table_name(&t)
        .item("pk", s("p6"))
        .item("org", s("acme"))
        .item("dept", s("eng"))
        .item("level", n(1))
        .send()
        .await
        .unwrap();

    // Every person of acme/eng, a page of two at a time: level (numeric), then hired.
    let mut seen = Vec::new();
    let mut start: Option<HashMap<String, AttributeValue>> = None;
    loop {
        let page = c
            .query()
            .table_name(&t)
            .index_name("by_team")
            .key_condition_expression("org = :o AND dept = :d")
            .expression_attribute_values(":o", s("acme"))
            .expression_attribute_values(":d", s("eng"))
            .limit(2)
            .set_exclusive_start_key(start.take())
            .send()
            .await
            .unwrap();
        for item in page.items() {
            seen.push(item["pk"].as_s().unwrap().clone());
        }
        match page.last_evaluated_key() {
            Some(k) => {
                let mut names: Vec<&str> = k.keys().map(String::as_str).collect();
                names.sort_unstable();
                assert_eq!(names, ["dept", "hired", "level", "org", "pk"]);
                start = Some(k.clone());
            }
            None => break,
        }
    }
    assert_eq!(seen, ["p2", "p3", "p1", "p5"]);

    // Equality on the first sort attribute, a range on the second.
    let out = c
        .query()
        .table_name(&t)
        .index_name("by_team")
        .key_condition_expression("org = :o AND dept = :d AND #l = :l AND hired > :h")
        .expression_attribute_names("#l", "level")
        .expression_attribute_values(":o", s("acme"))
        .expression_attribute_values(":d", s("eng"))
        .expression_attribute_values(":l", n(2))
        .expression_attribute_values(":h", s("2020"))
        .send()
        .await
        .unwrap();
    let got: Vec<&str> = out
        .items()
        .iter()
        .map(|i| i["pk"].as_s().unwrap().as_str())
        .collect();
    assert_eq!(got, ["p1"]);

    // A range condition on the first sort attribute with a condition on the second after it.
    let err = c
        .query()
        .table_name(&t)
        .index_name("by_team")
        .key_condition_expression("org = :o AND dept = :d AND #l > :l AND hired = :h")
        .expression_attribute_names("#l", "level")
        .expression_attribute_values(":o", s("acme"))
        .expression_attribute_values(":d", s("eng"))
        .expression_attribute_values(":l", n(1))
        .expression_attribute_values(":h", s("2020"))
        .send()
        .await
        .unwrap_err();
    assert_eq!(err_code(&err), "ValidationException");
    // A partition attribute left out.
    let err = c
        .query()
        .table_name(&t)
        .index_name("by_team")
        .key_condition_expression("org = :o")
        .expression_attribute_values(":o", s("acme"))
        .send()
        .await
        .unwrap_err();
    assert_eq!(err_code(&err), "ValidationException");
}
