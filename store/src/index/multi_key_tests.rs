//! Tests of global secondary indexes with multi-attribute keys: their rules, entries (sparse
//! when any key attribute is missing), Query by partition attributes and a sort-key prefix,
//! ordering and paging, online builds, and the catalog records of single-attribute keys,
//! which stay as they were before multi-attribute keys existed.

use std::time::{Duration, Instant};

use crate::expr::{KeyCondition, RangeCondition};
use crate::schema::{
    IndexKind, IndexProjection, IndexRead, IndexSpec, IndexStatus, IndexUpdate, KeyAttribute,
    KeySchema, ScalarType, TableMeta,
};
use crate::testutil::{
    attr, expected_index, indexed_spec, item, message, n, open_unsynced as open, open_unsynced_at,
    s, scan_index_all,
};
use crate::value::{AttributeValue, Item};
use crate::{PageRequest, Store};

/// A global index keyed by partition attributes `hash` and sort attributes `range`
/// (name and type each).
fn multi(name: &str, hash: &[(&str, ScalarType)], range: &[(&str, ScalarType)]) -> IndexSpec {
    let attrs = |l: &[(&str, ScalarType)]| -> Vec<KeyAttribute> {
        l.iter().map(|(n, t)| attr(n, *t)).collect()
    };
    let (mut h, mut r) = (attrs(hash).into_iter(), attrs(range).into_iter());
    IndexSpec {
        name: name.into(),
        kind: IndexKind::Global,
        key_schema: KeySchema {
            hash: h.next().unwrap(),
            range: r.next(),
            hash_rest: h.collect(),
            range_rest: r.collect(),
        },
        projection: IndexProjection::All,
        throughput: None,
    }
}

/// The tournament index: partition (tournament S, region S), sort (round S, seq N).
fn matches_index() -> IndexSpec {
    multi(
        "by_match",
        &[("tournament", ScalarType::S), ("region", ScalarType::S)],
        &[("round", ScalarType::S), ("seq", ScalarType::N)],
    )
}

fn row(id: i64, tournament: &str, region: &str, round: &str, seq: i64) -> Item {
    item(&[
        ("pk", s(&format!("m{id}"))),
        ("sk", n(0)),
        ("tournament", s(tournament)),
        ("region", s(region)),
        ("round", s(round)),
        ("seq", n(seq)),
    ])
}

fn ids(items: &[Item]) -> Vec<String> {
    items
        .iter()
        .map(|i| match &i["pk"] {
            AttributeValue::S(v) => v.clone(),
            other => panic!("{other:?}"),
        })
        .collect()
}

fn query(
    store: &Store,
    cond: &KeyCondition,
    forward: bool,
    page: &PageRequest,
) -> crate::Result<crate::Page> {
    let read = IndexRead {
        name: "by_match",
        fetch_table_items: false,
    };
    store.query_index("tbl", read, cond, forward, page, |_| Ok(true))
}

fn cond(
    hash: &[AttributeValue],
    prefix: &[AttributeValue],
    range: Option<RangeCondition>,
) -> KeyCondition {
    KeyCondition {
        hash_value: hash[0].clone(),
        hash_rest: hash[1..].to_vec(),
        range_prefix: prefix.to_vec(),
        range,
    }
}

fn seeded() -> (tempfile::TempDir, Store) {
    let (dir, store) = open();
    store
        .create_table(indexed_spec("tbl", vec![matches_index()]))
        .unwrap();
    let rows = [
        row(1, "w24", "na", "final", 1),
        row(2, "w24", "na", "semi", 2),
        row(3, "w24", "na", "semi", 10),
        row(4, "w24", "na", "quarter", 3),
        row(5, "w24", "eu", "semi", 1),
        row(6, "s25", "na", "semi", 1),
        row(7, "w24", "na", "semi", 1),
    ];
    for r in rows {
        store.put_item("tbl", r, |_| Ok(())).unwrap();
    }
    // Sparse: each misses one key attribute, so none is in the index.
    for (id, missing) in [(8, "region"), (9, "seq"), (10, "tournament"), (11, "round")] {
        let mut r = row(id, "w24", "na", "semi", 5);
        r.remove(missing);
        store.put_item("tbl", r, |_| Ok(())).unwrap();
    }
    (dir, store)
}

#[test]
fn entries_are_sparse_and_ordered_by_each_sort_attribute() {
    let (_dir, store) = seeded();
    let all = scan_index_all(&store, "tbl", "by_match");
    assert_eq!(
        all.len(),
        7,
        "items missing a key attribute are not indexed"
    );
    assert_eq!(all, expected_index(&store, "tbl", "by_match"));

    let na = [s("w24"), s("na")];
    let page = query(&store, &cond(&na, &[], None), true, &PageRequest::default()).unwrap();
    // round (string order), then seq (numeric order)
    assert_eq!(ids(&page.items), ["m1", "m4", "m7", "m2", "m3"]);
    let back = query(
        &store,
        &cond(&na, &[], None),
        false,
        &PageRequest::default(),
    )
    .unwrap();
    assert_eq!(ids(&back.items), ["m3", "m2", "m7", "m4", "m1"]);

    // An update that removes a key attribute takes the item out of the index.
    let mut r = row(7, "w24", "na", "semi", 1);
    r.remove("seq");
    store.put_item("tbl", r, |_| Ok(())).unwrap();
    let page = query(&store, &cond(&na, &[], None), true, &PageRequest::default()).unwrap();
    assert_eq!(ids(&page.items), ["m1", "m4", "m2", "m3"]);
}

