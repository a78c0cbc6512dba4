//! The row cache: items that GetItem (and BatchGetItem, which reads item by item) read
//! recently, decoded, served again without touching the LSM tree.
//!
//! A read that finds its item in the cache costs a hash lookup (the item is shared, not copied:
//! [`SharedItem`]), not a memtable probe plus a lookup in every level whose key range holds the key
//! (after heavy writes, several table files). The idea is RocksDB's `row_cache` (ScyllaDB and
//! Cassandra have one too). The map is [`quick_cache`]'s concurrent, sharded cache (fjall uses it
//! for its block cache), bounded by the bytes the cached items take
//! ([`crate::StoreOptions::row_cache_bytes`]; 0 turns the cache off). Entries are keyed by the
//! table's id (never its name: a table deleted and created again is another table) and the item's
//! storage key (which holds the partition and sort key); an entry holds the item, or its absence (a
//! GetItem of a missing key is cached too).
//!
//! # What a read may find here
//!
//! Reads read the durable view ([`crate::commit`]): a GetItem never shows a write a crash
//! could still lose, and never shows less than the durable view holds. The cache keeps both:
//! an entry is the item as a durable view read it, and is there only while no write to its
//! key has been committed since that view.
//!
//! - Every write removes its keys' entries **before** it commits its batch, and marks the
//!   keys' stripes (one of [`STRIPES`] small locks, by hash of table and key) as written; once
//!   the batch is committed (or failed), it records in each stripe a sequence number its batch
//!   is below (fjall's visible sequence number after the commit) and clears its mark. The only
//!   place items change is `Db::commit` ([`super::write`]): puts, updates, deletes,
//!   transactions, batch writes, TTL deletes and restores all commit through it, so all
//!   invalidate there. A write refused by its condition commits nothing and removes nothing
//!   (none is needed); one that keeps its item as it was removes the entry, harmlessly.
//! - A reader that missed reads the item through its view (at sequence number `S`: it sees
//!   every write below `S`), then offers it to the cache. The entry goes in only if, under the
//!   stripe's lock, no write on the stripe is in flight and the stripe's last recorded write
//!   is below `S` (`last <= S`, as fjall's snapshots see the writes whose sequence numbers are
//!   below theirs). So a reader that read the old item `v0` through a durable view older than
//!   a write `v1` never inserts it, whether `v1` is durable yet or not, and an entry already
//!   inserted is removed by the write itself, before `v1` can become durable: no read finds
//!   `v0` once a durable view holds `v1`. The item a write stores is not inserted by the write
//!   (it is not durable yet); the first read through a durable view that holds it inserts it.
//! - A store that does not sync its writes (`--in-memory`) reads the latest data; its readers
//!   take `S` as the visible sequence number before they read, and the same rule holds.
//!
//! # What goes in
//!
//! A key goes in on its second read, not its first: a small "doorkeeper" (TinyLFU's) remembers
//! the keys read once. Reads spread over a table far larger than the cache (a random GetItem
//! on millions of items) then cost no insertion and no eviction each, while a key read again
//! is cached from its second read on. The doorkeeper only holds back offers; it decides
//! nothing about what may be inserted (below).
//!
//! TransactGetItems does not use the cache: it reads several items as of one instant, through
//! one view, which entries inserted through newer views could contradict. Query and Scan read
//! ranges and do not use it either.
//!
//! What the cache costs a write: for each changed item, a stripe lock taken twice, a hash and
//! a removal from the cache's shard. What it costs in memory: its bound (entries are weighed
//! at about what they take: the item and room for its rendering, its map node, the key and
//! the cache's slot, about 3 KB for a 1 KB item of two attributes), the stripes (64 KiB) and
//! the doorkeeper (32 bytes per entry of about 3 KB the bound holds: under 1 MiB for 64 MiB).

use std::hash::BuildHasher;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};

use parking_lot::Mutex;
use quick_cache::sync::Cache;
use quick_cache::{Equivalent, Weighter};
use uuid::Uuid;

