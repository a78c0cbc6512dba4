//! From a statement to the DynamoDB operation that runs it, described with the expression
//! language tarn already evaluates.
//!
//! - `SELECT` with an equality on the partition key (and at most one condition on the sort key
//!   that a KeyConditionExpression can hold) is a Query. With `pk IN [...]` or `pk = a OR
//!   pk = b ...` instead, it is one Query per value ([`Plan::Queries`]; `IN` values in key
//!   order, each once; `OR` values as written), as DynamoDB runs it. Every other `SELECT` is a
//!   Scan whose FilterExpression is the whole `WHERE` clause. In a batch or a transaction, a `SELECT` must
//!   name exactly the full key and becomes a GetItem.
//! - `INSERT` is a PutItem on the condition that the key does not exist yet.
//! - `UPDATE` and `DELETE` need an equality on every key attribute; the rest of `WHERE` becomes
//!   the ConditionExpression. `UPDATE` also requires the item to exist; a `DELETE` of a missing
//!   item is a silent no-op, as in DynamoDB.
//! - `EXISTS(SELECT * FROM table WHERE <full key> [AND ...])` is a transaction's
//!   ConditionCheck: the item exists and the rest of `WHERE` holds.
//!
//! Names and values go through placeholders (`#n0`, `:v0`), so any attribute name works and
//! the store parses and checks every expression exactly as it does for the other operations.

use std::collections::BTreeMap;

use tarn_store::expr::{Path, PathElem};
use tarn_store::{AttributeValue, Item, Number};

use crate::ast::{Expr, Literal, Returning, Select, Statement, UpdateAction};
use crate::error::PartiqlError;
use where_clause::{conjuncts, equality, is_constant, is_range_condition, mentions};

mod where_clause;

/// The key attributes of the table or index a statement reads or writes.
#[derive(Clone, Copy, Debug)]
pub struct Keys<'a> {
    /// The partition key attribute.
    pub hash: &'a str,
    /// The sort key attribute, if there is one.
    pub range: Option<&'a str>,
}

/// The placeholder maps of a plan's expressions (ExpressionAttributeNames and
/// ExpressionAttributeValues).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Placeholders {
    /// `#n0` → attribute name.
    pub names: BTreeMap<String, String>,
    /// `:v0` → value.
    pub values: BTreeMap<String, AttributeValue>,
}

/// The operation a statement runs.
#[derive(Clone, Debug, PartialEq)]
pub enum Plan {
    /// A Query on the table or one of its indexes.
    Query {
        /// The table.
        table: String,
        /// The index, if any.
        index: Option<String>,
        /// The KeyConditionExpression.
        key_condition: String,
        /// The FilterExpression.
        filter: Option<String>,
        /// The ProjectionExpression.
        projection: Option<String>,
        /// ScanIndexForward.
        forward: bool,
        /// The placeholders.
        placeholders: Placeholders,
    },
    /// Queries of several partitions, one after the other (`pk IN [...]`, `pk = a OR pk = b`):
    /// DynamoDB runs such a `SELECT` as one Query per partition key value, not as a Scan.
    Queries {
        /// The table.
        table: String,
        /// The index, if any.
        index: Option<String>,
        /// The KeyConditionExpression of each Query, in the order they run.
        key_conditions: Vec<String>,
        /// The FilterExpression (the same for each).
        filter: Option<String>,
        /// The ProjectionExpression.
        projection: Option<String>,
        /// ScanIndexForward.
        forward: bool,
        /// The placeholders (shared by every Query).
        placeholders: Placeholders,
    },
    /// A Scan of the table or one of its indexes.
    Scan {
        /// The table.
        table: String,
        /// The index, if any.
        index: Option<String>,
        /// The FilterExpression.
        filter: Option<String>,
        /// The ProjectionExpression.
        projection: Option<String>,
        /// The placeholders.
        placeholders: Placeholders,
    },
    /// A GetItem (a `SELECT` in a batch or a transaction).
    Get {
        /// The table.
        table: String,
        /// The full key.
        key: Item,
        /// The ProjectionExpression.
        projection: Option<String>,
        /// The placeholders.
        placeholders: Placeholders,
    },
    /// A PutItem that fails if the key exists (`INSERT`).
    Insert {
        /// The table.
        table: String,
        /// The item.
        item: Item,
        /// The ConditionExpression (`attribute_not_exists` of the partition key).
        condition: String,
        /// The placeholders.
        placeholders: Placeholders,
    },
    /// An UpdateItem of an existing item.
    Update {
        /// The table.
        table: String,
        /// The full key.
        key: Item,
        /// The UpdateExpression.
        update: String,
        /// The ConditionExpression (the item exists, and the rest of `WHERE`).
        condition: String,
        /// ReturnValues.
        return_values: &'static str,
        /// The placeholders.
        placeholders: Placeholders,
    },
    /// A ConditionCheck of a transaction (`EXISTS(SELECT ...)`).
    Check {
        /// The table.
        table: String,
        /// The full key.
        key: Item,
        /// The ConditionExpression (the item exists, and the rest of `WHERE`).
        condition: String,
        /// The placeholders.
        placeholders: Placeholders,
    },
    /// A DeleteItem.
    Delete {
        /// The table.
        table: String,
        /// The full key.
        key: Item,
        /// The ConditionExpression (the rest of `WHERE`).
        condition: Option<String>,
        /// ReturnValues.
        return_values: &'static str,
        /// The placeholders.
        placeholders: Placeholders,
    },
}

