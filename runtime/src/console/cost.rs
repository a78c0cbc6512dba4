//! The Cost page's arithmetic: what a table's consumed capacity and storage would cost per month
//! on Amazon DynamoDB, in on-demand and in provisioned mode, from the price list in
//! `prices.toml` (us-east-1 list prices, with the date they were read; documented in the file).
//!
//! The estimate takes the capacity the table consumed over a recent window (the metrics
//! history: read and write units in all, and the busiest step's rate per second) and carries
//! the window's rate over a month of [`Prices::hours_per_month`] hours:
//! - on-demand: every consumed unit is a request unit, billed per million;
//! - provisioned: capacity sized to the window's busiest step at auto scaling's default 70%
//!   target utilization (at least 1 unit each), billed per unit-hour; for a table that is
//!   provisioned, the capacity it is configured with is priced too;
//! - storage (table and indexes, plus 100 bytes per item and index entry), PITR and on-demand
//!   backups per GB-month, whatever the mode.
//!
//! Nothing here reads the store: [`Usage`] is gathered by the console's API, which keeps this
//! module pure and its tests exact.

use serde::{Deserialize, Serialize};

/// The price file, as embedded in the binary.
pub const PRICES_TOML: &str = include_str!("prices.toml");

/// Bytes in a GB as DynamoDB bills storage.
const GB: f64 = (1u64 << 30) as f64;
/// Auto scaling's default target utilization: provisioned capacity is sized so that the
/// busiest second uses this share of it.
pub const TARGET_UTILIZATION: f64 = 0.7;

/// Prices of one table class.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClassPrices {
    /// On-demand, per million write request units.
    pub on_demand_write_per_million: f64,
    /// On-demand, per million read request units.
    pub on_demand_read_per_million: f64,
    /// Provisioned, per write capacity unit-hour.
    pub provisioned_wcu_hour: f64,
    /// Provisioned, per read capacity unit-hour.
    pub provisioned_rcu_hour: f64,
    /// Storage, per GB-month.
    pub storage_gb_month: f64,
}

/// Prices of the optional features.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FeaturePrices {
    /// Point-in-time recovery, per GB-month of table size.
    pub pitr_gb_month: f64,
    /// On-demand backups, per GB-month.
    pub backup_gb_month: f64,
    /// A restore, per GB.
    pub restore_gb: f64,
    /// Billed overhead per item and per index entry.
    pub item_overhead_bytes: u64,
}

/// The account's always-free tier (shown, not subtracted).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FreeTier {
    /// Free storage, GB.
    pub storage_gb: f64,
    /// Free provisioned write capacity units.
    pub provisioned_wcu: u64,
    /// Free provisioned read capacity units.
    pub provisioned_rcu: u64,
}

/// The price list (`prices.toml`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Prices {
    /// The AWS region the prices are for.
    pub region: String,
    /// Their currency.
    pub currency: String,
    /// When they were read from [`Prices::source`] (YYYY-MM-DD).
    pub read_on: String,
    /// Where they were read.
    pub source: String,
    /// Hours in a billing month.
    pub hours_per_month: f64,
    /// The Standard table class.
    pub standard: ClassPrices,
    /// The Standard-Infrequent Access table class.
    pub standard_infrequent_access: ClassPrices,
    /// Optional features.
    pub features: FeaturePrices,
    /// The free tier.
    pub free_tier: FreeTier,
}

impl Prices {
    /// The embedded price list.
    pub fn embedded() -> Result<Prices, toml::de::Error> {
        toml::from_str(PRICES_TOML)
    }

    /// The prices of `class` (`STANDARD_INFREQUENT_ACCESS`, else Standard).
    pub fn class(&self, class: &str) -> &ClassPrices {
        if class == "STANDARD_INFREQUENT_ACCESS" {
            &self.standard_infrequent_access
        } else {
            &self.standard
        }
    }
}

