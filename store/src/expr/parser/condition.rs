//! The condition grammar (ConditionExpression, FilterExpression, KeyConditionExpression):
//! OR, AND and NOT, comparisons, BETWEEN, IN and the condition functions, with DynamoDB's
//! semantic checks on operands.

use super::{Class, PResult, Parser, Raw, MAX_IN_OPERANDS};
use crate::expr::ast::{CmpOp, Condition, Operand, Path, ValueRef};
use crate::expr::error::Reason;
use crate::expr::lexer::Tok;
use crate::value::{AttributeValue, Number, ValueType};

impl Parser<'_> {
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
            if !matches!(op, CmpOp::Eq | CmpOp::Ne) {
                self.check_orderable(op.as_str(), &[&a, &b]);
            }
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
            self.check_orderable("BETWEEN", &[&v, &low, &high]);
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

    /// An ordering comparison (`<`, `<=`, `>`, `>=`, `BETWEEN`) with a `:value` that cannot be
    /// ordered (a list, map, set, boolean or null) is an error in the request, as in DynamoDB;
    /// the same types read from the item only make the condition false.
    fn check_orderable(&mut self, operator: &str, operands: &[&Operand]) {
        for o in operands {
            if let Operand::Value(v) = o {
                let ty = v.value.value_type();
                if !matches!(ty, ValueType::S | ValueType::N | ValueType::B) {
                    self.note(
                        Class::Operand,
                        Reason::OperandType {
                            function: operator.to_string(),
                            ty: ty.as_str().to_string(),
                        },
                    );
                    return;
                }
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
        } else if crate::expr::eval::compare_values(lo, hi) == Some(std::cmp::Ordering::Greater) {
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
                if let Raw::Value(v) = arg {
                    // `size(:v)` is the size of the value itself, as in DynamoDB.
                    return match crate::expr::eval::size(&v.value) {
                        Some(n) => Operand::Value(ValueRef {
                            name: v.name,
                            value: AttributeValue::N(Number::from_i64(
                                i64::try_from(n).unwrap_or(i64::MAX),
                            )),
                        }),
                        None => {
                            self.note(
                                Class::Operand,
                                Reason::OperandType {
                                    function: name.clone(),
                                    ty: v.value.value_type().as_str().to_string(),
                                },
                            );
                            Operand::Path(Path::attr(""))
                        }
                    };
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
