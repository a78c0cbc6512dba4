//! End-to-end: a real `tarn serve` process driven by the official Rust AWS SDK
//! (`aws-sdk-dynamodb`), with only the endpoint changed. Issue 2 ("Foundation"):
//! table lifecycle, items of every type, ReturnValues, projections, tags, limits,
//! endpoints, and DynamoDB's error names.
#![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test

mod common;

use std::collections::HashMap;
use std::time::{Duration, Instant};

use aws_sdk_dynamodb::primitives::Blob;
use aws_sdk_dynamodb::types::{
    AttributeDefinition, AttributeValue, BillingMode, KeySchemaElement, KeyType,
    ProvisionedThroughput, ReturnValue, ScalarAttributeType, TableDescription, TableStatus, Tag,
};
use aws_sdk_dynamodb::Client;
use common::{err_code, raw_post, unique_name, wait_active, TarnServer};

type Item = HashMap<String, AttributeValue>;

fn s(v: &str) -> AttributeValue {
    AttributeValue::S(v.to_string())
}
fn n(v: &str) -> AttributeValue {
    AttributeValue::N(v.to_string())
}

fn item(pairs: &[(&str, AttributeValue)]) -> Item {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.clone()))
        .collect()
}

/// Canonical form for comparison: set members sorted, recursively.
fn canon(v: &AttributeValue) -> AttributeValue {
    match v {
        AttributeValue::Ss(x) => {
            let mut x = x.clone();
            x.sort();
            AttributeValue::Ss(x)
        }
        AttributeValue::Ns(x) => {
            let mut x = x.clone();
            x.sort();
            AttributeValue::Ns(x)
        }
        AttributeValue::Bs(x) => {
            let mut x: Vec<Vec<u8>> = x.iter().map(|b| b.as_ref().to_vec()).collect();
            x.sort();
            AttributeValue::Bs(x.into_iter().map(Blob::new).collect())
        }
        AttributeValue::M(m) => {
            AttributeValue::M(m.iter().map(|(k, v)| (k.clone(), canon(v))).collect())
        }
        AttributeValue::L(l) => AttributeValue::L(l.iter().map(canon).collect()),
        other => other.clone(),
    }
}

fn canon_item(i: &Item) -> Item {
    i.iter().map(|(k, v)| (k.clone(), canon(v))).collect()
}

fn key_def(name: &str, t: ScalarAttributeType) -> AttributeDefinition {
    AttributeDefinition::builder()
        .attribute_name(name)
        .attribute_type(t)
        .build()
        .unwrap()
}

fn key_el(name: &str, t: KeyType) -> KeySchemaElement {
    KeySchemaElement::builder()
        .attribute_name(name)
        .key_type(t)
        .build()
        .unwrap()
}

async fn wait_gone(c: &Client, name: &str) {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        match c.describe_table().table_name(name).send().await {
            Err(e) => {
                assert_eq!(err_code(&e), "ResourceNotFoundException");
                return;
            }
            Ok(_) => {
                assert!(
                    Instant::now() < deadline,
                    "table {name} still exists after delete"
                );
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }
    }
}

/// Creates an on-demand table with HASH `pk` (and RANGE `sk` when given) and waits for it.
async fn create_table(
    c: &Client,
    name: &str,
    hash: ScalarAttributeType,
    range: Option<ScalarAttributeType>,
) -> TableDescription {
    let mut req = c
        .create_table()
        .table_name(name)
        .billing_mode(BillingMode::PayPerRequest)
        .key_schema(key_el("pk", KeyType::Hash))
        .attribute_definitions(key_def("pk", hash));
    if let Some(r) = range {
        req = req
            .key_schema(key_el("sk", KeyType::Range))
            .attribute_definitions(key_def("sk", r));
    }
    let out = req.send().await.unwrap();
    let d = out.table_description.unwrap();
    assert!(matches!(
        d.table_status(),
        Some(TableStatus::Creating) | Some(TableStatus::Active)
    ));
    wait_active(c, name).await
}

