//! Fuzz target: the expression parser. The input is split into an expression and the names of
//! a few placeholders; each kind of expression (condition, filter, update, projection, key
//! condition) is parsed, and what parses is evaluated or applied to a small item. No input may
//! panic or overflow the stack.
#![no_main]

use std::collections::{BTreeMap, HashMap};

use libfuzzer_sys::fuzz_target;
use tarn_store::expr::ExprContext;
use tarn_store::{AttributeValue, Item, Number};

fn context() -> ExprContext {
    let names = HashMap::from([
        ("#a".to_string(), "a".to_string()),
        ("#b".to_string(), "b".to_string()),
        ("#pk".to_string(), "pk".to_string()),
    ]);
    let values = HashMap::from([
        (":n".to_string(), AttributeValue::N(Number::from_i64(7))),
        (":s".to_string(), AttributeValue::S("x".into())),
        (
            ":l".to_string(),
            AttributeValue::L(vec![AttributeValue::Bool(true)]),
        ),
        (
            ":ss".to_string(),
            AttributeValue::Ss(vec!["a".into(), "b".into()]),
        ),
    ]);
    ExprContext::new(names, values)
}

fn item() -> Item {
    let mut m = BTreeMap::new();
    m.insert("b".to_string(), AttributeValue::N(Number::from_i64(1)));
    Item::from([
        ("pk".to_string(), AttributeValue::S("key".into())),
        ("a".to_string(), AttributeValue::N(Number::from_i64(3))),
        ("m".to_string(), AttributeValue::M(m)),
        (
            "l".to_string(),
            AttributeValue::L(vec![AttributeValue::S("z".into()), AttributeValue::Null]),
        ),
    ])
}

fuzz_target!(|data: &[u8]| {
    let Ok(expr) = std::str::from_utf8(data) else {
        return;
    };
    let base = item();
    if let Ok(c) = context().parse_condition(expr) {
        let _ = c.evaluate(Some(&base));
        let _ = c.evaluate(None);
    }
    if let Ok(c) = context().parse_filter(expr) {
        let _ = c.evaluate(Some(&base));
    }
    if let Ok(u) = context().parse_update(expr) {
        let mut it = base.clone();
        let _ = u.apply(&mut it);
    }
    if let Ok(p) = context().parse_projection(expr) {
        let _ = p.apply(&base);
    }
    if let Ok(k) = context().parse_key_condition(expr, "pk", Some("a")) {
        let _ = k;
    }
    let mut ctx = context();
    let _ = ctx.parse_condition(expr);
    let _ = ctx.finish();
});