/// How a `SELECT` may run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// ExecuteStatement: a Query or a Scan.
    Statement,
    /// BatchExecuteStatement: one item by its full key.
    Batch,
    /// ExecuteTransaction: one item by its full key, and `EXISTS` condition checks.
    Transaction,
}

/// Most operands of one `IN`, as DynamoDB allows.
pub const MAX_IN_OPERANDS: usize = 100;

/// DynamoDB's refusal of a write (or a batch read) without an equality on each key attribute.
pub const MISSING_KEY: &str =
    "Where clause does not contain a mandatory equality on all key attributes";

fn unsupported(msg: impl Into<String>) -> PartiqlError {
    PartiqlError::Unsupported(msg.into())
}

/// The number of `?` parameters in a statement.
pub fn parameter_count(stmt: &Statement) -> usize {
    fn count(e: &Expr) -> usize {
        match e {
            Expr::Param(_) => 1,
            Expr::Path(_) | Expr::Lit(_) => 0,
            Expr::List(l) | Expr::Set(l) | Expr::Call(_, l) => l.iter().map(count).sum(),
            Expr::Tuple(f) => f.iter().map(|(_, e)| count(e)).sum(),
            Expr::Cmp(_, a, b)
            | Expr::And(a, b)
            | Expr::Or(a, b)
            | Expr::Add(a, b)
            | Expr::Sub(a, b) => count(a) + count(b),
            Expr::Between(a, b, c) => count(a) + count(b) + count(c),
            Expr::In(a, l) => count(a) + l.iter().map(count).sum::<usize>(),
            Expr::IsMissing(a, _) | Expr::IsNull(a, _) | Expr::Not(a) => count(a),
        }
    }
    let opt = |e: &Option<Expr>| e.as_ref().map_or(0, count);
    match stmt {
        Statement::Select(s) | Statement::Exists(s) => opt(&s.filter),
        Statement::Insert(s) => count(&s.value),
        Statement::Update(s) => {
            s.actions
                .iter()
                .map(|a| match a {
                    UpdateAction::Set(_, e) => count(e),
                    UpdateAction::Remove(_) => 0,
                })
                .sum::<usize>()
                + opt(&s.filter)
        }
        Statement::Delete(s) => opt(&s.filter),
    }
}

