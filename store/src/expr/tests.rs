//! Tests of the expression language through its public API: parsing, DynamoDB's error
//! messages, condition semantics, updates, projections, key conditions and the legacy
//! parameters, plus property tests that the parser never panics and that printed trees parse
//! back to themselves.

use std::collections::{BTreeMap, HashMap};

use super::*;
use crate::value::{AttributeValue as V, Item, Number};

fn s(x: &str) -> V {
    V::S(x.into())
}

fn n(x: &str) -> V {
    V::N(Number::parse(x).unwrap())
}

fn l(xs: Vec<V>) -> V {
    V::L(xs)
}

fn m(pairs: &[(&str, V)]) -> V {
    V::M(
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.clone()))
            .collect(),
    )
}

fn ss(xs: &[&str]) -> V {
    V::string_set(xs.iter().map(|x| x.to_string()).collect()).unwrap()
}

fn ns(xs: &[&str]) -> V {
    V::number_set(xs.iter().map(|x| Number::parse(x).unwrap()).collect()).unwrap()
}

fn item(pairs: &[(&str, V)]) -> Item {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.clone()))
        .collect()
}

fn ctx(names: &[(&str, &str)], values: &[(&str, V)]) -> ExprContext {
    ExprContext::new(
        names
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
        values
            .iter()
            .map(|(k, v)| (k.to_string(), v.clone()))
            .collect::<HashMap<_, _>>(),
    )
}

/// Parses a condition with the given values and evaluates it on `it`.
fn check(expr: &str, values: &[(&str, V)], it: &Item) -> bool {
    let c = ctx(&[], values)
        .parse_condition(expr)
        .unwrap_or_else(|e| panic!("{expr}: {e}"));
    c.evaluate(Some(it)).unwrap()
}

fn cond_err(expr: &str, names: &[(&str, &str)], values: &[(&str, V)]) -> String {
    match ctx(names, values).parse_condition(expr) {
        Ok(c) => panic!("{expr} parsed as {c:?}"),
        Err(e) => e.to_string(),
    }
}

fn update_err(expr: &str, names: &[(&str, &str)], values: &[(&str, V)]) -> String {
    match ctx(names, values).parse_update(expr) {
        Ok(u) => panic!("{expr} parsed as {u:?}"),
        Err(e) => e.to_string(),
    }
}

fn apply(expr: &str, values: &[(&str, V)], it: &Item) -> Result<Item, ExprError> {
    let u = ctx(&[], values)
        .parse_update(expr)
        .unwrap_or_else(|e| panic!("{expr}: {e}"));
    let mut out = it.clone();
    u.apply(&mut out)?;
    Ok(out)
}

// ----- conditions: semantics -----

#[test]
fn comparators_on_numbers_strings_and_binaries() {
    let it = item(&[("a", n("5")), ("s", s("abc")), ("b", V::B(vec![1, 2]))]);
    let v = [
        (":five", n("5")),
        (":six", n("6.0")),
        (":abd", s("abd")),
        (":b", V::B(vec![1, 3])),
    ];
    for (e, want) in [
        ("a = :five", true),
        ("a <> :five", false),
        ("a < :six", true),
        ("a <= :five", true),
        ("a > :five", false),
        ("a >= :five", true),
        ("s < :abd", true),
        ("s > :abd", false),
        ("b < :b", true),
        (":six > a", true),
        // different types: never equal, never ordered
        ("a = :abd", false),
        ("a <> :abd", true),
        ("a < :abd", false),
        ("s >= :five", false),
    ] {
        assert_eq!(check(e, &v, &it), want, "{e}");
    }
}

#[test]
fn missing_attributes_compare_false_except_not_equal() {
    let it = item(&[]);
    let v = [(":v", n("1"))];
    assert!(!check("x = :v", &v, &it));
    assert!(!check("x < :v", &v, &it));
    assert!(check("x <> :v", &v, &it));
    assert!(!check("x BETWEEN :v AND :v", &v, &it));
    assert!(!check("x IN (:v)", &v, &it));
    let c = ctx(&[], &v)
        .parse_condition("attribute_not_exists(x) AND x <> :v")
        .unwrap();
    assert!(c.evaluate(None).unwrap());
}

#[test]
fn between_and_in() {
    let it = item(&[("a", n("5")), ("s", s("m"))]);
    let v = [
        (":1", n("1")),
        (":5", n("5")),
        (":9", n("9")),
        (":a", s("a")),
        (":z", s("z")),
    ];
    assert!(check("a BETWEEN :1 AND :9", &v, &it));
    assert!(check("a BETWEEN :5 AND :5", &v, &it));
    assert!(!check("a BETWEEN :1 AND :1", &v, &it));
    assert!(check("s BETWEEN :a AND :z", &v, &it));
    assert!(check("a IN (:1, :5)", &v, &it));
    assert!(!check("a IN (:1, :9, :a)", &v, &it));
}

