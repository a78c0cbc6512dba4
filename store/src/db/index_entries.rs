//! The entries of secondary indexes, and their maintenance inside every write.
//!
//! Every index has its own fjall keyspace, `x-<index uuid>` (a new uuid per index, so an index
//! dropped and created again under the same name never sees old entries). An entry's key is the
//! index key encoded like an item key (2-byte hash of the index partition key, the partition
//! key, the index sort key if any: see [`crate::key`]; a multi-attribute key encodes each of
//! its partition attributes, then each of its sort attributes, in key order, the same bytes
//! as before for one attribute per part) followed by the encoded primary key of the table
//! item (partition key, then sort key), which makes entries unique and orders items with equal
//! index keys by their table key. Its value is the projected item (KEYS_ONLY,
//! INCLUDE or ALL), encoded like a table item, so Query and Scan on an index read the index
//! keyspace alone (a local secondary index fetches the table item only when the request asks
//! for attributes the index does not project). A local secondary index uses the table's
//! partition key as its own. Items lacking an index key attribute (any one of them) have no
//! entry (sparse indexes).
//!
//! Index entries are written in the same atomic batch as the item ([`stage`], called from the
//! write path): the old item's entry is removed and the new one's inserted, so an index never
//! shows an item state the table never had, even after a crash. [`stage`] also says how each
//! index's exact entry count changes ([`super::counts`]). Online builds of an index added to a
//! table with data live in [`crate::index`].

use std::borrow::Cow;
use std::collections::HashSet;
use std::sync::Arc;

use fjall::{Database, Keyspace, KeyspaceCreateOptions, OwnedWriteBatch};
use uuid::Uuid;

use super::counts::{Counter, Counts, Deltas};
use crate::encoding::ItemCodec;
use crate::error::Result;
use crate::key;
use crate::schema::index::{IndexKeyValues, KEYSPACE_PREFIX};
use crate::schema::{IndexInfo, IndexMeta, IndexProjection, IndexStatus, KeySchema, TableMeta};
use crate::value::{item_size, Item};

/// The storage key of an item's entry: the index key (every attribute of each part, in key
/// order), then the table key.
pub(crate) fn entry_key(
    table_keys: &KeySchema,
    index_key: &IndexKeyValues<'_>,
    table_key: &Item,
) -> Option<Vec<u8>> {
    let mut out = index_key.storage_key()?;
    for attr in table_keys.attributes() {
        if !key::encode_key_value(table_key.get(&attr.name)?, &mut out) {
            return None;
        }
    }
    Some(out)
}

/// The attributes of `item` that `index` holds (the item itself when the index holds all).
fn project<'a>(table_keys: &KeySchema, index: &IndexMeta, item: &'a Item) -> Cow<'a, Item> {
    match &index.projection {
        IndexProjection::All => Cow::Borrowed(item),
        IndexProjection::KeysOnly | IndexProjection::Include(_) => Cow::Owned(
            item.iter()
                .filter(|(name, _)| index.projects(table_keys, std::iter::once(name.as_str())))
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
        ),
    }
}

/// An item's entry in an index (key and projected item), or `None` if the item is not in it:
/// an index key attribute is missing, or invalid (an item stored before the index existed).
pub(crate) fn entry<'a>(
    table_keys: &KeySchema,
    index: &IndexMeta,
    item: &'a Item,
) -> Option<(Vec<u8>, Cow<'a, Item>)> {
    let index_key = index.key_values(item).ok()??;
    let key = entry_key(table_keys, &index_key, item)?;
    Some((key, project(table_keys, index, item)))
}

