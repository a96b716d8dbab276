//! RFC 3161 time-stamp token parsing on arbitrary bytes.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(t) = formats::tsp::parse_timestamp_token(data) {
        let _ = t.gen_time();
        let _ = t.check_imprint(b"data");
        if let Some(c) = t.cms.certificates.first() {
            let _ = t.verify_signature(c);
        }
    }
});
