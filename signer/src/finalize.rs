//! Finishing a confirmed action: for each document, the CMS with the device's signature
//! value (and for B-T the time-stamp), embedded in the prepared update, written next to the
//! data directory's other files, then `finalizing → signed`.
//!
//! Nothing is lost: the confirmation is committed before any of this starts, each signed
//! PDF is written atomically and recorded, and an action left `finalizing` (TSA down,
//! crash, restart) is picked up again by [`retry_loop`] with exponential backoff.

use std::sync::Arc;
use std::time::Duration;

use formats::pdf::FileSource;
use sha2::{Digest, Sha256};

use crate::domain::actions::ActionStatus;
use crate::pades::{self, PadesError, Prepared};
use crate::service::Service;
use crate::store::{SignedOutput, StoreError};

/// Longest wait between two attempts.
pub const MAX_BACKOFF: Duration = Duration::from_secs(30);

/// The result of one attempt.
#[derive(Debug)]
enum Attempt {
    /// Every document is signed.
    Done,
    /// Worth trying again (TSA unavailable, I/O).
    Retry(String),
    /// Cannot succeed (the stored state does not fit the document).
    Fail(String),
    /// Not finalizing (already ended, or unknown).
    NotFinalizing(ActionStatus),
}

/// Backoff before attempt `n + 1` after `n` failures: 1 s, 2 s, 4 s, … up to
/// [`MAX_BACKOFF`].
pub fn backoff(failures: u32) -> Duration {
    let secs = 1u64.checked_shl(failures.min(16)).unwrap_or(u64::MAX);
    Duration::from_secs(secs).min(MAX_BACKOFF)
}

fn classify(e: PadesError) -> Attempt {
    match e {
        PadesError::Timestamp(t) => Attempt::Retry(format!("time-stamping: {t}")),
        PadesError::BadTimestampToken { reason } => {
            Attempt::Retry(format!("time-stamp token refused: {reason}"))
        }
        PadesError::Io(io) => Attempt::Retry(format!("I/O: {io}")),
        other => Attempt::Fail(other.to_string()),
    }
}

fn attempt(svc: &Service, id: &str) -> Result<Attempt, StoreError> {
    let Some(action) = svc.store.action(id)? else {
        return Ok(Attempt::Fail("unknown action".into()));
    };
    if action.status != ActionStatus::Finalizing {
        return Ok(Attempt::NotFinalizing(action.status));
    }
    for d in &action.documents {
        if d.signed.is_some() {
            continue;
        }
        let Some(signature) = &d.signature else {
            return Ok(Attempt::Fail(format!(
                "no signature value stored for document {}",
                d.document.id
            )));
        };
        let prepared = match Prepared::from_json(&d.prepared) {
            Ok(p) => p,
            Err(e) => return Ok(Attempt::Fail(e.to_string())),
        };
        let source_path = svc.files.document(&d.document.sha256)?;
        let dest = svc.files.signed(&action.id, &d.document.id)?;
        let mut hasher = Sha256::new();
        let mut size = 0u64;
        let result = svc.files.write_atomically(&dest, |file| {
            let source = FileSource::open(&source_path).map_err(PadesError::Io)?;
            let mut out = HashingWriter {
                inner: std::io::BufWriter::new(file),
                hasher: &mut hasher,
                size: &mut size,
            };
            pades::finalize(
                &prepared,
                source,
                signature,
                &action.signer_chain,
                Some(svc.timestamper.as_ref()),
                &mut out,
            )?;
            std::io::Write::flush(&mut out).map_err(PadesError::Io)?;
            Ok::<(), Wrapped>(())
        });
        match result {
            Ok(()) => {}
            Err(Wrapped::Store(e)) => return Err(e),
            Err(Wrapped::Pades(e)) => return Ok(classify(e)),
        }
        svc.store.record_signed(
            &action.id,
            &d.document.id,
            &SignedOutput {
                sha256: hex::encode(hasher.finalize()),
                size,
            },
        )?;
    }
    Ok(Attempt::Done)
}

/// A PAdES or a storage failure while writing.
enum Wrapped {
    Pades(PadesError),
    Store(StoreError),
}

impl From<PadesError> for Wrapped {
    fn from(e: PadesError) -> Self {
        Self::Pades(e)
    }
}

impl From<StoreError> for Wrapped {
    fn from(e: StoreError) -> Self {
        Self::Store(e)
    }
}

/// Hashes and counts what passes through.
struct HashingWriter<'a, W: std::io::Write> {
    inner: W,
    hasher: &'a mut Sha256,
    size: &'a mut u64,
}

