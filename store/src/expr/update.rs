//! Applying an UpdateExpression to an item.
//!
//! Every operand is read from the item as it was *before* the update (so `SET a = b, b = a`
//! swaps), then the clauses are applied in the order SET, REMOVE, ADD, DELETE. REMOVEs of list
//! elements are applied from the highest index down, so each index names an element of the
//! original list. The update is all-or-nothing: on any error the item is left unchanged.
//!
//! Errors are DynamoDB's: reading a path the item lacks is "The provided expression refers to an
//! attribute that does not exist in the item"; `+`, `-`, `list_append`, ADD and DELETE on values
//! of the wrong type are "An operand in the update expression has an incorrect data type"
//! (an ADD or DELETE whose value's type does not go with the attribute's is DynamoDB's "Type
//! mismatch for ADD; operator type: NS, existing type: SS");
//! writing below something missing is an invalid document path; sums outside DynamoDB's number
//! range are the number errors.

use std::collections::BTreeSet;

use super::ast::{SetValue, UpdateExpr, UpdateOperand};
use super::error::ExprError;
use super::path::{remove, resolve, set};
use crate::value::{AttributeValue, Item, ValueError, MAX_NESTING};

fn operand(o: &UpdateOperand, item: &Item) -> Result<AttributeValue, ExprError> {
    match o {
        UpdateOperand::Value(v) => Ok(v.value.clone()),
        UpdateOperand::Path(p) => resolve(item, p).cloned().ok_or(ExprError::MissingAttribute),
        UpdateOperand::IfNotExists(p, fallback) => match resolve(item, p) {
            Some(v) => Ok(v.clone()),
            None => operand(fallback, item),
        },
        UpdateOperand::ListAppend(a, b) => match (operand(a, item)?, operand(b, item)?) {
            (AttributeValue::L(mut x), AttributeValue::L(y)) => {
                x.extend(y);
                Ok(AttributeValue::L(x))
            }
            _ => Err(ExprError::IncorrectOperandType),
        },
    }
}

fn set_value(v: &SetValue, item: &Item) -> Result<AttributeValue, ExprError> {
    match v {
        SetValue::Operand(o) => operand(o, item),
        SetValue::Plus(a, b) | SetValue::Minus(a, b) => {
            match (operand(a, item)?, operand(b, item)?) {
                (AttributeValue::N(x), AttributeValue::N(y)) => {
                    let r = if matches!(v, SetValue::Plus(..)) {
                        x.checked_add(&y)?
                    } else {
                        x.checked_sub(&y)?
                    };
                    Ok(AttributeValue::N(r))
                }
                _ => Err(ExprError::IncorrectOperandType),
            }
        }
    }
}

/// `ADD`: number sum or set union; a missing attribute starts from the value itself.
fn add(current: Option<&AttributeValue>, v: &AttributeValue) -> Result<AttributeValue, ExprError> {
    let Some(current) = current else {
        return match v {
            AttributeValue::N(_)
            | AttributeValue::Ss(_)
            | AttributeValue::Ns(_)
            | AttributeValue::Bs(_) => Ok(v.clone()),
            _ => Err(ExprError::IncorrectOperandType),
        };
    };
    Ok(match (current, v) {
        (AttributeValue::N(x), AttributeValue::N(y)) => AttributeValue::N(x.checked_add(y)?),
        (AttributeValue::Ss(x), AttributeValue::Ss(y)) => union(x, y, AttributeValue::Ss),
        (AttributeValue::Ns(x), AttributeValue::Ns(y)) => union(x, y, AttributeValue::Ns),
        (AttributeValue::Bs(x), AttributeValue::Bs(y)) => union(x, y, AttributeValue::Bs),
        (
            _,
            AttributeValue::N(_)
            | AttributeValue::Ss(_)
            | AttributeValue::Ns(_)
            | AttributeValue::Bs(_),
        ) => return Err(mismatch("ADD", v, current)),
        _ => return Err(ExprError::IncorrectOperandType),
    })
}

