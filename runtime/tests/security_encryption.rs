//! End-to-end encryption at rest: `tarn serve --encrypt-key-file` stores item values encrypted
//! (never in the clear on disk), serves them decrypted, and refuses to start with a wrong key or
//! without the key, saying why.
#![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test

mod common;

use std::path::Path;
use std::process::Command;

use aws_sdk_dynamodb::types::{
    AttributeDefinition, AttributeValue, BillingMode, KeySchemaElement, KeyType,
    ScalarAttributeType,
};
use common::TarnServer;

const SECRET: &str = "the launch codes are 0000";

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

fn serve_fails(data_dir: &Path, args: &[&str]) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_tarn"))
        .arg("serve")
        .args(["--listen", "127.0.0.1:0"])
        .args(["--functions-listen", "127.0.0.1:0"])
        .args(["--admin-listen", "127.0.0.1:0"])
        .arg("--data-dir")
        .arg(data_dir)
        .args(args)
        .output()
        .unwrap();
    assert!(!out.status.success(), "tarn started");
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[tokio::test]
async fn item_values_are_encrypted_at_rest() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let key = tmp.path().join("key");
    std::fs::write(
        &key,
        "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff\n",
    )
    .unwrap();
    let wrong = tmp.path().join("wrong-key");
    std::fs::write(&wrong, [7u8; 32]).unwrap();
    let key_args = ["--encrypt-key-file", key.to_str().unwrap()];

    let mut server = TarnServer::start_on_with(&data, "one.log", &key_args, &[]);
    let c = server.client();
    c.create_table()
        .table_name("vault")
        .attribute_definitions(
            AttributeDefinition::builder()
                .attribute_name("pk")
                .attribute_type(ScalarAttributeType::S)
                .build()
                .unwrap(),
        )
        .key_schema(
            KeySchemaElement::builder()
                .attribute_name("pk")
                .key_type(KeyType::Hash)
                .build()
                .unwrap(),
        )
        .billing_mode(BillingMode::PayPerRequest)
        .send()
        .await
        .unwrap();
    common::wait_active(&c, "vault").await;
    for i in 0..20 {
        c.put_item()
            .table_name("vault")
            .item("pk", AttributeValue::S(format!("k{i}")))
            .item("secret", AttributeValue::S(format!("{SECRET} ({i})")))
            .item("blob", AttributeValue::B(SECRET.as_bytes().to_vec().into()))
            .send()
            .await
            .unwrap();
    }
    server.kill();
    assert!(
        !on_disk(&data, SECRET.as_bytes()),
        "a value reached the disk in the clear"
    );

    // The wrong key, no key: refused at start, with the reason.
    let e = serve_fails(&data, &["--encrypt-key-file", wrong.to_str().unwrap()]);
    assert!(e.contains("wrong encryption key"), "{e}");
    let e = serve_fails(&data, &[]);
    assert!(e.contains("encrypted"), "{e}");
    assert!(e.contains("--encrypt-key-file"), "{e}");
    // A malformed key file.
    let bad = tmp.path().join("bad-key");
    std::fs::write(&bad, "not a key").unwrap();
    let e = serve_fails(&data, &["--encrypt-key-file", bad.to_str().unwrap()]);
    assert!(e.contains("32"), "{e}");

    // The right key: everything is there.
    let server = TarnServer::start_on_with(&data, "two.log", &key_args, &[]);
    let c = server.client();
    let scan = c.scan().table_name("vault").send().await.unwrap();
    assert_eq!(scan.count, 20);
    let got = c
        .get_item()
        .table_name("vault")
        .key("pk", AttributeValue::S("k3".into()))
        .send()
        .await
        .unwrap()
        .item
        .unwrap();
    assert_eq!(got["secret"], AttributeValue::S(format!("{SECRET} (3)")));
}
