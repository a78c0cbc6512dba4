//! Exact entry counts of keyspaces: the items of a table and the entries of each index, as
//! DescribeTable's `ItemCount` reports them.
//!
//! A count lives in memory ([`Counter`], shared by every [`super::table::Table`] opened for the
//! same keyspace) and on disk, in the keyspace `counts` (key: the counted keyspace's name,
//! value: the count, big-endian u64). The write path knows whether a change added an entry
//! (a put of a new item, an index entry that appears), removed one or replaced one; a batch
//! that changes a count carries the count's new value in the same atomic batch ([`Counts::commit`]),
//! so after a crash the recovered count is exactly that of the recovered entries. Batches that
//! change counts commit one at a time (the count order), so the value on disk is the last
//! committed one. An overwrite changes no count and writes nothing more.
//!
//! A keyspace without a record (a data directory from before counts were kept) is counted
//! once, when first opened, and its record written. Records of keyspaces that no longer exist
//! are dropped when the store opens.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use fjall::{Database, Keyspace, KeyspaceCreateOptions, OwnedWriteBatch};
use parking_lot::Mutex;

use crate::error::{Result, StoreError};

/// The keyspace holding the counts.
const COUNTS: &str = "counts";

/// The live count of one keyspace.
#[derive(Debug)]
pub(crate) struct Counter {
    /// The counted keyspace's name (the key of its record).
    name: String,
    value: AtomicU64,
}

impl Counter {
    /// The count as of the last committed write.
    pub(crate) fn get(&self) -> u64 {
        self.value.load(Ordering::Acquire)
    }
}

/// The count changes one batch makes, by counter.
#[derive(Default)]
pub(crate) struct Deltas(Vec<(Arc<Counter>, i64)>);

impl Deltas {
    /// Adds `delta` to what the batch changes `counter` by.
    pub(crate) fn add(&mut self, counter: &Arc<Counter>, delta: i64) {
        if delta == 0 {
            return;
        }
        match self.0.iter_mut().find(|(c, _)| Arc::ptr_eq(c, counter)) {
            Some((_, d)) => *d += delta,
            None => self.0.push((counter.clone(), delta)),
        }
    }

    fn is_empty(&self) -> bool {
        self.0.iter().all(|(_, d)| *d == 0)
    }
}

/// Every count, in memory and on disk.
pub(crate) struct Counts {
    keyspace: Keyspace,
    live: Mutex<HashMap<String, Arc<Counter>>>,
    /// Held from reading the counts a batch changes to its commit.
    order: Mutex<()>,
}

impl Counts {
    /// Opens the counts, dropping the records of keyspaces that no longer exist.
    pub(crate) fn open(db: &Database) -> Result<Counts> {
        let keyspace = db.keyspace(COUNTS, KeyspaceCreateOptions::default)?;
        let mut stale = Vec::new();
        for entry in keyspace.iter() {
            let key = entry.key()?;
            let name = String::from_utf8_lossy(&key).into_owned();
            if !db.keyspace_exists(&name) {
                stale.push(key);
            }
        }
        for key in stale {
            keyspace.remove(key)?;
        }
        Ok(Counts {
            keyspace,
            live: Mutex::default(),
            order: Mutex::default(),
        })
    }

    /// The counter of `keyspace`, named `name`: the live one, else its record, else counted
    /// now (and recorded). Call it when no write to the keyspace is in flight (when the store
    /// opens, or for a keyspace that is new or not yet written).
    pub(crate) fn counter(&self, name: &str, keyspace: &Keyspace) -> Result<Arc<Counter>> {
        let mut live = self.live.lock();
        if let Some(c) = live.get(name) {
            return Ok(c.clone());
        }
        let value =
            match self.keyspace.get(name)? {
                Some(v) => u64::from_be_bytes(v.as_ref().try_into().map_err(|_| {
                    StoreError::Corrupt(format!("unreadable count record of {name}"))
                })?),
                None => {
                    let n = keyspace.len()? as u64;
                    if n > 0 {
                        tracing::info!(keyspace = name, entries = n, "counted a keyspace");
                    }
                    self.keyspace.insert(name, n.to_be_bytes())?;
                    n
                }
            };
        let c = Arc::new(Counter {
            name: name.to_string(),
            value: AtomicU64::new(value),
        });
        live.insert(name.to_string(), c.clone());
        Ok(c)
    }

    /// Forgets the count of a keyspace being dropped.
    pub(crate) fn forget(&self, name: &str) -> Result<()> {
        self.live.lock().remove(name);
        self.keyspace.remove(name)?;
        Ok(())
    }

