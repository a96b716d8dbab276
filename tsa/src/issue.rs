//! Issuing a time-stamp token: `TSTInfo` (RFC 3161 §2.4.2) inside a CMS `SignedData`
//! (RFC 5652) signed by the TSA key, with the signed attributes content-type (id-ct-TSTInfo),
//! signing-time, message-digest and signing-certificate-v2 (RFC 5816, ESSCertIDv2 with
//! issuerSerial).
//!
//! Everything that is the same in every token (certificates, the SignerInfo identifier,
//! algorithm identifiers, the constant attributes) is encoded once in [`TokenIssuer::new`];
//! a token costs one TSTInfo encoding, two hashes and one signature.

use std::time::SystemTime;

use const_oid::ObjectIdentifier;
use der::{
    asn1::{GeneralizedTime, Int, Uint},
    Encode,
};
use formats::{
    oids,
    pki::{issue::rfc5280_time, signing_certificate_v2, KeyAlgorithm, PkiError, SigningKey},
};
use spki::AlgorithmIdentifierOwned;
use x509_cert::{
    ext::pkix::{name::GeneralName, ExtendedKeyUsage, KeyUsage},
    Certificate,
};
use x509_tsp::{Accuracy, TspVersion, TstInfo};

use crate::{
    der_write::{push_header, set_of, tag, tlv},
    request::ValidRequest,
};

/// The TSA's key, its certificate and the certificates to send with it.
pub struct TsaIdentity {
    /// The signing key.
    pub key: SigningKey,
    /// The TSA certificate (extendedKeyUsage timeStamping, critical).
    pub certificate: Certificate,
    /// Further certificates to include when a request sets certReq (intermediates; not the
    /// trust anchor).
    pub chain: Vec<Certificate>,
}

impl std::fmt::Debug for TsaIdentity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TsaIdentity")
            .field(
                "subject",
                &self.certificate.tbs_certificate.subject.to_string(),
            )
            .field("chain", &self.chain.len())
            .finish_non_exhaustive()
    }
}

/// What a token says besides the request's data.
#[derive(Clone, Debug, Eq, PartialEq)]
pub struct IssuerOptions {
    /// The TSA policy of every token.
    pub policy: ObjectIdentifier,
    /// The accuracy of genTime (ETSI EN 319 422 §5.2.3 requires it).
    pub accuracy: Accuracy,
    /// Include `tsa` (the certificate subject as a directoryName) in TSTInfo.
    pub include_tsa_name: bool,
    /// Include the signing-time signed attribute (equal to genTime).
    pub include_signing_time: bool,
}

impl IssuerOptions {
    /// Our defaults: `policy`, accuracy 1 s (genTime is truncated to the second), TSA name and
    /// signing-time included.
    pub fn new(policy: ObjectIdentifier) -> Self {
        Self {
            policy,
            accuracy: Accuracy {
                seconds: Some(1),
                millis: None,
                micros: None,
            },
            include_tsa_name: true,
            include_signing_time: true,
        }
    }
}

/// Why a TSA identity is unusable.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum IdentityError {
    /// The certificate has no extendedKeyUsage extension.
    #[error("the TSA certificate has no extendedKeyUsage extension (RFC 3161 §2.3 requires timeStamping, critical)")]
    NoExtendedKeyUsage,
    /// The extendedKeyUsage is not exactly { id-kp-timeStamping }.
    #[error("the TSA certificate's extendedKeyUsage must be exactly timeStamping (RFC 3161 §2.3), found {found:?}")]
    WrongExtendedKeyUsage {
        /// The purposes found.
        found: Vec<ObjectIdentifier>,
    },
    /// The extendedKeyUsage extension is not critical.
    #[error("the TSA certificate's extendedKeyUsage must be critical (RFC 3161 §2.3)")]
    ExtendedKeyUsageNotCritical,
    /// keyUsage is present without digitalSignature or nonRepudiation.
    #[error("the TSA certificate's keyUsage allows neither digitalSignature nor nonRepudiation")]
    KeyUsage,
    /// The private key is not the certificate's key.
    #[error("the TSA private key does not match the public key of the TSA certificate")]
    KeyMismatch,
    /// A certificate extension could not be decoded or a structure encoded.
    #[error("TSA certificate: {0}")]
    Der(#[from] der::Error),
}

