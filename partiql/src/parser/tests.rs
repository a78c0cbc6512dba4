//! Parser tests: each statement kind, DynamoDB's dialect (`"Table"."Index"`, `VALUE {...}`,
//! `?`, `<<...>>`, RETURNING), precedence, and refusals.

use super::*;

fn p(path: &str) -> Path {
    Path(
        path.split('.')
            .map(|s| PathElem::Attr(s.to_string()))
            .collect(),
    )
}

fn path(s: &str) -> Box<Expr> {
    Box::new(Expr::Path(p(s)))
}

fn s(v: &str) -> Box<Expr> {
    Box::new(Expr::Lit(Literal::Str(v.into())))
}

fn n(v: &str) -> Box<Expr> {
    Box::new(Expr::Lit(Literal::Num(v.into())))
}

#[test]
fn select_from_an_index_with_key_conditions_and_order() {
    let stmt = parse(
        r#"select a, "b c".d[2] FROM "My-Table"."by-date" WHERE pk = ? AND sk BETWEEN 1 AND 5 ORDER BY sk DESC"#,
    )
    .unwrap();
    let Statement::Select(sel) = stmt else {
        panic!("not a select")
    };
    assert_eq!(
        sel.projection,
        Some(vec![
            p("a"),
            Path(vec![
                PathElem::Attr("b c".into()),
                PathElem::Attr("d".into()),
                PathElem::Index(2)
            ])
        ])
    );
    assert_eq!(
        sel.from,
        Target {
            table: "My-Table".into(),
            index: Some("by-date".into())
        }
    );
    assert_eq!(
        sel.filter,
        Some(Expr::And(
            Box::new(Expr::Cmp(CmpOp::Eq, path("pk"), Box::new(Expr::Param(0)))),
            Box::new(Expr::Between(path("sk"), n("1"), n("5")))
        ))
    );
    assert_eq!(sel.order_by, Some((p("sk"), true)));
}

#[test]
fn select_star_without_where() {
    let Statement::Select(sel) = parse("SELECT * FROM t").unwrap() else {
        panic!()
    };
    assert_eq!(sel.projection, None);
    assert_eq!(sel.filter, None);
    assert_eq!(sel.from.index, None);
}

#[test]
fn insert_value_tuple_with_nested_values_and_parameters() {
    let stmt = parse(
        r#"INSERT INTO "T" VALUE {'pk': ?, 'n': -1.5, 'l': [1, 'x', TRUE, NULL], 'm': {'a': <<'x', 'y'>>}}"#,
    )
    .unwrap();
    let Statement::Insert(ins) = stmt else {
        panic!()
    };
    assert_eq!(ins.table, "T");
    assert_eq!(
        ins.value,
        Expr::Tuple(vec![
            ("pk".into(), Expr::Param(0)),
            ("n".into(), *n("-1.5")),
            (
                "l".into(),
                Expr::List(vec![
                    *n("1"),
                    *s("x"),
                    Expr::Lit(Literal::Bool(true)),
                    Expr::Lit(Literal::Null)
                ])
            ),
            (
                "m".into(),
                Expr::Tuple(vec![("a".into(), Expr::Set(vec![*s("x"), *s("y")]))])
            ),
        ])
    );
}

#[test]
fn update_with_set_remove_functions_and_returning() {
    let stmt = parse(
        "UPDATE T SET a = a + 1, b = list_append(b, [2]) SET c = set_add(c, <<'z'>>) REMOVE d, e[1] WHERE pk = 'k' AND x > 3 RETURNING MODIFIED NEW *",
    )
    .unwrap();
    let Statement::Update(up) = stmt else {
        panic!()
    };
    assert_eq!(up.actions.len(), 5);
    assert_eq!(
        up.actions[0],
        UpdateAction::Set(p("a"), Expr::Add(path("a"), n("1")))
    );
    assert_eq!(
        up.actions[1],
        UpdateAction::Set(
            p("b"),
            Expr::Call(
                "list_append".into(),
                vec![*path("b"), Expr::List(vec![*n("2")])]
            )
        )
    );
    assert_eq!(
        up.actions[4],
        UpdateAction::Remove(Path(vec![PathElem::Attr("e".into()), PathElem::Index(1)]))
    );
    assert_eq!(up.returning, Some(Returning::ModifiedNew));
}