/// An ADD or DELETE of `v` on `current`, whose types do not go together.
fn mismatch(action: &'static str, v: &AttributeValue, current: &AttributeValue) -> ExprError {
    ExprError::TypeMismatch {
        action,
        operand: v.value_type().as_str(),
        existing: current.value_type().as_str(),
    }
}

fn union<T: Ord + Clone>(x: &[T], y: &[T], wrap: fn(Vec<T>) -> AttributeValue) -> AttributeValue {
    let all: BTreeSet<&T> = x.iter().chain(y.iter()).collect();
    wrap(all.into_iter().cloned().collect())
}

fn difference<T: Ord + Clone>(
    x: &[T],
    y: &[T],
    wrap: fn(Vec<T>) -> AttributeValue,
) -> Option<AttributeValue> {
    let drop: BTreeSet<&T> = y.iter().collect();
    let kept: Vec<T> = x.iter().filter(|m| !drop.contains(m)).cloned().collect();
    if kept.is_empty() {
        None
    } else {
        Some(wrap(kept))
    }
}

/// `DELETE`: set difference; `None` when the set ends up empty (the attribute goes away).
fn delete(
    current: &AttributeValue,
    v: &AttributeValue,
) -> Result<Option<AttributeValue>, ExprError> {
    match (current, v) {
        (AttributeValue::Ss(x), AttributeValue::Ss(y)) => Ok(difference(x, y, AttributeValue::Ss)),
        (AttributeValue::Ns(x), AttributeValue::Ns(y)) => Ok(difference(x, y, AttributeValue::Ns)),
        (AttributeValue::Bs(x), AttributeValue::Bs(y)) => Ok(difference(x, y, AttributeValue::Bs)),
        (_, AttributeValue::Ss(_) | AttributeValue::Ns(_) | AttributeValue::Bs(_)) => {
            Err(mismatch("DELETE", v, current))
        }
        _ => Err(ExprError::IncorrectOperandType),
    }
}

impl UpdateExpr {
    /// Applies the update to `item` in place; on error `item` is unchanged.
    pub fn apply(&self, item: &mut Item) -> Result<(), ExprError> {
        let original: &Item = item;
        let mut work = original.clone();
        let mut values = Vec::with_capacity(self.set.len());
        for (_, v) in &self.set {
            values.push(set_value(v, original)?);
        }
        for ((path, _), value) in self.set.iter().zip(values) {
            set(&mut work, path, value)?;
        }
        let mut removals: Vec<_> = self.remove.iter().collect();
        // highest list index first, so each index refers to the original list
        removals.sort_by(|a, b| b.cmp(a));
        for path in removals {
            remove(&mut work, path)?;
        }
        for (path, v) in &self.add {
            let new = add(resolve(&work, path), &v.value)?;
            set(&mut work, path, new)?;
        }
        for (path, v) in &self.delete {
            let Some(current) = resolve(&work, path) else {
                continue;
            };
            match delete(current, &v.value)? {
                Some(new) => set(&mut work, path, new)?,
                None => {
                    remove(&mut work, path)?;
                }
            }
        }
        if work.values().any(|v| v.depth() > MAX_NESTING) {
            return Err(ValueError::TooDeep.into());
        }
        *item = work;
        Ok(())
    }

    /// Whether the update only takes away (REMOVE, DELETE from a set): on an item that does not
    /// exist, such an update leaves it absent rather than creating it, as in DynamoDB.
    pub fn only_removes(&self) -> bool {
        self.set.is_empty()
            && self.add.is_empty()
            && !(self.remove.is_empty() && self.delete.is_empty())
    }

    /// The top-level attributes the update writes (for `UPDATED_OLD`/`UPDATED_NEW` and for
    /// refusing updates to key attributes).
    pub fn top_level_attributes(&self) -> BTreeSet<String> {
        self.paths().map(|p| p.top().to_string()).collect()
    }
}