#[test]
fn functions() {
    let it = item(&[
        ("s", s("hello")),
        ("b", V::B(vec![1, 2, 3])),
        ("tags", ss(&["x", "y"])),
        ("nums", ns(&["1", "2", "3"])),
        ("lst", l(vec![s("a"), n("1")])),
        ("mp", m(&[("k", s("v")), ("k2", V::Null)])),
        ("flg", V::Bool(true)),
        ("nil", V::Null),
        ("num", n("3")),
    ]);
    let v = [
        (":he", s("he")),
        (":ll", s("ll")),
        (":x", s("x")),
        (":q", s("q")),
        (":one", n("1")),
        (":b12", V::B(vec![1, 2])),
        (":a", s("a")),
        (":2", n("2")),
        (":3", n("3")),
        (":5", n("5")),
        (":S", s("S")),
        (":SS", s("SS")),
        (":BOOL", s("BOOL")),
        (":NULL", s("NULL")),
        (":M", s("M")),
        (":N", s("N")),
    ];
    for (e, want) in [
        ("attribute_exists(s)", true),
        ("attribute_exists(mp.k)", true),
        ("attribute_exists(mp.k2)", true),
        ("attribute_exists(mp.zz)", false),
        ("attribute_exists(lst[1])", true),
        ("attribute_exists(lst[2])", false),
        ("attribute_not_exists(zz)", true),
        ("attribute_not_exists(s)", false),
        ("attribute_type(s, :S)", true),
        ("attribute_type(tags, :SS)", true),
        ("attribute_type(flg, :BOOL)", true),
        ("attribute_type(nil, :NULL)", true),
        ("attribute_type(mp, :M)", true),
        ("attribute_type(s, :N)", false),
        ("attribute_type(zz, :S)", false),
        ("begins_with(s, :he)", true),
        ("begins_with(s, :ll)", false),
        ("begins_with(b, :b12)", true),
        ("begins_with(num, :he)", false),
        ("contains(s, :ll)", true),
        ("contains(tags, :x)", true),
        ("contains(tags, :q)", false),
        ("contains(nums, :one)", true),
        ("contains(lst, :a)", true),
        ("contains(lst, :one)", true),
        ("contains(lst, :x)", false),
        ("contains(num, :one)", false),
        ("size(s) = :5", true),
        ("size(b) = :3", true),
        ("size(tags) = :2", true),
        ("size(nums) = :3", true),
        ("size(lst) = :2", true),
        ("size(mp) = :2", true),
        ("size(num) = :one", false),
        ("size(zz) = :one", false),
        ("size(s) > size(lst)", true),
    ] {
        assert_eq!(check(e, &v, &it), want, "{e}");
    }
}

#[test]
fn precedence_not_and_or() {
    let t = [(":t", V::Bool(true)), (":f", V::Bool(false))];
    let it = item(&[("t", V::Bool(true))]);
    // a OR b AND c  ==  a OR (b AND c)
    assert!(check("t = :t OR t = :f AND t = :f", &t, &it));
    assert!(!check("(t = :t OR t = :f) AND t = :f", &t, &it));
    // NOT binds tighter than AND
    assert!(!check("NOT t = :t AND t = :t", &t, &it));
    assert!(check("NOT (t = :f AND t = :t)", &t, &it));
    assert!(check("NOT NOT t = :t", &t, &it));
    assert!(check("not t = :f and t = :f or t = :t", &t, &it));
    // structure
    let c = ctx(&[], &t)
        .parse_condition("t = :t OR t = :f AND t = :t")
        .unwrap();
    assert!(matches!(c, Condition::Or(_, ref r) if matches!(**r, Condition::And(..))));
    let c = ctx(&[], &t)
        .parse_condition("t = :t AND t = :f OR t = :t")
        .unwrap();
    assert!(matches!(c, Condition::Or(ref l, _) if matches!(**l, Condition::And(..))));
}

#[test]
fn keywords_are_case_insensitive_and_parentheses_work() {
    let v = [(":v", n("1"))];
    let it = item(&[("a", n("1"))]);
    assert!(check("a = :v and (a = :v or a = :v)", &v, &it));
    assert!(check("(a) = :v", &v, &it));
    assert!(check("a between :v and :v", &v, &it));
    assert!(check("a in (:v)", &v, &it));
    assert!(check("(a = :v)", &v, &it));
    assert!(check("((a = :v) AND (a = :v))", &v, &it));
}

#[test]
fn nested_paths_and_names() {
    let it = item(&[
        (
            "a",
            m(&[("b", l(vec![n("0"), n("1"), m(&[("c", s("deep"))])]))]),
        ),
        ("my status", s("x")),
    ]);
    let v = [(":d", s("deep")), (":x", s("x"))];
    let names = [("#a", "a"), ("#st", "my status")];
    let c = ctx(&names, &v)
        .parse_condition("#a.b[2].c = :d AND #st = :x")
        .unwrap();
    assert!(c.evaluate(Some(&it)).unwrap());
}

