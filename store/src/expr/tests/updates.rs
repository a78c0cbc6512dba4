//! Update expressions: what they do to an item, and their errors.

use super::*;

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
    // type mismatches, in DynamoDB's words
    let mismatch = |action, operand, existing| {
        Err(ExprError::TypeMismatch {
            action,
            operand,
            existing,
        })
    };
    assert_eq!(
        apply("ADD tags :nums", &v, &it),
        mismatch("ADD", "NS", "SS")
    );
    assert_eq!(apply("ADD s :two", &v, &it), mismatch("ADD", "N", "S"));
    assert_eq!(
        apply("DELETE nums :a", &v, &it),
        mismatch("DELETE", "SS", "NS")
    );
    assert_eq!(
        apply("ADD tags :nums", &v, &it).unwrap_err().to_string(),
        "Type mismatch for ADD; operator type: NS, existing type: SS"
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
