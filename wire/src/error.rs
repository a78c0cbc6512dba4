//! DynamoDB errors as they cross the wire.
//!
//! An [`ApiError`] carries DynamoDB's exception name (`ValidationException`...), a message, and
//! optional extra members that some exceptions model (`Item` on `ConditionalCheckFailedException`
//! with `ReturnValuesOnConditionCheckFailure`, `CancellationReasons` on
//! `TransactionCanceledException`). [`ApiError::to_body`] renders the JSON 1.0 error body exactly
//! as DynamoDB does:
//!
//! ```json
//! {"__type":"com.amazonaws.dynamodb.v20120810#ResourceNotFoundException","message":"Requested resource not found"}
//! ```
//!
//! The `__type` namespace follows real DynamoDB: validation errors come from
//! `com.amazon.coral.validate#`, protocol and auth errors (`SerializationException`,
//! `UnknownOperationException`, `AccessDeniedException`, `MissingAuthenticationTokenException`...)
//! from `com.amazon.coral.service#`, throttling from `com.amazon.coral.availability#`, and the
//! service's own exceptions from `com.amazonaws.dynamodb.v20120810#`. Clients (botocore, the SDKs)
//! keep only the part after `#`.
//!
//! The message member is `message` for most exceptions and `Message` for the few whose model
//! spells it so (`TransactionCanceledException`, `IdempotentParameterMismatchException`,
//! `TransactionInProgressException`) and for the coral service errors that DynamoDB sends with
//! `Message`. botocore reads either; the SDKs read the one the model names. An empty message is
//! left out. DynamoDB sends `UnknownOperationException` bare; tarn names the operation in its
//! message (`Unknown operation: MakeCoffee`), so a client sees what it asked for.
//!
//! Every error answers HTTP 400 except `InternalServerError` (500), `ServiceUnavailable` (503)
//! and tarn's own `DiskFullException` (507 Insufficient Storage: the disk holding the data is
//! below the free-space reserve; writes resume by themselves once space is freed).
//!
//! The store's errors become [`ApiError`]s in [`crate::store_error`]; this module depends on
//! nothing else of the crate, so the codec and the mapping can both build on it.

use serde_json::{Map, Value};