// ----- conditions: errors -----

#[test]
fn syntax_errors_name_the_token() {
    let v = [(":v", n("1"))];
    assert_eq!(
        cond_err("a = = :v", &[], &v),
        "Invalid ConditionExpression: Syntax error; token: \"=\", near: \"= =\""
    );
    assert_eq!(
        cond_err("foo", &[], &[]),
        "Invalid ConditionExpression: Syntax error; token: \"<EOF>\", near: \"foo\""
    );
    assert_eq!(
        cond_err("a = :v b", &[], &v),
        "Invalid ConditionExpression: Syntax error; token: \"b\", near: \":v b\""
    );
    assert_eq!(
        cond_err("a ! :v", &[], &v),
        "Invalid ConditionExpression: Syntax error; token: \"!\", near: \"a !\""
    );
    assert_eq!(
        cond_err("a = :v AND", &[], &v),
        "Invalid ConditionExpression: Syntax error; token: \"<EOF>\", near: \"AND\""
    );
    assert_eq!(
        cond_err("a[x] = :v", &[], &v),
        "Invalid ConditionExpression: Syntax error; token: \"x\", near: \"[x\""
    );
    assert_eq!(
        cond_err("(a = :v", &[], &v),
        "Invalid ConditionExpression: Syntax error; token: \"<EOF>\", near: \":v\""
    );
    assert!(cond_err("a + :v = :v", &[], &v).contains("token: \"+\""));
    let f = ctx(&[], &v).parse_filter("a = ").unwrap_err().to_string();
    assert_eq!(
        f,
        "Invalid FilterExpression: Syntax error; token: \"<EOF>\", near: \"=\""
    );
}

#[test]
fn empty_and_oversized_expressions() {
    assert_eq!(
        cond_err("  ", &[], &[]),
        "Invalid ConditionExpression: The expression can not be empty;"
    );
    let long = format!("a = :v{}", " ".repeat(MAX_EXPRESSION_BYTES));
    assert!(cond_err(&long, &[], &[])
        .starts_with("Invalid ConditionExpression: Expression size has exceeded"));
}

#[test]
fn placeholder_and_reserved_word_errors() {
    let v = [(":v", n("1"))];
    assert_eq!(
        cond_err("status = :v", &[], &v),
        "Invalid ConditionExpression: Attribute name is a reserved keyword; reserved keyword: status"
    );
    assert_eq!(
        cond_err("a.Size = :v", &[], &v),
        "Invalid ConditionExpression: Attribute name is a reserved keyword; reserved keyword: Size"
    );
    assert_eq!(
        cond_err("#n = :v", &[], &v),
        "Invalid ConditionExpression: An expression attribute name used in the document path is not defined; attribute name: #n"
    );
    assert_eq!(
        cond_err("a = :w", &[], &v),
        "Invalid ConditionExpression: An expression attribute value used in expression is not defined; attribute value: :w"
    );
    // a syntax error anywhere wins over a semantic error before it
    assert!(cond_err("status = :w AND", &[], &v).contains("Syntax error"));
    // reserved words are reported before undefined placeholders
    assert!(cond_err("#x = :w AND status = :v", &[], &v).contains("reserved keyword"));
}