fn every_type_item(pk: &str) -> Item {
    item(&[
        ("pk", s(pk)),
        ("s", s("héllo ✓ 🎉")),
        ("n", n("42")),
        ("b", AttributeValue::B(Blob::new(vec![0u8, 1, 254, 255]))),
        ("t", AttributeValue::Bool(true)),
        ("z", AttributeValue::Null(true)),
        (
            "ss",
            AttributeValue::Ss(vec!["b".into(), "a".into(), "c".into()]),
        ),
        (
            "ns",
            AttributeValue::Ns(vec!["1".into(), "2.5".into(), "-3".into()]),
        ),
        (
            "bs",
            AttributeValue::Bs(vec![Blob::new(vec![1u8]), Blob::new(vec![2u8, 3])]),
        ),
        (
            "l",
            AttributeValue::L(vec![
                s("x"),
                n("1"),
                AttributeValue::L(vec![AttributeValue::Bool(false)]),
            ]),
        ),
        (
            "m",
            AttributeValue::M(item(&[
                (
                    "inner",
                    AttributeValue::M(item(&[(
                        "deep",
                        AttributeValue::Ss(vec!["p".into(), "q".into()]),
                    )])),
                ),
                ("empty_list", AttributeValue::L(vec![])),
                ("empty_map", AttributeValue::M(HashMap::new())),
            ])),
        ),
        ("empty_s", s("")),
    ])
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn table_lifecycle_describe_list_delete() {
    let server = TarnServer::start();
    let c = server.client();
    let name = unique_name("life");
    let t = create_table(
        &c,
        &name,
        ScalarAttributeType::S,
        Some(ScalarAttributeType::N),
    )
    .await;

    assert_eq!(t.table_name(), Some(name.as_str()));
    assert_eq!(
        t.key_schema(),
        &[key_el("pk", KeyType::Hash), key_el("sk", KeyType::Range)]
    );
    let mut defs: Vec<_> = t.attribute_definitions().to_vec();
    defs.sort_by(|a, b| a.attribute_name().cmp(b.attribute_name()));
    assert_eq!(
        defs,
        vec![
            key_def("pk", ScalarAttributeType::S),
            key_def("sk", ScalarAttributeType::N)
        ]
    );

    let arn = t.table_arn().unwrap();
    let prefix = "arn:aws:dynamodb:us-east-1:";
    assert!(arn.starts_with(prefix), "{arn}");
    let (account, rest) = arn[prefix.len()..].split_once(':').unwrap();
    assert_eq!(account.len(), 12, "{arn}");
    assert!(account.bytes().all(|b| b.is_ascii_digit()), "{arn}");
    assert_eq!(rest, format!("table/{name}"));

    let id = t.table_id().unwrap();
    assert_eq!(
        uuid::Uuid::parse_str(id).unwrap().hyphenated().to_string(),
        id
    );
    let created = t.creation_date_time().unwrap().secs();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    assert!(
        (now - created).abs() < 300,
        "CreationDateTime {created} vs now {now}"
    );
    assert_eq!(t.item_count(), Some(0));
    assert_eq!(
        t.billing_mode_summary().unwrap().billing_mode(),
        Some(&BillingMode::PayPerRequest)
    );
    let pt = t.provisioned_throughput().unwrap();
    assert_eq!(pt.read_capacity_units(), Some(0));
    assert_eq!(pt.write_capacity_units(), Some(0));

    // ListTables: sorted, paged with Limit + ExclusiveStartTableName.
    let base = unique_name("list");
    for suffix in ["c", "a", "b"] {
        create_table(
            &c,
            &format!("{base}-{suffix}"),
            ScalarAttributeType::S,
            None,
        )
        .await;
    }
    let mut all = Vec::new();
    let mut start: Option<String> = None;
    for _ in 0..1000 {
        let out = c
            .list_tables()
            .limit(1)
            .set_exclusive_start_table_name(start.clone())
            .send()
            .await
            .unwrap();
        assert!(out.table_names().len() <= 1);
        all.extend(out.table_names().iter().cloned());
        match out.last_evaluated_table_name() {
            Some(last) => {
                assert_eq!(Some(last), out.table_names().last().map(|s| s.as_str()));
                start = Some(last.to_string());
            }
            None => break,
        }
    }
    let mut sorted = all.clone();
    sorted.sort();
    assert_eq!(all, sorted, "ListTables must return names in order");
    let mine: Vec<_> = all
        .iter()
        .filter(|n| n.starts_with(&base))
        .cloned()
        .collect();
    assert_eq!(
        mine,
        vec![
            format!("{base}-a"),
            format!("{base}-b"),
            format!("{base}-c")
        ]
    );
    assert!(all.contains(&name));

    let d = c
        .delete_table()
        .table_name(&name)
        .send()
        .await
        .unwrap()
        .table_description
        .unwrap();
    assert_eq!(d.table_name(), Some(name.as_str()));
    wait_gone(&c, &name).await;
    let out = c.list_tables().send().await.unwrap();
    assert!(!out.table_names().contains(&name));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn items_every_type_roundtrip_and_return_values() {
    let server = TarnServer::start();
    let c = server.client();
    let name = unique_name("items");
    create_table(&c, &name, ScalarAttributeType::S, None).await;

    let it = every_type_item("k");
    let out = c
        .put_item()
        .table_name(&name)
        .set_item(Some(it.clone()))
        .return_values(ReturnValue::AllOld)
        .send()
        .await
        .unwrap();
    assert!(out.attributes().is_none());
    let got = c
        .get_item()
        .table_name(&name)
        .key("pk", s("k"))
        .send()
        .await
        .unwrap();
    assert_eq!(canon_item(got.item().unwrap()), canon_item(&it));
    let got = c
        .get_item()
        .table_name(&name)
        .key("pk", s("k"))
        .consistent_read(true)
        .send()
        .await
        .unwrap();
    assert_eq!(canon_item(got.item().unwrap()), canon_item(&it));

    // Overwrite returns the whole old item.
    let second = item(&[("pk", s("k")), ("v", n("01.50"))]);
    let out = c
        .put_item()
        .table_name(&name)
        .set_item(Some(second))
        .return_values(ReturnValue::AllOld)
        .send()
        .await
        .unwrap();
    assert_eq!(canon_item(out.attributes().unwrap()), canon_item(&it));
    // Number normalization.
    let got = c
        .get_item()
        .table_name(&name)
        .key("pk", s("k"))
        .send()
        .await
        .unwrap();
    assert_eq!(
        got.item().unwrap(),
        &item(&[("pk", s("k")), ("v", n("1.5"))])
    );

    // Projection of top-level names.
    c.put_item()
        .table_name(&name)
        .set_item(Some(every_type_item("p")))
        .send()
        .await
        .unwrap();
    let got = c
        .get_item()
        .table_name(&name)
        .key("pk", s("p"))
        .projection_expression("#n, t, absent")
        .expression_attribute_names("#n", "n")
        .send()
        .await
        .unwrap();
    assert_eq!(
        got.item().unwrap(),
        &item(&[("n", n("42")), ("t", AttributeValue::Bool(true))])
    );

    // Missing item: no Item at all.
    let got = c
        .get_item()
        .table_name(&name)
        .key("pk", s("absent"))
        .send()
        .await
        .unwrap();
    assert!(got.item().is_none());

    // Delete with ALL_OLD, then again (nothing to return).
    let out = c
        .delete_item()
        .table_name(&name)
        .key("pk", s("p"))
        .return_values(ReturnValue::AllOld)
        .send()
        .await
        .unwrap();
    assert_eq!(
        canon_item(out.attributes().unwrap()),
        canon_item(&every_type_item("p"))
    );
    let out = c
        .delete_item()
        .table_name(&name)
        .key("pk", s("p"))
        .return_values(ReturnValue::AllOld)
        .send()
        .await
        .unwrap();
    assert!(out.attributes().is_none());
    let got = c
        .get_item()
        .table_name(&name)
        .key("pk", s("p"))
        .send()
        .await
        .unwrap();
    assert!(got.item().is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn number_and_binary_keys() {
    let server = TarnServer::start();
    let c = server.client();
    let name = unique_name("nb");
    create_table(
        &c,
        &name,
        ScalarAttributeType::N,
        Some(ScalarAttributeType::B),
    )
    .await;
    let k = |pk: &str, sk: &[u8]| {
        item(&[
            ("pk", n(pk)),
            ("sk", AttributeValue::B(Blob::new(sk.to_vec()))),
        ])
    };
    let mut a = k("0010.0", &[0, 255]);
    a.insert("v".into(), s("first"));
    c.put_item()
        .table_name(&name)
        .set_item(Some(a))
        .send()
        .await
        .unwrap();
    // "10" is the same number as "0010.0".
    let got = c
        .get_item()
        .table_name(&name)
        .set_key(Some(k("10", &[0, 255])))
        .send()
        .await
        .unwrap();
    let got = got.item().expect("item stored under normalized number key");
    assert_eq!(got.get("pk"), Some(&n("10")));
    assert_eq!(got.get("v"), Some(&s("first")));
    // A different binary sort key is a different item.
    let got = c
        .get_item()
        .table_name(&name)
        .set_key(Some(k("10", &[0, 254])))
        .send()
        .await
        .unwrap();
    assert!(got.item().is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn error_names() {
    let server = TarnServer::start();
    let c = server.client();
    let name = unique_name("err");
    create_table(
        &c,
        &name,
        ScalarAttributeType::S,
        Some(ScalarAttributeType::N),
    )
    .await;
    let missing = unique_name("missing");

    // ResourceNotFoundException
    let e = c
        .get_item()
        .table_name(&missing)
        .key("pk", s("a"))
        .send()
        .await
        .unwrap_err();
    assert_eq!(err_code(&e), "ResourceNotFoundException");
    let e = c
        .describe_table()
        .table_name(&missing)
        .send()
        .await
        .unwrap_err();
    assert_eq!(err_code(&e), "ResourceNotFoundException");
    let e = c
        .delete_table()
        .table_name(&missing)
        .send()
        .await
        .unwrap_err();
    assert_eq!(err_code(&e), "ResourceNotFoundException");

    // ResourceInUseException
    let e = c
        .create_table()
        .table_name(&name)
        .billing_mode(BillingMode::PayPerRequest)
        .key_schema(key_el("pk", KeyType::Hash))
        .attribute_definitions(key_def("pk", ScalarAttributeType::S))
        .send()
        .await
        .unwrap_err();
    assert_eq!(err_code(&e), "ResourceInUseException");

    let validation = |r: Result<(), String>| {
        assert_eq!(r.unwrap_err(), "ValidationException");
    };
    async fn put(c: &Client, t: &str, i: Item) -> Result<(), String> {
        c.put_item()
            .table_name(t)
            .set_item(Some(i))
            .send()
            .await
            .map(|_| ())
            .map_err(|e| err_code(&e))
    }
    async fn get(c: &Client, t: &str, k: Item) -> Result<(), String> {
        c.get_item()
            .table_name(t)
            .set_key(Some(k))
            .send()
            .await
            .map(|_| ())
            .map_err(|e| err_code(&e))
    }
    // Wrong key type.
    validation(put(&c, &name, item(&[("pk", n("1")), ("sk", n("1"))])).await);
    // Missing key attribute.
    validation(put(&c, &name, item(&[("pk", s("a"))])).await);
    validation(get(&c, &name, item(&[("pk", s("a"))])).await);
    // Extra attribute in the key.
    validation(
        get(
            &c,
            &name,
            item(&[("pk", s("a")), ("sk", n("1")), ("x", s("y"))]),
        )
        .await,
    );
    // Empty string key.
    validation(put(&c, &name, item(&[("pk", s("")), ("sk", n("1"))])).await);
    // Empty set, duplicate set members.
    validation(
        put(
            &c,
            &name,
            item(&[
                ("pk", s("a")),
                ("sk", n("1")),
                ("e", AttributeValue::Ss(vec![])),
            ]),
        )
        .await,
    );
    validation(
        put(
            &c,
            &name,
            item(&[
                ("pk", s("a")),
                ("sk", n("1")),
                ("d", AttributeValue::Ss(vec!["x".into(), "x".into()])),
            ]),
        )
        .await,
    );
    // Oversized item (> 400 KB).
    validation(
        put(
            &c,
            &name,
            item(&[
                ("pk", s("a")),
                ("sk", n("1")),
                ("big", s(&"x".repeat(410 * 1024))),
            ]),
        )
        .await,
    );
    // Nesting deeper than 32 levels.
    let mut deep = s("leaf");
    for _ in 0..40 {
        deep = AttributeValue::M(item(&[("a", deep)]));
    }
    validation(
        put(
            &c,
            &name,
            item(&[("pk", s("a")), ("sk", n("1")), ("deep", deep)]),
        )
        .await,
    );
    // Bad number.
    validation(
        put(
            &c,
            &name,
            item(&[("pk", s("a")), ("sk", n("not-a-number"))]),
        )
        .await,
    );

    // Nothing was written by the failed requests.
    let got = c
        .get_item()
        .table_name(&name)
        .key("pk", s("a"))
        .key("sk", n("1"))
        .send()
        .await
        .unwrap();
    assert!(got.item().is_none());

    // Wire-level errors the SDK never produces.
    let (status, body) =
        raw_post(server.addr, "DynamoDB_20120810.ListTables", b"{not json").unwrap();
    assert_eq!(status, 400);
    assert!(
        String::from_utf8_lossy(&body).contains("#SerializationException"),
        "{}",
        String::from_utf8_lossy(&body)
    );
    let (status, body) = raw_post(server.addr, "DynamoDB_20120810.NoSuchThing", b"{}").unwrap();
    assert_eq!(status, 400);
    assert!(
        String::from_utf8_lossy(&body).contains("#UnknownOperationException"),
        "{}",
        String::from_utf8_lossy(&body)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn update_table_tags_limits_endpoints() {
    let server = TarnServer::start();
    let c = server.client();
    let name = unique_name("upd");
    c.create_table()
        .table_name(&name)
        .billing_mode(BillingMode::Provisioned)
        .provisioned_throughput(
            ProvisionedThroughput::builder()
                .read_capacity_units(5)
                .write_capacity_units(5)
                .build()
                .unwrap(),
        )
        .key_schema(key_el("pk", KeyType::Hash))
        .attribute_definitions(key_def("pk", ScalarAttributeType::B))
        .tags(Tag::builder().key("team").value("db").build().unwrap())
        .send()
        .await
        .unwrap();
    let t = wait_active(&c, &name).await;
    assert_eq!(
        t.provisioned_throughput().unwrap().read_capacity_units(),
        Some(5)
    );

    c.update_table()
        .table_name(&name)
        .provisioned_throughput(
            ProvisionedThroughput::builder()
                .read_capacity_units(9)
                .write_capacity_units(3)
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
    let t = wait_active(&c, &name).await;
    let pt = t.provisioned_throughput().unwrap();
    assert_eq!(
        (pt.read_capacity_units(), pt.write_capacity_units()),
        (Some(9), Some(3))
    );

    c.update_table()
        .table_name(&name)
        .billing_mode(BillingMode::PayPerRequest)
        .send()
        .await
        .unwrap();
    let t = wait_active(&c, &name).await;
    assert_eq!(
        t.billing_mode_summary().unwrap().billing_mode(),
        Some(&BillingMode::PayPerRequest)
    );

    // Tags.
    let arn = t.table_arn().unwrap().to_string();
    let tags = |out: &[Tag]| {
        let mut v: Vec<(String, String)> = out
            .iter()
            .map(|t| (t.key().to_string(), t.value().to_string()))
            .collect();
        v.sort();
        v
    };
    let out = c
        .list_tags_of_resource()
        .resource_arn(&arn)
        .send()
        .await
        .unwrap();
    assert_eq!(tags(out.tags()), vec![("team".into(), "db".into())]);
    c.tag_resource()
        .resource_arn(&arn)
        .tags(Tag::builder().key("env").value("test").build().unwrap())
        .send()
        .await
        .unwrap();
    let out = c
        .list_tags_of_resource()
        .resource_arn(&arn)
        .send()
        .await
        .unwrap();
    assert_eq!(
        tags(out.tags()),
        vec![("env".into(), "test".into()), ("team".into(), "db".into())]
    );
    c.untag_resource()
        .resource_arn(&arn)
        .tag_keys("team")
        .send()
        .await
        .unwrap();
    let out = c
        .list_tags_of_resource()
        .resource_arn(&arn)
        .send()
        .await
        .unwrap();
    assert_eq!(tags(out.tags()), vec![("env".into(), "test".into())]);

    let l = c.describe_limits().send().await.unwrap();
    for v in [
        l.account_max_read_capacity_units(),
        l.account_max_write_capacity_units(),
        l.table_max_read_capacity_units(),
        l.table_max_write_capacity_units(),
    ] {
        assert!(v.unwrap_or(0) >= 1, "{l:?}");
    }
    let e = c.describe_endpoints().send().await.unwrap();
    assert!(!e.endpoints().is_empty());
    assert!(e
        .endpoints()
        .iter()
        .all(|ep| !ep.address().is_empty() && ep.cache_period_in_minutes() > 0));
}
