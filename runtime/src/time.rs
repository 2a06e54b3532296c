//! Time as text: the event [`Timestamp`] (the reference's
//! `2006-01-02T15:04:05.000Z07:00` layout, formatted and parsed back) and the
//! proleptic Gregorian calendar math under it, which [`crate::clock`] also uses
//! for checkpoint times. Pure: nothing here reads a clock.

use std::fmt;

/// An event timestamp in the reference's layout `2006-01-02T15:04:05.000Z07:00`:
/// local date and time to the millisecond, then `Z` for UTC or a `±hh:mm`
/// offset. The runtime never reads a clock; the caller supplies the instant.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Timestamp(String);

impl Timestamp {
    /// Formats an instant (milliseconds since the Unix epoch) as seen from a
    /// zone `utc_offset_minutes` east of UTC. Pure: the same inputs always give
    /// the same text. The offset is in whole minutes because the layout shows
    /// only hours and minutes of it.
    pub fn from_unix_millis(unix_millis: i64, utc_offset_minutes: i32) -> Timestamp {
        let local = unix_millis + i64::from(utc_offset_minutes) * 60_000;
        let days = local.div_euclid(86_400_000);
        let in_day = local.rem_euclid(86_400_000);
        let (year, month, day) = civil_from_days(days);
        let (hour, minute) = (in_day / 3_600_000, in_day / 60_000 % 60);
        let (second, milli) = (in_day / 1000 % 60, in_day % 1000);
        // Written digit by digit: every event is stamped, so this is hot.
        let mut text = String::with_capacity(29);
        if year < 0 {
            text.push('-');
        }
        let year = year.unsigned_abs();
        if year > 9999 {
            text.push_str(&year.to_string());
        } else {
            push_digits(&mut text, year, 4);
        }
        text.push('-');
        push_digits(&mut text, month.unsigned_abs(), 2);
        text.push('-');
        push_digits(&mut text, day.unsigned_abs(), 2);
        text.push('T');
        push_digits(&mut text, hour.unsigned_abs(), 2);
        text.push(':');
        push_digits(&mut text, minute.unsigned_abs(), 2);
        text.push(':');
        push_digits(&mut text, second.unsigned_abs(), 2);
        text.push('.');
        push_digits(&mut text, milli.unsigned_abs(), 3);
        if utc_offset_minutes == 0 {
            text.push('Z');
        } else {
            text.push(if utc_offset_minutes < 0 { '-' } else { '+' });
            let abs = u64::from(utc_offset_minutes.unsigned_abs());
            push_digits(&mut text, abs / 60, 2);
            text.push(':');
            push_digits(&mut text, abs % 60, 2);
        }
        Timestamp(text)
    }

    /// Wraps text read from a line as-is, without checking its layout (old or
    /// foreign logs keep whatever they wrote).
    pub fn from_wire(text: impl Into<String>) -> Timestamp {
        Timestamp(text.into())
    }

    /// The formatted text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The instant in milliseconds since the Unix epoch, or `None` when the text
    /// is not in the layout [`Timestamp::from_unix_millis`] writes.
    pub fn unix_millis(&self) -> Option<i64> {
        self.parts().map(|(millis, _)| millis)
    }

    /// The zone offset in minutes east of UTC, or `None` when the text is not in
    /// the expected layout.
    pub fn utc_offset_minutes(&self) -> Option<i32> {
        self.parts().map(|(_, offset)| offset)
    }