/// Translates `stmt` with its parameters, given the key attributes of the table (or, for a
/// `SELECT` from `"Table"."Index"`, of the index).
pub fn plan(
    stmt: &Statement,
    params: &[AttributeValue],
    keys: Keys<'_>,
    mode: Mode,
) -> Result<Plan, PartiqlError> {
    // DynamoDB refuses too few parameters and ignores extra ones.
    if parameter_count(stmt) > params.len() {
        return Err(PartiqlError::ParameterCount);
    }
    let mut b = Builder {
        params,
        ph: Placeholders::default(),
    };
    match stmt {
        Statement::Exists(_) if mode != Mode::Transaction => Err(unsupported(
            "EXISTS can only be used in ExecuteTransaction write requests.",
        )),
        Statement::Exists(s) => {
            if s.from.index.is_some() {
                return Err(unsupported(
                    "Operations on indices are not supported in transactions",
                ));
            }
            let (key, rest) = full_key(s.filter.as_ref(), keys, &b).map_err(|_| {
                unsupported("EXISTS() must contain a single item read with additional condition")
            })?;
            let mut condition = format!("attribute_exists({})", b.name(keys.hash));
            for c in rest {
                condition = format!("{condition} AND ({})", b.condition(c)?);
            }
            Ok(Plan::Check {
                table: s.from.table.clone(),
                key,
                condition,
                placeholders: b.ph,
            })
        }
        Statement::Select(s) if mode != Mode::Statement => b.get(s, keys, mode),
        Statement::Select(s) => b.select(s, keys),
        Statement::Insert(s) => {
            if s.returning {
                return Err(unsupported("RETURNING is not supported in INSERT"));
            }
            let AttributeValue::M(item) = b.constant(&s.value)? else {
                return Err(unsupported(
                    "Unsupported format in item expression. Please use struct format {...} to express item values for insert statement.",
                ));
            };
            let condition = format!("attribute_not_exists({})", b.name(keys.hash));
            Ok(Plan::Insert {
                table: s.table.clone(),
                item,
                condition,
                placeholders: b.ph,
            })
        }
        Statement::Update(s) => {
            let (key, rest) = full_key(s.filter.as_ref(), keys, &b)?;
            let update = b.update(&s.actions)?;
            let mut condition = format!("attribute_exists({})", b.name(keys.hash));
            for c in rest {
                condition = format!("{condition} AND ({})", b.condition(c)?);
            }
            Ok(Plan::Update {
                table: s.table.clone(),
                key,
                update,
                condition,
                return_values: s.returning.map_or("NONE", Returning::return_values),
                placeholders: b.ph,
            })
        }
        Statement::Delete(s) => {
            if let Some(r) = s.returning.filter(|r| *r != Returning::AllOld) {
                return Err(unsupported(format!(
                    "Invalid returning clause: RETURNING {}. Only RETURNING ALL OLD * is allowed in DELETE statements.",
                    r.as_partiql()
                )));
            }
            let (key, rest) = full_key(s.filter.as_ref(), keys, &b)?;
            // A missing item is a silent no-op: the rest of WHERE is checked only on an item
            // that exists.
            let condition = b
                .conjunction(&rest)?
                .map(|c| format!("attribute_not_exists({}) OR ({c})", b.name(keys.hash)));
            Ok(Plan::Delete {
                table: s.table.clone(),
                key,
                condition,
                return_values: s.returning.map_or("NONE", Returning::return_values),
                placeholders: b.ph,
            })
        }
    }
}

/// Splits `WHERE` into the full key (an equality on each key attribute) and the other
/// conjuncts.
fn full_key<'e>(
    filter: Option<&'e Expr>,
    keys: Keys<'_>,
    b: &Builder<'_>,
) -> Result<(Item, Vec<&'e Expr>), PartiqlError> {
    let mut rest = filter.map(conjuncts).unwrap_or_default();
    let mut key = Item::new();
    for attr in std::iter::once(keys.hash).chain(keys.range) {
        let Some(i) = rest.iter().position(|c| equality(c, attr).is_some()) else {
            return Err(unsupported(MISSING_KEY));
        };
        let c = rest.remove(i);
        let value = equality(c, attr).ok_or_else(|| unsupported(MISSING_KEY))?;
        key.insert(attr.to_string(), b.constant(value)?);
    }
    Ok((key, rest))
}

struct Builder<'p> {
    params: &'p [AttributeValue],
    ph: Placeholders,
}

