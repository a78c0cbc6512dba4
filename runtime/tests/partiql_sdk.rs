//! End-to-end: PartiQL through the official Rust AWS SDK (`aws-sdk-dynamodb`) against a real
//! `tarn serve`: one statement of each kind through ExecuteStatement (INSERT, SELECT, UPDATE,
//! DELETE), BatchExecuteStatement and ExecuteTransaction, and DynamoDB's error names.
#![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test

mod common;

use aws_sdk_dynamodb::types::{
    AttributeValue, BatchStatementErrorCodeEnum, BatchStatementRequest, ParameterizedStatement,
};
use aws_sdk_dynamodb::Client;
use common::{create_pk_sk_table, err_code, unique_name, TarnServer};

fn s(v: &str) -> AttributeValue {
    AttributeValue::S(v.to_string())
}

fn n(v: &str) -> AttributeValue {
    AttributeValue::N(v.to_string())
}

async fn create_table(c: &Client) -> String {
    let name = unique_name("partiql");
    create_pk_sk_table(c, &name).await;
    name
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_statement_kind_through_the_sdk() {
    let server = TarnServer::start();
    let c = server.client();
    let t = create_table(&c).await;

    // INSERT, and INSERT again: DuplicateItemException.
    let out = c
        .execute_statement()
        .statement(format!(
            r#"INSERT INTO "{t}" VALUE {{'pk': ?, 'sk': ?, 'n': 1}}"#
        ))
        .parameters(s("a"))
        .parameters(n("1"))
        .send()
        .await
        .unwrap();
    assert!(out.items().is_empty());
    let err = c
        .execute_statement()
        .statement(format!(r#"INSERT INTO "{t}" VALUE {{'pk': 'a', 'sk': 1}}"#))
        .send()
        .await
        .unwrap_err();
    assert_eq!(err_code(&err), "DuplicateItemException");

    // UPDATE with RETURNING.
    let out = c
        .execute_statement()
        .statement(format!(
            r#"UPDATE "{t}" SET n = n + 1 WHERE pk = 'a' AND sk = 1 RETURNING MODIFIED NEW *"#
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(out.items()[0].get("n"), Some(&n("2")));

    // SELECT (a Query) with a projection.
    let out = c
        .execute_statement()
        .statement(format!(r#"SELECT n FROM "{t}" WHERE pk = ?"#))
        .parameters(s("a"))
        .consistent_read(true)
        .send()
        .await
        .unwrap();
    assert_eq!(out.items().len(), 1);
    assert_eq!(out.items()[0].get("n"), Some(&n("2")));

    // DELETE.
    c.execute_statement()
        .statement(format!(r#"DELETE FROM "{t}" WHERE pk = 'a' AND sk = 1"#))
        .send()
        .await
        .unwrap();
    let out = c
        .execute_statement()
        .statement(format!(r#"SELECT * FROM "{t}""#))
        .send()
        .await
        .unwrap();
    assert!(out.items().is_empty());

    // A write without its full key.
    let err = c
        .execute_statement()
        .statement(format!(r#"DELETE FROM "{t}" WHERE pk = 'a'"#))
        .send()
        .await
        .unwrap_err();
    assert_eq!(err_code(&err), "ValidationException");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn batches_and_transactions_through_the_sdk() {
    let server = TarnServer::start();
    let c = server.client();
    let t = create_table(&c).await;

    // ExecuteTransaction: two inserts, all or nothing.
    c.execute_transaction()
        .transact_statements(
            ParameterizedStatement::builder()
                .statement(format!(r#"INSERT INTO "{t}" VALUE {{'pk': 'x', 'sk': 1}}"#))
                .build()
                .unwrap(),
        )
        .transact_statements(
            ParameterizedStatement::builder()
                .statement(format!(r#"INSERT INTO "{t}" VALUE {{'pk': 'x', 'sk': 2}}"#))
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
    let err = c
        .execute_transaction()
        .transact_statements(
            ParameterizedStatement::builder()
                .statement(format!(r#"INSERT INTO "{t}" VALUE {{'pk': 'x', 'sk': 3}}"#))
                .build()
                .unwrap(),
        )
        .transact_statements(
            ParameterizedStatement::builder()
                .statement(format!(r#"INSERT INTO "{t}" VALUE {{'pk': 'x', 'sk': 1}}"#))
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap_err();
    assert_eq!(err_code(&err), "TransactionCanceledException");

    // BatchExecuteStatement reads: sk 3 was not written by the cancelled transaction.
    let out = c
        .batch_execute_statement()
        .statements(
            BatchStatementRequest::builder()
                .statement(format!(r#"SELECT * FROM "{t}" WHERE pk = 'x' AND sk = 1"#))
                .build()
                .unwrap(),
        )
        .statements(
            BatchStatementRequest::builder()
                .statement(format!(r#"SELECT * FROM "{t}" WHERE pk = 'x' AND sk = 3"#))
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
    let r = out.responses();
    assert!(r[0].item().is_some());
    assert!(r[1].item().is_none() && r[1].error().is_none());

    // BatchExecuteStatement writes: each on its own.
    let out = c
        .batch_execute_statement()
        .statements(
            BatchStatementRequest::builder()
                .statement(format!(r#"INSERT INTO "{t}" VALUE {{'pk': 'x', 'sk': 1}}"#))
                .build()
                .unwrap(),
        )
        .statements(
            BatchStatementRequest::builder()
                .statement(format!(r#"INSERT INTO "{t}" VALUE {{'pk': 'x', 'sk': 4}}"#))
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
    let r = out.responses();
    assert_eq!(
        r[0].error().and_then(|e| e.code()),
        Some(&BatchStatementErrorCodeEnum::DuplicateItem)
    );
    assert!(r[1].error().is_none());
}
