//! A recursive-descent parser for DynamoDB's PartiQL statements.
//!
//! Grammar (keywords case-insensitive; names bare or `"quoted"`):
//!
//! ```text
//! statement := SELECT (* | path {, path}) FROM name [. name] [WHERE expr] [ORDER BY path [ASC|DESC]]
//!            | INSERT INTO name VALUE expr
//!            | UPDATE name {SET path = expr {, path = expr} | REMOVE path {, path}} [WHERE expr] [returning]
//!            | DELETE FROM name [WHERE expr] [returning]
//!            | EXISTS ( SELECT ... )
//! returning := RETURNING (ALL | MODIFIED) (OLD | NEW) *
//! expr      := or;  or := and {OR and};  and := not {AND not};  not := NOT not | predicate
//! predicate := sum [cmp sum | [NOT] BETWEEN sum AND sum | [NOT] IN (list | (expr, ...)) | IS [NOT] (MISSING | NULL)]
//! sum       := primary {(+ | -) primary}
//! primary   := literal | ? | path | name(args) | (expr) | [expr, ...] | {'k': expr, ...} | <<expr, ...>>
//! path      := name {. name | [number]}
//! ```

use tarn_store::expr::{CmpOp, Path, PathElem};

use crate::ast::{
    Delete, Expr, Insert, Literal, Returning, Select, Statement, Target, Update, UpdateAction,
};
use crate::error::PartiqlError;
use crate::lexer::{tokenize, Token};

/// The longest statement DynamoDB accepts, in characters.
pub const MAX_STATEMENT_CHARS: usize = 8192;
/// The deepest nesting of parentheses, collections and `NOT`s a statement may have (the parser
/// and the translation recurse on it: a bound keeps the stack safe).
const MAX_DEPTH: usize = 64;
/// The most operators (`AND`, `OR`, comparisons, `+`, `-`) a statement may have: operator chains
/// are trees as deep as they are long.
const MAX_OPERATORS: usize = 300;

/// Parses one statement.
pub fn parse(src: &str) -> Result<Statement, PartiqlError> {
    let tokens = tokenize(src)?;
    let mut p = Parser {
        tokens,
        pos: 0,
        params: 0,
        depth: 0,
        operators: 0,
    };
    let stmt = p.statement()?;
    if let Some(t) = p.peek() {
        return Err(p.unexpected(&t.clone()));
    }
    Ok(stmt)
}

struct Parser {
    tokens: Vec<Token>,
    pos: usize,
    params: usize,
    depth: usize,
    operators: usize,
}

fn syntax(msg: impl Into<String>) -> PartiqlError {
    PartiqlError::Syntax(msg.into())
}

