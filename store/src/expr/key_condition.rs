//! KeyConditionExpression: a condition restricted to what Query can serve with the key order.
//!
//! A key condition is parsed as an ordinary condition, then checked for shape: an equality on
//! the partition key, optionally AND one condition on the sort key (`=`, `<`, `<=`, `>`, `>=`,
//! `BETWEEN`, `begins_with`), each comparing a top-level key attribute with a value. Anything
//! else gets DynamoDB's key-condition errors. The result is a [`KeyCondition`] the engine turns
//! into a range scan.
//!
//! A global secondary index with a multi-attribute key ([`from_condition_keys`]) needs an
//! equality on each partition attribute, and on its sort attributes equalities on a leading
//! run of them, then at most one condition of the forms above on the next one.

use std::cmp::Ordering;

use super::ast::{CmpOp, Condition, Operand, Path, PathElem};
use super::error::{ExprError, ExprKind, Reason};
use super::eval::{begins_with, compare_values};
use crate::value::AttributeValue;

/// A Query's key condition: the partition key value and an optional sort-key condition.
///
/// On a multi-attribute index key, every partition key attribute is equal to a value
/// (`hash_value`, then `hash_rest`), the leading sort key attributes are equal to
/// `range_prefix`, and `range`, if any, is the condition on the next sort key attribute.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KeyCondition {
    /// The partition key (its first attribute) must equal this.
    pub hash_value: AttributeValue,
    /// The sort key condition, if any (on the sort key attribute after `range_prefix`).
    pub range: Option<RangeCondition>,
    /// The values of the further partition key attributes of a multi-attribute key.
    pub hash_rest: Vec<AttributeValue>,
    /// The values the leading sort key attributes of a multi-attribute key are equal to.
    pub range_prefix: Vec<AttributeValue>,
}

impl KeyCondition {
    /// A condition on a key of one partition attribute and at most one sort attribute.
    pub fn single(hash_value: AttributeValue, range: Option<RangeCondition>) -> KeyCondition {
        KeyCondition {
            hash_value,
            range,
            hash_rest: Vec::new(),
            range_prefix: Vec::new(),
        }
    }

    /// The partition key values, in key order.
    pub fn hash_values(&self) -> impl Iterator<Item = &AttributeValue> {
        std::iter::once(&self.hash_value).chain(self.hash_rest.iter())
    }
}

/// A condition on the sort key.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RangeCondition {
    /// `sk = v`
    Eq(AttributeValue),
    /// `sk < v`
    Lt(AttributeValue),
    /// `sk <= v`
    Le(AttributeValue),
    /// `sk > v`
    Gt(AttributeValue),
    /// `sk >= v`
    Ge(AttributeValue),
    /// `sk BETWEEN low AND high` (inclusive).
    Between(AttributeValue, AttributeValue),
    /// `begins_with(sk, prefix)` (strings and binaries).
    BeginsWith(AttributeValue),
}

impl RangeCondition {
    /// Whether a sort key value satisfies the condition. Values of another type never do.
    pub fn matches(&self, v: &AttributeValue) -> bool {
        let ord = |x: &AttributeValue| compare_values(v, x);
        match self {
            RangeCondition::Eq(x) => ord(x) == Some(Ordering::Equal),
            RangeCondition::Lt(x) => ord(x) == Some(Ordering::Less),
            RangeCondition::Le(x) => matches!(ord(x), Some(Ordering::Less | Ordering::Equal)),
            RangeCondition::Gt(x) => ord(x) == Some(Ordering::Greater),
            RangeCondition::Ge(x) => matches!(ord(x), Some(Ordering::Greater | Ordering::Equal)),
            RangeCondition::Between(lo, hi) => {
                matches!(ord(lo), Some(Ordering::Greater | Ordering::Equal))
                    && matches!(ord(hi), Some(Ordering::Less | Ordering::Equal))
            }
            RangeCondition::BeginsWith(p) => begins_with(v, p),
        }
    }
}

/// One key attribute's condition, as found in the expression.
struct Leaf {
    attr: String,
    cond: RangeCondition,
}

fn key_attr(p: &Path) -> Result<String, ExprError> {
    match p.0.as_slice() {
        [PathElem::Attr(a)] => Ok(a.clone()),
        _ => Err(ExprError::KeyConditionNested),
    }
}

