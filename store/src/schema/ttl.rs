//! Time-to-live definitions: a table's TTL setting ([`TtlSpec`]), what UpdateTimeToLive asks
//! for ([`TtlChange`]), and when an item expires ([`expiry_of`]).
//!
//! The expiry index every write keeps lives in the database (`db::expiry`); enabling TTL,
//! indexing the items already there and the sweeper in [`crate::ttl`].

use serde::{Deserialize, Serialize};

use crate::value::{AttributeValue, Item};

/// A table's TTL setting.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TtlSpec {
    /// The attribute holding each item's expiry, in epoch seconds.
    pub attribute: String,
    /// Whether existing items are still being indexed.
    pub status: TtlStatus,
}

/// Where enabling TTL stands (a table without a [`TtlSpec`] is DISABLED).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum TtlStatus {
    /// Enabled; the items written before are being indexed.
    Enabling,
    /// Enabled and every item indexed.
    Enabled,
}

impl TtlStatus {
    /// DynamoDB's TimeToLiveStatus.
    pub fn as_str(self) -> &'static str {
        match self {
            TtlStatus::Enabling => "ENABLING",
            TtlStatus::Enabled => "ENABLED",
        }
    }
}

/// The expiry of `item` under the TTL attribute `attribute`: its value in whole epoch seconds,
/// when it is a non-negative number.
pub fn expiry_of(item: &Item, attribute: &str) -> Option<u64> {
    match item.get(attribute)? {
        AttributeValue::N(n) if !n.is_negative() => {
            let secs = n.to_f64().floor();
            (secs.is_finite() && secs < u64::MAX as f64).then_some(secs as u64)
        }
        _ => None,
    }
}

/// What changing a table's TTL asks for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TtlChange {
    /// Enable TTL on this attribute.
    Enable(String),
    /// Disable TTL (naming the attribute it is enabled on).
    Disable(String),
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::value::Number;

    fn with_ttl(v: AttributeValue) -> Item {
        let mut i = Item::new();
        i.insert("exp".into(), v);
        i
    }

    #[test]
    fn only_non_negative_numbers_are_expiries() {
        let n = |s: &str| AttributeValue::N(Number::parse(s).unwrap());
        assert_eq!(
            expiry_of(&with_ttl(n("1700000000")), "exp"),
            Some(1_700_000_000)
        );
        assert_eq!(
            expiry_of(&with_ttl(n("1700000000.9")), "exp"),
            Some(1_700_000_000)
        );
        assert_eq!(expiry_of(&with_ttl(n("-5")), "exp"), None);
        assert_eq!(expiry_of(&with_ttl(n("1e100")), "exp"), None);
        assert_eq!(
            expiry_of(&with_ttl(AttributeValue::S("1700000000".into())), "exp"),
            None
        );
        assert_eq!(expiry_of(&with_ttl(n("5")), "other"), None);
    }
}