/// Why a token could not be issued (a system failure: the request was fine).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum IssueError {
    /// A field could not be encoded (e.g. genTime past 9999).
    #[error("encoding the token failed: {0}")]
    Der(#[from] der::Error),
    /// The key failed to sign.
    #[error("signing the token failed: {0}")]
    Pki(#[from] PkiError),
}

/// Issues tokens for one TSA identity under one policy.
pub struct TokenIssuer {
    key: SigningKey,
    certificate: Certificate,
    options: IssuerOptions,
    tsa_name: Option<GeneralName>,
    digest: Digest,
    // Pre-encoded parts.
    digest_algorithm: Vec<u8>,
    signature_algorithm: Vec<u8>,
    signer_identifier: Vec<u8>,
    attr_content_type: Vec<u8>,
    attr_signing_certificate: Vec<u8>,
    certificates: Vec<u8>,
}

impl std::fmt::Debug for TokenIssuer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenIssuer")
            .field("policy", &self.options.policy)
            .field("key", &self.key)
            .finish_non_exhaustive()
    }
}

#[derive(Clone, Copy, Debug)]
enum Digest {
    Sha256,
    Sha384,
}

impl Digest {
    fn hash(self, data: &[u8]) -> Vec<u8> {
        use sha2::Digest as _;
        match self {
            Self::Sha256 => sha2::Sha256::digest(data).to_vec(),
            Self::Sha384 => sha2::Sha384::digest(data).to_vec(),
        }
    }
}

const VERSION_1: [u8; 3] = [0x02, 0x01, 0x01];
const VERSION_3: [u8; 3] = [0x02, 0x01, 0x03];

impl TokenIssuer {
    /// Checks the identity (RFC 3161 §2.3 extendedKeyUsage, key matches certificate) and
    /// pre-encodes the constant parts of every token.
    ///
    /// # Errors
    /// An [`IdentityError`] naming the problem.
    pub fn new(identity: TsaIdentity, options: IssuerOptions) -> Result<Self, IdentityError> {
        let TsaIdentity {
            key,
            certificate,
            chain,
        } = identity;
        check_certificate(&certificate)?;
        if certificate.tbs_certificate.subject_public_key_info != *key.public_key_info() {
            return Err(IdentityError::KeyMismatch);
        }
        let digest = match key.algorithm() {
            KeyAlgorithm::EcdsaP384 => Digest::Sha384,
            _ => Digest::Sha256,
        };
        let certificate_der = certificate.to_der()?;
        let digest_algorithm = AlgorithmIdentifierOwned {
            oid: key.algorithm().digest_oid(),
            parameters: None,
        }
        .to_der()?;
        let signature_algorithm = key.signature_algorithm().to_der()?;
        let signer_identifier = cms::cert::IssuerAndSerialNumber {
            issuer: certificate.tbs_certificate.issuer.clone(),
            serial_number: certificate.tbs_certificate.serial_number.clone(),
        }
        .to_der()?;
        let attr_content_type = attribute(oids::ID_CONTENT_TYPE, &oids::ID_CT_TST_INFO.to_der()?)?;
        let signing_certificate = signing_certificate_v2(&certificate, &certificate_der)?;
        let attr_signing_certificate = attribute(
            oids::ID_AA_SIGNING_CERTIFICATE_V2,
            &signing_certificate.to_der()?,
        )?;
        let mut encoded = vec![certificate_der];
        for extra in &chain {
            encoded.push(extra.to_der()?);
        }
        let certificates = set_of(tag::CONTEXT_0, encoded.iter().map(Vec::as_slice).collect());
        let tsa_name = options
            .include_tsa_name
            .then(|| GeneralName::DirectoryName(certificate.tbs_certificate.subject.clone()));
        Ok(Self {
            key,
            certificate,
            options,
            tsa_name,
            digest,
            digest_algorithm,
            signature_algorithm,
            signer_identifier,
            attr_content_type,
            attr_signing_certificate,
            certificates,
        })
    }

    /// The policy of every token.
    pub fn policy(&self) -> ObjectIdentifier {
        self.options.policy
    }

    /// The TSA certificate.
    pub fn certificate(&self) -> &Certificate {
        &self.certificate
    }