impl Builder<'_> {
    fn name(&mut self, name: &str) -> String {
        if let Some((k, _)) = self.ph.names.iter().find(|(_, v)| *v == name) {
            return k.clone();
        }
        let k = format!("#n{}", self.ph.names.len());
        self.ph.names.insert(k.clone(), name.to_string());
        k
    }

    fn value(&mut self, v: AttributeValue) -> String {
        let k = format!(":v{}", self.ph.values.len());
        self.ph.values.insert(k.clone(), v);
        k
    }

    fn path(&mut self, p: &Path) -> String {
        let mut out = String::new();
        for e in &p.0 {
            match e {
                PathElem::Attr(a) => {
                    if !out.is_empty() {
                        out.push('.');
                    }
                    out.push_str(&self.name(a));
                }
                PathElem::Index(i) => out.push_str(&format!("[{i}]")),
            }
        }
        out
    }

    /// The value of a constant expression.
    fn constant(&self, e: &Expr) -> Result<AttributeValue, PartiqlError> {
        Ok(match e {
            Expr::Lit(Literal::Str(s)) => AttributeValue::S(s.clone()),
            Expr::Lit(Literal::Num(n)) => {
                AttributeValue::N(Number::parse(n).map_err(|e| PartiqlError::Value(e.to_string()))?)
            }
            Expr::Lit(Literal::Bool(b)) => AttributeValue::Bool(*b),
            Expr::Lit(Literal::Null) => AttributeValue::Null,
            Expr::Param(i) => self
                .params
                .get(*i)
                .cloned()
                .ok_or(PartiqlError::ParameterCount)?,
            Expr::List(l) => AttributeValue::L(
                l.iter()
                    .map(|e| self.constant(e))
                    .collect::<Result<_, _>>()?,
            ),
            Expr::Tuple(fields) => {
                let mut m = BTreeMap::new();
                for (k, e) in fields {
                    if m.insert(k.clone(), self.constant(e)?).is_some() {
                        return Err(PartiqlError::Value(format!(
                            "Duplicate keys in tuple. Key: {k}"
                        )));
                    }
                }
                AttributeValue::M(m)
            }
            Expr::Set(members) => {
                let values: Vec<AttributeValue> = members
                    .iter()
                    .map(|e| self.constant(e))
                    .collect::<Result<_, _>>()?;
                set_of(values)?
            }
            _ => {
                return Err(unsupported(
                    "Unsupported operation: only constants and parameters can be used here",
                ))
            }
        })
    }

    /// A condition operand: a path, `size(path)` or a constant.
    fn operand(&mut self, e: &Expr) -> Result<String, PartiqlError> {
        match e {
            Expr::Path(p) => Ok(self.path(p)),
            Expr::Call(f, args) if f == "size" => match args.as_slice() {
                [Expr::Path(p)] => Ok(format!("size({})", self.path(p))),
                _ => Err(unsupported("Unsupported operation: size takes one path")),
            },
            e if is_constant(e) => {
                let v = self.constant(e)?;
                Ok(self.value(v))
            }
            _ => Err(unsupported(
                "Unsupported operation: this expression cannot be used as an operand",
            )),
        }
    }

    fn path_arg(&mut self, e: &Expr, function: &str) -> Result<String, PartiqlError> {
        match e {
            Expr::Path(p) => Ok(self.path(p)),
            _ => Err(unsupported(format!(
                "Unsupported operation: the first argument of {function} must be a path"
            ))),
        }
    }

    /// A condition (FilterExpression, ConditionExpression or KeyConditionExpression).
    fn condition(&mut self, e: &Expr) -> Result<String, PartiqlError> {
        Ok(match e {
            Expr::Cmp(op, a, b) => {
                format!("{} {} {}", self.operand(a)?, op.as_str(), self.operand(b)?)
            }
            Expr::Between(a, lo, hi) => format!(
                "{} BETWEEN {} AND {}",
                self.operand(a)?,
                self.operand(lo)?,
                self.operand(hi)?
            ),
            Expr::In(a, list) => {
                if list.is_empty() || !matches!(**a, Expr::Path(_)) {
                    return Err(unsupported(
                        "IN operator must have a left hand argument of type Variable Reference and right hand argument of type Seq with at least one member",
                    ));
                }
                if list.len() > MAX_IN_OPERANDS {
                    return Err(too_many_in_operands(list.len()));
                }
                let a = self.operand(a)?;
                let list: Vec<String> = list
                    .iter()
                    .map(|e| self.operand(e))
                    .collect::<Result<_, _>>()?;
                format!("{a} IN ({})", list.join(", "))
            }
            Expr::IsMissing(a, negated) => {
                let p = self.path_arg(a, "IS MISSING")?;
                if *negated {
                    format!("attribute_exists({p})")
                } else {
                    format!("attribute_not_exists({p})")
                }
            }
            Expr::IsNull(a, negated) => {
                // PartiQL: a missing attribute IS NULL too.
                let p = self.path_arg(a, "IS NULL")?;
                let null = self.value(AttributeValue::S("NULL".into()));
                if *negated {
                    format!("(attribute_exists({p}) AND NOT attribute_type({p}, {null}))")
                } else {
                    format!("(attribute_not_exists({p}) OR attribute_type({p}, {null}))")
                }
            }
            Expr::And(a, b) => format!("({}) AND ({})", self.condition(a)?, self.condition(b)?),
            Expr::Or(a, b) => format!("({}) OR ({})", self.condition(a)?, self.condition(b)?),
            Expr::Not(a) => format!("NOT ({})", self.condition(a)?),
            Expr::Call(f, args) if f == "begins_with" || f == "contains" => match args.as_slice() {
                [a, b] => format!("{f}({}, {})", self.operand(a)?, self.operand(b)?),
                _ => {
                    return Err(unsupported(format!(
                        "Unsupported operation: {f} takes two arguments"
                    )))
                }
            },
            Expr::Call(f, args) if f == "attribute_type" => match args.as_slice() {
                [a, t] => {
                    let p = self.path_arg(a, f)?;
                    format!("attribute_type({p}, {})", self.operand(t)?)
                }
                _ => {
                    return Err(unsupported(
                        "Unsupported operation: attribute_type takes two arguments",
                    ))
                }
            },
            Expr::Call(f, _) => return Err(unsupported(format!("Unrecognized function: {f}"))),
            _ => {
                return Err(unsupported(
                    "WHERE clause must contain an expression that resolves to a boolean",
                ))
            }
        })
    }

    fn conjunction(&mut self, parts: &[&Expr]) -> Result<Option<String>, PartiqlError> {
        let mut out: Option<String> = None;
        for c in parts {
            let s = self.condition(c)?;
            out = Some(match out {
                None => s,
                Some(prev) => format!("({prev}) AND ({s})"),
            });
        }
        Ok(out)
    }

    fn projection(&mut self, paths: Option<&Vec<Path>>) -> Option<String> {
        paths.map(|ps| {
            ps.iter()
                .map(|p| self.path(p))
                .collect::<Vec<_>>()
                .join(", ")
        })
    }

    fn select(&mut self, s: &Select, keys: Keys<'_>) -> Result<Plan, PartiqlError> {
        let parts = s.filter.as_ref().map(conjuncts).unwrap_or_default();
        let hash = parts.iter().position(|c| equality(c, keys.hash).is_some());
        let mut query = None;
        // Several partitions (`pk IN [...]`, `pk = a OR pk = b`): one Query each.
        let multi = match hash {
            Some(_) => None,
            None => parts
                .iter()
                .enumerate()
                .find_map(|(i, c)| key_values(c, keys.hash).map(|v| (i, v))),
        };
        if let Some((h, values)) = multi {
            if let Some(n) = values
                .iter()
                .map(|g| g.values.len())
                .find(|n| *n > MAX_IN_OPERANDS)
            {
                return Err(too_many_in_operands(n));
            }
            let mut rest: Vec<&Expr> = parts.clone();
            rest.remove(h);
            let range_cond = keys.range.and_then(|r| {
                rest.iter()
                    .position(|c| is_range_condition(c, r))
                    .map(|i| rest.remove(i))
            });
            let keys_elsewhere = rest
                .iter()
                .any(|c| mentions(c, keys.hash) || keys.range.is_some_and(|r| mentions(c, r)));
            if !keys_elsewhere {
                return self.queries(s, keys, values, range_cond, &rest);
            }
        }
        if let Some(h) = hash {
            let mut rest: Vec<&Expr> = parts.clone();
            let hash_cond = rest.remove(h);
            let range_cond = keys.range.and_then(|r| {
                rest.iter()
                    .position(|c| is_range_condition(c, r))
                    .map(|i| rest.remove(i))
            });
            let keys_elsewhere = rest
                .iter()
                .any(|c| mentions(c, keys.hash) || keys.range.is_some_and(|r| mentions(c, r)));
            if !keys_elsewhere {
                query = Some((hash_cond, range_cond, rest));
            }
        }
        let forward = match &s.order_by {
            None => true,
            Some((p, desc)) => {
                let on_key =
                    p.0.len() == 1 && (p.top() == keys.hash || Some(p.top()) == keys.range);
                if !on_key {
                    return Err(unsupported(format!(
                        "Variable reference {p} in ORDER BY clause must be part of the primary key"
                    )));
                }
                if s.filter.is_none() {
                    return Err(unsupported(
                        "Must have WHERE clause in the statement when using ORDER BY clause.",
                    ));
                }
                if query.is_none() {
                    return Err(unsupported(
                        "Must have at least one non-optional hash key condition in WHERE clause when using ORDER BY clause.",
                    ));
                }
                // One partition: only an order on the sort key changes anything (as in
                // DynamoDB Local 3.3, `ORDER BY pk DESC` reads it forward).
                !(*desc && Some(p.top()) == keys.range)
            }
        };
        let projection = self.projection(s.projection.as_ref());
        match query {
            Some((hash_cond, range_cond, rest)) => {
                let mut key_condition = self.condition(hash_cond)?;
                if let Some(r) = range_cond {
                    key_condition = format!("{key_condition} AND {}", self.condition(r)?);
                }
                let filter = self.conjunction(&rest)?;
                Ok(Plan::Query {
                    table: s.from.table.clone(),
                    index: s.from.index.clone(),
                    key_condition,
                    filter,
                    projection,
                    forward,
                    placeholders: std::mem::take(&mut self.ph),
                })
            }
            None => {
                let filter = match &s.filter {
                    Some(f) => Some(self.condition(f)?),
                    None => None,
                };
                Ok(Plan::Scan {
                    table: s.from.table.clone(),
                    index: s.from.index.clone(),
                    filter,
                    projection,
                    placeholders: std::mem::take(&mut self.ph),
                })
            }
        }
    }

    /// One Query per partition key value (see [`Plan::Queries`]).
    fn queries(
        &mut self,
        s: &Select,
        keys: Keys<'_>,
        groups: Vec<KeyValues<'_>>,
        range_cond: Option<&Expr>,
        rest: &[&Expr],
    ) -> Result<Plan, PartiqlError> {
        let mut distinct: Vec<AttributeValue> = Vec::new();
        for g in &groups {
            let mut values: Vec<AttributeValue> = g
                .values
                .iter()
                .map(|e| self.constant(e))
                .collect::<Result<_, _>>()?;
            if g.from_in {
                // IN reads its partitions in key order (as DynamoDB does).
                values.sort_by(key_order);
            }
            for v in values {
                if !distinct.contains(&v) {
                    distinct.push(v);
                }
            }
        }
        // `ORDER BY pk DESC` reads the partitions in reverse; `ORDER BY sk DESC` reads each
        // partition backward (as DynamoDB Local 3.3 does).
        let (forward, reverse) = match &s.order_by {
            None => (true, false),
            Some((p, desc)) => {
                let on_key =
                    p.0.len() == 1 && (p.top() == keys.hash || Some(p.top()) == keys.range);
                if !on_key {
                    return Err(unsupported(format!(
                        "Variable reference {p} in ORDER BY clause must be part of the primary key"
                    )));
                }
                let on_sort_key = Some(p.top()) == keys.range;
                (!(*desc && on_sort_key), *desc && !on_sort_key)
            }
        };
        if reverse {
            distinct.reverse();
        }
        let hash = self.name(keys.hash);
        let range = match range_cond {
            Some(r) => Some(self.condition(r)?),
            None => None,
        };
        let key_conditions = distinct
            .into_iter()
            .map(|v| {
                let v = self.value(v);
                match &range {
                    Some(r) => format!("{hash} = {v} AND {r}"),
                    None => format!("{hash} = {v}"),
                }
            })
            .collect();
        let filter = self.conjunction(rest)?;
        let projection = self.projection(s.projection.as_ref());
        Ok(Plan::Queries {
            table: s.from.table.clone(),
            index: s.from.index.clone(),
            key_conditions,
            filter,
            projection,
            forward,
            placeholders: std::mem::take(&mut self.ph),
        })
    }

    fn get(&mut self, s: &Select, keys: Keys<'_>, mode: Mode) -> Result<Plan, PartiqlError> {
        let in_transaction = mode == Mode::Transaction;
        if s.from.index.is_some() {
            return Err(unsupported(if in_transaction {
                "Reads on indices are not supported within transactions."
            } else {
                "This operation is not supported on an index"
            }));
        }
        let key_error = || {
            unsupported(if in_transaction {
                "Select statements within ExecuteTransaction must specify the primary key in the where clause."
            } else {
                MISSING_KEY
            })
        };
        let (key, rest) = full_key(s.filter.as_ref(), keys, self).map_err(|_| key_error())?;
        if !rest.is_empty() {
            return Err(key_error());
        }
        let projection = self.projection(s.projection.as_ref());
        Ok(Plan::Get {
            table: s.from.table.clone(),
            key,
            projection,
            placeholders: std::mem::take(&mut self.ph),
        })
    }

    /// A SET value operand: a path, a constant, `list_append(a, b)`, `if_not_exists(p, v)`.
    fn update_operand(&mut self, e: &Expr) -> Result<String, PartiqlError> {
        match e {
            Expr::Path(p) => Ok(self.path(p)),
            Expr::Call(f, args) if f == "list_append" => match args.as_slice() {
                [a, b] => Ok(format!(
                    "list_append({}, {})",
                    self.update_operand(a)?,
                    self.update_operand(b)?
                )),
                _ => Err(unsupported(
                    "Unsupported operation: list_append takes two arguments",
                )),
            },
            Expr::Call(f, args) if f == "if_not_exists" => match args.as_slice() {
                [Expr::Path(p), v] => Ok(format!(
                    "if_not_exists({}, {})",
                    self.path(p),
                    self.update_operand(v)?
                )),
                _ => Err(unsupported(
                    "Unsupported operation: if_not_exists takes a path and a value",
                )),
            },
            Expr::Call(f, _) => Err(unsupported(format!("Unrecognized function: {f}"))),
            e if is_constant(e) => {
                let v = self.constant(e)?;
                Ok(self.value(v))
            }
            _ => Err(unsupported(
                "Unsupported operation: this expression cannot be used in a SET value",
            )),
        }
    }

    /// The UpdateExpression of an `UPDATE`'s actions.
    fn update(&mut self, actions: &[UpdateAction]) -> Result<String, PartiqlError> {
        let (mut set, mut remove, mut add, mut delete) = (vec![], vec![], vec![], vec![]);
        for a in actions {
            match a {
                UpdateAction::Remove(p) => remove.push(self.path(p)),
                UpdateAction::Set(p, Expr::Call(f, args))
                    if f == "set_add" || f == "set_delete" =>
                {
                    let op = f.trim_start_matches("set_").to_ascii_uppercase();
                    let [target, v] = args.as_slice() else {
                        return Err(unsupported(format!(
                            "SET_{op} must have exactly two arguments"
                        )));
                    };
                    if !matches!(target, Expr::Path(t) if t == p) {
                        return Err(unsupported(format!(
                            "The first argument to SET_{op} must equal the assignment value"
                        )));
                    }
                    if !matches!(v, Expr::Set(_) | Expr::Param(_)) {
                        return Err(unsupported(format!(
                            "The second argument to SET_{op} must be a value with type SET"
                        )));
                    }
                    let v = self.constant(v)?;
                    let action = format!("{} {}", self.path(p), self.value(v));
                    if f == "set_add" {
                        add.push(action);
                    } else {
                        delete.push(action);
                    }
                }
                UpdateAction::Set(p, e) => {
                    let target = self.path(p);
                    let value = match e {
                        Expr::Add(a, b) => {
                            format!("{} + {}", self.update_operand(a)?, self.update_operand(b)?)
                        }
                        Expr::Sub(a, b) => {
                            format!("{} - {}", self.update_operand(a)?, self.update_operand(b)?)
                        }
                        e => self.update_operand(e)?,
                    };
                    set.push(format!("{target} = {value}"));
                }
            }
        }
        let mut clauses = Vec::new();
        for (kw, list) in [
            ("SET", set),
            ("REMOVE", remove),
            ("ADD", add),
            ("DELETE", delete),
        ] {
            if !list.is_empty() {
                clauses.push(format!("{kw} {}", list.join(", ")));
            }
        }
        Ok(clauses.join(" "))
    }
}

