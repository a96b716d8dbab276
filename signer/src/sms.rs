//! The SMS gateway port. The default writes each message as a JSON line to
//! `DATA/sms-outbox.jsonl` (where tests and the simulated phone read it) and logs it; a
//! real gateway implements [`SmsGateway`].

use std::fs::OpenOptions;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use time::OffsetDateTime;

/// The outbox file inside the data directory.
pub const OUTBOX_FILE: &str = "sms-outbox.jsonl";

/// Sending failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SmsError {
    /// The outbox could not be written.
    #[error("cannot write the SMS outbox {path}: {source}")]
    Outbox {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
}

/// Sends text messages.
pub trait SmsGateway: Send + Sync + std::fmt::Debug {
    /// Sends `text` to the E.164 number `to`.
    ///
    /// # Errors
    /// [`SmsError`].
    fn send(&self, to: &str, text: &str, at: OffsetDateTime) -> Result<(), SmsError>;
}

/// Appends messages to a JSON-lines file and logs them.
#[derive(Debug)]
pub struct FileOutbox {
    path: PathBuf,
    lock: Mutex<()>,
}

impl FileOutbox {
    /// An outbox writing to `path`.
    pub fn new(path: &Path) -> Self {
        Self {
            path: path.to_owned(),
            lock: Mutex::new(()),
        }
    }

    /// The file written to.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl SmsGateway for FileOutbox {
    fn send(&self, to: &str, text: &str, at: OffsetDateTime) -> Result<(), SmsError> {
        let line = serde_json::json!({
            "to": to,
            "text": text,
            "at": crate::clock::rfc3339(at),
        })
        .to_string();
        let io = |source| SmsError::Outbox {
            path: self.path.clone(),
            source,
        };
        let _guard = self.lock.lock().unwrap_or_else(|e| e.into_inner());
        let mut file = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.path)
            .map_err(io)?;
        file.write_all(format!("{line}\n").as_bytes()).map_err(io)?;
        file.sync_data().map_err(io)?;
        tracing::info!(to, text, "SMS sent (outbox)");
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn appends_json_lines() {
        let dir = tempfile::tempdir().unwrap();
        let outbox = FileOutbox::new(&dir.path().join(OUTBOX_FILE));
        let at = time::macros::datetime!(2026-11-22 10:00:00 UTC);
        outbox
            .send("+32470000001", "Your activation code is 12345", at)
            .unwrap();
        outbox
            .send("+32470000002", "Your activation code is 54321", at)
            .unwrap();
        let text = std::fs::read_to_string(outbox.path()).unwrap();
        let lines: Vec<serde_json::Value> = text
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(lines.len(), 2);
        assert_eq!(lines[0]["to"], "+32470000001");
        assert_eq!(lines[1]["text"], "Your activation code is 54321");
        assert_eq!(lines[0]["at"], "2026-11-22T10:00:00Z");
    }
}
