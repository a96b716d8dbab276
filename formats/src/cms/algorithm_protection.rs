//! The CMS algorithm identifier protection attribute (RFC 6211): a signed copy of the
//! SignerInfo's digest and signature algorithms, against algorithm substitution.

use der::asn1::SetOfVec;
use der::{Any, Sequence, Tagged};
use spki::AlgorithmIdentifierOwned;
use x509_cert::attr::Attribute;

use crate::oids;

/// RFC 6211 §2 (module with IMPLICIT TAGS).
///
/// ```text
/// CMSAlgorithmProtection ::= SEQUENCE {
///     digestAlgorithm         DigestAlgorithmIdentifier,
///     signatureAlgorithm  [1] SignatureAlgorithmIdentifier OPTIONAL,
///     macAlgorithm        [2] MessageAuthenticationCodeAlgorithm
///                                      OPTIONAL
/// }
/// (WITH COMPONENTS { signatureAlgorithm PRESENT,
///                    macAlgorithm ABSENT } |
///  WITH COMPONENTS { signatureAlgorithm ABSENT,
///                    macAlgorithm PRESENT })
/// ```
/// <https://www.rfc-editor.org/rfc/rfc6211#section-2>
#[derive(Clone, Debug, Eq, PartialEq, Sequence)]
pub struct CmsAlgorithmProtection {
    /// Must equal the SignerInfo's `digestAlgorithm`.
    pub digest_algorithm: AlgorithmIdentifierOwned,
    /// Must equal the SignerInfo's `signatureAlgorithm` (for SignedData).
    #[asn1(context_specific = "1", tag_mode = "IMPLICIT", optional = "true")]
    pub signature_algorithm: Option<AlgorithmIdentifierOwned>,
    /// For AuthenticatedData only; must be absent in SignedData.
    #[asn1(context_specific = "2", tag_mode = "IMPLICIT", optional = "true")]
    pub mac_algorithm: Option<AlgorithmIdentifierOwned>,
}

impl CmsAlgorithmProtection {
    /// Checks the attribute against a SignerInfo's algorithms (RFC 6211 §3); `Err` says
    /// what differs. Absent parameters and NULL parameters count as equal, as
    /// producers disagree on them for SHA-2.
    pub fn check(
        &self,
        digest_algorithm: &AlgorithmIdentifierOwned,
        signature_algorithm: &AlgorithmIdentifierOwned,
    ) -> Result<(), String> {
        if self.mac_algorithm.is_some() {
            return Err("macAlgorithm is present in a SignedData".into());
        }
        if !same_algorithm(&self.digest_algorithm, digest_algorithm) {
            return Err(format!(
                "protected digest algorithm {} differs from the SignerInfo's {}",
                self.digest_algorithm.oid, digest_algorithm.oid
            ));
        }
        match &self.signature_algorithm {
            None => Err("signatureAlgorithm is absent".into()),
            Some(a) if !same_algorithm(a, signature_algorithm) => Err(format!(
                "protected signature algorithm {} differs from the SignerInfo's {}",
                a.oid, signature_algorithm.oid
            )),
            Some(_) => Ok(()),
        }
    }
}

/// Algorithm identifiers equal, treating absent parameters and NULL alike.
pub fn same_algorithm(a: &AlgorithmIdentifierOwned, b: &AlgorithmIdentifierOwned) -> bool {
    fn params(p: &Option<Any>) -> Option<&Any> {
        p.as_ref().filter(|a| a.tag() != der::Tag::Null)
    }
    a.oid == b.oid && params(&a.parameters) == params(&b.parameters)
}

/// The cms-algorithm-protection signed attribute for a signer's algorithms.
pub fn cms_algorithm_protection_attribute(
    digest_algorithm: AlgorithmIdentifierOwned,
    signature_algorithm: AlgorithmIdentifierOwned,
) -> Result<Attribute, der::Error> {
    let value = CmsAlgorithmProtection {
        digest_algorithm,
        signature_algorithm: Some(signature_algorithm),
        mac_algorithm: None,
    };
    let mut values = SetOfVec::new();
    values.insert(Any::encode_from(&value)?)?;
    Ok(Attribute {
        oid: oids::ID_AA_CMS_ALGORITHM_PROTECTION,
        values,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::DigestAlgorithm;
    use der::{Decode, Encode};

    #[test]
    fn round_trip_and_check() {
        let d = DigestAlgorithm::Sha256.algorithm_identifier();
        let s = AlgorithmIdentifierOwned {
            oid: oids::ECDSA_WITH_SHA256,
            parameters: None,
        };
        let a = cms_algorithm_protection_attribute(d.clone(), s.clone()).unwrap();
        let der = a.values.get(0).unwrap().to_der().unwrap();
        // [1] IMPLICIT SEQUENCE is written 0xA1
        assert!(der.windows(1).any(|w| w == [0xa1]));
        let p = CmsAlgorithmProtection::from_der(&der).unwrap();
        assert_eq!(p.to_der().unwrap(), der);
        assert_eq!(p.check(&d, &s), Ok(()));
        let null_params = AlgorithmIdentifierOwned {
            oid: oids::SHA256,
            parameters: Some(Any::from(der::asn1::Null)),
        };
        assert_eq!(p.check(&null_params, &s), Ok(()));
        let other = AlgorithmIdentifierOwned {
            oid: oids::ECDSA_WITH_SHA384,
            parameters: None,
        };
        assert!(p.check(&d, &other).is_err());
        assert!(p
            .check(&DigestAlgorithm::Sha384.algorithm_identifier(), &s)
            .is_err());
    }
}
