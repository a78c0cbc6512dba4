//! DynamoDB numbers: exact decimals, not floats.
//!
//! DynamoDB keeps up to 38 significant digits, with magnitudes from 1E-130 to just under 1E+126,
//! and answers every number in a canonical form ("01.50" is returned as "1.5", "1e2" as "100").
//! [`Number`] holds that canonical form; construction validates and normalizes, arithmetic is exact
//! and re-validated, and ordering is numeric. The order-preserving byte form used in keys lives in
//! [`crate::key`].

use std::cmp::Ordering;
use std::fmt;
use std::str::FromStr;

use bigdecimal::{BigDecimal, Signed, Zero};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Most significant digits a number may carry.
pub const MAX_DIGITS: usize = 38;
/// Largest decimal exponent of the leading digit (numbers are below 1E+126).
pub const MAX_EXPONENT: i64 = 125;
/// Smallest decimal exponent of the leading digit (numbers are at least 1E-130 in magnitude).
pub const MIN_EXPONENT: i64 = -130;

/// Why a string is not a valid DynamoDB number. The messages are DynamoDB's own.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NumberError {
    /// Not a decimal number at all.
    #[error("The parameter cannot be converted to a numeric value: {0}")]
    NotANumber(String),
    /// More than 38 significant digits.
    #[error("Attempting to store more than 38 significant digits in a Number")]
    TooManyDigits,
    /// Magnitude of 1E+126 or more.
    #[error(
        "Number overflow. Attempting to store a number with magnitude larger than supported range"
    )]
    Overflow,
    /// Non-zero magnitude below 1E-130.
    #[error("Number underflow. Attempting to store a number with magnitude smaller than supported range")]
    Underflow,
}

/// A DynamoDB number in canonical form.
#[derive(Clone)]
pub struct Number {
    /// Normalized: no trailing zeros in the integer mantissa; zero is `0` with scale 0.
    value: BigDecimal,
}

impl Number {
    /// Zero.
    pub fn zero() -> Self {
        Number {
            value: BigDecimal::zero(),
        }
    }

    fn from_decimal(value: BigDecimal) -> Result<Self, NumberError> {
        let value = value.normalized();
        if value.is_zero() {
            return Ok(Self::zero());
        }
        let n = Number { value };
        let exp = n.exponent();
        if exp > MAX_EXPONENT {
            return Err(NumberError::Overflow);
        }
        if exp < MIN_EXPONENT {
            return Err(NumberError::Underflow);
        }
        if n.digits().len() > MAX_DIGITS {
            return Err(NumberError::TooManyDigits);
        }
        Ok(n)
    }

    /// Parses DynamoDB's number syntax: optional sign, digits with an optional fraction, an
    /// optional exponent (`-12.5e3`). Leading zeros and trailing fraction zeros are allowed and
    /// dropped.
    pub fn parse(s: &str) -> Result<Self, NumberError> {
        if !is_decimal_syntax(s) {
            return Err(NumberError::NotANumber(s.to_string()));
        }
        let value = BigDecimal::from_str(s).map_err(|_| NumberError::NotANumber(s.to_string()))?;
        Self::from_decimal(value)
    }

    /// From a 64-bit integer (always valid).
    pub fn from_i64(v: i64) -> Self {
        Self::from_decimal(BigDecimal::from(v)).expect("every i64 is a valid number")
    }

    /// The value as an `i64`, when it is an integer in range.
    pub fn to_i64(&self) -> Option<i64> {
        if !self.is_integer() {
            return None;
        }
        self.value.to_plain_string().parse().ok()
    }

    /// The value as an `f64` (lossy; for display and TTL seconds).
    pub fn to_f64(&self) -> f64 {
        self.value.to_plain_string().parse().unwrap_or(f64::NAN)
    }

    /// Whether the number has no fractional part.
    pub fn is_integer(&self) -> bool {
        self.value.is_integer()
    }

    /// True for numbers below zero.
    pub fn is_negative(&self) -> bool {
        self.value.is_negative()
    }

    /// True for zero.
    pub fn is_zero(&self) -> bool {
        self.value.is_zero()
    }

    /// The significant digits, without sign, leading or trailing zeros ("0" for zero).
    pub fn digits(&self) -> String {
        let (mantissa, _) = self.value.as_bigint_and_exponent();
        mantissa.magnitude().to_string()
    }

    /// Decimal exponent of the leading digit: 1 for 12.5, -2 for 0.0125, 0 for zero.
    pub fn exponent(&self) -> i64 {
        if self.is_zero() {
            return 0;
        }
        let (_, scale) = self.value.as_bigint_and_exponent();
        self.digits().len() as i64 - 1 - scale
    }

    /// Exact sum, validated against DynamoDB's range and precision.
    pub fn checked_add(&self, other: &Number) -> Result<Number, NumberError> {
        Self::from_decimal(&self.value + &other.value)
    }

    /// Exact difference, validated against DynamoDB's range and precision.
    pub fn checked_sub(&self, other: &Number) -> Result<Number, NumberError> {
        Self::from_decimal(&self.value - &other.value)
    }

    /// The number's contribution to item size under DynamoDB's rule: about one byte per two
    /// significant digits, plus one.
    pub fn size_bytes(&self) -> usize {
        self.digits().len().div_ceil(2) + 1
    }
}

