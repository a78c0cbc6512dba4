//! The write path: one item ([`Db::write_item`], [`Db::put_item`], [`Db::delete_item`]) or
//! several atomically ([`Db::write_items`]), and the one batch every write commits
//! ([`Db::commit`]).
//!
//! A write holds the writers gate from its table lookup to its commit (the table's definition
//! cannot switch meanwhile), checks its key and item once against that definition, locks the
//! item's stripe, reads the current item, lets the caller decide, and commits the change with
//! every record derived from it (index entries, expiry entries, the stream record, the
//! point-in-time log record) as one atomic batch. It passes the free-space reserve before
//! anything else (a refused write changes nothing), and settles after letting go of its locks:
//! it returns once the journal holding the write, and whatever it read, is synced, or, in a
//! deferring scope ([`crate::Store::defer_syncs`]), once it has recorded what its caller must
//! await.
//!
//! A single write reports its own error (the condition that failed, the item that is not
//! valid, the storage error). Only a multi-item write cancels as a whole, with one
//! [`CancellationReason`] per action.
//!
//! A transaction ([`Db::transact_items`]) also marks its items as ongoing from before it takes
//! their locks until it has committed (or cancelled): as in DynamoDB, another transaction on one
//! of them is cancelled with a `TransactionConflict` reason, and a single write to one is
//! refused with [`StoreError::TransactionConflict`], instead of waiting. Whatever passes the
//! marks still serializes on the item locks, so no update is lost either way.

use std::collections::HashSet;
use std::sync::Arc;

use parking_lot::RwLockReadGuard;

use super::counts::Deltas;
use super::read::key_attributes;
use super::table::Table;
use super::{changelog, expiry, index_entries, stream_log, Db};
use crate::clock::now_millis;
use crate::error::{CancellationReason, Result, StoreError};
use crate::schema::{check_item, TableMeta};
use crate::value::{validate_item, Item};

/// What a write decided to do with an item.
#[derive(Debug, Clone)]
pub enum Mutation {
    /// Store this item (it must carry the same key).
    Put(Item),
    /// Delete the item.
    Delete,
    /// Leave the item as it is.
    Keep,
}

/// The item before and after a write.
#[derive(Debug, Clone, Default)]
pub struct WriteOutcome {
    /// The item before the write, if it existed.
    pub old: Option<Item>,
    /// The item after the write, if it exists.
    pub new: Option<Item>,
}

/// One action of a write transaction: an item and a decision on it.
pub struct TransactAction<'a> {
    /// Table name.
    pub table: String,
    /// The item's key (key attributes only).
    pub key: Item,
    /// Decides the item's new state from its current one; an error cancels the transaction.
    pub decide: Decide<'a>,
}

/// How a [`TransactAction`] decides an item's new state from its current one.
pub type Decide<'a> = Box<dyn FnOnce(&TableMeta, Option<&Item>) -> Result<Mutation> + 'a>;

/// One item change inside a commit.
pub(crate) struct Change {
    pub(crate) table: Arc<Table>,
    /// The item's storage key.
    pub(crate) key: Vec<u8>,
    pub(crate) old: Option<Item>,
    pub(crate) new: Option<Item>,
    /// The store's TTL sweeper made this change (its stream record says so).
    pub(crate) by_ttl: bool,
}

impl Db {
    /// Reads, decides and writes one item atomically. `decide` sees the table and the current
    /// item (or `None`) and returns what to do; its error aborts the write and is returned as
    /// it is.
    pub(crate) fn write_item<F>(&self, table: &str, key: &Item, decide: F) -> Result<WriteOutcome>
    where
        F: FnOnce(&TableMeta, Option<&Item>) -> Result<Mutation>,
    {
        self.admit()?;
        let writers = self.writers.read();
        let table = self.table(table)?;
        let k = table.meta.key_schema.storage_key(key)?;
        self.write_one(writers, table, k, |meta, old| {
            decide(meta, old).and_then(|m| check_mutation(meta, m))
        })
    }

