//! Step two: check the device's signature value, build the CMS, time-stamp it for B-T, and
//! write the signed PDF (the original, streamed, then the update with `/Contents` filled).

use std::io::Write;

use formats::crypto::{ecdsa_raw_to_der, verify_signature, DigestAlgorithm, KeyKind};
use formats::oids;
use formats::pdf::Source;
use sha2::{Digest, Sha256};
use spki::AlgorithmIdentifierOwned;

use super::options::{Level, SignatureAlgorithm};
use super::prepared::Prepared;
use super::signed_data::{algorithm_identifier, assemble, Chain};
use super::stream::{copy_prefix, edges_sha256, sha256_prefix};
use super::timestamp::Timestamper;
use super::PadesError;

/// Finishes a prepared signature: [`signature_container`], then [`write_signed`] to `out`.
///
/// `document` must be the very document given to `prepare`; `chain` the same certificates
/// (signer first). For B-T, `timestamper` is asked for a token over the SHA-256 of the
/// signature value.
///
/// # Errors
/// See [`signature_container`] and [`write_signed`]. On
/// [`PadesError::PlaceholderTooSmall`], prepare again with a larger `min_contents_len`.
pub fn finalize<S: Source, W: Write>(
    prepared: &Prepared,
    document: S,
    signature_value: &[u8],
    chain: &[Vec<u8>],
    timestamper: Option<&dyn Timestamper>,
    out: &mut W,
) -> Result<(), PadesError> {
    if document.len() != prepared.original_len {
        return Err(PadesError::DocumentMismatch {
            what: format!(
                "{} bytes instead of {}",
                document.len(),
                prepared.original_len
            ),
        });
    }
    let cms = signature_container(prepared, signature_value, chain, timestamper)?;
    write_signed(prepared, document, &cms, out)
}

/// The DER CMS `ContentInfo` to embed: checks that `chain[0]` is the certificate the signed
/// attributes name and that `signature_value` (DER, or raw `r‖s` for ECDSA) verifies with
/// its key over the signed attributes, then assembles `SignerInfo` and a detached
/// `SignedData` with the certificates, and for B-T the signature time-stamp.
///
/// # Errors
/// [`PadesError::CertificateMismatch`], [`PadesError::BadSignature`] before anything else
/// is done; [`PadesError::NoTimestamper`], [`PadesError::Timestamp`],
/// [`PadesError::BadTimestampToken`] for B-T; [`PadesError::PlaceholderTooSmall`] when the
/// result does not fit `/Contents`.
pub fn signature_container(
    prepared: &Prepared,
    signature_value: &[u8],
    chain: &[Vec<u8>],
    timestamper: Option<&dyn Timestamper>,
) -> Result<Vec<u8>, PadesError> {
    let chain = Chain::parse(chain)?;
    if Sha256::digest(chain.signer_der()).as_slice() != prepared.signer_certificate_sha256 {
        return Err(PadesError::CertificateMismatch);
    }
    let kind = chain.key_kind()?;
    let (algorithm, signature) = check_signature(prepared, &chain, kind, signature_value)?;

    let token = match prepared.level {
        Level::BB => None,
        Level::BT => {
            let tsa = timestamper.ok_or(PadesError::NoTimestamper)?;
            let imprint = Sha256::digest(&signature).to_vec();
            let token = tsa.timestamp(DigestAlgorithm::Sha256, &imprint)?;
            check_token(&token, &imprint)?;
            Some(token)
        }
    };
    let cms = assemble(
        &prepared.signed_attributes,
        &algorithm,
        &signature,
        &chain,
        token.as_deref(),
    )?;
    let available = prepared.contents_capacity();
    if cms.len() > available {
        return Err(PadesError::PlaceholderTooSmall {
            needed: cms.len(),
            available,
        });
    }
    Ok(cms)
}

