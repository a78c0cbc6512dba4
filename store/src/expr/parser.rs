//! The recursive-descent parser for all five expression kinds.
//!
//! One [`Parser`] walks the token list of one expression. It resolves `#name`s and `:value`s
//! against the [`ExprContext`](super::ExprContext) as it goes and records which it used.
//!
//! Errors come in two classes, as in DynamoDB. A *syntax* error stops the parse at once and is
//! reported with the offending token and the text near it. A *semantic* error (reserved word,
//! undefined placeholder, wrong function, operand type...) is remembered and the parse goes on,
//! so a syntax error later in the text still wins; among semantic errors the one of the highest
//! class (see [`Class`]) is reported, matching the order in which DynamoDB checks.
//!
//! Condition grammar (NOT binds tighter than AND, AND tighter than OR):
//! ```text
//! or      := and (OR and)*
//! and     := not (AND not)*
//! not     := NOT not | primary
//! primary := '(' or ')' | operand comparator operand | operand BETWEEN operand AND operand
//!          | operand IN '(' operand (',' operand)* ')' | function '(' args ')'
//! operand := '(' operand ')' | :value | path | size '(' path ')'
//! path    := name ('.' name | '[' digits ']')*        name := identifier | #name
//! ```
//! Update grammar: `(SET a = v, ... | REMOVE p, ... | ADD p :v, ... | DELETE p :v, ...)+` where
//! `v := operand (('+' | '-') operand)?` and operands may be `if_not_exists(p, v)` and
//! `list_append(v, v)`. Projection grammar: `path (',' path)*`.

use std::collections::HashMap;

use super::ast::{
    CmpOp, Condition, Operand, Path, PathElem, Projection, SetValue, UpdateExpr, UpdateOperand,
    ValueRef,
};
use super::error::{ExprError, ExprKind, Reason};
use super::lexer::{tokenize, Tok, Token};
use super::reserved::is_reserved;
use crate::value::{AttributeValue, ValueType, MAX_NESTING};

/// Longest expression DynamoDB accepts, in bytes.
pub const MAX_EXPRESSION_BYTES: usize = 4096;
/// Most candidates an IN list may have.
pub const MAX_IN_OPERANDS: usize = 100;
/// Deepest nesting of parentheses and NOTs the parser follows (bounds its stack use).
const MAX_PARSE_DEPTH: usize = 64;

/// Semantic error classes, highest priority first: of several semantic errors, the one in the
/// earliest class is reported (ties go to the first found).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Class {
    /// Redundant parentheses.
    Parens,
    /// Unknown or misplaced function names.
    Function,
    /// A function used where a value or condition belongs.
    Misuse,
    /// Reserved words as attribute names.
    Reserved,
    /// A clause keyword used twice.
    Section,
    /// Undefined `#name` or `:value`.
    Undefined,
    /// Overlapping or conflicting paths.
    Overlap,
    /// Operand counts, types and the like.
    Operand,
}

/// A syntax failure: where, and the error.
#[derive(Debug)]
pub(crate) struct Fail {
    pos: usize,
    reason: Reason,
}

type PResult<T> = Result<T, Fail>;

/// What the parser needs from the context: the placeholder maps.
pub(crate) struct Maps<'a> {
    /// ExpressionAttributeNames.
    pub names: &'a HashMap<String, String>,
    /// ExpressionAttributeValues.
    pub values: &'a HashMap<String, AttributeValue>,
}

/// A parsed function argument or operand before it is known where it is used.
#[derive(Clone, Debug)]
enum Raw {
    Path(Path),
    Value(ValueRef),
    Call(String, Vec<Raw>),
}

/// The parser state for one expression.
pub(crate) struct Parser<'a> {
    src: &'a str,
    toks: Vec<Token>,
    pos: usize,
    kind: ExprKind,
    maps: Maps<'a>,
    depth: usize,
    pending: Option<(Class, Reason)>,
    /// Placeholders used so far (kept in order so a backtrack can forget later ones).
    pub used_names: Vec<String>,
    /// Value placeholders used so far.
    pub used_values: Vec<String>,
}

