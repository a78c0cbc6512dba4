//! Key condition expressions: the forms Query accepts, and their errors.

use super::*;

#[test]
fn key_condition_expressions() {
    let v = [
        (":h", s("u1")),
        (":a", n("1")),
        (":b", n("5")),
        (":p", s("pre")),
    ];
    let kc = |e: &str| ctx(&[], &v).parse_key_condition(e, "pk", Some("sk"));
    assert_eq!(kc("pk = :h").unwrap(), KeyCondition::single(s("u1"), None));
    assert_eq!(
        kc("pk = :h AND sk < :a").unwrap().range,
        Some(RangeCondition::Lt(n("1")))
    );
    assert_eq!(
        kc(":a < sk AND pk = :h").unwrap().range,
        Some(RangeCondition::Gt(n("1")))
    );
    assert_eq!(
        kc("pk = :h and sk between :a and :b").unwrap().range,
        Some(RangeCondition::Between(n("1"), n("5")))
    );
    assert_eq!(
        kc("pk = :h AND begins_with(sk, :p)").unwrap().range,
        Some(RangeCondition::BeginsWith(s("pre")))
    );
    assert_eq!(
        kc("(pk = :h) AND (sk >= :a)").unwrap().range,
        Some(RangeCondition::Ge(n("1")))
    );
    let err = |e: &str| kc(e).unwrap_err().to_string();
    assert_eq!(
        err("pk = :h OR sk = :a"),
        "Invalid operator used in KeyConditionExpression: OR"
    );
    assert_eq!(
        err("pk = :h AND sk <> :a"),
        "Invalid operator used in KeyConditionExpression: <>"
    );
    assert_eq!(
        err("pk = :h AND sk IN (:a)"),
        "Invalid operator used in KeyConditionExpression: IN"
    );
    assert_eq!(
        err("pk = :h AND NOT sk = :a"),
        "Invalid operator used in KeyConditionExpression: NOT"
    );
    assert_eq!(
        err("pk = :h AND attribute_exists(sk)"),
        "Invalid operator used in KeyConditionExpression: attribute_exists"
    );
    assert_eq!(
        err("pk = :h AND contains(sk, :a)"),
        "Invalid operator used in KeyConditionExpression: contains"
    );
    assert_eq!(
        err("pk < :h"),
        "Invalid KeyConditionExpression: Query key condition not supported"
    );
    assert_eq!(
        err("sk = :a"),
        "Query condition missed key schema element: pk"
    );
    assert_eq!(
        err("pk = :h AND foo = :a"),
        "Query condition missed key schema element: sk"
    );
    assert_eq!(
        err("pk = :h AND sk > :a AND sk < :b"),
        "KeyConditionExpressions must only contain one condition per key"
    );
    assert_eq!(
        err("pk = :h AND sk.x = :a"),
        "KeyConditionExpressions cannot have conditions on nested attributes"
    );
    assert_eq!(
        err("pk = :h AND size(sk) = :a"),
        "KeyConditionExpressions cannot contain nested operations"
    );
    assert_eq!(err("pk = sk"), "Invalid condition in KeyConditionExpression: Multiple attribute names used in one condition");
    assert_eq!(
        err("pk = "),
        "Invalid KeyConditionExpression: Syntax error; token: \"<EOF>\", near: \"=\""
    );
    assert_eq!(
        err("pk = :h AND begins_with(sk, :a)"),
        "Invalid KeyConditionExpression: Incorrect operand type for operator or function; operator or function: begins_with, operand type: N"
    );
}

