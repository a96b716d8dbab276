//! Adobe's `revocationInfoArchival` signed attribute (OID 1.2.840.113583.1.1.8,
//! ISO 32000-1 §12.8.3.3.2): CRLs and OCSP responses for the signer's chain, captured at
//! signing time and covered by the signature. Written by Acrobat, iText, DSS, pyHanko.

use der::asn1::OctetString;
use der::{Any, Sequence};

/// ISO 32000-1 §12.8.3.3.2 (after Adobe's *Digital Signatures in the PDF Language*).
///
/// ```text
/// RevocationInfoArchival ::= SEQUENCE {
///     crl          [0] EXPLICIT SEQUENCE of CRLs OPTIONAL,
///     ocsp         [1] EXPLICIT SEQUENCE of OCSP Responses OPTIONAL,
///     otherRevInfo [2] EXPLICIT SEQUENCE of OtherRevInfo OPTIONAL
/// }
/// ```
///
/// CRLs and OCSP responses are kept as [`Any`] so that one malformed entry does not hide
/// the others; [`crate::cms::parse_signed_cms`] decodes them into
/// [`crate::cms::SignedCms::crls`] and [`crate::cms::SignedCms::ocsp_responses`].
#[derive(Clone, Debug, Eq, PartialEq, Sequence)]
pub struct RevocationInfoArchival {
    /// `CertificateList`s (RFC 5280 §5.1).
    #[asn1(context_specific = "0", tag_mode = "EXPLICIT", optional = "true")]
    pub crl: Option<Vec<Any>>,
    /// `OCSPResponse`s (RFC 6960 §4.2.1).
    #[asn1(context_specific = "1", tag_mode = "EXPLICIT", optional = "true")]
    pub ocsp: Option<Vec<Any>>,
    /// Other revocation data, by type.
    #[asn1(context_specific = "2", tag_mode = "EXPLICIT", optional = "true")]
    pub other_rev_info: Option<Vec<OtherRevInfo>>,
}

/// Revocation data of another kind in [`RevocationInfoArchival`].
///
/// ```text
/// OtherRevInfo ::= SEQUENCE {
///     Type  OBJECT IDENTIFIER,
///     Value OCTET STRING
/// }
/// ```
#[derive(Clone, Debug, Eq, PartialEq, Sequence)]
pub struct OtherRevInfo {
    /// Kind of data.
    pub kind: der::asn1::ObjectIdentifier,
    /// The data.
    pub value: OctetString,
}

#[cfg(test)]
mod tests {
    use super::*;
    use der::{Decode, Encode};

    #[test]
    fn decodes_and_round_trips() {
        // SEQUENCE { [1] { SEQUENCE OF { OCSPResponse { ENUMERATED 1 (malformedRequest) } } } }
        let der = [
            0x30, 0x09, 0xa1, 0x07, 0x30, 0x05, 0x30, 0x03, 0x0a, 0x01, 0x01,
        ];
        let r = RevocationInfoArchival::from_der(&der).unwrap();
        assert!(r.crl.is_none());
        assert_eq!(r.ocsp.as_ref().map(Vec::len), Some(1));
        assert_eq!(r.to_der().unwrap(), der);
    }
}