/// Where the parser was, to backtrack to.
struct Mark {
    pos: usize,
    depth: usize,
    pending: Option<(Class, Reason)>,
    names: usize,
    values: usize,
}

impl<'a> Parser<'a> {
    /// Prepares to parse `src` as an expression of `kind`; rejects empty and oversized input.
    pub fn new(src: &'a str, kind: ExprKind, maps: Maps<'a>) -> Result<Self, ExprError> {
        if src.len() > MAX_EXPRESSION_BYTES {
            return Err(ExprError::invalid(kind, Reason::TooLong(src.len())));
        }
        if src
            .trim_matches(|c| matches!(c, ' ' | '\t' | '\r' | '\n'))
            .is_empty()
        {
            return Err(ExprError::invalid(kind, Reason::Empty));
        }
        Ok(Parser {
            src,
            toks: tokenize(src),
            pos: 0,
            kind,
            maps,
            depth: 0,
            pending: None,
            used_names: Vec::new(),
            used_values: Vec::new(),
        })
    }

    /// Runs `rule` over the whole input; it must consume every token.
    pub fn run<T>(&mut self, rule: impl FnOnce(&mut Self) -> PResult<T>) -> Result<T, ExprError> {
        let result = rule(self).and_then(|t| {
            if self.peek().tok == Tok::Eof {
                Ok(t)
            } else {
                Err(self.syntax())
            }
        });
        match result {
            Err(fail) => Err(ExprError::invalid(self.kind, fail.reason)),
            Ok(t) => match self.pending.take() {
                Some((_, reason)) => Err(ExprError::invalid(self.kind, reason)),
                None => Ok(t),
            },
        }
    }

    // ----- token helpers -----

    fn peek(&self) -> &Token {
        let last = self.toks.len().saturating_sub(1);
        &self.toks[self.pos.min(last)]
    }

    fn peek_at(&self, ahead: usize) -> &Token {
        let last = self.toks.len().saturating_sub(1);
        &self.toks[(self.pos + ahead).min(last)]
    }

    fn bump(&mut self) -> Token {
        let t = self.peek().clone();
        if t.tok != Tok::Eof {
            self.pos += 1;
        }
        t
    }

    fn eat(&mut self, tok: &Tok) -> bool {
        if &self.peek().tok == tok {
            self.bump();
            true
        } else {
            false
        }
    }

    fn expect(&mut self, tok: &Tok) -> PResult<()> {
        if self.eat(tok) {
            Ok(())
        } else {
            Err(self.syntax())
        }
    }

    fn eat_keyword(&mut self, kw: &str) -> bool {
        if self.peek().is_keyword(kw) {
            self.bump();
            true
        } else {
            false
        }
    }

    /// A syntax error at the current token: `token: "<tok>", near: "<previous token .. tok>"`.
    fn syntax(&self) -> Fail {
        let last = self.toks.len().saturating_sub(1);
        let pos = self.pos.min(last);
        let tok = &self.toks[pos];
        let start = if pos > 0 {
            self.toks[pos - 1].span.start
        } else {
            tok.span.start
        };
        let near = self
            .src
            .get(start..tok.span.end)
            .unwrap_or("")
            .trim()
            .to_string();
        Fail {
            pos,
            reason: Reason::Syntax {
                token: tok.text(self.src).to_string(),
                near,
            },
        }
    }

    fn note(&mut self, class: Class, reason: Reason) {
        match &self.pending {
            Some((c, _)) if *c <= class => {}
            _ => self.pending = Some((class, reason)),
        }
    }

    fn mark(&self) -> Mark {
        Mark {
            pos: self.pos,
            depth: self.depth,
            pending: self.pending.clone(),
            names: self.used_names.len(),
            values: self.used_values.len(),
        }
    }

