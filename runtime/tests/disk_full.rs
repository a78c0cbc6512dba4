//! A full disk, for real: tarn's data directory on a 64 MiB tmpfs, filled by tarn's own writes
//! until it refuses them.
//!
//! - writers put items until tarn refuses with `DiskFullException` (before the storage engine
//!   runs out of space and stops); reads work throughout, and the health check on `GET /`
//!   answers 503 `degraded` while the disk is below the reserve;
//! - tarn is killed (SIGKILL) while the disk is full and restarted: every acknowledged write
//!   is there, reads work, and writes are refused again once the disk is back below the
//!   reserve (opening the store may free a little space, so the test fills it again);
//! - space comes back (a ballast file is deleted): writes resume without a restart, and the
//!   health check says healthy again;
//! - killed and restarted once more, nothing acknowledged is lost.
//!
//! Mounting a tmpfs needs root (CI runs as root); elsewhere the test says so and skips.
#![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test

mod common;

use std::collections::HashMap;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use aws_sdk_dynamodb::error::ProvideErrorMetadata;
use aws_sdk_dynamodb::primitives::Blob;
use aws_sdk_dynamodb::types::AttributeValue;
use aws_sdk_dynamodb::Client;
use common::{create_hash_table, err_code, TarnServer};

/// The size of the tmpfs the data lives on.
const DISK: &str = "64m";
/// tarn's free-space reserve in the test (the floor).
const RESERVE: &str = "16MiB";
/// Bytes of payload per item: incompressible, so the journal grows by about as much.
const PAYLOAD: usize = 48 * 1024;
const TABLE: &str = "full";

/// A tmpfs mounted on a temporary directory, unmounted on drop.
struct Tmpfs {
    dir: tempfile::TempDir,
}

impl Tmpfs {
    /// Mounts one, or says why not (not root, or mounting failed).
    fn mount() -> Result<Tmpfs, String> {
        let uid = std::fs::metadata("/proc/self")
            .map_err(|e| e.to_string())?
            .uid();
        if uid != 0 {
            return Err(format!(
                "mounting a tmpfs needs root (running as uid {uid})"
            ));
        }
        let dir = tempfile::Builder::new()
            .prefix("tarn-disk-full-")
            .tempdir()
            .unwrap();
        let out = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={DISK}"), "tmpfs"])
            .arg(dir.path())
            .output()
            .map_err(|e| format!("cannot run mount: {e}"))?;
        if !out.status.success() {
            return Err(format!(
                "mount -t tmpfs failed: {}",
                String::from_utf8_lossy(&out.stderr).trim()
            ));
        }
        Ok(Tmpfs { dir })
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(self.dir.path()).status();
    }
}

/// Incompressible bytes for item `n` (a xorshift stream).
fn payload(n: u64) -> Vec<u8> {
    let mut x = n.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    (0..PAYLOAD)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect()
}

fn item(n: u64) -> HashMap<String, AttributeValue> {
    HashMap::from([
        ("pk".to_string(), AttributeValue::S(format!("item-{n}"))),
        ("data".to_string(), AttributeValue::B(Blob::new(payload(n)))),
    ])
}

async fn put(c: &Client, n: u64) -> Result<(), String> {
    c.put_item()
        .table_name(TABLE)
        .set_item(Some(item(n)))
        .send()
        .await
        .map(|_| ())
        .map_err(|e| {
            let e = e.into_service_error();
            format!("{}: {}", err_code(&e), e.message().unwrap_or_default())
        })
}

/// Every item in `acked` is there, whole.
async fn check_acked(c: &Client, acked: &[u64]) {
    for &n in acked {
        let got = c
            .get_item()
            .table_name(TABLE)
            .key("pk", AttributeValue::S(format!("item-{n}")))
            .send()
            .await
            .expect("GetItem works while the disk is full")
            .item
            .unwrap_or_else(|| panic!("acknowledged item-{n} is lost"));
        assert_eq!(
            got.get("data"),
            Some(&AttributeValue::B(Blob::new(payload(n)))),
            "item-{n} changed"
        );
    }
}

