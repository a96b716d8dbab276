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
