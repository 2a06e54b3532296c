//! The system clock, with the local zone's offset (event timestamps are local
//! time, as the reference writes them).

use std::time::SystemTime;

use tracker_runtime::clock::{Clock, WallTime};

/// Reads the system clock.
#[derive(Clone, Copy, Debug, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> WallTime {
        let now = SystemTime::now();
        let offset_seconds = chrono::Local::now().offset().local_minus_utc();
        WallTime {
            utc_offset_minutes: offset_seconds / 60,
            ..WallTime::utc(now)
        }
    }
}
