//! The life of a sign action.
//!
//! ```text
//!            confirm (right icon, valid signatures, before expiry)
//! pending ──────────────────────────────────────────────► finalizing ──► signed
//!    │ │ │                                                     │
//!    │ │ └─ wrong icon ──► icon_mismatch                       └──► failed (cannot be finished)
//!    │ └─── refuse ──────► refused
//!    └───── expiry ──────► expired
//! ```
//!
//! Every arrow out of `pending` is taken at most once: the store applies it with a
//! compare-and-set on the status (`UPDATE … WHERE status = 'pending'`), so racing
//! confirm, refuse and expiry yield exactly one outcome. A confirm after any end state, a
//! second confirm, or a signature that does not verify leaves the state as it was.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

/// Where an action stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ActionStatus {
    /// Waiting for the person's answer.
    Pending,
    /// Confirmed; the signed documents are being finished (time-stamp, assembly). A
    /// restart or an unreachable TSA leaves the action here until the retry loop finishes it.
    Finalizing,
    /// Every document is signed.
    Signed,
    /// The person refused.
    Refused,
    /// No answer before the expiry.
    Expired,
    /// The person picked another icon than the partner showed.
    IconMismatch,
    /// Confirmed, but the signed documents could not be produced (see the reason).
    Failed,
}

impl ActionStatus {
    /// The name used in the API and the database.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Finalizing => "finalizing",
            Self::Signed => "signed",
            Self::Refused => "refused",
            Self::Expired => "expired",
            Self::IconMismatch => "icon_mismatch",
            Self::Failed => "failed",
        }
    }

    /// Parses [`ActionStatus::as_str`].
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "pending" => Self::Pending,
            "finalizing" => Self::Finalizing,
            "signed" => Self::Signed,
            "refused" => Self::Refused,
            "expired" => Self::Expired,
            "icon_mismatch" => Self::IconMismatch,
            "failed" => Self::Failed,
            _ => return None,
        })
    }

    /// An end state: nothing changes any more.
    pub fn is_final(self) -> bool {
        !matches!(self, Self::Pending | Self::Finalizing)
    }

    /// Whether the state machine has an arrow `self → to`.
    pub fn can_become(self, to: Self) -> bool {
        use ActionStatus::*;
        matches!(
            (self, to),
            (Pending, Finalizing | Refused | Expired | IconMismatch)
                | (Finalizing, Signed | Failed)
        )
    }
}

impl std::fmt::Display for ActionStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why an answer from the app is not taken.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AnswerRejected {
    /// The action expired before the answer (it is, or now becomes, `expired`).
    #[error("the sign action has expired")]
    Expired,
    /// The action already ended, or was already confirmed.
    #[error("the sign action is already {status}")]
    Closed {
        /// Its state.
        status: ActionStatus,
    },
}

/// Whether an answer (confirm or refuse) may still change an action in `status` that
/// expires at `expires_at`, at `now`.
///
/// # Errors
/// [`AnswerRejected::Expired`] for an expired action or a pending one past its expiry
/// (which the caller then marks expired), [`AnswerRejected::Closed`] otherwise.
pub fn check_open(
    status: ActionStatus,
    expires_at: OffsetDateTime,
    now: OffsetDateTime,
) -> Result<(), AnswerRejected> {
    match status {
        ActionStatus::Pending if now < expires_at => Ok(()),
        ActionStatus::Pending | ActionStatus::Expired => Err(AnswerRejected::Expired),
        status => Err(AnswerRejected::Closed { status }),
    }
}

/// What the level of a signature may be.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum SignatureLevel {
    /// PAdES B-B.
    #[serde(rename = "B-B")]
    BB,
    /// PAdES B-T (default): with a signature time-stamp from our TSA.
    #[serde(rename = "B-T")]
    BT,
}

impl SignatureLevel {
    /// The name in the API.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::BB => "B-B",
            Self::BT => "B-T",
        }
    }

    /// Parses [`SignatureLevel::as_str`].
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "B-B" => Some(Self::BB),
            "B-T" => Some(Self::BT),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;
    use ActionStatus::*;

    const ALL: [ActionStatus; 7] = [
        Pending,
        Finalizing,
        Signed,
        Refused,
        Expired,
        IconMismatch,
        Failed,
    ];

    #[test]
    fn names_round_trip() {
        for s in ALL {
            assert_eq!(ActionStatus::parse(s.as_str()), Some(s));
            assert_eq!(
                serde_json::to_string(&s).unwrap(),
                format!("\"{}\"", s.as_str())
            );
        }
        assert_eq!(ActionStatus::parse("PENDING"), None);
    }

    #[test]
    fn end_states_have_no_way_out() {
        for from in ALL.into_iter().filter(|s| s.is_final()) {
            for to in ALL {
                assert!(!from.can_become(to), "{from} -> {to}");
            }
        }
        assert!(Pending.can_become(Finalizing));
        assert!(!Pending.can_become(Signed));
        assert!(!Finalizing.can_become(Refused));
    }

    #[test]
    fn answers_only_while_pending_and_not_expired() {
        let exp = datetime!(2026-11-22 10:03:00 UTC);
        let before = datetime!(2026-11-22 10:02:59 UTC);
        assert_eq!(check_open(Pending, exp, before), Ok(()));
        assert_eq!(check_open(Pending, exp, exp), Err(AnswerRejected::Expired));
        assert_eq!(
            check_open(Expired, exp, before),
            Err(AnswerRejected::Expired)
        );
        for s in [Finalizing, Signed, Refused, IconMismatch, Failed] {
            assert_eq!(
                check_open(s, exp, before),
                Err(AnswerRejected::Closed { status: s })
            );
        }
    }
}
