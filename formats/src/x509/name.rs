//! Distinguished names: RFC 4514 strings for reports and RFC 5280 §7.1 name comparison.

use const_oid::db::{rfc3280, rfc4519};
use const_oid::ObjectIdentifier;
use der::{Encode, Tag, Tagged};
use x509_cert::attr::AttributeTypeAndValue;
use x509_cert::name::{Name, RelativeDistinguishedName};

/// organizationIdentifier, X.520 (used by ETSI EN 319 412-1 for legal persons).
const ORGANIZATION_IDENTIFIER: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.4.97");

/// Short names written in reports: RFC 4514 §3 names, then the usual OpenSSL ones.
const SHORT_NAMES: &[(ObjectIdentifier, &str)] = &[
    (rfc4519::CN, "CN"),
    (rfc4519::L, "L"),
    (rfc4519::ST, "ST"),
    (rfc4519::O, "O"),
    (rfc4519::OU, "OU"),
    (rfc4519::C, "C"),
    (rfc4519::STREET, "STREET"),
    (rfc4519::DC, "DC"),
    (rfc4519::UID, "UID"),
    (rfc4519::SN, "SN"),
    (rfc4519::GIVEN_NAME, "givenName"),
    (rfc4519::SERIAL_NUMBER, "serialNumber"),
    (rfc4519::TITLE, "title"),
    (rfc4519::INITIALS, "initials"),
    (rfc4519::GENERATION_QUALIFIER, "generationQualifier"),
    (rfc4519::DN_QUALIFIER, "dnQualifier"),
    (rfc4519::POSTAL_CODE, "postalCode"),
    (rfc3280::PSEUDONYM, "pseudonym"),
    (rfc3280::EMAIL_ADDRESS, "emailAddress"),
    (ORGANIZATION_IDENTIFIER, "organizationIdentifier"),
];

/// `name` as an RFC 4514 string: RDNs most significant last, separated by `,`; multi-valued
/// RDNs joined by `+`; attribute types by short name or dotted OID; values escaped per
/// RFC 4514 §2.4, or `#hex` of the DER when the value is not a string.
pub fn name_to_string(name: &Name) -> String {
    let mut out = String::new();
    for (i, rdn) in name.0.iter().rev().enumerate() {
        if i > 0 {
            out.push(',');
        }
        for (j, atv) in rdn.0.iter().enumerate() {
            if j > 0 {
                out.push('+');
            }
            push_atv(&mut out, atv);
        }
    }
    out
}

fn push_atv(out: &mut String, atv: &AttributeTypeAndValue) {
    match SHORT_NAMES.iter().find(|(oid, _)| *oid == atv.oid) {
        Some((_, short)) => out.push_str(short),
        None => out.push_str(&atv.oid.to_string()),
    }
    out.push('=');
    match attribute_string(atv) {
        Some(value) => escape_into(out, &value),
        None => {
            out.push('#');
            out.push_str(&hex::encode(atv.value.to_der().unwrap_or_default()));
        }
    }
}

fn escape_into(out: &mut String, value: &str) {
    let last = value.chars().count().saturating_sub(1);
    for (i, c) in value.chars().enumerate() {
        match c {
            '#' if i == 0 => out.push_str("\\#"),
            ' ' if i == 0 || i == last => out.push_str("\\ "),
            '"' | '+' | ',' | ';' | '<' | '>' | '\\' | '=' => {
                out.push('\\');
                out.push(c);
            }
            '\0'..='\x1f' | '\x7f' => out.push_str(&format!("\\{:02x}", c as u32)),
            _ => out.push(c),
        }
    }
}

