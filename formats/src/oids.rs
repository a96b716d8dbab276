//! Object identifiers used across the workspace, named as in the specifications.

use const_oid::ObjectIdentifier as Oid;

/// id-data, RFC 5652 §4.
pub const ID_DATA: Oid = Oid::new_unwrap("1.2.840.113549.1.7.1");
/// id-signedData, RFC 5652 §5.
pub const ID_SIGNED_DATA: Oid = Oid::new_unwrap("1.2.840.113549.1.7.2");
/// id-ct-TSTInfo, RFC 3161 §2.4.2.
pub const ID_CT_TST_INFO: Oid = Oid::new_unwrap("1.2.840.113549.1.9.16.1.4");
/// content-type attribute, RFC 5652 §11.1.
pub const ID_CONTENT_TYPE: Oid = Oid::new_unwrap("1.2.840.113549.1.9.3");
/// message-digest attribute, RFC 5652 §11.2.
pub const ID_MESSAGE_DIGEST: Oid = Oid::new_unwrap("1.2.840.113549.1.9.4");
/// signing-time attribute, RFC 5652 §11.3.
pub const ID_SIGNING_TIME: Oid = Oid::new_unwrap("1.2.840.113549.1.9.5");
/// ESS signing-certificate, RFC 2634 §5.4.
pub const ID_AA_SIGNING_CERTIFICATE: Oid = Oid::new_unwrap("1.2.840.113549.1.9.16.2.12");
/// ESS signing-certificate-v2, RFC 5035 §3.
pub const ID_AA_SIGNING_CERTIFICATE_V2: Oid = Oid::new_unwrap("1.2.840.113549.1.9.16.2.47");
/// signature-time-stamp unsigned attribute, RFC 3161 Appendix A.
pub const ID_AA_SIGNATURE_TIME_STAMP_TOKEN: Oid = Oid::new_unwrap("1.2.840.113549.1.9.16.2.14");
/// Adobe revocation-info-archival signed attribute (PDF 32000-1 §12.8.3.3.2).
pub const ADBE_REVOCATION_INFO_ARCHIVAL: Oid = Oid::new_unwrap("1.2.840.113583.1.1.8");
/// CMS algorithm protection attribute, RFC 6211.
pub const ID_AA_CMS_ALGORITHM_PROTECTION: Oid = Oid::new_unwrap("1.2.840.113549.1.9.52");

/// SHA-1, RFC 3279.
pub const SHA1: Oid = Oid::new_unwrap("1.3.14.3.2.26");
/// SHA-256, RFC 5754.
pub const SHA256: Oid = Oid::new_unwrap("2.16.840.1.101.3.4.2.1");
/// SHA-384, RFC 5754.
pub const SHA384: Oid = Oid::new_unwrap("2.16.840.1.101.3.4.2.2");
/// SHA-512, RFC 5754.
pub const SHA512: Oid = Oid::new_unwrap("2.16.840.1.101.3.4.2.3");

/// rsaEncryption, RFC 8017.
pub const RSA_ENCRYPTION: Oid = Oid::new_unwrap("1.2.840.113549.1.1.1");
/// sha1WithRSAEncryption, RFC 8017.
pub const SHA1_WITH_RSA: Oid = Oid::new_unwrap("1.2.840.113549.1.1.5");
/// sha256WithRSAEncryption, RFC 8017.
pub const SHA256_WITH_RSA: Oid = Oid::new_unwrap("1.2.840.113549.1.1.11");
/// sha384WithRSAEncryption, RFC 8017.
pub const SHA384_WITH_RSA: Oid = Oid::new_unwrap("1.2.840.113549.1.1.12");
/// sha512WithRSAEncryption, RFC 8017.
pub const SHA512_WITH_RSA: Oid = Oid::new_unwrap("1.2.840.113549.1.1.13");
/// id-RSASSA-PSS, RFC 8017.
pub const RSASSA_PSS: Oid = Oid::new_unwrap("1.2.840.113549.1.1.10");
/// id-mgf1, RFC 8017.
pub const MGF1: Oid = Oid::new_unwrap("1.2.840.113549.1.1.8");
/// id-ecPublicKey, RFC 5480.
pub const EC_PUBLIC_KEY: Oid = Oid::new_unwrap("1.2.840.10045.2.1");
/// secp256r1 (P-256), RFC 5480.
pub const SECP256R1: Oid = Oid::new_unwrap("1.2.840.10045.3.1.7");
/// secp384r1 (P-384), RFC 5480.
pub const SECP384R1: Oid = Oid::new_unwrap("1.3.132.0.34");
/// ecdsa-with-SHA256, RFC 5758.
pub const ECDSA_WITH_SHA256: Oid = Oid::new_unwrap("1.2.840.10045.4.3.2");
/// ecdsa-with-SHA384, RFC 5758.
pub const ECDSA_WITH_SHA384: Oid = Oid::new_unwrap("1.2.840.10045.4.3.3");
/// ecdsa-with-SHA512, RFC 5758.
pub const ECDSA_WITH_SHA512: Oid = Oid::new_unwrap("1.2.840.10045.4.3.4");

