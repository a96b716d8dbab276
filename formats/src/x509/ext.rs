//! Typed readers for the certificate extensions a signature verifier looks at
//! (RFC 5280 §4.2, RFC 6960 §4.2.2.2.1, ETSI EN 319 412-5).
//!
//! [`read_extensions`] decodes every known extension at once and lists unknown critical
//! ones; the helpers [`signer_key_usage_ok`], [`has_eku`] and [`eku_critical`] answer the
//! verifier's questions about a signer's or a TSA's certificate directly.

use const_oid::db::rfc5280 as pkix;
use const_oid::ObjectIdentifier;
use der::Decode;
use x509_cert::ext::pkix::crl::dp::DistributionPoint;
use x509_cert::ext::pkix::name::{DistributionPointName, GeneralName};
use x509_cert::ext::pkix::{
    AuthorityInfoAccessSyntax, AuthorityKeyIdentifier, BasicConstraints, CertificatePolicies,
    CrlDistributionPoints, ExtendedKeyUsage, KeyUsage, NameConstraints, SubjectAltName,
    SubjectKeyIdentifier,
};
use x509_cert::ext::Extension;

use super::qc_statements::{read_qc_statements, QcStatementsInfo};
use super::{Certificate, X509Error};
use crate::oids;

/// Extensions this crate recognises: they are either processed (path validation, the
/// helpers here) or deliberately informational. A critical extension outside this list is
/// reported by [`CertExtensions::unknown_critical`].
///
/// Policy extensions (certificatePolicies, policyMappings, policyConstraints,
/// inhibitAnyPolicy) are recognised but no RFC 5280 §6.1 policy tree is built: the caller
/// checks the leaf's policy OIDs (e.g. QCP-n-qscd). nameConstraints is processed by path
/// validation for the directoryName, rfc822Name and dNSName forms (see
/// [`super::name_constraints`]).
pub const RECOGNISED: &[ObjectIdentifier] = &[
    pkix::ID_CE_BASIC_CONSTRAINTS,
    pkix::ID_CE_KEY_USAGE,
    pkix::ID_CE_EXT_KEY_USAGE,
    pkix::ID_CE_SUBJECT_KEY_IDENTIFIER,
    pkix::ID_CE_AUTHORITY_KEY_IDENTIFIER,
    pkix::ID_CE_SUBJECT_ALT_NAME,
    pkix::ID_CE_ISSUER_ALT_NAME,
    pkix::ID_CE_CERTIFICATE_POLICIES,
    pkix::ID_CE_POLICY_MAPPINGS,
    pkix::ID_CE_POLICY_CONSTRAINTS,
    pkix::ID_CE_INHIBIT_ANY_POLICY,
    pkix::ID_CE_NAME_CONSTRAINTS,
    pkix::ID_CE_CRL_DISTRIBUTION_POINTS,
    pkix::ID_CE_FRESHEST_CRL,
    pkix::ID_CE_SUBJECT_DIRECTORY_ATTRIBUTES,
    pkix::ID_CE_PRIVATE_KEY_USAGE_PERIOD,
    pkix::ID_PE_AUTHORITY_INFO_ACCESS,
    pkix::ID_PE_SUBJECT_INFO_ACCESS,
    oids::PE_QC_STATEMENTS,
    oids::OCSP_NOCHECK,
];

/// extendedKeyUsage as found in a certificate.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExtendedKeyUsageExt {
    /// The key purposes.
    pub purposes: Vec<ObjectIdentifier>,
    /// Whether the extension is marked critical (RFC 3161 §2.3 requires it for a TSA).
    pub critical: bool,
}

