//! The rows a `SELECT` returns. A ProjectionExpression keeps a nested path's place in the item
//! (`a.b` gives `{a: {b: ...}}`); PartiQL names a selected path by its last attribute
//! (`SELECT a.b` gives `{b: ...}`), as DynamoDB answers it.

use tarn_store::expr::{resolve, Path, PathElem};
use tarn_store::Item;

/// Whether rows selected with `columns` differ from the ProjectionExpression's items: some
/// column is a nested path that ends in an attribute name.
pub fn needs_shaping(columns: &[Path]) -> bool {
    columns
        .iter()
        .any(|p| p.0.len() > 1 && matches!(p.0.last(), Some(PathElem::Attr(_))))
}

/// The row of a projected item: each column under its last attribute name (a path that ends in
/// a list index keeps the projection's shape under its top-level name).
pub fn shape(columns: &[Path], projected: &Item) -> Item {
    let mut row = Item::new();
    for p in columns {
        match p.0.last() {
            Some(PathElem::Attr(leaf)) if p.0.len() > 1 => {
                if let Some(v) = resolve(projected, p) {
                    row.insert(leaf.clone(), v.clone());
                }
            }
            _ => {
                if let Some(v) = projected.get(p.top()) {
                    row.insert(p.top().to_string(), v.clone());
                }
            }
        }
    }
    row
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;
    use tarn_store::AttributeValue;

    fn s(v: &str) -> AttributeValue {
        AttributeValue::S(v.into())
    }

    #[test]
    fn nested_paths_are_named_by_their_leaf() {
        let cols = vec![
            Path::attr("pk"),
            Path(vec![
                PathElem::Attr("m".into()),
                PathElem::Attr("inner".into()),
            ]),
            Path(vec![PathElem::Attr("l".into()), PathElem::Index(1)]),
            Path::attr("missing"),
        ];
        assert!(needs_shaping(&cols));
        assert!(!needs_shaping(&cols[2..]));
        let projected = Item::from([
            ("pk".to_string(), s("k")),
            (
                "m".to_string(),
                AttributeValue::M(BTreeMap::from([("inner".to_string(), s("deep"))])),
            ),
            ("l".to_string(), AttributeValue::L(vec![s("b")])),
        ]);
        assert_eq!(
            shape(&cols, &projected),
            Item::from([
                ("pk".to_string(), s("k")),
                ("inner".to_string(), s("deep")),
                ("l".to_string(), AttributeValue::L(vec![s("b")])),
            ])
        );
    }
}