    /// Parses `YYYY-MM-DDThh:mm:ss.mmm` followed by `Z` or `±hh:mm`.
    fn parts(&self) -> Option<(i64, i32)> {
        let text = self.0.as_bytes();
        let (clock, zone) = (text.get(..23)?, text.get(23..)?);
        let field = |at: usize, len: usize| -> Option<i64> {
            let digits = clock.get(at..at + len)?;
            if !digits.iter().all(u8::is_ascii_digit) {
                return None;
            }
            std::str::from_utf8(digits).ok()?.parse().ok()
        };
        let separators = [
            (4, b'-'),
            (7, b'-'),
            (10, b'T'),
            (13, b':'),
            (16, b':'),
            (19, b'.'),
        ];
        if separators.iter().any(|&(at, byte)| clock[at] != byte) {
            return None;
        }
        let (year, month, day) = (field(0, 4)?, field(5, 2)?, field(8, 2)?);
        let (hour, minute, second, milli) =
            (field(11, 2)?, field(14, 2)?, field(17, 2)?, field(20, 3)?);
        if !(1..=12).contains(&month)
            || !(1..=31).contains(&day)
            || hour > 23
            || minute > 59
            || second > 59
        {
            return None;
        }
        let offset = match zone {
            b"Z" => 0,
            [sign @ (b'+' | b'-'), h1, h2, b':', m1, m2] => {
                let digits = [*h1, *h2, *m1, *m2];
                if !digits.iter().all(u8::is_ascii_digit) {
                    return None;
                }
                let value = |a: u8, b: u8| i32::from(a - b'0') * 10 + i32::from(b - b'0');
                let minutes = value(*h1, *h2) * 60 + value(*m1, *m2);
                if *sign == b'-' {
                    -minutes
                } else {
                    minutes
                }
            }
            _ => return None,
        };
        let local = days_from_civil(year, month, day) * 86_400_000
            + ((hour * 60 + minute) * 60 + second) * 1000
            + milli;
        Some((local - i64::from(offset) * 60_000, offset))
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Appends `value` as exactly `width` decimal digits (zero-padded; `value` must
/// fit).
fn push_digits(text: &mut String, value: u64, width: u32) {
    let mut divisor = 10u64.pow(width.saturating_sub(1));
    while divisor > 0 {
        let digit = (value / divisor % 10) as u8;
        text.push(char::from(b'0' + digit));
        divisor /= 10;
    }
}

/// Proleptic Gregorian (year, month, day) of a day count since 1970-01-01
/// (Howard Hinnant's `civil_from_days`).
pub(crate) fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

/// Day count since 1970-01-01 of a proleptic Gregorian date (the inverse of
/// [`civil_from_days`]).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let yoe = year.rem_euclid(400);
    let mp = if month > 2 { month - 3 } else { month + 9 };
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamp_formats_utc_with_z() {
        // 2024-03-05T07:08:09Z is 1709622489 s (checked with `date -u -d @1709622489`).
        let ts = Timestamp::from_unix_millis(1_709_622_489_007, 0);
        assert_eq!(ts.as_str(), "2024-03-05T07:08:09.007Z");
        assert_eq!(
            Timestamp::from_unix_millis(0, 0).as_str(),
            "1970-01-01T00:00:00.000Z"
        );
    }

    #[test]
    fn timestamp_formats_positive_and_negative_offsets() {
        let india = Timestamp::from_unix_millis(1_709_622_489_007, 330);
        assert_eq!(india.as_str(), "2024-03-05T12:38:09.007+05:30");
        let pacific = Timestamp::from_unix_millis(1_709_622_489_007, -480);
        assert_eq!(pacific.as_str(), "2024-03-04T23:08:09.007-08:00");
    }

    #[test]
    fn timestamp_pads_milliseconds_and_handles_leap_days_and_pre_epoch() {
        // 2000-02-29T23:59:59Z is 951868799 s.
        assert_eq!(
            Timestamp::from_unix_millis(951_868_799_050, 0).as_str(),
            "2000-02-29T23:59:59.050Z"
        );
        assert_eq!(
            Timestamp::from_unix_millis(951_868_799_000, 0).as_str(),
            "2000-02-29T23:59:59.000Z"
        );
        assert_eq!(
            Timestamp::from_unix_millis(-1, 0).as_str(),
            "1969-12-31T23:59:59.999Z"
        );
    }

    #[test]
    fn timestamp_parses_back_to_millis_and_offset() {
        for (millis, offset) in [
            (1_709_622_489_007, 0),
            (1_709_622_489_007, 330),
            (1_709_622_489_007, -480),
            (951_868_799_050, 0),
            (-1, 0),
        ] {
            let ts = Timestamp::from_unix_millis(millis, offset);
            assert_eq!(ts.unix_millis(), Some(millis), "{ts}");
            assert_eq!(ts.utc_offset_minutes(), Some(offset), "{ts}");
        }
        for bad in [
            "",
            "2024-03-05T07:08:09Z",
            "2024-03-05T07:08:09.007",
            "2024-03-05 07:08:09.007Z",
            "2024-13-05T07:08:09.007Z",
            "2024-03-05T07:08:09.007+0530",
        ] {
            assert_eq!(Timestamp::from_wire(bad).unix_millis(), None, "{bad}");
        }
    }
}
