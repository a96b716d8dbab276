//! `TimeStampResp` and `PKIStatusInfo` (RFC 3161 §2.4.2): encoding our replies and decoding
//! anyone's.
//!
//! We model `PKIStatusInfo` here instead of using `cmpv2` 0.2 (which `x509-tsp` 0.1 reuses):
//! its `PKIFailureInfo` flag values are bit *numbers* used as masks (badAlg = 0,
//! badTime = badRequest = 2) in a `u16`, so it can neither encode `badAlg` nor hold
//! `systemFailure` (bit 25). Here `failInfo` is a plain DER `BIT STRING` with named bits.

use std::fmt;

use der::{
    asn1::{Any, BitString},
    Decode, Encode, Sequence,
};

/// `PKIStatus` values (RFC 3161 §2.4.2, RFC 4210 §5.2.3).
#[derive(Clone, Copy, Debug, Eq, PartialEq)]
#[non_exhaustive]
pub enum PkiStatus {
    /// granted (0): a token is included.
    Granted,
    /// grantedWithMods (1): a token is included, with modifications.
    GrantedWithMods,
    /// rejection (2).
    Rejection,
    /// waiting (3): the request is not processed yet.
    Waiting,
    /// revocationWarning (4): a revocation is imminent.
    RevocationWarning,
    /// revocationNotification (5): a revocation has occurred.
    RevocationNotification,
    /// A value outside RFC 3161.
    Unknown(u64),
}

impl PkiStatus {
    /// The INTEGER value.
    pub fn value(self) -> u64 {
        match self {
            Self::Granted => 0,
            Self::GrantedWithMods => 1,
            Self::Rejection => 2,
            Self::Waiting => 3,
            Self::RevocationWarning => 4,
            Self::RevocationNotification => 5,
            Self::Unknown(v) => v,
        }
    }

    /// The status for an INTEGER value.
    pub fn from_value(value: u64) -> Self {
        match value {
            0 => Self::Granted,
            1 => Self::GrantedWithMods,
            2 => Self::Rejection,
            3 => Self::Waiting,
            4 => Self::RevocationWarning,
            5 => Self::RevocationNotification,
            other => Self::Unknown(other),
        }
    }

    /// Whether a token accompanies this status (granted or grantedWithMods).
    pub fn is_granted(self) -> bool {
        matches!(self, Self::Granted | Self::GrantedWithMods)
    }
}

/// The `PKIFailureInfo` bits a TSA uses (RFC 3161 §2.4.2), in bit order.
#[derive(Clone, Copy, Debug, Eq, Hash, PartialEq)]
#[non_exhaustive]
pub enum FailureInfo {
    /// badAlg (0): unrecognized or unsupported algorithm identifier.
    BadAlg,
    /// badRequest (2): transaction not permitted or supported.
    BadRequest,
    /// badDataFormat (5): the data submitted has the wrong format.
    BadDataFormat,
    /// timeNotAvailable (14): the TSA's time source is not available.
    TimeNotAvailable,
    /// unacceptedPolicy (15): the requested TSA policy is not supported.
    UnacceptedPolicy,
    /// unacceptedExtension (16): the requested extension is not supported.
    UnacceptedExtension,
    /// addInfoNotAvailable (17): the additional information requested is not available.
    AddInfoNotAvailable,
    /// systemFailure (25): the request cannot be handled due to system failure.
    SystemFailure,
    /// Another bit (RFC 4210 defines bits up to 26).
    Other(u16),
}

impl FailureInfo {
    /// The bit number in `PKIFailureInfo`.
    pub fn bit(self) -> u16 {
        match self {
            Self::BadAlg => 0,
            Self::BadRequest => 2,
            Self::BadDataFormat => 5,
            Self::TimeNotAvailable => 14,
            Self::UnacceptedPolicy => 15,
            Self::UnacceptedExtension => 16,
            Self::AddInfoNotAvailable => 17,
            Self::SystemFailure => 25,
            Self::Other(bit) => bit,
        }
    }

    /// The failure for a bit number.
    pub fn from_bit(bit: u16) -> Self {
        match bit {
            0 => Self::BadAlg,
            2 => Self::BadRequest,
            5 => Self::BadDataFormat,
            14 => Self::TimeNotAvailable,
            15 => Self::UnacceptedPolicy,
            16 => Self::UnacceptedExtension,
            17 => Self::AddInfoNotAvailable,
            25 => Self::SystemFailure,
            other => Self::Other(other),
        }
    }

