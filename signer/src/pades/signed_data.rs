//! The CMS side of a PAdES signature (ETSI EN 319 142-1 §5.1, EN 319 122-1, RFC 5652):
//! the signed attributes the device signs, and the detached `SignedData` built around the
//! signature value it returns.
//!
//! The outer structures are laid out by hand from DER pieces so that the certificates go
//! into the `SignedData` byte for byte as given (a decode/re-encode round trip would change
//! certificates from producers that did not encode strictly) and the signed attributes are
//! exactly the bytes the device signed.

use cms::cert::IssuerAndSerialNumber;
use der::asn1::{Any, SetOfVec};
use der::{Decode, Encode};
use formats::cms::attr::{content_type_attribute, message_digest_attribute, signed_attributes_der};
use formats::cms::ess::signing_certificate_v2_attribute;
use formats::crypto::{DigestAlgorithm, KeyKind};
use formats::oids;
use spki::AlgorithmIdentifierOwned;
use x509_cert::attr::Attribute;
use x509_cert::Certificate;

use super::options::SignatureAlgorithm;
use super::PadesError;

/// DER of RSASSA-PSS-params: SHA-256, MGF1 with SHA-256, salt length 32, trailer field 1
/// (RFC 8017 A.2.3; RFC 4055 §3.1 with the hash and MGF1 digest named explicitly).
const PSS_SHA256_PARAMS: [u8; 54] = [
    0x30, 0x34, // RSASSA-PSS-params
    0xa0, 0x0f, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01, 0x05,
    0x00, // [0] hashAlgorithm sha256
    0xa1, 0x1c, 0x30, 0x1a, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x08, 0x30,
    0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01, 0x05,
    0x00, // [1] maskGenAlgorithm mgf1(sha256)
    0xa2, 0x03, 0x02, 0x01, 0x20, // [2] saltLength 32
];

/// The certificate chain, signer first, decoded and as given.
#[derive(Debug)]
pub(crate) struct Chain {
    pub(crate) signer: Certificate,
    pub(crate) ders: Vec<Vec<u8>>,
}

impl Chain {
    pub(crate) fn parse(chain: &[Vec<u8>]) -> Result<Self, PadesError> {
        let mut decoded = Vec::with_capacity(chain.len());
        for (index, der) in chain.iter().enumerate() {
            decoded.push(
                Certificate::from_der(der)
                    .map_err(|source| PadesError::BadCertificate { index, source })?,
            );
        }
        let signer = decoded.into_iter().next().ok_or(PadesError::EmptyChain)?;
        Ok(Self {
            signer,
            ders: chain.to_vec(),
        })
    }

    pub(crate) fn signer_der(&self) -> &[u8] {
        // `parse` refuses an empty chain
        self.ders.first().map(Vec::as_slice).unwrap_or_default()
    }

    pub(crate) fn key_kind(&self) -> Result<KeyKind, PadesError> {
        formats::crypto::key_kind(&self.signer.tbs_certificate.subject_public_key_info).map_err(
            |e| PadesError::UnsupportedKey {
                reason: e.to_string(),
            },
        )
    }

    /// The subject's common name, for the appearance.
    pub(crate) fn common_name(&self) -> Option<String> {
        let cn = const_oid::db::rfc4519::CN;
        for rdn in self.signer.tbs_certificate.subject.0.iter().rev() {
            for atv in rdn.0.iter() {
                if atv.oid != cn {
                    continue;
                }
                if let Ok(s) = atv.value.decode_as::<der::asn1::Utf8StringRef<'_>>() {
                    return Some(s.as_str().to_string());
                }
                if let Ok(s) = atv.value.decode_as::<der::asn1::PrintableStringRef<'_>>() {
                    return Some(s.as_str().to_string());
                }
                if let Ok(s) = atv.value.decode_as::<der::asn1::Ia5StringRef<'_>>() {
                    return Some(s.as_str().to_string());
                }
            }
        }
        None
    }
}

/// The signature algorithm to announce for a key, unless the caller chose one.
pub(crate) fn default_algorithm(kind: KeyKind) -> SignatureAlgorithm {
    match kind {
        KeyKind::Rsa { .. } => SignatureAlgorithm::RsaPkcs1Sha256,
        KeyKind::EcP256 | KeyKind::EcP384 => SignatureAlgorithm::EcdsaSha256,
    }
}

/// Whether `alg` can be used with a key of `kind`.
pub(crate) fn fits(alg: SignatureAlgorithm, kind: KeyKind) -> bool {
    matches!(
        (alg, kind),
        (
            SignatureAlgorithm::EcdsaSha256,
            KeyKind::EcP256 | KeyKind::EcP384
        ) | (
            SignatureAlgorithm::RsaPkcs1Sha256 | SignatureAlgorithm::RsaPssSha256,
            KeyKind::Rsa { .. }
        )
    )
}

/// Largest DER signature value a key of `kind` produces.
pub(crate) fn max_signature_len(kind: KeyKind) -> usize {
    match kind {
        KeyKind::Rsa { bits } => bits.div_ceil(8),
        KeyKind::EcP256 => 72,
        KeyKind::EcP384 => 104,
    }
}

/// The `SignatureAlgorithmIdentifier` written in the SignerInfo.
pub(crate) fn algorithm_identifier(
    alg: SignatureAlgorithm,
) -> Result<AlgorithmIdentifierOwned, der::Error> {
    Ok(match alg {
        SignatureAlgorithm::EcdsaSha256 => AlgorithmIdentifierOwned {
            oid: oids::ECDSA_WITH_SHA256,
            parameters: None,
        },
        SignatureAlgorithm::RsaPkcs1Sha256 => AlgorithmIdentifierOwned {
            oid: oids::SHA256_WITH_RSA,
            parameters: Some(Any::null()),
        },
        SignatureAlgorithm::RsaPssSha256 => AlgorithmIdentifierOwned {
            oid: oids::RSASSA_PSS,
            parameters: Some(Any::from_der(&PSS_SHA256_PARAMS)?),
        },
    })
}

