//! Reading the original document as a stream: hashing it once (prepare), copying it to the
//! output (finalize). Memory is one buffer, whatever the size.
//!
//! Hashing uses ring's SHA-256 (SHA-NI assembly where the CPU has it), as fast as
//! `openssl dgst`.

use std::io::Write;

use formats::pdf::Source;
use ring::digest::{Context, SHA256};

/// Size of the read buffer.
const CHUNK: usize = 1 << 20;
/// Bytes at each end of the document covered by the quick identity check.
pub(crate) const EDGE: u64 = 64 << 10;

/// Feeds bytes `0..len` of `source` to `hasher`. A second thread reads ahead while this
/// one hashes, so reading costs (almost) nothing on top of hashing; a fixed pool of
/// buffers goes round between them.
pub(crate) fn hash_prefix<S: Source + Sync + ?Sized>(
    source: &S,
    len: u64,
    hasher: &mut Context,
) -> std::io::Result<()> {
    use std::sync::mpsc::{channel, sync_channel};

    const POOL: usize = 3;
    let (to_hasher, filled) = sync_channel::<std::io::Result<(Vec<u8>, usize)>>(POOL);
    let (to_reader, empty) = channel::<Vec<u8>>();
    for _ in 0..POOL {
        // the receiver is alive: this cannot fail
        let _ = to_reader.send(vec![0u8; CHUNK]);
    }
    std::thread::scope(|scope| {
        scope.spawn(move || {
            let mut offset = 0u64;
            while offset < len {
                let want = usize::try_from(len - offset).unwrap_or(CHUNK).min(CHUNK);
                let Ok(mut buf) = empty.recv() else { return };
                let read = source.read_exact_at(offset, &mut buf[..want]);
                let failed = read.is_err();
                if to_hasher.send(read.map(|()| (buf, want))).is_err() || failed {
                    return;
                }
                offset += want as u64;
            }
        });
        let mut done = 0u64;
        for item in filled {
            let (buf, n) = item?;
            hasher.update(&buf[..n]);
            done += n as u64;
            // the reader may have finished; then the buffer is dropped
            let _ = to_reader.send(buf);
        }
        if done == len {
            Ok(())
        } else {
            Err(std::io::Error::other("the reading thread stopped early"))
        }
    })
}

/// SHA-256 of bytes `0..len` of `source`.
pub(crate) fn sha256_prefix<S: Source + Sync + ?Sized>(
    source: &S,
    len: u64,
) -> std::io::Result<Vec<u8>> {
    let mut ctx = Context::new(&SHA256);
    hash_prefix(source, len, &mut ctx)?;
    Ok(ctx.finish().as_ref().to_vec())
}

/// SHA-256 of the first and the last [`EDGE`] bytes of a `len`-byte document: where a PDF
/// keeps its header, trailer and newest cross-reference section.
pub(crate) fn edges_sha256<S: Source + ?Sized>(source: &S, len: u64) -> std::io::Result<Vec<u8>> {
    let mut ctx = Context::new(&SHA256);
    let head = len.min(EDGE);
    let mut buf = vec![0u8; usize::try_from(head).unwrap_or(0)];
    source.read_exact_at(0, &mut buf)?;
    ctx.update(&buf);
    let tail_start = len.saturating_sub(EDGE).max(head);
    let mut buf = vec![0u8; usize::try_from(len - tail_start).unwrap_or(0)];
    source.read_exact_at(tail_start, &mut buf)?;
    ctx.update(&buf);
    ctx.update(&len.to_be_bytes());
    Ok(ctx.finish().as_ref().to_vec())
}

/// Copies bytes `0..len` of `source` to `out`.
pub(crate) fn copy_prefix<S: Source + ?Sized>(
    source: &S,
    len: u64,
    out: &mut dyn Write,
) -> std::io::Result<()> {
    let mut buf = vec![0u8; CHUNK];
    let mut offset = 0u64;
    while offset < len {
        let want = usize::try_from(len - offset).unwrap_or(CHUNK).min(CHUNK);
        let chunk = &mut buf[..want];
        source.read_exact_at(offset, chunk)?;
        out.write_all(chunk)?;
        offset += want as u64;
    }
    Ok(())
}
