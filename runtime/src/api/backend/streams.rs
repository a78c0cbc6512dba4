//! Stream reading as a shard worker needs it: [`ShardReader`] (a table's stream ARN, its
//! shards, an iterator, a read), with the shapes it answers. [`super::Tables`] implements it
//! over either side of the seam; the cluster's shard workers (`crate::triggers::stream::shard`)
//! and lease coordinators (`crate::cluster::leases`) read through it.

use std::future::Future;
use std::pin::Pin;

use serde_json::Value;

/// A boxed future, as the stream-reading methods answer (they are called through `dyn`).
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// One shard of a stream, as DescribeStream lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShardInfo {
    /// The shard's id.
    pub id: String,
    /// The shards it was split from (their records come first).
    pub parents: Vec<String>,
    /// It has an ending sequence number: no record will be added.
    pub closed: bool,
}

/// One read of a shard.
#[derive(Debug, Default)]
pub struct ShardRead {
    /// The records, oldest first, as GetRecords returns them.
    pub records: Vec<Value>,
    /// Where the next read starts; None: the shard is closed and read to its end.
    pub next: Option<String>,
}

/// A Streams API (the engine's, or the store's), as a shard worker and the lease coordinator need it.
pub trait ShardReader: Send + Sync {
    /// The ARN of `table`'s current stream, if it has one enabled.
    fn stream_arn<'a>(&'a self, table: &'a str) -> BoxFuture<'a, Result<Option<String>, String>>;
    /// Every shard of the stream (all pages of DescribeStream).
    fn shards<'a>(&'a self, stream_arn: &'a str) -> BoxFuture<'a, Result<Vec<ShardInfo>, String>>;
    /// An iterator into a shard: after sequence number `after`, else at the shard's oldest
    /// record (`trim_horizon`) or after its newest (LATEST).
    fn iterator<'a>(
        &'a self,
        stream_arn: &'a str,
        shard: &'a str,
        after: Option<&'a str>,
        trim_horizon: bool,
    ) -> BoxFuture<'a, Result<String, String>>;
    /// Up to `limit` records from `iterator`. An expired iterator answers an error whose text
    /// contains `ExpiredIteratorException`.
    fn read<'a>(
        &'a self,
        iterator: &'a str,
        limit: usize,
    ) -> BoxFuture<'a, Result<ShardRead, String>>;
}
