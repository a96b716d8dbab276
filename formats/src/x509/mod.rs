//! X.509 certificates for signature validation: reading, path building and validation
//! (RFC 5280 §6, simplified as documented in [`path`]), and revocation checking with CRLs
//! (RFC 5280 §5, §6.3) and OCSP responses (RFC 6960).
//!
//! Everything is judged at a caller-given validation time (`at`), never at the system clock:
//! the verifier validates at the signing time proven by a timestamp, or at "now".
//! Nothing here fetches anything from the network: the caller passes every certificate,
//! CRL and OCSP response it has (CMS `certificates`/`crls`, the PDF DSS, the
//! `adbe-revocationInfoArchival` attribute).
//!
//! * [`parse_pem_certificates`], [`parse_crl`], [`certificate_summary`]: reading.
//! * [`ext`]: typed readers for the certificate extensions a signature verifier needs,
//!   including ETSI EN 319 412-5 QCStatements ([`qc_statements`]).
//! * [`name_constraints`]: RFC 5280 name constraints for the usual name forms.
//! * [`path`]: [`build_and_validate`] finds a path from a signer's certificate to a trust
//!   anchor and reports a typed [`PathStatus`].
//! * [`revocation`]: [`check_revocation`] and [`check_path_revocation`] give a typed
//!   [`RevocationFinding`] per certificate from CRLs ([`crl`]) and OCSP responses ([`ocsp`]).
//!
//! Certificates are [`x509_cert::Certificate`] values: signatures are checked over the DER
//! re-encoding of `tbsCertificate`, which equals the original bytes for every certificate the
//! `der` crate accepts (it rejects non-canonical encodings). CRLs and OCSP responses are
//! taken as DER and their signatures are checked over the bytes as found.

use der::{Decode, Encode, Reader, SliceReader};
use sha2::Digest;
use time::OffsetDateTime;

pub use x509_cert::crl::CertificateList;
pub use x509_cert::Certificate;

pub mod crl;
pub mod ext;
pub mod name;
pub mod name_constraints;
pub mod ocsp;
pub mod path;
pub mod qc_statements;
pub mod revocation;

pub use ext::{
    eku_critical, has_eku, read_extensions, signer_key_usage_ok, CertExtensions, KeyUsageCheck,
};
pub use name::{common_name, name_to_string, names_match};
pub use name_constraints::NameConstraintReason;
pub use path::{
    build_and_validate, time_problems, validity_problem, LinkFailure, NotACaReason, PathInput,
    PathOutcome, PathStatus, TimeProblem, TimeProblemKind,
};
pub use revocation::{
    check_path_revocation, check_revocation, source_problems, CrlScope, OcspResponder,
    PathRevocation, RevocationFinding, RevocationSource, RevocationSources, SourceProblem,
    SourceRef, UnusableReason,
};

/// Why certificates, CRLs or extensions could not be read.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum X509Error {
    /// The input is neither DER nor PEM with the expected label.
    #[error("no {expected} found in the input (neither DER nor a PEM block)")]
    NotFound {
        /// What was looked for (`CERTIFICATE`, `X509 CRL`).
        expected: &'static str,
    },
    /// A PEM block could not be decoded.
    #[error("malformed PEM block {index}: {source}")]
    Pem {
        /// Zero-based index of the PEM block in the input.
        index: usize,
        /// The decoder's error (the PEM error, converted).
        #[source]
        source: der::Error,
    },
    /// DER decoding failed.
    #[error("malformed DER in item {index}: {source}")]
    Der {
        /// Zero-based index of the item (PEM block or concatenated DER value).
        index: usize,
        /// The decoder's error.
        #[source]
        source: der::Error,
    },
    /// A PEM block has an unexpected label (e.g. a private key where a certificate belongs).
    #[error("PEM block {index} is labelled {label:?}, expected {expected}")]
    UnexpectedPemLabel {
        /// Zero-based index of the PEM block.
        index: usize,
        /// The label found.
        label: String,
        /// The label expected.
        expected: &'static str,
    },
    /// A known extension could not be decoded.
    #[error("malformed extension {oid}: {source}")]
    BadExtension {
        /// The extension's OID.
        oid: const_oid::ObjectIdentifier,
        /// The decoder's error.
        #[source]
        source: der::Error,
    },
    /// An extension appears twice (RFC 5280 §4.2: "MUST NOT include more than one instance").
    #[error("extension {oid} appears more than once")]
    DuplicateExtension {
        /// The extension's OID.
        oid: const_oid::ObjectIdentifier,
    },
}

