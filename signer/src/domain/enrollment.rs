//! Enrollment codes: 5 digits sent by SMS, valid 10 minutes, 5 wrong tries end the
//! enrollment.

use time::{Duration, OffsetDateTime};

use crate::ids::{constant_time_eq, secret_hash};

/// How long an SMS code is valid.
pub const CODE_LIFETIME: Duration = Duration::minutes(10);
/// Wrong codes that end an enrollment.
pub const MAX_WRONG_CODES: u32 = 5;
/// Enrollments one phone number may start per [`RATE_WINDOW`].
pub const MAX_ENROLLMENTS_PER_WINDOW: u32 = 5;
/// The window of [`MAX_ENROLLMENTS_PER_WINDOW`].
pub const RATE_WINDOW: Duration = Duration::hours(1);

/// Where an enrollment stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EnrollmentStatus {
    /// Waiting for the code.
    Pending,
    /// A device was enrolled.
    Completed,
    /// Too many wrong codes.
    Failed,
}

impl EnrollmentStatus {
    /// The name in the database.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Completed => "completed",
            Self::Failed => "failed",
        }
    }

    /// Parses [`EnrollmentStatus::as_str`].
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "pending" => Some(Self::Pending),
            "completed" => Some(Self::Completed),
            "failed" => Some(Self::Failed),
            _ => None,
        }
    }
}

/// The stored form of a code: bound to its enrollment so that equal codes differ.
pub fn code_hash(enrollment_id: &str, code: &str) -> String {
    secret_hash(&format!("sms-code:{enrollment_id}"), code)
}

/// What a code attempt gives.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CodeCheck {
    /// Right code, in time.
    Accepted,
    /// The enrollment is past its expiry.
    Expired,
    /// The enrollment is not pending any more (completed, or failed).
    Closed,
    /// Wrong code; the enrollment stays open.
    Wrong,
}

/// Judges `code` for an enrollment in `status` made with `stored_hash` and expiring at
/// `expires_at`.
pub fn check_code(
    enrollment_id: &str,
    status: EnrollmentStatus,
    stored_hash: &str,
    expires_at: OffsetDateTime,
    now: OffsetDateTime,
    code: &str,
) -> CodeCheck {
    if status != EnrollmentStatus::Pending {
        return CodeCheck::Closed;
    }
    if now >= expires_at {
        return CodeCheck::Expired;
    }
    if constant_time_eq(&code_hash(enrollment_id, code), stored_hash) {
        CodeCheck::Accepted
    } else {
        CodeCheck::Wrong
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn codes() {
        let h = code_hash("enr_1", "12345");
        let exp = datetime!(2026-11-22 10:10:00 UTC);
        let now = datetime!(2026-11-22 10:00:00 UTC);
        let p = EnrollmentStatus::Pending;
        assert_eq!(
            check_code("enr_1", p, &h, exp, now, "12345"),
            CodeCheck::Accepted
        );
        assert_eq!(
            check_code("enr_1", p, &h, exp, now, "12346"),
            CodeCheck::Wrong
        );
        assert_eq!(
            check_code("enr_2", p, &h, exp, now, "12345"),
            CodeCheck::Wrong
        );
        assert_eq!(
            check_code("enr_1", p, &h, exp, exp, "12345"),
            CodeCheck::Expired
        );
        assert_eq!(
            check_code("enr_1", EnrollmentStatus::Failed, &h, exp, now, "12345"),
            CodeCheck::Closed
        );
    }
}
