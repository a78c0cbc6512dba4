//! Table exports and imports as files, in the layouts DynamoDB uses with S3.
//!
//! tarn has no S3: an S3 bucket names a directory ([`location`]): `S3Bucket` `b` is
//! `<export root>/b` (`tarn serve --export-root`, by default `<data dir>/exports`), or any
//! absolute directory given as a `file:///abs/path` URI, and S3 keys are paths below it.
//!
//! - [`location`]: buckets and key prefixes to directories, refusing `..` escapes.
//! - [`export`]: the writer of DynamoDB's export layout (`AWSDynamoDB/<export id>/` with
//!   `_started`, `manifest-summary.json`, `manifest-files.json` and gzipped DynamoDB JSON lines
//!   under `data/`).
//! - [`import`]: the readers of import sources (DynamoDB JSON lines and CSV, gzipped or not),
//!   which turn each line into an item or a counted error, and the loader that writes items into
//!   the new table in batches.
//! - [`jobs`]: the durable records of export and import jobs (one [`jobs::Job`] record, with
//!   what each kind adds), in the store's state keyspace; the live progress of running ones;
//!   and the ids and ARNs DynamoDB gives them.
//!
//! Nothing here speaks the API protocol: `api::ops::exports` and `api::ops::imports` parse
//! requests, start jobs and describe them. Items in files are DynamoDB JSON, read and written
//! with the one codec, the `tarn-wire` crate; nothing here imports `crate::api`, which holds the
//! [`jobs::Transfers`] state.

pub mod export;
pub mod import;
pub mod jobs;
pub mod location;

use std::path::PathBuf;

/// Why reading or writing transfer files failed.
#[derive(Debug, thiserror::Error)]
pub enum TransferError {
    /// A file or directory could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// The failure.
        #[source]
        source: std::io::Error,
    },
    /// A bucket or prefix does not name a usable directory.
    #[error("{0}")]
    Location(String),
    /// A manifest or job record is not what it should be.
    #[error("{0}")]
    Format(String),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] tarn_store::StoreError),
}

impl TransferError {
    /// An I/O error on `path`.
    pub fn io(path: impl Into<PathBuf>) -> impl FnOnce(std::io::Error) -> TransferError {
        let path = path.into();
        move |source| TransferError::Io { path, source }
    }
}
