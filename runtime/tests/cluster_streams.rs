//! End-to-end: stream mappings in cluster mode. Three `tarn serve --engine URL` nodes with the
//! same app (the `order-totals` stream handler on `orders`, which keeps exact totals by
//! applying each record once in a transaction keyed by its event id) share the shards of the
//! engine's stream through leases (`--lease-duration-ms 2000`). Run against each engine: an
//! embedded tarn with four shards per stream, and DynamoDB Local.
//!
//! - streams: 3,000 writes made directly to the engine (1,000 orders, then two rounds of
//!   changes that also move orders between customers) end in exact totals; a second mapping
//!   (the `stream-order` test guest) sees every record at least once and each key's versions
//!   in order; with several shards, the leases end up spread over more than one node; each
//!   node's `/_tarn/status` lists the shards it holds with their checkpoints, as the lease
//!   table does;
//! - failover: a node holding leases is killed (SIGKILL) while the records are handled; the
//!   others hold its shards within twice the lease duration (read in the lease table), and
//!   the totals still come out exact, and per-key order is kept;
//! - graceful stop: a node holding leases stopped with SIGTERM lets them go, and the others
//!   hold its shards within one lease duration (no waiting for expiry); totals stay exact.
#![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test

mod cluster_common;
mod common;
mod functions_common;

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

use aws_sdk_dynamodb::types::{AttributeValue, PutRequest, WriteRequest};
use cluster_common::{start_nodes, within, Engine};
use functions_common::{guest, Server};

/// The lease duration the nodes run with.
const LEASE_MS: u64 = 2000;
/// The mapping's name, the lease table's partition key.
const MAPPING: &str = "orders -> order-totals";
/// Orders written, each written [`PHASES`] times (an insert, then changes).
const ORDERS: usize = 1000;
const PHASES: usize = 3;
const CUSTOMERS: usize = 10;

fn manifest() -> String {
    format!(
        r#"
[[function]]
name = "order-totals"
source = "{totals}"
timeout_ms = 10000
tables = {{ order-totals = "read-write" }}

[[function]]
name = "stream-order"
source = "{order}"
timeout_ms = 10000
tables = {{ stream-order = "read-write" }}

[[stream]]
table = "orders"
function = "order-totals"
batch_size = 100
batching_window_ms = 20

[[stream]]
table = "orders"
function = "stream-order"
batch_size = 100
batching_window_ms = 20

[[table]]
name = "stream-order"
hash_key = "key:S"

[[table]]
name = "orders"
hash_key = "order_id:S"
stream = "NEW_AND_OLD_IMAGES"

[[table]]
name = "order-totals"
hash_key = "customer:S"
"#,
        totals = guest("order-totals").display(),
        order = guest("stream-order").display(),
    )
}

/// Order `i` as written in `phase` (0: the insert, then changes): its customer and amount.
fn order(i: usize, phase: usize) -> (String, String) {
    let customer = format!("c{}", (i + 3 * phase) % CUSTOMERS);
    let amount = format!(
        "{}.{:02}",
        (i * 7 + phase * 13) % 100,
        (i * 3 + phase) % 100
    );
    (customer, amount)
}

/// Amount in cents.
fn cents(amount: &str) -> i64 {
    let (w, f) = amount.split_once('.').unwrap();
    w.parse::<i64>().unwrap() * 100 + f.parse::<i64>().unwrap()
}

/// The totals once every record is applied: customer -> (cents, orders).
fn expected_totals() -> BTreeMap<String, (i64, i64)> {
    let mut out: BTreeMap<String, (i64, i64)> = BTreeMap::new();
    for i in 0..ORDERS {
        let (c, a) = order(i, PHASES - 1);
        let e = out.entry(c).or_default();
        e.0 += cents(&a);
        e.1 += 1;
    }
    out
}

