//! Document paths on items: reading, writing and removing the value at `a.b[2].c`.
//!
//! Reads are forgiving (a missing step or a step through the wrong type simply finds nothing),
//! because conditions treat a missing attribute as absent, not as an error. Writes follow
//! DynamoDB's update rules: everything above the target must exist and be a map or list of the
//! right kind ("The document path provided in the update expression is invalid for update"), a
//! list index past the end appends, and removing something that is not there does nothing.

use super::ast::{Path, PathElem};
use super::error::ExprError;
use crate::value::{AttributeValue, Item};

/// The value at `path` in `item`, if there is one.
pub fn resolve<'a>(item: &'a Item, path: &Path) -> Option<&'a AttributeValue> {
    let mut elems = path.0.iter();
    let mut cur = match elems.next()? {
        PathElem::Attr(a) => item.get(a)?,
        PathElem::Index(_) => return None,
    };
    for e in elems {
        cur = step(cur, e)?;
    }
    Some(cur)
}

fn step<'a>(v: &'a AttributeValue, e: &PathElem) -> Option<&'a AttributeValue> {
    match (v, e) {
        (AttributeValue::M(m), PathElem::Attr(a)) => m.get(a),
        (AttributeValue::L(l), PathElem::Index(i)) => l.get(*i),
        _ => None,
    }
}

/// Where a nested path's parent is.
enum Parent<'a> {
    Found(&'a mut AttributeValue),
    Missing,
    WrongType,
}

/// The value holding the last element of `path` (which must have at least two elements).
fn parent_mut<'a>(item: &'a mut Item, path: &Path) -> Parent<'a> {
    let Some((_, above)) = path.0.split_last() else {
        return Parent::WrongType;
    };
    let mut elems = above.iter();
    let mut cur = match elems.next() {
        Some(PathElem::Attr(a)) => match item.get_mut(a) {
            Some(v) => v,
            None => return Parent::Missing,
        },
        _ => return Parent::WrongType,
    };
    for e in elems {
        cur = match (cur, e) {
            (AttributeValue::M(m), PathElem::Attr(a)) => match m.get_mut(a) {
                Some(v) => v,
                None => return Parent::Missing,
            },
            (AttributeValue::L(l), PathElem::Index(i)) => match l.get_mut(*i) {
                Some(v) => v,
                None => return Parent::Missing,
            },
            _ => return Parent::WrongType,
        };
    }
    Parent::Found(cur)
}

/// Writes `value` at `path`. A list index at or past the end appends.
pub fn set(item: &mut Item, path: &Path, value: AttributeValue) -> Result<(), ExprError> {
    let Some(last) = path.0.last() else {
        return Err(ExprError::InvalidDocumentPath);
    };
    if path.0.len() == 1 {
        return match last {
            PathElem::Attr(a) => {
                item.insert(a.clone(), value);
                Ok(())
            }
            PathElem::Index(_) => Err(ExprError::InvalidDocumentPath),
        };
    }
    match (parent_mut(item, path), last) {
        (Parent::Found(AttributeValue::M(m)), PathElem::Attr(a)) => {
            m.insert(a.clone(), value);
            Ok(())
        }
        (Parent::Found(AttributeValue::L(l)), PathElem::Index(i)) => {
            match l.get_mut(*i) {
                Some(slot) => *slot = value,
                None => l.push(value),
            }
            Ok(())
        }
        _ => Err(ExprError::InvalidDocumentPath),
    }
}

