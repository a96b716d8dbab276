//! Per-token cost of parse + issue + reply encoding on one core (no HTTP, no store).
#![allow(clippy::unwrap_used)]
use std::time::{Instant, SystemTime};
use tsa::{
    config::DEFAULT_POLICY,
    dev_chain,
    issue::{IssuerOptions, TokenIssuer},
    request::*,
};
fn main() {
    let chain = dev_chain::generate().unwrap();
    let issuer = TokenIssuer::new(chain.identity, IssuerOptions::new(DEFAULT_POLICY)).unwrap();
    let req = encode_request(
        ImprintAlgorithm::Sha256,
        &[7; 32],
        Some(der::asn1::Int::new(&[1, 2, 3, 4, 5, 6, 7, 8]).unwrap()),
        None,
        true,
    )
    .unwrap();
    let policies = PolicySet {
        policy: DEFAULT_POLICY,
    };
    let n = 20000;
    let t = Instant::now();
    for i in 0..n {
        let v = parse_request(&req, &policies).unwrap();
        let tok = issuer.issue(&v, i, SystemTime::now()).unwrap();
        std::hint::black_box(tsa::response::granted(&tok));
    }
    println!(
        "full: {:.1} us/token",
        t.elapsed().as_secs_f64() * 1e6 / n as f64
    );
    let t = Instant::now();
    let v = parse_request(&req, &policies).unwrap();
    for i in 0..n {
        std::hint::black_box(issuer.tst_info(&v, i, SystemTime::now()).unwrap());
    }
    println!(
        "tst_info: {:.2} us",
        t.elapsed().as_secs_f64() * 1e6 / n as f64
    );
    let t = Instant::now();
    for _ in 0..n {
        std::hint::black_box(parse_request(&req, &policies).unwrap());
    }
    println!(
        "parse: {:.2} us",
        t.elapsed().as_secs_f64() * 1e6 / n as f64
    );
    let (key, _) =
        formats::pki::SigningKey::generate(formats::pki::KeyAlgorithm::EcdsaP256).unwrap();
    let t = Instant::now();
    for _ in 0..n {
        std::hint::black_box(key.sign(&[5u8; 200]).unwrap());
    }
    println!(
        "ring sign: {:.2} us",
        t.elapsed().as_secs_f64() * 1e6 / n as f64
    );
}
