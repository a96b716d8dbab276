//! QCStatements (RFC 3739 §3.2.6) with the statements of ETSI EN 319 412-5 §4.
//!
//! ```text
//! QCStatements ::= SEQUENCE OF QCStatement
//! QCStatement ::= SEQUENCE {
//!     statementId   QC-STATEMENT.&id({SupportedStatements}),
//!     statementInfo QC-STATEMENT.&Type({SupportedStatements}{@statementId}) OPTIONAL }
//!
//! -- ETSI EN 319 412-5 §4.2.2 (esi4-qcStatement-6)
//! QcType ::= SEQUENCE OF OBJECT IDENTIFIER (id-etsi-qct-esign | id-etsi-qct-eseal |
//!     id-etsi-qct-web, ...)
//! -- §4.2.3 (esi4-qcStatement-5)
//! PdsLocations ::= SEQUENCE SIZE (1..MAX) OF PdsLocation
//! PdsLocation ::= SEQUENCE { url IA5String, language PrintableString (SIZE(2)) }
//! -- §4.2.4 (esi4-qcStatement-7)
//! QcCClegislation ::= SEQUENCE OF CountryName
//! CountryName ::= PrintableString (SIZE (2)) (ISO 3166 alpha-2)
//! -- §4.3.3 (esi4-qcStatement-3)
//! QcEuRetentionPeriod ::= INTEGER
//! ```
//!
//! <https://www.etsi.org/deliver/etsi_en/319400_319499/31941205/>

use const_oid::ObjectIdentifier;
use der::asn1::{Ia5String, PrintableString};
use der::{Any, Decode, Sequence};

use crate::oids;

/// `QCStatements`, RFC 3739 §3.2.6.
pub type QcStatements = Vec<QcStatement>;

/// `QCStatement`, RFC 3739 §3.2.6.
#[derive(Clone, Debug, Eq, PartialEq, Sequence)]
pub struct QcStatement {
    /// `statementId`.
    pub statement_id: ObjectIdentifier,
    /// `statementInfo`, typed by `statementId`.
    pub statement_info: Option<Any>,
}

/// `QcType`, ETSI EN 319 412-5 §4.2.2.
pub type QcType = Vec<ObjectIdentifier>;

/// `QcCClegislation`, ETSI EN 319 412-5 §4.2.4.
pub type QcCcLegislation = Vec<PrintableString>;

/// `PdsLocations`, ETSI EN 319 412-5 §4.2.3.
pub type PdsLocations = Vec<PdsLocation>;

/// `PdsLocation`, ETSI EN 319 412-5 §4.2.3.
#[derive(Clone, Debug, Eq, PartialEq, Sequence)]
pub struct PdsLocation {
    /// `url`: where the PKI disclosure statement is published.
    pub url: Ia5String,
    /// `language`: ISO 639-1 code.
    pub language: PrintableString,
}

/// What a certificate's QCStatements say, read from the statements this crate knows.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct QcStatementsInfo {
    /// Every `statementId`, in order (known or not).
    #[serde(serialize_with = "serialize_oids")]
    pub statement_ids: Vec<ObjectIdentifier>,
    /// QcCompliance (0.4.0.1862.1.1): issued as an EU qualified certificate.
    pub compliance: bool,
    /// QcSSCD (0.4.0.1862.1.4): the private key is in a qualified signature creation device.
    pub sscd: bool,
    /// QcType (0.4.0.1862.1.6) type OIDs: esign, eseal, web.
    #[serde(serialize_with = "serialize_oids")]
    pub qc_types: Vec<ObjectIdentifier>,
    /// QcCClegislation (0.4.0.1862.1.7) country codes, when qualified under a non-EU law.
    pub legislation_countries: Vec<String>,
    /// QcPDS (0.4.0.1862.1.5) locations as (url, language).
    pub pds_locations: Vec<(String, String)>,
    /// QcRetentionPeriod (0.4.0.1862.1.3) in years.
    pub retention_period_years: Option<u64>,
}

impl QcStatementsInfo {
    /// Whether QcType lists `id-etsi-qct-esign` (a certificate for electronic signatures).
    pub fn is_esign(&self) -> bool {
        self.qc_types.contains(&oids::QCT_ESIGN)
    }
}

fn serialize_oids<S: serde::Serializer>(
    oids: &[ObjectIdentifier],
    s: S,
) -> Result<S::Ok, S::Error> {
    s.collect_seq(oids.iter().map(|o| o.to_string()))
}

/// Reads the DER of a QCStatements extension value.
pub fn read_qc_statements(der: &[u8]) -> Result<QcStatementsInfo, der::Error> {
    let statements = QcStatements::from_der(der)?;
    let mut info = QcStatementsInfo::default();
    for st in &statements {
        info.statement_ids.push(st.statement_id);
        let body = st.statement_info.as_ref();
        match st.statement_id {
            oids::QCS_QC_COMPLIANCE => info.compliance = true,
            oids::QCS_QC_SSCD => info.sscd = true,
            oids::QCS_QC_TYPE => {
                if let Some(any) = body {
                    info.qc_types.extend(any.decode_as::<QcType>()?);
                }
            }
            oids::QCS_QC_CC_LEGISLATION => {
                if let Some(any) = body {
                    info.legislation_countries.extend(
                        any.decode_as::<QcCcLegislation>()?
                            .iter()
                            .map(|c| c.as_str().to_owned()),
                    );
                }
            }
            oids::QCS_QC_PDS => {
                if let Some(any) = body {
                    info.pds_locations.extend(
                        any.decode_as::<PdsLocations>()?
                            .iter()
                            .map(|p| (p.url.as_str().to_owned(), p.language.as_str().to_owned())),
                    );
                }
            }
            oids::QCS_QC_RETENTION_PERIOD => {
                if let Some(any) = body {
                    info.retention_period_years = Some(any.decode_as::<u64>()?);
                }
            }
            _ => {}
        }
    }
    Ok(info)
}

#[cfg(test)]
mod tests {
    use super::*;
    use der::Encode;

    #[test]
    fn decode_encode_roundtrip_of_test_leaf_statements() {
        let leaf = crate::x509::testdata::cert("leaf");
        let ext = leaf
            .tbs_certificate
            .extensions
            .as_ref()
            .unwrap()
            .iter()
            .find(|e| e.extn_id == oids::PE_QC_STATEMENTS)
            .unwrap();
        let der = ext.extn_value.as_bytes();
        let decoded = QcStatements::from_der(der).unwrap();
        assert_eq!(decoded.to_der().unwrap(), der);
        let info = read_qc_statements(der).unwrap();
        assert!(info.compliance && info.sscd && info.is_esign());
        assert_eq!(info.legislation_countries, vec!["BE".to_string()]);
        assert_eq!(
            info.pds_locations,
            vec![(
                "https://pds.example.test/en.pdf".to_string(),
                "en".to_string()
            )]
        );
        assert_eq!(info.statement_ids.len(), 5);
    }

    #[test]
    fn malformed_statements_are_errors() {
        assert!(read_qc_statements(&[]).is_err());
        assert!(read_qc_statements(&[0x30, 0x03, 0x30, 0x01, 0x06]).is_err());
        // QcType whose info is not a SEQUENCE OF OID
        let bad = [
            0x30, 0x0c, 0x30, 0x0a, 0x06, 0x06, 0x04, 0x00, 0x8e, 0x46, 0x01, 0x06, 0x05, 0x00,
        ];
        assert!(read_qc_statements(&bad).is_err());
    }
}
