//! `order-totals`: a stream handler on the `orders` table (world `stream-handler`) that keeps
//! each customer's running total in `order-totals`.
//!
//! An order is `{"order_id": S, "customer": S, "amount": N}` (an amount of money, at most two
//! decimals). An insert adds its amount to its customer's total, a removal subtracts it, a
//! change moves the difference (or the whole amount from one customer to the other). Totals are
//! kept exactly, in cents (`total_cents`, and `orders`, the count). `orders` needs a
//! NEW_AND_OLD_IMAGES stream.
//!
//! Redelivery is normal (a stream trigger delivers at least once), so every record is applied
//! at most once: in the same transaction as the totals, it writes a marker item
//! `{"customer": "applied#<eventID>"}` that must not exist yet. A record delivered again finds
//! its marker and is skipped. Markers carry an `expires` attribute for the table's TTL.
//!
//! An order whose amount is not a number of cents cannot be applied: the handler reports it as failed
//! (by sequence number), so the trigger retries it and finally hands it to the mapping's
//! on-failure table, while other customers' orders go on.

use serde_json::json;
use tarn_sdk::{Condition, EventName, Item, StreamRecord, Table, Transaction};

/// The table holding the totals (and the applied-record markers).
pub const TOTALS_TABLE: &str = "order-totals";
/// How long a marker is kept, in seconds: longer than any redelivery.
const MARKER_TTL_S: u64 = 2 * 24 * 60 * 60;

/// An amount of money (`"12.5"`, `"-3"`, `"0.07"`) in cents, exactly.
fn cents(amount: &str) -> Option<i64> {
    let (neg, digits) = match amount.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, amount),
    };
    let (whole, frac) = digits.split_once('.').unwrap_or((digits, ""));
    if whole.is_empty()
        || frac.len() > 2
        || !(whole
            .bytes()
            .chain(frac.bytes())
            .all(|b| b.is_ascii_digit()))
    {
        return None;
    }
    let c =
        whole.parse::<i64>().ok()?.checked_mul(100)? + format!("{frac:0<2}").parse::<i64>().ok()?;
    Some(if neg { -c } else { c })
}

/// The customer and amount (in cents) of an order image.
fn order(image: &Item) -> Result<(String, i64), String> {
    let customer = image
        .get("customer")
        .and_then(|v| v["S"].as_str())
        .ok_or("an order without a customer")?;
    let amount = image.get("amount").and_then(|v| v["N"].as_str());
    let c = amount.and_then(cents).ok_or_else(|| {
        format!(
            "order of {customer} has an amount that is not a sum of money: {:?}",
            image.get("amount")
        )
    })?;
    Ok((customer.to_string(), c))
}

/// The (customer, change of total in cents, change of order count) triples one record makes.
fn changes(record: &StreamRecord) -> Result<Vec<(String, i64, i64)>, String> {
    let mut out = Vec::new();
    if let (Some(o), false) = (&record.old_image, record.event_name == EventName::Insert) {
        let (customer, c) = order(o)?;
        out.push((customer, -c, -1));
    }
    if let (Some(n), false) = (&record.new_image, record.event_name == EventName::Remove) {
        let (customer, c) = order(n)?;
        out.push((customer, c, 1));
    }
    // A change within one customer: one update with the difference.
    if let [(a, x, i), (b, y, j)] = &out[..] {
        if a == b {
            return Ok(vec![(a.clone(), x + y, i + j)]);
        }
    }
    Ok(out)
}

fn now_secs() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// Applies one record exactly once. `Ok(false)`: it had been applied before.
fn apply(totals: &Table, record: &StreamRecord) -> Result<bool, String> {
    let changes = changes(record)?;
    let marker = json!({
        "customer": format!("applied#{}", record.event_id),
        "expires": now_secs() + MARKER_TTL_S,
    });
    let mut tx = Transaction::new().put_if(totals, &marker, Condition::not_exists("customer"));
    for (customer, delta, count) in &changes {
        tx = tx.update(
            totals
                .update(&json!({ "customer": customer }))
                .add("total_cents", delta)
                .add("orders", count),
        );
    }
    match tx.commit() {
        Ok(()) => Ok(true),
        Err(e) => {
            // Cancelled because the marker exists: applied before.
            let marker_key = json!({ "customer": marker["customer"] });
            match totals.get::<serde_json::Value, _>(&marker_key) {
                Ok(Some(_)) => Ok(false),
                _ => Err(e.to_string()),
            }
        }
    }
}

/// The stream handler: returns the sequence numbers of the records it could not apply.
pub fn on_orders(records: Vec<StreamRecord>) -> Vec<String> {
    let totals = Table::open(TOTALS_TABLE);
    let mut failed = Vec::new();
    for record in &records {
        match apply(&totals, record) {
            Ok(true) => {}
            Ok(false) => tarn_sdk::log::info!("record {} was applied before", record.event_id),
            Err(e) => {
                tarn_sdk::log::warn!("record {} failed: {e}", record.sequence_number);
                failed.push(record.sequence_number.clone());
            }
        }
    }
    failed
}

tarn_sdk::stream_handler!(on_orders);

#[cfg(test)]
mod tests {
    use super::*;

    fn record(event: &str, old: Option<(&str, &str)>, new: Option<(&str, &str)>) -> StreamRecord {
        let image = |c: &str, a: &str| {
            let amount = if a.parse::<f64>().is_ok() {
                json!({"N": a})
            } else {
                json!({"S": a})
            };
            json!({"order_id": {"S": "o1"}, "customer": {"S": c}, "amount": amount})
        };
        let mut d = json!({"Keys": {"order_id": {"S": "o1"}}, "SequenceNumber": "1"});
        if let Some((c, a)) = old {
            d["OldImage"] = image(c, a);
        }
        if let Some((c, a)) = new {
            d["NewImage"] = image(c, a);
        }
        let batch = json!([{"eventID": "e1", "eventName": event, "dynamodb": d}]).to_string();
        StreamRecord::parse_batch(&batch).unwrap().remove(0)
    }

    #[test]
    fn amounts_are_exact_cents() {
        assert_eq!(cents("12.5"), Some(1250));
        assert_eq!(cents("0.07"), Some(7));
        assert_eq!(cents("-3"), Some(-300));
        assert_eq!(cents("1.234"), None);
        assert_eq!(cents("1e3"), None);
        assert_eq!(cents(".5"), None);
    }

    #[test]
    fn each_kind_of_change_moves_the_right_totals() {
        let ada = |c, n| vec![("ada".to_string(), c, n)];
        assert_eq!(
            changes(&record("INSERT", None, Some(("ada", "10")))).unwrap(),
            ada(1000, 1)
        );
        assert_eq!(
            changes(&record("REMOVE", Some(("ada", "10")), None)).unwrap(),
            ada(-1000, -1)
        );
        assert_eq!(
            changes(&record(
                "MODIFY",
                Some(("ada", "10")),
                Some(("ada", "25.5"))
            ))
            .unwrap(),
            ada(1550, 0)
        );
        assert_eq!(
            changes(&record("MODIFY", Some(("ada", "10")), Some(("bob", "10")))).unwrap(),
            vec![("ada".into(), -1000, -1), ("bob".into(), 1000, 1)]
        );
        assert!(changes(&record("INSERT", None, Some(("ada", "lots")))).is_err());
    }
}
