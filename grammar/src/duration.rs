//! Durations with Go's `time.ParseDuration` syntax and `Duration.String()` output.
//!
//! The reference stores durations as signed nanoseconds, so a negative
//! `poll_interval` parses and is then reported by a lint; we keep the same model.

use std::fmt;

/// A signed duration in nanoseconds.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct GoDuration(pub i64);

const NANOS_PER_SECOND: u128 = 1_000_000_000;

/// Why a duration did not parse.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("invalid duration {0:?}")]
pub struct DurationError(pub String);

impl GoDuration {
    /// Zero.
    pub const ZERO: GoDuration = GoDuration(0);

    /// Parses Go duration syntax: an optional sign, then one or more decimal numbers
    /// (fractions allowed) each followed by a unit `ns us µs ms s m h`; a bare `0` is allowed.
    pub fn parse(text: &str) -> Result<GoDuration, DurationError> {
        let err = || DurationError(text.to_string());
        let (negative, mut rest) = match text.as_bytes().first() {
            Some(b'-') => (true, &text[1..]),
            Some(b'+') => (false, &text[1..]),
            _ => (false, text),
        };
        if rest == "0" {
            return Ok(GoDuration(0));
        }
        if rest.is_empty() {
            return Err(err());
        }
        // Accumulate in nanoseconds as a 128-bit value with fractional precision kept
        // to the nanosecond, as Go does.
        let mut total: u128 = 0;
        while !rest.is_empty() {
            let int_len = rest.bytes().take_while(u8::is_ascii_digit).count();
            let int_part = &rest[..int_len];
            rest = &rest[int_len..];
            let mut frac_part = "";
            if let Some(after_dot) = rest.strip_prefix('.') {
                let frac_len = after_dot.bytes().take_while(u8::is_ascii_digit).count();
                frac_part = &after_dot[..frac_len];
                rest = &after_dot[frac_len..];
            }
            if int_part.is_empty() && frac_part.is_empty() {
                return Err(err());
            }
            let unit_len = rest
                .char_indices()
                .find(|(_, c)| *c == '.' || c.is_ascii_digit())
                .map_or(rest.len(), |(i, _)| i);
            let unit: u128 = match &rest[..unit_len] {
                "ns" => 1,
                "us" | "µs" | "μs" => 1_000,
                "ms" => 1_000_000,
                "s" => NANOS_PER_SECOND,
                "m" => 60 * NANOS_PER_SECOND,
                "h" => 3600 * NANOS_PER_SECOND,
                _ => return Err(err()),
            };
            rest = &rest[unit_len..];
            let whole: u128 = if int_part.is_empty() {
                0
            } else {
                int_part.parse().map_err(|_| err())?
            };
            let mut value = whole.checked_mul(unit).ok_or_else(err)?;
            if !frac_part.is_empty() {
                let digits = &frac_part[..frac_part.len().min(30)];
                let scale = 10u128.pow(digits.len() as u32);
                let frac: u128 = digits.parse().map_err(|_| err())?;
                value += frac * unit / scale;
            }
            total = total.checked_add(value).ok_or_else(err)?;
            if total > i64::MAX as u128 {
                return Err(err());
            }
        }
        let nanos = total as i64;
        Ok(GoDuration(if negative { -nanos } else { nanos }))
    }

    /// Whether the duration is zero ("unset").
    pub fn is_zero(self) -> bool {
        self.0 == 0
    }

    /// Whether the duration is negative.
    pub fn is_negative(self) -> bool {
        self.0 < 0
    }

    /// The duration as a std `Duration`, or `None` when negative.
    pub fn to_std(self) -> Option<std::time::Duration> {
        u64::try_from(self.0)
            .ok()
            .map(std::time::Duration::from_nanos)
    }

    /// A std `Duration`, saturating at the largest representable one.
    pub fn from_std(d: std::time::Duration) -> GoDuration {
        GoDuration(i64::try_from(d.as_nanos()).unwrap_or(i64::MAX))
    }

    /// The short canonical form the formatter writes: Go's form without trailing
    /// zero units (`1h30m`, `5m`, `45s`, `500ms`).
    pub fn to_short_string(self) -> String {
        let mut text = self.to_string();
        if text.ends_with("m0s") {
            text.truncate(text.len() - 2);
        }
        if text.ends_with("h0m") {
            text.truncate(text.len() - 2);
        }
        text
    }
}

/// Writes `v`'s lowest `prec` decimal digits as a fraction (trailing zeros and a
/// bare point omitted) and returns `v / 10^prec`.
fn push_fraction(out: &mut String, v: u64, prec: u32) -> u64 {
    let scale = 10u64.pow(prec);
    let frac = v % scale;
    if frac != 0 {
        let digits = format!("{frac:0width$}", width = prec as usize);
        out.push('.');
        out.push_str(digits.trim_end_matches('0'));
    }
    v / scale
}

impl fmt::Display for GoDuration {
    /// Go's `Duration.String()`: `0s`, `1.5s`, `500ms`, `5m0s`, `1h30m0s`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sign = if self.0 < 0 { "-" } else { "" };
        let u = self.0.unsigned_abs();
        if u == 0 {
            return f.write_str("0s");
        }
        if u < 1_000_000_000 {
            let (prec, unit) = match u {
                _ if u < 1_000 => (0, "ns"),
                _ if u < 1_000_000 => (3, "µs"),
                _ => (6, "ms"),
            };
            let mut frac = String::new();
            let whole = push_fraction(&mut frac, u, prec);
            return write!(f, "{sign}{whole}{frac}{unit}");
        }
        let mut frac = String::new();
        let secs = push_fraction(&mut frac, u, 9);
        let (h, m, s) = (secs / 3600, (secs / 60) % 60, secs % 60);
        if h > 0 {
            write!(f, "{sign}{h}h{m}m{s}{frac}s")
        } else if m > 0 {
            write!(f, "{sign}{m}m{s}{frac}s")
        } else {
            write!(f, "{sign}{s}{frac}s")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> GoDuration {
        GoDuration::parse(s).unwrap_or_else(|e| panic!("{s}: {e}"))
    }

    #[test]
    fn parses_go_syntax() {
        assert_eq!(d("30s").0, 30_000_000_000);
        assert_eq!(d("1h30m").0, 5_400_000_000_000);
        assert_eq!(d("1.5h").0, 5_400_000_000_000);
        assert_eq!(d("500ms").0, 500_000_000);
        assert_eq!(d("0").0, 0);
        assert_eq!(d("-5s").0, -5_000_000_000);
        assert_eq!(d(".5s").0, 500_000_000);
        assert_eq!(d("2µs").0, 2_000);
    }

    #[test]
    fn rejects_what_go_rejects() {
        for bad in [
            "",
            "5",
            "1d",
            "s",
            "1.s5",
            "5 m",
            "-",
            "1e3s",
            "99999999999999999999h",
        ] {
            assert!(GoDuration::parse(bad).is_err(), "{bad:?} should fail");
        }
    }

    #[test]
    fn prints_like_go_and_short() {
        assert_eq!(d("5m").to_string(), "5m0s");
        assert_eq!(d("1h30m").to_string(), "1h30m0s");
        assert_eq!(d("1.5s").to_string(), "1.5s");
        assert_eq!(d("500ms").to_string(), "500ms");
        assert_eq!(d("0").to_string(), "0s");
        assert_eq!(d("5m").to_short_string(), "5m");
        assert_eq!(d("1h").to_short_string(), "1h");
        assert_eq!(d("1h0m5s").to_short_string(), "1h0m5s");
        assert_eq!(d("45s").to_short_string(), "45s");
    }
}
