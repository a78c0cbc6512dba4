//! The legacy parameters (Expected, AttributeUpdates, KeyConditions, QueryFilter and
//! ScanFilter, AttributesToGet) that predate expressions.

use super::*;

fn exp(op: &str, args: Vec<V>) -> ExpectedAttribute {
    ExpectedAttribute {
        comparison_operator: ComparisonOperator::parse(op),
        attribute_value_list: args,
        ..Default::default()
    }
}

#[test]
fn legacy_expected_and_filters() {
    let it = item(&[("a", n("5")), ("s", s("hello")), ("tags", ss(&["x"]))]);
    let mut e = BTreeMap::new();
    e.insert("a".to_string(), exp("GT", vec![n("1")]));
    e.insert("s".to_string(), exp("BEGINS_WITH", vec![s("he")]));
    e.insert("tags".to_string(), exp("CONTAINS", vec![s("x")]));
    e.insert("zz".to_string(), exp("NULL", vec![]));
    let c = expected(&e, ConditionalOperator::And).unwrap().unwrap();
    assert!(c.evaluate(Some(&it)).unwrap());
    e.insert(
        "b".to_string(),
        ExpectedAttribute {
            value: Some(n("1")),
            ..Default::default()
        },
    );
    assert!(!expected(&e, ConditionalOperator::And)
        .unwrap()
        .unwrap()
        .evaluate(Some(&it))
        .unwrap());
    assert!(expected(&e, ConditionalOperator::Or)
        .unwrap()
        .unwrap()
        .evaluate(Some(&it))
        .unwrap());

    let one = |attr: &str, x: ExpectedAttribute| BTreeMap::from([(attr.to_string(), x)]);
    let holds = |m: BTreeMap<String, ExpectedAttribute>| {
        filter(&m, ConditionalOperator::And)
            .unwrap()
            .unwrap()
            .evaluate(Some(&it))
            .unwrap()
    };
    assert!(holds(one("a", exp("BETWEEN", vec![n("1"), n("5")]))));
    assert!(holds(one("a", exp("IN", vec![n("4"), n("5")]))));
    assert!(holds(one("a", exp("NE", vec![n("4")]))));
    assert!(holds(one("s", exp("NOT_CONTAINS", vec![s("zz")]))));
    assert!(!holds(one("nope", exp("NOT_CONTAINS", vec![s("zz")]))));
    assert!(holds(one("a", exp("NOT_NULL", vec![]))));
    assert!(holds(one("a", exp("LE", vec![n("5")]))));
    assert!(!holds(one("a", exp("LT", vec![n("5")]))));
    assert!(holds(one("a", exp("GE", vec![n("5")]))));
    assert!(holds(one("a", exp("EQ", vec![n("5")]))));

    let err = |m: BTreeMap<String, ExpectedAttribute>| {
        expected(&m, ConditionalOperator::And)
            .unwrap_err()
            .to_string()
    };
    assert_eq!(
        err(one("a", exp("EQ", vec![]))),
        "One or more parameter values were invalid: Invalid number of argument(s) for the EQ ComparisonOperator"
    );
    assert_eq!(
        err(one("a", exp("LT", vec![ss(&["x"])]))),
        "One or more parameter values were invalid: ComparisonOperator LT is not valid for SS AttributeValue type"
    );
    assert_eq!(
        err(one("a", ExpectedAttribute { exists: Some(true), ..Default::default() })),
        "One or more parameter values were invalid: Value must be provided when Exists is true for Attribute: a"
    );
    assert_eq!(
        err(one("a", ExpectedAttribute { exists: Some(false), value: Some(n("1")), ..Default::default() })),
        "One or more parameter values were invalid: Value cannot be used when Exists is false for Attribute: a"
    );
    let absent = expected(
        &one(
            "a",
            ExpectedAttribute {
                exists: Some(false),
                ..Default::default()
            },
        ),
        ConditionalOperator::And,
    )
    .unwrap()
    .unwrap();
    assert!(absent.evaluate(None).unwrap());
    assert!(expected(&BTreeMap::new(), ConditionalOperator::And)
        .unwrap()
        .is_none());
}

#[test]
fn legacy_key_conditions_updates_and_attributes_to_get() {
    let mut k = BTreeMap::new();
    k.insert("pk".to_string(), exp("EQ", vec![s("u")]));
    k.insert("sk".to_string(), exp("BEGINS_WITH", vec![s("a")]));
    let kc = key_conditions(&k, "pk", Some("sk")).unwrap();
    assert_eq!(
        kc,
        KeyCondition::single(s("u"), Some(RangeCondition::BeginsWith(s("a"))))
    );
    k.insert("sk".to_string(), exp("NE", vec![s("a")]));
    assert_eq!(
        key_conditions(&k, "pk", Some("sk")).unwrap_err().to_string(),
        "One or more parameter values were invalid: Attempted conditional constraint is not an indexable operation"
    );

    let it = item(&[
        ("n", n("1")),
        ("l", l(vec![n("1")])),
        ("tags", ss(&["a", "b"])),
        ("gone", s("x")),
    ]);
    let upd = |a: AttributeAction, v: Option<V>| AttributeUpdate {
        action: a,
        value: v,
    };
    let mut u = BTreeMap::new();
    u.insert("n".to_string(), upd(AttributeAction::Add, Some(n("2"))));
    u.insert(
        "l".to_string(),
        upd(AttributeAction::Add, Some(l(vec![n("2")]))),
    );
    u.insert(
        "l2".to_string(),
        upd(AttributeAction::Add, Some(l(vec![n("2")]))),
    );
    u.insert(
        "tags".to_string(),
        upd(AttributeAction::Delete, Some(ss(&["a"]))),
    );
    u.insert("gone".to_string(), upd(AttributeAction::Delete, None));
    u.insert("p".to_string(), upd(AttributeAction::Put, Some(s("v"))));
    let update = attribute_updates(&u).unwrap();
    let mut out = it.clone();
    update.apply(&mut out).unwrap();
    assert_eq!(
        out,
        item(&[
            ("n", n("3")),
            ("l", l(vec![n("1"), n("2")])),
            ("l2", l(vec![n("2")])),
            ("tags", ss(&["b"])),
            ("p", s("v")),
        ])
    );
    let bad = BTreeMap::from([("p".to_string(), upd(AttributeAction::Put, None))]);
    assert_eq!(
        attribute_updates(&bad).unwrap_err().to_string(),
        "One or more parameter values were invalid: Only DELETE action is allowed when no attribute value is specified"
    );

    let p = attributes_to_get(&["x".into(), "status".into()]).unwrap();
    assert_eq!(
        p.apply(&item(&[("x", n("1")), ("status", n("2")), ("y", n("3"))]))
            .len(),
        2
    );
    assert!(attributes_to_get(&["x".into(), "x".into()]).is_err());
}
