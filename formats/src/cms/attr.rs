//! The CMS attributes every signer writes (RFC 5652 §11): reading one from a SignerInfo,
//! and building content-type, message-digest and signing-time for a signer.

use const_oid::ObjectIdentifier;
use der::asn1::{GeneralizedTime, OctetString, SetOfVec, UtcTime};
use der::{Any, DecodeOwned, Encode};
use x509_cert::attr::{Attribute, Attributes};
use x509_cert::time::Time;

use crate::oids;

/// Why an attribute could not be read.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AttributeError {
    /// The attribute appears more than once (RFC 5652 §5.3 forbids it for the
    /// attributes read here).
    #[error("attribute {oid} appears more than once")]
    Repeated {
        /// Dotted OID of the attribute.
        oid: String,
    },
    /// The attribute does not have exactly one value.
    #[error("attribute {oid} has {count} values instead of one")]
    ValueCount {
        /// Dotted OID of the attribute.
        oid: String,
        /// Number of values found.
        count: usize,
    },
    /// The value does not decode as the attribute's type.
    #[error("attribute {oid} is malformed: {source}")]
    Decode {
        /// Dotted OID of the attribute.
        oid: String,
        /// The decoder's complaint.
        source: der::Error,
    },
}

/// The single value of the attribute `oid` in `attrs`: `Ok(None)` when absent, an
/// error when it is repeated or does not hold exactly one value.
pub fn single_value(
    attrs: Option<&Attributes>,
    oid: ObjectIdentifier,
) -> Result<Option<&Any>, AttributeError> {
    let mut found = attrs
        .into_iter()
        .flat_map(|s| s.iter())
        .filter(|a| a.oid == oid);
    let Some(attr) = found.next() else {
        return Ok(None);
    };
    if found.next().is_some() {
        return Err(AttributeError::Repeated {
            oid: oid.to_string(),
        });
    }
    match attr.values.as_slice() {
        [one] => Ok(Some(one)),
        values => Err(AttributeError::ValueCount {
            oid: oid.to_string(),
            count: values.len(),
        }),
    }
}

/// The single value of attribute `oid`, decoded as `T`.
pub fn decode_single<T: DecodeOwned>(
    attrs: Option<&Attributes>,
    oid: ObjectIdentifier,
) -> Result<Option<T>, AttributeError> {
    let Some(any) = single_value(attrs, oid)? else {
        return Ok(None);
    };
    let err = |source| AttributeError::Decode {
        oid: oid.to_string(),
        source,
    };
    let der = any.to_der().map_err(err)?;
    T::from_der(&der).map(Some).map_err(err)
}

/// A `Time` (UTCTime or GeneralizedTime) as an `OffsetDateTime`.
pub fn time_to_offset(t: Time) -> Option<time::OffsetDateTime> {
    let d = t.to_unix_duration();
    let secs = i64::try_from(d.as_secs()).ok()?;
    let base = time::OffsetDateTime::from_unix_timestamp(secs).ok()?;
    base.checked_add(time::Duration::nanoseconds(i64::from(d.subsec_nanos())))
}

fn attribute(oid: ObjectIdentifier, value: Any) -> Result<Attribute, der::Error> {
    let mut values = SetOfVec::new();
    values.insert(value)?;
    Ok(Attribute { oid, values })
}

/// content-type attribute (RFC 5652 §11.1).
pub fn content_type_attribute(content_type: ObjectIdentifier) -> Result<Attribute, der::Error> {
    attribute(oids::ID_CONTENT_TYPE, Any::encode_from(&content_type)?)
}

/// message-digest attribute (RFC 5652 §11.2).
pub fn message_digest_attribute(digest: &[u8]) -> Result<Attribute, der::Error> {
    attribute(
        oids::ID_MESSAGE_DIGEST,
        Any::encode_from(&OctetString::new(digest)?)?,
    )
}

