//! CMS `SignedData` (RFC 5652) read from any producer, and the generic checks on each
//! `SignerInfo`: message digest, signature, content type, ESS signing certificate,
//! algorithm protection.
//!
//! This module knows nothing about PDF: the caller hashes whatever the signature covers
//! (a PDF's byte ranges, a TSTInfo, an XML document) and hands the digest in. The same
//! code checks PAdES / `adbe.pkcs7.detached` signatures, document time-stamps and the
//! TSA's replies (see [`crate::tsp`]).
//!
//! Robustness, in order of the traps met in real files:
//! * BER (indefinite lengths, constructed OCTET STRINGs from OpenSSL `-stream` and Adobe)
//!   is normalised to DER before the typed decoders of the `cms` crate see it.
//! * The signed attributes are kept exactly as they appear in the file
//!   ([`SignerView::signed_attrs_raw`]): the signature is over those bytes
//!   (RFC 5652 §5.4), and decoding re-sorts `SET OF`, which would break signatures from
//!   producers that did not sort them.
//! * Trailing zero bytes (a PDF `/Contents` placeholder is zero-padded) are ignored;
//!   anything else after the `ContentInfo` is an error.
//! * Certificates that do not decode, duplicate certificates, attribute certificates and
//!   unknown revocation formats are skipped with a note ([`SignedCms::notes`]) rather
//!   than failing the whole signature.

pub mod adbe;
pub mod algorithm_protection;
pub mod attr;
pub(crate) mod ber;
pub mod ess;
mod signer;

use cms::cert::CertificateChoices;
use cms::content_info::CmsVersion;
use cms::revocation::{RevocationInfoChoice, RevocationInfoChoices};
use cms::signed_data::{
    CertificateSet, EncapsulatedContentInfo, SignedData, SignerIdentifier, SignerInfo, SignerInfos,
};
use const_oid::ObjectIdentifier;
use der::asn1::{OctetString, SetOfVec};
use der::{Decode, DecodeOwned, Encode, Tagged};
use spki::AlgorithmIdentifierOwned;
use x509_cert::crl::CertificateList;
use x509_cert::Certificate;

use crate::crypto::{DigestAlgorithm, SignatureError};
use crate::oids;

pub use attr::AttributeError;
pub use ber::BerError;
pub use ess::EssCheck;
pub use signer::{
    AlgorithmProtectionCheck, ContentTypeCheck, MdCheck, SignatureCheckError, SignerCheck,
    SignerView,
};

/// Why bytes could not be read as a CMS `ContentInfo` holding `SignedData`.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CmsError {
    /// No bytes at all (or only zero padding).
    #[error("empty input: no CMS structure")]
    Empty,
    /// The bytes are not well-formed BER.
    #[error("malformed ASN.1: {0}")]
    Ber(#[from] BerError),
    /// Non-zero bytes follow the `ContentInfo`.
    #[error("{len} bytes of trailing data after the CMS structure, the first non-zero at offset {offset}")]
    TrailingData {
        /// Offset of the first non-zero byte after the structure.
        offset: usize,
        /// Number of bytes after the structure.
        len: usize,
    },
    /// The `ContentInfo` holds something other than `SignedData`.
    #[error("CMS content type is {content_type}, not signedData (1.2.840.113549.1.7.2)")]
    NotSignedData {
        /// Dotted OID found.
        content_type: String,
    },
    /// A mandatory element is missing or has the wrong tag.
    #[error("malformed CMS: {what} missing or of the wrong type")]
    Structure {
        /// Which element.
        what: &'static str,
    },
    /// An element has the right shape but does not decode.
    #[error("malformed CMS {what}: {source}")]
    Decode {
        /// Which element.
        what: &'static str,
        /// The decoder's complaint.
        source: der::Error,
    },
    /// A `SignerInfo` does not decode.
    #[error("malformed SignerInfo #{index}: {source}")]
    SignerInfo {
        /// Position of the SignerInfo in the file (0-based).
        index: usize,
        /// The decoder's complaint.
        source: der::Error,
    },
}

/// Where a piece of revocation information was found.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
pub enum RevocationSource {
    /// The Adobe `revocationInfoArchival` signed attribute of the signer at this index
    /// (ISO 32000-1 §12.8.3.3.2): revocation data the signer vouched for at signing time.
    AdbeRevocationInfoArchival {
        /// Index into [`SignedCms::signers`].
        signer: usize,
    },
    /// `SignedData.crls` (`RevocationInfoChoices`, RFC 5652 §10.2.1; OCSP per RFC 5940).
    SignedData,
}