    fn reset(&mut self, m: Mark) {
        self.pos = m.pos;
        self.depth = m.depth;
        self.pending = m.pending;
        self.used_names.truncate(m.names);
        self.used_values.truncate(m.values);
    }

    fn enter(&mut self) -> PResult<()> {
        self.depth += 1;
        if self.depth > MAX_PARSE_DEPTH {
            return Err(self.syntax());
        }
        Ok(())
    }

    fn leave(&mut self) {
        self.depth = self.depth.saturating_sub(1);
    }

    /// Words that delimit the grammar of this expression kind and so cannot start a path.
    fn is_structural(&self, t: &Token) -> bool {
        let words: &[&str] = match self.kind {
            ExprKind::Update => &["SET", "REMOVE", "ADD", "DELETE"],
            ExprKind::Projection => &[],
            _ => &["AND", "OR", "NOT", "BETWEEN", "IN"],
        };
        words.iter().any(|w| t.is_keyword(w))
    }

    // ----- names, values, paths -----

    fn resolve_name(&mut self, placeholder: &str) -> String {
        match self.maps.names.get(placeholder) {
            Some(n) => {
                self.used_names.push(placeholder.to_string());
                n.clone()
            }
            None => {
                self.note(
                    Class::Undefined,
                    Reason::UndefinedName(placeholder.to_string()),
                );
                placeholder.to_string()
            }
        }
    }

    fn resolve_value(&mut self, placeholder: &str) -> ValueRef {
        match self.maps.values.get(placeholder) {
            Some(v) => {
                self.used_values.push(placeholder.to_string());
                ValueRef {
                    name: placeholder.to_string(),
                    value: v.clone(),
                }
            }
            None => {
                self.note(
                    Class::Undefined,
                    Reason::UndefinedValue(placeholder.to_string()),
                );
                ValueRef {
                    name: placeholder.to_string(),
                    value: AttributeValue::Null,
                }
            }
        }
    }

    fn path_name(&mut self) -> PResult<String> {
        let t = self.peek().clone();
        match &t.tok {
            Tok::Ident(s) if !self.is_structural(&t) => {
                self.bump();
                if is_reserved(s) {
                    self.note(Class::Reserved, Reason::Reserved(s.clone()));
                }
                Ok(s.clone())
            }
            Tok::Name(n) => {
                self.bump();
                Ok(self.resolve_name(n))
            }
            _ => Err(self.syntax()),
        }
    }

    /// The rest of a path after its first name.
    fn path_tail(&mut self, first: String) -> PResult<Path> {
        let mut elems = vec![PathElem::Attr(first)];
        loop {
            match self.peek().tok {
                Tok::Dot => {
                    self.bump();
                    let name = self.path_name()?;
                    elems.push(PathElem::Attr(name));
                }
                Tok::LBracket => {
                    self.bump();
                    let index = match &self.peek().tok {
                        Tok::Int(digits) => digits.parse::<u32>().ok(),
                        _ => None,
                    };
                    let Some(index) = index else {
                        return Err(self.syntax());
                    };
                    self.bump();
                    self.expect(&Tok::RBracket)?;
                    elems.push(PathElem::Index(index as usize));
                }
                _ => break,
            }
        }
        if elems.len() > MAX_NESTING {
            self.note(Class::Operand, Reason::PathTooDeep(elems.len()));
        }
        Ok(Path(elems))
    }

    fn path(&mut self) -> PResult<Path> {
        let first = self.path_name()?;
        self.path_tail(first)
    }