/// What a table consumed over a window of time, and what it stores.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Usage {
    /// The window the capacity figures cover, in seconds (0: no traffic figures).
    pub window_seconds: f64,
    /// Read capacity units consumed in the window.
    pub read_units: f64,
    /// Write capacity units consumed in the window.
    pub write_units: f64,
    /// Read units consumed per second in the busiest part of the window (the metrics
    /// history's busiest 10-second step).
    pub peak_read_per_second: f64,
    /// Write units consumed per second in the busiest part of the window.
    pub peak_write_per_second: f64,
    /// Bytes of the table and its indexes.
    pub storage_bytes: u64,
    /// Items in the table plus entries in its indexes (each billed with an overhead).
    pub billed_items: u64,
    /// `STANDARD` or `STANDARD_INFREQUENT_ACCESS`.
    pub table_class: String,
    /// The table's configured provisioned capacity (read, write), when it is provisioned.
    pub provisioned: Option<(u64, u64)>,
    /// Whether point-in-time recovery is on.
    pub pitr: bool,
    /// Bytes of the table's on-demand backups.
    pub backup_bytes: u64,
}

/// A month of one mode's throughput.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Throughput {
    /// Read units (on-demand: request units a month; provisioned: capacity units).
    pub read_units: f64,
    /// Write units, likewise.
    pub write_units: f64,
    /// What the reads cost a month.
    pub reads: f64,
    /// What the writes cost a month.
    pub writes: f64,
}

/// What the table would cost a month on DynamoDB.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Estimate {
    /// On-demand throughput.
    pub on_demand: Throughput,
    /// Provisioned throughput sized to the window's busiest step.
    pub provisioned: Throughput,
    /// Provisioned throughput at the table's own configured capacity, if it is provisioned.
    pub configured: Option<Throughput>,
    /// Billed storage, GB (with the per-item overhead).
    pub storage_gb: f64,
    /// Storage a month.
    pub storage: f64,
    /// Point-in-time recovery a month (0 when off).
    pub pitr: f64,
    /// On-demand backups a month.
    pub backups: f64,
    /// On-demand throughput plus storage, PITR and backups.
    pub total_on_demand: f64,
    /// Provisioned throughput (sized to the peak) plus storage, PITR and backups.
    pub total_provisioned: f64,
}

fn throughput(read_units: f64, write_units: f64, read_price: f64, write_price: f64) -> Throughput {
    Throughput {
        read_units,
        write_units,
        reads: read_units * read_price,
        writes: write_units * write_price,
    }
}

/// Capacity units to provision so that `peak` per second is [`TARGET_UTILIZATION`] of them
/// (at least 1). The quotient is rounded to a millionth of a unit first, so that float error
/// (1400 / 0.7 is 2000.0000000000002) does not buy a whole unit more.
pub fn sized_capacity(peak: f64) -> f64 {
    let units = ((peak / TARGET_UTILIZATION) * 1e6).round() / 1e6;
    units.ceil().max(1.0)
}

