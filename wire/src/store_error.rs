//! The store's errors as DynamoDB exceptions: `impl From<StoreError> for ApiError`.
//!
//! Kept apart from [`crate::error`] because one case needs the codec: a cancelled transaction's
//! reasons carry the items that failed their conditions, encoded as DynamoDB JSON. With the
//! mapping here, `error` depends on nothing and `value` (which reports its failures as
//! [`ApiError`]s) on `error` only.

use serde_json::{Map, Value};

use crate::error::{kind, ApiError};
use crate::value::encode_item;

impl From<tarn_store::StoreError> for ApiError {
    /// Maps a store error to its DynamoDB exception. `ConditionalCheckFailed` loses its item
    /// here: a handler adds it (`with_extra("Item", ...)`) only when the request asked for
    /// `ReturnValuesOnConditionCheckFailure: ALL_OLD`. Storage failures are logged and answered
    /// as a bare `InternalServerError`, without engine details.
    fn from(e: tarn_store::StoreError) -> Self {
        use tarn_store::StoreError as E;
        match e {
            E::Validation(m) => ApiError::validation(m),
            e @ E::TableNotFound(_) => ApiError::resource_not_found(e.to_string()),
            E::ResourceNotFound(m) => ApiError::resource_not_found(m),
            E::ResourceInUse(m) => ApiError::resource_in_use(m),
            E::ConditionalCheckFailed { .. } => ApiError::conditional_check_failed(),
            E::TransactionCanceled(reasons) => ApiError::transaction_canceled(
                reasons
                    .into_iter()
                    .map(|r| {
                        let mut o = Map::new();
                        o.insert("Code".into(), Value::String(r.code));
                        if let Some(m) = r.message {
                            o.insert("Message".into(), Value::String(m));
                        }
                        if let Some(item) = r.item {
                            o.insert("Item".into(), encode_item(&item));
                        }
                        Value::Object(o)
                    })
                    .collect(),
            ),
            e @ E::TransactionConflict => ApiError::transaction_conflict(e.to_string()),
            E::IdempotentParameterMismatch(m) => {
                ApiError::new(kind::IDEMPOTENT_PARAMETER_MISMATCH, m)
            }
            E::LimitExceeded(m) => ApiError::limit_exceeded(m),
            E::BackupNotFound(m) => ApiError::new(kind::BACKUP_NOT_FOUND, m),
            E::BackupInUse(m) => ApiError::new(kind::BACKUP_IN_USE, m),
            E::TableAlreadyExists(m) => ApiError::new(kind::TABLE_ALREADY_EXISTS, m),
            E::PointInTimeRecoveryUnavailable(m) => {
                ApiError::new(kind::POINT_IN_TIME_RECOVERY_UNAVAILABLE, m)
            }
            E::InvalidRestoreTime(m) => ApiError::new(kind::INVALID_RESTORE_TIME, m),
            e @ E::DiskFull { .. } => ApiError::new(kind::DISK_FULL, e.to_string()),
            E::Failed(reason) => {
                tracing::error!(%reason, "write refused: the store failed");
                ApiError::internal(
                    "The server's storage failed: it takes no writes until tarn is restarted",
                )
            }
            E::Corrupt(m) if m.starts_with("snapshot file") => {
                tracing::error!(error = %m, "unusable backup file");
                ApiError::validation(format!("The backup cannot be restored: {m}"))
            }
            other => {
                tracing::error!(error = %other, "store failure");
                ApiError::internal("Internal server error")
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;
    use tarn_store::{CancellationReason, Item, StoreError};

    use super::*;

    #[test]
    fn cancellation_reasons_carry_encoded_items() {
        let item = Item::from([("pk".to_string(), tarn_store::AttributeValue::S("a".into()))]);
        let e: ApiError = StoreError::TransactionCanceled(vec![
            CancellationReason {
                code: "None".into(),
                message: None,
                item: None,
            },
            CancellationReason {
                code: "ConditionalCheckFailed".into(),
                message: Some("The conditional request failed".into()),
                item: Some(item),
            },
        ])
        .into();
        assert_eq!(e.kind, kind::TRANSACTION_CANCELED);
        assert_eq!(
            e.to_body()["CancellationReasons"],
            json!([{"Code": "None"},
                   {"Code": "ConditionalCheckFailed", "Message": "The conditional request failed",
                    "Item": {"pk": {"S": "a"}}}])
        );
    }

    #[test]
    fn a_full_disk_is_its_own_exception_and_a_failed_store_an_internal_error() {
        let e: ApiError = StoreError::DiskFull {
            free_bytes: 10 << 20,
            reserve_bytes: 256 << 20,
        }
        .into();
        assert_eq!(e.kind, kind::DISK_FULL);
        assert_eq!(e.status(), 507);
        assert_eq!(
            e.to_body()["__type"],
            "com.amazonaws.dynamodb.v20120810#DiskFullException"
        );
        assert!(e.message.contains("nearly full"), "{}", e.message);
        assert!(e.message.contains("10.0 MiB free"), "{}", e.message);
        assert!(e.message.contains("reads still work"), "{}", e.message);
        let e: ApiError = StoreError::Failed("syncing the journal failed: EIO".into()).into();
        assert_eq!(e.kind, kind::INTERNAL_SERVER_ERROR);
        assert!(
            !e.message.contains("EIO"),
            "no engine details: {}",
            e.message
        );
    }

    #[test]
    fn storage_failures_are_bare_internal_errors() {
        let e: ApiError = StoreError::Corrupt("bad block".into()).into();
        assert_eq!(e.kind, kind::INTERNAL_SERVER_ERROR);
        assert_eq!(e.message, "Internal server error");
        let e: ApiError = StoreError::TableNotFound("t".into()).into();
        assert_eq!(e.kind, kind::RESOURCE_NOT_FOUND);
    }
}
