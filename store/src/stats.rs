//! Figures about the open database for monitoring ([`StoreStats`], through
//! [`crate::Store::stats`]): disk use, the journal, memtables, compactions, the block cache, and
//! what fjall stalls writes on. Read-only: nothing here changes the database, and each figure
//! is one of fjall's counters or a sum over the open tables' keyspaces (no I/O but the journal
//! file's length).
//!
//! fjall does not count the writes it stalled; [`StoreStats::max_l0_tables`] and
//! [`StoreStats::max_sealed_memtables`] are the conditions it stalls on (a keyspace whose
//! level 0 holds 20 runs slows writes, 30 stops them; 4 sealed memtables waiting for a flush
//! stop them).

use crate::db::Db;

/// Figures about the open database.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct StoreStats {
    /// Bytes on disk: the journal and every keyspace.
    pub disk_bytes: u64,
    /// Bytes of journal on disk.
    pub journal_bytes: u64,
    /// Journal files on disk.
    pub journals: u64,
    /// Bytes of writes in memtables, not yet flushed.
    pub write_buffer_bytes: u64,
    /// Memtable flushes waiting to run.
    pub flushes_queued: u64,
    /// Compactions completed since the store opened.
    pub compactions_completed: u64,
    /// Compactions running now.
    pub compactions_running: u64,
    /// Seconds spent compacting since the store opened.
    pub compaction_seconds: f64,
    /// Bytes in the block cache.
    pub block_cache_bytes: u64,
    /// Capacity of the block cache.
    pub block_cache_capacity_bytes: u64,
    /// Most level-0 tables in one keyspace of a table (items, indexes, expiry, streams).
    pub max_l0_tables: u64,
    /// Most sealed memtables waiting for a flush in one keyspace of a table.
    pub max_sealed_memtables: u64,
}

/// The figures of `db` now.
pub(crate) fn stats(db: &Db) -> StoreStats {
    let f = &db.fjall;
    let mut max_l0_tables = 0;
    let mut max_sealed_memtables = 0;
    for table in db.tables_snapshot() {
        let keyspaces = std::iter::once(&table.items)
            .chain(table.indexes.iter().map(|ix| &ix.keyspace))
            .chain(std::iter::once(&table.expiry))
            .chain(table.stream_logs.values())
            .chain(table.pitr_log.iter());
        for ks in keyspaces {
            max_l0_tables = max_l0_tables.max(ks.l0_table_count() as u64);
            max_sealed_memtables = max_sealed_memtables.max(ks.sealed_memtable_count() as u64);
        }
    }
    StoreStats {
        disk_bytes: f.disk_space().unwrap_or(0),
        journal_bytes: f.journal_disk_space().unwrap_or(0),
        journals: f.journal_count() as u64,
        write_buffer_bytes: f.write_buffer_size(),
        flushes_queued: f.outstanding_flushes() as u64,
        compactions_completed: f.compactions_completed() as u64,
        compactions_running: f.active_compactions() as u64,
        compaction_seconds: f.time_compacting().as_secs_f64(),
        block_cache_bytes: f.cache_size(),
        block_cache_capacity_bytes: f.cache_capacity(),
        max_l0_tables,
        max_sealed_memtables,
    }
}

#[cfg(test)]
mod tests {
    use crate::testutil::*;

    #[test]
    fn figures_follow_the_data() {
        let (_dir, store) = open();
        let empty = store.stats();
        assert!(empty.disk_bytes > 0, "{empty:?}");
        assert!(empty.journals >= 1);
        assert!(empty.block_cache_capacity_bytes > 0);
        store.create_table(spec("t", None)).unwrap();
        for i in 0..200 {
            let it = item(&[("pk", s(&format!("k{i}"))), ("v", s(&"x".repeat(1000)))]);
            store.put_item("t", it, |_| Ok(())).unwrap();
        }
        let after = store.stats();
        assert!(after.write_buffer_bytes > 0, "{after:?}");
        assert!(after.journal_bytes > empty.journal_bytes, "{after:?}");
        assert!(after.disk_bytes > empty.disk_bytes, "{after:?}");
    }
}