/// The set `<<a, b>>` of values all strings, all numbers or all binaries.
/// DynamoDB's refusal of an `IN` with more than [`MAX_IN_OPERANDS`] operands.
fn too_many_in_operands(n: usize) -> PartiqlError {
    unsupported(format!(
        "The IN operator is provided with too many operands; number of operands: {n}"
    ))
}

/// A run of partition key values of a `WHERE` clause: the list of one `IN` (read in key
/// order) or one `pk = c` of an `OR` chain.
struct KeyValues<'e> {
    values: Vec<&'e Expr>,
    from_in: bool,
}

/// The partition key values of a conjunct that names several partitions: `pk IN [c, ...]`,
/// `pk = c OR pk = c ...`, or an `OR` of those, where every `c` is a constant.
fn key_values<'e>(e: &'e Expr, name: &str) -> Option<Vec<KeyValues<'e>>> {
    match e {
        Expr::In(a, list)
            if matches!(&**a, Expr::Path(p) if p.0.len() == 1 && p.top() == name)
                && !list.is_empty()
                && list.iter().all(is_constant) =>
        {
            Some(vec![KeyValues {
                values: list.iter().collect(),
                from_in: true,
            }])
        }
        Expr::Or(a, b) => {
            let mut out = key_values(a, name)?;
            out.extend(key_values(b, name)?);
            Some(out)
        }
        other => equality(other, name).map(|v| {
            vec![KeyValues {
                values: vec![v],
                from_in: false,
            }]
        }),
    }
}