fn value(o: &Operand) -> Result<AttributeValue, ExprError> {
    match o {
        Operand::Value(v) => Ok(v.value.clone()),
        Operand::Path(_) => Err(ExprError::KeyConditionInvalid(
            "Multiple attribute names used in one condition".into(),
        )),
        Operand::Size(_) => Err(ExprError::KeyConditionNestedOperation),
    }
}

fn leaf(c: &Condition) -> Result<Leaf, ExprError> {
    let first_operand = |what: &str| {
        ExprError::KeyConditionInvalid(format!(
            "{what} operator must have the key attribute as its first operand"
        ))
    };
    match c {
        Condition::Or(..) => Err(ExprError::KeyConditionOperator("OR".into())),
        Condition::Not(..) => Err(ExprError::KeyConditionOperator("NOT".into())),
        Condition::In(..) => Err(ExprError::KeyConditionOperator("IN".into())),
        Condition::Compare(CmpOp::Ne, ..) => Err(ExprError::KeyConditionOperator("<>".into())),
        Condition::AttributeExists(_) => {
            Err(ExprError::KeyConditionOperator("attribute_exists".into()))
        }
        Condition::AttributeNotExists(_) => Err(ExprError::KeyConditionOperator(
            "attribute_not_exists".into(),
        )),
        Condition::AttributeType(..) => {
            Err(ExprError::KeyConditionOperator("attribute_type".into()))
        }
        Condition::Contains(..) => Err(ExprError::KeyConditionOperator("contains".into())),
        Condition::Compare(op, a, b) => {
            if matches!(a, Operand::Size(_)) || matches!(b, Operand::Size(_)) {
                return Err(ExprError::KeyConditionNestedOperation);
            }
            // the key attribute may be on either side; flip the operator if it is on the right
            let (attr, v, op) = match (a, b) {
                (Operand::Path(p), other) => (key_attr(p)?, value(other)?, *op),
                (Operand::Value(_), Operand::Path(p)) => {
                    let flipped = match op {
                        CmpOp::Lt => CmpOp::Gt,
                        CmpOp::Le => CmpOp::Ge,
                        CmpOp::Gt => CmpOp::Lt,
                        CmpOp::Ge => CmpOp::Le,
                        other => *other,
                    };
                    (key_attr(p)?, value(a)?, flipped)
                }
                _ => {
                    return Err(ExprError::KeyConditionInvalid(
                        "No key attribute specified".into(),
                    ))
                }
            };
            let cond = match op {
                CmpOp::Eq => RangeCondition::Eq(v),
                CmpOp::Lt => RangeCondition::Lt(v),
                CmpOp::Le => RangeCondition::Le(v),
                CmpOp::Gt => RangeCondition::Gt(v),
                CmpOp::Ge => RangeCondition::Ge(v),
                CmpOp::Ne => return Err(ExprError::KeyConditionOperator("<>".into())),
            };
            Ok(Leaf { attr, cond })
        }
        Condition::Between(v, lo, hi) => {
            let Operand::Path(p) = v else {
                return Err(first_operand("BETWEEN"));
            };
            Ok(Leaf {
                attr: key_attr(p)?,
                cond: RangeCondition::Between(value(lo)?, value(hi)?),
            })
        }
        Condition::BeginsWith(a, b) => {
            let Operand::Path(p) = a else {
                return Err(first_operand("begins_with"));
            };
            Ok(Leaf {
                attr: key_attr(p)?,
                cond: RangeCondition::BeginsWith(value(b)?),
            })
        }
        Condition::And(..) => Err(ExprError::invalid(
            ExprKind::KeyCondition,
            Reason::KeyConditionNotSupported,
        )),
    }
}

fn flatten<'a>(c: &'a Condition, out: &mut Vec<&'a Condition>) {
    match c {
        Condition::And(a, b) => {
            flatten(a, out);
            flatten(b, out);
        }
        other => out.push(other),
    }
}

