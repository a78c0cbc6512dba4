//! Reading a `WHERE` clause: its conjuncts, which of them are key conditions, and which
//! attributes they mention.

use tarn_store::expr::{CmpOp, Path, PathElem};

use crate::ast::Expr;

/// The conjuncts of a `WHERE` clause (its top-level `AND`s flattened).
pub(super) fn conjuncts(e: &Expr) -> Vec<&Expr> {
    match e {
        Expr::And(a, b) => {
            let mut out = conjuncts(a);
            out.extend(conjuncts(b));
            out
        }
        other => vec![other],
    }
}

fn is_attr(e: &Expr, name: &str) -> bool {
    matches!(e, Expr::Path(Path(p)) if p.len() == 1 && p[0] == PathElem::Attr(name.to_string()))
}

pub(super) fn is_constant(e: &Expr) -> bool {
    match e {
        Expr::Lit(_) | Expr::Param(_) => true,
        Expr::List(l) | Expr::Set(l) => l.iter().all(is_constant),
        Expr::Tuple(f) => f.iter().all(|(_, e)| is_constant(e)),
        _ => false,
    }
}

/// The constant `c` in `name = c` (or `c = name`).
pub(super) fn equality<'e>(e: &'e Expr, name: &str) -> Option<&'e Expr> {
    match e {
        Expr::Cmp(CmpOp::Eq, a, b) if is_attr(a, name) && is_constant(b) => Some(b),
        Expr::Cmp(CmpOp::Eq, a, b) if is_attr(b, name) && is_constant(a) => Some(a),
        _ => None,
    }
}

/// Whether a conjunct is a condition on the sort key a KeyConditionExpression can hold.
pub(super) fn is_range_condition(e: &Expr, name: &str) -> bool {
    match e {
        Expr::Cmp(op, a, b) if *op != CmpOp::Ne => {
            (is_attr(a, name) && is_constant(b)) || (is_attr(b, name) && is_constant(a))
        }
        Expr::Between(a, lo, hi) => is_attr(a, name) && is_constant(lo) && is_constant(hi),
        Expr::Call(f, args) if f == "begins_with" && args.len() == 2 => {
            is_attr(&args[0], name) && is_constant(&args[1])
        }
        _ => false,
    }
}

/// Whether an expression reads the top-level attribute `name` anywhere.
pub(super) fn mentions(e: &Expr, name: &str) -> bool {
    match e {
        Expr::Path(p) => p.top() == name,
        Expr::Lit(_) | Expr::Param(_) => false,
        Expr::List(l) | Expr::Set(l) | Expr::Call(_, l) => l.iter().any(|e| mentions(e, name)),
        Expr::Tuple(f) => f.iter().any(|(_, e)| mentions(e, name)),
        Expr::Cmp(_, a, b)
        | Expr::And(a, b)
        | Expr::Or(a, b)
        | Expr::Add(a, b)
        | Expr::Sub(a, b) => mentions(a, name) || mentions(b, name),
        Expr::Between(a, b, c) => mentions(a, name) || mentions(b, name) || mentions(c, name),
        Expr::In(a, l) => mentions(a, name) || l.iter().any(|e| mentions(e, name)),
        Expr::IsMissing(a, _) | Expr::IsNull(a, _) | Expr::Not(a) => mentions(a, name),
    }
}