/// `GET /` on the DynamoDB port: (status, body).
fn health(addr: SocketAddr) -> (u16, String) {
    let mut s = TcpStream::connect_timeout(&addr, Duration::from_secs(2)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    write!(
        s,
        "GET / HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut buf = String::new();
    s.read_to_string(&mut buf).unwrap();
    let status = buf.split_whitespace().nth(1).unwrap().parse().unwrap();
    let body = buf.split("\r\n\r\n").nth(1).unwrap_or("").to_string();
    (status, body)
}

/// Waits (at most 10 s) until `f` holds.
async fn eventually(what: &str, mut f: impl AsyncFnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while !f().await {
        assert!(Instant::now() < deadline, "{what}: not within 10 s");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn start(data: &Path, log: &str) -> TarnServer {
    TarnServer::start_on_with(data, log, &["--min-free-space", RESERVE], &[])
}

/// Fills the tmpfs with a ballast file `name` until `left` bytes are free.
fn ballast(dir: &Path, name: &str, left: u64) -> PathBuf {
    let path = dir.join(name);
    let free = fs_free(dir);
    let size = free.saturating_sub(left);
    let mut f = std::fs::File::create(&path).unwrap();
    let chunk = vec![0x5au8; 1 << 20];
    let mut written = 0;
    while written < size {
        let n = chunk.len().min((size - written) as usize);
        f.write_all(&chunk[..n]).unwrap();
        written += n as u64;
    }
    f.sync_all().unwrap();
    path
}

/// Free bytes on the file system of `dir`, as `df` shows them.
fn fs_free(dir: &Path) -> u64 {
    let out = Command::new("df")
        .args(["-B1", "--output=avail"])
        .arg(dir)
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .nth(1)
        .unwrap()
        .trim()
        .parse()
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_full_disk_refuses_writes_keeps_reads_and_loses_nothing() {
    let disk = match Tmpfs::mount() {
        Ok(d) => d,
        Err(why) => {
            eprintln!("SKIPPED a_full_disk_refuses_writes_keeps_reads_and_loses_nothing: {why}");
            return;
        }
    };
    let data = disk.path().join("data");
    let mut server = start(&data, "tarn-1.log");
    let c = server.client();
    create_hash_table(&c, TABLE).await;
    assert_eq!(health(server.addr).0, 200);

    // Leave ~32 MiB free (the reserve is 16 MiB), then let tarn's own writes fill it.
    let filler = ballast(disk.path(), "ballast", 32 << 20);
    let mut acked = Vec::new();
    let mut n = 0u64;
    let refusal = loop {
        match put(&c, n).await {
            Ok(()) => acked.push(n),
            Err(e) => break e,
        }
        n += 1;
        assert!(
            n < 2000,
            "64 MiB should not hold {n} items of {PAYLOAD} bytes"
        );
    };
    server.assert_alive();
    assert!(
        refusal.starts_with("DiskFullException"),
        "a full disk is refused with DiskFullException, got {refusal}"
    );
    assert!(refusal.contains("nearly full"), "{refusal}");
    assert!(refusal.contains("reads still work"), "{refusal}");
    assert!(
        acked.len() > 50,
        "only {} writes before the disk filled",
        acked.len()
    );
    assert!(
        fs_free(disk.path()) > 4 << 20,
        "writes stop at the reserve, before the disk is full"
    );

    // Reads go on, every write is refused with the same error, the health check says why.
    check_acked(&c, &acked).await;
    for i in 0..5 {
        let e = put(&c, 100_000 + i).await.unwrap_err();
        assert!(e.starts_with("DiskFullException"), "{e}");
    }
    let (status, body) = health(server.addr);
    assert_eq!(status, 503, "{body}");
    assert!(body.starts_with("degraded: tarn:"), "{body}");
    assert!(body.contains("nearly full"), "{body}");

    // Killed while full, restarted still full: nothing acknowledged is lost, writes refused.
    server.kill();
    let mut server = start(&data, "tarn-2.log");
    let c = server.client();
    check_acked(&c, &acked).await;
    // Opening the store may free some space (a replayed journal is flushed and dropped): fill
    // the disk back to below the reserve, and writes are refused again. A write acknowledged
    // before the refusal counts as acknowledged.
    let topup = ballast(disk.path(), "ballast-2", 8 << 20);
    let mut n = 200_000;
    eventually(
        "writes refused again after the restart",
        async || match put(&c, n).await {
            Ok(()) => {
                acked.push(n);
                n += 1;
                false
            }
            Err(e) => {
                assert!(e.starts_with("DiskFullException"), "{e}");
                true
            }
        },
    )
    .await;
    check_acked(&c, &acked).await;

    // Space comes back: writes resume by themselves, the health check turns healthy.
    std::fs::remove_file(&filler).unwrap();
    std::fs::remove_file(&topup).unwrap();
    eventually("writes resume once space is freed", async || {
        put(&c, 300_000).await.is_ok()
    })
    .await;
    acked.push(300_000);
    for i in 1..20 {
        put(&c, 300_000 + i).await.unwrap();
        acked.push(300_000 + i);
    }
    assert_eq!(health(server.addr).0, 200);
    server.assert_alive();

    // And once more: killed and restarted, nothing acknowledged is lost.
    server.kill();
    let server = start(&data, "tarn-3.log");
    check_acked(&server.client(), &acked).await;
    drop(server);
}