    /// Commits `batch` with the new values of the counts `deltas` changes, and makes them the
    /// live counts once it is committed. Batches that change no count commit as they are.
    pub(crate) fn commit(&self, mut batch: OwnedWriteBatch, deltas: Deltas) -> fjall::Result<()> {
        if deltas.is_empty() {
            return batch.commit();
        }
        let _order = self.order.lock();
        let values: Vec<u64> = deltas
            .0
            .iter()
            .map(|(c, d)| c.get().saturating_add_signed(*d))
            .collect();
        for ((c, _), v) in deltas.0.iter().zip(&values) {
            batch.insert(&self.keyspace, c.name.as_str(), v.to_be_bytes());
        }
        batch.commit()?;
        for ((c, _), v) in deltas.0.iter().zip(values) {
            c.value.store(v, Ordering::Release);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use proptest::prelude::*;

    use crate::schema::IndexProjection;
    use crate::testutil::{
        delete_action, gsi, indexed_spec, item, n, open_unsynced_at, put_action, s,
    };
    use crate::value::Item;
    use crate::{Store, StoreError};

    /// One step against the store and the model.
    #[derive(Debug, Clone)]
    enum Op {
        Put {
            pk: u8,
            g: Option<u8>,
        },
        Delete {
            pk: u8,
        },
        /// Puts and deletes of distinct items, atomically; `fail` makes one action's condition
        /// fail, so nothing is written.
        Transact {
            puts: Vec<(u8, Option<u8>)>,
            deletes: Vec<u8>,
            fail: bool,
        },
        Reopen,
    }

    fn op() -> impl Strategy<Value = Op> {
        let g = proptest::option::of(0u8..3);
        prop_oneof![
            4 => (0u8..12, g.clone()).prop_map(|(pk, g)| Op::Put { pk, g }),
            2 => (0u8..12).prop_map(|pk| Op::Delete { pk }),
            2 => (
                proptest::collection::btree_map(0u8..12, g, 0..4),
                proptest::collection::btree_set(0u8..14, 0..3),
                any::<bool>(),
            )
                .prop_map(|(puts, deletes, fail)| Op::Transact {
                    deletes: deletes.into_iter().filter(|d| !puts.contains_key(d)).collect(),
                    puts: puts.into_iter().collect(),
                    fail,
                }),
            1 => Just(Op::Reopen),
        ]
    }

    fn row(pk: u8, g: Option<u8>) -> Item {
        let mut i = item(&[("pk", s(&format!("p{pk}"))), ("sk", n(1))]);
        if let Some(g) = g {
            i.insert("g".into(), s(&format!("g{g}")));
        }
        i
    }

    fn key(pk: u8) -> Item {
        item(&[("pk", s(&format!("p{pk}"))), ("sk", n(1))])
    }

    fn check(store: &Store, model: &BTreeMap<u8, Option<u8>>) -> Result<(), TestCaseError> {
        let info = store.describe_table("tbl").unwrap();
        prop_assert_eq!(info.item_count, model.len() as u64);
        let in_index = model.values().filter(|g| g.is_some()).count() as u64;
        prop_assert_eq!(info.indexes[0].item_count, in_index);
        Ok(())
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(48))]
        #[test]
        fn counts_follow_a_model_through_writes_transactions_and_reopens(
            ops in proptest::collection::vec(op(), 1..40)
        ) {
            let dir = tempfile::tempdir().unwrap();
            let spec = indexed_spec("tbl", vec![gsi("by_g", "g", None, IndexProjection::KeysOnly)]);
            let mut store = open_unsynced_at(dir.path());
            store.create_table(spec).unwrap();
            let mut model: BTreeMap<u8, Option<u8>> = BTreeMap::new();
            for op in ops {
                match op {
                    Op::Put { pk, g } => {
                        store.put_item("tbl", row(pk, g), |_| Ok(())).unwrap();
                        model.insert(pk, g);
                    }
                    Op::Delete { pk } => {
                        store.delete_item("tbl", &key(pk), |_| Ok(())).unwrap();
                        model.remove(&pk);
                    }
                    Op::Transact { puts, deletes, fail } => {
                        let mut actions: Vec<_> = puts
                            .iter()
                            .map(|(pk, g)| put_action("tbl", row(*pk, *g)))
                            .chain(deletes.iter().map(|pk| delete_action("tbl", key(*pk))))
                            .collect();
                        if fail {
                            actions.push(crate::TransactAction {
                                table: "tbl".into(),
                                key: key(200),
                                decide: Box::new(|_, _| {
                                    Err(StoreError::ConditionalCheckFailed { item: None })
                                }),
                            });
                        }
                        let result = store.write_items(actions);
                        prop_assert_eq!(result.is_err(), fail);
                        if !fail {
                            for (pk, g) in puts {
                                model.insert(pk, g);
                            }
                            for pk in deletes {
                                model.remove(&pk);
                            }
                        }
                    }
                    Op::Reopen => {
                        drop(store);
                        store = open_unsynced_at(dir.path());
                    }
                }
                check(&store, &model)?;
            }
        }
    }

    #[test]
    fn a_store_without_count_records_counts_once_on_open() {
        let dir = tempfile::tempdir().unwrap();
        {
            let store = open_unsynced_at(dir.path());
            let spec = indexed_spec("tbl", vec![gsi("by_g", "g", None, IndexProjection::All)]);
            store.create_table(spec).unwrap();
            for pk in 0..20 {
                store
                    .put_item("tbl", row(pk, (pk % 2 == 0).then_some(pk)), |_| Ok(()))
                    .unwrap();
            }
            // As a data directory from before counts were kept: no records.
            let counts = store
                .db
                .fjall
                .keyspace(super::COUNTS, Default::default)
                .unwrap();
            let keys: Vec<_> = counts.iter().map(|g| g.key().unwrap()).collect();
            assert_eq!(keys.len(), 2);
            for k in keys {
                counts.remove(k).unwrap();
            }
        }
        let store = open_unsynced_at(dir.path());
        let info = store.describe_table("tbl").unwrap();
        assert_eq!((info.item_count, info.indexes[0].item_count), (20, 10));
        store.delete_item("tbl", &key(0), |_| Ok(())).unwrap();
        drop(store);
        let store = open_unsynced_at(dir.path());
        let info = store.describe_table("tbl").unwrap();
        assert_eq!((info.item_count, info.indexes[0].item_count), (19, 9));
        // A deleted table's records go with it.
        store.delete_table("tbl").unwrap();
        let counts = store
            .db
            .fjall
            .keyspace(super::COUNTS, Default::default)
            .unwrap();
        assert_eq!(counts.iter().count(), 0);
    }
}