/// The PAdES signed attributes, DER `SET OF` (tag 0x31), in DER order: content-type
/// id-data, message-digest of the byte ranges, ESS signing-certificate-v2 naming the signer
/// certificate by SHA-256 with issuer and serial. No signing-time (EN 319 142-1 §5.2.1:
/// the time is `/M`).
pub fn signed_attributes(document_digest: &[u8], signer_der: &[u8]) -> Result<Vec<u8>, der::Error> {
    signed_attributes_der(&[
        content_type_attribute(oids::ID_DATA)?,
        message_digest_attribute(document_digest)?,
        signing_certificate_v2_attribute(signer_der, true)?,
    ])
}

/// A DER TLV with a one-byte tag.
pub(crate) fn tlv(tag: u8, content: &[u8]) -> Vec<u8> {
    let len = content.len();
    let mut out = Vec::with_capacity(len + 6);
    out.push(tag);
    if len < 0x80 {
        out.push(len as u8);
    } else {
        let bytes = len.to_be_bytes();
        let skip = bytes.iter().take_while(|&&b| b == 0).count();
        out.push(0x80 | (bytes.len() - skip) as u8);
        out.extend_from_slice(&bytes[skip..]);
    }
    out.extend_from_slice(content);
    out
}

/// Sorts DER encodings into `SET OF` order (X.690 §11.6).
fn der_set(mut items: Vec<Vec<u8>>) -> Vec<u8> {
    items.sort();
    items.dedup();
    tlv(0x31, &items.concat())
}

/// The DER `ContentInfo` of a detached `SignedData` with one `SignerInfo` (version 1,
/// issuerAndSerialNumber), SHA-256, the certificates of `chain`, and the time-stamp token
/// as the signature-time-stamp unsigned attribute when given.
pub(crate) fn assemble(
    signed_attrs: &[u8],
    algorithm: &AlgorithmIdentifierOwned,
    signature: &[u8],
    chain: &Chain,
    timestamp_token: Option<&[u8]>,
) -> Result<Vec<u8>, PadesError> {
    let digest_alg = DigestAlgorithm::Sha256.algorithm_identifier().to_der()?;
    let sid = IssuerAndSerialNumber {
        issuer: chain.signer.tbs_certificate.issuer.clone(),
        serial_number: chain.signer.tbs_certificate.serial_number.clone(),
    }
    .to_der()?;

    let mut signer_info = tlv(0x02, &[1]);
    signer_info.extend_from_slice(&sid);
    signer_info.extend_from_slice(&digest_alg);
    // [0] IMPLICIT SignedAttributes: the very bytes signed, retagged (RFC 5652 §5.4)
    let (&tag, rest) = signed_attrs
        .split_first()
        .ok_or_else(|| PadesError::CorruptState {
            what: "empty signed attributes".into(),
        })?;
    if tag != 0x31 {
        return Err(PadesError::CorruptState {
            what: "signed attributes are not a DER SET".into(),
        });
    }
    signer_info.push(0xa0);
    signer_info.extend_from_slice(rest);
    signer_info.extend_from_slice(&algorithm.to_der()?);
    signer_info.extend_from_slice(&tlv(0x04, signature));
    if let Some(token) = timestamp_token {
        let mut values = SetOfVec::new();
        values.insert(Any::from_der(token)?)?;
        let attr = Attribute {
            oid: oids::ID_AA_SIGNATURE_TIME_STAMP_TOKEN,
            values,
        };
        let set = der_set(vec![attr.to_der()?]);
        signer_info.push(0xa1);
        signer_info.extend_from_slice(set.get(1..).unwrap_or_default());
    }
    let signer_info = tlv(0x30, &signer_info);

    let mut signed_data = tlv(0x02, &[1]);
    signed_data.extend_from_slice(&der_set(vec![digest_alg]));
    signed_data.extend_from_slice(&tlv(0x30, &oids::ID_DATA.to_der()?));
    let certs = der_set(chain.ders.clone());
    signed_data.push(0xa0);
    signed_data.extend_from_slice(certs.get(1..).unwrap_or_default());
    signed_data.extend_from_slice(&tlv(0x31, &signer_info));
    let signed_data = tlv(0x30, &signed_data);

    let mut content_info = oids::ID_SIGNED_DATA.to_der()?;
    content_info.extend_from_slice(&tlv(0xa0, &signed_data));
    Ok(tlv(0x30, &content_info))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pss_parameters_are_what_the_verifier_reads() {
        let id = algorithm_identifier(SignatureAlgorithm::RsaPssSha256).unwrap();
        let scheme = formats::crypto::SignatureScheme::from_algorithm(&id, None).unwrap();
        assert_eq!(
            scheme,
            formats::crypto::SignatureScheme::RsaPss {
                digest: DigestAlgorithm::Sha256,
                salt_len: 32
            }
        );
    }

    #[test]
    fn long_lengths_are_encoded_in_long_form() {
        assert_eq!(tlv(0x04, &[0; 3])[..2], [0x04, 3]);
        let t = tlv(0x04, &vec![0; 300]);
        assert_eq!(t[..4], [0x04, 0x82, 0x01, 0x2c]);
        assert_eq!(t.len(), 304);
    }
}