fn is_decimal_syntax(s: &str) -> bool {
    let b = s.as_bytes();
    let mut i = 0;
    if i < b.len() && (b[i] == b'+' || b[i] == b'-') {
        i += 1;
    }
    let int_start = i;
    while i < b.len() && b[i].is_ascii_digit() {
        i += 1;
    }
    let mut digits = i - int_start;
    if i < b.len() && b[i] == b'.' {
        i += 1;
        let frac_start = i;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
        digits += i - frac_start;
    }
    if digits == 0 {
        return false;
    }
    if i < b.len() && (b[i] == b'e' || b[i] == b'E') {
        i += 1;
        if i < b.len() && (b[i] == b'+' || b[i] == b'-') {
            i += 1;
        }
        let exp_start = i;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
        if i == exp_start || i - exp_start > 6 {
            return false;
        }
    }
    i == b.len()
}

impl FromStr for Number {
    type Err = NumberError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Number::parse(s)
    }
}

impl fmt::Display for Number {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.value.to_plain_string())
    }
}

impl fmt::Debug for Number {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Number({self})")
    }
}

impl PartialEq for Number {
    fn eq(&self, other: &Self) -> bool {
        self.value == other.value
    }
}
impl Eq for Number {}

impl PartialOrd for Number {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Number {
    fn cmp(&self, other: &Self) -> Ordering {
        self.value.cmp(&other.value)
    }
}

impl std::hash::Hash for Number {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.to_string().hash(state)
    }
}

impl Serialize for Number {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_string())
    }
}

impl<'de> Deserialize<'de> for Number {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Number::parse(&s).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn n(s: &str) -> String {
        Number::parse(s).unwrap().to_string()
    }

    #[test]
    fn normalizes_like_dynamodb() {
        assert_eq!(n("01.50"), "1.5");
        assert_eq!(n("1e2"), "100");
        assert_eq!(n("-0"), "0");
        assert_eq!(n("-0.000"), "0");
        assert_eq!(n("+7"), "7");
        assert_eq!(n("1.2E-3"), "0.0012");
        assert_eq!(n(".5"), "0.5");
        assert_eq!(n("5."), "5");
        assert_eq!(n("1E+125"), format!("1{}", "0".repeat(125)));
    }

    #[test]
    fn rejects_what_dynamodb_rejects() {
        for bad in [
            "", "abc", "1..2", "1e", "--1", "NaN", "Infinity", " 1", "1 ", "0x10", "1_000",
        ] {
            assert!(
                matches!(Number::parse(bad), Err(NumberError::NotANumber(_))),
                "{bad}"
            );
        }
        assert_eq!(
            Number::parse(&"1".repeat(39)),
            Err(NumberError::TooManyDigits)
        );
        assert!(Number::parse(&"1".repeat(38)).is_ok());
        // trailing zeros are not significant
        assert!(Number::parse(&format!("1{}", "0".repeat(100))).is_ok());
        assert_eq!(Number::parse("1E126"), Err(NumberError::Overflow));
        assert!(Number::parse("9.9999999999999999999999999999999999999E+125").is_ok());
        assert!(Number::parse("1E-130").is_ok());
        assert_eq!(Number::parse("1E-131"), Err(NumberError::Underflow));
    }

    #[test]
    fn exponent_and_digits() {
        let x = Number::parse("12.5").unwrap();
        assert_eq!((x.digits().as_str(), x.exponent()), ("125", 1));
        let y = Number::parse("0.0125").unwrap();
        assert_eq!((y.digits().as_str(), y.exponent()), ("125", -2));
        let z = Number::parse("1200").unwrap();
        assert_eq!((z.digits().as_str(), z.exponent()), ("12", 3));
    }

    #[test]
    fn arithmetic_is_exact_and_checked() {
        let a = Number::parse("0.1").unwrap();
        let b = Number::parse("0.2").unwrap();
        assert_eq!(a.checked_add(&b).unwrap().to_string(), "0.3");
        let big = Number::parse("9.9999999999999999999999999999999999999E+125").unwrap();
        assert_eq!(big.checked_add(&big), Err(NumberError::Overflow));
        let precise = Number::parse(&"1".repeat(38)).unwrap();
        assert_eq!(
            precise.checked_add(&Number::parse("0.1").unwrap()),
            Err(NumberError::TooManyDigits)
        );
    }

    proptest! {
        #[test]
        fn round_trips_and_normalizes(int in "[+-]?[0-9]{1,20}", frac in proptest::option::of("[0-9]{0,17}"), exp in proptest::option::of(-60i32..60)) {
            let mut s = int.clone();
            if let Some(f) = &frac { s.push('.'); s.push_str(f); }
            if let Some(e) = exp { s.push_str(&format!("e{e}")); }
            let a = Number::parse(&s).unwrap();
            let printed = a.to_string();
            let b = Number::parse(&printed).unwrap();
            prop_assert_eq!(&a, &b);
            prop_assert_eq!(printed.clone(), b.to_string());
            // canonical: no leading '+', no leading zeros before a non-zero integer digit,
            // no trailing fraction zeros, no exponent
            prop_assert!(!printed.starts_with('+'));
            prop_assert!(!printed.contains('e') && !printed.contains('E'));
            if printed.contains('.') { prop_assert!(!printed.ends_with('0') && !printed.ends_with('.')); }
            let unsigned = printed.trim_start_matches('-');
            prop_assert!(unsigned == "0" || !unsigned.starts_with('0') || unsigned.starts_with("0."));
            prop_assert!(printed != "-0");
        }

        #[test]
        fn ordering_matches_f64_where_f64_is_exact(a in -1_000_000i64..1_000_000, b in -1_000_000i64..1_000_000, sa in 0u32..4, sb in 0u32..4) {
            let x = Number::parse(&format!("{}e-{}", a, sa)).unwrap();
            let y = Number::parse(&format!("{}e-{}", b, sb)).unwrap();
            let fx = a as i128 * 10i128.pow(3 - sa);
            let fy = b as i128 * 10i128.pow(3 - sb);
            prop_assert_eq!(x.cmp(&y), fx.cmp(&fy));
        }
    }
}