use crate::value::{item_size, AttributeValue, Item};

/// Stripes of keys, each with the sequence number of its last write (a power of two).
pub(crate) const STRIPES: usize = 4096;

/// Bytes an entry takes beyond its key and its item: the cache's slot, the key's and the
/// row's allocations, the item's `Arc`.
const ENTRY_OVERHEAD: usize = 96;
/// Bytes of one node of an item's attribute map (a `BTreeMap` leaf holds up to 11 entries,
/// and is allocated whole).
const MAP_NODE: usize = 12 + 11 * (size_of::<String>() + size_of::<AttributeValue>());
/// Attributes a map node holds.
const MAP_NODE_ENTRIES: usize = 11;
/// Bytes of allocator slack counted for each attribute's name and value.
const ATTRIBUTE_SLACK: usize = 32;

/// About the memory a cached read of `key` holding `item` takes: what the cache's bound counts.
/// A cached item's one rendering ([`SharedItem::rendering`]) is counted with it, at its size.
fn weight(key: &[u8], item: Option<&SharedItem>) -> usize {
    ENTRY_OVERHEAD
        + key.len()
        + item.map_or(0, |i| {
            2 * i.size()
                + i.len().div_ceil(MAP_NODE_ENTRIES).max(1) * MAP_NODE
                + i.len() * ATTRIBUTE_SLACK
        })
}

/// An item as a read through the row cache gives it, shared by every reader of the cached
/// copy: the item, its size ([`item_size`], computed once), and one rendering of it, made by
/// the first reader that asks for one and then shared (the API layer keeps the item's wire
/// form there, so a GetItem served from the cache does not encode the same item again). The
/// store gives the rendering no meaning: it is bytes the caller made from the item.
pub struct SharedItem {
    item: Item,
    size: usize,
    rendering: OnceLock<Box<[u8]>>,
}

impl SharedItem {
    /// `item`, to be shared, with no rendering yet.
    pub fn new(item: Item) -> SharedItem {
        SharedItem {
            size: item_size(&item),
            item,
            rendering: OnceLock::new(),
        }
    }

    /// The item's size (DynamoDB's measure, [`item_size`]).
    pub fn size(&self) -> usize {
        self.size
    }

    /// The item's rendering: the one made already, or the one `render` makes now (a reader
    /// racing another may render too; one rendering is kept). Every caller must render the
    /// same way: the first rendering is the one every later reader of this copy gets.
    pub fn rendering(&self, render: impl FnOnce(&SharedItem) -> Vec<u8>) -> &[u8] {
        self.rendering
            .get_or_init(|| render(self).into_boxed_slice())
    }

    /// The item itself: moved out when this is its last reference, copied otherwise.
    pub fn into_item(self: Arc<Self>) -> Item {
        Arc::try_unwrap(self).map_or_else(|shared| shared.item.clone(), |own| own.item)
    }
}

impl std::ops::Deref for SharedItem {
    type Target = Item;

    fn deref(&self) -> &Item {
        &self.item
    }
}

impl PartialEq for SharedItem {
    fn eq(&self, other: &Self) -> bool {
        self.item == other.item
    }
}

impl std::fmt::Debug for SharedItem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.item.fmt(f)
    }
}

/// A cache key: the table's id and the item's storage key.
#[derive(Clone, PartialEq, Eq, Hash)]
struct RowKey {
    table: Uuid,
    key: Box<[u8]>,
}

/// A [`RowKey`] borrowed, for lookups that allocate nothing (hashes as a [`RowKey`] does).
#[derive(Hash)]
struct RowRef<'a> {
    table: &'a Uuid,
    key: &'a [u8],
}

impl Equivalent<RowKey> for RowRef<'_> {
    fn equivalent(&self, k: &RowKey) -> bool {
        *self.table == k.table && self.key == &*k.key
    }
}

/// A cached read: the item, or its absence, and what it is counted for.
#[derive(Clone)]
struct Row {
    item: Option<Arc<SharedItem>>,
    weight: u32,
}