    /// A path, value or function call (any of them possibly in parentheses).
    fn raw(&mut self) -> PResult<Raw> {
        let t = self.peek().clone();
        match &t.tok {
            Tok::LParen => {
                self.enter()?;
                self.bump();
                if self.peek().tok == Tok::LParen && self.kind != ExprKind::Update {
                    // `((x))` around an operand: redundant if the inner group closes right
                    // before the outer one.
                    let r = self.raw()?;
                    if self.peek().tok == Tok::RParen {
                        self.note(Class::Parens, Reason::RedundantParentheses);
                    }
                    self.expect(&Tok::RParen)?;
                    self.leave();
                    return Ok(r);
                }
                let r = self.raw()?;
                self.expect(&Tok::RParen)?;
                self.leave();
                Ok(r)
            }
            Tok::Value(v) => {
                self.bump();
                Ok(Raw::Value(self.resolve_value(v)))
            }
            Tok::Ident(name) if self.peek_at(1).tok == Tok::LParen && !self.is_structural(&t) => {
                self.bump();
                self.bump();
                self.enter()?;
                let mut args = vec![self.raw()?];
                while self.eat(&Tok::Comma) {
                    args.push(self.raw()?);
                }
                self.expect(&Tok::RParen)?;
                self.leave();
                Ok(Raw::Call(name.clone(), args))
            }
            _ => Ok(Raw::Path(self.path()?)),
        }
    }

    // ----- conditions -----

    /// Parses a whole condition (ConditionExpression, FilterExpression, KeyConditionExpression).
    pub fn condition(&mut self) -> PResult<Condition> {
        let (c, _) = self.or()?;
        Ok(c)
    }

    /// Returns the condition and whether it is exactly one parenthesised group (for the
    /// redundant-parentheses check).
    fn or(&mut self) -> PResult<(Condition, bool)> {
        let (mut left, mut grouped) = self.and()?;
        while self.eat_keyword("OR") {
            let (right, _) = self.and()?;
            left = Condition::Or(Box::new(left), Box::new(right));
            grouped = false;
        }
        Ok((left, grouped))
    }

    fn and(&mut self) -> PResult<(Condition, bool)> {
        let (mut left, mut grouped) = self.not()?;
        while self.eat_keyword("AND") {
            let (right, _) = self.not()?;
            left = Condition::And(Box::new(left), Box::new(right));
            grouped = false;
        }
        Ok((left, grouped))
    }

    fn not(&mut self) -> PResult<(Condition, bool)> {
        if self.eat_keyword("NOT") {
            self.enter()?;
            let (inner, _) = self.not()?;
            self.leave();
            return Ok((Condition::Not(Box::new(inner)), false));
        }
        self.primary()
    }

    fn primary(&mut self) -> PResult<(Condition, bool)> {
        if self.peek().tok != Tok::LParen {
            return Ok((self.comparison()?, false));
        }
        // `(` opens either a parenthesised condition or a parenthesised operand: try the
        // condition first; if that fails or is followed by a comparator, re-read as operand.
        let start = self.mark();
        let as_group: PResult<Condition> = (|| {
            self.enter()?;
            self.bump();
            let (inner, inner_grouped) = self.or()?;
            self.expect(&Tok::RParen)?;
            self.leave();
            if inner_grouped {
                self.note(Class::Parens, Reason::RedundantParentheses);
            }
            Ok(inner)
        })();
        let follows_operator = matches!(
            self.peek().tok,
            Tok::Eq | Tok::Ne | Tok::Lt | Tok::Le | Tok::Gt | Tok::Ge
        ) || self.peek().is_keyword("BETWEEN")
            || self.peek().is_keyword("IN");
        match as_group {
            Ok(c) if !follows_operator => Ok((c, true)),
            group_result => {
                let group_fail = group_result.err();
                let after_group = self.mark();
                self.reset(start);
                match self.comparison() {
                    Ok(c) => Ok((c, false)),
                    Err(e) => match group_fail {
                        Some(g) if g.pos >= e.pos => {
                            self.reset(after_group);
                            Err(g)
                        }
                        _ => Err(e),
                    },
                }
            }
        }
    }