/// DynamoDB's exception names, so handlers don't misspell them.
pub mod kind {
    /// A request that breaks a rule (the most common error).
    pub const VALIDATION: &str = "ValidationException";
    /// The table, index, stream or backup does not exist.
    pub const RESOURCE_NOT_FOUND: &str = "ResourceNotFoundException";
    /// The resource exists already or is busy (CREATING, DELETING...).
    pub const RESOURCE_IN_USE: &str = "ResourceInUseException";
    /// A condition expression evaluated to false.
    pub const CONDITIONAL_CHECK_FAILED: &str = "ConditionalCheckFailedException";
    /// The body is not valid JSON or has the wrong JSON shape.
    pub const SERIALIZATION: &str = "SerializationException";
    /// The `X-Amz-Target` operation is missing or unknown.
    pub const UNKNOWN_OPERATION: &str = "UnknownOperationException";
    /// A bug or a store failure.
    pub const INTERNAL_SERVER_ERROR: &str = "InternalServerError";
    /// The server cannot take the request now.
    pub const SERVICE_UNAVAILABLE: &str = "ServiceUnavailable";
    /// Too many control-plane operations or resources.
    pub const LIMIT_EXCEEDED: &str = "LimitExceededException";
    /// A transaction was cancelled; see `CancellationReasons`.
    pub const TRANSACTION_CANCELED: &str = "TransactionCanceledException";
    /// Another transaction holds one of the items.
    pub const TRANSACTION_CONFLICT: &str = "TransactionConflictException";
    /// A transaction with the same token is still running.
    pub const TRANSACTION_IN_PROGRESS: &str = "TransactionInProgressException";
    /// A client token was reused with different parameters.
    pub const IDEMPOTENT_PARAMETER_MISMATCH: &str = "IdempotentParameterMismatchException";
    /// An item collection (LSI) exceeded 10 GB.
    pub const ITEM_COLLECTION_SIZE_LIMIT_EXCEEDED: &str =
        "ItemCollectionSizeLimitExceededException";
    /// Throughput limit exceeded.
    pub const PROVISIONED_THROUGHPUT_EXCEEDED: &str = "ProvisionedThroughputExceededException";
    /// Account-level request rate exceeded.
    pub const REQUEST_LIMIT_EXCEEDED: &str = "RequestLimitExceeded";
    /// Throttled by the service front end.
    pub const THROTTLING: &str = "ThrottlingException";
    /// The caller may not do this (or a function may not reach this table).
    pub const ACCESS_DENIED: &str = "AccessDeniedException";
    /// No credentials on a request that needs them.
    pub const MISSING_AUTHENTICATION_TOKEN: &str = "MissingAuthenticationTokenException";
    /// The access key is unknown.
    pub const UNRECOGNIZED_CLIENT: &str = "UnrecognizedClientException";
    /// The SigV4 signature does not match.
    pub const INVALID_SIGNATURE: &str = "InvalidSignatureException";
    /// The SigV4 authorization header is malformed.
    pub const INCOMPLETE_SIGNATURE: &str = "IncompleteSignatureException";
    /// The backup does not exist.
    pub const BACKUP_NOT_FOUND: &str = "BackupNotFoundException";
    /// The backup is being created or deleted.
    pub const BACKUP_IN_USE: &str = "BackupInUseException";
    /// The table named as a restore target exists already.
    pub const TABLE_ALREADY_EXISTS: &str = "TableAlreadyExistsException";
    /// The table named does not exist (backup and restore operations).
    pub const TABLE_NOT_FOUND: &str = "TableNotFoundException";
    /// The table is being changed (backup and restore operations).
    pub const TABLE_IN_USE: &str = "TableInUseException";
    /// The index does not exist.
    pub const INDEX_NOT_FOUND: &str = "IndexNotFoundException";
    /// PITR is not enabled.
    pub const POINT_IN_TIME_RECOVERY_UNAVAILABLE: &str = "PointInTimeRecoveryUnavailableException";
    /// The restore time is outside the PITR window.
    pub const INVALID_RESTORE_TIME: &str = "InvalidRestoreTimeException";
    /// The export time is outside the PITR window.
    pub const INVALID_EXPORT_TIME: &str = "InvalidExportTimeException";
    /// The export does not exist.
    pub const EXPORT_NOT_FOUND: &str = "ExportNotFoundException";
    /// An export to the same place is running.
    pub const EXPORT_CONFLICT: &str = "ExportConflictException";
    /// The import does not exist.
    pub const IMPORT_NOT_FOUND: &str = "ImportNotFoundException";
    /// An import with the same token is running.
    pub const IMPORT_CONFLICT: &str = "ImportConflictException";
    /// PITR cannot be enabled now.
    pub const CONTINUOUS_BACKUPS_UNAVAILABLE: &str = "ContinuousBackupsUnavailableException";
    /// Streams: the shard iterator is older than 15 minutes.
    pub const EXPIRED_ITERATOR: &str = "ExpiredIteratorException";
    /// Streams: the records asked for were trimmed (older than the retention).
    pub const TRIMMED_DATA_ACCESS: &str = "TrimmedDataAccessException";
    /// tarn's own: the disk holding the data is below the free-space reserve, so writes are
    /// refused (HTTP 507) until space is freed; reads still work. Not retried by the SDKs.
    pub const DISK_FULL: &str = "DiskFullException";
}

/// The `__type` namespace of DynamoDB's own exceptions.
pub const DYNAMODB_NAMESPACE: &str = "com.amazonaws.dynamodb.v20120810";

/// A DynamoDB error: the exception name (`ValidationException`...), a message for people, and
/// any extra members the exception's model carries.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{kind}: {message}")]
pub struct ApiError {
    /// DynamoDB's exception name, without the `com.amazonaws.dynamodb.v20120810#` prefix.
    pub kind: &'static str,
    /// What went wrong, in words a person can act on.
    pub message: String,
    /// Extra members merged into the error body (`Item`, `CancellationReasons`...).
    pub extra: Option<Map<String, Value>>,
}

impl ApiError {
    /// An error of the given exception name.
    pub fn new(kind: &'static str, message: impl Into<String>) -> Self {
        ApiError {
            kind,
            message: message.into(),
            extra: None,
        }
    }

    /// `ValidationException`: the request breaks one of DynamoDB's rules.
    pub fn validation(message: impl Into<String>) -> Self {
        Self::new(kind::VALIDATION, message)
    }

    /// `ResourceNotFoundException`.
    pub fn resource_not_found(message: impl Into<String>) -> Self {
        Self::new(kind::RESOURCE_NOT_FOUND, message)
    }

    /// `ResourceNotFoundException` with DynamoDB's data-plane wording for a missing table
    /// (`Requested resource not found`).
    pub fn table_not_found() -> Self {
        Self::resource_not_found("Requested resource not found")
    }

    /// `ResourceInUseException`.
    pub fn resource_in_use(message: impl Into<String>) -> Self {
        Self::new(kind::RESOURCE_IN_USE, message)
    }

    /// `ConditionalCheckFailedException` with DynamoDB's message (`The conditional request
    /// failed`); add the old item with [`ApiError::with_extra`]`("Item", ...)` when the request
    /// asked for `ReturnValuesOnConditionCheckFailure: ALL_OLD`.
    pub fn conditional_check_failed() -> Self {
        Self::new(
            kind::CONDITIONAL_CHECK_FAILED,
            "The conditional request failed",
        )
    }