/// The index writes one item change costs, as DynamoDB counts them: for each index the change
/// touches, the size in bytes of each entry written or deleted (a changed index key is a delete
/// and a put; an entry updated in place counts the larger of its two versions).
pub fn index_writes<'a>(
    meta: &'a TableMeta,
    old: Option<&Item>,
    new: Option<&Item>,
) -> Vec<(&'a IndexMeta, Vec<usize>)> {
    let mut out = Vec::new();
    for ix in &meta.indexes {
        let before = old.and_then(|o| entry(&meta.key_schema, ix, o));
        let after = new.and_then(|n| entry(&meta.key_schema, ix, n));
        let sizes = match (before, after) {
            (None, None) => continue,
            (Some(b), Some(a)) if b == a => continue,
            (Some((bk, bi)), Some((ak, ai))) if bk == ak => {
                vec![item_size(&bi).max(item_size(&ai))]
            }
            (Some((_, bi)), Some((_, ai))) => vec![item_size(&bi), item_size(&ai)],
            (Some((_, i)), None) | (None, Some((_, i))) => vec![item_size(&i)],
        };
        out.push((ix, sizes));
    }
    out
}

/// An index open in the store: its definition and keyspace.
#[derive(Clone)]
pub(crate) struct OpenIndex {
    pub(crate) meta: IndexMeta,
    pub(crate) keyspace: Keyspace,
    /// The exact number of entries (see [`super::counts`]).
    pub(crate) count: Arc<Counter>,
}

/// Opens (creating when missing) the keyspaces of a table's indexes.
pub(crate) fn open_all(db: &Database, counts: &Counts, meta: &TableMeta) -> Result<Vec<OpenIndex>> {
    meta.indexes
        .iter()
        .map(|m| {
            let keyspace = db.keyspace(&m.keyspace(), KeyspaceCreateOptions::default)?;
            Ok(OpenIndex {
                meta: m.clone(),
                count: counts.counter(&m.keyspace(), &keyspace)?,
                keyspace,
            })
        })
        .collect()
}

/// Adds to `batch` the index changes of one item write, `old` to `new`: the old entry
/// removed, the new one inserted, nothing for indexes the write does not affect; and to
/// `deltas` how each index's entry count changes. Call it holding the item's lock.
#[allow(clippy::too_many_arguments)]
pub(crate) fn stage(
    batch: &mut OwnedWriteBatch,
    deltas: &mut Deltas,
    codec: &ItemCodec,
    table_id: &Uuid,
    table_keys: &KeySchema,
    indexes: &[OpenIndex],
    old: Option<&Item>,
    new: Option<&Item>,
) -> Result<()> {
    for ix in indexes {
        let before = old.and_then(|o| entry(table_keys, &ix.meta, o));
        let after = new.and_then(|n| entry(table_keys, &ix.meta, n));
        if before == after {
            continue;
        }
        deltas.add(
            &ix.count,
            count_change(ix, before.as_ref(), after.as_ref())?,
        );
        if let Some((k, _)) = &before {
            if after.as_ref().is_none_or(|(nk, _)| nk != k) {
                batch.remove(&ix.keyspace, k.as_slice());
            }
        }
        if let Some((k, projected)) = after {
            let value = codec.encode(table_id, &k, &projected);
            batch.insert(&ix.keyspace, k, value);
        }
    }
    Ok(())
}