/// Checks a parsed condition's shape against the table's key schema.
pub(crate) fn from_condition(
    c: &Condition,
    hash_key: &str,
    range_key: Option<&str>,
) -> Result<KeyCondition, ExprError> {
    let mut parts = Vec::new();
    flatten(c, &mut parts);
    let mut leaves: Vec<Leaf> = Vec::new();
    for part in parts {
        let l = leaf(part)?;
        if leaves.iter().any(|x| x.attr == l.attr) {
            return Err(ExprError::KeyConditionTwice);
        }
        leaves.push(l);
    }
    if leaves.len() > 2 {
        return Err(ExprError::KeyConditionLength);
    }
    let mut hash_value = None;
    let mut range = None;
    for l in leaves {
        if l.attr == hash_key {
            match l.cond {
                RangeCondition::Eq(v) => hash_value = Some(v),
                _ => {
                    return Err(ExprError::invalid(
                        ExprKind::KeyCondition,
                        Reason::KeyConditionNotSupported,
                    ))
                }
            }
        } else if Some(l.attr.as_str()) == range_key {
            range = Some(l.cond);
        } else {
            return Err(ExprError::MissedKeyElement(
                range_key.unwrap_or(hash_key).to_string(),
            ));
        }
    }
    let Some(hash_value) = hash_value else {
        return Err(ExprError::MissedKeyElement(hash_key.to_string()));
    };
    Ok(KeyCondition::single(hash_value, range))
}

/// Checks a parsed condition's shape against a key of several partition attributes
/// (`hash_keys`) and sort attributes (`range_keys`), the key of a global secondary index with
/// a multi-attribute key: equality on every partition attribute; on the sort attributes,
/// equality on a leading run of them and at most one other condition, on the attribute right
/// after that run. A key of one attribute per part gets [`from_condition`]'s rules.
pub(crate) fn from_condition_keys(
    c: &Condition,
    hash_keys: &[&str],
    range_keys: &[&str],
) -> Result<KeyCondition, ExprError> {
    let (Some(first), true) = (
        hash_keys.first(),
        hash_keys.len() > 1 || range_keys.len() > 1,
    ) else {
        let hash = hash_keys.first().copied().unwrap_or_default();
        return from_condition(c, hash, range_keys.first().copied());
    };
    let mut parts = Vec::new();
    flatten(c, &mut parts);
    let mut leaves: Vec<Leaf> = Vec::new();
    for part in parts {
        let l = leaf(part)?;
        if leaves.iter().any(|x| x.attr == l.attr) {
            return Err(ExprError::KeyConditionTwice);
        }
        leaves.push(l);
    }
    let mut take = |name: &str| {
        leaves
            .iter()
            .position(|l| l.attr == name)
            .map(|i| leaves.remove(i).cond)
    };
    // As DynamoDB words it: every partition attribute needs an equality.
    let mut hash_values = Vec::new();
    let mut lacking = Vec::new();
    for name in hash_keys {
        match take(name) {
            Some(RangeCondition::Eq(v)) => hash_values.push(v),
            _ => lacking.push(*name),
        }
    }
    if !lacking.is_empty() {
        return Err(ExprError::KeyConditionOrder(format!(
            "HASH key attributes {} must have equality conditions specified in the query",
            lacking.join(", ")
        )));
    }
    let sorted: Vec<(&str, Option<RangeCondition>)> =
        range_keys.iter().map(|name| (*name, take(name))).collect();
    if !leaves.is_empty() {
        return Err(ExprError::KeyConditionOrder(
            "Query condition missed key schema element".into(),
        ));
    }
    // Every sort attribute before the last conditioned one needs an equality.
    let mut range_prefix = Vec::new();
    let mut range = None;
    if let Some(last) = sorted.iter().rposition(|(_, c)| c.is_some()) {
        let lacking: Vec<&str> = sorted[..last]
            .iter()
            .filter(|(_, c)| !matches!(c, Some(RangeCondition::Eq(_))))
            .map(|(name, _)| *name)
            .collect();
        if !lacking.is_empty() {
            return Err(ExprError::KeyConditionOrder(format!(
                "RANGE key attributes {} must have equality conditions specified in the query because a condition is present on key attribute {}",
                lacking.join(", "),
                sorted[last].0
            )));
        }
        for (_, c) in &sorted[..last] {
            if let Some(RangeCondition::Eq(v)) = c {
                range_prefix.push(v.clone());
            }
        }
        range = sorted[last].1.clone();
    }
    let mut hash_values = hash_values.into_iter();
    let hash_value = hash_values
        .next()
        .ok_or_else(|| ExprError::MissedKeyElement((*first).to_string()))?;
    Ok(KeyCondition {
        hash_value,
        range,
        hash_rest: hash_values.collect(),
        range_prefix,
    })
}
