//! Tests of the expression language through its public API, one file per kind of
//! expression: parsing, DynamoDB's error messages and semantics of conditions, updates,
//! projections, key conditions and the legacy parameters, plus property tests that the parser
//! never panics and that printed trees parse back to themselves. The helpers they share are
//! here.

mod conditions;
mod key_conditions;
mod legacy;
mod projections;
mod properties;
mod updates;

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
