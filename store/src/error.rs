//! The store's error type.
//!
//! Each variant corresponds to one DynamoDB exception, so the API edge can map an error to its
//! wire name without inspecting messages. Messages are written for people, in DynamoDB's words
//! where DynamoDB has words for it.

use crate::value::{Item, NumberError, ValueError};

/// Why a store operation failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The request breaks a rule of the data model (DynamoDB's ValidationException).
    #[error("{0}")]
    Validation(String),
    /// No such table (ResourceNotFoundException).
    #[error("Requested resource not found: Table: {0} not found")]
    TableNotFound(String),
    /// A resource that is not a table was not found (ResourceNotFoundException).
    #[error("{0}")]
    ResourceNotFound(String),
    /// The table exists already, or is busy (ResourceInUseException).
    #[error("{0}")]
    ResourceInUse(String),
    /// A condition on a write was false (ConditionalCheckFailedException). Carries the item as
    /// it was, for ReturnValuesOnConditionCheckFailure.
    #[error("The conditional request failed")]
    ConditionalCheckFailed {
        /// The item the condition was evaluated against, if it existed.
        item: Option<Box<Item>>,
    },
    /// A transaction was cancelled (TransactionCanceledException): one reason per action.
    #[error("Transaction cancelled, please refer cancellation reasons for specific reasons [{}]", .0.iter().map(|r| r.code.as_str()).collect::<Vec<_>>().join(", "))]
    TransactionCanceled(Vec<CancellationReason>),
    /// The item is part of a transaction still in progress (TransactionConflictException): a
    /// single-item write to it is refused rather than queued.
    #[error("Transaction is ongoing for the item")]
    TransactionConflict,
    /// The same idempotency token was used with a different request (IdempotentParameterMismatchException).
    #[error("{0}")]
    IdempotentParameterMismatch(String),
    /// A stream read asked for records that were trimmed away (TrimmedDataAccessException).
    #[error("{0}")]
    TrimmedDataAccess(String),
    /// No such backup (BackupNotFoundException).
    #[error("{0}")]
    BackupNotFound(String),
    /// The backup is being created, restored or deleted (BackupInUseException).
    #[error("{0}")]
    BackupInUse(String),
    /// A restore's target table exists already (TableAlreadyExistsException).
    #[error("{0}")]
    TableAlreadyExists(String),
    /// Point-in-time recovery is off for the table (PointInTimeRecoveryUnavailableException).
    #[error("{0}")]
    PointInTimeRecoveryUnavailable(String),
    /// The restore time is outside the recovery window (InvalidRestoreTimeException).
    #[error("{0}")]
    InvalidRestoreTime(String),
    /// An account or table limit was reached (LimitExceededException).
    #[error("{0}")]
    LimitExceeded(String),
    /// The storage engine failed (InternalServerError); the request may not have been applied.
    #[error("storage engine error: {0}")]
    Storage(#[from] fjall::Error),
    /// The disk holding the store is below the free-space reserve: the write was refused and
    /// changed nothing. Writes resume by themselves once space is freed; reads go on.
    #[error(
        "The disk holding the data is nearly full ({} free, below the reserve of {}): writes are refused until space is freed; reads still work",
        mib(*.free_bytes),
        mib(*.reserve_bytes)
    )]
    DiskFull {
        /// Bytes free at the last look.
        free_bytes: u64,
        /// The free-space reserve writes stop at.
        reserve_bytes: u64,
    },
    /// The storage engine failed (a journal sync that failed, an engine that stopped): the
    /// store takes no more writes until it is opened again. A write that gets this error may
    /// or may not survive the reopen.
    #[error("the store failed and takes no more writes until it is reopened: {0}")]
    Failed(String),
    /// Stored data could not be read back (InternalServerError).
    #[error("corrupt data: {0}")]
    Corrupt(String),
    /// File-system error outside the storage engine (InternalServerError).
    #[error("I/O error: {0}")]
    Io(#[from] std::io::Error),
    /// Encryption at rest: a bad or wrong key, or a record that does not decrypt
    /// (InternalServerError).
    #[error("encryption: {0}")]
    Encryption(String),
}

/// Why one action of a transaction failed, as DynamoDB's CancellationReasons report it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CancellationReason {
    /// `None`, `ConditionalCheckFailed`, `ValidationError`, `TransactionConflict`...
    pub code: String,
    /// A message for the failed action, if any.
    pub message: Option<String>,
    /// The item, when the action asked for ReturnValuesOnConditionCheckFailure = ALL_OLD.
    pub item: Option<Item>,
}

impl From<ValueError> for StoreError {
    fn from(e: ValueError) -> Self {
        StoreError::Validation(e.to_string())
    }
}

impl From<NumberError> for StoreError {
    fn from(e: NumberError) -> Self {
        StoreError::Validation(e.to_string())
    }
}

/// `bytes` in MiB with one decimal, for messages.
pub(crate) fn mib(bytes: u64) -> String {
    format!("{:.1} MiB", bytes as f64 / (1024.0 * 1024.0))
}

/// Result of store operations.
pub type Result<T, E = StoreError> = std::result::Result<T, E>;
