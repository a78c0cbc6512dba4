//! TEMPORARY development shim: `Store::read_table` and `Store::pitr_status` until the store's
//! backup module lands. Delete before merging.

use tarn_store::schema::TableMeta;
use tarn_store::{Item, PageRequest, Result, Store};

/// PITR status as the store will report it.
#[derive(Debug, Clone, Copy)]
pub struct PitrStatus {
    pub enabled: bool,
    pub earliest: Option<f64>,
    pub latest: Option<f64>,
    pub recovery_period_days: u32,
}

pub trait StoreShim {
    fn read_table(
        &self,
        table: &str,
        at: Option<f64>,
        each: &mut dyn FnMut(Item) -> Result<()>,
    ) -> Result<TableMeta>;
    fn pitr_status(&self, table: &str) -> Result<PitrStatus>;
}

impl StoreShim for Store {
    fn read_table(
        &self,
        table: &str,
        _at: Option<f64>,
        each: &mut dyn FnMut(Item) -> Result<()>,
    ) -> Result<TableMeta> {
        let meta = self.table_meta(table)?;
        let mut page = PageRequest::default();
        loop {
            let p = self.scan(table, None, &page, |_| Ok(true))?;
            for item in p.items {
                each(item)?;
            }
            match p.last_evaluated_key {
                Some(k) => page.exclusive_start_key = Some(k),
                None => return Ok(meta),
            }
        }
    }

    fn pitr_status(&self, table: &str) -> Result<PitrStatus> {
        let meta = self.table_meta(table)?;
        Ok(PitrStatus {
            enabled: !meta.tags.contains_key("no-pitr"),
            earliest: Some(meta.created_at),
            latest: None,
            recovery_period_days: 35,
        })
    }
}
