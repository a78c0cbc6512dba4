//! Conditions: what they evaluate to, and the errors DynamoDB reports for bad ones.

use super::*;

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