#[test]
fn range_conditions_match() {
    let in_range = RangeCondition::Between(n("1"), n("5"));
    assert!(in_range.matches(&n("1")) && in_range.matches(&n("5")) && !in_range.matches(&n("5.1")));
    assert!(!in_range.matches(&s("3")));
    assert!(RangeCondition::BeginsWith(s("ab")).matches(&s("abc")));
    assert!(!RangeCondition::BeginsWith(s("ab")).matches(&s("a")));
    assert!(RangeCondition::Eq(n("1.0")).matches(&n("1")));
    assert!(RangeCondition::Lt(s("b")).matches(&s("a")));
    assert!(RangeCondition::Le(s("b")).matches(&s("b")));
    assert!(RangeCondition::Gt(V::B(vec![1])).matches(&V::B(vec![2])));
    assert!(!RangeCondition::Ge(V::B(vec![1])).matches(&V::B(vec![0])));
}

#[test]
fn multi_attribute_key_conditions() {
    let v = [
        (":a", s("a")),
        (":b", s("b")),
        (":x", n("1")),
        (":y", n("2")),
        (":z", n("3")),
    ];
    let hash = ["h1", "h2"];
    let range = ["r1", "r2", "r3"];
    let kc = |e: &str| ctx(&[], &v).parse_key_condition_keys(e, &hash, &range);
    let c = kc("h2 = :b AND h1 = :a").unwrap();
    assert_eq!((c.hash_value, c.hash_rest), (s("a"), vec![s("b")]));
    assert!(c.range_prefix.is_empty() && c.range.is_none());
    let c = kc("h1 = :a AND h2 = :b AND r1 = :x AND r2 = :y AND r3 BETWEEN :y AND :z").unwrap();
    assert_eq!(c.range_prefix, vec![n("1"), n("2")]);
    assert_eq!(c.range, Some(RangeCondition::Between(n("2"), n("3"))));
    let c = kc("r2 = :y AND h1 = :a AND r1 = :x AND h2 = :b").unwrap();
    assert_eq!(c.range_prefix, vec![n("1")]);
    assert_eq!(c.range, Some(RangeCondition::Eq(n("2"))));
    let c = kc("h1 = :a AND h2 = :b AND r1 > :x").unwrap();
    assert_eq!(
        (c.range_prefix.len(), c.range),
        (0, Some(RangeCondition::Gt(n("1"))))
    );

    // DynamoDB's messages (as DynamoDB Local 3.3 answers them).
    let err = |e: &str| kc(e).unwrap_err().to_string();
    assert_eq!(
        err("h1 = :a AND r1 = :x"),
        "HASH key attributes h2 must have equality conditions specified in the query"
    );
    assert_eq!(
        err("r1 = :x"),
        "HASH key attributes h1, h2 must have equality conditions specified in the query"
    );
    assert_eq!(
        err("h1 = :a AND h2 > :b"),
        "HASH key attributes h2 must have equality conditions specified in the query"
    );
    assert_eq!(
        err("h1 = :a AND h2 = :b AND r2 = :x"),
        "RANGE key attributes r1 must have equality conditions specified in the query because a condition is present on key attribute r2"
    );
    assert_eq!(
        err("h1 = :a AND h2 = :b AND r3 = :x"),
        "RANGE key attributes r1, r2 must have equality conditions specified in the query because a condition is present on key attribute r3"
    );
    assert_eq!(
        err("h1 = :a AND h2 = :b AND r1 < :x AND r2 = :y"),
        "RANGE key attributes r1 must have equality conditions specified in the query because a condition is present on key attribute r2"
    );
    assert_eq!(
        err("h1 = :a AND h2 = :b AND extra = :x"),
        "Query condition missed key schema element"
    );
    assert_eq!(
        err("h1 = :a AND h2 = :b AND h2 = :a"),
        "KeyConditionExpressions must only contain one condition per key"
    );
    assert_eq!(
        err("h1 = :a OR h2 = :b"),
        "Invalid operator used in KeyConditionExpression: OR"
    );
    // One attribute per part: the single-key rules and messages.
    let single =
        ctx(&[], &v).parse_key_condition_keys("h1 = :a AND r1 = :x AND r2 = :y", &["h1"], &["r1"]);
    assert_eq!(
        single.unwrap_err().to_string(),
        "Conditions can be of length 1 or 2 only"
    );
}
