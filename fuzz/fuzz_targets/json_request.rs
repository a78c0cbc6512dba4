//! Fuzz target: the DynamoDB JSON request decoder (the `tarn-wire` crate). Any bytes are parsed
//! as the server parses a request body, then every member goes through the codec's decoders and
//! typed accessors. No input may panic, and an item that decodes must encode and decode back to
//! itself.
#![no_main]

use libfuzzer_sys::fuzz_target;
use serde_json::Value;

const MEMBERS: [&str; 8] = [
    "Item",
    "Key",
    "ExclusiveStartKey",
    "ExpressionAttributeValues",
    "ExpressionAttributeNames",
    "TableName",
    "Limit",
    "ConsistentRead",
];

fuzz_target!(|data: &[u8]| {
    let Ok(body) = serde_json::from_slice::<Value>(data) else {
        return;
    };
    check_item(&body);
    let _ = tarn_wire::decode_value(&body);
    let Value::Object(map) = &body else {
        return;
    };
    for (name, member) in map {
        check_item(member);
        let _ = tarn_wire::decode_value(member);
        let _ = tarn_wire::member_path(name);
    }
    for name in MEMBERS {
        let _ = tarn_wire::optional_item(&body, name);
        let _ = tarn_wire::optional_attribute_values(&body, name);
        let _ = tarn_wire::optional_string_map(&body, name);
        let _ = tarn_wire::optional_str(&body, name);
        let _ = tarn_wire::optional_bool(&body, name);
        let _ = tarn_wire::optional_i64(&body, name);
        let _ = tarn_wire::optional_array(&body, name);
        let _ = tarn_wire::optional_object(&body, name);
    }
    let _ = tarn_wire::table_name(&body);
    if let Err(e) = tarn_wire::decode_item(&body) {
        // Every refusal renders as a DynamoDB error body.
        let _ = e.to_body();
    }
});

/// Decodes `json` as an item; if it is one, it must survive a round trip unchanged.
fn check_item(json: &Value) {
    if let Ok(item) = tarn_wire::decode_item(json) {
        let back = tarn_wire::encode_item(&item);
        let again = tarn_wire::decode_item(&back).expect("an encoded item decodes");
        assert_eq!(again, item, "round trip changed the item");
    }
}