/// Most PEM blocks read from one input; bounds work on hostile input.
const MAX_PEM_BLOCKS: usize = 1000;

/// Reads certificates from PEM (any number of `CERTIFICATE` blocks; text around them is
/// ignored) or from DER (one certificate or several concatenated).
pub fn parse_pem_certificates(input: &[u8]) -> Result<Vec<Certificate>, X509Error> {
    read_items(input, "CERTIFICATE", &["CERTIFICATE", "X509 CERTIFICATE"])
}

/// Reads one CRL from DER or from a PEM `X509 CRL` block.
pub fn parse_crl(input: &[u8]) -> Result<CertificateList, X509Error> {
    let mut all: Vec<CertificateList> = read_items(input, "X509 CRL", &["X509 CRL"])?;
    // `read_items` returns at least one item or an error
    if all.len() == 1 {
        if let Some(crl) = all.pop() {
            return Ok(crl);
        }
    }
    Err(X509Error::NotFound {
        expected: "single X509 CRL",
    })
}

fn read_items<T: for<'a> Decode<'a>>(
    input: &[u8],
    expected: &'static str,
    labels: &[&str],
) -> Result<Vec<T>, X509Error> {
    let trimmed = trim_ascii_start(input);
    let blocks = pem_blocks(input);
    // DER starts with a SEQUENCE tag, which is also the character `0`: text wins only when
    // it holds PEM blocks
    if trimmed.first() == Some(&0x30) {
        match read_concatenated_der(trimmed) {
            Ok(items) => return Ok(items),
            Err(e) if blocks.is_empty() => return Err(e),
            Err(_) => {}
        }
    }
    let mut out = Vec::new();
    for (index, block) in blocks.into_iter().enumerate().take(MAX_PEM_BLOCKS) {
        let (label, der) = der::pem::decode_vec(block).map_err(|e| X509Error::Pem {
            index,
            source: e.into(),
        })?;
        if !labels.contains(&label) {
            // other blocks (keys, parameters) are skipped; only a file of nothing else fails
            continue;
        }
        let item = T::from_der(&der).map_err(|source| X509Error::Der { index, source })?;
        out.push(item);
    }
    if out.is_empty() {
        return Err(X509Error::NotFound { expected });
    }
    Ok(out)
}

fn read_concatenated_der<T: for<'a> Decode<'a>>(input: &[u8]) -> Result<Vec<T>, X509Error> {
    let mut reader =
        SliceReader::new(input).map_err(|source| X509Error::Der { index: 0, source })?;
    let mut out = Vec::new();
    while !reader.is_finished() && out.len() < MAX_PEM_BLOCKS {
        let index = out.len();
        // trailing whitespace after the last value (e.g. a newline) is tolerated
        if reader
            .peek_byte()
            .is_some_and(|b| b.is_ascii_whitespace() && index > 0)
        {
            break;
        }
        let item = T::decode(&mut reader).map_err(|source| X509Error::Der { index, source })?;
        out.push(item);
    }
    Ok(out)
}

fn trim_ascii_start(input: &[u8]) -> &[u8] {
    let start = input
        .iter()
        .position(|b| !b.is_ascii_whitespace())
        .unwrap_or(input.len());
    input.get(start..).unwrap_or_default()
}

