//! What the signer certificate claims about qualification (ETSI EN 319 412-1/2/5): the
//! QCStatements and the QCP-n-qscd policy. Informational: whether the issuer is on an EU
//! trusted list is not checked (no trusted-list processing yet).

use serde::Serialize;
use x509_cert::Certificate;

/// The qualification claims of a certificate.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct QualifiedInfo {
    /// QcCompliance: issued as an EU qualified certificate.
    pub qc_compliance: bool,
    /// QcSSCD: the key is in a qualified signature creation device.
    pub qc_sscd: bool,
    /// QcType lists id-etsi-qct-esign.
    pub esign: bool,
    /// certificatePolicies includes QCP-n-qscd (0.4.0.194112.1.2).
    pub qcp_n_qscd: bool,
}

impl QualifiedInfo {
    /// Whether the certificate claims everything a qualified signature needs.
    pub fn claims_qualified(&self) -> bool {
        self.qc_compliance && self.qc_sscd && self.esign
    }
}

/// Reads the claims; `None` when the certificate has no QCStatements and no QCP policy.
pub fn qualified_info(cert: &Certificate) -> Option<QualifiedInfo> {
    let ext = formats::x509::ext::read_extensions(cert).ok()?;
    let qcp = ext
        .certificate_policies
        .contains(&formats::oids::QCP_N_QSCD);
    let qc = ext.qc_statements.as_ref();
    if qc.is_none() && !qcp {
        return None;
    }
    Some(QualifiedInfo {
        qc_compliance: qc.is_some_and(|q| q.compliance),
        qc_sscd: qc.is_some_and(|q| q.sscd),
        esign: qc.is_some_and(|q| q.is_esign()),
        qcp_n_qscd: qcp,
    })
}
