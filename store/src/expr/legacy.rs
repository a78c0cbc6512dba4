//! The legacy (pre-expression) parameters, converted to the same trees expressions parse to.
//!
//! Older SDK code still sends `Expected`, `QueryFilter`/`ScanFilter` (with
//! `ConditionalOperator`), `KeyConditions`, `AttributeUpdates` and `AttributesToGet`. The
//! runtime decodes their JSON into the small input types here; these functions validate them
//! with DynamoDB's "One or more parameter values were invalid: ..." errors and build a
//! [`Condition`], [`KeyCondition`], [`UpdateExpr`] or [`Projection`], so one evaluator serves
//! both styles. Values get synthetic placeholders (`:legacy0`, ...) so the trees still print.

use std::collections::{BTreeMap, BTreeSet};

use super::ast::{
    CmpOp, Condition, Operand, Path, Projection, SetValue, UpdateExpr, UpdateOperand, ValueRef,
};
use super::error::ExprError;
use super::eval::compare_values;
use super::key_condition::{from_condition_keys, KeyCondition};
use crate::value::{AttributeValue, ValueType};

/// A legacy `ComparisonOperator`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ComparisonOperator {
    /// `EQ`
    Eq,
    /// `NE`
    Ne,
    /// `LE`
    Le,
    /// `LT`
    Lt,
    /// `GE`
    Ge,
    /// `GT`
    Gt,
    /// `NOT_NULL` (the attribute exists)
    NotNull,
    /// `NULL` (the attribute does not exist)
    Null,
    /// `CONTAINS`
    Contains,
    /// `NOT_CONTAINS`
    NotContains,
    /// `BEGINS_WITH`
    BeginsWith,
    /// `IN`
    In,
    /// `BETWEEN`
    Between,
}

impl ComparisonOperator {
    /// Parses the wire name (`"EQ"`, `"NOT_NULL"`...).
    pub fn parse(s: &str) -> Option<Self> {
        use ComparisonOperator::*;
        Some(match s {
            "EQ" => Eq,
            "NE" => Ne,
            "LE" => Le,
            "LT" => Lt,
            "GE" => Ge,
            "GT" => Gt,
            "NOT_NULL" => NotNull,
            "NULL" => Null,
            "CONTAINS" => Contains,
            "NOT_CONTAINS" => NotContains,
            "BEGINS_WITH" => BeginsWith,
            "IN" => In,
            "BETWEEN" => Between,
            _ => return None,
        })
    }

    /// The wire name.
    pub fn as_str(self) -> &'static str {
        use ComparisonOperator::*;
        match self {
            Eq => "EQ",
            Ne => "NE",
            Le => "LE",
            Lt => "LT",
            Ge => "GE",
            Gt => "GT",
            NotNull => "NOT_NULL",
            Null => "NULL",
            Contains => "CONTAINS",
            NotContains => "NOT_CONTAINS",
            BeginsWith => "BEGINS_WITH",
            In => "IN",
            Between => "BETWEEN",
        }
    }
}

/// One entry of `Expected`, `QueryFilter`, `ScanFilter` or `KeyConditions`: either the
/// comparison form (`ComparisonOperator` + `AttributeValueList`) or, in `Expected` only, the
/// older `Exists`/`Value` form.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ExpectedAttribute {
    /// `ComparisonOperator`.
    pub comparison_operator: Option<ComparisonOperator>,
    /// `AttributeValueList`.
    pub attribute_value_list: Vec<AttributeValue>,
    /// `Exists`.
    pub exists: Option<bool>,
    /// `Value`.
    pub value: Option<AttributeValue>,
}

/// `ConditionalOperator`: how the entries of a legacy condition map combine.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum ConditionalOperator {
    /// All must hold (the default).
    #[default]
    And,
    /// One must hold.
    Or,
}

/// An `AttributeUpdates` action.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum AttributeAction {
    /// `PUT`: set the attribute (the default).
    #[default]
    Put,
    /// `ADD`: add to a number, union into a set, append to a list.
    Add,
    /// `DELETE`: remove the attribute, or (with a set value) those members.
    Delete,
}

/// One entry of `AttributeUpdates`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AttributeUpdate {
    /// `Action`.
    pub action: AttributeAction,
    /// `Value`.
    pub value: Option<AttributeValue>,
}

fn invalid(msg: impl Into<String>) -> ExprError {
    ExprError::InvalidParameter(msg.into())
}

/// Hands out the synthetic placeholders of one conversion.
#[derive(Default)]
struct Values(usize);

impl Values {
    fn next(&mut self, value: AttributeValue) -> ValueRef {
        let name = format!(":legacy{}", self.0);
        self.0 += 1;
        ValueRef { name, value }
    }
}

fn is_scalar(t: ValueType) -> bool {
    matches!(t, ValueType::S | ValueType::N | ValueType::B)
}