/// Weighs entries by [`Row::weight`], computed once when the entry is made.
#[derive(Clone)]
struct RowWeight;

impl Weighter<RowKey, Row> for RowWeight {
    fn weight(&self, _key: &RowKey, row: &Row) -> u64 {
        u64::from(row.weight)
    }
}

/// What a stripe knows of the writes to its keys.
#[derive(Default)]
struct Stripe {
    /// Writes committing now: while any is, nothing on the stripe is inserted.
    writing: u32,
    /// Every write committed on the stripe is below this sequence number.
    last: u64,
}

/// The row cache of one database (see the module's docs).
pub(crate) struct RowCache {
    /// `None` when the cache is off.
    inner: Option<Inner>,
}

struct Inner {
    rows: Cache<RowKey, Row, RowWeight>,
    stripes: Box<[Mutex<Stripe>]>,
    /// The keys read once (see the module's docs).
    doorkeeper: Doorkeeper,
    /// Hashes keys to their stripes and their doorkeeper slots.
    hasher: std::hash::RandomState,
}

/// Slots of the doorkeeper per entry the cache is sized for.
const DOORKEEPER_SLOTS_PER_ENTRY: usize = 4;
/// Slots of a doorkeeper bucket: a key is looked for in its bucket's slots, and remembered in
/// one of them in turn, so two keys sharing a bucket rarely push each other out.
const BUCKET: usize = 4;

/// The keys read once, as tags (their hashes) in buckets of [`BUCKET`] slots.
struct Doorkeeper {
    slots: Box<[AtomicU64]>,
    /// The slot each bucket remembers its next key in (shared by all buckets: any turn will
    /// do).
    turn: AtomicUsize,
}

impl Doorkeeper {
    /// A doorkeeper of at least `slots` slots.
    fn new(slots: usize) -> Doorkeeper {
        let slots = slots.next_power_of_two().max(BUCKET * 256);
        Doorkeeper {
            slots: (0..slots).map(|_| AtomicU64::new(0)).collect(),
            turn: AtomicUsize::new(0),
        }
    }

    /// Whether the key of hash `hash` was read before; if not, it is remembered now.
    fn seen_before(&self, hash: u64) -> bool {
        // Never 0, the empty slot's value.
        let tag = hash | 1;
        // The bucket from the hash's high bits (the stripe takes the low ones).
        let first = (hash >> 32) as usize & (self.slots.len() - 1) & !(BUCKET - 1);
        let bucket = &self.slots[first..first + BUCKET];
        if bucket.iter().any(|s| s.load(Ordering::Relaxed) == tag) {
            return true;
        }
        let slot = self.turn.fetch_add(1, Ordering::Relaxed) % BUCKET;
        bucket[slot].store(tag, Ordering::Relaxed);
        false
    }
}

impl RowCache {
    /// A cache holding items of up to about `bytes` in all (0: no cache).
    pub(crate) fn new(bytes: u64) -> RowCache {
        if bytes == 0 {
            return RowCache { inner: None };
        }
        // About 3 KB an entry (a 1 KB item); the bound is the bytes, whatever their number.
        let estimated = usize::try_from(bytes / 3072).unwrap_or(usize::MAX).max(64);
        RowCache {
            inner: Some(Inner {
                rows: Cache::with_weighter(estimated, bytes, RowWeight),
                stripes: (0..STRIPES).map(|_| Mutex::default()).collect(),
                doorkeeper: Doorkeeper::new(
                    estimated
                        .min(1 << 24)
                        .saturating_mul(DOORKEEPER_SLOTS_PER_ENTRY),
                ),
                hasher: std::hash::RandomState::new(),
            }),
        }
    }

    /// Whether the cache is on.
    pub(crate) fn is_on(&self) -> bool {
        self.inner.is_some()
    }

