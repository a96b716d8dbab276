//! CMS-generic checks: they know nothing about PDF, so the TSA reply check, XAdES and the PDF
//! validation share them. Each returns a typed finding; the verdict is computed elsewhere.

pub mod chain;
pub mod qualified;
pub mod timestamp;

use x509_cert::Certificate;

/// Validation material gathered from the document: certificates and revocation data from the
/// CMS structures and the PDF's Document Security Store.
#[derive(Clone, Debug, Default)]
pub struct Material {
    /// Certificates that may serve as intermediates (never as anchors).
    pub certs: Vec<Certificate>,
    /// DER CRLs.
    pub crls: Vec<Vec<u8>>,
    /// DER OCSP responses (full `OCSPResponse` or `BasicOCSPResponse`).
    pub ocsps: Vec<Vec<u8>>,
}

impl Material {
    /// Adds what a parsed CMS carries (certificates, CRLs, OCSP responses).
    pub fn extend_from_cms(&mut self, cms: &formats::cms::SignedCms) {
        use der::Encode;
        for c in &cms.certificates {
            if !self.certs.contains(c) {
                self.certs.push(c.clone());
            }
        }
        for crl in &cms.crls {
            if let Ok(der) = crl.value.to_der() {
                if !self.crls.contains(&der) {
                    self.crls.push(der);
                }
            }
        }
        for o in &cms.ocsp_responses {
            if !self.ocsps.contains(&o.der) {
                self.ocsps.push(o.der.clone());
            }
        }
    }

    /// Merges `other` into `self`.
    pub fn merge(&mut self, other: &Material) {
        for c in &other.certs {
            if !self.certs.contains(c) {
                self.certs.push(c.clone());
            }
        }
        for c in &other.crls {
            if !self.crls.contains(c) {
                self.crls.push(c.clone());
            }
        }
        for o in &other.ocsps {
            if !self.ocsps.contains(o) {
                self.ocsps.push(o.clone());
            }
        }
    }
}

/// What the caller trusts and when it validates.
#[derive(Clone, Copy, Debug)]
pub struct Context<'a> {
    /// Trust anchors.
    pub anchors: &'a [Certificate],
    /// The validation time ("now", injectable).
    pub now: time::OffsetDateTime,
    /// Missing revocation information is INDETERMINATE rather than a warning.
    pub require_revocation: bool,
}

/// RFC 3339 text of a time.
pub fn rfc3339(t: time::OffsetDateTime) -> String {
    t.format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_else(|_| t.to_string())
}