/// Writes `phase` of every order directly to the engine, 25 at a time.
async fn write_orders(client: &aws_sdk_dynamodb::Client, phase: usize) {
    for chunk in (0..ORDERS).collect::<Vec<_>>().chunks(25) {
        let mut requests: Vec<WriteRequest> = chunk
            .iter()
            .map(|&i| {
                let (customer, amount) = order(i, phase);
                WriteRequest::builder()
                    .put_request(
                        PutRequest::builder()
                            .item("order_id", AttributeValue::S(format!("o{i:04}")))
                            .item("customer", AttributeValue::S(customer))
                            .item("amount", AttributeValue::N(amount))
                            .item("v", AttributeValue::N((phase + 1).to_string()))
                            .build()
                            .unwrap(),
                    )
                    .build()
            })
            .collect();
        // Unprocessed items (throttling) are sent again.
        for _ in 0..50 {
            let r = client
                .batch_write_item()
                .request_items("orders", requests.clone())
                .send()
                .await
                .unwrap();
            requests = r
                .unprocessed_items()
                .and_then(|m| m.get("orders"))
                .cloned()
                .unwrap_or_default();
            if requests.is_empty() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        assert!(requests.is_empty(), "writes left unprocessed");
    }
}

/// The totals in the engine: customer -> (cents, orders), markers left out.
async fn totals(engine: &Engine) -> BTreeMap<String, (i64, i64)> {
    let client = engine.client();
    let mut out = BTreeMap::new();
    let mut start = None;
    loop {
        let r = client
            .scan()
            .table_name("order-totals")
            .consistent_read(true)
            .set_exclusive_start_key(start)
            .send()
            .await
            .unwrap();
        for item in r.items() {
            let customer = item["customer"].as_s().unwrap().clone();
            if customer.starts_with("applied#") {
                continue;
            }
            let n = |k: &str| {
                item.get(k)
                    .and_then(|v| v.as_n().ok())
                    .map_or(0, |n| n.parse::<i64>().unwrap())
            };
            out.insert(customer, (n("total_cents"), n("orders")));
        }
        match r.last_evaluated_key() {
            Some(k) if !k.is_empty() => start = Some(k.clone()),
            _ => return out,
        }
    }
}

/// What the `stream-order` handler saw: (records handled, order violations, keys whose last
/// version handled is the final one).
async fn order_checks(engine: &Engine) -> (i64, i64, usize) {
    let client = engine.client();
    let (mut handled, mut violations, mut complete) = (0, 0, 0);
    let mut start = None;
    loop {
        let r = client
            .scan()
            .table_name("stream-order")
            .consistent_read(true)
            .set_exclusive_start_key(start)
            .send()
            .await
            .unwrap();
        for item in r.items() {
            let n = |k: &str| {
                item.get(k)
                    .and_then(|v| v.as_n().ok())
                    .map_or(0, |n| n.parse::<i64>().unwrap())
            };
            match item["key"].as_s().unwrap().as_str() {
                "handled" => handled = n("count"),
                "violations" => violations = n("count"),
                _ => complete += usize::from(n("last") == PHASES as i64),
            }
        }
        match r.last_evaluated_key() {
            Some(k) if !k.is_empty() => start = Some(k.clone()),
            _ => return (handled, violations, complete),
        }
    }
}

/// Waits until every record was handled in order per key: every key's last version is the
/// final one, every record was handled at least once, and no key saw a version before the
/// one preceding it.
async fn expect_order_kept(engine: &Engine, nodes: &[Server]) {
    let done = within(Duration::from_secs(120), || async {
        order_checks(engine).await.2 == ORDERS
    })
    .await;
    let (handled, violations, complete) = order_checks(engine).await;
    assert!(
        done.is_some(),
        "{complete} of {ORDERS} keys saw their last version ({handled} records handled); leases {:?}\n{}",
        mapping_leases(engine, "orders -> stream-order").await,
        logs(nodes)
    );
    assert_eq!(violations, 0, "per-key order violations\n{}", logs(nodes));
    assert!(
        handled >= (ORDERS * PHASES) as i64,
        "only {handled} records handled"
    );
    eprintln!(
        "stream-order: {handled} records handled for {} written ({} redelivered), no order violation",
        ORDERS * PHASES,
        handled - (ORDERS * PHASES) as i64
    );
}

/// The mapping's leases: shard -> (owner, checkpoint).
async fn leases(engine: &Engine) -> BTreeMap<String, (Option<String>, Option<String>)> {
    mapping_leases(engine, MAPPING).await
}

/// The leases of `mapping`: shard -> (owner, checkpoint).
async fn mapping_leases(
    engine: &Engine,
    mapping: &str,
) -> BTreeMap<String, (Option<String>, Option<String>)> {
    let r = engine
        .client()
        .query()
        .table_name("tarn-leases")
        .key_condition_expression("pk = :pk")
        .expression_attribute_values(":pk", AttributeValue::S(mapping.into()))
        .consistent_read(true)
        .send()
        .await
        .unwrap();
    r.items()
        .iter()
        .map(|i| {
            let s = |k: &str| i.get(k).and_then(|v| v.as_s().ok()).cloned();
            (s("sk").unwrap(), (s("owner"), s("checkpoint")))
        })
        .collect()
}

/// What the nodes' `/_tarn/status` say they hold: shard -> (node, checkpoint).
async fn reported_shards(nodes: &[Server]) -> BTreeMap<String, (Option<String>, Option<String>)> {
    let mut out = BTreeMap::new();
    for n in nodes {
        let v = n.admin("GET", "/_tarn/status", None).await.json();
        let m = &v["streams"][MAPPING];
        for (shard, c) in m["shards"].as_object().into_iter().flatten() {
            let text = |v: &serde_json::Value| v.as_str().map(str::to_string);
            out.insert(shard.clone(), (text(&m["node"]), text(&c["checkpoint"])));
        }
    }
    out
}

/// The leases of shards not finished: shard -> (owner, checkpoint).
async fn active_leases(engine: &Engine) -> BTreeMap<String, (Option<String>, Option<String>)> {
    leases(engine)
        .await
        .into_iter()
        .filter(|(_, (_, c))| c.as_deref() != Some("SHARD_END"))
        .collect()
}

/// The owners of the leases of shards not finished.
async fn active_owners(engine: &Engine) -> BTreeMap<String, Option<String>> {
    leases(engine)
        .await
        .into_iter()
        .filter(|(_, (_, c))| c.as_deref() != Some("SHARD_END"))
        .map(|(s, (o, _))| (s, o))
        .collect()
}

/// Waits until every shard's lease is held (by more than one node when `spread`), within
/// `limit`; fails the test with the owners and the nodes' logs otherwise.
async fn settle(engine: &Engine, nodes: &[Server], shards: usize, spread: bool, limit: Duration) {
    let settled = within(limit, || async {
        let owners = active_owners(engine).await;
        let distinct: BTreeSet<&Option<String>> = owners.values().collect();
        owners.len() >= shards && !distinct.contains(&None) && (!spread || distinct.len() > 1)
    })
    .await;
    assert!(
        settled.is_some(),
        "leases not settled: {:?}\n{}",
        active_owners(engine).await,
        logs(nodes)
    );
}

/// A node holding a lease now: its name, its index in `nodes` (node-a, node-b, node-c) and
/// the shards it holds.
async fn a_lease_holder(engine: &Engine) -> (String, usize, Vec<String>) {
    let owners = active_owners(engine).await;
    let name = owners.values().flatten().next().unwrap().clone();
    let index = (b'a'..=b'c')
        .position(|c| format!("node-{}", c as char) == name)
        .unwrap();
    let held = owners
        .iter()
        .filter(|(_, o)| o.as_deref() == Some(name.as_str()))
        .map(|(s, _)| s.clone())
        .collect();
    (name, index, held)
}

/// How long until none of `orphaned` is held by `gone` any more (a shard may also have
/// finished meanwhile), looking for up to four lease durations; None if that did not happen.
async fn taken_over(engine: &Engine, orphaned: &[String], gone: &str) -> Option<Duration> {
    within(Duration::from_millis(4 * LEASE_MS), || async {
        let now = active_owners(engine).await;
        orphaned.iter().all(|s| match now.get(s) {
            None => true,
            Some(o) => o.as_ref().is_some_and(|o| o != gone),
        })
    })
    .await
}

fn logs(nodes: &[Server]) -> String {
    nodes
        .iter()
        .map(|n| n.log())
        .collect::<Vec<_>>()
        .join("\n----\n")
}

async fn start(engine: &Engine, app_dir: &tempfile::TempDir) -> Vec<Server> {
    std::fs::write(app_dir.path().join("tarn.toml"), manifest()).unwrap();
    let lease = LEASE_MS.to_string();
    start_nodes(
        engine,
        app_dir.path(),
        3,
        &["--lease-duration-ms", lease.as_str()],
    )
    .await
}

/// Waits until the totals are exact; panics with what differs.
async fn expect_exact_totals(engine: &Engine, nodes: &[Server]) {
    let expected = expected_totals();
    let ok = within(Duration::from_secs(120), || async {
        totals(engine).await == expected
    })
    .await;
    assert!(
        ok.is_some(),
        "totals not exact: got {:?}\nexpected {expected:?}\n{}",
        totals(engine).await,
        logs(nodes)
    );
}

async fn streams_scenario(engine: Engine, shards: usize) {
    let app_dir = tempfile::tempdir().unwrap();
    let nodes = start(&engine, &app_dir).await;
    for phase in 0..PHASES {
        write_orders(&engine.client(), phase).await;
    }
    expect_exact_totals(&engine, &nodes).await;
    expect_order_kept(&engine, &nodes).await;
    let owners = active_owners(&engine).await;
    assert!(owners.len() >= shards, "{owners:?}");
    // Each node's status names the shards it holds and their checkpoints, as the lease table
    // does (once every record is done, the checkpoints stay put).
    let reported = within(Duration::from_secs(10), || async {
        reported_shards(&nodes).await == active_leases(&engine).await
    })
    .await;
    assert!(
        reported.is_some(),
        "the nodes report {:?}\nthe lease table says {:?}",
        reported_shards(&nodes).await,
        active_leases(&engine).await
    );
    assert!(
        reported_shards(&nodes)
            .await
            .values()
            .all(|(_, c)| c.is_some()),
        "a held shard without a checkpoint"
    );
    if shards > 1 {
        // Balancing converges by one steal per pass: give it a few passes.
        let spread = within(Duration::from_secs(10), || async {
            let distinct: BTreeSet<Option<String>> =
                active_owners(&engine).await.into_values().collect();
            distinct.len() > 1 && !distinct.contains(&None)
        })
        .await;
        assert!(
            spread.is_some(),
            "the leases stay on one node: {:?}\n{}",
            active_owners(&engine).await,
            logs(&nodes)
        );
    }
}

async fn failover_scenario(engine: Engine, shards: usize) {
    let app_dir = tempfile::tempdir().unwrap();
    let mut nodes = start(&engine, &app_dir).await;
    // Every shard held (and, with several, by more than one node).
    settle(&engine, &nodes, shards, shards > 1, Duration::from_secs(20)).await;
    // The writes go on in the background; a node holding a lease is killed once the
    // handlers are busy with them.
    let client = engine.client();
    let writer = tokio::spawn(async move {
        for phase in 0..PHASES {
            write_orders(&client, phase).await;
        }
    });
    let busy = within(Duration::from_secs(60), || async {
        order_checks(&engine).await.0 >= 300
    })
    .await;
    assert!(busy.is_some(), "no records handled\n{}", logs(&nodes));
    let handled_at_kill = order_checks(&engine).await.0;
    let (victim_name, victim, orphaned) = a_lease_holder(&engine).await;
    let mut dead = nodes.remove(victim);
    dead.child.kill().unwrap(); // SIGKILL
    dead.child.wait().unwrap();
    let killed_at = Instant::now();
    // The others hold the dead node's shards within twice the lease duration.
    // (`taken_over` measures from its own start, right after the kill.)
    let taken = taken_over(&engine, &orphaned, &victim_name).await;
    let took = taken.unwrap_or_else(|| killed_at.elapsed());
    eprintln!(
        "{victim_name} killed after {handled_at_kill} of {} records; its shards {orphaned:?} were taken over in {took:?}",
        ORDERS * PHASES
    );
    assert!(
        taken.is_some() && took <= Duration::from_millis(2 * LEASE_MS),
        "the dead node's shards {orphaned:?} were not taken over within 2 x {LEASE_MS} ms (took {took:?}, held by {:?})\n{}",
        active_owners(&engine).await,
        logs(&nodes)
    );
    writer.await.unwrap();
    expect_exact_totals(&engine, &nodes).await;
    expect_order_kept(&engine, &nodes).await;
    drop(dead);
}

/// A node stopped cleanly (SIGTERM) lets its leases go: the others hold its shards well
/// within one lease duration, from the checkpoints it left.
async fn graceful_stop_scenario(engine: Engine, shards: usize) {
    let app_dir = tempfile::tempdir().unwrap();
    let mut nodes = start(&engine, &app_dir).await;
    write_orders(&engine.client(), 0).await;
    settle(&engine, &nodes, shards, true, Duration::from_secs(60)).await;
    let (victim_name, victim, orphaned) = a_lease_holder(&engine).await;
    let mut stopped = nodes.remove(victim);
    let term = std::process::Command::new("kill")
        .args(["-TERM", &stopped.child.id().to_string()])
        .status()
        .unwrap();
    assert!(term.success());
    let taken = taken_over(&engine, &orphaned, &victim_name).await;
    let exited = stopped.child.wait().unwrap();
    let log = stopped.log();
    eprintln!("{victim_name} stopped; its shards {orphaned:?} were taken over in {taken:?}");
    assert!(
        exited.success(),
        "{victim_name} did not stop cleanly: {exited:?}\n{log}"
    );
    assert!(
        log.contains("lease released"),
        "{victim_name} released no lease\n{log}"
    );
    // Within one lease duration: an expiry would take a duration at least, as this node sees
    // the counter, plus a coordinator pass.
    assert!(
        taken.is_some_and(|t| t < Duration::from_millis(LEASE_MS)),
        "the stopped node's shards {orphaned:?} were not taken over within {LEASE_MS} ms (took {taken:?}, held by {:?})\n{}",
        active_owners(&engine).await,
        logs(&nodes)
    );
    // The records written go on being handled by the others, from the checkpoints left.
    for phase in 1..PHASES {
        write_orders(&engine.client(), phase).await;
    }
    expect_exact_totals(&engine, &nodes).await;
    drop(stopped);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn graceful_stop_over_an_embedded_tarn() {
    graceful_stop_scenario(Engine::tarn_with_shards(4), 4).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn streams_over_an_embedded_tarn() {
    streams_scenario(Engine::tarn_with_shards(4), 4).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn streams_over_dynamodb_local() {
    streams_scenario(Engine::dynamodb_local().await, 1).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn failover_over_an_embedded_tarn() {
    failover_scenario(Engine::tarn_with_shards(4), 4).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn failover_over_dynamodb_local() {
    failover_scenario(Engine::dynamodb_local().await, 1).await;
}