#[test]
fn query_takes_a_sort_prefix_then_one_range_condition() {
    let (_dir, store) = seeded();
    let na = [s("w24"), s("na")];
    let q = |prefix: &[AttributeValue], range| {
        let page = query(
            &store,
            &cond(&na, prefix, range),
            true,
            &PageRequest::default(),
        );
        ids(&page.unwrap().items)
    };
    assert_eq!(
        q(&[], Some(RangeCondition::Eq(s("semi")))),
        ["m7", "m2", "m3"]
    );
    assert_eq!(
        q(&[], Some(RangeCondition::Gt(s("quarter")))),
        ["m7", "m2", "m3"]
    );
    assert_eq!(q(&[], Some(RangeCondition::BeginsWith(s("qu")))), ["m4"]);
    assert_eq!(
        q(&[s("semi")], Some(RangeCondition::Ge(n(2)))),
        ["m2", "m3"]
    );
    assert_eq!(
        q(&[s("semi")], Some(RangeCondition::Between(n(1), n(2)))),
        ["m7", "m2"]
    );
    assert_eq!(q(&[s("semi")], Some(RangeCondition::Eq(n(10)))), ["m3"]);
    assert_eq!(q(&[s("semi")], Some(RangeCondition::Lt(n(2)))), ["m7"]);
    // other partitions stay apart
    let eu = cond(&[s("w24"), s("eu")], &[], None);
    let page = query(&store, &eu, true, &PageRequest::default()).unwrap();
    assert_eq!(ids(&page.items), ["m5"]);

    // a value of the wrong type for any key attribute
    let bad = cond(&[s("w24"), n(1)], &[], None);
    assert!(message(query(&store, &bad, true, &PageRequest::default()))
        .contains("Condition parameter type does not match schema type"));
    let bad = cond(&na, &[n(1)], Some(RangeCondition::Eq(n(1))));
    assert!(message(query(&store, &bad, true, &PageRequest::default()))
        .contains("Condition parameter type does not match schema type"));
}

#[test]
fn pages_carry_every_key_attribute() {
    let (_dir, store) = seeded();
    let c = cond(&[s("w24"), s("na")], &[], None);
    let mut req = PageRequest {
        exclusive_start_key: None,
        limit: Some(2),
    };
    let mut seen = Vec::new();
    loop {
        let page = query(&store, &c, true, &req).unwrap();
        seen.extend(ids(&page.items));
        let Some(lek) = page.last_evaluated_key else {
            break;
        };
        let mut names: Vec<&str> = lek.keys().map(String::as_str).collect();
        names.sort_unstable();
        assert_eq!(
            names,
            ["pk", "region", "round", "seq", "sk", "tournament"],
            "LastEvaluatedKey: the table key and every index key attribute"
        );
        req.exclusive_start_key = Some(lek);
    }
    assert_eq!(seen, ["m1", "m4", "m7", "m2", "m3"]);
}

#[test]
fn multi_attribute_keys_follow_the_rules() {
    let five: Vec<(String, ScalarType)> =
        (0..5).map(|i| (format!("h{i}"), ScalarType::S)).collect();
    let five: Vec<(&str, ScalarType)> = five.iter().map(|(n, t)| (n.as_str(), *t)).collect();
    let too_many_hash = indexed_spec("tbl", vec![multi("ix", &five, &[])]);
    assert_eq!(
        message(too_many_hash.validate()),
        "Too many partition keys. GSI can have at most 4 partition keys"
    );
    let too_many_range = indexed_spec("tbl", vec![multi("ix", &[("a", ScalarType::S)], &five)]);
    assert_eq!(
        message(too_many_range.validate()),
        "Too many sort keys. GSI can have at most 4 sort keys"
    );
    let four_and_four: Vec<(String, ScalarType)> =
        (0..8).map(|i| (format!("k{i}"), ScalarType::N)).collect();
    let four_and_four: Vec<(&str, ScalarType)> = four_and_four
        .iter()
        .map(|(n, t)| (n.as_str(), *t))
        .collect();
    indexed_spec(
        "tbl",
        vec![multi("ix", &four_and_four[..4], &four_and_four[4..])],
    )
    .validate()
    .unwrap();

    let dup = indexed_spec(
        "tbl",
        vec![multi(
            "ix",
            &[("a", ScalarType::S), ("b", ScalarType::S)],
            &[("a", ScalarType::S)],
        )],
    );
    assert_eq!(
        message(dup.validate()),
        "Two keys can not have the same name"
    );

    let mut local = multi(
        "ix",
        &[("pk", ScalarType::S)],
        &[("a", ScalarType::S), ("b", ScalarType::S)],
    );
    local.kind = IndexKind::Local;
    assert!(message(indexed_spec("tbl", vec![local]).validate())
        .contains("Multi-attribute keys are supported only for global secondary indexes"));

    // A present key attribute of the wrong type is refused on write, even when another one is
    // missing.
    let (_dir, store) = seeded();
    let mut r = row(20, "w24", "na", "semi", 1);
    r.insert("seq".into(), s("one"));
    r.remove("region");
    assert!(message(store.put_item("tbl", r, |_| Ok(())))
        .contains("Type mismatch for Index Key seq Expected: N Actual: S IndexName: by_match"));
}

