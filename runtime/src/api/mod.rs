//! The DynamoDB JSON 1.0 API: one entry point, [`Api::call`], that runs an operation named as in
//! `X-Amz-Target` on a JSON request body and answers the JSON response body or a DynamoDB error.
//!
//! The HTTP server and the wasm host's `tables` import both go through here, so a function sees
//! exactly the behaviour a boto3 client sees.

use std::sync::Arc;

use serde_json::Value;

/// A DynamoDB error: the exception name (`ValidationException`...) and a message for people.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{kind}: {message}")]
pub struct ApiError {
    /// DynamoDB's exception name, without the `com.amazonaws.dynamodb.v20120810#` prefix.
    pub kind: &'static str,
    /// What went wrong, in words a person can act on.
    pub message: String,
}

impl ApiError {
    /// An error of the given exception name.
    pub fn new(kind: &'static str, message: impl Into<String>) -> Self {
        ApiError { kind, message: message.into() }
    }
}

/// The DynamoDB API over one store.
#[derive(Clone)]
pub struct Api {
    store: Arc<tarn_store::Store>,
}

impl Api {
    /// The API over `store`.
    pub fn new(store: Arc<tarn_store::Store>) -> Self {
        Api { store }
    }

    /// The store behind the API.
    pub fn store(&self) -> &Arc<tarn_store::Store> {
        &self.store
    }

    /// Runs `operation` (`"PutItem"`, `"Query"`...) on a DynamoDB JSON request body.
    pub async fn call(&self, operation: &str, _body: Value) -> Result<Value, ApiError> {
        Err(ApiError::new("UnknownOperationException", format!("unknown operation {operation}")))
    }
}