    /// Stores an item, replacing any item with the same key. `check` sees the current item and
    /// may refuse the write (a condition). Returns the item it replaced.
    pub(crate) fn put_item<C>(&self, table: &str, item: Item, check: C) -> Result<Option<Item>>
    where
        C: FnOnce(Option<&Item>) -> Result<()>,
    {
        self.admit()?;
        let writers = self.writers.read();
        let table = self.table(table)?;
        // Checked once, before the item's lock, against the definition the write commits
        // under: the writers gate keeps it in place until the commit.
        let k = check_new_item(&table.meta, &item)?;
        let outcome = self.write_one(writers, table, k, move |_, old| {
            check(old)?;
            Ok(Mutation::Put(item))
        })?;
        Ok(outcome.old)
    }

    /// Deletes an item by key. `check` may refuse the delete. Returns the deleted item.
    pub(crate) fn delete_item<C>(&self, table: &str, key: &Item, check: C) -> Result<Option<Item>>
    where
        C: FnOnce(Option<&Item>) -> Result<()>,
    {
        self.write_item(table, key, move |_, old| {
            check(old)?;
            Ok(Mutation::Delete)
        })
        .map(|o| o.old)
    }

    /// The locked read-decide-commit of one item at storage key `key` of `table`, with the
    /// writers gate held (released after the commit, before settling). `decide`'s mutation is
    /// committed as it is: the caller has checked it, or has `decide` check it. A refusal
    /// (a condition that failed) settles too: it tells what the item is.
    fn write_one(
        &self,
        writers: RwLockReadGuard<'_, ()>,
        table: Arc<Table>,
        key: Vec<u8>,
        decide: impl FnOnce(&TableMeta, Option<&Item>) -> Result<Mutation>,
    ) -> Result<WriteOutcome> {
        if self.ongoing.contains(&table.meta.id, &key) {
            return Err(StoreError::TransactionConflict);
        }
        let held = self.locks.lock_one(&table.meta.id, &key);
        let old = self.read_item(&table, &key)?;
        let new = match decide(&table.meta, old.as_ref()) {
            Ok(Mutation::Put(item)) => Some(item),
            Ok(Mutation::Delete) => None,
            Ok(Mutation::Keep) => old.clone(),
            Err(e) => {
                drop(held);
                drop(writers);
                self.commit.settle()?;
                return Err(e);
            }
        };
        let change = Change {
            table,
            key,
            old,
            new,
            by_ttl: false,
        };
        self.commit(std::slice::from_ref(&change))?;
        drop(held);
        drop(writers);
        self.commit.settle()?;
        Ok(WriteOutcome {
            old: change.old,
            new: change.new,
        })
    }

    /// Applies several item writes atomically: all happen or none does. Each action's `decide`
    /// runs with every involved item locked; if any fails, nothing is written and the error is
    /// [`StoreError::TransactionCanceled`] with one reason per action.
    pub(crate) fn write_items(
        &self,
        actions: Vec<TransactAction<'_>>,
    ) -> Result<Vec<WriteOutcome>> {
        self.write_many(actions, false)
    }

    /// [`Db::write_items`] as a transaction: its items are marked ongoing until it is done. When
    /// one of them already belongs to another transaction in progress, nothing is written and
    /// the error is [`StoreError::TransactionCanceled`] with `TransactionConflict` for those
    /// items (`None` for the others).
    pub(crate) fn transact_items(
        &self,
        actions: Vec<TransactAction<'_>>,
    ) -> Result<Vec<WriteOutcome>> {
        self.write_many(actions, true)
    }

