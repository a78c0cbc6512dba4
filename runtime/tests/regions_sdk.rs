//! End-to-end: regional tables through the official Rust AWS SDK (`aws-sdk-dynamodb`) against
//! a real `tarn serve`: clients configured for us-east-1 and eu-west-1 each see their own
//! region's tables (the region is the SigV4 credential scope's), one table name holds
//! different items in each, ARNs carry the region, and a table of another region is not
//! found, in a transaction too.
#![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test

mod common;

use std::time::Duration;

use aws_sdk_dynamodb::config::retry::RetryConfig;
use aws_sdk_dynamodb::config::timeout::TimeoutConfig;
use aws_sdk_dynamodb::config::{BehaviorVersion, Credentials, Region};
use aws_sdk_dynamodb::types::{AttributeValue, Put, TransactWriteItem};
use aws_sdk_dynamodb::Client;
use common::{create_hash_table, err_code, unique_name, TarnServer};

fn client_in(endpoint: &str, region: &str) -> Client {
    client_signing(endpoint, region, ("test", "test"))
}

fn client_signing(endpoint: &str, region: &str, (key, secret): (&str, &str)) -> Client {
    let config = aws_sdk_dynamodb::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new(region.to_string()))
        .credentials_provider(Credentials::new(key, secret, None, None, "static"))
        .endpoint_url(endpoint)
        .retry_config(RetryConfig::disabled())
        .timeout_config(
            TimeoutConfig::builder()
                .operation_timeout(Duration::from_secs(30))
                .build(),
        )
        .build();
    Client::from_conf(config)
}

fn s(v: &str) -> AttributeValue {
    AttributeValue::S(v.to_string())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_region_has_its_own_tables() {
    let server = TarnServer::start();
    let us = client_in(&server.endpoint(), "us-east-1");
    let eu = client_in(&server.endpoint(), "eu-west-1");
    let name = unique_name("regions");
    create_hash_table(&us, &name).await;

    // Not seen from eu-west-1 until made there too.
    let listed = eu.list_tables().send().await.unwrap();
    assert!(!listed.table_names().contains(&name));
    let e = eu
        .describe_table()
        .table_name(&name)
        .send()
        .await
        .unwrap_err();
    assert_eq!(err_code(&e), "ResourceNotFoundException");
    create_hash_table(&eu, &name).await;

    for (c, value) in [(&us, "virginia"), (&eu, "ireland")] {
        c.put_item()
            .table_name(&name)
            .item("pk", s("k"))
            .item("where", s(value))
            .send()
            .await
            .unwrap();
    }
    for (c, value, region) in [
        (&us, "virginia", "us-east-1"),
        (&eu, "ireland", "eu-west-1"),
    ] {
        let got = c
            .get_item()
            .table_name(&name)
            .key("pk", s("k"))
            .send()
            .await
            .unwrap();
        assert_eq!(got.item().unwrap()["where"], s(value));
        let t = c.describe_table().table_name(&name).send().await.unwrap();
        assert_eq!(
            t.table().unwrap().table_arn().unwrap(),
            format!("arn:aws:dynamodb:{region}:000000000000:table/{name}")
        );
    }

    // A transaction made in eu-west-1 cannot name a us-east-1-only table: it is not there.
    let only_us = unique_name("only-us");
    create_hash_table(&us, &only_us).await;
    let put = |table: &str| {
        TransactWriteItem::builder()
            .put(
                Put::builder()
                    .table_name(table)
                    .item("pk", s("t"))
                    .build()
                    .unwrap(),
            )
            .build()
    };
    let e = eu
        .transact_write_items()
        .transact_items(put(&name))
        .transact_items(put(&only_us))
        .send()
        .await
        .unwrap_err();
    assert_eq!(err_code(&e), "ResourceNotFoundException");
    let got = eu
        .get_item()
        .table_name(&name)
        .key("pk", s("t"))
        .send()
        .await
        .unwrap();
    assert!(got.item().is_none(), "the transaction wrote nothing");
}

/// With signatures verified, the region is the verified credential scope's.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_verified_signature_names_the_region() {
    let key = ("AKIDREGIONS", "regions-secret");
    let server = TarnServer::start_with(
        &[],
        &[
            ("TARN_ACCESS_KEY_ID", key.0),
            ("TARN_SECRET_ACCESS_KEY", key.1),
        ],
    );
    let eu = client_signing(&server.endpoint(), "eu-west-1", key);
    let us = client_signing(&server.endpoint(), "us-east-1", key);
    let name = unique_name("signed");
    create_hash_table(&eu, &name).await;
    let t = eu.describe_table().table_name(&name).send().await.unwrap();
    assert!(t
        .table()
        .unwrap()
        .table_arn()
        .unwrap()
        .starts_with("arn:aws:dynamodb:eu-west-1:"));
    let listed = us.list_tables().send().await.unwrap();
    assert!(!listed.table_names().contains(&name));
    let e = us
        .describe_table()
        .table_name(&name)
        .send()
        .await
        .unwrap_err();
    assert_eq!(err_code(&e), "ResourceNotFoundException");
}