/// Splits `input` into `-----BEGIN ...-----` .. `-----END ...-----` blocks.
fn pem_blocks(input: &[u8]) -> Vec<&[u8]> {
    const BEGIN: &[u8] = b"-----BEGIN ";
    const END: &[u8] = b"-----END ";
    const DASHES: &[u8] = b"-----";
    let mut blocks = Vec::new();
    let mut rest = input;
    while let Some(start) = find(rest, BEGIN) {
        let Some(from_begin) = rest.get(start..) else {
            break;
        };
        let Some(end) = find(from_begin, END) else {
            break;
        };
        let after_end = end + END.len();
        let Some(tail) = from_begin.get(after_end..) else {
            break;
        };
        let Some(close) = find(tail, DASHES) else {
            break;
        };
        let stop = after_end + close + DASHES.len();
        let Some(block) = from_begin.get(..stop) else {
            break;
        };
        blocks.push(block);
        rest = from_begin.get(stop..).unwrap_or_default();
    }
    blocks
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// A short description of a certificate for reports.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct CertSummary {
    /// Subject as an RFC 4514 string, most significant RDN last (`CN=Alice,O=Peer Lab,C=BE`).
    pub subject: String,
    /// The subject's (last) commonName, if any.
    pub common_name: Option<String>,
    /// Issuer as an RFC 4514 string.
    pub issuer: String,
    /// Serial number, lower-case hexadecimal without leading zero bytes.
    pub serial_hex: String,
    /// Start of the validity period.
    #[serde(with = "time::serde::rfc3339")]
    pub not_before: OffsetDateTime,
    /// End of the validity period.
    #[serde(with = "time::serde::rfc3339")]
    pub not_after: OffsetDateTime,
    /// SHA-256 of the certificate's DER, lower-case hexadecimal.
    pub sha256_fingerprint: String,
}

/// Summarises `cert` for reports.
pub fn certificate_summary(cert: &Certificate) -> CertSummary {
    let tbs = &cert.tbs_certificate;
    CertSummary {
        subject: name_to_string(&tbs.subject),
        common_name: common_name(&tbs.subject),
        issuer: name_to_string(&tbs.issuer),
        serial_hex: hex::encode(tbs.serial_number.as_bytes()),
        not_before: to_offset(&tbs.validity.not_before),
        not_after: to_offset(&tbs.validity.not_after),
        sha256_fingerprint: hex::encode(fingerprint_sha256(cert)),
    }
}

/// SHA-256 of the DER of `cert`.
pub fn fingerprint_sha256(cert: &Certificate) -> [u8; 32] {
    // encoding a decoded certificate cannot fail short of memory exhaustion; an empty
    // encoding gives a fingerprint that matches no real certificate
    let der = cert.to_der().unwrap_or_default();
    sha2::Sha256::digest(der).into()
}

/// The subject of `cert` as an RFC 4514 string.
pub fn subject_string(cert: &Certificate) -> String {
    name_to_string(&cert.tbs_certificate.subject)
}

/// Converts an X.509 time to `OffsetDateTime` (UTC).
pub fn to_offset(t: &x509_cert::time::Time) -> OffsetDateTime {
    unix_to_offset(t.to_unix_duration())
}

pub(crate) fn generalized_to_offset(t: &der::asn1::GeneralizedTime) -> OffsetDateTime {
    unix_to_offset(t.to_unix_duration())
}

fn unix_to_offset(d: core::time::Duration) -> OffsetDateTime {
    // `der` times lie in 1970..=9999, which both conversions accept; the fallback is
    // unreachable
    i64::try_from(d.as_secs())
        .ok()
        .and_then(|s| OffsetDateTime::from_unix_timestamp(s).ok())
        .unwrap_or(OffsetDateTime::UNIX_EPOCH)
}

/// The bytes of the first element of the DER SEQUENCE `outer` (the signed part of a
/// certificate, CRL or OCSP response), exactly as found.
pub(crate) fn first_element(outer: &[u8]) -> Result<&[u8], der::Error> {
    let mut reader = SliceReader::new(outer)?;
    let header = der::Header::decode(&mut reader)?;
    header.tag.assert_eq(der::Tag::Sequence)?;
    reader.tlv_bytes()
}

/// Verifies that `issuer`'s key signed `cert` (and that the outer and inner signature
/// algorithms agree, RFC 5280 §4.1.1.2).
pub fn verify_issued_by(
    cert: &Certificate,
    issuer: &Certificate,
) -> Result<crate::crypto::SignatureScheme, crate::crypto::SignatureError> {
    if cert.signature_algorithm != cert.tbs_certificate.signature {
        return Err(crate::crypto::SignatureError::UnsupportedAlgorithm {
            oid: format!(
                "{} (outer) differs from {} (tbsCertificate)",
                cert.signature_algorithm.oid, cert.tbs_certificate.signature.oid
            ),
        });
    }
    let tbs = cert
        .tbs_certificate
        .to_der()
        .map_err(|e| crate::crypto::SignatureError::BadKey {
            reason: format!("cannot encode tbsCertificate: {e}"),
        })?;
    let signature = cert
        .signature
        .as_bytes()
        .ok_or(crate::crypto::SignatureError::MalformedSignature)?;
    crate::crypto::verify_signature(
        &issuer.tbs_certificate.subject_public_key_info,
        &cert.signature_algorithm,
        None,
        &tbs,
        signature,
    )
}