    /// The ASN.1 name, as RFC 3161 spells it.
    pub fn name(self) -> &'static str {
        match self {
            Self::BadAlg => "badAlg",
            Self::BadRequest => "badRequest",
            Self::BadDataFormat => "badDataFormat",
            Self::TimeNotAvailable => "timeNotAvailable",
            Self::UnacceptedPolicy => "unacceptedPolicy",
            Self::UnacceptedExtension => "unacceptedExtension",
            Self::AddInfoNotAvailable => "addInfoNotAvailable",
            Self::SystemFailure => "systemFailure",
            Self::Other(_) => "other",
        }
    }
}

impl fmt::Display for FailureInfo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Other(bit) => write!(f, "failure bit {bit}"),
            known => f.write_str(known.name()),
        }
    }
}

/// RFC 3161 §2.4.2 (from RFC 4210 §5.2.3).
///
/// ```text
/// PKIStatusInfo ::= SEQUENCE {
///     status        PKIStatus,
///     statusString  PKIFreeText     OPTIONAL,
///     failInfo      PKIFailureInfo  OPTIONAL  }
/// PKIFreeText ::= SEQUENCE SIZE (1..MAX) OF UTF8String
/// ```
#[derive(Clone, Debug, Eq, PartialEq, Sequence)]
pub struct PkiStatusInfo {
    /// PKIStatus as an INTEGER (see [`PkiStatus::from_value`]).
    pub status: u64,
    /// Human-readable text.
    #[asn1(optional = "true")]
    pub status_string: Option<Vec<String>>,
    /// The failure bits.
    #[asn1(optional = "true")]
    pub fail_info: Option<BitString>,
}

impl PkiStatusInfo {
    /// The typed status.
    pub fn status(&self) -> PkiStatus {
        PkiStatus::from_value(self.status)
    }

    /// The failure bits that are set, in bit order.
    pub fn failures(&self) -> Vec<FailureInfo> {
        let Some(bits) = &self.fail_info else {
            return Vec::new();
        };
        bits.bits()
            .enumerate()
            .filter(|(_, set)| *set)
            .filter_map(|(i, _)| u16::try_from(i).ok())
            .map(FailureInfo::from_bit)
            .collect()
    }
}

/// RFC 3161 §2.4.2, with the token kept as raw DER so that its bytes are never re-encoded.
///
/// ```text
/// TimeStampResp ::= SEQUENCE  {
///     status                  PKIStatusInfo,
///     timeStampToken          TimeStampToken     OPTIONAL  }
/// TimeStampToken ::= ContentInfo
/// ```
#[derive(Clone, Debug, Eq, PartialEq, Sequence)]
pub struct TimeStampResp {
    /// The status.
    pub status: PkiStatusInfo,
    /// The token (a ContentInfo), present when granted.
    #[asn1(optional = "true")]
    pub time_stamp_token: Option<Any>,
}

impl TimeStampResp {
    /// Decodes a reply.
    ///
    /// # Errors
    /// When `der` is not a DER `TimeStampResp`.
    pub fn from_der_bytes(der: &[u8]) -> der::Result<Self> {
        Self::from_der(der)
    }

    /// The token's DER (ContentInfo), if present.
    ///
    /// # Errors
    /// Only if re-encoding the header fails (not for decoded input).
    pub fn token_der(&self) -> der::Result<Option<Vec<u8>>> {
        self.time_stamp_token
            .as_ref()
            .map(Encode::to_der)
            .transpose()
    }
}

/// `SEQUENCE { INTEGER 0 }`: PKIStatusInfo granted, pre-encoded for the hot path.
const STATUS_GRANTED: [u8; 5] = [0x30, 0x03, 0x02, 0x01, 0x00];

/// A granted reply around an already-encoded token (a ContentInfo).
pub fn granted(token_der: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(token_der.len() + STATUS_GRANTED.len() + 4);
    crate::der_write::push_header(&mut out, 0x30, STATUS_GRANTED.len() + token_der.len());
    out.extend_from_slice(&STATUS_GRANTED);
    out.extend_from_slice(token_der);
    out
}