/// The extensions of one certificate, decoded.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CertExtensions {
    /// basicConstraints (RFC 5280 §4.2.1.9).
    pub basic_constraints: Option<BasicConstraints>,
    /// keyUsage (RFC 5280 §4.2.1.3).
    pub key_usage: Option<KeyUsage>,
    /// extendedKeyUsage (RFC 5280 §4.2.1.12).
    pub extended_key_usage: Option<ExtendedKeyUsageExt>,
    /// subjectAltName entries (RFC 5280 §4.2.1.6).
    pub subject_alt_names: Vec<GeneralName>,
    /// nameConstraints (RFC 5280 §4.2.1.10).
    pub name_constraints: Option<NameConstraints>,
    /// subjectKeyIdentifier (RFC 5280 §4.2.1.2).
    pub subject_key_identifier: Option<Vec<u8>>,
    /// keyIdentifier of authorityKeyIdentifier (RFC 5280 §4.2.1.1).
    pub authority_key_identifier: Option<Vec<u8>>,
    /// certificatePolicies policy OIDs (RFC 5280 §4.2.1.4), in order.
    pub certificate_policies: Vec<ObjectIdentifier>,
    /// qcStatements (RFC 3739, ETSI EN 319 412-5).
    pub qc_statements: Option<QcStatementsInfo>,
    /// URIs of cRLDistributionPoints full names (RFC 5280 §4.2.1.13).
    pub crl_distribution_points: Vec<String>,
    /// `id-ad-ocsp` URIs of authorityInfoAccess (RFC 5280 §4.2.2.1).
    pub ocsp_urls: Vec<String>,
    /// `id-ad-caIssuers` URIs of authorityInfoAccess.
    pub ca_issuers_urls: Vec<String>,
    /// id-pkix-ocsp-nocheck present (RFC 6960 §4.2.2.2.1).
    pub ocsp_nocheck: bool,
    /// Critical extensions outside [`RECOGNISED`], in order.
    pub unknown_critical: Vec<ObjectIdentifier>,
}

impl CertExtensions {
    /// Whether basicConstraints says the subject is a CA.
    pub fn is_ca(&self) -> bool {
        self.basic_constraints.as_ref().is_some_and(|bc| bc.ca)
    }
}

/// Decodes every recognised extension of `cert`. Fails on a malformed recognised extension
/// or on a repeated extension; unknown extensions are only listed when critical.
pub fn read_extensions(cert: &Certificate) -> Result<CertExtensions, X509Error> {
    let mut out = CertExtensions::default();
    let exts = cert
        .tbs_certificate
        .extensions
        .as_deref()
        .unwrap_or_default();
    for (i, ext) in exts.iter().enumerate() {
        if exts.iter().take(i).any(|e| e.extn_id == ext.extn_id) {
            return Err(X509Error::DuplicateExtension { oid: ext.extn_id });
        }
        read_one(ext, &mut out).map_err(|source| X509Error::BadExtension {
            oid: ext.extn_id,
            source,
        })?;
    }
    Ok(out)
}

fn read_one(ext: &Extension, out: &mut CertExtensions) -> Result<(), der::Error> {
    let value = ext.extn_value.as_bytes();
    match ext.extn_id {
        pkix::ID_CE_BASIC_CONSTRAINTS => {
            out.basic_constraints = Some(BasicConstraints::from_der(value)?)
        }
        pkix::ID_CE_KEY_USAGE => out.key_usage = Some(KeyUsage::from_der(value)?),
        pkix::ID_CE_EXT_KEY_USAGE => {
            out.extended_key_usage = Some(ExtendedKeyUsageExt {
                purposes: ExtendedKeyUsage::from_der(value)?.0,
                critical: ext.critical,
            })
        }
        pkix::ID_CE_SUBJECT_ALT_NAME => {
            out.subject_alt_names = SubjectAltName::from_der(value)?.0;
        }
        pkix::ID_CE_NAME_CONSTRAINTS => {
            out.name_constraints = Some(NameConstraints::from_der(value)?);
        }
        pkix::ID_CE_SUBJECT_KEY_IDENTIFIER => {
            out.subject_key_identifier =
                Some(SubjectKeyIdentifier::from_der(value)?.0.as_bytes().to_vec())
        }
        pkix::ID_CE_AUTHORITY_KEY_IDENTIFIER => {
            out.authority_key_identifier = AuthorityKeyIdentifier::from_der(value)?
                .key_identifier
                .map(|k| k.as_bytes().to_vec())
        }
        pkix::ID_CE_CERTIFICATE_POLICIES => {
            out.certificate_policies = CertificatePolicies::from_der(value)?
                .0
                .into_iter()
                .map(|p| p.policy_identifier)
                .collect()
        }
        pkix::ID_CE_CRL_DISTRIBUTION_POINTS => {
            out.crl_distribution_points = CrlDistributionPoints::from_der(value)?
                .0
                .iter()
                .flat_map(distribution_point_uris)
                .collect()
        }
        pkix::ID_PE_AUTHORITY_INFO_ACCESS => {
            for ad in AuthorityInfoAccessSyntax::from_der(value)?.0 {
                if let GeneralName::UniformResourceIdentifier(uri) = ad.access_location {
                    match ad.access_method {
                        pkix::ID_AD_OCSP => out.ocsp_urls.push(uri.to_string()),
                        pkix::ID_AD_CA_ISSUERS => out.ca_issuers_urls.push(uri.to_string()),
                        _ => {}
                    }
                }
            }
        }
        oids::PE_QC_STATEMENTS => out.qc_statements = Some(read_qc_statements(value)?),
        oids::OCSP_NOCHECK => out.ocsp_nocheck = true,
        oid if ext.critical && !RECOGNISED.contains(&oid) => out.unknown_critical.push(oid),
        _ => {}
    }
    Ok(())
}

