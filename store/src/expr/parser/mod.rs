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
//!
//! This module holds the parser's state and the pieces every grammar shares (tokens,
//! placeholders, paths, raw operands); the grammars are in [`condition`] and [`update`]
//! (which also parses projections).

mod condition;
mod update;

use std::collections::HashMap;

use super::ast::{Path, PathElem, ValueRef};
use super::error::{ExprError, ExprKind, Reason};
use super::lexer::{tokenize, Tok, Token};
use super::reserved::is_reserved;
use crate::value::{AttributeValue, MAX_NESTING};

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

    /// Whether function `name` got `n` arguments (notes the error when not).
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
}