#[test]
fn function_errors() {
    let v = [
        (":v", n("1")),
        (":s", s("x")),
        (":t", s("STRING")),
        (":S", s("S")),
    ];
    let e = |x: &str| cond_err(x, &[], &v);
    assert_eq!(
        e("foo(a)"),
        "Invalid ConditionExpression: Invalid function name; function: foo"
    );
    assert_eq!(
        e("SIZE(a) = :v"),
        "Invalid ConditionExpression: Invalid function name; function: SIZE"
    );
    assert_eq!(
        e("if_not_exists(a, :v) = :v"),
        "Invalid ConditionExpression: The function is not allowed in a condition expression; function: if_not_exists"
    );
    assert_eq!(
        e("attribute_exists(a, b)"),
        "Invalid ConditionExpression: Incorrect number of operands for operator or function; operator or function: attribute_exists, number of operands: 2"
    );
    assert_eq!(
        e("attribute_exists(:v)"),
        "Invalid ConditionExpression: Operator or function requires a document path; operator or function: attribute_exists"
    );
    assert_eq!(
        e("size(a)"),
        "Invalid ConditionExpression: The function is not allowed to be used this way in an expression; function: size"
    );
    assert_eq!(
        e("contains(a, :s) = :v"),
        "Invalid ConditionExpression: The function is not allowed to be used this way in an expression; function: contains"
    );
    assert_eq!(
        e("size(:v) > :v"),
        "Invalid ConditionExpression: Incorrect operand type for operator or function; operator or function: size, operand type: N"
    );
    assert_eq!(
        e("begins_with(a, :v)"),
        "Invalid ConditionExpression: Incorrect operand type for operator or function; operator or function: begins_with, operand type: N"
    );
    assert_eq!(
        e("attribute_type(a, :t)"),
        "Invalid ConditionExpression: Invalid attribute type name found; type: STRING, valid types: {B,NULL,SS,BOOL,L,BS,N,NS,S,M}"
    );
    assert_eq!(
        e("attribute_type(a, :v)"),
        "Invalid ConditionExpression: Incorrect operand type for operator or function; operator or function: attribute_type, operand type: N"
    );
    assert_eq!(
        e("a.b = a.b"),
        "Invalid ConditionExpression: The first operand must be distinct from the remaining operands for this operator or function; operator: =, first operand: [a, b]"
    );
    assert_eq!(
        e("((a = :v))"),
        "Invalid ConditionExpression: The expression has redundant parentheses;"
    );
    assert_eq!(
        e("((a)) = :v"),
        "Invalid ConditionExpression: The expression has redundant parentheses;"
    );
    assert_eq!(
        e("a BETWEEN :v AND :s"),
        "Invalid ConditionExpression: The BETWEEN operator requires same data type for lower and upper bounds; lower bound operand: AttributeValue: {N:1}, upper bound operand: AttributeValue: {S:x}"
    );
    assert_eq!(
        ctx(&[], &[(":a", n("2")), (":b", n("1"))]).parse_condition("a BETWEEN :a AND :b").unwrap_err().to_string(),
        "Invalid ConditionExpression: The BETWEEN operator requires upper bound to be greater than or equal to lower bound; lower bound operand: AttributeValue: {N:2}, upper bound operand: AttributeValue: {N:1}"
    );
    let many = format!("a IN ({})", vec![":v"; 101].join(", "));
    assert_eq!(
        e(&many),
        "Invalid ConditionExpression: The IN operator is provided with too many operands; number of operands: 101"
    );
    let deep = format!("attribute_exists(a{})", ".b".repeat(32));
    assert_eq!(e(&deep), "Invalid ConditionExpression: The document path has too many nesting levels; nesting levels: 33");
    let ok = format!("attribute_exists(a{})", ".b".repeat(31));
    assert!(ctx(&[], &[]).parse_condition(&ok).is_ok());
}

#[test]
fn unused_placeholders_are_rejected_by_finish() {
    let mut c = ctx(
        &[("#a", "a"), ("#b", "b")],
        &[(":v", n("1")), (":w", n("2")), (":x", n("3"))],
    );
    c.parse_condition("#a = :v").unwrap();
    assert_eq!(
        c.clone().finish().unwrap_err().to_string(),
        "Value provided in ExpressionAttributeNames unused in expressions: keys: {#b}"
    );
    c.parse_projection("#b").unwrap();
    assert_eq!(
        c.clone().finish().unwrap_err().to_string(),
        "Value provided in ExpressionAttributeValues unused in expressions: keys: {:w, :x}"
    );
    c.parse_update("SET q = :w ADD r :x").unwrap();
    c.finish().unwrap();
    // a failed parse does not count as a use
    let mut c = ctx(&[], &[(":v", n("1"))]);
    assert!(c.parse_condition("a = :v AND").is_err());
    assert!(c.finish().is_err());
}

// ----- updates -----

#[test]
fn set_with_arithmetic_if_not_exists_and_list_append() {
    let it = item(&[("n", n("10")), ("l", l(vec![n("1")])), ("s", s("x"))]);
    let v = [
        (":one", n("1")),
        (":l", l(vec![n("2")])),
        (":z", n("0")),
        (":half", n("0.5")),
    ];
    let out = apply(
        "SET n = n + :one, m = :one - n, l = list_append(l, :l), f = if_not_exists(f, :z) + :half, g = if_not_exists(n, :z), h = list_append(:l, l)",
        &v,
        &it,
    )
    .unwrap();
    assert_eq!(out["n"], n("11"));
    assert_eq!(out["m"], n("-9"));
    assert_eq!(out["l"], l(vec![n("1"), n("2")]));
    assert_eq!(out["f"], n("0.5"));
    assert_eq!(out["g"], n("10"));
    assert_eq!(out["h"], l(vec![n("2"), n("1")]));
    // operands read the item as it was: a swap works
    let out = apply(
        "SET a = b, b = a",
        &[],
        &item(&[("a", n("1")), ("b", n("2"))]),
    )
    .unwrap();
    assert_eq!((out["a"].clone(), out["b"].clone()), (n("2"), n("1")));
    // parentheses around the value
    assert_eq!(apply("SET n = (n + :one)", &v, &it).unwrap()["n"], n("11"));
}