impl<W: std::io::Write> std::io::Write for HashingWriter<'_, W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.hasher.update(&buf[..n]);
        *self.size += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

/// Removes the action from the in-flight set when dropped.
struct InFlight<'a> {
    svc: &'a Service,
    id: String,
}

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        let mut set = self
            .svc
            .finalizing
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        set.remove(&self.id);
    }
}

/// Makes one finalization attempt for `id` (unless this process is already on it) and
/// records its outcome; returns the action's status afterwards.
pub async fn finalize(svc: Arc<Service>, id: String) -> ActionStatus {
    {
        let mut set = svc.finalizing.lock().unwrap_or_else(|e| e.into_inner());
        if !set.insert(id.clone()) {
            return ActionStatus::Finalizing;
        }
    }
    let task_svc = svc.clone();
    let task_id = id.clone();
    let outcome = tokio::task::spawn_blocking(move || {
        let _guard = InFlight {
            svc: &task_svc,
            id: task_id.clone(),
        };
        let result = attempt(&task_svc, &task_id);
        record(&task_svc, &task_id, result)
    })
    .await;
    match outcome {
        Ok(status) => {
            if status.is_final() {
                crate::webhook::action_ended(&svc, &id).await;
            }
            status
        }
        Err(e) => {
            tracing::error!(action = %id, error = %e, "finalization task failed");
            ActionStatus::Finalizing
        }
    }
}

/// Stores the outcome of an attempt (blocking).
fn record(svc: &Service, id: &str, result: Result<Attempt, StoreError>) -> ActionStatus {
    let now = svc.now();
    let store = &svc.store;
    let outcome = match result {
        Ok(Attempt::Done) => store
            .end_finalizing(id, ActionStatus::Signed, now, None)
            .map(|_| {
                tracing::info!(action = %id, "sign action signed");
                ActionStatus::Signed
            }),
        Ok(Attempt::Fail(reason)) => {
            tracing::error!(action = %id, %reason, "finalization failed for good");
            store
                .end_finalizing(id, ActionStatus::Failed, now, Some(&reason))
                .map(|_| ActionStatus::Failed)
        }
        Ok(Attempt::NotFinalizing(status)) => Ok(status),
        Ok(Attempt::Retry(reason)) => retry_later(svc, id, &reason),
        Err(e) => retry_later(svc, id, &format!("storage: {e}")),
    };
    outcome.unwrap_or_else(|e| {
        tracing::error!(action = %id, error = %e, "cannot record the finalization outcome");
        ActionStatus::Finalizing
    })
}

fn retry_later(svc: &Service, id: &str, reason: &str) -> Result<ActionStatus, StoreError> {
    let failures = svc.store.action(id)?.map_or(0, |a| a.finalize_attempts);
    let wait = backoff(failures);
    tracing::warn!(action = %id, %reason, retry_in = ?wait, "finalization will be retried");
    let retry_at = svc.now() + time::Duration::try_from(wait).unwrap_or(time::Duration::SECOND);
    svc.store.finalize_failed(id, retry_at, reason)?;
    Ok(ActionStatus::Finalizing)
}

/// Finishes the actions left `finalizing` (at start-up, after a crash, after a TSA outage),
/// each when its retry is due, until `stop` fires. The first pass, at start-up, takes every
/// one of them at once.
pub async fn retry_loop(svc: Arc<Service>, mut stop: tokio::sync::watch::Receiver<bool>) {
    let mut first = true;
    loop {
        let now = if std::mem::take(&mut first) {
            time::OffsetDateTime::from_unix_timestamp(i64::from(i32::MAX))
                .unwrap_or_else(|_| svc.now())
        } else {
            svc.now()
        };
        let due = svc.db(move |s| s.due_finalizations(now)).await;
        match due {
            Ok(ids) => {
                for id in ids {
                    finalize(svc.clone(), id).await;
                }
            }
            Err(e) => tracing::error!(error = %e, "cannot list the actions to finalize"),
        }
        tokio::select! {
            _ = stop.changed() => return,
            () = svc.finalize_kick.notified() => {}
            () = tokio::time::sleep(Duration::from_millis(500)) => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_then_caps() {
        assert_eq!(backoff(0), Duration::from_secs(1));
        assert_eq!(backoff(1), Duration::from_secs(2));
        assert_eq!(backoff(3), Duration::from_secs(8));
        assert_eq!(backoff(10), MAX_BACKOFF);
        assert_eq!(backoff(u32::MAX), MAX_BACKOFF);
    }
}