/// A value together with where it came from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Sourced<T> {
    /// Where the value was found.
    pub source: RevocationSource,
    /// The value.
    pub value: T,
}

/// An OCSP response carried in the CMS, as DER.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OcspResponseEntry {
    /// Where it was found.
    pub source: RevocationSource,
    /// DER of an `OCSPResponse` (RFC 6960 §4.2.1) or, from producers that store the inner
    /// structure, a `BasicOCSPResponse`; see [`OcspResponseEntry::basic_response_der`].
    pub der: Vec<u8>,
}

impl OcspResponseEntry {
    /// Whether [`Self::der`] is a full `OCSPResponse` (its first field is the
    /// `responseStatus` ENUMERATED) rather than a bare `BasicOCSPResponse`.
    pub fn is_full_response(&self) -> bool {
        ber::parse(&self.der)
            .ok()
            .and_then(|n| n.child(0).map(|c| c.tag.number == 10 && !c.tag.constructed))
            .unwrap_or(false)
    }

    /// DER of the `BasicOCSPResponse`: unwrapped from `responseBytes` when the entry is a
    /// full, successful `OCSPResponse` of type id-pkix-ocsp-basic, or the entry itself.
    /// `None` when there is none (unsuccessful status, other response type, bad DER).
    pub fn basic_response_der(&self) -> Option<Vec<u8>> {
        if !self.is_full_response() {
            return Some(self.der.clone());
        }
        let resp = x509_ocsp::OcspResponse::from_der(&self.der).ok()?;
        let bytes = resp.response_bytes?;
        (bytes.response_type == oids::OCSP_BASIC).then(|| bytes.response.as_bytes().to_vec())
    }
}

/// A parsed CMS `SignedData`, with everything a verifier needs to look at.
#[derive(Clone, Debug)]
pub struct SignedCms {
    /// The `SignedData`, decoded from DER-normalised bytes. Its `SET OF`s are in DER
    /// order; the certificate and CRL sets hold only what decoded (see [`Self::notes`]);
    /// OCSP and other `RevocationInfoChoice`s are not in it (the `cms` crate models
    /// `OtherRevocationInfoFormat` wrongly) but in [`Self::ocsp_responses`].
    /// Prefer [`Self::signers`] to its `signer_infos`.
    pub signed_data: SignedData,
    /// `SignedData.certificates` that are X.509 certificates, in file order, duplicates
    /// dropped.
    pub certificates: Vec<Certificate>,
    /// CRLs from `SignedData.crls` and from signers' `revocationInfoArchival` attributes.
    pub crls: Vec<Sourced<CertificateList>>,
    /// OCSP responses from `SignedData.crls` (`id-ri-ocsp-response`, RFC 5940) and from
    /// signers' `revocationInfoArchival` attributes.
    pub ocsp_responses: Vec<OcspResponseEntry>,
    /// One view per `SignerInfo`, in file order.
    pub signers: Vec<SignerView>,
    /// `encapContentInfo.eContentType` (id-data for PDF signatures, id-ct-TSTInfo for
    /// time-stamp tokens).
    pub content_type: ObjectIdentifier,
    /// `encapContentInfo.eContent` octets; `None` for a detached signature.
    pub content: Option<Vec<u8>>,
    /// True when the input was BER rather than DER (and was normalised).
    pub was_ber: bool,
    /// Things skipped or tolerated while reading, for a verifier's report.
    pub notes: Vec<String>,
}

