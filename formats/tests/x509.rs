//! End-to-end use of `formats::x509` through its public API: read certificates, build and
//! validate a path, check the revocation of every certificate in it.
//!
//! The test PKI is `tests/data/x509` (regenerate with its `make.sh`). The last test also
//! runs on the shared lab PKI in `/work/shared/corpus/pki` when that directory exists, and
//! skips (saying so) otherwise.

// a test fails by panicking: unwrap on test data is the point
#![allow(clippy::unwrap_used)]

use std::path::{Path, PathBuf};

use formats::x509::{
    build_and_validate, check_path_revocation, parse_pem_certificates, source_problems,
    time_problems, Certificate, PathInput, PathStatus, RevocationFinding, RevocationSources,
};
use time::macros::datetime;

fn data(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/x509")
        .join(name)
}

fn certs(name: &str) -> Vec<Certificate> {
    parse_pem_certificates(&std::fs::read(data(name)).unwrap()).unwrap()
}

#[test]
fn signer_path_and_revocation_as_the_verifier_does_it() {
    let leaf = certs("leaf-revoked.pem").remove(0);
    // CMS certificates as a signer sends them: the leaf and its intermediate, plus noise
    let mut candidates = certs("leaf-revoked.pem");
    candidates.extend(certs("int-ca.pem"));
    candidates.extend(certs("untrusted-root.pem"));
    let anchors = certs("root-ca.pem");
    let crls = vec![
        std::fs::read(data("int.crl")).unwrap(),
        std::fs::read(data("root.crl")).unwrap(),
    ];
    let ocsp = vec![std::fs::read(data("ocsp-revoked.der")).unwrap()];
    let sources = RevocationSources {
        crls: &crls,
        ocsp: &ocsp,
    };
    assert!(source_problems(&sources).is_empty());

    // signed (per a timestamp) before the revocation on 2025-06-01
    let signing_time = datetime!(2025-03-01 12:00 UTC);
    let outcome = build_and_validate(&PathInput {
        leaf: &leaf,
        candidates: &candidates,
        anchors: &anchors,
        at: signing_time,
    });
    assert_eq!(outcome.status, PathStatus::Valid);
    assert_eq!(outcome.path.len(), 3);
    let revocation = check_path_revocation(&outcome.path, &sources, signing_time, &candidates);
    assert!(matches!(
        revocation[0].finding,
        RevocationFinding::RevokedAfter { .. }
    ));
    assert!(matches!(
        revocation[1].finding,
        RevocationFinding::Good { .. }
    ));

    // validated now: revoked
    let now = datetime!(2026-06-01 00:00 UTC);
    let revocation = check_path_revocation(&outcome.path, &sources, now, &candidates);
    assert!(matches!(
        revocation[0].finding,
        RevocationFinding::Revoked { .. }
    ));
    // the same path re-checked at another time without rebuilding
    assert!(time_problems(&outcome.path, now).is_empty());
    assert_eq!(
        time_problems(&outcome.path, datetime!(2045-06-01 00:00 UTC)).len(),
        3
    );
}

#[test]
fn shared_lab_pki_when_present() {
    let dir = Path::new("/work/shared/corpus/pki");
    if !dir.join("chain.pem").exists() {
        eprintln!("SKIPPED: {} is absent", dir.display());
        return;
    }
    let read = |name: &str| std::fs::read(dir.join(name)).unwrap();
    let anchors = parse_pem_certificates(&read("root-ca.pem")).unwrap();
    let chain = parse_pem_certificates(&read("chain.pem")).unwrap();
    let tsa = parse_pem_certificates(&read("tsa.pem")).unwrap().remove(0);
    let now = time::OffsetDateTime::now_utc();
    let outcome = build_and_validate(&PathInput {
        leaf: &tsa,
        candidates: &chain,
        anchors: &anchors,
        at: now,
    });
    assert_eq!(outcome.status, PathStatus::Valid, "{outcome:?}");
    assert_eq!(outcome.path.len(), 3);
    assert!(formats::x509::has_eku(
        &tsa,
        formats::oids::KP_TIME_STAMPING
    ));
    assert_eq!(formats::x509::eku_critical(&tsa), Some(true));

    let crls = vec![read("crl/int.crl"), read("crl/root.crl")];
    let sources = RevocationSources {
        crls: &crls,
        ocsp: &[],
    };
    for r in check_path_revocation(&outcome.path, &sources, now, &chain) {
        assert!(
            matches!(r.finding, RevocationFinding::Good { .. }),
            "{}: {:?}",
            r.subject,
            r.finding
        );
    }
    // the lab's untrusted hierarchy is not anchored in our test root
    let ours = certs("root-ca.pem");
    let outcome = build_and_validate(&PathInput {
        leaf: &tsa,
        candidates: &chain,
        anchors: &ours,
        at: now,
    });
    assert_eq!(outcome.status, PathStatus::NoChainFound);
}
