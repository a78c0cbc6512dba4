//! The console's table endpoints that no single DynamoDB operation answers: the tables list
//! with each table's settings in one answer, a stream's latest records (DynamoDB Streams reads
//! forward from an iterator; the console wants the newest), and the Cost page's estimate.
//! Everything goes through the tables' seam ([`Tables`]): the store's or the engine's tables
//! alike.

use futures_util::future::join_all;
use serde_json::{json, Value};

use super::Response;
use crate::api::backend::Tables;
use crate::console::cost::{self, Usage};
use crate::console::{http, Console};
use crate::metrics::TableHistory;

/// Most stream records one answer carries.
const MAX_STREAM_RECORDS: usize = 100;

fn api_error(e: crate::api::ApiError) -> Response {
    http::json(e.status(), &e.to_body())
}

/// One row of the tables list, or None if the table went away meanwhile.
async fn row(api: &Tables, name: String) -> Option<Value> {
    let req = json!({"TableName": name});
    let (table, pitr, ttl) = tokio::join!(
        api.call("DescribeTable", req.clone()),
        api.call("DescribeContinuousBackups", req.clone()),
        api.call("DescribeTimeToLive", req),
    );
    let t = table.ok()?["Table"].take();
    let pitr = pitr.ok().map(|p| {
        p["ContinuousBackupsDescription"]["PointInTimeRecoveryDescription"]
            ["PointInTimeRecoveryStatus"]
            .clone()
    });
    let ttl = ttl.ok().map(|t| t["TimeToLiveDescription"].clone());
    let billing = t["BillingModeSummary"]["BillingMode"]
        .as_str()
        .unwrap_or("PROVISIONED")
        .to_string();
    Some(json!({
        "name": t["TableName"],
        "status": t["TableStatus"],
        "items": t["ItemCount"],
        "size_bytes": t["TableSizeBytes"],
        "billing_mode": billing,
        "read_capacity": t["ProvisionedThroughput"]["ReadCapacityUnits"],
        "write_capacity": t["ProvisionedThroughput"]["WriteCapacityUnits"],
        "pitr": pitr,
        "ttl": ttl,
        "stream": t["StreamSpecification"]["StreamViewType"],
        "deletion_protection": t["DeletionProtectionEnabled"],
        "indexes": t["GlobalSecondaryIndexes"].as_array().map_or(0, Vec::len)
            + t["LocalSecondaryIndexes"].as_array().map_or(0, Vec::len),
        "created": t["CreationDateTime"],
        "restoring": t["RestoreSummary"]["RestoreInProgress"],
        "restore_source": t["RestoreSummary"]["SourceTableArn"]
            .as_str()
            .and_then(|arn| arn.rsplit_once(":table/"))
            .map(|(_, name)| name),
        "restore_backup": t["RestoreSummary"]["SourceBackupArn"],
    }))
}

/// `GET tables`: `{"tables": [row...]}`, in name order.
pub async fn overview(api: &Tables) -> Response {
    let names = match api.table_names().await {
        Ok(n) => n,
        Err(e) => return api_error(e),
    };
    let rows: Vec<Value> = join_all(names.into_iter().map(|n| row(api, n)))
        .await
        .into_iter()
        .flatten()
        .collect();
    http::json(200, &json!({"tables": rows}))
}

/// `GET tables/<name>/stream?limit=N`: the stream's settings and its newest `limit` records
/// (at most 100), newest last, in the shape GetRecords answers.
pub async fn stream_records(api: &Tables, table: &str, limit: usize) -> Response {
    let limit = limit.clamp(1, MAX_STREAM_RECORDS);
    match api.latest_stream_records(table, limit).await {
        Ok(v) => http::json(200, &v),
        Err(e) => api_error(e),
    }
}

/// `GET tables/<name>/cost`: what the table would cost a month on DynamoDB.
pub async fn cost(console: &Console, api: &Tables, table: &str) -> Response {
    let req = json!({"TableName": table});
    let described = match api.call("DescribeTable", req.clone()).await {
        Ok(v) => v,
        Err(e) => return api_error(e),
    };
    let t = &described["Table"];
    let pitr = api
        .call("DescribeContinuousBackups", req.clone())
        .await
        .ok()
        .is_some_and(|p| {
            p["ContinuousBackupsDescription"]["PointInTimeRecoveryDescription"]
                ["PointInTimeRecoveryStatus"]
                == "ENABLED"
        });
    let backups = api
        .call("ListBackups", req)
        .await
        .map(|b| {
            b["BackupSummaries"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|s| s["BackupSizeBytes"].as_u64())
                .sum::<u64>()
        })
        .unwrap_or(0);
    let mut usage = usage_of(t, pitr, backups);
    // The metrics know a table by its reference (`region/name` outside the home region).
    add_traffic(
        &mut usage,
        &api.api()
            .metrics()
            .history()
            .table(&api.api().table_ref(table)),
    );
    let estimate = cost::estimate(console.prices(), &usage);
    http::json(
        200,
        &json!({
            "usage": usage,
            "estimate": estimate,
            "prices": console.prices(),
            "target_utilization": cost::TARGET_UTILIZATION,
        }),
    )
}

/// `GET tables/<name>/metrics`: the table's last hour from the metrics history, as
/// [`TableHistory`] serializes (`{"table", "step_seconds", "points": [{"t", "requests",
/// "latency_ms", "read_capacity_units", ...}]}`); no points for a table without traffic yet.
pub fn metrics(api: &crate::api::Api, table: &str) -> Response {
    // The metrics know a table by its reference (`region/name` outside the home region); the
    // answer names it as the request did.
    let mut history = api.metrics().history().table(&api.table_ref(table));
    history.table = table.to_string();
    http::json(200, &json!(history))
}

