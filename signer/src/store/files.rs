//! Files in the data directory: documents by SHA-256 (`documents/ab/abcdef….pdf`), signed
//! outputs (`signed/<action>/<document>.pdf`), and a scratch directory for uploads in
//! flight. Every file is written to a temporary name, synced, then renamed, so a crash
//! never leaves half a file under a final name.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use super::StoreError;

/// The file layout under a data directory.
#[derive(Clone, Debug)]
pub struct Files {
    root: PathBuf,
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> StoreError + '_ {
    move |source| StoreError::Io {
        path: path.display().to_string(),
        source,
    }
}

/// Whether `s` is a lower-case hex SHA-256 (so it is safe in a path).
fn is_sha256_hex(s: &str) -> bool {
    s.len() == 64
        && s.bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// Whether `s` is one of our identifiers (so it is safe in a path).
fn is_safe_id(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 64
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

impl Files {
    /// The layout under `root`, creating its directories.
    ///
    /// # Errors
    /// [`StoreError::Io`].
    pub fn open(root: &Path) -> Result<Self, StoreError> {
        for dir in ["documents", "signed", "tmp"] {
            let d = root.join(dir);
            fs::create_dir_all(&d).map_err(io(&d))?;
        }
        // uploads a crash interrupted
        let tmp = root.join("tmp");
        if let Ok(entries) = fs::read_dir(&tmp) {
            for e in entries.flatten() {
                let _ = fs::remove_file(e.path());
            }
        }
        Ok(Self {
            root: root.to_owned(),
        })
    }

    /// A fresh scratch file path for an upload in flight.
    pub fn scratch(&self, name: &str) -> PathBuf {
        self.root.join("tmp").join(name)
    }

    /// Where the document with this SHA-256 is kept.
    ///
    /// # Errors
    /// [`StoreError::Corrupt`] when `sha256` is not lower-case hex of 32 bytes.
    pub fn document(&self, sha256: &str) -> Result<PathBuf, StoreError> {
        if !is_sha256_hex(sha256) {
            return Err(StoreError::Corrupt {
                what: "document digest",
                detail: "not a hex SHA-256".into(),
            });
        }
        Ok(self
            .root
            .join("documents")
            .join(&sha256[..2])
            .join(format!("{sha256}.pdf")))
    }

    /// Moves a finished upload (synced by the caller) to its place; an identical document
    /// already there is kept and the scratch file removed.
    ///
    /// # Errors
    /// [`StoreError`].
    pub fn adopt_document(&self, scratch: &Path, sha256: &str) -> Result<PathBuf, StoreError> {
        let dest = self.document(sha256)?;
        if let Some(dir) = dest.parent() {
            fs::create_dir_all(dir).map_err(io(dir))?;
        }
        if dest.exists() {
            fs::remove_file(scratch).map_err(io(scratch))?;
        } else {
            fs::rename(scratch, &dest).map_err(io(&dest))?;
            sync_dir(dest.parent());
        }
        Ok(dest)
    }

    /// Where the signed output of a document of an action is kept.
    ///
    /// # Errors
    /// [`StoreError::Corrupt`] for identifiers that are not ours.
    pub fn signed(&self, action_id: &str, document_id: &str) -> Result<PathBuf, StoreError> {
        if !is_safe_id(action_id) || !is_safe_id(document_id) {
            return Err(StoreError::Corrupt {
                what: "identifier",
                detail: "unexpected characters".into(),
            });
        }
        Ok(self
            .root
            .join("signed")
            .join(action_id)
            .join(format!("{document_id}.pdf")))
    }

    /// Writes a file through `write` to a temporary name beside `dest`, syncs it and renames
    /// it into place.
    ///
    /// # Errors
    /// [`StoreError::Io`], or what `write` returns.
    pub fn write_atomically<E: From<StoreError>>(
        &self,
        dest: &Path,
        write: impl FnOnce(&mut fs::File) -> Result<(), E>,
    ) -> Result<(), E> {
        let dir = dest.parent().unwrap_or(&self.root);
        fs::create_dir_all(dir).map_err(io(dir))?;
        let tmp = dest.with_extension("part");
        let mut file = fs::File::create(&tmp).map_err(io(&tmp))?;
        let result = write(&mut file);
        if let Err(e) = result {
            drop(file);
            let _ = fs::remove_file(&tmp);
            return Err(e);
        }
        file.flush().map_err(io(&tmp))?;
        file.sync_all().map_err(io(&tmp))?;
        drop(file);
        fs::rename(&tmp, dest).map_err(io(dest))?;
        sync_dir(Some(dir));
        Ok(())
    }
}

/// Syncs a directory so a rename in it is durable (best effort: not every platform allows
/// opening a directory).
fn sync_dir(dir: Option<&Path>) {
    if let Some(d) = dir {
        if let Ok(f) = fs::File::open(d) {
            let _ = f.sync_all();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layout_and_checks() {
        let dir = tempfile::tempdir().unwrap();
        let files = Files::open(dir.path()).unwrap();
        let sha = "ab".repeat(32);
        let scratch = files.scratch("u1");
        fs::write(&scratch, b"%PDF-1.7").unwrap();
        let dest = files.adopt_document(&scratch, &sha).unwrap();
        assert!(dest.ends_with(format!("documents/ab/{sha}.pdf")));
        assert_eq!(fs::read(&dest).unwrap(), b"%PDF-1.7");
        assert!(files.document("../etc/passwd").is_err());
        assert!(files.signed("act_1", "../x").is_err());
        let out = files.signed("act_1", "doc_1").unwrap();
        files
            .write_atomically::<StoreError>(&out, |f| f.write_all(b"x").map_err(io(Path::new("x"))))
            .unwrap();
        assert_eq!(fs::read(&out).unwrap(), b"x");
    }
}
