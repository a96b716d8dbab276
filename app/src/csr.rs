//! The PKCS#10 certification request (RFC 2986) for the signing key: the proof of
//! possession the CA checks before certifying the key.
//!
//! Built directly from `x509_cert::request` types and signed by the `ring`-held key (the
//! `x509_cert::builder` signer traits would need a RustCrypto private key).

use der::asn1::{BitString, SetOfVec};
use der::Encode;
use formats::pki::SigningKey;
use x509_cert::name::RdnSequence;
use x509_cert::request::{CertReq, CertReqInfo, Version};

use crate::AppError;

/// DER of a certification request for `key`, signed by it.
///
/// The subject is empty: the CA writes the subject from the identity it vouched for
/// (name, national number), never from what the phone asks.
///
/// # Errors
/// [`AppError::Key`] if encoding or signing fails.
pub fn certification_request(key: &SigningKey) -> Result<Vec<u8>, AppError> {
    let der_err = |e: der::Error| AppError::Key {
        what: "encoding the certification request",
        source: e.into(),
    };
    let info = CertReqInfo {
        version: Version::V1,
        subject: RdnSequence::default(),
        public_key: key.public_key_info().clone(),
        attributes: SetOfVec::new(),
    };
    let signature = key
        .sign(&info.to_der().map_err(der_err)?)
        .map_err(AppError::key("signing the certification request"))?;
    CertReq {
        info,
        algorithm: key.signature_algorithm(),
        signature: BitString::from_bytes(&signature).map_err(der_err)?,
    }
    .to_der()
    .map_err(der_err)
}

#[cfg(test)]
mod tests {
    use der::Decode;
    use formats::crypto::verify_signature;
    use formats::pki::KeyAlgorithm;

    use super::*;

    #[test]
    fn request_verifies_with_its_own_key() {
        let (key, _) = SigningKey::generate(KeyAlgorithm::EcdsaP256).unwrap();
        let der = certification_request(&key).unwrap();
        let req = CertReq::from_der(&der).unwrap();
        assert_eq!(&req.info.public_key, key.public_key_info());
        assert_eq!(req.algorithm.oid, formats::oids::ECDSA_WITH_SHA256);
        assert!(req.algorithm.parameters.is_none());
        let signed = req.info.to_der().unwrap();
        verify_signature(
            &req.info.public_key,
            &req.algorithm,
            None,
            &signed,
            req.signature.raw_bytes(),
        )
        .unwrap();

        // another key's request does not verify against this one
        let (other, _) = SigningKey::generate(KeyAlgorithm::EcdsaP256).unwrap();
        assert!(verify_signature(
            other.public_key_info(),
            &req.algorithm,
            None,
            &signed,
            req.signature.raw_bytes(),
        )
        .is_err());
    }
}