/// Parses a `ContentInfo` holding `SignedData` (RFC 5652 §3, §5.1), BER or DER, with
/// optional trailing zero padding.
pub fn parse_signed_cms(bytes: &[u8]) -> Result<SignedCms, CmsError> {
    if bytes.iter().all(|&b| b == 0) {
        return Err(CmsError::Empty);
    }
    let root = ber::parse(bytes)?;
    let rest = bytes.get(root.end..).unwrap_or_default();
    if let Some(pos) = rest.iter().position(|&b| b != 0) {
        return Err(CmsError::TrailingData {
            offset: root.end + pos,
            len: rest.len(),
        });
    }
    let mut notes = Vec::new();
    let was_ber = !root.is_der();
    if was_ber {
        notes.push("the CMS is BER-encoded (indefinite lengths or constructed strings); it was normalised to DER for decoding".to_string());
    }

    let structure = |what| CmsError::Structure { what };
    expect_tag(&root, ber::Tag::SEQUENCE).ok_or(structure("ContentInfo SEQUENCE"))?;
    let ct_node = root
        .child(0)
        .filter(|n| n.tag == ber::Tag::OID)
        .ok_or(structure("ContentInfo contentType"))?;
    let content_type: ObjectIdentifier = decode(ct_node, bytes, "ContentInfo contentType")?;
    if content_type != oids::ID_SIGNED_DATA {
        return Err(CmsError::NotSignedData {
            content_type: content_type.to_string(),
        });
    }
    let sd = root
        .child(1)
        .filter(|n| n.tag == ber::Tag::context(0))
        .and_then(|n| n.child(0))
        .filter(|n| n.tag == ber::Tag::SEQUENCE)
        .ok_or(structure("SignedData"))?;

    let mut idx = 0;
    let version_node = sd
        .child(idx)
        .filter(|n| n.tag == ber::Tag::INTEGER)
        .ok_or(structure("SignedData version"))?;
    let version: CmsVersion = decode(version_node, bytes, "SignedData version")?;
    idx += 1;

    let algs_node = sd
        .child(idx)
        .filter(|n| n.tag == ber::Tag::SET)
        .ok_or(structure("SignedData digestAlgorithms"))?;
    let mut digest_algorithms = SetOfVec::<AlgorithmIdentifierOwned>::new();
    for n in &algs_node.children {
        let alg: AlgorithmIdentifierOwned = decode(n, bytes, "digestAlgorithm")?;
        if digest_algorithms.insert(alg).is_err() {
            notes.push("a digest algorithm is listed twice in SignedData.digestAlgorithms".into());
        }
    }
    idx += 1;

    let encap_node = sd
        .child(idx)
        .filter(|n| n.tag == ber::Tag::SEQUENCE)
        .ok_or(structure("SignedData encapContentInfo"))?;
    let encap_content_info: EncapsulatedContentInfo =
        decode(encap_node, bytes, "encapContentInfo")?;
    let content = match &encap_content_info.econtent {
        None => None,
        Some(any) if any.tag() == der::Tag::OctetString => Some(any.value().to_vec()),
        Some(any) => {
            // PKCS #7 v1.5 carried non-data content without the OCTET STRING wrapper.
            notes.push("eContent is not an OCTET STRING (PKCS #7 v1.5 style); its DER encoding is used as the content".into());
            Some(any.to_der().map_err(|source| CmsError::Decode {
                what: "eContent",
                source,
            })?)
        }
    };
    idx += 1;

    let mut certificates = Vec::new();
    if let Some(certs_node) = sd.child(idx).filter(|n| n.tag == ber::Tag::context(0)) {
        let mut seen: Vec<Vec<u8>> = Vec::new();
        for (i, n) in certs_node.children.iter().enumerate() {
            if n.tag != ber::Tag::SEQUENCE {
                notes.push(format!(
                    "certificate #{i} is not an X.509 certificate (CertificateChoices [{}]); skipped",
                    n.tag.number
                ));
                continue;
            }
            let der_bytes = n.to_der(bytes);
            if seen.contains(&der_bytes) {
                notes.push(format!("certificate #{i} is a duplicate; skipped"));
                continue;
            }
            match Certificate::from_der(&der_bytes) {
                Ok(c) => {
                    certificates.push(c);
                    seen.push(der_bytes);
                }
                Err(e) => notes.push(format!("certificate #{i} does not decode ({e}); skipped")),
            }
        }
        idx += 1;
    }

    let mut crls = Vec::new();
    let mut ocsp_responses = Vec::new();
    if let Some(crls_node) = sd.child(idx).filter(|n| n.tag == ber::Tag::context(1)) {
        for (i, n) in crls_node.children.iter().enumerate() {
            if n.tag == ber::Tag::SEQUENCE {
                match CertificateList::from_der(&n.to_der(bytes)) {
                    Ok(value) => crls.push(Sourced {
                        source: RevocationSource::SignedData,
                        value,
                    }),
                    Err(e) => notes.push(format!("CRL #{i} does not decode ({e}); skipped")),
                }
            } else if n.tag == ber::Tag::context(1) {
                // OtherRevocationInfoFormat ::= SEQUENCE {
                //   otherRevInfoFormat OBJECT IDENTIFIER, otherRevInfo ANY }
                let format = n
                    .child(0)
                    .filter(|c| c.tag == ber::Tag::OID)
                    .and_then(|c| ObjectIdentifier::from_der(&c.to_der(bytes)).ok());
                match (format, n.child(1)) {
                    (Some(oids::ID_RI_OCSP_RESPONSE), Some(v)) => {
                        ocsp_responses.push(OcspResponseEntry {
                            source: RevocationSource::SignedData,
                            der: v.to_der(bytes),
                        })
                    }
                    (Some(other), _) => notes.push(format!(
                        "revocation info #{i} has unsupported format {other}; skipped"
                    )),
                    (None, _) => notes.push(format!(
                        "revocation info #{i} is a malformed OtherRevocationInfoFormat; skipped"
                    )),
                }
            } else {
                notes.push(format!(
                    "revocation info #{i} has an unexpected tag; skipped"
                ));
            }
        }
        idx += 1;
    }

    let signers_node = sd
        .child(idx)
        .filter(|n| n.tag == ber::Tag::SET)
        .ok_or(structure("SignedData signerInfos"))?;
    if sd.children.len() > idx + 1 {
        notes.push("SignedData has elements after signerInfos; ignored".into());
    }
    let mut signers = Vec::new();
    for (index, n) in signers_node.children.iter().enumerate() {
        let signer_info = match SignerInfo::from_der(&n.to_der(bytes)) {
            Ok(si) => si,
            Err(source) => {
                // Unsigned attributes are not covered by the signature: a malformed one
                // (e.g. a SET with duplicate values, which `der` refuses) must not hide
                // the signer. Retry without them.
                let retry = without_unsigned_attrs(n, bytes)
                    .and_then(|d| SignerInfo::from_der(&d).ok())
                    .ok_or(CmsError::SignerInfo { index, source })?;
                notes.push(format!(
                    "SignerInfo #{index}: unsigned attributes do not decode ({source}); ignored"
                ));
                retry
            }
        };
        signers.push(SignerView::from_node(
            index,
            signer_info,
            n,
            bytes,
            encap_content_info.econtent_type,
        ));
    }

    // Revocation data the signers archived in a signed attribute.
    for s in &signers {
        let source = RevocationSource::AdbeRevocationInfoArchival { signer: s.index };
        match s.revocation_info_archival() {
            Ok(None) => {}
            Ok(Some(archive)) => {
                for (i, any) in archive.crl.iter().flatten().enumerate() {
                    match any.to_der().and_then(|d| CertificateList::from_der(&d)) {
                        Ok(value) => crls.push(Sourced { source, value }),
                        Err(e) => notes.push(format!(
                            "signer #{}: archived CRL #{i} does not decode ({e}); skipped",
                            s.index
                        )),
                    }
                }
                for (i, any) in archive.ocsp.iter().flatten().enumerate() {
                    match any.to_der() {
                        Ok(der) => ocsp_responses.push(OcspResponseEntry { source, der }),
                        Err(e) => notes.push(format!(
                            "signer #{}: archived OCSP response #{i} does not encode ({e}); skipped",
                            s.index
                        )),
                    }
                }
            }
            Err(e) => notes.push(format!(
                "signer #{}: revocationInfoArchival attribute ignored: {e}",
                s.index
            )),
        }
    }

    let content_type = encap_content_info.econtent_type;
    let signed_data = SignedData {
        version,
        digest_algorithms,
        encap_content_info,
        certificates: cert_set(&certificates),
        crls: crl_set(&crls),
        signer_infos: signer_set(&signers, &mut notes),
    };
    Ok(SignedCms {
        signed_data,
        certificates,
        crls,
        ocsp_responses,
        signers,
        content_type,
        content,
        was_ber,
        notes,
    })
}