/// The order of partition key values (strings and binaries by bytes, numbers by value).
fn key_order(a: &AttributeValue, b: &AttributeValue) -> std::cmp::Ordering {
    match (a, b) {
        (AttributeValue::S(x), AttributeValue::S(y)) => x.as_bytes().cmp(y.as_bytes()),
        (AttributeValue::N(x), AttributeValue::N(y)) => x.cmp(y),
        (AttributeValue::B(x), AttributeValue::B(y)) => x.cmp(y),
        _ => std::cmp::Ordering::Equal,
    }
}

fn set_of(values: Vec<AttributeValue>) -> Result<AttributeValue, PartiqlError> {
    let bad = || {
        PartiqlError::Value("Unsupported data type in Bag. DynamoDB only supports either numbers or strings in bags".into())
    };
    let value_err = |e: tarn_store::value::ValueError| PartiqlError::Value(e.to_string());
    match values.first() {
        None => Err(PartiqlError::Value("Empty bags are not supported".into())),
        Some(AttributeValue::S(_)) => {
            let members = values
                .into_iter()
                .map(|v| match v {
                    AttributeValue::S(s) => Ok(s),
                    _ => Err(bad()),
                })
                .collect::<Result<_, _>>()?;
            AttributeValue::string_set(members).map_err(value_err)
        }
        Some(AttributeValue::N(_)) => {
            let members = values
                .into_iter()
                .map(|v| match v {
                    AttributeValue::N(n) => Ok(n),
                    _ => Err(bad()),
                })
                .collect::<Result<_, _>>()?;
            AttributeValue::number_set(members).map_err(value_err)
        }
        Some(AttributeValue::B(_)) => {
            let members = values
                .into_iter()
                .map(|v| match v {
                    AttributeValue::B(b) => Ok(b),
                    _ => Err(bad()),
                })
                .collect::<Result<_, _>>()?;
            AttributeValue::binary_set(members).map_err(value_err)
        }
        Some(_) => Err(bad()),
    }
}

#[cfg(test)]
mod tests;