/// id-kp-timeStamping, RFC 5280 §4.2.1.12.
pub const KP_TIME_STAMPING: Oid = Oid::new_unwrap("1.3.6.1.5.5.7.3.8");
/// id-pkix-ocsp-basic, RFC 6960.
pub const OCSP_BASIC: Oid = Oid::new_unwrap("1.3.6.1.5.5.7.48.1.1");
/// id-pkix-ocsp-nocheck, RFC 6960 §4.2.2.2.1.
pub const OCSP_NOCHECK: Oid = Oid::new_unwrap("1.3.6.1.5.5.7.48.1.5");
/// id-kp-OCSPSigning, RFC 5280.
pub const KP_OCSP_SIGNING: Oid = Oid::new_unwrap("1.3.6.1.5.5.7.3.9");

/// id-pe-qcStatements, RFC 3739.
pub const PE_QC_STATEMENTS: Oid = Oid::new_unwrap("1.3.6.1.5.5.7.1.3");
/// esi4-qcStatement-1 QcCompliance, ETSI EN 319 412-5.
pub const QCS_QC_COMPLIANCE: Oid = Oid::new_unwrap("0.4.0.1862.1.1");
/// esi4-qcStatement-4 QcSSCD, ETSI EN 319 412-5.
pub const QCS_QC_SSCD: Oid = Oid::new_unwrap("0.4.0.1862.1.4");
/// esi4-qcStatement-6 QcType, ETSI EN 319 412-5.
pub const QCS_QC_TYPE: Oid = Oid::new_unwrap("0.4.0.1862.1.6");
/// id-etsi-qct-esign, ETSI EN 319 412-5.
pub const QCT_ESIGN: Oid = Oid::new_unwrap("0.4.0.1862.1.6.1");
/// QCP-n-qscd certificate policy, ETSI EN 319 411-2.
pub const QCP_N_QSCD: Oid = Oid::new_unwrap("0.4.0.194112.1.2");

/// esi4-qcStatement-2 QcLimitValue, ETSI EN 319 412-5.
pub const QCS_QC_LIMIT_VALUE: Oid = Oid::new_unwrap("0.4.0.1862.1.2");
/// esi4-qcStatement-3 QcRetentionPeriod, ETSI EN 319 412-5.
pub const QCS_QC_RETENTION_PERIOD: Oid = Oid::new_unwrap("0.4.0.1862.1.3");
/// esi4-qcStatement-5 QcPDS, ETSI EN 319 412-5.
pub const QCS_QC_PDS: Oid = Oid::new_unwrap("0.4.0.1862.1.5");
/// esi4-qcStatement-7 QcCClegislation, ETSI EN 319 412-5.
pub const QCS_QC_CC_LEGISLATION: Oid = Oid::new_unwrap("0.4.0.1862.1.7");
/// id-etsi-qct-eseal, ETSI EN 319 412-5.
pub const QCT_ESEAL: Oid = Oid::new_unwrap("0.4.0.1862.1.6.2");
/// id-etsi-qct-web, ETSI EN 319 412-5.
pub const QCT_WEB: Oid = Oid::new_unwrap("0.4.0.1862.1.6.3");
/// id-ce-expiredCertsOnCRL, X.509 (2019) §9.6.2.9 / RFC 5280 errata: the CRL keeps
/// revoked certificates after they expire.
pub const CE_EXPIRED_CERTS_ON_CRL: Oid = Oid::new_unwrap("2.5.29.60");

/// id-ri-ocsp-response, RFC 5940 §4.1 (an OCSP response in RevocationInfoChoices).
pub const ID_RI_OCSP_RESPONSE: Oid = Oid::new_unwrap("1.3.6.1.5.5.7.16.2");
/// id-ce-subjectKeyIdentifier, RFC 5280 §4.2.1.2.
pub const SUBJECT_KEY_IDENTIFIER: Oid = Oid::new_unwrap("2.5.29.14");