#[test]
fn set_nested_paths() {
    let it = item(&[("m", m(&[("a", l(vec![n("0"), n("1")]))]))]);
    let v = [(":v", s("x"))];
    let out = apply("SET m.a[1] = :v, m.b = :v, m.a[7] = :v", &v, &it).unwrap();
    assert_eq!(
        out["m"],
        m(&[("a", l(vec![n("0"), s("x"), s("x")])), ("b", s("x"))])
    );
    assert_eq!(
        apply("SET zz.a = :v", &v, &it),
        Err(ExprError::InvalidDocumentPath)
    );
    assert_eq!(
        ExprError::InvalidDocumentPath.to_string(),
        "The document path provided in the update expression is invalid for update"
    );
}

#[test]
fn update_runtime_errors_leave_the_item_alone() {
    let it = item(&[("s", s("x")), ("n", n("1"))]);
    let v = [(":one", n("1")), (":l", l(vec![])), (":big", n("9E+125"))];
    let err = apply("SET a = b + :one", &v, &it).unwrap_err();
    assert_eq!(
        err.to_string(),
        "The provided expression refers to an attribute that does not exist in the item"
    );
    let err = apply("SET n = s + :one", &v, &it).unwrap_err();
    assert_eq!(
        err.to_string(),
        "An operand in the update expression has an incorrect data type"
    );
    assert_eq!(
        apply("SET n = list_append(s, :l)", &v, &it),
        Err(ExprError::IncorrectOperandType)
    );
    let err = apply("SET n = :big + :big", &v, &it).unwrap_err();
    assert!(err.to_string().starts_with("Number overflow"), "{err}");
    // an update may not nest values deeper than 32 levels
    let mut deep = s("x");
    for _ in 0..32 {
        deep = l(vec![deep]);
    }
    let err = apply("SET d = :deep", &[(":deep", l(vec![deep]))], &it).unwrap_err();
    assert!(
        err.to_string()
            .starts_with("Nesting Levels have exceeded supported limits"),
        "{err}"
    );
    let mut copy = it.clone();
    let u = ctx(&[], &v).parse_update("SET n = :one, q = zz").unwrap();
    assert!(u.apply(&mut copy).is_err());
    assert_eq!(copy, it);
}

#[test]
fn remove_including_list_elements() {
    let it = item(&[
        ("l", l(vec![n("0"), n("1"), n("2"), n("3")])),
        ("a", n("1")),
        ("m", m(&[("x", n("1"))])),
    ]);
    let out = apply("REMOVE l[1], l[2], a, m.x, nothere, m.y", &[], &it).unwrap();
    assert_eq!(out["l"], l(vec![n("0"), n("3")]));
    assert!(!out.contains_key("a"));
    assert_eq!(out["m"], m(&[]));
    let out = apply("REMOVE l[0]", &[], &it).unwrap();
    assert_eq!(out["l"], l(vec![n("1"), n("2"), n("3")]));
}

#[test]
fn add_and_delete() {
    let it = item(&[
        ("n", n("5")),
        ("tags", ss(&["a", "b"])),
        ("nums", ns(&["1"])),
        ("s", s("x")),
    ]);
    let v = [
        (":two", n("2")),
        (":tags", ss(&["b", "c"])),
        (":nums", ns(&["2"])),
        (":ab", ss(&["a", "b", "z"])),
        (":a", ss(&["a"])),
    ];
    let out = apply(
        "ADD n :two, tags :tags, newn :two, newset :nums, nums :nums",
        &v,
        &it,
    )
    .unwrap();
    assert_eq!(out["n"], n("7"));
    assert_eq!(out["tags"], ss(&["a", "b", "c"]));
    assert_eq!(out["newn"], n("2"));
    assert_eq!(out["newset"], ns(&["2"]));
    assert_eq!(out["nums"], ns(&["1", "2"]));
    let out = apply("DELETE tags :a, absent :a", &v, &it).unwrap();
    assert_eq!(out["tags"], ss(&["b"]));
    assert!(!out.contains_key("absent"));
    // emptying a set removes the attribute
    let out = apply("DELETE tags :ab", &v, &it).unwrap();
    assert!(!out.contains_key("tags"));
    // type mismatches
    assert_eq!(
        apply("ADD tags :nums", &v, &it),
        Err(ExprError::IncorrectOperandType)
    );
    assert_eq!(
        apply("ADD s :two", &v, &it),
        Err(ExprError::IncorrectOperandType)
    );
    assert_eq!(
        apply("DELETE nums :a", &v, &it),
        Err(ExprError::IncorrectOperandType)
    );
    assert_eq!(
        apply("ADD m.x :two", &v, &it),
        Err(ExprError::InvalidDocumentPath)
    );
}

