//! Fuzz target: the store's item record decoder (postcard). Any bytes must decode to an item or
//! an error, never panic; an item that decodes must encode back to a record that decodes to it.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tarn_store::fuzzing::{decode_item, encode_item};

fuzz_target!(|data: &[u8]| {
    if let Ok(item) = decode_item(data) {
        let again = decode_item(&encode_item(&item)).expect("an encoded item decodes");
        assert_eq!(again, item, "round trip changed the item");
    }
});