/// signing-time attribute (RFC 5652 §11.3): UTCTime for 1950–2049, GeneralizedTime
/// otherwise. Sub-second precision is dropped.
pub fn signing_time_attribute(at: time::OffsetDateTime) -> Result<Attribute, der::Error> {
    let secs = u64::try_from(at.unix_timestamp())
        .map_err(|_before_1970| der::Error::from(der::ErrorKind::DateTime))?;
    let d = core::time::Duration::from_secs(secs);
    let value = match UtcTime::from_unix_duration(d) {
        Ok(t) => Any::encode_from(&t)?,
        Err(_beyond_2049) => Any::encode_from(&GeneralizedTime::from_unix_duration(d)?)?,
    };
    attribute(oids::ID_SIGNING_TIME, value)
}

/// Encodes attributes as the DER `SET OF Attribute` (tag 0x31) that a signer signs
/// (RFC 5652 §5.4), sorted as DER requires.
pub fn signed_attributes_der(attrs: &[Attribute]) -> Result<Vec<u8>, der::Error> {
    let set: Attributes = SetOfVec::try_from(attrs.to_vec())?;
    set.to_der()
}

#[cfg(test)]
mod tests {
    use super::*;
    use der::Decode;

    #[test]
    fn built_attributes_read_back() {
        let attrs: Attributes = SetOfVec::try_from(vec![
            content_type_attribute(oids::ID_DATA).unwrap(),
            message_digest_attribute(&[7u8; 32]).unwrap(),
            signing_time_attribute(time::macros::datetime!(2026-11-22 16:12:06 UTC)).unwrap(),
        ])
        .unwrap();
        let ct: Option<ObjectIdentifier> =
            decode_single(Some(&attrs), oids::ID_CONTENT_TYPE).unwrap();
        assert_eq!(ct, Some(oids::ID_DATA));
        let md: Option<OctetString> = decode_single(Some(&attrs), oids::ID_MESSAGE_DIGEST).unwrap();
        assert_eq!(md.unwrap().as_bytes(), &[7u8; 32]);
        let st: Option<Time> = decode_single(Some(&attrs), oids::ID_SIGNING_TIME).unwrap();
        let st = st.unwrap();
        assert!(matches!(st, Time::UtcTime(_)));
        assert_eq!(
            time_to_offset(st),
            Some(time::macros::datetime!(2026-11-22 16:12:06 UTC))
        );
        // and the DER SET round-trips byte for byte
        let der = signed_attributes_der(attrs.as_slice()).unwrap();
        assert_eq!(der[0], 0x31);
        assert_eq!(Attributes::from_der(&der).unwrap().to_der().unwrap(), der);
    }

    #[test]
    fn late_signing_time_uses_generalized_time() {
        let a = signing_time_attribute(time::macros::datetime!(2051-01-01 00:00:00 UTC)).unwrap();
        let attrs: Attributes = SetOfVec::try_from(vec![a]).unwrap();
        let st: Option<Time> = decode_single(Some(&attrs), oids::ID_SIGNING_TIME).unwrap();
        assert!(matches!(st, Some(Time::GeneralTime(_))));
    }

    #[test]
    fn repeated_and_multi_valued_attributes_are_errors() {
        let a = message_digest_attribute(&[1]).unwrap();
        let b = message_digest_attribute(&[2]).unwrap();
        let attrs: Attributes = SetOfVec::try_from(vec![a.clone(), b.clone()]).unwrap();
        assert!(matches!(
            single_value(Some(&attrs), oids::ID_MESSAGE_DIGEST),
            Err(AttributeError::Repeated { .. })
        ));
        let mut two = a;
        two.values.insert(b.values.get(0).unwrap().clone()).unwrap();
        let attrs: Attributes = SetOfVec::try_from(vec![two]).unwrap();
        assert!(matches!(
            single_value(Some(&attrs), oids::ID_MESSAGE_DIGEST),
            Err(AttributeError::ValueCount { count: 2, .. })
        ));
        assert_eq!(single_value(None, oids::ID_MESSAGE_DIGEST), Ok(None));
    }
}
