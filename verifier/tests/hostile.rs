//! Hostile and damaged inputs: every case ends in a clear error or verdict, never a panic.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use formats::pdf::PdfReader;
use verifier::{FileReport, Indication, Options, SubIndication};

const SIGNED: &[u8] = include_bytes!("data/contract-b-b.pdf");
const ROOT: &[u8] = include_bytes!("data/root.pem");

fn opts() -> Options {
    Options {
        trust: formats::x509::parse_pem_certificates(ROOT).unwrap(),
        require_revocation: false,
        now: time::macros::datetime!(2026-11-22 12:00 UTC),
    }
}

fn verify(bytes: Vec<u8>) -> FileReport {
    match PdfReader::open(bytes) {
        Ok(r) => verifier::verify_reader(&r, "test.pdf", &opts()),
        Err(e) => FileReport {
            path: "test.pdf".into(),
            signatures: vec![],
            error: Some(e.to_string()),
            warnings: vec![],
        },
    }
}

fn find(hay: &[u8], needle: &[u8]) -> usize {
    hay.windows(needle.len()).position(|w| w == needle).unwrap()
}

fn replace_same_len(bytes: &mut [u8], from: &[u8], to: &[u8]) {
    assert_eq!(from.len(), to.len());
    let i = find(bytes, from);
    bytes[i..i + from.len()].copy_from_slice(to);
}

#[test]
fn fixture_passes() {
    let r = verify(SIGNED.to_vec());
    assert_eq!(r.signatures.len(), 1, "{r:?}");
    assert_eq!(r.signatures[0].indication, Indication::TotalPassed, "{r:?}");
}

#[test]
fn not_a_pdf_is_an_error() {
    let r = verify(b"GIF89a not a pdf".to_vec());
    assert!(r.error.unwrap().contains("not a PDF"));
}

#[test]
fn byte_flip_in_signed_range_is_hash_failure() {
    let mut b = SIGNED.to_vec();
    b[500] ^= 0x01;
    let r = verify(b);
    let s = &r.signatures[0];
    assert_eq!(s.indication, Indication::TotalFailed);
    assert_eq!(s.sub_indication, Some(SubIndication::HashFailure));
}

#[test]
fn contents_garbage_is_format_failure() {
    let mut b = SIGNED.to_vec();
    let start = find(&b, b"/Contents <") + 11;
    for x in &mut b[start..start + 64] {
        *x = b'A';
    }
    let r = verify(b);
    assert_eq!(r.signatures[0].indication, Indication::TotalFailed, "{r:?}");
}

#[test]
fn malicious_byte_ranges_fail_cleanly() {
    for br in [
        &b"[0 6880 15918 9999]"[..],
        b"[0 6881 15918 1071]",
        b"[0 6880 15910 1071]",
        b"[1 6880 15918 1071]",
        b"[0 6880 00100 1071]",
        b"[0 99999 1 9999999]",
    ] {
        let mut b = SIGNED.to_vec();
        replace_same_len(&mut b, b"[0 6880 15918 1071]", br);
        let r = verify(b);
        assert_eq!(r.signatures.len(), 1, "{}", String::from_utf8_lossy(br));
        assert_eq!(
            r.signatures[0].indication,
            Indication::TotalFailed,
            "{} -> {:?}",
            String::from_utf8_lossy(br),
            r.signatures[0]
        );
    }
}

#[test]
fn broken_startxref_is_recovered_and_said() {
    let mut b = SIGNED.to_vec();
    let i = b.windows(9).rposition(|w| w == b"startxref").unwrap() + 10;
    b[i] = b'9';
    let r = verify(b);
    assert!(r.error.is_none(), "{r:?}");
    assert!(
        r.warnings.iter().any(|w| w.contains("rebuilt by scanning")),
        "{r:?}"
    );
    // the signed range included the offset we changed
    assert_eq!(r.signatures[0].indication, Indication::TotalFailed);
}

#[test]
fn encrypted_is_unsupported() {
    let mut b = SIGNED.to_vec();
    let i = b.windows(7).rposition(|w| w == b"trailer").unwrap();
    let rest = b.split_off(i);
    let rest = String::from_utf8_lossy(&rest).replacen("<<", "<</Encrypt 1 0 R", 1);
    b.extend_from_slice(rest.as_bytes());
    let r = verify(b);
    assert!(
        r.error.as_deref().unwrap_or("").contains("encrypted"),
        "{r:?}"
    );
}

#[test]
fn truncations_never_panic() {
    for n in (0..SIGNED.len()).step_by(97) {
        let _ = verify(SIGNED[..n].to_vec());
    }
}

#[test]
fn byte_flips_never_panic() {
    // a deterministic sweep of single-byte corruptions over the whole file
    let mut seed: u64 = 0x9E37_79B9_7F4A_7C15;
    for _ in 0..600 {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        let mut b = SIGNED.to_vec();
        let pos = (seed as usize) % b.len();
        b[pos] = (seed >> 32) as u8;
        let _ = verify(b);
    }
}

#[test]
fn object_loops_and_absurd_lengths() {
    let pdf = b"%PDF-1.7\n1 0 obj\n<</Type/Catalog/Pages 2 0 R/AcroForm<</Fields[3 0 R]>>>>\nendobj\n2 0 obj\n<</Type/Pages/Kids[2 0 R]/Count 1>>\nendobj\n3 0 obj\n<</FT/Sig/T(S)/Kids[3 0 R]/V 4 0 R>>\nendobj\n4 0 obj\n<</Type/Sig/Length 99999999999999/ByteRange[0 1 2 3]/Contents<00>>>\nendobj\ntrailer\n<</Root 1 0 R>>\n";
    let r = verify(pdf.to_vec());
    assert!(r.error.is_none() || r.error.is_some());
    for s in &r.signatures {
        assert_ne!(s.indication, Indication::TotalPassed);
    }
}