/// The DER of a SignerInfo without its trailing `unsignedAttrs [1]`, if it has them.
fn without_unsigned_attrs(signer: &ber::Node, input: &[u8]) -> Option<Vec<u8>> {
    let (last, rest) = signer.children.split_last()?;
    if last.tag != ber::Tag::context(1) || rest.len() < 5 {
        return None;
    }
    let content: Vec<u8> = rest.iter().flat_map(|c| c.to_der(input)).collect();
    Some(ber::wrap(0x30, &content))
}

fn expect_tag(node: &ber::Node, tag: ber::Tag) -> Option<()> {
    (node.tag == tag).then_some(())
}

fn decode<T: DecodeOwned>(
    node: &ber::Node,
    input: &[u8],
    what: &'static str,
) -> Result<T, CmsError> {
    T::from_der(&node.to_der(input)).map_err(|source| CmsError::Decode { what, source })
}

fn cert_set(certs: &[Certificate]) -> Option<CertificateSet> {
    let mut set = SetOfVec::new();
    for c in certs {
        // Duplicates were dropped already; a failure here only loses a copy.
        let _dup = set.insert(CertificateChoices::Certificate(c.clone()));
    }
    (!set.is_empty()).then_some(CertificateSet(set))
}

fn crl_set(crls: &[Sourced<CertificateList>]) -> Option<RevocationInfoChoices> {
    let mut set = SetOfVec::new();
    for c in crls
        .iter()
        .filter(|c| c.source == RevocationSource::SignedData)
    {
        // A duplicate CRL is harmless: keep one copy.
        let _dup = set.insert(RevocationInfoChoice::Crl(c.value.clone()));
    }
    (!set.is_empty()).then_some(RevocationInfoChoices(set))
}

