//! The system clock, with the local zone's offset (event timestamps are local
//! time, as the reference writes them).

use std::sync::atomic::{AtomicI64, Ordering};
use std::time::SystemTime;

use tracker_runtime::clock::{Clock, WallTime};

/// Reads the system clock.
///
/// Looking up the local zone's offset costs far more than reading the clock,
/// and every event is stamped, so the offset is looked up at most once a minute.
#[derive(Debug, Default)]
pub struct SystemClock {
    /// `(unix second the offset was looked up, offset in minutes)`, packed.
    cached: AtomicI64,
}

/// How long a looked-up zone offset is used.
const OFFSET_TTL_SECS: i64 = 60;

impl SystemClock {
    /// A system clock.
    pub fn new() -> SystemClock {
        SystemClock::default()
    }

    fn offset_minutes(&self, unix_secs: i64) -> i32 {
        let packed = self.cached.load(Ordering::Relaxed);
        let (at, offset) = (packed >> 16, (packed & 0xffff) as i16);
        if packed != 0 && unix_secs - at < OFFSET_TTL_SECS && unix_secs >= at {
            return i32::from(offset);
        }
        let minutes = chrono::Local::now().offset().local_minus_utc() / 60;
        let fresh = (unix_secs << 16) | i64::from(minutes as i16 as u16);
        self.cached.store(fresh, Ordering::Relaxed);
        minutes
    }
}

impl Clock for SystemClock {
    fn now(&self) -> WallTime {
        let now = WallTime::utc(SystemTime::now());
        let secs = i64::try_from(now.unix_nanos / 1_000_000_000).unwrap_or(0);
        WallTime {
            utc_offset_minutes: self.offset_minutes(secs),
            ..now
        }
    }
}