/// The URIs among the full names of a distribution point.
pub(crate) fn distribution_point_uris(dp: &DistributionPoint) -> Vec<String> {
    match &dp.distribution_point {
        Some(DistributionPointName::FullName(names)) => names
            .iter()
            .filter_map(|n| match n {
                GeneralName::UniformResourceIdentifier(uri) => Some(uri.to_string()),
                _ => None,
            })
            .collect(),
        _ => Vec::new(),
    }
}

/// The keyUsage of a signer's certificate judged for document signatures.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum KeyUsageCheck {
    /// No keyUsage extension: every usage is allowed (RFC 5280 §4.2.1.3).
    Absent,
    /// The extension is present but malformed.
    Malformed,
    /// Neither digitalSignature nor nonRepudiation is set.
    NotForSigning,
    /// digitalSignature and/or nonRepudiation is set.
    Ok {
        /// digitalSignature bit.
        digital_signature: bool,
        /// nonRepudiation (contentCommitment) bit: expected on certificates for qualified
        /// signatures (ETSI EN 319 412-2 §4.3.2).
        non_repudiation: bool,
    },
}

impl KeyUsageCheck {
    /// Whether the certificate may sign documents.
    pub fn allows_signing(self) -> bool {
        matches!(self, Self::Absent | Self::Ok { .. })
    }
}

fn find_extension(cert: &Certificate, oid: ObjectIdentifier) -> Option<&Extension> {
    cert.tbs_certificate
        .extensions
        .as_deref()
        .unwrap_or_default()
        .iter()
        .find(|e| e.extn_id == oid)
}

/// Whether `cert`'s keyUsage allows signing documents (digitalSignature or nonRepudiation
/// set, or no keyUsage extension).
pub fn signer_key_usage_ok(cert: &Certificate) -> KeyUsageCheck {
    let Some(ext) = find_extension(cert, pkix::ID_CE_KEY_USAGE) else {
        return KeyUsageCheck::Absent;
    };
    match KeyUsage::from_der(ext.extn_value.as_bytes()) {
        Err(_malformed) => KeyUsageCheck::Malformed,
        Ok(ku) if ku.digital_signature() || ku.non_repudiation() => KeyUsageCheck::Ok {
            digital_signature: ku.digital_signature(),
            non_repudiation: ku.non_repudiation(),
        },
        Ok(_) => KeyUsageCheck::NotForSigning,
    }
}

/// Whether `cert` has an extendedKeyUsage extension listing `purpose` (anyExtendedKeyUsage
/// does not count). A malformed extension lists nothing.
pub fn has_eku(cert: &Certificate, purpose: ObjectIdentifier) -> bool {
    find_extension(cert, pkix::ID_CE_EXT_KEY_USAGE)
        .and_then(|e| ExtendedKeyUsage::from_der(e.extn_value.as_bytes()).ok())
        .is_some_and(|eku| eku.0.contains(&purpose))
}