    /// `SerializationException`: the body is not JSON, or a member has the wrong JSON type.
    pub fn serialization(message: impl Into<String>) -> Self {
        Self::new(kind::SERIALIZATION, message)
    }

    /// `UnknownOperationException`, naming the operation (or what the request carried instead
    /// of one) in its message: `Unknown operation: FlyToTheMoon`.
    pub fn unknown_operation(operation: &str) -> Self {
        Self::new(
            kind::UNKNOWN_OPERATION,
            format!("Unknown operation: {operation}"),
        )
    }

    /// `InternalServerError` (HTTP 500).
    pub fn internal(message: impl Into<String>) -> Self {
        Self::new(kind::INTERNAL_SERVER_ERROR, message)
    }

    /// `LimitExceededException`.
    pub fn limit_exceeded(message: impl Into<String>) -> Self {
        Self::new(kind::LIMIT_EXCEEDED, message)
    }

    /// `TransactionCanceledException` with its `CancellationReasons` (one entry per action, each
    /// `{"Code": "None" | "ConditionalCheckFailed" | ..., "Message"?: ..., "Item"?: ...}`), and
    /// DynamoDB's message listing the codes:
    /// `Transaction cancelled, please refer cancellation reasons for specific reasons [None, ConditionalCheckFailed]`.
    pub fn transaction_canceled(reasons: Vec<Value>) -> Self {
        let codes: Vec<&str> = reasons
            .iter()
            .map(|r| r.get("Code").and_then(Value::as_str).unwrap_or("None"))
            .collect();
        let message = format!(
            "Transaction cancelled, please refer cancellation reasons for specific reasons [{}]",
            codes.join(", ")
        );
        Self::new(kind::TRANSACTION_CANCELED, message)
            .with_extra("CancellationReasons", Value::Array(reasons))
    }

    /// `TransactionConflictException`.
    pub fn transaction_conflict(message: impl Into<String>) -> Self {
        Self::new(kind::TRANSACTION_CONFLICT, message)
    }

    /// `ItemCollectionSizeLimitExceededException`.
    pub fn item_collection_size_limit_exceeded(message: impl Into<String>) -> Self {
        Self::new(kind::ITEM_COLLECTION_SIZE_LIMIT_EXCEEDED, message)
    }

    /// `AccessDeniedException`.
    pub fn access_denied(message: impl Into<String>) -> Self {
        Self::new(kind::ACCESS_DENIED, message)
    }

    /// `MissingAuthenticationTokenException`.
    pub fn missing_authentication_token(message: impl Into<String>) -> Self {
        Self::new(kind::MISSING_AUTHENTICATION_TOKEN, message)
    }

    /// Adds (or replaces) an extra member of the error body.
    pub fn with_extra(mut self, key: impl Into<String>, value: Value) -> Self {
        self.extra
            .get_or_insert_with(Map::new)
            .insert(key.into(), value);
        self
    }

    /// The HTTP status DynamoDB answers this error with.
    pub fn status(&self) -> u16 {
        match self.kind {
            kind::INTERNAL_SERVER_ERROR => 500,
            kind::SERVICE_UNAVAILABLE => 503,
            kind::DISK_FULL => 507,
            _ => 400,
        }
    }

    /// Whether the error is the server's fault (logged louder than client errors).
    pub fn is_server_error(&self) -> bool {
        self.status() >= 500
    }

    /// The `__type` value, namespaced as real DynamoDB namespaces it.
    pub fn type_name(&self) -> String {
        let namespace = match self.kind {
            kind::VALIDATION => "com.amazon.coral.validate",
            kind::SERIALIZATION
            | kind::UNKNOWN_OPERATION
            | kind::ACCESS_DENIED
            | kind::MISSING_AUTHENTICATION_TOKEN
            | kind::UNRECOGNIZED_CLIENT
            | kind::INVALID_SIGNATURE
            | kind::INCOMPLETE_SIGNATURE => "com.amazon.coral.service",
            kind::THROTTLING => "com.amazon.coral.availability",
            _ => DYNAMODB_NAMESPACE,
        };
        format!("{namespace}#{}", self.kind)
    }

    /// The member that carries the message: `Message` or `message`, as DynamoDB spells it for
    /// this exception.
    pub fn message_key(&self) -> &'static str {
        match self.kind {
            kind::TRANSACTION_CANCELED
            | kind::IDEMPOTENT_PARAMETER_MISMATCH
            | kind::TRANSACTION_IN_PROGRESS
            | kind::SERIALIZATION
            | kind::ACCESS_DENIED => "Message",
            _ => "message",
        }
    }

    /// The JSON 1.0 error body: `__type`, the message (left out when empty) and the extra members.
    pub fn to_body(&self) -> Value {
        let mut body = Map::new();
        body.insert("__type".into(), Value::String(self.type_name()));
        if !self.message.is_empty() {
            body.insert(
                self.message_key().into(),
                Value::String(self.message.clone()),
            );
        }
        if let Some(extra) = &self.extra {
            for (k, v) in extra {
                body.insert(k.clone(), v.clone());
            }
        }
        Value::Object(body)
    }
}

