//! The syntax tree of a PartiQL statement in DynamoDB's dialect.
//!
//! Values stay unevaluated here (a `?` is [`Expr::Param`] with its position); [`crate::plan`]
//! binds the parameters and turns constant expressions into attribute values.

use tarn_store::expr::{CmpOp, Path};

/// One statement.
#[derive(Clone, Debug, PartialEq)]
pub enum Statement {
    /// `SELECT ... FROM ... [WHERE ...] [ORDER BY ...]`.
    Select(Select),
    /// `INSERT INTO table VALUE {...}`.
    Insert(Insert),
    /// `UPDATE table SET ... REMOVE ... WHERE ... [RETURNING ...]`.
    Update(Update),
    /// `DELETE FROM table WHERE ... [RETURNING ALL OLD *]`.
    Delete(Delete),
    /// `EXISTS(SELECT * FROM table WHERE ...)`: a condition check, only in ExecuteTransaction.
    Exists(Select),
}

impl Statement {
    /// The table the statement names.
    pub fn table(&self) -> &str {
        match self {
            Statement::Select(s) | Statement::Exists(s) => &s.from.table,
            Statement::Insert(s) => &s.table,
            Statement::Update(s) => &s.table,
            Statement::Delete(s) => &s.table,
        }
    }

    /// Whether the statement only reads.
    pub fn is_read(&self) -> bool {
        matches!(self, Statement::Select(_))
    }
}

/// What a SELECT reads: a table, or `"Table"."Index"`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Target {
    /// The table's name.
    pub table: String,
    /// The index's name, if the statement reads an index.
    pub index: Option<String>,
}

/// A SELECT statement.
#[derive(Clone, Debug, PartialEq)]
pub struct Select {
    /// The projected paths; `None` for `*`.
    pub projection: Option<Vec<Path>>,
    /// The table or index read.
    pub from: Target,
    /// The WHERE clause.
    pub filter: Option<Expr>,
    /// `ORDER BY path [ASC|DESC]`: the path and whether it is descending.
    pub order_by: Option<(Path, bool)>,
}

/// An INSERT statement.
#[derive(Clone, Debug, PartialEq)]
pub struct Insert {
    /// The table written.
    pub table: String,
    /// The item, a tuple expression `{'a': 1, ...}` (or a `?` bound to a map).
    pub value: Expr,
    /// Whether the statement has a RETURNING clause (DynamoDB refuses it on INSERT).
    pub returning: bool,
}

/// One action of an UPDATE.
#[derive(Clone, Debug, PartialEq)]
pub enum UpdateAction {
    /// `SET path = value`.
    Set(Path, Expr),
    /// `REMOVE path`.
    Remove(Path),
}

/// What `RETURNING` asks for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Returning {
    /// `RETURNING ALL OLD *`.
    AllOld,
    /// `RETURNING MODIFIED OLD *`.
    ModifiedOld,
    /// `RETURNING ALL NEW *`.
    AllNew,
    /// `RETURNING MODIFIED NEW *`.
    ModifiedNew,
}

impl Returning {
    /// The clause as written after `RETURNING`: `ALL OLD *`.
    pub fn as_partiql(self) -> &'static str {
        match self {
            Returning::AllOld => "ALL OLD *",
            Returning::ModifiedOld => "MODIFIED OLD *",
            Returning::AllNew => "ALL NEW *",
            Returning::ModifiedNew => "MODIFIED NEW *",
        }
    }

    /// The matching ReturnValues of UpdateItem and DeleteItem.
    pub fn return_values(self) -> &'static str {
        match self {
            Returning::AllOld => "ALL_OLD",
            Returning::ModifiedOld => "UPDATED_OLD",
            Returning::AllNew => "ALL_NEW",
            Returning::ModifiedNew => "UPDATED_NEW",
        }
    }
}

/// An UPDATE statement.
#[derive(Clone, Debug, PartialEq)]
pub struct Update {
    /// The table written.
    pub table: String,
    /// SET and REMOVE actions, in the order written.
    pub actions: Vec<UpdateAction>,
    /// The WHERE clause (the full key, and optionally conditions).
    pub filter: Option<Expr>,
    /// The RETURNING clause.
    pub returning: Option<Returning>,
}

/// A DELETE statement.
#[derive(Clone, Debug, PartialEq)]
pub struct Delete {
    /// The table written.
    pub table: String,
    /// The WHERE clause (the full key, and optionally conditions).
    pub filter: Option<Expr>,
    /// The RETURNING clause.
    pub returning: Option<Returning>,
}

/// A literal.
#[derive(Clone, Debug, PartialEq)]
pub enum Literal {
    /// `'text'`.
    Str(String),
    /// `12`, `-1.5e3` (kept as written; checked when bound).
    Num(String),
    /// `TRUE`, `FALSE`.
    Bool(bool),
    /// `NULL`.
    Null,
}

/// An expression: a value, a path, or a condition.
#[derive(Clone, Debug, PartialEq)]
pub enum Expr {
    /// A document path into the item.
    Path(Path),
    /// A literal.
    Lit(Literal),
    /// The `n`th `?` of the statement (from 0).
    Param(usize),
    /// `[a, b]`.
    List(Vec<Expr>),
    /// `{'k': v, ...}`.
    Tuple(Vec<(String, Expr)>),
    /// `<<a, b>>`: a string, number or binary set.
    Set(Vec<Expr>),
    /// A comparison.
    Cmp(CmpOp, Box<Expr>, Box<Expr>),
    /// `a BETWEEN lo AND hi`.
    Between(Box<Expr>, Box<Expr>, Box<Expr>),
    /// `a IN [x, y]` or `a IN (x, y)`.
    In(Box<Expr>, Vec<Expr>),
    /// `a IS [NOT] MISSING` (true: `NOT`).
    IsMissing(Box<Expr>, bool),
    /// `a IS [NOT] NULL` (true: `NOT`).
    IsNull(Box<Expr>, bool),
    /// `a AND b`.
    And(Box<Expr>, Box<Expr>),
    /// `a OR b`.
    Or(Box<Expr>, Box<Expr>),
    /// `NOT a`.
    Not(Box<Expr>),
    /// `a + b`.
    Add(Box<Expr>, Box<Expr>),
    /// `a - b`.
    Sub(Box<Expr>, Box<Expr>),
    /// A function call, its name lower-cased: `begins_with(a, 'x')`, `set_add(s, <<1>>)`.
    Call(String, Vec<Expr>),
}