    fn comparison(&mut self) -> PResult<Condition> {
        let first = self.raw()?;
        let t = self.peek().clone();
        let op = match t.tok {
            Tok::Eq => Some(CmpOp::Eq),
            Tok::Ne => Some(CmpOp::Ne),
            Tok::Lt => Some(CmpOp::Lt),
            Tok::Le => Some(CmpOp::Le),
            Tok::Gt => Some(CmpOp::Gt),
            Tok::Ge => Some(CmpOp::Ge),
            _ => None,
        };
        if let Some(op) = op {
            self.bump();
            let second = self.raw()?;
            let a = self.operand(first);
            let b = self.operand(second);
            self.check_distinct(op.as_str(), &a, &b);
            return Ok(Condition::Compare(op, a, b));
        }
        if self.eat_keyword("BETWEEN") {
            let low = self.raw()?;
            if !self.eat_keyword("AND") {
                return Err(self.syntax());
            }
            let high = self.raw()?;
            let v = self.operand(first);
            let low = self.operand(low);
            let high = self.operand(high);
            self.check_between(&low, &high);
            return Ok(Condition::Between(v, low, high));
        }
        if self.eat_keyword("IN") {
            self.expect(&Tok::LParen)?;
            let mut list = vec![self.raw()?];
            while self.eat(&Tok::Comma) {
                list.push(self.raw()?);
            }
            self.expect(&Tok::RParen)?;
            if list.len() > MAX_IN_OPERANDS {
                self.note(Class::Operand, Reason::TooManyInOperands(list.len()));
            }
            let v = self.operand(first);
            let list = list.into_iter().map(|r| self.operand(r)).collect();
            return Ok(Condition::In(v, list));
        }
        match first {
            Raw::Call(name, args) => Ok(self.function_condition(name, args)),
            _ => Err(self.syntax()),
        }
    }

    fn check_distinct(&mut self, operator: &str, a: &Operand, b: &Operand) {
        if let (Operand::Path(x), Operand::Path(y)) = (a, b) {
            if x == y {
                self.note(
                    Class::Operand,
                    Reason::NotDistinct {
                        operator: operator.to_string(),
                        path: x.bracketed(),
                    },
                );
            }
        }
    }

    fn check_between(&mut self, low: &Operand, high: &Operand) {
        let (Operand::Value(lo), Operand::Value(hi)) = (low, high) else {
            return;
        };
        let (lo, hi) = (&lo.value, &hi.value);
        if lo.value_type() != hi.value_type() {
            self.note(
                Class::Operand,
                Reason::BetweenTypes {
                    low: describe(lo),
                    high: describe(hi),
                },
            );
        } else if super::eval::compare_values(lo, hi) == Some(std::cmp::Ordering::Greater) {
            self.note(
                Class::Operand,
                Reason::BetweenOrder {
                    low: describe(lo),
                    high: describe(hi),
                },
            );
        }
    }

    /// Checks a function name used in a condition; returns false if it is not usable.
    fn known_condition_function(&mut self, name: &str) -> bool {
        match name {
            "attribute_exists"
            | "attribute_not_exists"
            | "attribute_type"
            | "begins_with"
            | "contains"
            | "size" => true,
            "if_not_exists" | "list_append" => {
                self.note(
                    Class::Function,
                    Reason::FunctionNotAllowedInCondition(name.to_string()),
                );
                false
            }
            _ => {
                self.note(Class::Function, Reason::UnknownFunction(name.to_string()));
                false
            }
        }
    }

    fn arity(&mut self, name: &str, args: &[Raw], n: usize) -> bool {
        if args.len() != n {
            self.note(
                Class::Operand,
                Reason::OperandCount {
                    function: name.to_string(),
                    count: args.len(),
                },
            );
            return false;
        }
        true
    }

    fn require_path(&mut self, function: &str, raw: Raw) -> Path {
        match raw {
            Raw::Path(p) => p,
            other => {
                // still check what is inside (undefined names, misused functions)
                let _ = self.operand(other);
                self.note(Class::Operand, Reason::RequiresPath(function.to_string()));
                Path::attr("")
            }
        }
    }

