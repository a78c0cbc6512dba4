//! Encryption at rest through the store's public API: item values never reach the disk in the
//! clear, reads (get, query, scan, transactions) see them decrypted, and a store opened with the
//! wrong key, without its key, or an unencrypted store opened with a key fails at open.
#![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test

use std::collections::BTreeMap;
use std::path::Path;

use tarn_store::crypto::EncryptionKey;
use tarn_store::schema::{BillingMode, KeyAttribute, KeySchema, ScalarType, TableSpec};
use tarn_store::{AttributeValue, Item, PageRequest, Store, StoreError, StoreOptions};

const SECRET: &str = "correct horse battery staple";

fn spec(name: &str) -> TableSpec {
    let hash = KeyAttribute {
        name: "pk".into(),
        attr_type: ScalarType::S,
    };
    TableSpec {
        name: name.into(),
        attribute_definitions: vec![hash.clone()],
        key_schema: KeySchema::new(hash, None),
        billing_mode: BillingMode::PayPerRequest,
        throughput: None,
        tags: BTreeMap::new(),
        deletion_protection: false,
        table_class: None,
        stream: None,
        indexes: Vec::new(),
    }
}

fn item(pk: &str, secret: &str) -> Item {
    Item::from([
        ("pk".to_string(), AttributeValue::S(pk.into())),
        ("secret".to_string(), AttributeValue::S(secret.into())),
    ])
}

fn options(key: Option<u8>) -> StoreOptions {
    StoreOptions {
        encryption_key: key.map(|b| EncryptionKey::from_bytes(&[b; 32]).unwrap()),
        ..StoreOptions::default()
    }
}

/// Whether any file under `dir` contains `needle`.
fn on_disk(dir: &Path, needle: &[u8]) -> bool {
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).unwrap() {
            let p = entry.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else if let Ok(bytes) = std::fs::read(&p) {
                if bytes.windows(needle.len()).any(|w| w == needle) {
                    return true;
                }
            }
        }
    }
    false
}

fn write_some(store: &Store) {
    store.create_table(spec("vault")).unwrap();
    for i in 0..50 {
        store
            .put_item(
                "vault",
                item(&format!("k{i}"), &format!("{SECRET} #{i}")),
                |_| Ok(()),
            )
            .unwrap();
    }
}

#[test]
fn values_are_encrypted_on_disk_and_readable_with_the_key() {
    let dir = tempfile::tempdir().unwrap();
    {
        let store = Store::open_with(dir.path(), options(Some(1))).unwrap();
        write_some(&store);
        let got = store
            .get_item(
                "vault",
                &Item::from([("pk".to_string(), AttributeValue::S("k7".into()))]),
            )
            .unwrap()
            .unwrap();
        assert_eq!(got["secret"], AttributeValue::S(format!("{SECRET} #7")));
    }
    assert!(
        !on_disk(dir.path(), SECRET.as_bytes()),
        "an item value reached the disk in the clear"
    );

    // Reopened with the key: everything reads back, through every read path.
    let store = Store::open_with(dir.path(), options(Some(1))).unwrap();
    let page = store
        .scan("vault", None, &PageRequest::default(), |_| Ok(true))
        .unwrap();
    assert_eq!(page.items.len(), 50);
    assert!(page
        .items
        .iter()
        .all(|i| matches!(&i["secret"], AttributeValue::S(s) if s.starts_with(SECRET))));
    let q = store
        .query(
            "vault",
            &AttributeValue::S("k3".into()),
            None,
            true,
            &PageRequest::default(),
            |_| Ok(true),
        )
        .unwrap();
    assert_eq!(q.items.len(), 1);
    let both = store
        .get_items(&[
            (
                "vault".into(),
                Item::from([("pk".into(), AttributeValue::S("k1".into()))]),
            ),
            (
                "vault".into(),
                Item::from([("pk".into(), AttributeValue::S("k2".into()))]),
            ),
        ])
        .unwrap();
    assert!(both.iter().all(Option::is_some));
    drop(store);

    // The wrong key, or no key: refused at open with a clear error.
    let e = Store::open_with(dir.path(), options(Some(2)))
        .err()
        .unwrap();
    assert!(matches!(e, StoreError::Encryption(_)), "{e}");
    assert!(e.to_string().contains("wrong encryption key"), "{e}");
    let e = Store::open_with(dir.path(), options(None)).err().unwrap();
    assert!(e.to_string().contains("is encrypted"), "{e}");
}

#[test]
fn an_unencrypted_store_refuses_a_key() {
    let dir = tempfile::tempdir().unwrap();
    {
        let store = Store::open_with(dir.path(), options(None)).unwrap();
        write_some(&store);
    }
    // The control: without a key the values are on disk as they are.
    assert!(on_disk(dir.path(), SECRET.as_bytes()));
    let e = Store::open_with(dir.path(), options(Some(1)))
        .err()
        .unwrap();
    assert!(e.to_string().contains("unencrypted"), "{e}");
    // Still readable as it was.
    let store = Store::open(dir.path()).unwrap();
    assert_eq!(
        store
            .scan("vault", None, &PageRequest::default(), |_| Ok(true))
            .unwrap()
            .items
            .len(),
        50
    );
}
