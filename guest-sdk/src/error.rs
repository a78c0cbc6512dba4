//! Errors: [`Error`] for everything the SDK does, [`ErrorKind`] for DynamoDB's exception names.

use std::fmt;

/// What a tarn-sdk call can fail with.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The table operation failed: DynamoDB's exception kind and its message.
    #[error("{kind}: {message}")]
    Table {
        /// The exception kind, e.g. [`ErrorKind::ConditionalCheckFailed`].
        kind: ErrorKind,
        /// The host's message, for people.
        message: String,
    },
    /// A value could not be mapped to or from a DynamoDB item.
    #[error("item mapping: {0}")]
    Item(#[from] crate::item::ItemError),
    /// A paging token handed back by a client is not one this SDK made.
    #[error("invalid paging token")]
    InvalidToken,
    /// The host answered with JSON this SDK does not understand (a host bug).
    #[error("unexpected response from the host: {0}")]
    Response(String),
}

impl Error {
    /// The DynamoDB exception kind: [`ErrorKind::Validation`] for item mapping and token
    /// errors, [`ErrorKind::Other`] for unexpected responses.
    pub fn kind(&self) -> ErrorKind {
        match self {
            Error::Table { kind, .. } => kind.clone(),
            Error::Item(_) | Error::InvalidToken => ErrorKind::Validation,
            Error::Response(_) => ErrorKind::Other("InvalidResponse".into()),
        }
    }

    /// True when a condition expression did not hold (a write's optimistic-lock check).
    pub fn is_conditional_check_failed(&self) -> bool {
        matches!(
            self,
            Error::Table {
                kind: ErrorKind::ConditionalCheckFailed,
                ..
            }
        )
    }

    /// Builds a table error from the host's `kind` string and message.
    pub fn table(kind: &str, message: impl Into<String>) -> Self {
        Error::Table {
            kind: ErrorKind::parse(kind),
            message: message.into(),
        }
    }
}

/// DynamoDB's exception kinds, as the host reports them (`ConditionalCheckFailedException`
/// becomes [`ErrorKind::ConditionalCheckFailed`]).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum ErrorKind {
    /// A condition expression evaluated to false.
    ConditionalCheckFailed,
    /// The table (or index) does not exist.
    ResourceNotFound,
    /// The request is invalid (bad expression, wrong key, item too large...).
    Validation,
    /// The function's manifest does not grant this table (or grants it read-only).
    AccessDenied,
    /// A transaction was canceled; the message lists the reasons.
    TransactionCanceled,
    /// Another transaction is in progress on one of the items.
    TransactionConflict,
    /// Throughput exceeded; retry with backoff.
    ProvisionedThroughputExceeded,
    /// Too many requests; retry with backoff.
    Throttling,
    /// The account request limit was exceeded.
    RequestLimitExceeded,
    /// An item collection grew past its size limit.
    ItemCollectionSizeLimitExceeded,
    /// The host failed internally.
    InternalServerError,
    /// Any other exception, by its name without the `Exception` suffix.
    Other(String),
}

impl ErrorKind {
    /// Parses an exception name: with or without the `Exception` suffix and with or without
    /// a `com.amazonaws.dynamodb.v20120810#` style prefix.
    pub fn parse(name: &str) -> Self {
        let name = name.rsplit('#').next().unwrap_or(name);
        let short = name.strip_suffix("Exception").unwrap_or(name);
        match short {
            "ConditionalCheckFailed" => Self::ConditionalCheckFailed,
            "ResourceNotFound" => Self::ResourceNotFound,
            "Validation" => Self::Validation,
            "AccessDenied" => Self::AccessDenied,
            "TransactionCanceled" => Self::TransactionCanceled,
            "TransactionConflict" => Self::TransactionConflict,
            "ProvisionedThroughputExceeded" => Self::ProvisionedThroughputExceeded,
            "Throttling" => Self::Throttling,
            "RequestLimitExceeded" => Self::RequestLimitExceeded,
            "ItemCollectionSizeLimitExceeded" => Self::ItemCollectionSizeLimitExceeded,
            "InternalServerError" | "InternalFailure" => Self::InternalServerError,
            other => Self::Other(other.to_string()),
        }
    }

    /// The short name, without the `Exception` suffix (`ConditionalCheckFailed`).
    pub fn as_str(&self) -> &str {
        match self {
            Self::ConditionalCheckFailed => "ConditionalCheckFailed",
            Self::ResourceNotFound => "ResourceNotFound",
            Self::Validation => "Validation",
            Self::AccessDenied => "AccessDenied",
            Self::TransactionCanceled => "TransactionCanceled",
            Self::TransactionConflict => "TransactionConflict",
            Self::ProvisionedThroughputExceeded => "ProvisionedThroughputExceeded",
            Self::Throttling => "Throttling",
            Self::RequestLimitExceeded => "RequestLimitExceeded",
            Self::ItemCollectionSizeLimitExceeded => "ItemCollectionSizeLimitExceeded",
            Self::InternalServerError => "InternalServerError",
            Self::Other(s) => s,
        }
    }

    /// The HTTP status an API should answer with when this error reaches it: 409 for failed
    /// conditions and conflicts, 404, 400, 403, 429 for throttling, 500 otherwise.
    pub fn http_status(&self) -> u16 {
        match self {
            Self::ConditionalCheckFailed
            | Self::TransactionConflict
            | Self::TransactionCanceled => 409,
            Self::ResourceNotFound => 404,
            Self::Validation => 400,
            Self::AccessDenied => 403,
            Self::ProvisionedThroughputExceeded | Self::Throttling | Self::RequestLimitExceeded => {
                429
            }
            _ => 500,
        }
    }
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// `Result` with the SDK's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_exception_names() {
        assert_eq!(
            ErrorKind::parse("ConditionalCheckFailedException"),
            ErrorKind::ConditionalCheckFailed
        );
        assert_eq!(
            ErrorKind::parse("com.amazonaws.dynamodb.v20120810#ResourceNotFoundException"),
            ErrorKind::ResourceNotFound
        );
        assert_eq!(ErrorKind::parse("AccessDenied"), ErrorKind::AccessDenied);
        assert_eq!(
            ErrorKind::parse("WeirdException"),
            ErrorKind::Other("Weird".into())
        );
        assert_eq!(ErrorKind::parse("WeirdException").as_str(), "Weird");
    }

    #[test]
    fn error_kinds_and_statuses() {
        let e = Error::table(
            "ConditionalCheckFailedException",
            "The conditional request failed",
        );
        assert!(e.is_conditional_check_failed());
        assert_eq!(e.kind().http_status(), 409);
        assert_eq!(
            e.to_string(),
            "ConditionalCheckFailed: The conditional request failed"
        );
        assert_eq!(Error::InvalidToken.kind(), ErrorKind::Validation);
    }
}