    /// The DER `TSTInfo` for `request` with `serial` at `gen_time` (truncated to the second).
    ///
    /// # Errors
    /// [`IssueError::Der`] if a field cannot be encoded.
    pub fn tst_info(
        &self,
        request: &ValidRequest,
        serial: u64,
        gen_time: SystemTime,
    ) -> Result<Vec<u8>, IssueError> {
        let tst_info = TstInfo {
            version: TspVersion::V1,
            policy: self.options.policy,
            message_imprint: request.message_imprint.clone(),
            serial_number: Int::from(Uint::new(&serial.to_be_bytes())?),
            gen_time: GeneralizedTime::from_system_time(gen_time)?,
            accuracy: Some(self.options.accuracy.clone()),
            ordering: false,
            nonce: request.nonce.clone(),
            tsa: self.tsa_name.clone(),
            extensions: None,
        };
        Ok(tst_info.to_der()?)
    }

    /// Issues the token (a DER ContentInfo) for `request` with `serial` at `gen_time`.
    ///
    /// # Errors
    /// [`IssueError`] when encoding or signing fails.
    pub fn issue(
        &self,
        request: &ValidRequest,
        serial: u64,
        gen_time: SystemTime,
    ) -> Result<Vec<u8>, IssueError> {
        let tst_info = self.tst_info(request, serial, gen_time)?;
        self.sign_tst_info(&tst_info, request.cert_req, gen_time)
    }

    /// Wraps an encoded TSTInfo in a signed ContentInfo.
    fn sign_tst_info(
        &self,
        tst_info: &[u8],
        include_certificates: bool,
        gen_time: SystemTime,
    ) -> Result<Vec<u8>, IssueError> {
        let message_digest = tlv(tag::OCTET_STRING, &[&self.digest.hash(tst_info)]);
        let attr_message_digest = attribute(oids::ID_MESSAGE_DIGEST, &message_digest)?;
        let attr_signing_time = if self.options.include_signing_time {
            Some(attribute(
                oids::ID_SIGNING_TIME,
                &rfc5280_time(gen_time)?.to_der()?,
            )?)
        } else {
            None
        };
        let mut attrs: Vec<&[u8]> = vec![
            &self.attr_content_type,
            &attr_message_digest,
            &self.attr_signing_certificate,
        ];
        if let Some(st) = &attr_signing_time {
            attrs.push(st);
        }
        // Signed over the SET OF encoding (RFC 5652 §5.4), sent as [0] IMPLICIT.
        let mut signed_attrs = set_of(tag::SET, attrs);
        let signature = self.key.sign(&signed_attrs)?;
        if let Some(first) = signed_attrs.first_mut() {
            *first = tag::CONTEXT_0;
        }

        let signer_info = tlv(
            tag::SEQUENCE,
            &[
                &VERSION_1,
                &self.signer_identifier,
                &self.digest_algorithm,
                &signed_attrs,
                &self.signature_algorithm,
                &tlv(tag::OCTET_STRING, &[&signature]),
            ],
        );
        let econtent = tlv(tag::CONTEXT_0, &[&tlv(tag::OCTET_STRING, &[tst_info])]);
        let encap = tlv(tag::SEQUENCE, &[&ID_CT_TST_INFO_DER, &econtent]);
        let certificates: &[u8] = if include_certificates {
            &self.certificates
        } else {
            &[]
        };
        let signed_data = tlv(
            tag::SEQUENCE,
            &[
                &VERSION_3,
                &tlv(tag::SET, &[&self.digest_algorithm]),
                &encap,
                certificates,
                &tlv(tag::SET, &[&signer_info]),
            ],
        );
        let mut token = Vec::with_capacity(signed_data.len() + 24);
        let inner_len =
            ID_SIGNED_DATA_DER.len() + header_len(signed_data.len()) + signed_data.len();
        push_header(&mut token, tag::SEQUENCE, inner_len);
        token.extend_from_slice(&ID_SIGNED_DATA_DER);
        push_header(&mut token, tag::CONTEXT_0, signed_data.len());
        token.extend_from_slice(&signed_data);
        Ok(token)
    }
}

