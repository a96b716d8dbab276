//! The simulated phone's SMS inbox: the service's default SMS gateway appends a line
//! `{"to": "+32...", "text": "Your activation code is 12345", "at": "..."}` to
//! `DATA/sms-outbox.jsonl`. Tests and the demo read the newest code sent to a phone here.

use std::io::{BufRead, BufReader, Read};
use std::path::Path;

use serde::Deserialize;

use crate::AppError;

/// Longest outbox line read (longer lines are skipped unread).
const MAX_LINE: u64 = 64 * 1024;

#[derive(Deserialize)]
struct OutboxLine {
    to: String,
    text: String,
}

/// The 5-digit code of the newest SMS to `phone` in the outbox file `outbox`.
///
/// # Errors
/// [`AppError::Io`] if the file cannot be read, [`AppError::SmsCode`] if no message to
/// `phone` carries a 5-digit code.
pub fn code_from_outbox(outbox: &Path, phone: &str) -> Result<String, AppError> {
    let file = std::fs::File::open(outbox).map_err(|e| AppError::io(outbox, e))?;
    let mut reader = BufReader::new(file);
    let mut newest = None;
    let mut line = Vec::new();
    loop {
        line.clear();
        let read = (&mut reader)
            .take(MAX_LINE)
            .read_until(b'\n', &mut line)
            .map_err(|e| AppError::io(outbox, e))?;
        if read == 0 {
            break;
        }
        if line.last() != Some(&b'\n') && read as u64 == MAX_LINE {
            // an overlong line: skip to its end
            reader
                .read_until(b'\n', &mut Vec::new())
                .map_err(|e| AppError::io(outbox, e))?;
            continue;
        }
        let Ok(message) = serde_json::from_slice::<OutboxLine>(&line) else {
            continue;
        };
        if message.to == phone {
            if let Some(code) = code_in(&message.text) {
                newest = Some(code);
            }
        }
    }
    newest.ok_or_else(|| AppError::SmsCode {
        reason: format!(
            "no SMS with a 5-digit code to {phone} in {}",
            outbox.display()
        ),
    })
}

/// The first run of exactly five ASCII digits in `text`.
fn code_in(text: &str) -> Option<String> {
    text.split(|c: char| !c.is_ascii_digit())
        .find(|run| run.len() == 5)
        .map(str::to_owned)
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use super::*;

    #[test]
    fn newest_code_for_the_phone_wins() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sms-outbox.jsonl");
        let mut f = std::fs::File::create(&path).unwrap();
        writeln!(f, r#"{{"to":"+32470000001","text":"Your activation code is 11111","at":"2026-11-22T10:00:00Z"}}"#).unwrap();
        writeln!(f, r#"{{"to":"+32470000002","text":"Your activation code is 22222","at":"2026-11-22T10:01:00Z"}}"#).unwrap();
        writeln!(f, "not json").unwrap();
        writeln!(f, "{}", "x".repeat(100_000)).unwrap();
        writeln!(f, r#"{{"to":"+32470000001","text":"Your activation code is 40613","at":"2026-11-22T10:02:00Z"}}"#).unwrap();
        writeln!(f, r#"{{"to":"+32470000001","text":"Hello without a code, call 0800123456","at":"2026-11-22T10:03:00Z"}}"#).unwrap();
        drop(f);
        assert_eq!(code_from_outbox(&path, "+32470000001").unwrap(), "40613");
        assert_eq!(code_from_outbox(&path, "+32470000002").unwrap(), "22222");
        assert!(matches!(
            code_from_outbox(&path, "+32470000003"),
            Err(AppError::SmsCode { .. })
        ));
        assert!(matches!(
            code_from_outbox(&dir.path().join("absent"), "+32470000001"),
            Err(AppError::Io { .. })
        ));
    }
}