impl Parser {
    /// Enters one level of nesting.
    fn enter(&mut self) -> Result<(), PartiqlError> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(syntax(format!(
                "Statement is nested more than {MAX_DEPTH} levels deep"
            )));
        }
        Ok(())
    }

    /// Counts one operator.
    fn operator(&mut self) -> Result<(), PartiqlError> {
        self.operators += 1;
        if self.operators > MAX_OPERATORS {
            return Err(syntax(format!(
                "Statement has more than {MAX_OPERATORS} operators"
            )));
        }
        Ok(())
    }

    fn peek(&self) -> Option<&Token> {
        self.tokens.get(self.pos)
    }

    fn peek_at(&self, n: usize) -> Option<&Token> {
        self.tokens.get(self.pos + n)
    }

    fn next(&mut self) -> Option<Token> {
        let t = self.tokens.get(self.pos).cloned();
        self.pos += 1;
        t
    }

    fn unexpected(&self, t: &Token) -> PartiqlError {
        match t {
            Token::Ident(s) if is_keyword(s) => syntax(format!("Unexpected keyword: {s}")),
            _ => syntax(format!("Unexpected token: {}", t.describe())),
        }
    }

    fn eof() -> PartiqlError {
        syntax("Unexpected end of statement")
    }

    fn is_kw(&self, kw: &str) -> bool {
        matches!(self.peek(), Some(Token::Ident(s)) if s.eq_ignore_ascii_case(kw))
    }

    fn eat_kw(&mut self, kw: &str) -> bool {
        let yes = self.is_kw(kw);
        if yes {
            self.pos += 1;
        }
        yes
    }

    fn expect_kw(&mut self, kw: &str) -> Result<(), PartiqlError> {
        if self.eat_kw(kw) {
            return Ok(());
        }
        match self.peek() {
            Some(t) => Err(syntax(format!(
                "Expected {kw} but found {}",
                t.clone().describe()
            ))),
            None => Err(syntax(format!("Expected {kw}"))),
        }
    }

    fn is_sym(&self, sym: &str) -> bool {
        matches!(self.peek(), Some(Token::Sym(s)) if *s == sym)
    }

    fn eat_sym(&mut self, sym: &str) -> bool {
        let yes = self.is_sym(sym);
        if yes {
            self.pos += 1;
        }
        yes
    }

    fn expect_sym(&mut self, sym: &str) -> Result<(), PartiqlError> {
        if self.eat_sym(sym) {
            return Ok(());
        }
        match self.peek() {
            Some(t) => Err(syntax(format!(
                "Expected {sym} but found {}",
                t.clone().describe()
            ))),
            None => Err(syntax(format!("Expected {sym}"))),
        }
    }

    fn statement(&mut self) -> Result<Statement, PartiqlError> {
        match self.next() {
            Some(Token::Ident(s)) if s.eq_ignore_ascii_case("SELECT") => {
                self.select().map(Statement::Select)
            }
            Some(Token::Ident(s)) if s.eq_ignore_ascii_case("INSERT") => {
                self.insert().map(Statement::Insert)
            }
            Some(Token::Ident(s)) if s.eq_ignore_ascii_case("UPDATE") => {
                self.update().map(Statement::Update)
            }
            Some(Token::Ident(s)) if s.eq_ignore_ascii_case("DELETE") => {
                self.delete().map(Statement::Delete)
            }
            Some(Token::Ident(s)) if s.eq_ignore_ascii_case("EXISTS") => {
                self.expect_sym("(")?;
                self.expect_kw("SELECT")?;
                let select = self.select()?;
                self.expect_sym(")")?;
                Ok(Statement::Exists(select))
            }
            Some(t) => Err(self.unexpected(&t)),
            None => Err(Self::eof()),
        }
    }

    /// A table, index or attribute name: bare or quoted.
    fn name(&mut self) -> Result<String, PartiqlError> {
        match self.next() {
            Some(Token::Quoted(s)) => Ok(s),
            Some(Token::Ident(s)) if !is_keyword(&s) => Ok(s),
            Some(t) => Err(self.unexpected(&t)),
            None => Err(Self::eof()),
        }
    }

    fn select(&mut self) -> Result<Select, PartiqlError> {
        let projection = if self.eat_sym("*") {
            None
        } else {
            let mut paths = vec![self.path()?];
            while self.eat_sym(",") {
                paths.push(self.path()?);
            }
            Some(paths)
        };
        self.expect_kw("FROM")?;
        let table = self.name()?;
        let index = if self.eat_sym(".") {
            Some(self.name()?)
        } else {
            None
        };
        let filter = self.where_clause()?;
        let order_by = if self.eat_kw("ORDER") {
            self.expect_kw("BY")?;
            let path = self.path()?;
            let desc = if self.eat_kw("DESC") {
                true
            } else {
                self.eat_kw("ASC");
                false
            };
            Some((path, desc))
        } else {
            None
        };
        Ok(Select {
            projection,
            from: Target { table, index },
            filter,
            order_by,
        })
    }

    fn where_clause(&mut self) -> Result<Option<Expr>, PartiqlError> {
        if self.eat_kw("WHERE") {
            Ok(Some(self.expr()?))
        } else {
            Ok(None)
        }
    }

    fn insert(&mut self) -> Result<Insert, PartiqlError> {
        self.expect_kw("INTO")?;
        let table = self.name()?;
        self.expect_kw("VALUE")?;
        let value = self.primary()?;
        let returning = self.returning()?.is_some();
        Ok(Insert {
            table,
            value,
            returning,
        })
    }

    fn update(&mut self) -> Result<Update, PartiqlError> {
        let table = self.name()?;
        let mut actions = Vec::new();
        loop {
            if self.eat_kw("SET") {
                loop {
                    let path = self.path()?;
                    self.expect_sym("=")?;
                    actions.push(UpdateAction::Set(path, self.sum()?));
                    if !self.eat_sym(",") {
                        break;
                    }
                }
            } else if self.eat_kw("REMOVE") {
                loop {
                    actions.push(UpdateAction::Remove(self.path()?));
                    if !self.eat_sym(",") {
                        break;
                    }
                }
            } else {
                break;
            }
        }
        if actions.is_empty() {
            return Err(match self.peek() {
                Some(t) => syntax(format!("Expected SET or REMOVE but found {}", t.describe())),
                None => syntax("Expected SET or REMOVE"),
            });
        }
        let filter = self.where_clause()?;
        let returning = self.returning()?;
        Ok(Update {
            table,
            actions,
            filter,
            returning,
        })
    }

    fn delete(&mut self) -> Result<Delete, PartiqlError> {
        self.expect_kw("FROM")?;
        let table = self.name()?;
        let filter = self.where_clause()?;
        let returning = self.returning()?;
        Ok(Delete {
            table,
            filter,
            returning,
        })
    }

    fn returning(&mut self) -> Result<Option<Returning>, PartiqlError> {
        if !self.eat_kw("RETURNING") {
            return Ok(None);
        }
        let all = if self.eat_kw("ALL") {
            true
        } else if self.eat_kw("MODIFIED") {
            false
        } else {
            return Err(syntax("Expected ALL or MODIFIED after RETURNING"));
        };
        let new = if self.eat_kw("NEW") {
            true
        } else if self.eat_kw("OLD") {
            false
        } else {
            return Err(syntax("Expected OLD or NEW after RETURNING"));
        };
        self.expect_sym("*")?;
        Ok(Some(match (all, new) {
            (true, false) => Returning::AllOld,
            (false, false) => Returning::ModifiedOld,
            (true, true) => Returning::AllNew,
            (false, true) => Returning::ModifiedNew,
        }))
    }

    /// A document path: `a.b[2]."c d"`.
    fn path(&mut self) -> Result<Path, PartiqlError> {
        let first = self.name()?;
        self.path_rest(first)
    }

    fn path_rest(&mut self, first: String) -> Result<Path, PartiqlError> {
        let mut elems = vec![PathElem::Attr(first)];
        loop {
            if self.eat_sym(".") {
                elems.push(PathElem::Attr(self.name()?));
            } else if self.eat_sym("[") {
                match self.next() {
                    Some(Token::Num(n)) => {
                        let i = n
                            .parse::<usize>()
                            .map_err(|_| syntax(format!("Invalid list index: {n}")))?;
                        elems.push(PathElem::Index(i));
                    }
                    Some(Token::Str(s)) => elems.push(PathElem::Attr(s)),
                    Some(t) => return Err(self.unexpected(&t)),
                    None => return Err(Self::eof()),
                }
                self.expect_sym("]")?;
            } else {
                return Ok(Path(elems));
            }
        }
    }

    fn expr(&mut self) -> Result<Expr, PartiqlError> {
        let mut left = self.and()?;
        while self.eat_kw("OR") {
            self.operator()?;
            left = Expr::Or(Box::new(left), Box::new(self.and()?));
        }
        Ok(left)
    }

    fn and(&mut self) -> Result<Expr, PartiqlError> {
        let mut left = self.not()?;
        while self.eat_kw("AND") {
            self.operator()?;
            left = Expr::And(Box::new(left), Box::new(self.not()?));
        }
        Ok(left)
    }

    fn not(&mut self) -> Result<Expr, PartiqlError> {
        if self.eat_kw("NOT") {
            self.enter()?;
            let inner = self.not()?;
            self.depth -= 1;
            return Ok(Expr::Not(Box::new(inner)));
        }
        self.predicate()
    }

    fn predicate(&mut self) -> Result<Expr, PartiqlError> {
        let left = self.sum()?;
        let op = match self.peek() {
            Some(Token::Sym("=")) => Some(CmpOp::Eq),
            Some(Token::Sym("<>")) | Some(Token::Sym("!=")) => Some(CmpOp::Ne),
            Some(Token::Sym("<")) => Some(CmpOp::Lt),
            Some(Token::Sym("<=")) => Some(CmpOp::Le),
            Some(Token::Sym(">")) => Some(CmpOp::Gt),
            Some(Token::Sym(">=")) => Some(CmpOp::Ge),
            _ => None,
        };
        if let Some(op) = op {
            self.pos += 1;
            self.operator()?;
            let right = self.sum()?;
            return Ok(Expr::Cmp(op, Box::new(left), Box::new(right)));
        }
        let negated = if self.is_kw("NOT")
            && matches!(self.peek_at(1), Some(Token::Ident(s)) if s.eq_ignore_ascii_case("BETWEEN") || s.eq_ignore_ascii_case("IN"))
        {
            self.pos += 1;
            true
        } else {
            false
        };
        let wrap = |e: Expr| if negated { Expr::Not(Box::new(e)) } else { e };
        if self.eat_kw("BETWEEN") {
            let lo = self.sum()?;
            self.expect_kw("AND")?;
            let hi = self.sum()?;
            return Ok(wrap(Expr::Between(
                Box::new(left),
                Box::new(lo),
                Box::new(hi),
            )));
        }
        if self.eat_kw("IN") {
            let close = if self.eat_sym("[") {
                "]"
            } else if self.eat_sym("(") {
                ")"
            } else {
                return Err(syntax("Expected a list after IN"));
            };
            let mut list = Vec::new();
            if !self.eat_sym(close) {
                loop {
                    list.push(self.sum()?);
                    if self.eat_sym(close) {
                        break;
                    }
                    self.expect_sym(",")?;
                }
            }
            return Ok(wrap(Expr::In(Box::new(left), list)));
        }
        if self.eat_kw("IS") {
            let not = self.eat_kw("NOT");
            if self.eat_kw("MISSING") {
                return Ok(Expr::IsMissing(Box::new(left), not));
            }
            if self.eat_kw("NULL") {
                return Ok(Expr::IsNull(Box::new(left), not));
            }
            return Err(syntax("Expected MISSING or NULL after IS"));
        }
        Ok(left)
    }

    fn sum(&mut self) -> Result<Expr, PartiqlError> {
        let mut left = self.primary()?;
        loop {
            if self.eat_sym("+") {
                self.operator()?;
                left = Expr::Add(Box::new(left), Box::new(self.primary()?));
            } else if self.is_sym("-") {
                self.pos += 1;
                self.operator()?;
                left = Expr::Sub(Box::new(left), Box::new(self.primary()?));
            } else {
                return Ok(left);
            }
        }
    }

    /// A comma-separated list of expressions up to `close` (already past the opener).
    fn items(&mut self, close: &str) -> Result<Vec<Expr>, PartiqlError> {
        let mut out = Vec::new();
        if self.eat_sym(close) {
            return Ok(out);
        }
        loop {
            out.push(self.expr()?);
            if self.eat_sym(close) {
                return Ok(out);
            }
            self.expect_sym(",")?;
        }
    }

    fn primary(&mut self) -> Result<Expr, PartiqlError> {
        self.enter()?;
        let e = self.primary_inner();
        self.depth -= 1;
        e
    }

    fn primary_inner(&mut self) -> Result<Expr, PartiqlError> {
        let Some(t) = self.next() else {
            return Err(Self::eof());
        };
        match t {
            Token::Str(s) => Ok(Expr::Lit(Literal::Str(s))),
            Token::Num(n) => Ok(Expr::Lit(Literal::Num(n))),
            Token::Sym("-") => match self.next() {
                Some(Token::Num(n)) => Ok(Expr::Lit(Literal::Num(format!("-{n}")))),
                Some(t) => Err(self.unexpected(&t)),
                None => Err(Self::eof()),
            },
            Token::Sym("?") => {
                self.params += 1;
                Ok(Expr::Param(self.params - 1))
            }
            Token::Sym("(") => {
                let e = self.expr()?;
                self.expect_sym(")")?;
                Ok(e)
            }
            Token::Sym("[") => Ok(Expr::List(self.items("]")?)),
            Token::Sym("<<") => Ok(Expr::Set(self.items(">>")?)),
            Token::Sym("{") => {
                let mut fields = Vec::new();
                if self.eat_sym("}") {
                    return Ok(Expr::Tuple(fields));
                }
                loop {
                    let key = match self.next() {
                        Some(Token::Str(s)) | Some(Token::Quoted(s)) => s,
                        Some(t) => return Err(self.unexpected(&t)),
                        None => return Err(Self::eof()),
                    };
                    self.expect_sym(":")?;
                    fields.push((key, self.expr()?));
                    if self.eat_sym("}") {
                        return Ok(Expr::Tuple(fields));
                    }
                    self.expect_sym(",")?;
                }
            }
            Token::Ident(s) if s.eq_ignore_ascii_case("TRUE") => Ok(Expr::Lit(Literal::Bool(true))),
            Token::Ident(s) if s.eq_ignore_ascii_case("FALSE") => {
                Ok(Expr::Lit(Literal::Bool(false)))
            }
            Token::Ident(s) if s.eq_ignore_ascii_case("NULL") => Ok(Expr::Lit(Literal::Null)),
            Token::Ident(s) if self.is_sym("(") && !is_keyword(&s) => {
                self.pos += 1;
                Ok(Expr::Call(s.to_ascii_lowercase(), self.items(")")?))
            }
            Token::Ident(s) if !is_keyword(&s) => Ok(Expr::Path(self.path_rest(s)?)),
            Token::Quoted(s) => Ok(Expr::Path(self.path_rest(s)?)),
            t => Err(self.unexpected(&t)),
        }
    }
}

/// Words that cannot be bare names (quote them to use them as names).
fn is_keyword(s: &str) -> bool {
    const KEYWORDS: [&str; 22] = [
        "SELECT",
        "FROM",
        "WHERE",
        "AND",
        "OR",
        "NOT",
        "INSERT",
        "INTO",
        "UPDATE",
        "SET",
        "REMOVE",
        "DELETE",
        "RETURNING",
        "ORDER",
        "BY",
        "BETWEEN",
        "IN",
        "IS",
        "MISSING",
        "NULL",
        "TRUE",
        "FALSE",
    ];
    KEYWORDS.iter().any(|k| k.eq_ignore_ascii_case(s))
}

#[cfg(test)]
mod tests;