/// Removes the value at `path` (a list element: the later ones shift down). Removing what is
/// not there does nothing; removing below a scalar is an invalid path.
pub fn remove(item: &mut Item, path: &Path) -> Result<Option<AttributeValue>, ExprError> {
    let Some(last) = path.0.last() else {
        return Err(ExprError::InvalidDocumentPath);
    };
    if path.0.len() == 1 {
        return match last {
            PathElem::Attr(a) => Ok(item.remove(a)),
            PathElem::Index(_) => Err(ExprError::InvalidDocumentPath),
        };
    }
    match (parent_mut(item, path), last) {
        (Parent::Missing, _) => Ok(None),
        (Parent::Found(AttributeValue::M(m)), PathElem::Attr(a)) => Ok(m.remove(a)),
        (Parent::Found(AttributeValue::L(l)), PathElem::Index(i)) => Ok(if *i < l.len() {
            Some(l.remove(*i))
        } else {
            None
        }),
        _ => Err(ExprError::InvalidDocumentPath),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::value::Number;

    fn n(i: i64) -> AttributeValue {
        AttributeValue::N(Number::from_i64(i))
    }

    fn p(elems: &[PathElem]) -> Path {
        Path(elems.to_vec())
    }

    fn a(s: &str) -> PathElem {
        PathElem::Attr(s.into())
    }

    fn sample() -> Item {
        let mut inner = std::collections::BTreeMap::new();
        inner.insert("c".to_string(), n(3));
        let mut item = Item::new();
        item.insert("a".into(), AttributeValue::M(inner));
        item.insert("l".into(), AttributeValue::L(vec![n(0), n(1), n(2)]));
        item.insert("s".into(), AttributeValue::S("x".into()));
        item
    }

    #[test]
    fn resolves_nested_paths_and_indexes() {
        let item = sample();
        assert_eq!(resolve(&item, &p(&[a("a"), a("c")])), Some(&n(3)));
        assert_eq!(
            resolve(&item, &p(&[a("l"), PathElem::Index(2)])),
            Some(&n(2))
        );
        assert_eq!(resolve(&item, &p(&[a("l"), PathElem::Index(3)])), None);
        assert_eq!(resolve(&item, &p(&[a("s"), a("c")])), None);
        assert_eq!(resolve(&item, &p(&[a("a"), PathElem::Index(0)])), None);
        assert_eq!(resolve(&item, &p(&[a("zz")])), None);
    }

    #[test]
    fn set_appends_past_the_end_and_needs_a_parent() {
        let mut item = sample();
        set(&mut item, &p(&[a("l"), PathElem::Index(10)]), n(9)).unwrap();
        assert_eq!(item["l"], AttributeValue::L(vec![n(0), n(1), n(2), n(9)]));
        set(&mut item, &p(&[a("l"), PathElem::Index(0)]), n(7)).unwrap();
        assert_eq!(
            resolve(&item, &p(&[a("l"), PathElem::Index(0)])),
            Some(&n(7))
        );
        set(&mut item, &p(&[a("a"), a("d")]), n(4)).unwrap();
        assert_eq!(resolve(&item, &p(&[a("a"), a("d")])), Some(&n(4)));
        assert_eq!(
            set(&mut item, &p(&[a("missing"), a("d")]), n(4)),
            Err(ExprError::InvalidDocumentPath)
        );
        assert_eq!(
            set(&mut item, &p(&[a("s"), a("d")]), n(4)),
            Err(ExprError::InvalidDocumentPath)
        );
        assert_eq!(
            set(&mut item, &p(&[a("a"), PathElem::Index(0)]), n(4)),
            Err(ExprError::InvalidDocumentPath)
        );
    }

    #[test]
    fn remove_shifts_lists_and_ignores_missing() {
        let mut item = sample();
        assert_eq!(
            remove(&mut item, &p(&[a("l"), PathElem::Index(1)])).unwrap(),
            Some(n(1))
        );
        assert_eq!(item["l"], AttributeValue::L(vec![n(0), n(2)]));
        assert_eq!(
            remove(&mut item, &p(&[a("l"), PathElem::Index(5)])).unwrap(),
            None
        );
        assert_eq!(remove(&mut item, &p(&[a("nope"), a("x")])).unwrap(), None);
        assert_eq!(
            remove(&mut item, &p(&[a("s"), a("x")])),
            Err(ExprError::InvalidDocumentPath)
        );
        assert_eq!(
            remove(&mut item, &p(&[a("s")])).unwrap(),
            Some(AttributeValue::S("x".into()))
        );
    }
}
