//! `openssl ts -query` → our server → `openssl ts -verify` and `openssl ts -reply -text`.
//! Skipped, with a line saying so, when `openssl` is not on PATH.
#![allow(clippy::unwrap_used)] // helpers outside #[test] fns: a panic is a test failure

mod support;

use std::fs;

use support::{openssl, run, start};

#[test]
fn openssl_query_reply_verify() {
    let Some(_) = openssl() else {
        println!("SKIPPED openssl_query_reply_verify: openssl is not on PATH");
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let server = start(&dir.path().join("data"));
    let data = dir.path().join("document.bin");
    fs::write(&data, b"a document to time-stamp\n").unwrap();

    for (hash, cert_req) in [
        ("sha256", true),
        ("sha384", true),
        ("sha512", true),
        ("sha256", false),
    ] {
        let query = dir.path().join(format!("{hash}-{cert_req}.tsq"));
        let reply = dir.path().join(format!("{hash}-{cert_req}.tsr"));
        let mut cmd = openssl().unwrap();
        cmd.args(["ts", "-query", "-data"])
            .arg(&data)
            .arg(format!("-{hash}"));
        if cert_req {
            cmd.arg("-cert");
        }
        cmd.arg("-out").arg(&query);
        run(cmd);

        let (status, body) = server.query(fs::read(&query).unwrap());
        assert_eq!(status, 200);
        fs::write(&reply, body).unwrap();

        // Against the data, and against the query (imprint and nonce).
        for (flag, input) in [("-data", &data), ("-queryfile", &query)] {
            let mut verify = openssl().unwrap();
            verify
                .args(["ts", "-verify", flag])
                .arg(input)
                .arg("-in")
                .arg(&reply)
                .arg("-CAfile")
                .arg(server.root_pem())
                .arg("-untrusted")
                .arg(server.tsa_pem());
            let out = run(verify);
            assert!(out.contains("Verification: OK"), "{hash} {flag}: {out}");
        }

        let mut text = openssl().unwrap();
        text.args(["ts", "-reply", "-text", "-in"]).arg(&reply);
        let text = run(text);
        assert!(text.contains("Status: Granted."), "{text}");
        assert!(text.contains("Policy OID: 1.3.6.1.4.1.99999.1.1"), "{text}");
        assert!(text.contains(&format!("Hash Algorithm: {hash}")), "{text}");
        assert!(text.contains("Accuracy: 0x01 seconds"), "{text}");
        assert!(text.contains("Ordering: no"), "{text}");
        let nonce_line = text
            .lines()
            .find(|l| l.starts_with("Nonce: 0x"))
            .unwrap_or_default();
        assert!(
            nonce_line.len() > "Nonce: 0x".len(),
            "nonce missing: {text}"
        );
        assert!(text.contains("TSA: DirName:"), "{text}");
    }

    // The nonce in the reply is the query's.
    let mut q = openssl().unwrap();
    q.args(["ts", "-query", "-text", "-in"])
        .arg(dir.path().join("sha256-true.tsq"));
    let q = run(q);
    let mut r = openssl().unwrap();
    r.args(["ts", "-reply", "-text", "-in"])
        .arg(dir.path().join("sha256-true.tsr"));
    let r = run(r);
    let nonce = |t: &str| {
        t.lines()
            .find(|l| l.starts_with("Nonce:"))
            .map(str::to_owned)
    };
    assert_eq!(nonce(&q), nonce(&r));
    server.stop();
}

#[test]
fn openssl_names_our_failure_infos() {
    let Some(_) = openssl() else {
        println!("SKIPPED openssl_names_our_failure_infos: openssl is not on PATH");
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let server = start(&dir.path().join("data"));
    let data = dir.path().join("d.bin");
    fs::write(&data, b"x").unwrap();
    let cases = [
        (
            vec!["-sha1"],
            "unrecognized or unsupported algorithm identifier",
        ),
        (
            vec!["-sha256", "-tspolicy", "1.2.3.4"],
            "the requested TSA policy is not supported by the TSA",
        ),
    ];
    for (i, (args, failure)) in cases.iter().enumerate() {
        let query = dir.path().join(format!("{i}.tsq"));
        let reply = dir.path().join(format!("{i}.tsr"));
        let mut cmd = openssl().unwrap();
        cmd.args(["ts", "-query", "-data"])
            .arg(&data)
            .args(args)
            .arg("-out")
            .arg(&query);
        run(cmd);
        let (status, body) = server.query(fs::read(&query).unwrap());
        assert_eq!(status, 200, "a refused request is not an HTTP error");
        fs::write(&reply, body).unwrap();
        let mut text = openssl().unwrap();
        text.args(["ts", "-reply", "-text", "-in"]).arg(&reply);
        let text = run(text);
        assert!(text.contains("Status: Rejected."), "{text}");
        assert!(text.contains(&format!("Failure info: {failure}")), "{text}");
    }
    server.stop();
}

#[test]
fn openssl_verifies_tokens_signed_with_a_configured_rsa_key() {
    use std::time::Duration;

    use formats::pki::{
        issue_certificate, CertificateTemplate, ExtendedKeyUsageSpec, IssuerRef, KeyAlgorithm,
        Profile, SigningKey,
    };
    use x509_cert::der::{pem::LineEnding, EncodePem};

    let Some(mut genpkey) = openssl() else {
        println!("SKIPPED openssl_verifies_tokens_signed_with_a_configured_rsa_key: openssl is not on PATH");
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let key_path = dir.path().join("rsa-key.pem");
    genpkey
        .args([
            "genpkey",
            "-algorithm",
            "RSA",
            "-pkeyopt",
            "rsa_keygen_bits:2048",
            "-out",
        ])
        .arg(&key_path);
    run(genpkey);
    let rsa = SigningKey::from_pkcs8_file_bytes(&fs::read(&key_path).unwrap()).unwrap();

    // A root (P-256) certifying the RSA TSA key, timeStamping critical.
    let (root_key, _) = SigningKey::generate(KeyAlgorithm::EcdsaP256).unwrap();
    let name = |s: &str| s.parse().unwrap();
    let root = issue_certificate(
        &CertificateTemplate::new(
            name("CN=RSA test root"),
            Profile::Ca { path_len: Some(0) },
            Duration::from_secs(86_400),
        ),
        root_key.public_key_info(),
        IssuerRef::SelfSigned(&root_key),
    )
    .unwrap();
    let mut template = CertificateTemplate::new(
        name("CN=RSA test TSA"),
        Profile::EndEntity,
        Duration::from_secs(86_400),
    );
    template.extended_key_usage = Some(ExtendedKeyUsageSpec {
        purposes: vec![formats::oids::KP_TIME_STAMPING],
        critical: true,
    });
    let cert = issue_certificate(
        &template,
        rsa.public_key_info(),
        IssuerRef::Ca {
            certificate: &root,
            key: &root_key,
        },
    )
    .unwrap();
    let root_path = dir.path().join("root.pem");
    let cert_path = dir.path().join("tsa.pem");
    fs::write(&root_path, root.to_pem(LineEnding::LF).unwrap()).unwrap();
    fs::write(&cert_path, cert.to_pem(LineEnding::LF).unwrap()).unwrap();

    let mut config =
        tsa::config::TsaConfig::new(([127, 0, 0, 1], 0).into(), dir.path().join("data"));
    config.key = Some(key_path);
    config.cert = Some(cert_path.clone());
    let server = support::start_with(config);
    assert!(
        !server.root_pem().exists(),
        "no development chain with a configured key"
    );

    let data = dir.path().join("doc.bin");
    fs::write(&data, b"rsa").unwrap();
    let query = dir.path().join("q.tsq");
    let reply = dir.path().join("r.tsr");
    let mut q = openssl().unwrap();
    q.args(["ts", "-query", "-data"])
        .arg(&data)
        .args(["-sha256", "-cert", "-out"])
        .arg(&query);
    run(q);
    let (status, body) = server.query(fs::read(&query).unwrap());
    assert_eq!(status, 200);
    fs::write(&reply, body).unwrap();
    let mut verify = openssl().unwrap();
    verify
        .args(["ts", "-verify", "-queryfile"])
        .arg(&query)
        .arg("-in")
        .arg(&reply)
        .arg("-CAfile")
        .arg(&root_path);
    assert!(run(verify).contains("Verification: OK"));
    server.stop();
}