    /// The cached read of `key` in table `table`: `Some(None)` when the item is known absent,
    /// `None` when the cache does not know.
    pub(crate) fn get(&self, table: &Uuid, key: &[u8]) -> Option<Option<Arc<SharedItem>>> {
        let inner = self.inner.as_ref()?;
        inner.rows.get(&RowRef { table, key }).map(|r| r.item)
    }

    /// Offers what a reader read of `key` through a view at sequence number `seen` (the
    /// reader saw every write below it). Held back on the key's first read (the doorkeeper);
    /// then inserted only if no write on the key's stripe is committing and every write
    /// committed on it is below `seen`.
    pub(crate) fn offer(&self, table: &Uuid, key: &[u8], seen: u64, item: Option<Arc<SharedItem>>) {
        let Some(inner) = &self.inner else { return };
        let hash = inner.hash(table, key);
        if !inner.doorkeeper.seen_before(hash) {
            return;
        }
        let row = Row {
            weight: u32::try_from(weight(key, item.as_deref())).unwrap_or(u32::MAX),
            item,
        };
        let stripe = inner.stripes[stripe_of(hash)].lock();
        if stripe.writing == 0 && stripe.last <= seen {
            inner.rows.insert(
                RowKey {
                    table: *table,
                    key: key.into(),
                },
                row,
            );
        }
    }

    /// Starts the writes of `keys` (table id and storage key each), to be committed to
    /// `fjall`: their entries go, and their stripes take no entry until the guard is dropped,
    /// after the commit (or its failure): it records then that every write on them is below
    /// fjall's visible sequence number.
    pub(crate) fn writing<'a>(
        &'a self,
        fjall: &'a fjall::Database,
        keys: impl Iterator<Item = (&'a Uuid, &'a [u8])>,
    ) -> Writing<'a> {
        let Some(inner) = &self.inner else {
            return Writing {
                inner: None,
                fjall,
                stripes: Vec::new(),
            };
        };
        let mut stripes = Vec::new();
        for (table, key) in keys {
            let s = inner.stripe(table, key);
            inner.stripes[s].lock().writing += 1;
            // After the mark: nothing inserts this key again until the write is recorded.
            inner.rows.remove(&RowRef { table, key });
            stripes.push(s);
        }
        Writing {
            inner: Some(inner),
            fjall,
            stripes,
        }
    }

    /// Drops every entry of table `table` (a deleted table's entries, which nothing reads).
    pub(crate) fn forget_table(&self, table: &Uuid) {
        if let Some(inner) = &self.inner {
            inner.rows.retain(|k, _| k.table != *table);
        }
    }

    /// Bytes the entries are counted for now.
    #[cfg(test)]
    pub(crate) fn weight(&self) -> u64 {
        self.inner.as_ref().map_or(0, |i| i.rows.weight())
    }

    /// Entries now.
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.inner.as_ref().map_or(0, |i| i.rows.len())
    }
}

impl Inner {
    fn hash(&self, table: &Uuid, key: &[u8]) -> u64 {
        self.hasher.hash_one(RowRef { table, key })
    }

    fn stripe(&self, table: &Uuid, key: &[u8]) -> usize {
        stripe_of(self.hash(table, key))
    }
}

/// The stripe of a key of hash `hash`.
fn stripe_of(hash: u64) -> usize {
    hash as usize & (STRIPES - 1)
}

/// Writes in progress on some keys (see [`RowCache::writing`]); dropped once they are
/// committed or failed.
#[must_use = "a write's keys take no cache entry until it is dropped"]
pub(crate) struct Writing<'a> {
    inner: Option<&'a Inner>,
    fjall: &'a fjall::Database,
    stripes: Vec<usize>,
}

impl Drop for Writing<'_> {
    fn drop(&mut self) {
        let Some(inner) = self.inner else { return };
        // fjall publishes a batch's sequence number before its commit returns: everything
        // this write committed is below the visible sequence number now.
        let below = self.fjall.visible_seqno();
        for &s in &self.stripes {
            let mut stripe = inner.stripes[s].lock();
            stripe.writing -= 1;
            stripe.last = stripe.last.max(below);
        }
    }
}