/// A rejection reply: status rejection, the text as statusString, `failure` as failInfo.
pub fn rejection(failure: FailureInfo, text: &str) -> Vec<u8> {
    let encoded = fail_info_bits(&[failure]).and_then(|fail_info| {
        TimeStampResp {
            status: PkiStatusInfo {
                status: PkiStatus::Rejection.value(),
                status_string: Some(vec![text.to_owned()]),
                fail_info: Some(fail_info),
            },
            time_stamp_token: None,
        }
        .to_der()
    });
    // Encoding a status, a short string and a bit string does not fail; should it ever, the
    // client still gets a well-formed systemFailure reply.
    encoded.unwrap_or_else(|error| {
        tracing::error!(%error, "encoding a rejection failed");
        SYSTEM_FAILURE.to_vec()
    })
}

/// `SEQUENCE { SEQUENCE { INTEGER 2, BIT STRING systemFailure } }`.
const SYSTEM_FAILURE: [u8; 14] = [
    0x30, 0x0c, 0x30, 0x0a, 0x02, 0x01, 0x02, 0x03, 0x05, 0x06, 0x00, 0x00, 0x00, 0x40,
];

/// A DER named-bit BIT STRING with exactly `failures` set (trailing zero bits removed, X.690
/// §11.2.2).
///
/// # Errors
/// Never in practice: `BitString::new` checks only that unused bits are at most 7.
pub fn fail_info_bits(failures: &[FailureInfo]) -> der::Result<BitString> {
    let highest = failures.iter().map(|f| f.bit()).max().unwrap_or(0);
    let len = usize::from(highest / 8) + 1;
    let mut bytes = vec![0u8; len];
    for failure in failures {
        let bit = usize::from(failure.bit());
        if let Some(byte) = bytes.get_mut(bit / 8) {
            *byte |= 0x80 >> (bit % 8);
        }
    }
    let unused = 7 - (highest % 8) as u8;
    BitString::new(unused, bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fail_info_bits_are_minimal_der() {
        let enc = |f| fail_info_bits(&[f]).unwrap().to_der().unwrap();
        assert_eq!(enc(FailureInfo::BadAlg), [0x03, 0x02, 0x07, 0x80]);
        assert_eq!(enc(FailureInfo::BadDataFormat), [0x03, 0x02, 0x02, 0x04]);
        assert_eq!(
            enc(FailureInfo::UnacceptedPolicy),
            [0x03, 0x03, 0x00, 0x00, 0x01]
        );
        assert_eq!(
            enc(FailureInfo::SystemFailure),
            [0x03, 0x05, 0x06, 0x00, 0x00, 0x00, 0x40]
        );
    }

    #[test]
    fn rejection_round_trips() {
        let der = rejection(FailureInfo::UnacceptedPolicy, "policy 1.2.3 not accepted");
        let resp = TimeStampResp::from_der(&der).unwrap();
        assert_eq!(resp.status.status(), PkiStatus::Rejection);
        assert_eq!(resp.status.failures(), vec![FailureInfo::UnacceptedPolicy]);
        assert_eq!(
            resp.status.status_string.as_deref(),
            Some(&["policy 1.2.3 not accepted".to_owned()][..])
        );
        assert!(resp.time_stamp_token.is_none());
        assert_eq!(resp.to_der().unwrap(), der);
    }

    #[test]
    fn pre_encoded_system_failure_decodes() {
        let resp = TimeStampResp::from_der(&SYSTEM_FAILURE).unwrap();
        assert_eq!(resp.status.failures(), vec![FailureInfo::SystemFailure]);
    }

    #[test]
    fn granted_wraps_the_token_bytes_unchanged() {
        // A minimal stand-in ContentInfo: SEQUENCE { OID 1.2.3 }.
        let token = [0x30, 0x04, 0x06, 0x02, 0x2a, 0x03];
        let der = granted(&token);
        let resp = TimeStampResp::from_der(&der).unwrap();
        assert_eq!(resp.status.status(), PkiStatus::Granted);
        assert_eq!(resp.token_der().unwrap().unwrap(), token);
    }

    #[test]
    fn garbage_is_an_error() {
        for junk in [
            &b""[..],
            b"\x30",
            b"\x30\x00",
            b"\x30\x03\x02\x01",
            &[0xa0; 10],
        ] {
            assert!(TimeStampResp::from_der(junk).is_err());
        }
    }
}