/// Whether `cert`'s extendedKeyUsage is critical; `None` when there is none.
pub fn eku_critical(cert: &Certificate) -> Option<bool> {
    find_extension(cert, pkix::ID_CE_EXT_KEY_USAGE).map(|e| e.critical)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::x509::testdata::cert;

    #[test]
    fn reads_leaf_extensions() {
        let leaf = cert("leaf");
        let ext = read_extensions(&leaf).unwrap();
        assert!(!ext.is_ca());
        assert_eq!(ext.basic_constraints.as_ref().map(|b| b.ca), Some(false));
        let ku = ext.key_usage.unwrap();
        assert!(ku.non_repudiation() && !ku.digital_signature());
        assert_eq!(ext.certificate_policies, vec![oids::QCP_N_QSCD]);
        assert_eq!(
            ext.crl_distribution_points,
            vec!["http://127.0.0.1:18080/crl/int.crl".to_string()]
        );
        assert_eq!(
            ext.ocsp_urls,
            vec!["http://127.0.0.1:18080/ocsp".to_string()]
        );
        assert_eq!(
            ext.ca_issuers_urls,
            vec!["http://127.0.0.1:18080/int-ca.crt".to_string()]
        );
        assert!(ext.qc_statements.as_ref().unwrap().compliance);
        assert!(!ext.ocsp_nocheck);
        assert!(ext.unknown_critical.is_empty());
        let int = read_extensions(&cert("int-ca")).unwrap();
        assert_eq!(
            int.subject_key_identifier.as_ref(),
            ext.authority_key_identifier.as_ref()
        );
        assert_eq!(int.basic_constraints.unwrap().path_len_constraint, Some(0));
        assert_eq!(
            signer_key_usage_ok(&leaf),
            KeyUsageCheck::Ok {
                digital_signature: false,
                non_repudiation: true
            }
        );
        assert!(!has_eku(&leaf, oids::KP_OCSP_SIGNING));
        assert_eq!(eku_critical(&leaf), None);
    }

    #[test]
    fn responder_and_ca_extensions() {
        let ocsp = cert("ocsp-responder");
        assert!(has_eku(&ocsp, oids::KP_OCSP_SIGNING));
        assert_eq!(eku_critical(&ocsp), Some(true));
        assert!(read_extensions(&ocsp).unwrap().ocsp_nocheck);
        assert_eq!(
            signer_key_usage_ok(&cert("int-ca")),
            KeyUsageCheck::NotForSigning
        );
    }

    #[test]
    fn unknown_critical_is_listed() {
        let ext = read_extensions(&cert("leaf-critext")).unwrap();
        assert_eq!(
            ext.unknown_critical,
            vec![ObjectIdentifier::new_unwrap("1.3.6.1.4.1.55555.1")]
        );
    }

    #[test]
    fn malformed_and_duplicate_extensions_are_errors() {
        let mut leaf = cert("leaf");
        let exts = leaf.tbs_certificate.extensions.as_mut().unwrap();
        let ku = exts
            .iter()
            .position(|e| e.extn_id == pkix::ID_CE_KEY_USAGE)
            .unwrap();
        exts[ku].extn_value = der::asn1::OctetString::new(vec![0x03, 0x05, 0x00]).unwrap();
        assert!(matches!(
            read_extensions(&leaf),
            Err(X509Error::BadExtension { oid, .. }) if oid == pkix::ID_CE_KEY_USAGE
        ));
        assert_eq!(signer_key_usage_ok(&leaf), KeyUsageCheck::Malformed);
        let mut dup = cert("leaf");
        let exts = dup.tbs_certificate.extensions.as_mut().unwrap();
        let first = exts[0].clone();
        exts.push(first);
        assert!(matches!(
            read_extensions(&dup),
            Err(X509Error::DuplicateExtension { .. })
        ));
    }
}