    /// A parsed operand where a value is expected: only `size` may be called here.
    fn operand(&mut self, raw: Raw) -> Operand {
        match raw {
            Raw::Path(p) => Operand::Path(p),
            Raw::Value(v) => Operand::Value(v),
            Raw::Call(name, args) => {
                if !self.known_condition_function(&name) {
                    return Operand::Path(Path::attr(""));
                }
                if name != "size" {
                    self.note(Class::Misuse, Reason::MisusedFunction(name.clone()));
                    return Operand::Path(Path::attr(""));
                }
                if !self.arity(&name, &args, 1) {
                    return Operand::Path(Path::attr(""));
                }
                let arg = args.into_iter().next().unwrap_or(Raw::Path(Path::attr("")));
                if let Raw::Value(v) = &arg {
                    let ty = v.value.value_type();
                    if matches!(ty, ValueType::N | ValueType::Bool | ValueType::Null) {
                        self.note(
                            Class::Operand,
                            Reason::OperandType {
                                function: name.clone(),
                                ty: ty.as_str().to_string(),
                            },
                        );
                    }
                }
                Operand::Size(self.require_path(&name, arg))
            }
        }
    }

    fn check_string_or_binary(&mut self, function: &str, o: &Operand) {
        let ty = match o {
            Operand::Value(v) => v.value.value_type(),
            Operand::Size(_) => ValueType::N,
            Operand::Path(_) => return,
        };
        if !matches!(ty, ValueType::S | ValueType::B) {
            self.note(
                Class::Operand,
                Reason::OperandType {
                    function: function.to_string(),
                    ty: ty.as_str().to_string(),
                },
            );
        }
    }

    fn function_condition(&mut self, name: String, args: Vec<Raw>) -> Condition {
        let placeholder = Condition::AttributeExists(Path::attr(""));
        if !self.known_condition_function(&name) {
            return placeholder;
        }
        match name.as_str() {
            "size" => {
                self.note(Class::Misuse, Reason::MisusedFunction(name));
                placeholder
            }
            "attribute_exists" | "attribute_not_exists" => {
                if !self.arity(&name, &args, 1) {
                    return placeholder;
                }
                let arg = args.into_iter().next().unwrap_or(Raw::Path(Path::attr("")));
                let p = self.require_path(&name, arg);
                if name == "attribute_exists" {
                    Condition::AttributeExists(p)
                } else {
                    Condition::AttributeNotExists(p)
                }
            }
            "attribute_type" => {
                if !self.arity(&name, &args, 2) {
                    return placeholder;
                }
                let mut it = args.into_iter();
                let (Some(a), Some(b)) = (it.next(), it.next()) else {
                    return placeholder;
                };
                let p = self.require_path(&name, a);
                match self.operand(b) {
                    Operand::Value(v) => {
                        match &v.value {
                            AttributeValue::S(s) if ValueType::parse(s).is_none() => {
                                self.note(Class::Operand, Reason::InvalidTypeName(s.clone()));
                            }
                            AttributeValue::S(_) => {}
                            other => self.note(
                                Class::Operand,
                                Reason::OperandType {
                                    function: name.clone(),
                                    ty: other.value_type().as_str().to_string(),
                                },
                            ),
                        }
                        Condition::AttributeType(p, v)
                    }
                    Operand::Size(_) => {
                        self.note(
                            Class::Operand,
                            Reason::OperandType {
                                function: name.clone(),
                                ty: "N".into(),
                            },
                        );
                        placeholder
                    }
                    Operand::Path(_) => {
                        self.note(
                            Class::Operand,
                            Reason::OperandType {
                                function: name.clone(),
                                ty: "{NS,SS,L,BS,N,M,B,BOOL,NULL,S}".into(),
                            },
                        );
                        placeholder
                    }
                }
            }
            _ => {
                // begins_with, contains
                if !self.arity(&name, &args, 2) {
                    return placeholder;
                }
                let mut it = args.into_iter();
                let (Some(a), Some(b)) = (it.next(), it.next()) else {
                    return placeholder;
                };
                let a = self.operand(a);
                let b = self.operand(b);
                self.check_distinct(&name, &a, &b);
                if name == "begins_with" {
                    self.check_string_or_binary(&name, &a);
                    self.check_string_or_binary(&name, &b);
                    Condition::BeginsWith(a, b)
                } else {
                    Condition::Contains(a, b)
                }
            }
        }
    }