/// DER of OBJECT IDENTIFIER id-signedData (1.2.840.113549.1.7.2).
const ID_SIGNED_DATA_DER: [u8; 11] = [
    0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x07, 0x02,
];
/// DER of OBJECT IDENTIFIER id-ct-TSTInfo (1.2.840.113549.1.9.16.1.4).
const ID_CT_TST_INFO_DER: [u8; 13] = [
    0x06, 0x0b, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x09, 0x10, 0x01, 0x04,
];

/// The length of a tag + length header for `len` content bytes.
fn header_len(len: usize) -> usize {
    if len < 0x80 {
        2
    } else {
        let significant = (usize::BITS - len.leading_zeros()).div_ceil(8) as usize;
        2 + significant
    }
}

/// `Attribute ::= SEQUENCE { attrType OID, attrValues SET OF AttributeValue }` with one value.
fn attribute(oid: ObjectIdentifier, value_der: &[u8]) -> der::Result<Vec<u8>> {
    let oid_der = oid.to_der()?;
    Ok(tlv(
        tag::SEQUENCE,
        &[&oid_der, &tlv(tag::SET, &[value_der])],
    ))
}

/// RFC 3161 §2.3: exactly one extendedKeyUsage, critical, with only id-kp-timeStamping;
/// keyUsage (if present) allows digitalSignature or nonRepudiation.
pub(crate) fn check_certificate(certificate: &Certificate) -> Result<(), IdentityError> {
    let mut eku_seen = false;
    for ext in certificate.tbs_certificate.extensions.iter().flatten() {
        if ext.extn_id == const_oid::db::rfc5280::ID_CE_EXT_KEY_USAGE {
            let eku: ExtendedKeyUsage = der::Decode::from_der(ext.extn_value.as_bytes())?;
            if eku.0 != [oids::KP_TIME_STAMPING] {
                return Err(IdentityError::WrongExtendedKeyUsage { found: eku.0 });
            }
            if !ext.critical {
                return Err(IdentityError::ExtendedKeyUsageNotCritical);
            }
            eku_seen = true;
        } else if ext.extn_id == const_oid::db::rfc5280::ID_CE_KEY_USAGE {
            let ku: KeyUsage = der::Decode::from_der(ext.extn_value.as_bytes())?;
            if !ku.digital_signature() && !ku.non_repudiation() {
                return Err(IdentityError::KeyUsage);
            }
        }
    }
    if eku_seen {
        Ok(())
    } else {
        Err(IdentityError::NoExtendedKeyUsage)
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use cms::{content_info::ContentInfo, signed_data::SignedData};
    use der::{Decode, Encode};

    use super::*;
    use crate::{
        dev_chain,
        request::{encode_request, parse_request, ImprintAlgorithm, PolicySet},
    };

    const POLICY: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.6.1.4.1.99999.1.1");

    fn issuer() -> TokenIssuer {
        let chain = dev_chain::generate().unwrap();
        TokenIssuer::new(chain.identity, IssuerOptions::new(POLICY)).unwrap()
    }

    fn request(cert_req: bool) -> ValidRequest {
        let nonce = Int::new(&[0x01, 0x23, 0x45, 0x67, 0x89]).unwrap();
        let der = encode_request(
            ImprintAlgorithm::Sha256,
            &ImprintAlgorithm::Sha256.digest(b"data"),
            Some(nonce),
            None,
            cert_req,
        )
        .unwrap();
        parse_request(&der, &PolicySet { policy: POLICY }).unwrap()
    }

    #[test]
    fn token_is_der_and_carries_the_request() {
        let issuer = issuer();
        let at = SystemTime::UNIX_EPOCH + Duration::from_secs(1_800_000_000);
        for cert_req in [false, true] {
            let req = request(cert_req);
            let token = issuer.issue(&req, 0x80_0000_0001, at).unwrap();
            // Decodes with the cms crate and re-encodes byte for byte: valid DER.
            let ci = ContentInfo::from_der(&token).unwrap();
            assert_eq!(ci.to_der().unwrap(), token);
            assert_eq!(ci.content_type, oids::ID_SIGNED_DATA);
            let sd: SignedData = ci.content.decode_as().unwrap();
            assert_eq!(sd.certificates.is_some(), cert_req);
            assert_eq!(sd.encap_content_info.econtent_type, oids::ID_CT_TST_INFO);
            let econtent = sd.encap_content_info.econtent.unwrap();
            let tst = TstInfo::from_der(econtent.value()).unwrap();
            assert_eq!(tst.policy, POLICY);
            assert_eq!(tst.message_imprint, req.message_imprint);
            assert_eq!(tst.nonce, req.nonce);
            assert_eq!(tst.serial_number.as_bytes(), [0x00, 0x80, 0, 0, 0, 1]);
            assert_eq!(tst.gen_time.to_unix_duration().as_secs(), 1_800_000_000);
            assert_eq!(tst.accuracy.unwrap().seconds, Some(1));
            assert!(!tst.ordering);

            let si = sd.signer_infos.0.get(0).unwrap();
            let attrs = si.signed_attrs.as_ref().unwrap();
            let types: Vec<_> = attrs.iter().map(|a| a.oid).collect();
            for oid in [
                oids::ID_CONTENT_TYPE,
                oids::ID_MESSAGE_DIGEST,
                oids::ID_AA_SIGNING_CERTIFICATE_V2,
                oids::ID_SIGNING_TIME,
            ] {
                assert!(types.contains(&oid), "{oid} missing");
            }
            // The signature verifies over the SET OF encoding of the signed attributes.
            let mut signed = attrs.to_der().unwrap();
            signed[0] = 0x31;
            let spki = &issuer.certificate().tbs_certificate.subject_public_key_info;
            ring::signature::UnparsedPublicKey::new(
                &ring::signature::ECDSA_P256_SHA256_ASN1,
                spki.subject_public_key.raw_bytes(),
            )
            .verify(&signed, si.signature.as_bytes())
            .unwrap();
            // message-digest is SHA-256 of the TSTInfo.
            let md = attrs
                .iter()
                .find(|a| a.oid == oids::ID_MESSAGE_DIGEST)
                .unwrap();
            let md_value = md.values.get(0).unwrap().value();
            assert_eq!(md_value, ImprintAlgorithm::Sha256.digest(econtent.value()));
            // signing-certificate-v2 names the TSA certificate.
            let scv2 = attrs
                .iter()
                .find(|a| a.oid == oids::ID_AA_SIGNING_CERTIFICATE_V2)
                .unwrap();
            let scv2: formats::cms::ess::SigningCertificateV2 =
                scv2.values.get(0).unwrap().decode_as().unwrap();
            assert_eq!(
                formats::cms::ess::check_signing_certificate(
                    Ok(Some(scv2)),
                    Ok(None),
                    issuer.certificate()
                ),
                formats::cms::EssCheck::Match { v2: true }
            );
        }
    }

    #[test]
    fn certificate_without_critical_eku_is_refused() {
        let chain = dev_chain::generate().unwrap();
        let mut cert = chain.identity.certificate.clone();
        for ext in cert.tbs_certificate.extensions.iter_mut().flatten() {
            if ext.extn_id == const_oid::db::rfc5280::ID_CE_EXT_KEY_USAGE {
                ext.critical = false;
            }
        }
        assert!(matches!(
            check_certificate(&cert),
            Err(IdentityError::ExtendedKeyUsageNotCritical)
        ));
        assert!(matches!(
            check_certificate(&chain.root),
            Err(IdentityError::KeyUsage)
        ));
        let mut no_eku = chain.identity.certificate.clone();
        if let Some(exts) = no_eku.tbs_certificate.extensions.as_mut() {
            exts.retain(|e| e.extn_id != const_oid::db::rfc5280::ID_CE_EXT_KEY_USAGE);
        }
        assert!(matches!(
            check_certificate(&no_eku),
            Err(IdentityError::NoExtendedKeyUsage)
        ));
    }

    #[test]
    fn key_must_match_certificate() {
        let a = dev_chain::generate().unwrap();
        let b = dev_chain::generate().unwrap();
        let mixed = TsaIdentity {
            key: b.identity.key,
            certificate: a.identity.certificate,
            chain: vec![],
        };
        assert!(matches!(
            TokenIssuer::new(mixed, IssuerOptions::new(POLICY)),
            Err(IdentityError::KeyMismatch)
        ));
    }

    #[test]
    fn header_len_matches() {
        assert_eq!(header_len(5), 2);
        assert_eq!(header_len(200), 3);
        assert_eq!(header_len(70_000), 5);
    }
}
