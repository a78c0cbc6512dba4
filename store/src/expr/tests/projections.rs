//! Projection expressions.

use super::*;

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