    // ----- projections -----

    /// Parses a ProjectionExpression.
    pub fn projection(&mut self) -> PResult<Projection> {
        let mut paths = vec![self.path()?];
        while self.eat(&Tok::Comma) {
            paths.push(self.path()?);
        }
        self.check_overlaps(&paths);
        Ok(Projection { paths })
    }

    fn check_overlaps(&mut self, paths: &[Path]) {
        for (i, b) in paths.iter().enumerate() {
            for a in &paths[..i] {
                if let Some(reason) = overlap(a, b) {
                    self.note(Class::Overlap, reason);
                    return;
                }
            }
        }
    }

    // ----- updates -----

    /// Parses an UpdateExpression.
    pub fn update(&mut self) -> PResult<UpdateExpr> {
        let mut u = UpdateExpr::default();
        let mut seen = [false; 4];
        loop {
            let t = self.peek().clone();
            let section = ["SET", "REMOVE", "ADD", "DELETE"]
                .into_iter()
                .position(|k| t.is_keyword(k));
            let Some(section) = section else {
                return Err(self.syntax());
            };
            self.bump();
            let keyword = ["SET", "REMOVE", "ADD", "DELETE"][section];
            if seen[section] {
                self.note(Class::Section, Reason::DuplicateSection(keyword));
            }
            seen[section] = true;
            loop {
                let path = self.path()?;
                match section {
                    0 => {
                        self.expect(&Tok::Eq)?;
                        let v = self.set_value()?;
                        u.set.push((path, v));
                    }
                    1 => u.remove.push(path),
                    _ => {
                        let t = self.peek().clone();
                        let Tok::Value(name) = &t.tok else {
                            return Err(self.syntax());
                        };
                        self.bump();
                        let v = self.resolve_value(name);
                        self.check_action_value(keyword, &v.value);
                        if section == 2 {
                            u.add.push((path, v));
                        } else {
                            u.delete.push((path, v));
                        }
                    }
                }
                if !self.eat(&Tok::Comma) {
                    break;
                }
            }
            if self.peek().tok == Tok::Eof {
                break;
            }
        }
        let paths: Vec<Path> = u.paths().cloned().collect();
        self.check_overlaps(&paths);
        Ok(u)
    }

    fn check_action_value(&mut self, operator: &'static str, v: &AttributeValue) {
        let ty = match v.value_type() {
            ValueType::Ss | ValueType::Ns | ValueType::Bs => return,
            ValueType::N if operator == "ADD" => return,
            ValueType::S => "STRING",
            ValueType::N => "NUMBER",
            ValueType::B => "BINARY",
            ValueType::Null => "NULL",
            ValueType::Bool => "BOOLEAN",
            ValueType::L => "LIST",
            ValueType::M => "MAP",
        };
        self.note(Class::Operand, Reason::ActionOperandType { operator, ty });
    }

    fn set_value(&mut self) -> PResult<SetValue> {
        // `SET a = (b + :c)` is allowed: one optional pair of parentheses around the whole value
        if self.peek().tok == Tok::LParen {
            let m = self.mark();
            self.bump();
            if let Ok(v) = self.set_value_inner() {
                if self.eat(&Tok::RParen) && matches!(v, SetValue::Plus(..) | SetValue::Minus(..)) {
                    return Ok(v);
                }
            }
            self.reset(m);
        }
        self.set_value_inner()
    }

