//! Item locks for read-modify-write.
//!
//! Conditional writes, updates and transactions read an item, decide, and write it back; two
//! such writers on one item must not interleave, or one update is lost. Items map by hash onto a
//! fixed set of striped mutexes. A transaction takes all of its stripes in ascending order, so two
//! transactions can never wait on each other in a cycle. Plain reads take no lock.

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
