//! A table's expiry index, the keyspace `e-<table id>`: one entry per item with a time to
//! live, keyed `[expiry seconds, big-endian u64][item storage key]`, so the sweeper reads only
//! the entries whose time has come, never the table.
//!
//! Every write stages the entries of its change into its own batch ([`stage_entries`], from
//! the write path); the sweeper and the backfill that fill and read the index live in
//! [`crate::ttl`].

use fjall::Keyspace;

use crate::error::Result;
use crate::schema::expiry_of;
use crate::value::Item;

/// The key of an index entry: the expiry, then the item's storage key.
pub(crate) fn entry_key(expiry: u64, item_key: &[u8]) -> Vec<u8> {
    let mut k = Vec::with_capacity(8 + item_key.len());
    k.extend_from_slice(&expiry.to_be_bytes());
    k.extend_from_slice(item_key);
    k
}

/// The expiry and item storage key of an index entry.
pub(crate) fn split_entry(entry: &[u8]) -> Option<(u64, &[u8])> {
    let (secs, key) = entry.split_at_checked(8)?;
    Some((u64::from_be_bytes(secs.try_into().ok()?), key))
}

/// Adds to `batch` the expiry-index changes of one item change: the old item's entry goes, the
/// new item's comes.
pub(crate) fn stage_entries(
    batch: &mut fjall::OwnedWriteBatch,
    index: &Keyspace,
    attribute: &str,
    item_key: &[u8],
    old: Option<&Item>,
    new: Option<&Item>,
) {
    let before = old.and_then(|i| expiry_of(i, attribute));
    let after = new.and_then(|i| expiry_of(i, attribute));
    if before == after {
        return;
    }
    if let Some(e) = before {
        batch.remove(index, entry_key(e, item_key));
    }
    if let Some(e) = after {
        batch.insert(index, entry_key(e, item_key), []);
    }
}

/// Removes every entry of a keyspace.
pub(crate) fn clear(db: &fjall::Database, ks: &Keyspace) -> Result<()> {
    loop {
        let mut batch = db.batch();
        let mut n = 0;
        for guard in ks.iter().take(10_000) {
            batch.remove(ks, guard.key()?);
            n += 1;
        }
        if n == 0 {
            return Ok(());
        }
        batch.commit()?;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_sort_by_expiry_then_key() {
        let a = entry_key(5, b"zz");
        let b = entry_key(6, b"aa");
        assert!(a < b);
        assert_eq!(split_entry(&b), Some((6, &b"aa"[..])));
        assert_eq!(split_entry(b"short"), None);
    }
}
