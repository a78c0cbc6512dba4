//! The update grammar (`SET`, `REMOVE`, `ADD`, `DELETE` clauses and their values) and the
//! projection grammar, with the checks on overlapping paths both share.

use super::{Class, PResult, Parser, Raw};
use crate::expr::ast::{Path, PathElem, Projection, SetValue, UpdateExpr, UpdateOperand};
use crate::expr::error::Reason;
use crate::expr::lexer::Tok;
use crate::value::{AttributeValue, ValueType};

impl Parser<'_> {
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