fn signer_set(signers: &[SignerView], notes: &mut Vec<String>) -> SignerInfos {
    let mut set = SetOfVec::new();
    for s in signers {
        if set.insert(s.signer_info.clone()).is_err() {
            notes.push(format!("SignerInfo #{} is a duplicate", s.index));
        }
    }
    SignerInfos(set)
}

impl SignedCms {
    /// The signer's certificate: the first of the CMS certificates, then of `extra`,
    /// that matches the signer's `sid` (see [`sid_matches`]).
    pub fn find_signer_certificate(
        &self,
        signer: &SignerView,
        extra: &[Certificate],
    ) -> Option<Certificate> {
        self.certificates
            .iter()
            .chain(extra)
            .find(|c| sid_matches(signer.sid(), c))
            .cloned()
    }

    /// Digest of the encapsulated content under the signer's digest algorithm, for an
    /// attached signature (`Ok(None)` when detached: the caller hashes the content).
    pub fn content_digest(&self, signer: &SignerView) -> Result<Option<Vec<u8>>, SignatureError> {
        let alg = signer.digest_algorithm()?;
        Ok(self.content.as_ref().map(|c| alg.digest(c)))
    }
}

/// Whether `cert` is the one a `SignerIdentifier` names: by issuer and serial number, or
/// by subject key identifier — the certificate's extension or, when it has none, the
/// SHA-1 of its public key (RFC 5280 §4.2.1.2 method 1).
pub fn sid_matches(sid: &SignerIdentifier, cert: &Certificate) -> bool {
    match sid {
        SignerIdentifier::IssuerAndSerialNumber(ias) => {
            ias.serial_number.as_bytes() == cert.tbs_certificate.serial_number.as_bytes()
                && names_equal(&ias.issuer, &cert.tbs_certificate.issuer)
        }
        SignerIdentifier::SubjectKeyIdentifier(ski) => {
            subject_key_identifier(cert).as_deref() == Some(ski.0.as_bytes())
        }
    }
}

/// The certificate's subject key identifier: its extension, or the SHA-1 of the
/// subjectPublicKey BIT STRING contents (RFC 5280 §4.2.1.2 method 1) when absent.
pub fn subject_key_identifier(cert: &Certificate) -> Option<Vec<u8>> {
    let ext = cert
        .tbs_certificate
        .extensions
        .iter()
        .flatten()
        .find(|e| e.extn_id == oids::SUBJECT_KEY_IDENTIFIER);
    match ext {
        Some(e) => OctetString::from_der(e.extn_value.as_bytes())
            .ok()
            .map(|o| o.as_bytes().to_vec()),
        None => Some(
            DigestAlgorithm::Sha1.digest(
                cert.tbs_certificate
                    .subject_public_key_info
                    .subject_public_key
                    .raw_bytes(),
            ),
        ),
    }
}

/// Distinguished names compared by their DER encodings (RFC 5280 §7.1 asks for more
/// lenient matching; producers copy the issuer bytes from the certificate, so exact
/// comparison holds in practice).
pub(crate) fn names_equal(a: &x509_cert::name::Name, b: &x509_cert::name::Name) -> bool {
    match (a.to_der(), b.to_der()) {
        (Ok(x), Ok(y)) => x == y,
        _ => a == b,
    }
}

#[cfg(test)]
pub(crate) mod tests;