/// Adds what the metrics history saw the table consume to `usage`: the units of its window and
/// the busiest step's rate (per second, averaged over the step: the history keeps no finer
/// grain).
fn add_traffic(usage: &mut Usage, history: &TableHistory) {
    let step = history.step_seconds as f64;
    let points = &history.points;
    if points.is_empty() || step <= 0.0 {
        return;
    }
    usage.window_seconds = points.len() as f64 * step;
    usage.read_units = points.iter().map(|p| p.read_capacity_units).sum();
    usage.write_units = points.iter().map(|p| p.write_capacity_units).sum();
    let peak =
        |f: fn(&crate::metrics::TablePoint) -> f64| points.iter().map(f).fold(0.0, f64::max) / step;
    usage.peak_read_per_second = peak(|p| p.read_capacity_units);
    usage.peak_write_per_second = peak(|p| p.write_capacity_units);
}

/// What a table stores (from its TableDescription); its traffic is added by [`add_traffic`].
fn usage_of(t: &Value, pitr: bool, backup_bytes: u64) -> Usage {
    let indexes = || {
        ["GlobalSecondaryIndexes", "LocalSecondaryIndexes"]
            .into_iter()
            .flat_map(|k| t[k].as_array().cloned().unwrap_or_default())
    };
    let index_bytes: u64 = indexes().filter_map(|i| i["IndexSizeBytes"].as_u64()).sum();
    let index_items: u64 = indexes().filter_map(|i| i["ItemCount"].as_u64()).sum();
    let provisioned = (t["BillingModeSummary"]["BillingMode"] != "PAY_PER_REQUEST").then(|| {
        (
            t["ProvisionedThroughput"]["ReadCapacityUnits"]
                .as_u64()
                .unwrap_or(0),
            t["ProvisionedThroughput"]["WriteCapacityUnits"]
                .as_u64()
                .unwrap_or(0),
        )
    });
    Usage {
        storage_bytes: t["TableSizeBytes"].as_u64().unwrap_or(0) + index_bytes,
        billed_items: t["ItemCount"].as_u64().unwrap_or(0) + index_items,
        table_class: t["TableClassSummary"]["TableClass"]
            .as_str()
            .unwrap_or("STANDARD")
            .to_string(),
        provisioned,
        pitr,
        backup_bytes,
        ..Usage::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::TablePoint;

    fn point(t: u64, read: f64, write: f64) -> TablePoint {
        TablePoint {
            t,
            requests: Default::default(),
            latency_ms: Default::default(),
            read_capacity_units: read,
            write_capacity_units: write,
            throttled_requests: 0,
            user_errors: 0,
            system_errors: 0,
            conditional_check_failed_requests: 0,
            item_count: 0,
            size_bytes: 0,
            ttl_deleted_items: 0,
        }
    }

    #[test]
    fn traffic_comes_from_the_history() {
        let mut u = Usage::default();
        add_traffic(
            &mut u,
            &TableHistory {
                table: "t".into(),
                step_seconds: 10,
                points: vec![
                    point(10, 5.0, 1.0),
                    point(20, 40.0, 0.5),
                    point(30, 0.0, 3.0),
                ],
                ttl_deleted_total: 0,
            },
        );
        assert_eq!(u.window_seconds, 30.0);
        assert_eq!((u.read_units, u.write_units), (45.0, 4.5));
        assert_eq!(
            (u.peak_read_per_second, u.peak_write_per_second),
            (4.0, 0.3)
        );
        // No points: no traffic figures at all.
        let mut none = Usage::default();
        add_traffic(
            &mut none,
            &TableHistory {
                table: "t".into(),
                step_seconds: 10,
                points: vec![],
                ttl_deleted_total: 0,
            },
        );
        assert_eq!(none, Usage::default());
    }

    #[test]
    fn usage_counts_indexes_and_reads_the_billing_mode() {
        let t = json!({
            "TableSizeBytes": 1000, "ItemCount": 10,
            "BillingModeSummary": {"BillingMode": "PAY_PER_REQUEST"},
            "ProvisionedThroughput": {"ReadCapacityUnits": 0, "WriteCapacityUnits": 0},
            "GlobalSecondaryIndexes": [{"IndexSizeBytes": 300, "ItemCount": 4}],
            "LocalSecondaryIndexes": [{"IndexSizeBytes": 200, "ItemCount": 3}],
        });
        let u = usage_of(&t, true, 55);
        assert_eq!(u.storage_bytes, 1500);
        assert_eq!(u.billed_items, 17);
        assert_eq!(u.provisioned, None);
        assert_eq!(u.table_class, "STANDARD");
        assert!(u.pitr);
        assert_eq!(u.backup_bytes, 55);
        let t = json!({
            "TableSizeBytes": 0, "ItemCount": 0,
            "ProvisionedThroughput": {"ReadCapacityUnits": 5, "WriteCapacityUnits": 2},
            "TableClassSummary": {"TableClass": "STANDARD_INFREQUENT_ACCESS"},
        });
        let u = usage_of(&t, false, 0);
        assert_eq!(u.provisioned, Some((5, 2)));
        assert_eq!(u.table_class, "STANDARD_INFREQUENT_ACCESS");
    }
}
