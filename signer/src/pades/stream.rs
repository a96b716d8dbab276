//! Reading the original document as a stream: hashing it (prepare) and copying it to the
//! output while hashing it again (finalize). Memory is a few buffers, whatever the size.

use std::io::Write;

use formats::pdf::Source;
use sha2::{Digest, Sha256};

/// Size of the read buffer: large enough for few system calls, small enough to stay in
/// cache while it is hashed.
const CHUNK: usize = 1 << 19;

/// Feeds bytes `0..len` of `source` to `hasher`.
pub(crate) fn hash_prefix<S: Source + ?Sized>(
    source: &S,
    len: u64,
    hasher: &mut Sha256,
) -> std::io::Result<()> {
    let mut buf = vec![0u8; CHUNK];
    let mut offset = 0u64;
    while offset < len {
        let want = usize::try_from(len - offset).unwrap_or(CHUNK).min(CHUNK);
        let chunk = &mut buf[..want];
        source.read_exact_at(offset, chunk)?;
        hasher.update(&*chunk);
        offset += want as u64;
    }
    Ok(())
}

/// Copies bytes `0..len` of `source` to `out` and returns their SHA-256, hashing on a
/// second thread while the first reads and writes, so the copy costs about the time of the
/// hash alone. At most a few chunks are in flight.
pub(crate) fn copy_hashing<S: Source + ?Sized>(
    source: &S,
    len: u64,
    out: &mut dyn Write,
) -> std::io::Result<Vec<u8>> {
    use std::sync::mpsc::sync_channel;
    use std::sync::Arc;

    let (to_hasher, chunks) = sync_channel::<Arc<Vec<u8>>>(4);
    std::thread::scope(|scope| {
        let hasher = scope.spawn(move || {
            let mut h = Sha256::new();
            for chunk in chunks {
                h.update(chunk.as_slice());
            }
            h.finalize().to_vec()
        });
        let copied = (|| {
            let mut offset = 0u64;
            while offset < len {
                let want = usize::try_from(len - offset).unwrap_or(CHUNK).min(CHUNK);
                let mut buf = vec![0u8; want];
                source.read_exact_at(offset, &mut buf)?;
                let buf = Arc::new(buf);
                out.write_all(&buf)?;
                if to_hasher.send(buf).is_err() {
                    return Err(std::io::Error::other("the hashing thread stopped"));
                }
                offset += want as u64;
            }
            Ok(())
        })();
        drop(to_hasher);
        let digest = hasher
            .join()
            .map_err(|_panicked| std::io::Error::other("the hashing thread panicked"));
        copied.and(digest)
    })
}
