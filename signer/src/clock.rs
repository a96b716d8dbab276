//! Time is injected: every rule that looks at "now" asks a [`Clock`].
//!
//! The service runs on [`SystemClock`]; `signer serve --test-hooks` runs on an
//! [`AdjustableClock`] that black-box tests move forward (to expire an action without
//! waiting); unit tests use [`AdjustableClock::fixed`].

use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;

use time::{Duration, OffsetDateTime};

/// A source of the current time.
pub trait Clock: Send + Sync + std::fmt::Debug {
    /// Now, in UTC.
    fn now(&self) -> OffsetDateTime;
}

/// The system clock.
#[derive(Clone, Copy, Debug, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> OffsetDateTime {
        OffsetDateTime::now_utc()
    }
}

/// A clock that runs with the system clock plus an offset that can be moved forward, or
/// stands still at a fixed time.
#[derive(Debug)]
pub struct AdjustableClock {
    /// `None`: system time plus the offset; `Some(t)`: t plus the offset.
    base: Option<OffsetDateTime>,
    offset_ms: AtomicI64,
}

impl AdjustableClock {
    /// The system time, shifted by what [`AdjustableClock::advance`] adds.
    pub fn system() -> Arc<Self> {
        Arc::new(Self {
            base: None,
            offset_ms: AtomicI64::new(0),
        })
    }

    /// A clock standing still at `at` until advanced.
    pub fn fixed(at: OffsetDateTime) -> Arc<Self> {
        Arc::new(Self {
            base: Some(at),
            offset_ms: AtomicI64::new(0),
        })
    }

    /// Moves the clock forward (or back, for a negative `by`).
    pub fn advance(&self, by: Duration) {
        let ms = i64::try_from(by.whole_milliseconds()).unwrap_or(i64::MAX);
        self.offset_ms.fetch_add(ms, Ordering::SeqCst);
    }

    /// The total shift applied so far.
    pub fn offset(&self) -> Duration {
        Duration::milliseconds(self.offset_ms.load(Ordering::SeqCst))
    }
}

impl Clock for AdjustableClock {
    fn now(&self) -> OffsetDateTime {
        let base = self.base.unwrap_or_else(OffsetDateTime::now_utc);
        base.saturating_add(self.offset())
    }
}

/// RFC 3339 text of `t` in UTC, whole milliseconds at most.
pub fn rfc3339(t: OffsetDateTime) -> String {
    let t = t.to_offset(time::UtcOffset::UTC);
    let t = t
        .replace_nanosecond(t.millisecond() as u32 * 1_000_000)
        .unwrap_or(t);
    t.format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

/// Milliseconds since 1970, the form times take in the database.
pub fn to_millis(t: OffsetDateTime) -> i64 {
    i64::try_from(t.unix_timestamp_nanos() / 1_000_000).unwrap_or(i64::MAX)
}

/// The inverse of [`to_millis`] (saturating at the representable range).
pub fn from_millis(ms: i64) -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .unwrap_or(OffsetDateTime::UNIX_EPOCH)
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn fixed_clock_advances() {
        let clock = AdjustableClock::fixed(datetime!(2026-11-22 10:00:00 UTC));
        clock.advance(Duration::seconds(181));
        assert_eq!(clock.now(), datetime!(2026-11-22 10:03:01 UTC));
    }

    #[test]
    fn millis_round_trip_and_text() {
        let t = datetime!(2026-11-22 10:00:00.123456 UTC);
        assert_eq!(
            from_millis(to_millis(t)),
            datetime!(2026-11-22 10:00:00.123 UTC)
        );
        assert_eq!(rfc3339(t), "2026-11-22T10:00:00.123Z");
        assert_eq!(
            rfc3339(datetime!(2026-11-22 10:00:00 UTC)),
            "2026-11-22T10:00:00Z"
        );
    }
}
