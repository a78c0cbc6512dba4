//! Item locks for read-modify-write.
//!
//! Conditional writes, updates and transactions read an item, decide, and write it back; two
//! such writers on one item must not interleave, or one update is lost. Items map by hash onto a
//! fixed set of striped mutexes. A transaction takes all of its stripes in ascending order, so two
//! transactions can never wait on each other in a cycle. Plain reads take no lock.
//!
//! Beside the locks, [`Ongoing`] marks the items of the write transactions in progress, as
//! DynamoDB tracks them: a second transaction on a marked item is cancelled
//! (`TransactionConflict`) and a single-item write to one is refused
//! (TransactionConflictException), rather than either waiting for the first to finish.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicUsize, Ordering};

use parking_lot::{Mutex, MutexGuard};

const STRIPES: usize = 4096;

/// A fixed array of mutexes, one per stripe of the item key space.
pub(crate) struct KeyLocks {
    stripes: Box<[Mutex<()>]>,
}

impl Default for KeyLocks {
    fn default() -> Self {
        KeyLocks {
            stripes: (0..STRIPES).map(|_| Mutex::new(())).collect(),
        }
    }
}

/// The held locks of one operation; released on drop.
pub(crate) struct Held<'a> {
    _guards: Vec<MutexGuard<'a, ()>>,
}

impl KeyLocks {
    fn stripe(table_id: &uuid::Uuid, key: &[u8]) -> usize {
        let mut h: u64 = 0xcbf2_9ce4_8422_2325;
        for &b in table_id.as_bytes().iter().chain(key) {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0000_0100_0000_01b3);
        }
        (h % STRIPES as u64) as usize
    }

    /// Locks the stripe of one item (a single write).
    pub(crate) fn lock_one(&self, table_id: &uuid::Uuid, key: &[u8]) -> MutexGuard<'_, ()> {
        self.stripes[Self::stripe(table_id, key)].lock()
    }

    /// Locks the stripes of every `(table id, storage key)` given, in ascending stripe order.
    pub(crate) fn lock<'a, 'k>(
        &'a self,
        keys: impl IntoIterator<Item = (&'k uuid::Uuid, &'k [u8])>,
    ) -> Held<'a> {
        let mut idx: Vec<usize> = keys.into_iter().map(|(t, k)| Self::stripe(t, k)).collect();
        idx.sort_unstable();
        idx.dedup();
        Held {
            _guards: idx.into_iter().map(|i| self.stripes[i].lock()).collect(),
        }
    }
}

/// The items of the write transactions in progress, by table id and storage key.
#[derive(Default)]
pub(crate) struct Ongoing {
    items: Mutex<HashMap<uuid::Uuid, HashSet<Vec<u8>>>>,
    /// How many items are marked: lets single writes skip the map while no transaction runs.
    marked: AtomicUsize,
}

/// The marks of one transaction; removed on drop.
pub(crate) struct Claim<'a> {
    ongoing: &'a Ongoing,
    keys: Vec<(uuid::Uuid, Vec<u8>)>,
}

impl Ongoing {
    /// Whether the item at `key` of table `table_id` belongs to a transaction in progress.
    pub(crate) fn contains(&self, table_id: &uuid::Uuid, key: &[u8]) -> bool {
        if self.marked.load(Ordering::Acquire) == 0 {
            return false;
        }
        self.items
            .lock()
            .get(table_id)
            .is_some_and(|keys| keys.contains(key))
    }

    /// Marks every item of a transaction, or none: when some already belong to another
    /// transaction, answers their positions in `keys` instead.
    pub(crate) fn claim(
        &self,
        keys: Vec<(uuid::Uuid, Vec<u8>)>,
    ) -> std::result::Result<Claim<'_>, Vec<usize>> {
        let mut items = self.items.lock();
        let taken: Vec<usize> = keys
            .iter()
            .enumerate()
            .filter(|(_, (t, k))| items.get(t).is_some_and(|set| set.contains(k)))
            .map(|(i, _)| i)
            .collect();
        if !taken.is_empty() {
            return Err(taken);
        }
        for (t, k) in &keys {
            items.entry(*t).or_default().insert(k.clone());
        }
        self.marked.fetch_add(keys.len(), Ordering::AcqRel);
        Ok(Claim {
            ongoing: self,
            keys,
        })
    }
}

impl Drop for Claim<'_> {
    fn drop(&mut self) {
        let mut items = self.ongoing.items.lock();
        for (t, k) in &self.keys {
            if let Some(set) = items.get_mut(t) {
                set.remove(k);
                if set.is_empty() {
                    items.remove(t);
                }
            }
        }
        self.ongoing
            .marked
            .fetch_sub(self.keys.len(), Ordering::AcqRel);
    }
}
