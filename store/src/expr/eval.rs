//! Evaluating conditions (ConditionExpression, FilterExpression) against an item.
//!
//! DynamoDB's semantics: a path the item lacks yields no value, and any comparison with no
//! value is false (except `<>`, which holds). Values of different types are never equal and never
//! ordered, so `a < :v` with a string `a` and a number `:v` is false, not an error. Ordering is
//! defined for S (by UTF-8 bytes), N (numerically) and B (by bytes) only. `size` counts
//! characters of a string, bytes of a binary, members of a set, entries of a map or list; it
//! yields nothing for other types.

use std::borrow::Cow;
use std::cmp::Ordering;

use super::ast::{CmpOp, Condition, Operand};
use super::error::ExprError;
use super::path::resolve;
use crate::value::{AttributeValue, Item, Number};

/// Orders two values of the same scalar type (S, N or B); `None` for anything else.
pub fn compare_values(a: &AttributeValue, b: &AttributeValue) -> Option<Ordering> {
    match (a, b) {
        (AttributeValue::S(x), AttributeValue::S(y)) => Some(x.as_bytes().cmp(y.as_bytes())),
        (AttributeValue::N(x), AttributeValue::N(y)) => Some(x.cmp(y)),
        (AttributeValue::B(x), AttributeValue::B(y)) => Some(x.cmp(y)),
        _ => None,
    }
}

/// Whether `v` starts with `prefix` (both strings or both binaries).
pub fn begins_with(v: &AttributeValue, prefix: &AttributeValue) -> bool {
    match (v, prefix) {
        (AttributeValue::S(x), AttributeValue::S(y)) => x.starts_with(y.as_str()),
        (AttributeValue::B(x), AttributeValue::B(y)) => x.starts_with(y),
        _ => false,
    }
}

/// DynamoDB's `contains`: substring of a string, member of a set, element of a list.
pub fn contains(haystack: &AttributeValue, needle: &AttributeValue) -> bool {
    match (haystack, needle) {
        (AttributeValue::S(x), AttributeValue::S(y)) => x.contains(y.as_str()),
        (AttributeValue::B(x), AttributeValue::B(y)) => {
            y.is_empty() || x.windows(y.len()).any(|w| w == &y[..])
        }
        (AttributeValue::Ss(set), AttributeValue::S(y)) => set.contains(y),
        (AttributeValue::Ns(set), AttributeValue::N(y)) => set.contains(y),
        (AttributeValue::Bs(set), AttributeValue::B(y)) => set.contains(y),
        (AttributeValue::L(list), y) => list.contains(y),
        _ => false,
    }
}

/// DynamoDB's `size`, or `None` for types it does not apply to (N, BOOL, NULL).
pub fn size(v: &AttributeValue) -> Option<usize> {
    Some(match v {
        AttributeValue::S(s) => s.chars().count(),
        AttributeValue::B(b) => b.len(),
        AttributeValue::Ss(s) => s.len(),
        AttributeValue::Ns(s) => s.len(),
        AttributeValue::Bs(s) => s.len(),
        AttributeValue::M(m) => m.len(),
        AttributeValue::L(l) => l.len(),
        AttributeValue::N(_) | AttributeValue::Bool(_) | AttributeValue::Null => return None,
    })
}

fn operand<'a>(o: &'a Operand, item: Option<&'a Item>) -> Option<Cow<'a, AttributeValue>> {
    match o {
        Operand::Value(v) => Some(Cow::Borrowed(&v.value)),
        Operand::Path(p) => item.and_then(|i| resolve(i, p)).map(Cow::Borrowed),
        Operand::Size(p) => {
            let n = size(item.and_then(|i| resolve(i, p))?)?;
            Some(Cow::Owned(AttributeValue::N(Number::from_i64(
                i64::try_from(n).ok()?,
            ))))
        }
    }
}

fn compare(op: CmpOp, a: Option<&AttributeValue>, b: Option<&AttributeValue>) -> bool {
    let (Some(a), Some(b)) = (a, b) else {
        return op == CmpOp::Ne;
    };
    match op {
        CmpOp::Eq => a == b,
        CmpOp::Ne => a != b,
        CmpOp::Lt => compare_values(a, b) == Some(Ordering::Less),
        CmpOp::Le => matches!(compare_values(a, b), Some(Ordering::Less | Ordering::Equal)),
        CmpOp::Gt => compare_values(a, b) == Some(Ordering::Greater),
        CmpOp::Ge => matches!(
            compare_values(a, b),
            Some(Ordering::Greater | Ordering::Equal)
        ),
    }
}

impl Condition {
    /// Evaluates the condition against `item` (`None`: the item does not exist, so every path
    /// is missing).
    pub fn evaluate(&self, item: Option<&Item>) -> Result<bool, ExprError> {
        Ok(self.holds(item))
    }

    fn holds(&self, item: Option<&Item>) -> bool {
        match self {
            Condition::Compare(op, a, b) => compare(
                *op,
                operand(a, item).as_deref(),
                operand(b, item).as_deref(),
            ),
            Condition::Between(v, lo, hi) => {
                match (operand(v, item), operand(lo, item), operand(hi, item)) {
                    (Some(v), Some(lo), Some(hi)) => {
                        matches!(
                            compare_values(&v, &lo),
                            Some(Ordering::Greater | Ordering::Equal)
                        ) && matches!(
                            compare_values(&v, &hi),
                            Some(Ordering::Less | Ordering::Equal)
                        )
                    }
                    _ => false,
                }
            }
            Condition::In(v, list) => match operand(v, item) {
                Some(v) => list
                    .iter()
                    .any(|o| operand(o, item).as_deref() == Some(&*v)),
                None => false,
            },
            Condition::AttributeExists(p) => item.and_then(|i| resolve(i, p)).is_some(),
            Condition::AttributeNotExists(p) => item.and_then(|i| resolve(i, p)).is_none(),
            Condition::AttributeType(p, t) => match (item.and_then(|i| resolve(i, p)), &t.value) {
                (Some(v), AttributeValue::S(t)) => v.value_type().as_str() == t,
                _ => false,
            },
            Condition::BeginsWith(a, b) => match (operand(a, item), operand(b, item)) {
                (Some(a), Some(b)) => begins_with(&a, &b),
                _ => false,
            },
            Condition::Contains(a, b) => match (operand(a, item), operand(b, item)) {
                (Some(a), Some(b)) => contains(&a, &b),
                _ => false,
            },
            Condition::And(a, b) => a.holds(item) && b.holds(item),
            Condition::Or(a, b) => a.holds(item) || b.holds(item),
            Condition::Not(a) => !a.holds(item),
        }
    }
}
