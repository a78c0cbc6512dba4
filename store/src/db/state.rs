//! tarn's own bookkeeping beside the tables: small named records, such as the checkpoints of
//! stream triggers, the records of export and import jobs, of backups and of restores, in the
//! keyspace `state`. A record is written durably (the journal is synced before
//! [`Db::put_state`] returns, unless the caller took the sync over with
//! [`super::defer_syncs`]), so a restart finds exactly what was last written.

use super::Db;
use crate::error::{Result, StoreError};

impl Db {
    /// The record stored under `key`, if any.
    pub(crate) fn get_state(&self, key: &str) -> Result<Option<Vec<u8>>> {
        Ok(self.state.get(key)?.map(|v| v.to_vec()))
    }

    /// Stores `value` under `key`, durably.
    pub(crate) fn put_state(&self, key: &str, value: &[u8]) -> Result<()> {
        self.admit()?;
        self.state
            .insert(key, value)
            .map_err(|e| self.commit.engine_error(e))?;
        self.sync()
    }

    /// The records under `prefix` read as JSON, with their keys, in key order. `what` names
    /// the records in the error for one that does not read.
    pub(crate) fn list_state_json<T: serde::de::DeserializeOwned>(
        &self,
        prefix: &str,
        what: &str,
    ) -> Result<Vec<(String, T)>> {
        self.list_state(prefix)?
            .into_iter()
            .map(|(k, v)| {
                let value = serde_json::from_slice(&v).map_err(|e| {
                    StoreError::Corrupt(format!("unreadable {what} record {k}: {e}"))
                })?;
                Ok((k, value))
            })
            .collect()
    }

    /// Removes the record under `key`.
    pub(crate) fn delete_state(&self, key: &str) -> Result<()> {
        self.admit()?;
        self.state
            .remove(key)
            .map_err(|e| self.commit.engine_error(e))?;
        self.sync()
    }

    /// Every record whose key starts with `prefix`, in key order, as (key, value) pairs.
    pub(crate) fn list_state(&self, prefix: &str) -> Result<Vec<(String, Vec<u8>)>> {
        let mut out = Vec::new();
        for entry in self.state.prefix(prefix) {
            let (k, v) = entry.into_inner()?;
            let key = String::from_utf8(k.to_vec())
                .map_err(|_| StoreError::Corrupt("a state key is not UTF-8".into()))?;
            out.push((key, v.to_vec()));
        }
        Ok(out)
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

    #[test]
    fn list_state_takes_a_prefix_in_key_order() {
        let dir = tempfile::tempdir().unwrap();
        let s = Store::open(dir.path()).unwrap();
        for k in ["job/b", "job/a", "jobs", "other/a", "job/c"] {
            s.put_state(k, k.as_bytes()).unwrap();
        }
        s.delete_state("job/c").unwrap();
        let listed = s.list_state("job/").unwrap();
        let keys: Vec<&str> = listed.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(keys, ["job/a", "job/b"]);
        assert_eq!(listed[1].1, b"job/b");
        assert!(s.list_state("none/").unwrap().is_empty());
    }
}