/// The value of an attribute as text, for the string types X.520 names use
/// (UTF8String, PrintableString, IA5String, VisibleString, NumericString, TeletexString
/// read as Latin-1, BMPString; the `der` crate does not decode UniversalString). `None` for other types or invalid encodings.
pub fn attribute_string(atv: &AttributeTypeAndValue) -> Option<String> {
    let bytes = atv.value.value();
    match atv.value.tag() {
        Tag::Utf8String
        | Tag::PrintableString
        | Tag::Ia5String
        | Tag::VisibleString
        | Tag::NumericString => std::str::from_utf8(bytes).ok().map(str::to_owned),
        Tag::TeletexString => Some(bytes.iter().map(|&b| char::from(b)).collect()),
        Tag::BmpString => {
            let pairs = bytes.chunks_exact(2);
            if !pairs.remainder().is_empty() {
                return None;
            }
            let units = pairs.map(|p| u16::from_be_bytes([p[0], p[1]]));
            char::decode_utf16(units)
                .collect::<Result<String, _>>()
                .ok()
        }
        _ => None,
    }
}

/// The last (most specific) commonName of `name`.
pub fn common_name(name: &Name) -> Option<String> {
    name.0
        .iter()
        .flat_map(|rdn| rdn.0.iter())
        .filter(|atv| atv.oid == rfc4519::CN)
        .filter_map(attribute_string)
        .next_back()
}

/// RFC 5280 §7.1 name matching: equal DER, or the same RDN structure with attribute values
/// equal after case folding and whitespace normalisation (a simplification of RFC 4518
/// string preparation that covers the usual differences between producers: case, and
/// PrintableString against UTF8String).
pub fn names_match(a: &Name, b: &Name) -> bool {
    if a == b {
        return true;
    }
    if a.0.len() != b.0.len() {
        return false;
    }
    a.0.iter()
        .zip(b.0.iter())
        .all(|(ra, rb)| rdns_match(ra, rb))
}

/// Whether two RDNs hold the same attributes, compared as in [`names_match`].
pub(crate) fn rdns_match(a: &RelativeDistinguishedName, b: &RelativeDistinguishedName) -> bool {
    a.0.len() == b.0.len()
        && a.0
            .iter()
            .all(|x| b.0.iter().any(|y| attribute_values_match(x, y)))
}

fn attribute_values_match(x: &AttributeTypeAndValue, y: &AttributeTypeAndValue) -> bool {
    if x.oid != y.oid {
        return false;
    }
    if x.value == y.value {
        return true;
    }
    match (attribute_string(x), attribute_string(y)) {
        (Some(sx), Some(sy)) => normalise(&sx) == normalise(&sy),
        _ => false,
    }
}

fn normalise(s: &str) -> String {
    s.split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    #[test]
    fn formats_and_escapes() {
        let name = Name::from_str("CN=Doe\\, John+UID=jd,O=Example,C=BE").unwrap();
        let s = name_to_string(&name);
        assert!(s.starts_with("CN=Doe\\, John+UID=jd") || s.starts_with("UID=jd+CN=Doe\\, John"));
        assert!(s.ends_with(",O=Example,C=BE"));
        assert_eq!(common_name(&name).as_deref(), Some("Doe, John"));
    }

    #[test]
    fn matches_case_and_whitespace_insensitively() {
        let a = Name::from_str("CN=Chain  Test CA,O=Chain Test,C=BE").unwrap();
        let b = Name::from_str("CN=chain test ca,O=CHAIN TEST,C=BE").unwrap();
        let c = Name::from_str("CN=Other CA,O=Chain Test,C=BE").unwrap();
        let d = Name::from_str("O=Chain Test,C=BE").unwrap();
        assert!(names_match(&a, &b));
        assert!(!names_match(&a, &c));
        assert!(!names_match(&a, &d));
        assert!(names_match(&Name::default(), &Name::default()));
    }

    #[test]
    fn bmp_string_is_read() {
        let value = der::asn1::BmpString::from_utf8("Zoë").unwrap();
        let atv = AttributeTypeAndValue {
            oid: rfc4519::CN,
            value: der::Any::encode_from(&value).unwrap(),
        };
        assert_eq!(attribute_string(&atv).as_deref(), Some("Zoë"));
    }
}