    /// The all-or-nothing write of several items; `transaction` marks them ongoing meanwhile.
    fn write_many(
        &self,
        actions: Vec<TransactAction<'_>>,
        transaction: bool,
    ) -> Result<Vec<WriteOutcome>> {
        self.admit()?;
        let writers = self.writers.read();
        // Resolve tables and keys first: these are request errors, not cancellations.
        let mut resolved = Vec::with_capacity(actions.len());
        let mut seen = HashSet::new();
        for action in actions {
            let table = self.table(&action.table)?;
            let k = table.meta.key_schema.storage_key(&action.key)?;
            if !seen.insert((table.meta.id, k.clone())) {
                return Err(StoreError::Validation(
                    "Transaction request cannot include multiple operations on one item".into(),
                ));
            }
            resolved.push((table, k, action.decide));
        }
        let _claim = if transaction {
            let keys = resolved
                .iter()
                .map(|(t, k, _)| (t.meta.id, k.clone()))
                .collect();
            match self.ongoing.claim(keys) {
                Ok(claim) => Some(claim),
                Err(taken) => return Err(conflict(resolved.len(), &taken)),
            }
        } else {
            None
        };
        if transaction {
            // `pause` or `sleep` holds a transaction open with its items marked (conflict tests).
            fail::fail_point!("tarn_store::transact::ongoing");
        }
        let held = self
            .locks
            .lock(resolved.iter().map(|(t, k, _)| (&t.meta.id, k.as_slice())));
        let count = resolved.len();
        let mut changes = Vec::with_capacity(count);
        let mut failures = Vec::new();
        for (i, (table, k, decide)) in resolved.into_iter().enumerate() {
            let old = self.read_item(&table, &k)?;
            match decide(&table.meta, old.as_ref()).and_then(|m| check_mutation(&table.meta, m)) {
                Ok(m) => {
                    let new = match m {
                        Mutation::Put(item) => Some(item),
                        Mutation::Delete => None,
                        Mutation::Keep => old.clone(),
                    };
                    changes.push(Change {
                        table,
                        key: k,
                        old,
                        new,
                        by_ttl: false,
                    });
                }
                Err(e) => failures.push((i, e)),
            }
        }
        if !failures.is_empty() {
            let mut reasons: Vec<CancellationReason> = (0..count)
                .map(|_| CancellationReason {
                    code: "None".into(),
                    message: None,
                    item: None,
                })
                .collect();
            for (i, e) in failures {
                reasons[i] = error_to_reason(e);
            }
            drop(held);
            drop(writers);
            self.commit.settle()?;
            return Err(StoreError::TransactionCanceled(reasons));
        }
        self.commit(&changes)?;
        drop(held);
        drop(writers);
        self.commit.settle()?;
        Ok(changes
            .into_iter()
            .map(|c| WriteOutcome {
                old: c.old,
                new: c.new,
            })
            .collect())
    }