/// The monthly estimate of `usage` under `prices`.
pub fn estimate(prices: &Prices, usage: &Usage) -> Estimate {
    let class = prices.class(&usage.table_class);
    let hours = prices.hours_per_month;
    let per_month = if usage.window_seconds > 0.0 {
        hours * 3600.0 / usage.window_seconds
    } else {
        0.0
    };
    let on_demand = throughput(
        usage.read_units * per_month,
        usage.write_units * per_month,
        class.on_demand_read_per_million / 1e6,
        class.on_demand_write_per_million / 1e6,
    );
    let unit_hour = |price: f64| price * hours;
    let provisioned = throughput(
        sized_capacity(usage.peak_read_per_second),
        sized_capacity(usage.peak_write_per_second),
        unit_hour(class.provisioned_rcu_hour),
        unit_hour(class.provisioned_wcu_hour),
    );
    let configured = usage.provisioned.map(|(r, w)| {
        throughput(
            r as f64,
            w as f64,
            unit_hour(class.provisioned_rcu_hour),
            unit_hour(class.provisioned_wcu_hour),
        )
    });
    let billed_bytes =
        usage.storage_bytes + usage.billed_items * prices.features.item_overhead_bytes;
    let storage_gb = billed_bytes as f64 / GB;
    let storage = storage_gb * class.storage_gb_month;
    let pitr = if usage.pitr {
        usage.storage_bytes as f64 / GB * prices.features.pitr_gb_month
    } else {
        0.0
    };
    let backups = usage.backup_bytes as f64 / GB * prices.features.backup_gb_month;
    let fixed = storage + pitr + backups;
    Estimate {
        total_on_demand: on_demand.reads + on_demand.writes + fixed,
        total_provisioned: provisioned.reads + provisioned.writes + fixed,
        on_demand,
        provisioned,
        configured,
        storage_gb,
        storage,
        pitr,
        backups,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-9 * b.abs().max(1.0)
    }

    #[test]
    fn the_price_file_parses_and_is_dated() {
        let p = Prices::embedded().expect("prices.toml parses");
        assert_eq!(p.region, "us-east-1");
        assert_eq!(p.currency, "USD");
        let date = chrono::NaiveDate::parse_from_str(&p.read_on, "%Y-%m-%d");
        assert!(date.is_ok(), "read_on is a date: {}", p.read_on);
        assert!(p
            .source
            .starts_with("https://aws.amazon.com/dynamodb/pricing"));
        assert_eq!(p.hours_per_month, 730.0);
        for c in [&p.standard, &p.standard_infrequent_access] {
            assert!(c.on_demand_write_per_million > c.on_demand_read_per_million);
            assert!(c.provisioned_wcu_hour > c.provisioned_rcu_hour);
            assert!(c.storage_gb_month > 0.0);
        }
        assert_eq!(p.features.item_overhead_bytes, 100);
        assert_eq!(
            p.class("STANDARD_INFREQUENT_ACCESS"),
            &p.standard_infrequent_access
        );
        assert_eq!(p.class("STANDARD"), &p.standard);
    }

    #[test]
    fn an_hour_of_traffic_carried_over_a_month() {
        let p = Prices::embedded().unwrap();
        // One hour: 3,600,000 read units and 360,000 write units (1000 and 100 a second);
        // the busiest second read 1400 and wrote 140 units.
        let usage = Usage {
            window_seconds: 3600.0,
            read_units: 3_600_000.0,
            write_units: 360_000.0,
            peak_read_per_second: 1400.0,
            peak_write_per_second: 140.0,
            storage_bytes: 1 << 30,
            billed_items: 0,
            table_class: "STANDARD".into(),
            provisioned: Some((10, 5)),
            pitr: true,
            backup_bytes: 2 << 30,
        };
        let e = estimate(&p, &usage);
        // 730 hours of 3.6M reads = 2,628M read units at $0.125 per million.
        assert!(close(e.on_demand.read_units, 2_628_000_000.0));
        assert!(close(e.on_demand.reads, 2628.0 * 0.125));
        assert!(close(e.on_demand.writes, 262.8 * 0.625));
        // 1400 / 0.7 = 2000 RCU, 140 / 0.7 = 200 WCU, for 730 hours.
        assert!(close(e.provisioned.read_units, 2000.0));
        assert!(close(e.provisioned.write_units, 200.0));
        assert!(close(e.provisioned.reads, 2000.0 * 0.00013 * 730.0));
        assert!(close(e.provisioned.writes, 200.0 * 0.00065 * 730.0));
        let c = e.configured.clone().unwrap();
        assert!(close(c.reads, 10.0 * 0.00013 * 730.0));
        assert!(close(c.writes, 5.0 * 0.00065 * 730.0));
        assert!(close(e.storage_gb, 1.0));
        assert!(close(e.storage, 0.25));
        assert!(close(e.pitr, 0.20));
        assert!(close(e.backups, 0.20));
        assert!(close(
            e.total_on_demand,
            e.on_demand.reads + e.on_demand.writes + 0.65
        ));
        assert!(close(
            e.total_provisioned,
            e.provisioned.reads + e.provisioned.writes + 0.65
        ));
    }

    #[test]
    fn no_traffic_costs_storage_and_the_smallest_provisioned_table() {
        let p = Prices::embedded().unwrap();
        let usage = Usage {
            storage_bytes: 900,
            billed_items: 10,
            table_class: "STANDARD_INFREQUENT_ACCESS".into(),
            ..Usage::default()
        };
        let e = estimate(&p, &usage);
        assert_eq!(e.on_demand.reads + e.on_demand.writes, 0.0);
        assert_eq!(
            (e.provisioned.read_units, e.provisioned.write_units),
            (1.0, 1.0)
        );
        assert!(e.configured.is_none());
        // 900 bytes + 10 items * 100 bytes of overhead.
        assert!(close(e.storage_gb, 1900.0 / GB));
        assert!(close(e.storage, 1900.0 / GB * 0.10));
        assert_eq!(e.pitr, 0.0);
        assert_eq!(sized_capacity(0.7), 1.0);
        assert_eq!(sized_capacity(7.01), 11.0);
    }
}
