//! Token amounts: decimal strings in whole units (Circle's `"0.01"`) ⇄ integer base units
//! (wei, USDC's 10⁻⁶), and gwei strings for fees. Exact decimal arithmetic on strings and
//! [`U256`]: no floating point anywhere, so no amount is ever rounded.

use alloy_primitives::U256;
use std::fmt;

/// Why a decimal amount string was refused by [`parse_units`] / [`parse_gwei`].
///
/// Callers map these to Circle's codes by context: for transfer amounts an unparsable string
/// ([`UnitsError::is_unparsable`]) is 155224 and too much precision or overflow 155221; for
/// fee fields every case is 155236.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UnitsError {
    /// The string is empty (or only a `.`).
    Empty,
    /// A leading `-` or `+`: amounts are unsigned.
    Sign,
    /// Scientific notation (`1e3`).
    Exponent,
    /// Anything else that is not `digits[.digits]` (spaces, letters, two dots, `0x` …).
    Malformed,
    /// More fraction digits than the token has decimals: the amount is not a whole number of
    /// base units.
    TooManyDecimals {
        /// The token's decimals.
        decimals: u8,
    },
    /// The amount does not fit the target integer (256 bits, or 128 for gwei).
    Overflow,
}

impl UnitsError {
    /// Whether the string is not a decimal number at all (as opposed to a number that is too
    /// precise or too large for the token).
    pub fn is_unparsable(self) -> bool {
        matches!(
            self,
            Self::Empty | Self::Sign | Self::Exponent | Self::Malformed
        )
    }
}

impl fmt::Display for UnitsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Empty => f.write_str("the amount is empty"),
            Self::Sign => f.write_str("the amount must not carry a sign"),
            Self::Exponent => f.write_str("the amount must not use an exponent"),
            Self::Malformed => f.write_str("the amount is not a decimal number"),
            Self::TooManyDecimals { decimals } => {
                write!(f, "the amount has more than {decimals} decimal places")
            }
            Self::Overflow => f.write_str("the amount is too large"),
        }
    }
}

impl std::error::Error for UnitsError {}

/// Parses a decimal amount in whole units (`"1"`, `"0.01"`, `".5"`, `"2."`) into base units:
/// `parse_units("0.01", 6)` is 10 000.
///
/// Refused: empty strings, a sign, an exponent, anything but ASCII digits and one `.`, more
/// fraction digits than `decimals` (even zeros: `"1.0000000"` with 6 decimals), and values
/// above [`U256::MAX`]. Zero is accepted; whether zero is allowed is the caller's rule.
pub fn parse_units(s: &str, decimals: u8) -> Result<U256, UnitsError> {
    let (whole, fraction) = split_decimal(s)?;
    if fraction.len() > usize::from(decimals) {
        return Err(UnitsError::TooManyDecimals { decimals });
    }
    let padding = usize::from(decimals) - fraction.len();
    let digits = whole
        .bytes()
        .chain(fraction.bytes())
        .chain(std::iter::repeat_n(b'0', padding));
    let ten = U256::from(10u8);
    let mut value = U256::ZERO;
    for d in digits {
        value = value
            .checked_mul(ten)
            .and_then(|v| v.checked_add(U256::from(d - b'0')))
            .ok_or(UnitsError::Overflow)?;
    }
    Ok(value)
}

/// Formats base units as a decimal amount in whole units, exactly: trailing fraction zeros
/// and a bare `.` are dropped, zero is `"0"`. `format_units(10_000, 6)` is `"0.01"`.
pub fn format_units(value: U256, decimals: u8) -> String {
    let digits = value.to_string();
    let decimals = usize::from(decimals);
    if decimals == 0 {
        return digits;
    }
    let padded = if digits.len() <= decimals {
        format!("{}{digits}", "0".repeat(decimals + 1 - digits.len()))
    } else {
        digits
    };
    let (whole, fraction) = padded.split_at(padded.len() - decimals);
    let fraction = fraction.trim_end_matches('0');
    if fraction.is_empty() {
        whole.to_owned()
    } else {
        format!("{whole}.{fraction}")
    }
}

/// Wei as a gwei string (9 decimals, trimmed): `gwei(1_500_000_000)` is `"1.5"`.
pub fn gwei(wei: u128) -> String {
    format_units(U256::from(wei), 9)
}

/// A gwei string (at most 9 decimals) as wei: `parse_gwei("2.456220277")` is 2 456 220 277.
/// Errors as [`parse_units`], and [`UnitsError::Overflow`] above `u128::MAX` wei.
pub fn parse_gwei(s: &str) -> Result<u128, UnitsError> {
    u128::try_from(parse_units(s, 9)?).map_err(|_| UnitsError::Overflow)
}