    /// Writes a set of item changes as one atomic batch, with every record derived from them:
    /// index entries, expiry entries, stream records and point-in-time log records, and the new
    /// item and index entry counts ([`super::counts`]). Call it
    /// with the items' locks and the writers gate held (so the tables' definitions cannot
    /// change meanwhile).
    ///
    /// When a change leaves a numbered record (stream, point-in-time log), the batch is
    /// committed holding the commit order: sequence numbers follow the commit order.
    pub(crate) fn commit(&self, changes: &[Change]) -> Result<()> {
        // The row cache forgets the changed items before the batch commits, and takes them
        // again only from a read that sees the batch (see `super::row_cache`).
        let _writing = self.rows.writing(
            &self.fjall,
            changes.iter().map(|c| (&c.table.meta.id, c.key.as_slice())),
        );
        let mut batch = self.fjall.batch();
        let mut deltas = Deltas::default();
        let mut recorded = Vec::new();
        let mut logged = Vec::new();
        // About what the batch adds to the journal, for the free-space watcher.
        let mut bytes = 0;
        for c in changes {
            if c.old == c.new {
                continue;
            }
            let table = &c.table;
            bytes += c.key.len() + 64;
            match &c.new {
                Some(item) => {
                    let value = self.codec.encode(&table.meta.id, &c.key, item);
                    bytes += value.len();
                    batch.insert(&table.items, c.key.as_slice(), value)
                }
                None => batch.remove(&table.items, c.key.as_slice()),
            }
            deltas.add(
                &table.item_count,
                i64::from(c.new.is_some()) - i64::from(c.old.is_some()),
            );
            index_entries::stage(
                &mut batch,
                &mut deltas,
                &self.codec,
                &table.meta.id,
                &table.meta.key_schema,
                &table.indexes,
                c.old.as_ref(),
                c.new.as_ref(),
            )?;
            if let Some(spec) = &table.meta.ttl {
                expiry::stage_entries(
                    &mut batch,
                    &table.expiry,
                    &spec.attribute,
                    &c.key,
                    c.old.as_ref(),
                    c.new.as_ref(),
                );
            }
            if let Some(stream) = table.active_stream() {
                recorded.push((c, stream));
            }
            if let Some(log) = &table.pitr_log {
                logged.push((c, log));
            }
        }
        if recorded.is_empty() && logged.is_empty() {
            self.counts
                .commit(batch, deltas)
                .map_err(|e| self.commit.engine_error(e))?;
            self.commit.committed(bytes as u64);
            return Ok(());
        }
        let mut order = self.sequencer.lock();
        for (c, log) in logged {
            let id = c.table.meta.id;
            let bytes = changelog::stage_log_record(
                &mut batch,
                &mut order,
                &self.codec,
                &id,
                log,
                &c.key,
                c.new.as_ref(),
            );
            self.log_sizes.add(id, bytes);
        }
        let time_ms = now_millis();
        for (c, (stream, log)) in recorded {
            let item = c
                .new
                .as_ref()
                .or(c.old.as_ref())
                .expect("a change has an item");
            stream_log::stage_record(
                &mut batch,
                &mut order,
                &self.codec,
                &c.table.meta.id,
                log,
                stream_log::part_of(stream, &c.key),
                stream.view_type,
                &key_attributes(&[&c.table.meta.key_schema], item),
                c.old.as_ref(),
                c.new.as_ref(),
                c.by_ttl,
                time_ms,
            );
        }
        self.counts
            .commit(batch, deltas)
            .map_err(|e| self.commit.engine_error(e))?;
        // Stream and log records carry the images again.
        self.commit.committed(2 * bytes as u64);
        Ok(())
    }
}

/// Checks an item a write is about to store against its table's definition: its key
/// attributes, DynamoDB's item rules, and the index key attributes it carries. Returns its
/// storage key.
fn check_new_item(meta: &TableMeta, item: &Item) -> Result<Vec<u8>> {
    let key = meta.key_schema.storage_key_of_item(item)?;
    validate_item(item)?;
    check_item(meta, item)?;
    Ok(key)
}

/// Checks the item a `decide` function chose to store.
fn check_mutation(meta: &TableMeta, m: Mutation) -> Result<Mutation> {
    if let Mutation::Put(item) = &m {
        check_new_item(meta, item)?;
    }
    Ok(m)
}

/// The cancellation of a transaction whose items at positions `taken` (of `count`) belong to
/// another transaction in progress.
fn conflict(count: usize, taken: &[usize]) -> StoreError {
    StoreError::TransactionCanceled(
        (0..count)
            .map(|i| {
                if taken.contains(&i) {
                    CancellationReason {
                        code: "TransactionConflict".into(),
                        message: Some(StoreError::TransactionConflict.to_string()),
                        item: None,
                    }
                } else {
                    CancellationReason {
                        code: "None".into(),
                        message: None,
                        item: None,
                    }
                }
            })
            .collect(),
    )
}

/// A failed action's reason, as TransactionCanceledException reports it.
fn error_to_reason(e: StoreError) -> CancellationReason {
    match e {
        StoreError::ConditionalCheckFailed { item } => CancellationReason {
            code: "ConditionalCheckFailed".into(),
            message: Some("The conditional request failed".into()),
            item: item.map(|b| *b),
        },
        StoreError::Validation(m) => CancellationReason {
            code: "ValidationError".into(),
            message: Some(m),
            item: None,
        },
        other => CancellationReason {
            code: "InternalError".into(),
            message: Some(other.to_string()),
            item: None,
        },
    }
}