/// How an index's entry count changes when an item's entry goes from `before` to `after`.
/// An index being built may lack the old entry, or hold the new one already (the build wrote
/// it): its change is read from what the keyspace holds.
fn count_change(
    ix: &OpenIndex,
    before: Option<&(Vec<u8>, Cow<'_, Item>)>,
    after: Option<&(Vec<u8>, Cow<'_, Item>)>,
) -> Result<i64> {
    if ix.meta.status != IndexStatus::Creating {
        return Ok(i64::from(after.is_some()) - i64::from(before.is_some()));
    }
    let present = |k: &[u8]| -> Result<i64> { Ok(i64::from(ix.keyspace.contains_key(k)?)) };
    Ok(match (before, after) {
        (None, None) => 0,
        (Some((b, _)), None) => -present(b)?,
        (None, Some((a, _))) => 1 - present(a)?,
        (Some((b, _)), Some((a, _))) if a == b => 1 - present(a)?,
        (Some((b, _)), Some((a, _))) => 1 - present(a)? - present(b)?,
    })
}

/// Drops index keyspaces no catalog entry refers to (left by a crash between a catalog change
/// and the keyspace's creation or deletion).
pub(crate) fn drop_orphans<'a>(
    db: &Database,
    counts: &Counts,
    tables: impl Iterator<Item = &'a TableMeta>,
) -> Result<()> {
    let live: HashSet<String> = tables
        .flat_map(|t| t.indexes.iter().map(IndexMeta::keyspace))
        .collect();
    for name in db.list_keyspace_names() {
        let name: &str = &name;
        if name.starts_with(KEYSPACE_PREFIX) && !live.contains(name) {
            tracing::info!(keyspace = name, "dropping the keyspace of a deleted index");
            let ks = db.keyspace(name, KeyspaceCreateOptions::default)?;
            db.delete_keyspace(ks)?;
            counts.forget(name)?;
        }
    }
    Ok(())
}

/// Live figures of a table's indexes.
pub(crate) fn infos(indexes: &[OpenIndex]) -> Vec<IndexInfo> {
    indexes
        .iter()
        .map(|i| IndexInfo {
            name: i.meta.name.clone(),
            item_count: i.count.get(),
            size_bytes: i.keyspace.disk_space(),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::expr::RangeCondition;
    use crate::schema::{IndexStatus, ScalarType};
    use crate::testutil::{
        attr, expected_index, gsi, indexed_spec as spec, item, keys, lsi, message, n,
        open_unsynced as open, query_index as query, s, scan_index_all as scan_all,
    };
    use crate::{Mutation, StoreError, TransactAction};

    #[test]
    fn entries_are_ordered_by_index_key_then_table_key() {
        let table_keys = keys(attr("pk", ScalarType::S), Some(attr("sk", ScalarType::N)));
        let ix = IndexMeta::new(
            gsi("g", "g", Some("gs"), IndexProjection::KeysOnly),
            IndexStatus::Active,
            false,
        );
        let e = |g: &str, gs: i64, pk: &str, sk: i64| {
            entry(
                &table_keys,
                &ix,
                &item(&[
                    ("pk", s(pk)),
                    ("sk", n(sk)),
                    ("g", s(g)),
                    ("gs", n(gs)),
                    ("other", s("x")),
                ]),
            )
            .map(|(k, p)| (k, p.into_owned()))
            .unwrap()
        };
        let (k1, p1) = e("a", 1, "z", 9);
        let (k2, _) = e("a", 1, "zz", 0);
        let (k3, _) = e("a", 2, "a", 0);
        assert!(k1 < k2 && k2 < k3);
        // The same partition prefix as a table key with that value.
        assert!(k1.starts_with(&key::partition_prefix(&s("a")).unwrap()));
        // KEYS_ONLY: table and index keys only.
        assert_eq!(
            p1.keys().cloned().collect::<Vec<_>>(),
            vec!["g", "gs", "pk", "sk"]
        );
        // Sparse: no entry without every index key attribute.
        assert!(entry(
            &table_keys,
            &ix,
            &item(&[("pk", s("p")), ("sk", n(1)), ("g", s("a"))])
        )
        .is_none());
    }

    #[test]
    fn index_writes_follow_dynamodb_counting() {
        let (_dir, store) = open();
        let meta = store
            .create_table(spec(
                "tbl",
                vec![
                    gsi("by_g", "g", None, IndexProjection::KeysOnly),
                    gsi("by_h", "h", None, IndexProjection::All),
                ],
            ))
            .unwrap();
        let a = item(&[("pk", s("p")), ("sk", n(1)), ("g", s("x")), ("v", n(1))]);
        let names = |w: Vec<(&IndexMeta, Vec<usize>)>| {
            w.into_iter()
                .map(|(i, sizes)| (i.name.clone(), sizes.len()))
                .collect::<Vec<_>>()
        };
        // Insert into by_g only (no h).
        assert_eq!(
            names(index_writes(&meta, None, Some(&a))),
            vec![("by_g".to_string(), 1)]
        );
        // v is not projected into by_g: nothing to write.
        let mut b = a.clone();
        b.insert("v".into(), n(2));
        assert!(index_writes(&meta, Some(&a), Some(&b)).is_empty());
        // A new index key: delete and put.
        b.insert("g".into(), s("y"));
        assert_eq!(
            names(index_writes(&meta, Some(&a), Some(&b))),
            vec![("by_g".to_string(), 2)]
        );
        assert_eq!(
            names(index_writes(&meta, Some(&b), None)),
            vec![("by_g".to_string(), 1)]
        );
    }

    #[test]
    fn projections_keep_what_they_name() {
        let table_keys = keys(attr("pk", ScalarType::S), None);
        let full = item(&[("pk", s("p")), ("g", s("a")), ("x", n(1)), ("y", n(2))]);
        let include = IndexMeta::new(
            gsi("g", "g", None, IndexProjection::Include(vec!["x".into()])),
            IndexStatus::Active,
            false,
        );
        assert_eq!(
            project(&table_keys, &include, &full).into_owned(),
            item(&[("pk", s("p")), ("g", s("a")), ("x", n(1))])
        );
        assert!(include.projects(&table_keys, ["pk", "x", "g"].into_iter()));
        assert!(!include.projects(&table_keys, ["y"].into_iter()));
        let all = IndexMeta::new(
            gsi("g", "g", None, IndexProjection::All),
            IndexStatus::Active,
            false,
        );
        assert_eq!(project(&table_keys, &all, &full).into_owned(), full);
    }

    #[test]
    fn writes_maintain_indexes_in_the_same_batch() {
        let (_dir, store) = open();
        store
            .create_table(spec(
                "tbl",
                vec![
                    gsi(
                        "by_g",
                        "g",
                        Some("gs"),
                        IndexProjection::Include(vec!["x".into()]),
                    ),
                    lsi("by_l", "l", IndexProjection::KeysOnly),
                ],
            ))
            .unwrap();
        let put = |i: Item| store.put_item("tbl", i, |_| Ok(())).unwrap();
        put(item(&[
            ("pk", s("a")),
            ("sk", n(1)),
            ("g", s("red")),
            ("gs", n(5)),
            ("x", n(1)),
            ("y", n(1)),
            ("l", n(3)),
        ]));
        put(item(&[
            ("pk", s("a")),
            ("sk", n(2)),
            ("g", s("red")),
            ("gs", n(5)),
            ("l", n(1)),
        ]));
        put(item(&[
            ("pk", s("b")),
            ("sk", n(1)),
            ("g", s("blue")),
            ("gs", n(1)),
        ]));
        put(item(&[("pk", s("c")), ("sk", n(1)), ("x", n(9))])); // in no index

        let red = query(&store, "tbl", "by_g", s("red"), None, true);
        assert_eq!(red.len(), 2);
        assert_eq!(
            red[0],
            item(&[
                ("pk", s("a")),
                ("sk", n(1)),
                ("g", s("red")),
                ("gs", n(5)),
                ("x", n(1))
            ])
        );
        // Equal index keys: table key order; reverse order too.
        let rev = query(&store, "tbl", "by_g", s("red"), None, false);
        assert_eq!(rev[0]["sk"], n(2));
        // Sort-key conditions on an index whose entries share sort values.
        for (cond, count) in [
            (RangeCondition::Eq(n(5)), 2),
            (RangeCondition::Le(n(5)), 2),
            (RangeCondition::Lt(n(5)), 0),
            (RangeCondition::Ge(n(5)), 2),
            (RangeCondition::Gt(n(4)), 2),
            (RangeCondition::Gt(n(5)), 0),
            (RangeCondition::Between(n(5), n(5)), 2),
        ] {
            assert_eq!(
                query(&store, "tbl", "by_g", s("red"), Some(cond.clone()), true).len(),
                count,
                "{cond:?}"
            );
        }
        let local = query(&store, "tbl", "by_l", s("a"), None, true);
        assert_eq!(
            local.iter().map(|i| i["l"].clone()).collect::<Vec<_>>(),
            vec![n(1), n(3)]
        );
        assert_eq!(local[0], item(&[("pk", s("a")), ("sk", n(2)), ("l", n(1))]));

        // Move an item to another index partition, drop one out of the index, delete one.
        put(item(&[
            ("pk", s("a")),
            ("sk", n(1)),
            ("g", s("blue")),
            ("gs", n(0)),
            ("l", n(3)),
        ]));
        put(item(&[("pk", s("b")), ("sk", n(1)), ("gs", n(1))]));
        store
            .delete_item("tbl", &item(&[("pk", s("a")), ("sk", n(2))]), |_| Ok(()))
            .unwrap();
        assert!(query(&store, "tbl", "by_g", s("red"), None, true).is_empty());
        let blue = query(&store, "tbl", "by_g", s("blue"), None, true);
        assert_eq!(blue.len(), 1);
        assert_eq!(blue[0]["sk"], n(1));
        assert!(!blue[0].contains_key("x"));
        for ix in ["by_g", "by_l"] {
            assert_eq!(
                scan_all(&store, "tbl", ix),
                expected_index(&store, "tbl", ix),
                "{ix}"
            );
        }

        // A multi-item write that is cancelled leaves the indexes alone.
        let cancelled = store.write_items(vec![
            TransactAction {
                table: "tbl".into(),
                key: item(&[("pk", s("z")), ("sk", n(1))]),
                decide: Box::new(|_, _| {
                    Ok(Mutation::Put(item(&[
                        ("pk", s("z")),
                        ("sk", n(1)),
                        ("g", s("red")),
                        ("gs", n(1)),
                    ])))
                }),
            },
            TransactAction {
                table: "tbl".into(),
                key: item(&[("pk", s("c")), ("sk", n(1))]),
                decide: Box::new(|_, _| Err(StoreError::ConditionalCheckFailed { item: None })),
            },
        ]);
        assert!(cancelled.is_err());
        assert!(query(&store, "tbl", "by_g", s("red"), None, true).is_empty());
    }

    #[test]
    fn wrong_index_key_types_are_refused() {
        let (_dir, store) = open();
        store
            .create_table(spec(
                "tbl",
                vec![gsi("by_g", "g", Some("gs"), IndexProjection::All)],
            ))
            .unwrap();
        let refused = store.put_item(
            "tbl",
            item(&[("pk", s("a")), ("sk", n(1)), ("g", n(1))]),
            |_| Ok(()),
        );
        assert_eq!(
            message(refused),
            "One or more parameter values were invalid: Type mismatch for Index Key g Expected: S Actual: N IndexName: by_g"
        );
        let empty = store.put_item(
            "tbl",
            item(&[("pk", s("a")), ("sk", n(1)), ("g", s(""))]),
            |_| Ok(()),
        );
        assert!(message(empty)
            .contains("cannot contain an empty string value. IndexName: by_g, IndexKey: g"));
        // Through a read-modify-write too.
        store
            .put_item("tbl", item(&[("pk", s("a")), ("sk", n(1))]), |_| Ok(()))
            .unwrap();
        let update = store.write_item("tbl", &item(&[("pk", s("a")), ("sk", n(1))]), |_, old| {
            let mut new = old.cloned().unwrap();
            new.insert("gs".into(), s("not a number"));
            Ok(Mutation::Put(new))
        });
        assert!(message(update).contains("Type mismatch for Index Key gs Expected: N Actual: S"));
    }
}
