//! Applying a ProjectionExpression (or legacy AttributesToGet) to an item.
//!
//! The projected paths are merged into a tree, and the item is copied along it: a map keeps only
//! the projected keys, a list keeps only the projected elements, in index order and compacted
//! (`a[1], a[3]` of a five-element list yields a two-element list). Paths the item does not
//! have are left out, and so is a map or list none of whose projected parts exist.

use std::collections::BTreeMap;

use super::ast::{PathElem, Projection};
use crate::value::{AttributeValue, Item};

/// The merged projection paths below one point.
#[derive(Default)]
struct Node {
    /// The whole value here is projected.
    all: bool,
    keys: BTreeMap<String, Node>,
    indexes: BTreeMap<usize, Node>,
}

impl Node {
    fn insert(&mut self, elems: &[PathElem]) {
        if self.all {
            return;
        }
        match elems.split_first() {
            None => {
                self.all = true;
                self.keys.clear();
                self.indexes.clear();
            }
            Some((PathElem::Attr(a), rest)) => self.keys.entry(a.clone()).or_default().insert(rest),
            Some((PathElem::Index(i), rest)) => self.indexes.entry(*i).or_default().insert(rest),
        }
    }

    fn project(&self, v: &AttributeValue) -> Option<AttributeValue> {
        if self.all {
            return Some(v.clone());
        }
        match v {
            AttributeValue::M(m) if !self.keys.is_empty() => {
                let out: BTreeMap<String, AttributeValue> = self
                    .keys
                    .iter()
                    .filter_map(|(k, n)| Some((k.clone(), n.project(m.get(k)?)?)))
                    .collect();
                (!out.is_empty()).then_some(AttributeValue::M(out))
            }
            AttributeValue::L(l) if !self.indexes.is_empty() => {
                let out: Vec<AttributeValue> = self
                    .indexes
                    .iter()
                    .filter_map(|(i, n)| n.project(l.get(*i)?))
                    .collect();
                (!out.is_empty()).then_some(AttributeValue::L(out))
            }
            _ => None,
        }
    }
}

impl Projection {
    /// The parts of `item` the projection selects.
    pub fn apply(&self, item: &Item) -> Item {
        let mut root = Node::default();
        for p in &self.paths {
            root.insert(&p.0);
        }
        root.keys
            .iter()
            .filter_map(|(k, n)| Some((k.clone(), n.project(item.get(k)?)?)))
            .collect()
    }
}