    fn set_value_inner(&mut self) -> PResult<SetValue> {
        let a = self.update_operand()?;
        let plus = match self.peek().tok {
            Tok::Plus => true,
            Tok::Minus => false,
            _ => return Ok(SetValue::Operand(a)),
        };
        let op = if plus { "+" } else { "-" };
        self.bump();
        let b = self.update_operand()?;
        for o in [&a, &b] {
            if let UpdateOperand::Value(v) = o {
                let ty = v.value.value_type();
                if ty != ValueType::N {
                    self.note(
                        Class::Operand,
                        Reason::OperandType {
                            function: op.into(),
                            ty: ty.as_str().into(),
                        },
                    );
                }
            }
        }
        Ok(if plus {
            SetValue::Plus(a, b)
        } else {
            SetValue::Minus(a, b)
        })
    }

    fn update_operand(&mut self) -> PResult<UpdateOperand> {
        let raw = self.raw()?;
        Ok(self.update_operand_from(raw))
    }

    fn update_operand_from(&mut self, raw: Raw) -> UpdateOperand {
        let placeholder = UpdateOperand::Path(Path::attr(""));
        match raw {
            Raw::Path(p) => UpdateOperand::Path(p),
            Raw::Value(v) => UpdateOperand::Value(v),
            Raw::Call(name, args) => match name.as_str() {
                "if_not_exists" | "list_append" => {
                    if !self.arity(&name, &args, 2) {
                        return placeholder;
                    }
                    let mut it = args.into_iter();
                    let (Some(a), Some(b)) = (it.next(), it.next()) else {
                        return placeholder;
                    };
                    if name == "if_not_exists" {
                        let p = match a {
                            Raw::Path(p) => p,
                            other => {
                                let _ = self.update_operand_from(other);
                                self.note(Class::Operand, Reason::RequiresPath(name.clone()));
                                Path::attr("")
                            }
                        };
                        UpdateOperand::IfNotExists(p, Box::new(self.update_operand_from(b)))
                    } else {
                        let a = self.update_operand_from(a);
                        let b = self.update_operand_from(b);
                        for o in [&a, &b] {
                            if let UpdateOperand::Value(v) = o {
                                let ty = v.value.value_type();
                                if ty != ValueType::L {
                                    self.note(
                                        Class::Operand,
                                        Reason::OperandType {
                                            function: name.clone(),
                                            ty: ty.as_str().into(),
                                        },
                                    );
                                }
                            }
                        }
                        UpdateOperand::ListAppend(Box::new(a), Box::new(b))
                    }
                }
                "attribute_exists"
                | "attribute_not_exists"
                | "attribute_type"
                | "begins_with"
                | "contains"
                | "size" => {
                    self.note(Class::Function, Reason::FunctionNotAllowedInUpdate(name));
                    placeholder
                }
                _ => {
                    self.note(Class::Function, Reason::UnknownFunction(name));
                    placeholder
                }
            },
        }
    }
}

/// How DynamoDB prints a value inside BETWEEN errors: `{N:5}`, `{S:abc}`.
fn describe(v: &AttributeValue) -> String {
    let inner = match v {
        AttributeValue::S(s) => s.clone(),
        AttributeValue::N(n) => n.to_string(),
        AttributeValue::B(b) => String::from_utf8_lossy(b).into_owned(),
        AttributeValue::Bool(b) => b.to_string(),
        AttributeValue::Null => "true".into(),
        other => format!("{other:?}"),
    };
    format!("{{{}:{inner}}}", v.value_type())
}

/// Whether two paths of one update or projection collide: one contains the other (overlap),
/// or they use one element both as a map and as a list (conflict).
pub(crate) fn overlap(a: &Path, b: &Path) -> Option<Reason> {
    for (x, y) in a.0.iter().zip(b.0.iter()) {
        match (x, y) {
            (PathElem::Attr(_), PathElem::Index(_)) | (PathElem::Index(_), PathElem::Attr(_)) => {
                return Some(Reason::PathConflict {
                    one: a.bracketed(),
                    two: b.bracketed(),
                });
            }
            _ if x != y => return None,
            _ => {}
        }
    }
    Some(Reason::PathOverlap {
        one: a.bracketed(),
        two: b.bracketed(),
    })
}