#[test]
fn an_added_multi_attribute_index_is_backfilled_and_survives_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    {
        let store = open_unsynced_at(dir.path());
        store.create_table(indexed_spec("tbl", vec![])).unwrap();
        for i in 0..300 {
            let mut r = row(i, "w24", ["na", "eu"][(i % 2) as usize], "semi", i % 17);
            if i % 10 == 0 {
                r.remove("round");
            }
            store.put_item("tbl", r, |_| Ok(())).unwrap();
        }
        let index = matches_index();
        let definitions = index.key_schema.attributes().cloned().collect();
        store
            .update_global_index(
                "tbl",
                IndexUpdate::Create {
                    index,
                    attribute_definitions: definitions,
                },
            )
            .unwrap();
        let deadline = Instant::now() + Duration::from_secs(30);
        while store.table_meta("tbl").unwrap().indexes[0].status != IndexStatus::Active {
            assert!(Instant::now() < deadline, "the build did not end");
            std::thread::sleep(Duration::from_millis(10));
        }
        let all = scan_index_all(&store, "tbl", "by_match");
        assert_eq!(all.len(), 270);
        assert_eq!(all, expected_index(&store, "tbl", "by_match"));
    }
    let store = open_unsynced_at(dir.path());
    let meta = store.table_meta("tbl").unwrap();
    assert_eq!(meta.indexes[0].key_schema, matches_index().key_schema);
    let c = cond(
        &[s("w24"), s("eu")],
        &[s("semi")],
        Some(RangeCondition::Le(n(1))),
    );
    let page = query(&store, &c, true, &PageRequest::default()).unwrap();
    // region "eu" is the odd ids; items without a round are not indexed
    let expected: Vec<i64> = (0..300)
        .filter(|i| i % 2 == 1 && i % 17 <= 1 && i % 10 != 0)
        .collect();
    assert_eq!(page.items.len(), expected.len());
    let mut seqs: Vec<&AttributeValue> = page.items.iter().map(|i| &i["seq"]).collect();
    let sorted = {
        let mut v = seqs.clone();
        v.sort_by(|a, b| crate::expr::compare_values(a, b).unwrap());
        v
    };
    assert_eq!(seqs, sorted, "in seq order");
    seqs.dedup();
    assert_eq!(seqs.len(), 2);
}

/// A table record as the catalog wrote it before multi-attribute keys existed: key schemas
/// hold only `hash` and `range`.
const OLD_RECORD: &str = r#"{"name":"tbl","id":"0b4f5e0c-8a71-4d07-9c55-2f7f6a1d3e11","key_schema":{"hash":{"name":"pk","attr_type":"S"},"range":{"name":"sk","attr_type":"N"}},"attribute_definitions":[{"name":"pk","attr_type":"S"},{"name":"sk","attr_type":"N"},{"name":"g","attr_type":"S"}],"billing_mode":"PayPerRequest","throughput":null,"created_at":1700000000.5,"billing_mode_updated_at":1700000000.5,"last_increase_at":null,"last_decrease_at":null,"decreases_today":0,"tags":{},"deletion_protection":false,"table_class":null,"streams":[],"ttl":null,"indexes":[{"name":"by_g","id":"5d2c1f0e-3b4a-4c5d-8e6f-7a8b9c0d1e2f","kind":"Global","key_schema":{"hash":{"name":"g","attr_type":"S"},"range":null},"projection":"All","throughput":null,"status":"Active","online":false}],"pitr":null,"restore":null}"#;

#[test]
fn single_attribute_catalog_records_read_and_write_unchanged() {
    let meta: TableMeta = serde_json::from_str(OLD_RECORD).unwrap();
    assert!(!meta.key_schema.is_multi_attribute());
    assert!(!meta.indexes[0].key_schema.is_multi_attribute());
    assert_eq!(meta.indexes[0].key_schema.hash.name, "g");
    // written back byte for byte but for the table's region (which older tarns ignore): an
    // older tarn reads what this one writes
    assert_eq!(meta.region, "us-east-1");
    let written = serde_json::to_string(&meta).unwrap();
    assert_eq!(
        written.replacen(r#""region":"us-east-1","#, "", 1),
        OLD_RECORD
    );
    // and a multi-attribute key writes its further attributes
    let spec = matches_index();
    let json = serde_json::to_value(&spec.key_schema).unwrap();
    assert_eq!(json["hash_rest"][0]["name"], "region");
    assert_eq!(json["range_rest"][0]["name"], "seq");
    let back: KeySchema = serde_json::from_value(json).unwrap();
    assert_eq!(back, spec.key_schema);
}
