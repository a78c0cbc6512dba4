//! tarn-wire: DynamoDB's JSON wire format, between HTTP and the store.
//!
//! Everything that turns DynamoDB JSON 1.0 into the store's types and back lives here, and
//! nothing else: no HTTP, no operations, no wasm. The `tarn` binary's API handlers, its export
//! and import files, and the fuzz targets all use this one codec.
//!
//! - [`error`]: [`ApiError`], DynamoDB's exception names ([`kind`]) and the error body it
//!   renders (`__type` and a message).
//! - [`value`]: attribute values and items to and from DynamoDB JSON (`{"S":"x"}`...).
//! - [`json_out`]: an item written as DynamoDB JSON straight into bytes, the same bytes as
//!   [`ItemJson`] with a faster string escape (GetItem's answer).
//! - [`json_type`]: the `SerializationException` for a member of the wrong JSON type, worded as
//!   DynamoDB's front end words it.
//! - [`request`]: typed readers of request members (`required_str`, `optional_item`...).
//! - [`typed`]: the common shape of a hot operation's request (GetItem) decoded straight from
//!   the body's bytes, the general path ([`request`]) taking every other body.
//! - [`validation`]: [`ValidationErrors`], DynamoDB's `N validation errors detected: ...`.
//! - [`store_error`]: the mapping of the store's errors to DynamoDB's exceptions.
//!
//! The modules layer upward without cycles: `error` depends on nothing here; `json_type` and
//! `validation` on `error`; `value` and `request` on those; `store_error` on `error` and `value`; `json_out` on nothing here (its tests on `value`);
//! `typed` on `validation`.

pub mod error;
pub mod json_out;
pub mod json_type;
pub mod request;
pub mod store_error;
pub mod typed;
pub mod validation;
pub mod value;

pub use error::{kind, read_error_body, ApiError, DYNAMODB_NAMESPACE};
pub use json_type::{wrong_json_type, JsonType};
pub use request::{
    member, missing, optional_array, optional_attribute_values, optional_bool, optional_i64,
    optional_item, optional_object, optional_str, optional_string_map, optional_time,
    required_array, required_item, required_object, required_str, table_name, table_name_member,
};
pub use validation::{member_path, ValidationErrors};
pub use value::{decode_item, decode_value, encode_item, encode_value, ItemJson};
