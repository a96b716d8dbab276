//! Serial numbers keep increasing and never repeat across restarts on one data directory;
//! every granted token is in the log.
#![allow(clippy::unwrap_used)] // helpers outside #[test] fns: a panic is a test failure

mod support;

use std::collections::HashSet;

use support::start;
use tsa::{
    request::{encode_request, ImprintAlgorithm},
    response::TimeStampResp,
    store::Store,
};

fn serial_of(reply: &[u8]) -> u64 {
    let resp = TimeStampResp::from_der_bytes(reply).unwrap();
    let token = resp.token_der().unwrap().unwrap();
    let token = formats::tsp::parse_timestamp_token(&token).unwrap();
    let bytes = token.serial_number();
    assert!(
        bytes.len() <= 9 && bytes.first().is_some_and(|b| b & 0x80 == 0),
        "positive"
    );
    bytes.iter().fold(0u64, |acc, b| (acc << 8) | u64::from(*b))
}

#[test]
fn serials_increase_across_restarts() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let mut serials = Vec::new();
    let mut root = None;
    for round in 0..3u8 {
        let server = start(&data);
        let this_root = std::fs::read(server.root_pem()).unwrap();
        // The development chain is made once and reused.
        assert_eq!(root.get_or_insert_with(|| this_root.clone()), &this_root);
        for i in 0..4u8 {
            let req = encode_request(
                ImprintAlgorithm::Sha256,
                &[round * 16 + i; 32],
                None,
                None,
                true,
            )
            .unwrap();
            let (status, reply) = server.query(req);
            assert_eq!(status, 200);
            serials.push(serial_of(&reply));
        }
        server.stop();
    }
    assert!(
        serials.windows(2).all(|w| w[0] < w[1]),
        "strictly increasing: {serials:?}"
    );
    let unique: HashSet<_> = serials.iter().collect();
    assert_eq!(unique.len(), serials.len());

    let log = Store::read_log(&data.join(tsa::config::STORE_FILE)).unwrap();
    let logged: Vec<u64> = log.iter().map(|t| t.serial).collect();
    assert_eq!(logged, serials, "every token is logged, in serial order");
    assert!(log
        .iter()
        .all(|t| t.policy == "1.3.6.1.4.1.99999.1.1" && t.algorithm == "sha256"));
    assert_eq!(log[5].imprint, vec![0x11; 32]);
    // Decoding helper sanity: the log's first imprint is the first request's.
    assert_eq!(log[0].imprint, vec![0; 32]);
}
