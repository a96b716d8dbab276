//! Reading the original document as a stream: hashing it (prepare) and copying it to the
//! output while hashing it again (finalize). Memory is one buffer, whatever the size.

use std::io::Write;

use formats::pdf::Source;
use sha2::{Digest, Sha256};

/// Size of the read buffer: large enough for few system calls, small enough to stay in
/// cache while it is hashed.
const CHUNK: usize = 1 << 19;

/// Feeds bytes `0..len` of `source` to `hasher`, and to `out` when given.
pub(crate) fn hash_prefix<S: Source + ?Sized>(
    source: &S,
    len: u64,
    hasher: &mut Sha256,
    mut out: Option<&mut dyn Write>,
) -> std::io::Result<()> {
    let mut buf = vec![0u8; CHUNK];
    let mut offset = 0u64;
    while offset < len {
        let want = usize::try_from(len - offset).unwrap_or(CHUNK).min(CHUNK);
        let chunk = &mut buf[..want];
        source.read_exact_at(offset, chunk)?;
        hasher.update(&*chunk);
        if let Some(w) = out.as_deref_mut() {
            w.write_all(chunk)?;
        }
        offset += want as u64;
    }
    Ok(())
}