/// Converts one comparison-form entry.
fn comparison(
    attr: &str,
    op: ComparisonOperator,
    args: &[AttributeValue],
    vals: &mut Values,
) -> Result<Condition, ExprError> {
    use ComparisonOperator as C;
    let expected_args = match op {
        C::NotNull | C::Null => Some(0),
        C::Between => Some(2),
        C::In => None,
        _ => Some(1),
    };
    let count_ok = match expected_args {
        Some(n) => args.len() == n,
        None => !args.is_empty(),
    };
    if !count_ok {
        return Err(invalid(format!(
            "Invalid number of argument(s) for the {} ComparisonOperator",
            op.as_str()
        )));
    }
    let not_valid_for = |t: ValueType| {
        invalid(format!(
            "ComparisonOperator {} is not valid for {} AttributeValue type",
            op.as_str(),
            t
        ))
    };
    for a in args {
        let t = a.value_type();
        let ok = match op {
            C::Eq | C::Ne => true,
            C::Lt | C::Le | C::Gt | C::Ge | C::Between | C::In => is_scalar(t),
            C::Contains | C::NotContains => is_scalar(t),
            C::BeginsWith => matches!(t, ValueType::S | ValueType::B),
            C::NotNull | C::Null => true,
        };
        if !ok {
            return Err(not_valid_for(t));
        }
    }
    let path = Path::attr(attr);
    let p = || Operand::Path(path.clone());
    let mut v = |i: usize| -> Operand {
        Operand::Value(vals.next(args.get(i).cloned().unwrap_or(AttributeValue::Null)))
    };
    Ok(match op {
        C::Eq => Condition::Compare(CmpOp::Eq, p(), v(0)),
        C::Ne => Condition::Compare(CmpOp::Ne, p(), v(0)),
        C::Lt => Condition::Compare(CmpOp::Lt, p(), v(0)),
        C::Le => Condition::Compare(CmpOp::Le, p(), v(0)),
        C::Gt => Condition::Compare(CmpOp::Gt, p(), v(0)),
        C::Ge => Condition::Compare(CmpOp::Ge, p(), v(0)),
        C::NotNull => Condition::AttributeExists(path),
        C::Null => Condition::AttributeNotExists(path),
        C::Contains => Condition::Contains(p(), v(0)),
        C::NotContains => Condition::And(
            Box::new(Condition::AttributeExists(path.clone())),
            Box::new(Condition::Not(Box::new(Condition::Contains(p(), v(0))))),
        ),
        C::BeginsWith => Condition::BeginsWith(p(), v(0)),
        C::In => {
            let list = (0..args.len()).map(&mut v).collect();
            Condition::In(p(), list)
        }
        C::Between => {
            let (lo, hi) = (&args[0], &args[1]);
            if lo.value_type() != hi.value_type() {
                return Err(invalid(
                    "AttributeValues inside AttributeValueList must be of same type",
                ));
            }
            if compare_values(lo, hi) == Some(std::cmp::Ordering::Greater) {
                return Err(invalid(
                    "The BETWEEN condition was provided a range where the lower bound is greater than the upper bound",
                ));
            }
            Condition::Between(p(), v(0), v(1))
        }
    })
}

fn combine(parts: Vec<Condition>, op: ConditionalOperator) -> Option<Condition> {
    parts.into_iter().reduce(|a, b| match op {
        ConditionalOperator::And => Condition::And(Box::new(a), Box::new(b)),
        ConditionalOperator::Or => Condition::Or(Box::new(a), Box::new(b)),
    })
}

/// Converts `Expected` (+ `ConditionalOperator`) to a condition; `None` for an empty map.
pub fn expected(
    entries: &BTreeMap<String, ExpectedAttribute>,
    op: ConditionalOperator,
) -> Result<Option<Condition>, ExprError> {
    let mut vals = Values::default();
    let mut parts = Vec::new();
    for (attr, e) in entries {
        let cond = match (e.comparison_operator, e.exists, &e.value) {
            (Some(_), Some(_), _) | (Some(_), _, Some(_)) => {
                return Err(invalid(format!(
                    "Value or Exists cannot be used with ComparisonOperator for Attribute: {attr}"
                )));
            }
            (Some(c), None, None) => comparison(attr, c, &e.attribute_value_list, &mut vals)?,
            (None, _, _) if !e.attribute_value_list.is_empty() => {
                return Err(invalid(format!(
                    "AttributeValueList can only be used with a ComparisonOperator for Attribute: {attr}"
                )));
            }
            (None, Some(false), Some(_)) => {
                return Err(invalid(format!(
                    "Value cannot be used when Exists is false for Attribute: {attr}"
                )));
            }
            (None, Some(false), None) => Condition::AttributeNotExists(Path::attr(attr)),
            (None, _, Some(v)) => Condition::Compare(
                CmpOp::Eq,
                Operand::Path(Path::attr(attr)),
                Operand::Value(vals.next(v.clone())),
            ),
            (None, Some(true), None) => {
                return Err(invalid(format!(
                    "Value must be provided when Exists is true for Attribute: {attr}"
                )));
            }
            (None, None, None) => {
                return Err(invalid(format!(
                    "Value must be provided when Exists is null for Attribute: {attr}"
                )));
            }
        };
        parts.push(cond);
    }
    Ok(combine(parts, op))
}

