//! End-to-end authentication tests against a real `tarn serve`: SigV4 with credentials from a
//! file and from the environment (the Rust SDK signs; right keys pass, wrong ones fail with
//! DynamoDB's exceptions), DynamoDB Streams targets behind the same check, and the loopback rule
//! without credentials.
#![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test

mod common;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::process::Command;
use std::time::{Duration, SystemTime};

use aws_sigv4::http_request::{sign, SignableBody, SignableRequest, SigningSettings};
use aws_sigv4::sign::v4;
use common::{client_with_keys, err_code, free_port, raw_post, TarnServer};

/// A server requiring signatures: two keys in a file, one in the environment.
fn authenticated_server() -> (TarnServer, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("credentials");
    std::fs::write(
        &file,
        "# tarn credentials\nAKIDFILE1:file-secret-1\nAKIDFILE2 : file-secret-2\n",
    )
    .unwrap();
    let server = TarnServer::start_with(
        &["--credentials-file", file.to_str().unwrap()],
        &[
            ("TARN_ACCESS_KEY_ID", "AKIDENV"),
            ("TARN_SECRET_ACCESS_KEY", "env-secret"),
        ],
    );
    (server, dir)
}

/// A raw POST signed with aws-sigv4 at `time` (any header set the SDKs would send).
fn signed_post(
    addr: SocketAddr,
    target: &str,
    body: &[u8],
    key: (&str, &str),
    time: SystemTime,
) -> (u16, String) {
    let host = addr.to_string();
    let headers = [
        ("host", host.as_str()),
        ("content-type", "application/x-amz-json-1.0"),
        ("x-amz-target", target),
    ];
    let identity = aws_credential_types::Credentials::new(key.0, key.1, None, None, "t").into();
    let params = v4::SigningParams::builder()
        .identity(&identity)
        .region("us-east-1")
        .name("dynamodb")
        .time(time)
        .settings(SigningSettings::default())
        .build()
        .unwrap()
        .into();
    let signable = SignableRequest::new(
        "POST",
        format!("http://{host}/"),
        headers.iter().copied(),
        SignableBody::Bytes(body),
    )
    .unwrap();
    let (instructions, _) = sign(signable, &params).unwrap().into_parts();
    let mut head = format!(
        "POST / HTTP/1.1\r\nContent-Length: {}\r\nConnection: close\r\n",
        body.len()
    );
    for (k, v) in headers.iter().copied().chain(instructions.headers()) {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    head.push_str("\r\n");
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    s.write_all(head.as_bytes()).unwrap();
    s.write_all(body).unwrap();
    let mut raw = Vec::new();
    s.read_to_end(&mut raw).unwrap();
    let text = String::from_utf8_lossy(&raw).into_owned();
    let status = text.split_whitespace().nth(1).unwrap().parse().unwrap();
    let body = text.split_once("\r\n\r\n").unwrap().1.to_string();
    (status, body)
}

#[tokio::test]
async fn sdk_requests_need_a_configured_key_and_its_secret() {
    let (server, _creds) = authenticated_server();
    let endpoint = server.endpoint();

    // Each configured key works, from the file and from the environment.
    for (id, secret) in [
        ("AKIDFILE1", "file-secret-1"),
        ("AKIDFILE2", "file-secret-2"),
        ("AKIDENV", "env-secret"),
    ] {
        let c = client_with_keys(&endpoint, id, secret);
        c.list_tables().send().await.unwrap_or_else(|e| {
            panic!("{id}: {e:?}\nlog:\n{}", server.log());
        });
    }
    let c = client_with_keys(&endpoint, "AKIDFILE1", "file-secret-1");
    c.create_table()
        .table_name("signed")
        .attribute_definitions(
            aws_sdk_dynamodb::types::AttributeDefinition::builder()
                .attribute_name("pk")
                .attribute_type(aws_sdk_dynamodb::types::ScalarAttributeType::S)
                .build()
                .unwrap(),
        )
        .key_schema(
            aws_sdk_dynamodb::types::KeySchemaElement::builder()
                .attribute_name("pk")
                .key_type(aws_sdk_dynamodb::types::KeyType::Hash)
                .build()
                .unwrap(),
        )
        .billing_mode(aws_sdk_dynamodb::types::BillingMode::PayPerRequest)
        .send()
        .await
        .unwrap();
    common::wait_active(&c, "signed").await;
    c.put_item()
        .table_name("signed")
        .item("pk", aws_sdk_dynamodb::types::AttributeValue::S("a".into()))
        .send()
        .await
        .unwrap();

    // A wrong secret, an unknown key.
    let wrong = client_with_keys(&endpoint, "AKIDFILE1", "not-the-secret");
    let e = wrong.list_tables().send().await.unwrap_err();
    assert_eq!(err_code(&e), "InvalidSignatureException", "{e:?}");
    let unknown = client_with_keys(&endpoint, "AKIDNOBODY", "file-secret-1");
    let e = unknown.list_tables().send().await.unwrap_err();
    assert_eq!(err_code(&e), "UnrecognizedClientException", "{e:?}");
    // A key's secret does not sign for another key.
    let crossed = client_with_keys(&endpoint, "AKIDFILE2", "file-secret-1");
    let e = crossed
        .get_item()
        .table_name("signed")
        .key("pk", aws_sdk_dynamodb::types::AttributeValue::S("a".into()))
        .send()
        .await
        .unwrap_err();
    assert_eq!(err_code(&e), "InvalidSignatureException", "{e:?}");
}

#[tokio::test]
async fn raw_requests_unsigned_skewed_tampered_and_streams() {
    let (server, _creds) = authenticated_server();
    let addr = server.addr;
    let key = ("AKIDENV", "env-secret");

    // Unsigned: DynamoDB and Streams targets alike.
    for target in [
        "DynamoDB_20120810.ListTables",
        "DynamoDBStreams_20120810.ListStreams",
    ] {
        let (status, body) = raw_post(addr, target, b"{}").unwrap();
        let body = String::from_utf8_lossy(&body);
        assert_eq!(status, 400, "{target}: {body}");
        assert!(
            body.contains("com.amazon.coral.service#MissingAuthenticationTokenException"),
            "{target}: {body}"
        );
    }

    // Signed right: passes authentication (whatever the operation then answers).
    let now = SystemTime::now();
    let (status, body) = signed_post(addr, "DynamoDB_20120810.ListTables", b"{}", key, now);
    assert_eq!(status, 200, "{body}");
    let (_, body) = signed_post(
        addr,
        "DynamoDBStreams_20120810.ListStreams",
        b"{}",
        key,
        now,
    );
    for refused in [
        "MissingAuthenticationToken",
        "UnrecognizedClient",
        "InvalidSignature",
        "IncompleteSignature",
    ] {
        assert!(!body.contains(refused), "streams: {body}");
    }
    // The Streams target with a wrong secret is refused like any other.
    let (status, body) = signed_post(
        addr,
        "DynamoDBStreams_20120810.ListStreams",
        b"{}",
        ("AKIDENV", "wrong"),
        now,
    );
    assert_eq!(status, 400);
    assert!(body.contains("#InvalidSignatureException"), "{body}");

    // Dated 20 minutes ago, or ahead.
    for skew in [-20i64, 20] {
        let t = if skew < 0 {
            now - Duration::from_secs(20 * 60)
        } else {
            now + Duration::from_secs(20 * 60)
        };
        let (status, body) = signed_post(addr, "DynamoDB_20120810.ListTables", b"{}", key, t);
        assert_eq!(status, 400, "{body}");
        assert!(body.contains("#InvalidSignatureException"), "{body}");
        assert!(body.contains("Signature"), "{body}");
    }

    // Tampered: a body that is not the one signed. Sign `{}`, send `{"Limit":1}` by signing
    // over the first and writing the second.
    let host = addr.to_string();
    let (status, good) = signed_post(
        addr,
        "DynamoDB_20120810.ListTables",
        br#"{"Limit":1}"#,
        key,
        now,
    );
    assert_eq!(status, 200, "{good}");
    let identity = aws_credential_types::Credentials::new(key.0, key.1, None, None, "t").into();
    let params = v4::SigningParams::builder()
        .identity(&identity)
        .region("us-east-1")
        .name("dynamodb")
        .time(now)
        .settings(SigningSettings::default())
        .build()
        .unwrap()
        .into();
    let headers = [
        ("host", host.as_str()),
        ("content-type", "application/x-amz-json-1.0"),
        ("x-amz-target", "DynamoDB_20120810.ListTables"),
    ];
    let signable = SignableRequest::new(
        "POST",
        format!("http://{host}/"),
        headers.iter().copied(),
        SignableBody::Bytes(b"{}"),
    )
    .unwrap();
    let (instructions, _) = sign(signable, &params).unwrap().into_parts();
    let sent = br#"{"Limit":1}"#;
    let mut head = format!(
        "POST / HTTP/1.1\r\nContent-Length: {}\r\nConnection: close\r\n",
        sent.len()
    );
    for (k, v) in headers.iter().copied().chain(instructions.headers()) {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    head.push_str("\r\n");
    let mut s = TcpStream::connect(addr).unwrap();
    s.write_all(head.as_bytes()).unwrap();
    s.write_all(sent).unwrap();
    let mut raw = String::new();
    s.read_to_string(&mut raw).unwrap();
    assert!(raw.starts_with("HTTP/1.1 400"), "{raw}");
    assert!(raw.contains("#InvalidSignatureException"), "{raw}");

    // Health checks need no signature.
    let mut s = TcpStream::connect(addr).unwrap();
    s.write_all(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        .unwrap();
    let mut raw = String::new();
    s.read_to_string(&mut raw).unwrap();
    assert!(raw.starts_with("HTTP/1.1 200"), "{raw}");
}

fn serve_output(args: &[&str], env: &[(&str, &str)]) -> std::process::Output {
    let dir = tempfile::tempdir().unwrap();
    Command::new(env!("CARGO_BIN_EXE_tarn"))
        .current_dir(dir.path())
        .arg("serve")
        .arg("--in-memory")
        .args(args)
        .env_remove("TARN_ACCESS_KEY_ID")
        .env_remove("TARN_SECRET_ACCESS_KEY")
        .envs(env.iter().copied())
        .output()
        .unwrap()
}

#[test]
fn without_credentials_only_loopback_addresses_are_served() {
    for args in [
        vec!["--listen", "0.0.0.0:0"],
        vec![
            "--listen",
            "127.0.0.1:0",
            "--functions-listen",
            "0.0.0.0:0",
            "--admin-listen",
            "127.0.0.1:0",
        ],
        vec![
            "--listen",
            "127.0.0.1:0",
            "--functions-listen",
            "127.0.0.1:0",
            "--admin-listen",
            "0.0.0.0:0",
        ],
    ] {
        let out = serve_output(&args, &[]);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{args:?} started: {stderr}");
        assert!(stderr.contains("loopback"), "{args:?}: {stderr}");
        assert!(stderr.contains("credentials"), "{args:?}: {stderr}");
    }
    // Half a key pair is an error, not an open server.
    let out = serve_output(
        &["--listen", "0.0.0.0:0"],
        &[("TARN_ACCESS_KEY_ID", "AKID")],
    );
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("TARN_SECRET_ACCESS_KEY"));
}

#[tokio::test]
async fn with_credentials_any_address_is_served() {
    let port = free_port();
    let dir = tempfile::tempdir().unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_tarn"))
        .current_dir(dir.path())
        .args(["serve", "--in-memory", "--listen"])
        .arg(format!("0.0.0.0:{port}"))
        .args([
            "--functions-listen",
            "0.0.0.0:0",
            "--admin-listen",
            "0.0.0.0:0",
        ])
        .env("TARN_ACCESS_KEY_ID", "AKIDENV")
        .env("TARN_SECRET_ACCESS_KEY", "env-secret")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let addr: SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
    let deadline = std::time::Instant::now() + common::START_TIMEOUT;
    while raw_post(addr, "DynamoDB_20120810.ListTables", b"{}").is_none() {
        if let Some(status) = child.try_wait().unwrap() {
            panic!("tarn exited: {status}");
        }
        assert!(std::time::Instant::now() < deadline, "tarn did not start");
        std::thread::sleep(Duration::from_millis(50));
    }
    let c = client_with_keys(&format!("http://{addr}"), "AKIDENV", "env-secret");
    let r = c.list_tables().send().await;
    let _ = child.kill();
    let _ = child.wait();
    r.unwrap();
}
