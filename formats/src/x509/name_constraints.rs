//! Name constraints (RFC 5280 §4.2.1.10, applied as in §6.1.3 (b), (c)) for the name forms
//! found in signature certificates: directoryName, rfc822Name (including emailAddress
//! attributes of the subject) and dNSName.
//!
//! A constraint of another form (URI, iPAddress, otherName, …) is honoured only in the
//! trivial case: when the certificate has no name of that form. Otherwise the check
//! fails closed with [`NameConstraintReason::UnsupportedForm`].

use const_oid::db::rfc3280;
use x509_cert::ext::pkix::constraints::name::GeneralSubtree;
use x509_cert::ext::pkix::name::GeneralName;
use x509_cert::ext::pkix::NameConstraints;
use x509_cert::name::Name;

use super::name::{attribute_string, rdns_match};
use super::Certificate;

/// Why a certificate's names break a CA's name constraints.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum NameConstraintReason {
    /// A name lies in an excluded subtree.
    Excluded,
    /// A name lies outside every permitted subtree of its form.
    NotPermitted,
    /// A constraint of a form this crate does not evaluate applies to one of the names.
    UnsupportedForm,
}

/// Checks the subject and `subject_alt_names` of `cert` against `constraints`.
pub(crate) fn check(
    constraints: &NameConstraints,
    cert: &Certificate,
    subject_alt_names: &[GeneralName],
) -> Result<(), NameConstraintReason> {
    let subject = &cert.tbs_certificate.subject;
    let mut names: Vec<GeneralName> = Vec::new();
    if !subject.0.is_empty() {
        names.push(GeneralName::DirectoryName(subject.clone()));
    }
    names.extend(subject_emails(subject));
    names.extend(subject_alt_names.iter().cloned());

    let permitted = constraints
        .permitted_subtrees
        .as_deref()
        .unwrap_or_default();
    let excluded = constraints.excluded_subtrees.as_deref().unwrap_or_default();
    for name in &names {
        for subtree in excluded.iter().filter(|s| same_form(&s.base, name)) {
            match within(name, subtree) {
                Some(true) => return Err(NameConstraintReason::Excluded),
                Some(false) => {}
                None => return Err(NameConstraintReason::UnsupportedForm),
            }
        }
        let mut of_form = permitted
            .iter()
            .filter(|s| same_form(&s.base, name))
            .peekable();
        if of_form.peek().is_none() {
            continue;
        }
        let mut inside = false;
        for subtree in of_form {
            match within(name, subtree) {
                Some(true) => inside = true,
                Some(false) => {}
                None => return Err(NameConstraintReason::UnsupportedForm),
            }
        }
        if !inside {
            return Err(NameConstraintReason::NotPermitted);
        }
    }
    Ok(())
}

/// emailAddress attributes of the subject, as rfc822Names (RFC 5280 §4.2.1.10).
fn subject_emails(subject: &Name) -> Vec<GeneralName> {
    subject
        .0
        .iter()
        .flat_map(|rdn| rdn.0.iter())
        .filter(|atv| atv.oid == rfc3280::EMAIL_ADDRESS)
        .filter_map(attribute_string)
        .filter_map(|s| der::asn1::Ia5String::new(&s).ok())
        .map(GeneralName::Rfc822Name)
        .collect()
}

fn same_form(a: &GeneralName, b: &GeneralName) -> bool {
    std::mem::discriminant(a) == std::mem::discriminant(b)
}

/// Whether `name` lies in `subtree`; `None` for forms not evaluated.
fn within(name: &GeneralName, subtree: &GeneralSubtree) -> Option<bool> {
    match (name, &subtree.base) {
        (GeneralName::DirectoryName(n), GeneralName::DirectoryName(base)) => Some(
            base.0.len() <= n.0.len()
                && base.0.iter().zip(n.0.iter()).all(|(b, x)| rdns_match(b, x)),
        ),
        (GeneralName::DnsName(n), GeneralName::DnsName(base)) => {
            Some(dns_within(n.as_str(), base.as_str()))
        }
        (GeneralName::Rfc822Name(n), GeneralName::Rfc822Name(base)) => {
            Some(email_within(n.as_str(), base.as_str()))
        }
        _ => None,
    }
}

fn dns_within(name: &str, base: &str) -> bool {
    let name = name.trim_end_matches('.').to_ascii_lowercase();
    let base = base.trim_end_matches('.').to_ascii_lowercase();
    if base.is_empty() {
        return true;
    }
    match base.strip_prefix('.') {
        Some(domain) => name.ends_with(&format!(".{domain}")),
        None => name == base || name.ends_with(&format!(".{base}")),
    }
}

fn email_within(name: &str, base: &str) -> bool {
    let name = name.to_ascii_lowercase();
    let base = base.to_ascii_lowercase();
    let Some((_, host)) = name.rsplit_once('@') else {
        return false;
    };
    if base.contains('@') {
        name == base
    } else if base.starts_with('.') {
        host.ends_with(&base)
    } else {
        host == base
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    fn subtree(base: GeneralName) -> GeneralSubtree {
        GeneralSubtree {
            base,
            minimum: 0,
            maximum: None,
        }
    }

    fn dir(s: &str) -> GeneralName {
        GeneralName::DirectoryName(Name::from_str(s).unwrap())
    }

    #[test]
    fn directory_subtrees() {
        let base = subtree(dir("O=Chain Test,C=BE"));
        assert_eq!(within(&dir("CN=A,O=Chain Test,C=BE"), &base), Some(true));
        assert_eq!(within(&dir("CN=A,O=chain test,C=BE"), &base), Some(true));
        assert_eq!(within(&dir("CN=A,O=Elsewhere,C=BE"), &base), Some(false));
        assert_eq!(within(&dir("C=BE"), &base), Some(false));
    }

    #[test]
    fn dns_and_email_subtrees() {
        assert!(dns_within("a.example.com", "example.com"));
        assert!(dns_within("example.com", "example.com"));
        assert!(!dns_within("badexample.com", "example.com"));
        assert!(dns_within("a.example.com", ".example.com"));
        assert!(!dns_within("example.com", ".example.com"));
        assert!(email_within("alice@example.com", "example.com"));
        assert!(!email_within("alice@a.example.com", "example.com"));
        assert!(email_within("alice@a.example.com", ".example.com"));
        assert!(email_within("Alice@Example.com", "alice@example.com"));
        assert!(!email_within("bob@example.com", "alice@example.com"));
        assert!(!email_within("no-at-sign", "example.com"));
    }

    #[test]
    fn unsupported_forms_fail_closed_only_when_they_apply() {
        let ip = GeneralName::IpAddress(
            der::asn1::OctetString::new(vec![10, 0, 0, 0, 255, 0, 0, 0]).unwrap(),
        );
        let constraints = NameConstraints {
            permitted_subtrees: Some(vec![subtree(ip)]),
            excluded_subtrees: None,
        };
        let leaf = crate::x509::testdata::cert("leaf");
        assert_eq!(check(&constraints, &leaf, &[]), Ok(()));
        let san = [GeneralName::IpAddress(
            der::asn1::OctetString::new(vec![10, 1, 2, 3]).unwrap(),
        )];
        assert_eq!(
            check(&constraints, &leaf, &san),
            Err(NameConstraintReason::UnsupportedForm)
        );
    }
}