#[test]
fn update_parse_errors() {
    let v = [(":v", n("1")), (":s", s("x")), (":l", l(vec![]))];
    assert_eq!(
        update_err("SET a = :v SET b = :v", &[], &v),
        "Invalid UpdateExpression: The \"SET\" section can only be used once in an update expression;"
    );
    assert_eq!(
        update_err("SET a = :v REMOVE a", &[], &v),
        "Invalid UpdateExpression: Two document paths overlap with each other; must remove or rewrite one of these paths; path one: [a], path two: [a]"
    );
    assert_eq!(
        update_err("SET a.b = :v, a.b.c = :v", &[], &v),
        "Invalid UpdateExpression: Two document paths overlap with each other; must remove or rewrite one of these paths; path one: [a, b], path two: [a, b, c]"
    );
    assert_eq!(
        update_err("SET a[1] = :v, a.b = :v", &[], &v),
        "Invalid UpdateExpression: Two document paths conflict with each other; must remove or rewrite one of these paths; path one: [a, [1]], path two: [a, b]"
    );
    assert!(ctx(&[], &v)
        .parse_update("SET a[1] = :v, a[2] = :v")
        .is_ok());
    assert_eq!(
        update_err("SET status = :v", &[], &v),
        "Invalid UpdateExpression: Attribute name is a reserved keyword; reserved keyword: status"
    );
    assert_eq!(
        update_err("SET a = :w", &[], &v),
        "Invalid UpdateExpression: An expression attribute value used in expression is not defined; attribute value: :w"
    );
    assert_eq!(
        update_err("ADD a :s", &[], &v),
        "Invalid UpdateExpression: Incorrect operand type for operator or function; operator: ADD, operand type: STRING"
    );
    assert_eq!(
        update_err("DELETE a :v", &[], &v),
        "Invalid UpdateExpression: Incorrect operand type for operator or function; operator: DELETE, operand type: NUMBER"
    );
    assert_eq!(
        update_err("SET a = :s + :v", &[], &v),
        "Invalid UpdateExpression: Incorrect operand type for operator or function; operator or function: +, operand type: S"
    );
    assert_eq!(
        update_err("SET a = list_append(:v, :l)", &[], &v),
        "Invalid UpdateExpression: Incorrect operand type for operator or function; operator or function: list_append, operand type: N"
    );
    assert_eq!(
        update_err("SET a = size(b)", &[], &v),
        "Invalid UpdateExpression: The function is not allowed in an update expression; function: size"
    );
    assert_eq!(
        update_err("SET a = foo(b)", &[], &v),
        "Invalid UpdateExpression: Invalid function name; function: foo"
    );
    assert_eq!(
        update_err("SET a = if_not_exists(:v, :v)", &[], &v),
        "Invalid UpdateExpression: Operator or function requires a document path; operator or function: if_not_exists"
    );
    assert_eq!(
        update_err("SET a = list_append(:l)", &[], &v),
        "Invalid UpdateExpression: Incorrect number of operands for operator or function; operator or function: list_append, number of operands: 1"
    );
    assert_eq!(
        update_err("SET path = VALUE 1", &[], &v),
        "Invalid UpdateExpression: Syntax error; token: \"1\", near: \"VALUE 1\""
    );
    assert_eq!(
        update_err("UPDATE a = :v", &[], &v),
        "Invalid UpdateExpression: Syntax error; token: \"UPDATE\", near: \"UPDATE\""
    );
    assert_eq!(
        update_err("SET a = :v,", &[], &v),
        "Invalid UpdateExpression: Syntax error; token: \"<EOF>\", near: \",\""
    );
    assert!(update_err("REMOVE a :v", &[], &v).contains("Syntax error; token: \":v\""));
    assert!(update_err("SET a = b + c + d", &[], &v).contains("Syntax error; token: \"+\""));
    assert!(update_err("SET a = :v AND b = :v", &[], &v).contains("Syntax error"));
}

#[test]
fn update_clauses_case_insensitive_and_top_level_attributes() {
    let v = [(":v", n("1")), (":s", ss(&["a"]))];
    let u = ctx(&[("#k", "pk")], &v)
        .parse_update("set a.b = :v remove c[1] add #k :v delete d :s")
        .unwrap();
    let tops: Vec<String> = u.top_level_attributes().into_iter().collect();
    assert_eq!(tops, vec!["a", "c", "d", "pk"]);
}

// ----- projections -----

