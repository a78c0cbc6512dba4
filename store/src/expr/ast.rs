//! The syntax trees every expression kind parses to.
//!
//! Names and values are already resolved: a path holds the real attribute names (a `#n`
//! placeholder is replaced by its ExpressionAttributeNames entry), and a value holds its
//! placeholder together with the resolved [`AttributeValue`]. `Display` prints a tree back as
//! expression text (fully resolved names, bare; the values' placeholders), with the fewest
//! parentheses that keep its shape, so `parse(print(tree)) == tree` for trees whose names are
//! plain, non-reserved identifiers.

use std::fmt;

use crate::value::AttributeValue;

/// One step of a document path.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum PathElem {
    /// A map key (or, first in a path, a top-level attribute name).
    Attr(String),
    /// A list index.
    Index(usize),
}

/// A document path such as `a.b[2].c`. Never empty; the first element is always an
/// [`PathElem::Attr`].
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Path(pub Vec<PathElem>);

impl Path {
    /// A one-element path naming a top-level attribute.
    pub fn attr(name: impl Into<String>) -> Self {
        Path(vec![PathElem::Attr(name.into())])
    }

    /// The top-level attribute the path starts at.
    pub fn top(&self) -> &str {
        match self.0.first() {
            Some(PathElem::Attr(a)) => a,
            _ => "",
        }
    }

    /// The path as DynamoDB writes it in overlap errors: `[a, b, [2]]`.
    pub fn bracketed(&self) -> String {
        let parts: Vec<String> = self
            .0
            .iter()
            .map(|e| match e {
                PathElem::Attr(a) => a.clone(),
                PathElem::Index(i) => format!("[{i}]"),
            })
            .collect();
        format!("[{}]", parts.join(", "))
    }
}

impl fmt::Display for Path {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, e) in self.0.iter().enumerate() {
            match e {
                PathElem::Attr(a) if i == 0 => write!(f, "{a}")?,
                PathElem::Attr(a) => write!(f, ".{a}")?,
                PathElem::Index(n) => write!(f, "[{n}]")?,
            }
        }
        Ok(())
    }
}

/// A `:value` placeholder and the value it stands for.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct ValueRef {
    /// The placeholder, with its `:` (legacy parameters get synthetic ones).
    pub name: String,
    /// The resolved value.
    pub value: AttributeValue,
}

impl fmt::Display for ValueRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.name)
    }
}

/// An operand of a condition: something that yields a value (or nothing, for a missing path).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Operand {
    /// The value at a document path in the item.
    Path(Path),
    /// A literal from ExpressionAttributeValues.
    Value(ValueRef),
    /// `size(path)`.
    Size(Path),
}

impl fmt::Display for Operand {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Operand::Path(p) => write!(f, "{p}"),
            Operand::Value(v) => write!(f, "{v}"),
            Operand::Size(p) => write!(f, "size({p})"),
        }
    }
}

/// A comparator.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum CmpOp {
    /// `=`
    Eq,
    /// `<>`
    Ne,
    /// `<`
    Lt,
    /// `<=`
    Le,
    /// `>`
    Gt,
    /// `>=`
    Ge,
}

impl CmpOp {
    /// The operator's text.
    pub fn as_str(self) -> &'static str {
        match self {
            CmpOp::Eq => "=",
            CmpOp::Ne => "<>",
            CmpOp::Lt => "<",
            CmpOp::Le => "<=",
            CmpOp::Gt => ">",
            CmpOp::Ge => ">=",
        }
    }
}

/// A condition (ConditionExpression, FilterExpression; KeyConditionExpression before it is
/// checked for shape). Evaluated by [`Condition::evaluate`](crate::expr::Condition::evaluate).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Condition {
    /// `left op right`.
    Compare(CmpOp, Operand, Operand),
    /// `value BETWEEN low AND high`.
    Between(Operand, Operand, Operand),
    /// `value IN (a, b, ...)`.
    In(Operand, Vec<Operand>),
    /// `attribute_exists(path)`.
    AttributeExists(Path),
    /// `attribute_not_exists(path)`.
    AttributeNotExists(Path),
    /// `attribute_type(path, :t)`.
    AttributeType(Path, ValueRef),
    /// `begins_with(a, b)`.
    BeginsWith(Operand, Operand),
    /// `contains(a, b)`.
    Contains(Operand, Operand),
    /// `a AND b`.
    And(Box<Condition>, Box<Condition>),
    /// `a OR b`.
    Or(Box<Condition>, Box<Condition>),
    /// `NOT a`.
    Not(Box<Condition>),
}

impl Condition {
    /// Binding strength: OR 1, AND 2, NOT 3, everything else 4.
    fn precedence(&self) -> u8 {
        match self {
            Condition::Or(..) => 1,
            Condition::And(..) => 2,
            Condition::Not(..) => 3,
            _ => 4,
        }
    }
}

fn write_child(f: &mut fmt::Formatter<'_>, child: &Condition, parens: bool) -> fmt::Result {
    if parens {
        write!(f, "({child})")
    } else {
        write!(f, "{child}")
    }
}

