//! The whole verifier on arbitrary bytes: signature discovery, byte ranges, CMS, diff analysis.
#![no_main]
use formats::pdf::PdfReader;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(r) = PdfReader::open(data.to_vec()) else { return };
    let _ = verifier::verify_reader(&r, "fuzz.pdf", &verifier::Options::default());
});