/// Writes the signed PDF: `document` followed by the update with `cms` in `/Contents`.
///
/// The document is checked quickly before it is copied: its length and the SHA-256 of its
/// first and last 64 KiB (header, trailer, newest cross-reference section) must be those
/// `prepare` saw. A document changed elsewhere with the same length gives a signature no
/// validator accepts (the signed digest covers every byte), never a valid signature over
/// other content; callers that want the full check before writing call
/// [`verify_document`] (one more pass over the document).
///
/// # Errors
/// [`PadesError::DocumentMismatch`], [`PadesError::PlaceholderTooSmall`], I/O errors.
pub fn write_signed<S: Source, W: Write>(
    prepared: &Prepared,
    document: S,
    cms: &[u8],
    out: &mut W,
) -> Result<(), PadesError> {
    prepared.check()?;
    if document.len() != prepared.original_len {
        return Err(PadesError::DocumentMismatch {
            what: format!(
                "{} bytes instead of {}",
                document.len(),
                prepared.original_len
            ),
        });
    }
    let available = prepared.contents_capacity();
    if cms.len() > available {
        return Err(PadesError::PlaceholderTooSmall {
            needed: cms.len(),
            available,
        });
    }
    let (start, _end) = prepared.contents_in_update()?;
    let mut update = prepared.update.clone();
    let hex = hex::encode(cms);
    update[start..start + hex.len()].copy_from_slice(hex.as_bytes());

    if edges_sha256(&document, prepared.original_len)? != prepared.original_edges_sha256 {
        return Err(PadesError::DocumentMismatch {
            what: "its first or last 64 KiB differ".into(),
        });
    }
    copy_prefix(&document, prepared.original_len, out)?;
    out.write_all(&update)?;
    out.flush()?;
    Ok(())
}

/// Verifies the signature value with the signer's key over the signed attributes; returns
/// the algorithm identifier it verified under and the DER value to embed.
fn check_signature(
    prepared: &Prepared,
    chain: &Chain,
    kind: KeyKind,
    value: &[u8],
) -> Result<(AlgorithmIdentifierOwned, Vec<u8>), PadesError> {
    let candidates: Vec<SignatureAlgorithm> = match (prepared.signature_algorithm, kind) {
        (Some(a), _) => vec![a],
        (None, KeyKind::Rsa { .. }) => vec![
            SignatureAlgorithm::RsaPkcs1Sha256,
            SignatureAlgorithm::RsaPssSha256,
        ],
        (None, KeyKind::EcP256 | KeyKind::EcP384) => vec![SignatureAlgorithm::EcdsaSha256],
    };
    let mut values = vec![value.to_vec()];
    if matches!(kind, KeyKind::EcP256 | KeyKind::EcP384) {
        // a device may return the raw r‖s form (WebCrypto, PKCS#11)
        if let Some(der) = ecdsa_raw_to_der(value) {
            values.push(der);
        }
    }
    let spki = &chain.signer.tbs_certificate.subject_public_key_info;
    let mut first_error = None;
    for alg in candidates {
        let id = algorithm_identifier(alg)?;
        for v in &values {
            match verify_signature(
                spki,
                &id,
                Some(DigestAlgorithm::Sha256),
                &prepared.signed_attributes,
                v,
            ) {
                Ok(_) => return Ok((id, v.clone())),
                Err(e) => {
                    first_error.get_or_insert(e);
                }
            }
        }
    }
    Err(PadesError::BadSignature {
        source: first_error.unwrap_or(formats::crypto::SignatureError::Invalid),
    })
}

/// The token is a `SignedData` over a `TSTInfo` whose imprint is SHA-256 of the
/// signature value.
fn check_token(token: &[u8], imprint: &[u8]) -> Result<(), PadesError> {
    let bad = |reason: String| PadesError::BadTimestampToken { reason };
    let cms = formats::cms::parse_signed_cms(token).map_err(|e| bad(e.to_string()))?;
    if cms.content_type != oids::ID_CT_TST_INFO {
        return Err(bad(format!(
            "content type {} is not id-ct-TSTInfo",
            cms.content_type
        )));
    }
    let content = cms
        .content
        .ok_or_else(|| bad("the token has no TSTInfo".into()))?;
    let info = <x509_tsp::TstInfo as der::Decode>::from_der(&content)
        .map_err(|e| bad(format!("TSTInfo: {e}")))?;
    let mi = &info.message_imprint;
    if mi.hash_algorithm.oid != oids::SHA256 || mi.hashed_message.as_bytes() != imprint {
        return Err(bad(
            "its message imprint is not the SHA-256 of the signature value".into(),
        ));
    }
    if cms.was_ber {
        return Err(bad("the token is BER, not DER".into()));
    }
    Ok(())
}

/// Checks that `document` is byte for byte the one `prepare` saw (its full SHA-256).
///
/// # Errors
/// [`PadesError::DocumentMismatch`], I/O errors.
pub fn verify_document<S: Source + Sync>(
    prepared: &Prepared,
    document: S,
) -> Result<(), PadesError> {
    if document.len() != prepared.original_len {
        return Err(PadesError::DocumentMismatch {
            what: format!(
                "{} bytes instead of {}",
                document.len(),
                prepared.original_len
            ),
        });
    }
    if sha256_prefix(&document, prepared.original_len)? != prepared.original_sha256 {
        return Err(PadesError::DocumentMismatch {
            what: "its SHA-256 differs".into(),
        });
    }
    Ok(())
}
