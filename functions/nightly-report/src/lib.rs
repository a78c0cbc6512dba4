//! `nightly-report`: a schedule handler (world `schedule-handler`) that writes a report of the
//! order totals on every tick.
//!
//! It reads every customer's total from `order-totals` (skipping the applied-record markers
//! that `order-totals` keeps there) and writes `{"at": <tick time>, "customers": N,
//! "revenue_cents": sum}` into `order-reports`. The tick time is the key, so a tick that runs twice
//! writes the same report twice, not two reports.

use serde::Deserialize;
use serde_json::json;
use tarn_sdk::Table;

#[derive(Debug, Deserialize)]
struct Total {
    customer: String,
    #[serde(default)]
    total_cents: i64,
}

/// The schedule handler: `scheduled_time` is the tick's time (RFC 3339, UTC).
pub fn report(scheduled_time: &str) -> tarn_sdk::Result<()> {
    let totals: Vec<Total> = Table::open("order-totals").scan().all()?;
    let customers: Vec<&Total> = totals
        .iter()
        .filter(|t| !t.customer.starts_with("applied#"))
        .collect();
    let revenue: i64 = customers.iter().map(|t| t.total_cents).sum();
    Table::open("order-reports").put(&json!({
        "at": scheduled_time,
        "customers": customers.len(),
        "revenue_cents": revenue,
    }))?;
    tarn_sdk::log::info!(
        "report at {scheduled_time}: {} customers, revenue {revenue}",
        customers.len()
    );
    Ok(())
}

tarn_sdk::schedule_handler!(report);