/// Converts `QueryFilter` or `ScanFilter` (+ `ConditionalOperator`) to a condition; `None` for
/// an empty map. Entries must use the comparison form.
pub fn filter(
    entries: &BTreeMap<String, ExpectedAttribute>,
    op: ConditionalOperator,
) -> Result<Option<Condition>, ExprError> {
    let mut vals = Values::default();
    let mut parts = Vec::new();
    for (attr, e) in entries {
        let Some(c) = e.comparison_operator else {
            return Err(invalid(format!(
                "ComparisonOperator must be provided for Attribute: {attr}"
            )));
        };
        parts.push(comparison(attr, c, &e.attribute_value_list, &mut vals)?);
    }
    Ok(combine(parts, op))
}

/// Converts `KeyConditions` for a table (or index) keyed by `hash_key` and `range_key`.
pub fn key_conditions(
    entries: &BTreeMap<String, ExpectedAttribute>,
    hash_key: &str,
    range_key: Option<&str>,
) -> Result<KeyCondition, ExprError> {
    let range: Vec<&str> = range_key.into_iter().collect();
    key_conditions_keys(entries, &[hash_key], &range)
}

/// Converts `KeyConditions` for a key of any number of partition attributes (`hash_keys`)
/// and sort attributes (`range_keys`), as [`ExprContext::parse_key_condition_keys`] reads a
/// KeyConditionExpression.
///
/// [`ExprContext::parse_key_condition_keys`]: super::ExprContext::parse_key_condition_keys
pub fn key_conditions_keys(
    entries: &BTreeMap<String, ExpectedAttribute>,
    hash_keys: &[&str],
    range_keys: &[&str],
) -> Result<KeyCondition, ExprError> {
    let hash_key = hash_keys.first().copied().unwrap_or_default();
    use ComparisonOperator as C;
    for e in entries.values() {
        match e.comparison_operator {
            Some(C::Eq | C::Le | C::Lt | C::Ge | C::Gt | C::BeginsWith | C::Between) => {}
            _ => {
                return Err(invalid(
                    "Attempted conditional constraint is not an indexable operation",
                ))
            }
        }
    }
    let Some(cond) = filter(entries, ConditionalOperator::And)? else {
        return Err(ExprError::MissedKeyElement(hash_key.to_string()));
    };
    from_condition_keys(&cond, hash_keys, range_keys)
}

/// Converts `AttributeUpdates` to an update.
pub fn attribute_updates(
    entries: &BTreeMap<String, AttributeUpdate>,
) -> Result<UpdateExpr, ExprError> {
    let mut vals = Values::default();
    let mut u = UpdateExpr::default();
    for (attr, e) in entries {
        let path = Path::attr(attr);
        match (e.action, &e.value) {
            (AttributeAction::Put, Some(v)) => {
                u.set.push((
                    path,
                    SetValue::Operand(UpdateOperand::Value(vals.next(v.clone()))),
                ));
            }
            (AttributeAction::Put | AttributeAction::Add, None) => {
                return Err(invalid(
                    "Only DELETE action is allowed when no attribute value is specified",
                ));
            }
            (AttributeAction::Delete, None) => u.remove.push(path),
            (AttributeAction::Delete, Some(v)) => match v.value_type() {
                ValueType::Ss | ValueType::Ns | ValueType::Bs => {
                    u.delete.push((path, vals.next(v.clone())))
                }
                t => {
                    return Err(invalid(format!(
                        "Action DELETE is not supported for the type {t}"
                    )))
                }
            },
            (AttributeAction::Add, Some(v)) => match v.value_type() {
                ValueType::N | ValueType::Ss | ValueType::Ns | ValueType::Bs => {
                    u.add.push((path, vals.next(v.clone())))
                }
                ValueType::L => {
                    let empty = vals.next(AttributeValue::L(Vec::new()));
                    let existing = UpdateOperand::IfNotExists(
                        path.clone(),
                        Box::new(UpdateOperand::Value(empty)),
                    );
                    let appended = UpdateOperand::ListAppend(
                        Box::new(existing),
                        Box::new(UpdateOperand::Value(vals.next(v.clone()))),
                    );
                    u.set.push((path, SetValue::Operand(appended)));
                }
                t => {
                    return Err(invalid(format!(
                        "Action ADD is not supported for the type {t}"
                    )))
                }
            },
        }
    }
    Ok(u)
}

/// Converts `AttributesToGet` to a projection of those top-level attributes.
pub fn attributes_to_get(names: &[String]) -> Result<Projection, ExprError> {
    let mut seen = BTreeSet::new();
    for n in names {
        if !seen.insert(n) {
            return Err(invalid(format!("Duplicate value in attribute name: {n}")));
        }
    }
    if names.is_empty() {
        return Err(ExprError::InvalidParameter(
            "AttributesToGet must not be empty".into(),
        ));
    }
    Ok(Projection {
        paths: names.iter().map(Path::attr).collect(),
    })
}