#[cfg(test)]
pub(crate) mod testdata {
    //! The test PKI of `tests/data/x509` (see `make.sh` there).
    use super::*;

    pub(crate) fn dir() -> std::path::PathBuf {
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/x509")
    }

    pub(crate) fn bytes(name: &str) -> Vec<u8> {
        std::fs::read(dir().join(name)).unwrap()
    }

    pub(crate) fn cert(name: &str) -> Certificate {
        parse_pem_certificates(&bytes(&format!("{name}.pem")))
            .unwrap()
            .remove(0)
    }

    pub(crate) fn at(date: &str) -> OffsetDateTime {
        OffsetDateTime::parse(date, &time::format_description::well_known::Rfc3339).unwrap()
    }
}

#[cfg(test)]
mod tests {
    use super::testdata::*;
    use super::*;

    #[test]
    fn reads_pem_and_der() {
        let pem = bytes("leaf.pem");
        let certs = parse_pem_certificates(&pem).unwrap();
        assert_eq!(certs.len(), 1);
        let der = certs[0].to_der().unwrap();
        assert_eq!(parse_pem_certificates(&der).unwrap(), certs);
        let mut two = der.clone();
        two.extend_from_slice(&der);
        two.push(b'\n');
        assert_eq!(parse_pem_certificates(&two).unwrap().len(), 2);
        let mut chain = bytes("int-ca.pem");
        chain.extend_from_slice(b"some text between blocks\n");
        chain.extend_from_slice(&bytes("root-ca.pem"));
        assert_eq!(parse_pem_certificates(&chain).unwrap().len(), 2);
        let mut text = b"0 leading text that looks like a DER tag\n".to_vec();
        text.extend_from_slice(&pem);
        assert_eq!(parse_pem_certificates(&text).unwrap(), certs);
    }

    #[test]
    fn summary_of_leaf() {
        let s = certificate_summary(&cert("leaf"));
        assert_eq!(
            s.subject,
            "SN=Leaf,givenName=Alice,serialNumber=PNOBE-90010112345,CN=Alice Leaf,O=Chain Test,C=BE"
        );
        assert_eq!(s.common_name.as_deref(), Some("Alice Leaf"));
        assert_eq!(s.issuer, "CN=Chain Test Issuing CA,O=Chain Test,C=BE");
        assert_eq!(s.serial_hex, "1000");
        assert_eq!(s.not_before, at("2025-01-01T00:00:00Z"));
        assert_eq!(s.not_after, at("2045-01-01T00:00:00Z"));
        assert_eq!(s.sha256_fingerprint.len(), 64);
    }

    #[test]
    fn hostile_input_is_an_error() {
        for input in [
            &b""[..],
            b"\n\n",
            b"\x30",
            b"\x30\x82\xff\xff",
            b"\x30\x03\x02\x01\x01",
            b"-----BEGIN CERTIFICATE-----\nnot base64!\n-----END CERTIFICATE-----\n",
            b"-----BEGIN CERTIFICATE-----\n",
            b"-----BEGIN CERTIFICATE-----\nMAMCAQE=\n-----END CERTIFICATE-----\n",
            b"-----BEGIN PRIVATE KEY-----\nMAMCAQE=\n-----END PRIVATE KEY-----\n",
            b"garbage",
        ] {
            assert!(parse_pem_certificates(input).is_err(), "{input:?}");
            assert!(parse_crl(input).is_err(), "{input:?}");
        }
        // truncated real certificate
        let der = cert("leaf").to_der().unwrap();
        for cut in [1, 10, der.len() / 2, der.len() - 1] {
            assert!(parse_pem_certificates(&der[..cut]).is_err());
        }
    }

    #[test]
    fn reads_crl_der_and_pem() {
        let der = bytes("int.crl");
        let crl = parse_crl(&der).unwrap();
        let pem = der::pem::encode_string("X509 CRL", der::pem::LineEnding::LF, &der).unwrap();
        assert_eq!(parse_crl(pem.as_bytes()).unwrap(), crl);
        assert!(first_element(&der).is_ok());
    }
}