#[test]
fn projections() {
    let it = item(&[
        ("a", m(&[("b", n("1")), ("c", n("2"))])),
        ("l", l(vec![n("0"), n("1"), n("2"), n("3")])),
        ("x", s("x")),
        ("deep", l(vec![m(&[("k", n("1")), ("j", n("2"))])])),
    ]);
    let p = ctx(&[("#x", "x")], &[])
        .parse_projection("a.b, l[3], l[1], #x, nope, deep[0].k, a.zz")
        .unwrap();
    let out = p.apply(&it);
    assert_eq!(
        out,
        item(&[
            ("a", m(&[("b", n("1"))])),
            ("l", l(vec![n("1"), n("3")])),
            ("x", s("x")),
            ("deep", l(vec![m(&[("k", n("1"))])])),
        ])
    );
    let err = |e: &str| ctx(&[], &[]).parse_projection(e).unwrap_err().to_string();
    assert_eq!(
        err("#n"),
        "Invalid ProjectionExpression: An expression attribute name used in the document path is not defined; attribute name: #n"
    );
    assert_eq!(err("a, a.b"), "Invalid ProjectionExpression: Two document paths overlap with each other; must remove or rewrite one of these paths; path one: [a], path two: [a, b]");
    assert_eq!(err("name"), "Invalid ProjectionExpression: Attribute name is a reserved keyword; reserved keyword: name");
    assert_eq!(
        err("a,"),
        "Invalid ProjectionExpression: Syntax error; token: \"<EOF>\", near: \",\""
    );
}

// ----- key conditions -----

