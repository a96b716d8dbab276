//! CMS SignedData parsing (BER and DER) and signer inspection on arbitrary bytes.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(cms) = formats::cms::parse_signed_cms(data) {
        for s in &cms.signers {
            let _ = s.message_digest();
            let _ = s.signing_time();
            let _ = s.signing_certificate_v2();
            let _ = s.signature_time_stamp_tokens();
            if let Some(c) = cms.certificates.first() {
                let _ = s.verify(c, Some(&[0u8; 32]));
            }
        }
    }
});