#[test]
fn delete_with_returning() {
    let Statement::Delete(del) = parse("DELETE FROM T WHERE pk = 'a' RETURNING ALL OLD *").unwrap()
    else {
        panic!()
    };
    assert_eq!(del.returning, Some(Returning::AllOld));
    assert_eq!(del.filter, Some(Expr::Cmp(CmpOp::Eq, path("pk"), s("a"))));
}

#[test]
fn or_binds_looser_than_and_and_not_in_is() {
    let Statement::Select(sel) = parse(
        "SELECT * FROM t WHERE a = 1 OR b = 2 AND NOT c IN [1, 2] AND d IS NOT MISSING AND e NOT BETWEEN 1 AND 2",
    )
    .unwrap() else {
        panic!()
    };
    let Some(Expr::Or(left, right)) = sel.filter else {
        panic!("OR is the root")
    };
    assert_eq!(*left, Expr::Cmp(CmpOp::Eq, path("a"), n("1")));
    let Expr::And(rest, between) = *right else {
        panic!()
    };
    assert_eq!(
        *between,
        Expr::Not(Box::new(Expr::Between(path("e"), n("1"), n("2"))))
    );
    let Expr::And(rest, missing) = *rest else {
        panic!()
    };
    assert_eq!(*missing, Expr::IsMissing(path("d"), true));
    let Expr::And(_, not_in) = *rest else {
        panic!()
    };
    assert_eq!(
        *not_in,
        Expr::Not(Box::new(Expr::In(path("c"), vec![*n("1"), *n("2")])))
    );
}

#[test]
fn parameters_are_numbered_in_order() {
    let Statement::Select(sel) = parse("SELECT * FROM t WHERE a = ? AND b IN (?, ?)").unwrap()
    else {
        panic!()
    };
    assert_eq!(
        sel.filter,
        Some(Expr::And(
            Box::new(Expr::Cmp(CmpOp::Eq, path("a"), Box::new(Expr::Param(0)))),
            Box::new(Expr::In(path("b"), vec![Expr::Param(1), Expr::Param(2)]))
        ))
    );
}

#[test]
fn malformed_statements_are_refused_with_dynamodbs_prefix() {
    for bad in [
        "",
        "SELEC * FROM t",
        "SELECT * FROM",
        "SELECT * FROM t WHERE",
        "SELECT * FROM t WHERE a =",
        "INSERT INTO t {'a': 1}",
        "UPDATE t WHERE a = 1",
        "DELETE t WHERE a = 1",
        "SELECT * FROM t extra",
        "SELECT * FROM t WHERE a = 'unterminated",
        "UPDATE t SET a = 1 RETURNING ALL *",
    ] {
        let err = parse(bad).unwrap_err();
        assert!(
            err.to_string()
                .starts_with("Statement wasn't well formed, can't be processed: "),
            "{bad}: {err}"
        );
    }
}

#[test]
fn keywords_are_case_insensitive_and_quoted_keywords_are_names() {
    let Statement::Select(sel) = parse(r#"sElEcT "select" fRoM "from" wHeRe "where" = 1"#).unwrap()
    else {
        panic!()
    };
    assert_eq!(sel.projection, Some(vec![p("select")]));
    assert_eq!(sel.from.table, "from");
    assert_eq!(
        sel.filter,
        Some(Expr::Cmp(CmpOp::Eq, path("where"), n("1")))
    );
}

#[test]
fn deep_nesting_and_long_chains_are_refused_not_overflowed() {
    for bad in [
        format!("SELECT * FROM t WHERE {}a = 1", "(".repeat(4000)),
        format!("SELECT * FROM t WHERE {}a = 1", "NOT ".repeat(2000)),
        format!("INSERT INTO t VALUE {{'a': {}", "[".repeat(4000)),
        format!("SELECT * FROM t WHERE a = 1{}", " AND a = 1".repeat(400)),
    ] {
        let err = parse(&bad).unwrap_err();
        assert!(matches!(err, PartiqlError::Syntax(_)), "{err}");
    }
    // within the bounds
    parse(&format!(
        "SELECT * FROM t WHERE {}a = 1{}",
        "(".repeat(30),
        ")".repeat(30)
    ))
    .unwrap();
    parse(&format!(
        "SELECT * FROM t WHERE a = 1{}",
        " AND a = 1".repeat(100)
    ))
    .unwrap();
}