#[test]
fn key_condition_expressions() {
    let v = [
        (":h", s("u1")),
        (":a", n("1")),
        (":b", n("5")),
        (":p", s("pre")),
    ];
    let kc = |e: &str| ctx(&[], &v).parse_key_condition(e, "pk", Some("sk"));
    assert_eq!(
        kc("pk = :h").unwrap(),
        KeyCondition {
            hash_value: s("u1"),
            range: None
        }
    );
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

// ----- legacy parameters -----

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
        KeyCondition {
            hash_value: s("u"),
            range: Some(RangeCondition::BeginsWith(s("a")))
        }
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

// ----- properties -----

mod properties {
    use super::*;
    use proptest::prelude::*;

    fn values() -> HashMap<String, V> {
        [
            (":a", n("1")),
            (":b", s("x")),
            (":c", ss(&["q"])),
            (":d", l(vec![])),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect()
    }

    fn context() -> ExprContext {
        ExprContext::new(
            HashMap::from([("#n".to_string(), "name".to_string())]),
            values(),
        )
    }

    const TOKENS: &[&str] = &[
        "a",
        "b",
        "#n",
        "#zz",
        ":a",
        ":b",
        ":c",
        ":d",
        ":zz",
        "=",
        "<>",
        "<",
        "<=",
        ">",
        ">=",
        "(",
        ")",
        "[",
        "]",
        "0",
        "1",
        "99999999999",
        ",",
        ".",
        "+",
        "-",
        "AND",
        "OR",
        "NOT",
        "BETWEEN",
        "IN",
        "SET",
        "REMOVE",
        "ADD",
        "DELETE",
        "size",
        "contains",
        "begins_with",
        "attribute_exists",
        "attribute_type",
        "if_not_exists",
        "list_append",
        "status",
        "!",
        "é",
        "#",
        ":",
    ];

    fn soup() -> impl Strategy<Value = String> {
        prop::collection::vec(prop::sample::select(TOKENS), 0..24).prop_map(|t| t.join(" "))
    }

    fn parse_all(src: &str) {
        let mut c = context();
        let _ = c.parse_condition(src);
        let _ = c.parse_update(src);
        let _ = c.parse_projection(src);
        let _ = c.parse_key_condition(src, "a", Some("b"));
        let _ = c.finish();
    }

    fn path() -> impl Strategy<Value = Path> {
        (
            prop::sample::select(vec!["a", "b", "c", "x1"]),
            prop::collection::vec(
                prop_oneof![
                    prop::sample::select(vec!["d", "e"])
                        .prop_map(|s| PathElem::Attr(s.to_string())),
                    (0usize..5).prop_map(PathElem::Index)
                ],
                0..3,
            ),
        )
            .prop_map(|(first, rest)| {
                let mut v = vec![PathElem::Attr(first.to_string())];
                v.extend(rest);
                Path(v)
            })
    }

    fn value() -> impl Strategy<Value = ValueRef> {
        prop::sample::select(vec![":a", ":b", ":c", ":d"]).prop_map(|name| ValueRef {
            name: name.to_string(),
            value: values()[name].clone(),
        })
    }

    fn operand() -> impl Strategy<Value = Operand> {
        prop_oneof![
            path().prop_map(Operand::Path),
            value().prop_map(Operand::Value),
            path().prop_map(Operand::Size)
        ]
    }

    fn leaf() -> impl Strategy<Value = Condition> {
        let cmp = prop::sample::select(vec![
            CmpOp::Eq,
            CmpOp::Ne,
            CmpOp::Lt,
            CmpOp::Le,
            CmpOp::Gt,
            CmpOp::Ge,
        ]);
        prop_oneof![
            (cmp, operand(), operand()).prop_map(|(o, a, b)| Condition::Compare(o, a, b)),
            (operand(), operand(), operand()).prop_map(|(a, b, c)| Condition::Between(a, b, c)),
            (operand(), prop::collection::vec(operand(), 1..4))
                .prop_map(|(a, l)| Condition::In(a, l)),
            path().prop_map(Condition::AttributeExists),
            path().prop_map(Condition::AttributeNotExists),
            (operand(), operand()).prop_map(|(a, b)| Condition::Contains(a, b)),
        ]
    }

    fn condition() -> impl Strategy<Value = Condition> {
        leaf().prop_recursive(4, 24, 2, |inner| {
            prop_oneof![
                (inner.clone(), inner.clone())
                    .prop_map(|(a, b)| Condition::And(Box::new(a), Box::new(b))),
                (inner.clone(), inner.clone())
                    .prop_map(|(a, b)| Condition::Or(Box::new(a), Box::new(b))),
                inner.prop_map(|a| Condition::Not(Box::new(a))),
            ]
        })
    }

    fn update_operand() -> impl Strategy<Value = UpdateOperand> {
        let base = prop_oneof![
            path().prop_map(UpdateOperand::Path),
            value().prop_map(UpdateOperand::Value)
        ];
        base.prop_recursive(2, 6, 2, |inner| {
            prop_oneof![
                (path(), inner.clone())
                    .prop_map(|(p, v)| UpdateOperand::IfNotExists(p, Box::new(v))),
                (inner.clone(), inner)
                    .prop_map(|(a, b)| UpdateOperand::ListAppend(Box::new(a), Box::new(b))),
            ]
        })
    }

    fn update() -> impl Strategy<Value = UpdateExpr> {
        let set_value = prop_oneof![
            update_operand().prop_map(SetValue::Operand),
            (update_operand(), update_operand()).prop_map(|(a, b)| SetValue::Plus(a, b)),
            (update_operand(), update_operand()).prop_map(|(a, b)| SetValue::Minus(a, b)),
        ];
        (
            prop::collection::vec((path(), set_value), 0..3),
            prop::collection::vec(path(), 0..3),
            prop::collection::vec((path(), value()), 0..2),
            prop::collection::vec((path(), value()), 0..2),
        )
            .prop_map(|(set, remove, add, delete)| UpdateExpr {
                set,
                remove,
                add,
                delete,
            })
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 256, failure_persistence: None, ..ProptestConfig::default() })]

        #[test]
        fn never_panics_on_arbitrary_text(src in "\\PC{0,64}") {
            parse_all(&src);
        }

        #[test]
        fn never_panics_on_token_soup(src in soup()) {
            parse_all(&src);
        }

        #[test]
        fn printed_conditions_parse_back(c in condition()) {
            let text = c.to_string();
            // semantic checks (types, distinct operands...) may reject a random tree; when the
            // parser accepts the text, it must give the same tree back
            if let Ok(parsed) = context().parse_condition(&text) {
                prop_assert_eq!(parsed, c, "{}", text);
            } else {
                let err = context().parse_condition(&text).unwrap_err().to_string();
                prop_assert!(!err.contains("Syntax error"), "{} -> {}", text, err);
            }
        }

        #[test]
        fn printed_updates_parse_back(u in update()) {
            prop_assume!(!u.set.is_empty() || !u.remove.is_empty() || !u.add.is_empty() || !u.delete.is_empty());
            let text = u.to_string();
            match context().parse_update(&text) {
                Ok(parsed) => prop_assert_eq!(parsed, u, "{}", text),
                Err(e) => prop_assert!(!e.to_string().contains("Syntax error"), "{} -> {}", text, e),
            }
        }

        #[test]
        fn printed_projections_parse_back(paths in prop::collection::vec(path(), 1..5)) {
            let p = Projection { paths };
            let text = p.to_string();
            match context().parse_projection(&text) {
                Ok(parsed) => prop_assert_eq!(parsed, p, "{}", text),
                Err(e) => prop_assert!(e.to_string().contains("Two document paths"), "{} -> {}", text, e),
            }
        }

        #[test]
        fn evaluation_never_panics(c in condition(), u in update()) {
            let it = item(&[("a", l(vec![n("1"), m(&[("d", s("x"))])])), ("b", s("xy")), ("c", ss(&["q"]))]);
            let _ = c.evaluate(Some(&it));
            let _ = c.evaluate(None);
            let mut copy = it.clone();
            let _ = u.apply(&mut copy);
        }
    }

    #[test]
    fn deep_nesting_is_an_error_not_a_stack_overflow() {
        let mut c = context();
        let src = format!("{}a = :a{}", "(".repeat(2000), ")".repeat(2000));
        assert!(c.parse_condition(&src).is_err());
        let src = format!("{}a = :a", "NOT ".repeat(1000));
        assert!(c.parse_condition(&src).is_err());
    }
}