/// Splits `digits[.digits]` into its two digit runs, refusing everything else.
fn split_decimal(s: &str) -> Result<(&str, &str), UnitsError> {
    if s.is_empty() {
        return Err(UnitsError::Empty);
    }
    if s.starts_with(['-', '+']) {
        return Err(UnitsError::Sign);
    }
    let (whole, fraction) = s.split_once('.').unwrap_or((s, ""));
    let all_digits = |p: &str| p.bytes().all(|b| b.is_ascii_digit());
    if all_digits(whole) && all_digits(fraction) {
        if whole.is_empty() && fraction.is_empty() {
            return Err(UnitsError::Empty);
        }
        return Ok((whole, fraction));
    }
    // Only now tell an exponent apart from other garbage: "1e3", "1.5E-2".
    let mantissa = s.split(['e', 'E']).next().unwrap_or_default();
    if mantissa.len() < s.len() && !mantissa.is_empty() && split_decimal(mantissa).is_ok() {
        return Err(UnitsError::Exponent);
    }
    Err(UnitsError::Malformed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_whole_units_into_base_units() {
        let p = |s, d| parse_units(s, d).map(|v| v.to_string());
        assert_eq!(p("0.01", 6), Ok("10000".into()));
        assert_eq!(p(".01", 6), Ok("10000".into()));
        assert_eq!(p("2.", 6), Ok("2000000".into()));
        assert_eq!(p("0", 18), Ok("0".into()));
        assert_eq!(p("000", 0), Ok("0".into()));
        assert_eq!(p("1", 0), Ok("1".into()));
        assert_eq!(p("0.000001", 6), Ok("1".into()));
        assert_eq!(p("1.5", 18), Ok("1500000000000000000".into()));
        assert_eq!(
            parse_units(&U256::MAX.to_string(), 0),
            Ok(U256::MAX),
            "the largest value fits"
        );
        // A decimals value whose power of ten alone overflows: zero still parses.
        assert_eq!(p("0", 255), Ok("0".into()));
    }

    #[test]
    fn refuses_what_is_not_an_exact_amount() {
        use UnitsError::*;
        let cases: &[(&str, u8, UnitsError)] = &[
            ("", 6, Empty),
            (".", 6, Empty),
            ("-1", 6, Sign),
            ("+1", 6, Sign),
            ("1e3", 6, Exponent),
            ("1.5E-2", 6, Exponent),
            ("e3", 6, Malformed),
            (" 1", 6, Malformed),
            ("1 ", 6, Malformed),
            ("1,5", 6, Malformed),
            ("1.2.3", 6, Malformed),
            ("0x10", 6, Malformed),
            ("١", 6, Malformed),
            ("NaN", 6, Malformed),
            ("0.0000001", 6, TooManyDecimals { decimals: 6 }),
            ("1.0000000", 6, TooManyDecimals { decimals: 6 }),
            ("1.0", 0, TooManyDecimals { decimals: 0 }),
        ];
        for (s, d, want) in cases {
            assert_eq!(parse_units(s, *d), Err(*want), "{s:?} with {d} decimals");
        }
        let too_big = format!("{}0", U256::MAX);
        assert_eq!(parse_units(&too_big, 0), Err(Overflow));
        assert_eq!(parse_units("1", 78), Err(Overflow));
        assert!(Malformed.is_unparsable() && Exponent.is_unparsable());
        assert!(!Overflow.is_unparsable());
        assert!(!TooManyDecimals { decimals: 6 }.is_unparsable());
    }

    #[test]
    fn formats_exactly_and_trims() {
        let f = |v: u128, d| format_units(U256::from(v), d);
        assert_eq!(f(0, 18), "0");
        assert_eq!(f(0, 0), "0");
        assert_eq!(f(10_000, 6), "0.01");
        assert_eq!(f(1, 18), "0.000000000000000001");
        assert_eq!(f(20_000_000, 6), "20");
        assert_eq!(f(1_234_500, 6), "1.2345");
        assert_eq!(f(42, 0), "42");
        assert_eq!(format_units(U256::MAX, 255).len(), 257);
        for (s, d) in [("0.01", 6), ("123456789.987654321", 18), ("7", 0)] {
            assert_eq!(format_units(parse_units(s, d).unwrap(), d), s);
        }
    }

    #[test]
    fn gwei_strings() {
        assert_eq!(gwei(1_500_000_000), "1.5");
        assert_eq!(gwei(1), "0.000000001");
        assert_eq!(gwei(0), "0");
        assert_eq!(parse_gwei("2.456220277"), Ok(2_456_220_277));
        assert_eq!(parse_gwei("25"), Ok(25_000_000_000));
        assert_eq!(
            parse_gwei("0.0000000001"),
            Err(UnitsError::TooManyDecimals { decimals: 9 })
        );
        let above = format!("{}", u128::MAX / 1_000_000_000 + 1);
        assert_eq!(parse_gwei(&above), Err(UnitsError::Overflow));
        assert_eq!(gwei(u128::MAX).replace('.', ""), u128::MAX.to_string());
    }
}