/// The exception name (the part of `__type` after `#`, as clients keep it) and the message
/// (`message` or `Message`; empty when absent) of an error body another DynamoDB endpoint
/// answered. The name is `None` when the body has no `__type`.
pub fn read_error_body(body: &Value) -> (Option<String>, String) {
    let kind = body
        .get("__type")
        .and_then(Value::as_str)
        .map(|t| t.rsplit('#').next().unwrap_or(t).to_string());
    let message = body
        .get("message")
        .or_else(|| body.get("Message"))
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string();
    (kind, message)
}

impl From<tarn_store::value::ValueError> for ApiError {
    fn from(e: tarn_store::value::ValueError) -> Self {
        ApiError::validation(e.to_string())
    }
}

impl From<tarn_store::value::NumberError> for ApiError {
    fn from(e: tarn_store::value::NumberError) -> Self {
        ApiError::validation(e.to_string())
    }
}

impl From<tarn_store::expr::ExprError> for ApiError {
    /// A malformed or misused expression: its message is DynamoDB's already.
    fn from(e: tarn_store::expr::ExprError) -> Self {
        ApiError::validation(e.to_string())
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn an_error_body_reads_back_as_name_and_message() {
        let e = ApiError::transaction_canceled(vec![]);
        let (kind, message) = read_error_body(&e.to_body());
        assert_eq!(kind.as_deref(), Some("TransactionCanceledException"));
        assert_eq!(message, e.message);
        let (kind, message) = read_error_body(&ApiError::table_not_found().to_body());
        assert_eq!(kind.as_deref(), Some("ResourceNotFoundException"));
        assert!(message.contains("not found"), "{message}");
        assert_eq!(read_error_body(&json!({})), (None, String::new()));
    }

    #[test]
    fn body_and_status_follow_dynamodb() {
        let e = ApiError::resource_not_found("Requested resource not found");
        assert_eq!(e.status(), 400);
        assert_eq!(
            e.to_body(),
            json!({"__type": "com.amazonaws.dynamodb.v20120810#ResourceNotFoundException",
                   "message": "Requested resource not found"})
        );
        let e = ApiError::validation("bad");
        assert_eq!(
            e.to_body(),
            json!({"__type": "com.amazon.coral.validate#ValidationException", "message": "bad"})
        );
        assert_eq!(ApiError::internal("boom").status(), 500);
        assert!(ApiError::internal("boom").is_server_error());
    }

    #[test]
    fn unknown_operation_names_the_operation() {
        assert_eq!(
            ApiError::unknown_operation("FlyToTheMoon").to_body(),
            json!({"__type": "com.amazon.coral.service#UnknownOperationException",
                   "message": "Unknown operation: FlyToTheMoon"})
        );
    }

    #[test]
    fn serialization_uses_capital_message() {
        assert_eq!(
            ApiError::serialization("Start of structure or map found where not expected.")
                .to_body(),
            json!({"__type": "com.amazon.coral.service#SerializationException",
                   "Message": "Start of structure or map found where not expected."})
        );
    }

    #[test]
    fn extra_members_are_merged() {
        let e = ApiError::conditional_check_failed().with_extra("Item", json!({"pk": {"S": "a"}}));
        assert_eq!(
            e.to_body(),
            json!({"__type": "com.amazonaws.dynamodb.v20120810#ConditionalCheckFailedException",
                   "message": "The conditional request failed", "Item": {"pk": {"S": "a"}}})
        );
    }

    #[test]
    fn transaction_canceled_lists_codes() {
        let e = ApiError::transaction_canceled(vec![
            json!({"Code": "None"}),
            json!({"Code": "ConditionalCheckFailed", "Message": "The conditional request failed"}),
        ]);
        let body = e.to_body();
        assert_eq!(
            body["Message"],
            "Transaction cancelled, please refer cancellation reasons for specific reasons [None, ConditionalCheckFailed]"
        );
        assert_eq!(
            body["CancellationReasons"][1]["Code"],
            "ConditionalCheckFailed"
        );
        assert!(body.get("message").is_none());
    }

    #[test]
    fn store_errors_become_validation() {
        let e: ApiError = tarn_store::value::ValueError::EmptyNumberSet.into();
        assert_eq!(e.kind, kind::VALIDATION);
        assert_eq!(
            e.message,
            "One or more parameter values were invalid: An number set  may not be empty"
        );
    }
}
