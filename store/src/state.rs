//! tarn's own bookkeeping beside the tables: small named records, such as the checkpoints of
//! stream triggers, in the keyspace `state`. A record is written durably (the journal is synced
//! before [`Store::put_state`] returns), so a restart finds exactly what was last written.

use crate::db::Store;
use crate::error::Result;

impl Store {
    /// The record stored under `key`, if any.
    pub fn get_state(&self, key: &str) -> Result<Option<Vec<u8>>> {
        Ok(self.state.get(key)?.map(|v| v.to_vec()))
    }

    /// Stores `value` under `key`, durably.
    pub fn put_state(&self, key: &str, value: &[u8]) -> Result<()> {
        self.state.insert(key, value)?;
        self.group_commit.sync(&self.db)
    }

    /// Removes the record under `key`.
    pub fn delete_state(&self, key: &str) -> Result<()> {
        self.state.remove(key)?;
        self.group_commit.sync(&self.db)
    }
}

#[cfg(test)]
mod tests {
    use crate::Store;

    #[test]
    fn state_survives_a_reopen() {
        let dir = tempfile::tempdir().unwrap();
        {
            let s = Store::open(dir.path()).unwrap();
            assert_eq!(s.get_state("a").unwrap(), None);
            s.put_state("a", b"one").unwrap();
            s.put_state("b", b"two").unwrap();
            s.delete_state("b").unwrap();
        }
        let s = Store::open(dir.path()).unwrap();
        assert_eq!(s.get_state("a").unwrap().as_deref(), Some(&b"one"[..]));
        assert_eq!(s.get_state("b").unwrap(), None);
    }
}