impl fmt::Display for Condition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Condition::Compare(op, a, b) => write!(f, "{a} {} {b}", op.as_str()),
            Condition::Between(v, lo, hi) => write!(f, "{v} BETWEEN {lo} AND {hi}"),
            Condition::In(v, list) => {
                write!(f, "{v} IN (")?;
                for (i, o) in list.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{o}")?;
                }
                f.write_str(")")
            }
            Condition::AttributeExists(p) => write!(f, "attribute_exists({p})"),
            Condition::AttributeNotExists(p) => write!(f, "attribute_not_exists({p})"),
            Condition::AttributeType(p, t) => write!(f, "attribute_type({p}, {t})"),
            Condition::BeginsWith(a, b) => write!(f, "begins_with({a}, {b})"),
            Condition::Contains(a, b) => write!(f, "contains({a}, {b})"),
            Condition::And(a, b) | Condition::Or(a, b) => {
                let p = self.precedence();
                // left-associative: the left child needs parentheses only if it binds looser,
                // the right child also if it binds equally
                write_child(f, a, a.precedence() < p)?;
                f.write_str(if p == 1 { " OR " } else { " AND " })?;
                write_child(f, b, b.precedence() <= p)
            }
            Condition::Not(a) => {
                f.write_str("NOT ")?;
                write_child(f, a, a.precedence() < 3)
            }
        }
    }
}

/// An operand on the right of `SET path = ...`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum UpdateOperand {
    /// The value at a path of the item as it was before the update.
    Path(Path),
    /// A literal from ExpressionAttributeValues.
    Value(ValueRef),
    /// `if_not_exists(path, fallback)`.
    IfNotExists(Path, Box<UpdateOperand>),
    /// `list_append(a, b)`.
    ListAppend(Box<UpdateOperand>, Box<UpdateOperand>),
}

impl fmt::Display for UpdateOperand {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            UpdateOperand::Path(p) => write!(f, "{p}"),
            UpdateOperand::Value(v) => write!(f, "{v}"),
            UpdateOperand::IfNotExists(p, v) => write!(f, "if_not_exists({p}, {v})"),
            UpdateOperand::ListAppend(a, b) => write!(f, "list_append({a}, {b})"),
        }
    }
}

/// The right-hand side of a SET action.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum SetValue {
    /// A single operand.
    Operand(UpdateOperand),
    /// `a + b` (numbers).
    Plus(UpdateOperand, UpdateOperand),
    /// `a - b` (numbers).
    Minus(UpdateOperand, UpdateOperand),
}

impl fmt::Display for SetValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SetValue::Operand(o) => write!(f, "{o}"),
            SetValue::Plus(a, b) => write!(f, "{a} + {b}"),
            SetValue::Minus(a, b) => write!(f, "{a} - {b}"),
        }
    }
}

/// An UpdateExpression: its actions grouped by clause, each in the order written.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct UpdateExpr {
    /// `SET path = value, ...`
    pub set: Vec<(Path, SetValue)>,
    /// `REMOVE path, ...`
    pub remove: Vec<Path>,
    /// `ADD path :value, ...` (numbers and sets).
    pub add: Vec<(Path, ValueRef)>,
    /// `DELETE path :value, ...` (sets).
    pub delete: Vec<(Path, ValueRef)>,
}

impl UpdateExpr {
    /// Every path the update writes, in clause order SET, REMOVE, ADD, DELETE.
    pub fn paths(&self) -> impl Iterator<Item = &Path> {
        self.set
            .iter()
            .map(|(p, _)| p)
            .chain(self.remove.iter())
            .chain(self.add.iter().map(|(p, _)| p))
            .chain(self.delete.iter().map(|(p, _)| p))
    }
}

impl fmt::Display for UpdateExpr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut clauses = Vec::new();
        if !self.set.is_empty() {
            let items: Vec<String> = self.set.iter().map(|(p, v)| format!("{p} = {v}")).collect();
            clauses.push(format!("SET {}", items.join(", ")));
        }
        if !self.remove.is_empty() {
            let items: Vec<String> = self.remove.iter().map(|p| p.to_string()).collect();
            clauses.push(format!("REMOVE {}", items.join(", ")));
        }
        for (kw, list) in [("ADD", &self.add), ("DELETE", &self.delete)] {
            if !list.is_empty() {
                let items: Vec<String> = list.iter().map(|(p, v)| format!("{p} {v}")).collect();
                clauses.push(format!("{kw} {}", items.join(", ")));
            }
        }
        f.write_str(&clauses.join(" "))
    }
}

/// A ProjectionExpression: the paths to return, in the order written.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Projection {
    /// The projected paths (never empty, never overlapping).
    pub paths: Vec<Path>,
}

impl fmt::Display for Projection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let items: Vec<String> = self.paths.iter().map(|p| p.to_string()).collect();
        f.write_str(&items.join(", "))
    }
}
