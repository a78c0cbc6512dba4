//! Translation tests: which operation each statement becomes, and the expressions it carries.

use super::*;
use crate::parse;

const KEYS: Keys<'static> = Keys {
    hash: "pk",
    range: Some("sk"),
};

fn plan_of(src: &str, params: &[AttributeValue]) -> Result<Plan, PartiqlError> {
    plan(&parse(src).unwrap(), params, KEYS, Mode::Statement)
}

fn s(v: &str) -> AttributeValue {
    AttributeValue::S(v.into())
}

fn n(v: i64) -> AttributeValue {
    AttributeValue::N(Number::from_i64(v))
}

fn names(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

#[test]
fn key_equality_becomes_a_query_and_the_rest_a_filter() {
    let plan = plan_of(
        "SELECT a FROM t WHERE pk = ? AND sk >= 3 AND x <> 'y'",
        &[s("k")],
    )
    .unwrap();
    let Plan::Query {
        key_condition,
        filter,
        projection,
        forward,
        placeholders,
        ..
    } = plan
    else {
        panic!("{plan:?}")
    };
    assert_eq!(key_condition, "#n1 = :v0 AND #n2 >= :v1");
    assert_eq!(filter.as_deref(), Some("#n3 <> :v2"));
    assert_eq!(projection.as_deref(), Some("#n0"));
    assert!(forward);
    assert_eq!(
        placeholders.names,
        names(&[("#n0", "a"), ("#n1", "pk"), ("#n2", "sk"), ("#n3", "x")])
    );
    assert_eq!(placeholders.values[":v0"], s("k"));
    assert_eq!(placeholders.values[":v1"], n(3));
}

#[test]
fn begins_with_and_between_on_the_sort_key_are_key_conditions() {
    for (src, expected) in [
        (
            "SELECT * FROM t WHERE begins_with(sk, 'a') AND pk = 'k'",
            "#n0 = :v0 AND begins_with(#n1, :v1)",
        ),
        (
            "SELECT * FROM t WHERE pk = 'k' AND sk BETWEEN 1 AND 2",
            "#n0 = :v0 AND #n1 BETWEEN :v1 AND :v2",
        ),
        ("SELECT * FROM t WHERE 'k' = pk", "#n0 = :v0"),
    ] {
        let Plan::Query {
            key_condition,
            filter,
            ..
        } = plan_of(src, &[]).unwrap()
        else {
            panic!("{src}")
        };
        assert!(
            key_condition == expected || src.contains("'k' = pk"),
            "{src}: {key_condition}"
        );
        assert_eq!(filter, None, "{src}");
    }
}

#[test]
fn without_a_partition_key_equality_it_is_a_scan_of_the_whole_where() {
    for src in [
        "SELECT * FROM t WHERE sk = 1",
        "SELECT * FROM t WHERE pk = 'a' AND sk > 1 AND sk < 5",
        "SELECT * FROM t WHERE pk = 'a' OR sk = 1",
    ] {
        let plan = plan_of(src, &[]).unwrap();
        assert!(
            matches!(
                &plan,
                Plan::Scan {
                    filter: Some(_),
                    ..
                }
            ),
            "{src}: {plan:?}"
        );
    }
    let Plan::Scan { filter, .. } = plan_of("SELECT * FROM t", &[]).unwrap() else {
        panic!()
    };
    assert_eq!(filter, None);
}

#[test]
fn order_by_needs_a_query_on_a_key() {
    let Plan::Query { forward, .. } =
        plan_of("SELECT * FROM t WHERE pk = 'a' ORDER BY sk DESC", &[]).unwrap()
    else {
        panic!()
    };
    assert!(!forward);
    assert!(plan_of("SELECT * FROM t ORDER BY sk", &[]).is_err());
    assert!(plan_of("SELECT * FROM t WHERE pk = 'a' ORDER BY x", &[]).is_err());
}

#[test]
fn insert_is_a_put_unless_the_key_exists() {
    let Plan::Insert {
        item,
        condition,
        placeholders,
        ..
    } = plan_of(
        "INSERT INTO t VALUE {'pk': ?, 'sk': 1, 'tags': <<'b', 'a'>>, 'm': {'l': [TRUE, NULL]}}",
        &[s("k")],
    )
    .unwrap()
    else {
        panic!()
    };
    assert_eq!(condition, "attribute_not_exists(#n0)");
    assert_eq!(placeholders.names, names(&[("#n0", "pk")]));
    assert_eq!(item["pk"], s("k"));
    assert_eq!(item["sk"], n(1));
    assert_eq!(
        item["tags"],
        AttributeValue::Ss(vec!["a".into(), "b".into()])
    );
    assert_eq!(
        item["m"],
        AttributeValue::M(BTreeMap::from([(
            "l".to_string(),
            AttributeValue::L(vec![AttributeValue::Bool(true), AttributeValue::Null])
        )]))
    );
}

#[test]
fn update_needs_the_full_key_and_keeps_the_rest_as_a_condition() {
    let Plan::Update { key, update, condition, return_values, placeholders, .. } = plan_of(
        "UPDATE t SET a = a + 1 SET s = set_add(s, <<1, 2>>) SET d = set_delete(d, <<'x'>>) SET l = list_append(l, [?]) REMOVE r WHERE pk = 'k' AND sk = 2 AND a < 10 RETURNING ALL NEW *",
        &[n(7)],
    )
    .unwrap() else {
        panic!()
    };
    assert_eq!(
        key,
        Item::from([("pk".to_string(), s("k")), ("sk".to_string(), n(2))])
    );
    assert_eq!(
        update,
        "SET #n0 = #n0 + :v0, #n3 = list_append(#n3, :v3) REMOVE #n4 ADD #n1 :v1 DELETE #n2 :v2"
    );
    assert_eq!(condition, "attribute_exists(#n5) AND (#n0 < :v4)");
    assert_eq!(return_values, "ALL_NEW");
    assert_eq!(placeholders.values[":v3"], AttributeValue::L(vec![n(7)]));
    assert_eq!(
        placeholders.values[":v1"],
        AttributeValue::Ns(vec![Number::from_i64(1), Number::from_i64(2)])
    );
}

#[test]
fn writes_without_the_full_key_are_refused() {
    for src in [
        "UPDATE t SET a = 1 WHERE pk = 'k'",
        "UPDATE t SET a = 1",
        "DELETE FROM t WHERE pk = 'k' OR sk = 1",
        "DELETE FROM t WHERE pk = 'k' AND sk > 1",
    ] {
        assert_eq!(
            plan_of(src, &[]).unwrap_err().to_string(),
            MISSING_KEY,
            "{src}"
        );
    }
}

#[test]
fn delete_keeps_extra_conditions() {
    let Plan::Delete {
        condition,
        return_values,
        ..
    } = plan_of(
        "DELETE FROM t WHERE pk = 'k' AND sk = 1 AND v IS MISSING RETURNING ALL OLD *",
        &[],
    )
    .unwrap()
    else {
        panic!()
    };
    assert_eq!(
        condition.as_deref(),
        Some("attribute_not_exists(#n1) OR (attribute_not_exists(#n0))")
    );
    assert_eq!(return_values, "ALL_OLD");
    assert!(plan_of(
        "DELETE FROM t WHERE pk = 'k' AND sk = 1 RETURNING ALL NEW *",
        &[]
    )
    .is_err());
}

#[test]
fn parameter_count_must_match() {
    assert_eq!(
        plan_of("SELECT * FROM t WHERE pk = ?", &[]).unwrap_err(),
        PartiqlError::ParameterCount
    );
    // extra parameters are ignored, as DynamoDB ignores them
    assert!(plan_of("SELECT * FROM t WHERE pk = 'a'", &[s("x")]).is_ok());
}

#[test]
fn single_item_reads_need_exactly_the_key() {
    let stmt = parse("SELECT a FROM t WHERE sk = 1 AND pk = 'k'").unwrap();
    let Plan::Get {
        key, projection, ..
    } = plan(&stmt, &[], KEYS, Mode::Batch).unwrap()
    else {
        panic!()
    };
    assert_eq!(key.len(), 2);
    assert_eq!(projection.as_deref(), Some("#n0"));
    let stmt = parse("SELECT a FROM t WHERE pk = 'k'").unwrap();
    assert_eq!(
        plan(&stmt, &[], KEYS, Mode::Batch).unwrap_err().to_string(),
        MISSING_KEY
    );
}

#[test]
fn bad_sets_are_refused() {
    assert!(plan_of("INSERT INTO t VALUE {'pk': 'a', 's': <<1, 'x'>>}", &[]).is_err());
    assert!(plan_of("INSERT INTO t VALUE {'pk': 'a', 's': <<'x', 'x'>>}", &[]).is_err());
    assert!(plan_of("INSERT INTO t VALUE {'pk': 'a', 's': <<>>}", &[]).is_err());
    assert!(plan_of("INSERT INTO t VALUE 'x'", &[]).is_err());
}

#[test]
fn exists_is_a_condition_check_only_in_a_transaction() {
    let stmt = parse("EXISTS(SELECT * FROM t WHERE pk = 'k' AND sk = 1 AND n > ?)").unwrap();
    let Plan::Check { key, condition, .. } = plan(&stmt, &[n(3)], KEYS, Mode::Transaction).unwrap()
    else {
        panic!()
    };
    assert_eq!(key.len(), 2);
    assert_eq!(condition, "attribute_exists(#n0) AND (#n1 > :v0)");
    assert!(plan(&stmt, &[n(3)], KEYS, Mode::Statement).is_err());
}

#[test]
fn refusals_carry_dynamodbs_messages() {
    let msg = |src: &str| plan_of(src, &[]).unwrap_err().to_string();
    assert_eq!(
        msg("SELECT * FROM t ORDER BY sk"),
        "Must have WHERE clause in the statement when using ORDER BY clause."
    );
    assert_eq!(
        msg("SELECT * FROM t WHERE sk = 1 ORDER BY sk"),
        "Must have at least one non-optional hash key condition in WHERE clause when using ORDER BY clause."
    );
    assert_eq!(
        msg("SELECT * FROM t WHERE pk = 'a' ORDER BY x"),
        "Variable reference x in ORDER BY clause must be part of the primary key"
    );
    assert_eq!(
        msg("INSERT INTO t VALUE {'pk': 'a'} RETURNING ALL OLD *"),
        "RETURNING is not supported in INSERT"
    );
    assert_eq!(
        msg("DELETE FROM t WHERE pk = 'a' AND sk = 1 RETURNING ALL NEW *"),
        "Invalid returning clause: RETURNING ALL NEW *. Only RETURNING ALL OLD * is allowed in DELETE statements."
    );
    assert_eq!(
        msg("UPDATE t SET s = set_add(x, <<1>>) WHERE pk = 'a' AND sk = 1"),
        "The first argument to SET_ADD must equal the assignment value"
    );
    assert_eq!(
        msg("UPDATE t SET s = set_delete(s, 1) WHERE pk = 'a' AND sk = 1"),
        "The second argument to SET_DELETE must be a value with type SET"
    );
    assert_eq!(
        msg("SELECT * FROM t WHERE nope(a)"),
        "Unrecognized function: nope"
    );
    assert_eq!(
        msg("INSERT INTO t VALUE {'pk': 'a', 's': <<>>}"),
        "Empty bags are not supported"
    );
    let stmt = parse("SELECT * FROM t WHERE pk = 'a'").unwrap();
    assert_eq!(
        plan(&stmt, &[], KEYS, Mode::Transaction).unwrap_err().to_string(),
        "Select statements within ExecuteTransaction must specify the primary key in the where clause."
    );
    let stmt = parse("EXISTS(SELECT * FROM t WHERE pk = 'a')").unwrap();
    assert_eq!(
        plan(&stmt, &[], KEYS, Mode::Transaction)
            .unwrap_err()
            .to_string(),
        "EXISTS() must contain a single item read with additional condition"
    );
    assert_eq!(
        plan(&stmt, &[], KEYS, Mode::Batch).unwrap_err().to_string(),
        "EXISTS can only be used in ExecuteTransaction write requests."
    );
}

/// The partition key values of a plan of several Queries, in the order they run.
fn partitions(plan: &Plan) -> Vec<AttributeValue> {
    let Plan::Queries {
        key_conditions,
        placeholders,
        ..
    } = plan
    else {
        panic!("not several Queries: {plan:?}")
    };
    key_conditions
        .iter()
        .map(|c| {
            let v = c.split(" = ").nth(1).unwrap().split(' ').next().unwrap();
            placeholders.values[v].clone()
        })
        .collect()
}

#[test]
fn in_and_or_on_the_partition_key_become_one_query_per_value() {
    let plan = plan_of("SELECT * FROM t WHERE pk IN ['c', 'a', 'c', 'b']", &[]).unwrap();
    assert_eq!(partitions(&plan), vec![s("a"), s("b"), s("c")]);
    let plan = plan_of("SELECT * FROM t WHERE pk IN [10, 9, 100]", &[]).unwrap();
    assert_eq!(partitions(&plan), vec![n(9), n(10), n(100)]);
    let plan = plan_of("SELECT * FROM t WHERE pk = ? OR pk = 'a'", &[s("z")]).unwrap();
    assert_eq!(partitions(&plan), vec![s("z"), s("a")]);
    // The sort key condition goes to each Query, the rest to the filter.
    let plan = plan_of(
        "SELECT * FROM t WHERE pk IN ['a', 'b'] AND sk > 1 AND x = 2",
        &[],
    )
    .unwrap();
    let Plan::Queries {
        key_conditions,
        filter,
        forward,
        ..
    } = &plan
    else {
        panic!()
    };
    assert!(key_conditions.iter().all(|c| c.contains(" AND ")));
    assert!(filter.is_some() && *forward);
    // ORDER BY the partition key reverses the partitions; the sort key, each one's items.
    let plan = plan_of(
        "SELECT * FROM t WHERE pk IN ['a', 'b'] ORDER BY pk DESC",
        &[],
    )
    .unwrap();
    assert_eq!(partitions(&plan), vec![s("b"), s("a")]);
    let plan = plan_of(
        "SELECT * FROM t WHERE pk IN ['a', 'b'] ORDER BY sk DESC",
        &[],
    )
    .unwrap();
    assert_eq!(partitions(&plan), vec![s("a"), s("b")]);
    assert!(matches!(plan, Plan::Queries { forward: false, .. }));
    // The key mentioned elsewhere, or an IN over another attribute: a Scan.
    for src in [
        "SELECT * FROM t WHERE pk IN ['a'] AND pk <> 'b'",
        "SELECT * FROM t WHERE x IN ['a', 'b']",
        "SELECT * FROM t WHERE pk = 'a' OR x = 'b'",
    ] {
        assert!(
            matches!(plan_of(src, &[]).unwrap(), Plan::Scan { .. }),
            "{src}"
        );
    }
    // At most 100 operands in an IN.
    let values: Vec<String> = (0..101).map(|i| format!("'v{i}'")).collect();
    for attr in ["pk", "x"] {
        let src = format!("SELECT * FROM t WHERE {attr} IN [{}]", values.join(", "));
        assert_eq!(
            plan_of(&src, &[]).unwrap_err().to_string(),
            "The IN operator is provided with too many operands; number of operands: 101"
        );
    }
}
