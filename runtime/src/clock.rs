//! Time as the engine sees it: a [`Clock`] the driver supplies, so that the engine
//! itself never reads the system clock and tests can run on a fixed one.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::time::{civil_from_days, Timestamp};

/// An instant of wall-clock time and the local zone's offset at that instant.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct WallTime {
    /// Nanoseconds since the Unix epoch.
    pub unix_nanos: i128,
    /// The local zone's offset from UTC, in minutes east.
    pub utc_offset_minutes: i32,
}

impl WallTime {
    /// The instant an RFC 3339 timestamp names (kept in UTC), if it is one.
    pub fn parse_rfc3339(text: &str) -> Option<WallTime> {
        let time = chrono::DateTime::parse_from_rfc3339(text).ok()?;
        Some(WallTime {
            unix_nanos: i128::from(time.timestamp()) * 1_000_000_000
                + i128::from(time.timestamp_subsec_nanos()),
            utc_offset_minutes: 0,
        })
    }

    /// `time` in UTC.
    pub fn utc(time: SystemTime) -> WallTime {
        let unix_nanos = match time.duration_since(UNIX_EPOCH) {
            Ok(d) => d.as_nanos() as i128,
            Err(before) => -(before.duration().as_nanos() as i128),
        };
        WallTime {
            unix_nanos,
            utc_offset_minutes: 0,
        }
    }

    /// The event timestamp (`2006-01-02T15:04:05.000Z07:00`).
    pub fn event_timestamp(self) -> Timestamp {
        let millis = self.unix_nanos.div_euclid(1_000_000);
        Timestamp::from_unix_millis(
            i64::try_from(millis).unwrap_or(i64::MAX),
            self.utc_offset_minutes,
        )
    }

    /// RFC 3339 with nanoseconds and trailing zeros trimmed, as Go writes a
    /// `time.Time` in JSON (`2026-01-02T15:04:05.5+01:00`): what checkpoints store.
    pub fn rfc3339_nanos(self) -> String {
        let local = self.unix_nanos + i128::from(self.utc_offset_minutes) * 60_000_000_000;
        let secs = i64::try_from(local.div_euclid(1_000_000_000)).unwrap_or(i64::MAX);
        let nanos = local.rem_euclid(1_000_000_000) as u64;
        let (year, month, day) = civil_from_days(secs.div_euclid(86_400));
        let in_day = secs.rem_euclid(86_400);
        let mut text = format!(
            "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}",
            in_day / 3600,
            in_day / 60 % 60,
            in_day % 60
        );
        if nanos > 0 {
            let frac = format!("{nanos:09}");
            text.push('.');
            text.push_str(frac.trim_end_matches('0'));
        }
        if self.utc_offset_minutes == 0 {
            text.push('Z');
        } else {
            let sign = if self.utc_offset_minutes < 0 {
                '-'
            } else {
                '+'
            };
            let abs = self.utc_offset_minutes.unsigned_abs();
            text.push_str(&format!("{sign}{:02}:{:02}", abs / 60, abs % 60));
        }
        text
    }

    /// The time from `earlier` to `self`, or zero if `earlier` is later.
    pub fn since(self, earlier: WallTime) -> Duration {
        let nanos = self.unix_nanos - earlier.unix_nanos;
        if nanos <= 0 {
            Duration::ZERO
        } else {
            Duration::from_nanos(u64::try_from(nanos).unwrap_or(u64::MAX))
        }
    }

    /// `self` moved forward by `d`.
    pub fn plus(self, d: Duration) -> WallTime {
        WallTime {
            unix_nanos: self.unix_nanos + d.as_nanos() as i128,
            ..self
        }
    }
}

/// Where the engine gets the time from.
pub trait Clock: Send + Sync {
    /// Now.
    fn now(&self) -> WallTime;
}

/// A clock that always says the same instant; tests advance it by hand.
#[derive(Debug)]
pub struct FixedClock {
    now: std::sync::Mutex<WallTime>,
}

impl FixedClock {
    /// A clock stopped at `now`.
    pub fn new(now: WallTime) -> FixedClock {
        FixedClock {
            now: std::sync::Mutex::new(now),
        }
    }

    /// Moves the clock forward by `d`.
    pub fn advance(&self, d: Duration) {
        if let Ok(mut now) = self.now.lock() {
            *now = now.plus(d);
        }
    }
}

impl Clock for FixedClock {
    fn now(&self) -> WallTime {
        self.now.lock().map_or(
            WallTime {
                unix_nanos: 0,
                utc_offset_minutes: 0,
            },
            |now| *now,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc3339_trims_trailing_zeros_and_writes_the_offset() {
        let t = WallTime {
            unix_nanos: 1_764_583_200_500_000_000,
            utc_offset_minutes: 60,
        };
        assert_eq!(t.rfc3339_nanos(), "2025-12-01T11:00:00.5+01:00");
        let utc = WallTime {
            unix_nanos: 1_764_583_200_000_000_000,
            utc_offset_minutes: 0,
        };
        assert_eq!(utc.rfc3339_nanos(), "2025-12-01T10:00:00Z");
        assert_eq!(utc.event_timestamp().as_str(), "2025-12-01T10:00:00.000Z");
    }

    #[test]
    fn since_never_goes_negative() {
        let a = WallTime::utc(UNIX_EPOCH + Duration::from_secs(10));
        let b = a.plus(Duration::from_millis(1500));
        assert_eq!(b.since(a), Duration::from_millis(1500));
        assert_eq!(a.since(b), Duration::ZERO);
    }
}
