//! Time to live: UpdateTimeToLive and DescribeTimeToLive. The sweeper that deletes expired items
//! lives in the store (`tarn_store::ttl`) and runs in the background (`crate::maintenance`).

use serde_json::{json, Value};
use tarn_store::ttl::TtlChange;

use crate::api::Api;
use tarn_wire::ApiError;
use tarn_wire::{required_object, required_str, table_name};

/// UpdateTimeToLive: enable TTL on an attribute, or disable it.
pub(crate) fn update_time_to_live(api: &Api, body: &Value) -> Result<Value, ApiError> {
    let name = table_name(body)?;
    let spec = Value::Object(required_object(body, "TimeToLiveSpecification")?.clone());
    let attribute = required_str(&spec, "AttributeName")?;
    if attribute.is_empty() || attribute.len() > 255 {
        return Err(ApiError::validation(format!(
            "1 validation error detected: Value '{attribute}' at 'timeToLiveSpecification.attributeName' failed to satisfy constraint: Member must have length between 1 and 255"
        )));
    }
    let enabled = spec
        .get("Enabled")
        .and_then(Value::as_bool)
        .ok_or_else(|| {
            ApiError::validation(
                "1 validation error detected: Value null at 'timeToLiveSpecification.enabled' failed to satisfy constraint: Member must not be null",
            )
        })?;
    let change = if enabled {
        TtlChange::Enable(attribute.to_string())
    } else {
        TtlChange::Disable(attribute.to_string())
    };
    api.store()
        .update_time_to_live(&api.table_ref(name), change)?;
    Ok(json!({"TimeToLiveSpecification": {"Enabled": enabled, "AttributeName": attribute}}))
}

/// DescribeTimeToLive: the attribute and ENABLED, or DISABLED, in DynamoDB's order. As
/// DynamoDB does, a table reports ENABLED from the moment TTL is enabled, also while the store
/// still indexes its existing items (its own ENABLING state, which the console shows).
pub(crate) fn describe_time_to_live(api: &Api, body: &Value) -> Result<Value, ApiError> {
    let meta = api.store().table_meta(&api.table_ref(table_name(body)?))?;
    Ok(match meta.ttl {
        Some(spec) => json!({"TimeToLiveDescription": {
            "AttributeName": spec.attribute,
            "TimeToLiveStatus": match spec.status {
                tarn_store::schema::TtlStatus::Enabling => "ENABLED",
                other => other.as_str(),
            },
        }}),
        None => json!({"TimeToLiveDescription": {"TimeToLiveStatus": "DISABLED"}}),
    })
}
