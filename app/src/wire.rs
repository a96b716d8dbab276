//! The JSON bodies of the app API (`notes/APP_API.md`), as sent and received.

use serde::{Deserialize, Serialize};

/// A sign action waiting for this device, as `GET /v1/app/actions` lists it.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[non_exhaustive]
pub struct PendingAction {
    /// The action's id (what `confirm` and `refuse` take).
    pub id: String,
    /// The partner asking for the signature, e.g. "Notary Dupont".
    pub partner: String,
    /// The partner's message to the user.
    pub message: String,
    /// When the action expires.
    #[serde(with = "time::serde::rfc3339")]
    pub expires_at: time::OffsetDateTime,
    /// The icons to choose from, in the order received; one is shown on the partner's page.
    pub icons: Vec<String>,
    /// The documents to sign.
    pub documents: Vec<PendingDocument>,
}

/// One document of a [`PendingAction`].
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[non_exhaustive]
pub struct PendingDocument {
    /// The document's id (named in the confirmation).
    pub id: String,
    /// File name, e.g. `contract.pdf`.
    pub name: String,
    /// Number of pages.
    pub pages: u32,
    /// Size of the original in bytes.
    pub size: u64,
    /// Hex SHA-256 of the original document.
    pub sha256: String,
    /// Hex SHA-256 of the prepared PDF's byte ranges: the CMS message-digest.
    pub document_digest: String,
    /// DER `SET OF Attribute` the app signs (base64 on the wire).
    #[serde(with = "b64")]
    pub signed_attributes: Vec<u8>,
}

/// The outcome of a successful confirmation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum ConfirmOutcome {
    /// 200 `{"status": "signed"}`: the signed documents are ready for the partner.
    Signed,
    /// 202 `{"status": "finalizing"}`: the service finishes the documents in the background.
    Finalizing,
}

#[derive(Serialize)]
pub(crate) struct StartEnrollment<'a> {
    pub phone: &'a str,
}

#[derive(Deserialize)]
pub(crate) struct EnrollmentStarted {
    pub enrollment_id: String,
    #[serde(with = "time::serde::rfc3339")]
    pub expires_at: time::OffsetDateTime,
}

#[derive(Serialize)]
pub(crate) struct CompleteEnrollment<'a> {
    pub code: &'a str,
    pub csr: String,
    pub device_key: String,
}

#[derive(Deserialize)]
pub(crate) struct EnrollmentCompleted {
    pub device_id: String,
    #[serde(with = "b64")]
    pub certificate: Vec<u8>,
    #[serde(with = "b64_list")]
    pub chain: Vec<Vec<u8>>,
}

#[derive(Deserialize)]
pub(crate) struct ActionList {
    pub actions: Vec<PendingAction>,
}

#[derive(Serialize)]
pub(crate) struct Confirm<'a> {
    pub icon: &'a str,
    pub signatures: Vec<DocumentSignature<'a>>,
}

#[derive(Serialize)]
pub(crate) struct DocumentSignature<'a> {
    pub document_id: &'a str,
    pub signature: String,
}

#[derive(Deserialize)]
pub(crate) struct Status {
    pub status: String,
}

#[derive(Serialize)]
pub(crate) struct Refuse {
    pub not_mine: bool,
}

/// The error body every service error carries.
#[derive(Deserialize, Default)]
pub(crate) struct ErrorBody {
    #[serde(default)]
    pub error: String,
    #[serde(default)]
    pub message: String,
}

/// Serde for bytes as standard padded base64.
pub(crate) mod b64 {
    use base64::Engine;
    use serde::{Deserialize, Deserializer, Serializer};

    pub(crate) fn serialize<S: Serializer>(bytes: &[u8], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&base64::engine::general_purpose::STANDARD.encode(bytes))
    }

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
        let text = String::deserialize(d)?;
        base64::engine::general_purpose::STANDARD
            .decode(text.as_bytes())
            .map_err(serde::de::Error::custom)
    }
}

/// Serde for a list of base64 values.
pub(crate) mod b64_list {
    use base64::Engine;
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    pub(crate) fn serialize<S: Serializer>(list: &[Vec<u8>], s: S) -> Result<S::Ok, S::Error> {
        list.iter()
            .map(|b| base64::engine::general_purpose::STANDARD.encode(b))
            .collect::<Vec<_>>()
            .serialize(s)
    }

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<Vec<u8>>, D::Error> {
        Vec::<String>::deserialize(d)?
            .iter()
            .map(|t| {
                base64::engine::general_purpose::STANDARD
                    .decode(t.as_bytes())
                    .map_err(serde::de::Error::custom)
            })
            .collect()
    }
}
