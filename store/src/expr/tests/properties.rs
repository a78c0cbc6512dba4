//! Property tests: the parser never panics, and printed trees parse back to themselves.

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
                prop::sample::select(vec!["d", "e"]).prop_map(|s| PathElem::Attr(s.to_string())),
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
        (operand(), prop::collection::vec(operand(), 1..4)).prop_map(|(a, l)| Condition::In(a, l)),
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
            (path(), inner.clone()).prop_map(|(p, v)| UpdateOperand::IfNotExists(p, Box::new(v))),
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
