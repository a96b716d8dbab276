//! Tests on real CMS from pyHanko and OpenSSL (tests/data, see its README) and on
//! hand-built structures for what no tool writes on request (unsorted signed
//! attributes, BER signed attributes, OCSP in RevocationInfoChoices).

use super::*;
use crate::crypto::SignatureScheme;
use der::asn1::Null;
use ring::signature::KeyPair;

pub(crate) fn vector(name: &str) -> Vec<u8> {
    let path = format!("{}/tests/data/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

pub(crate) fn recorded_digest(name: &str) -> Vec<u8> {
    let text = String::from_utf8(vector(name)).unwrap();
    hex::decode(text.trim()).unwrap()
}

fn verify_first(cms: &SignedCms, digest: Option<&[u8]>) -> SignerCheck {
    let signer = &cms.signers[0];
    let cert = cms
        .find_signer_certificate(signer, &[])
        .expect("signer certificate in the CMS");
    signer.verify(&cert, digest)
}

#[test]
fn pyhanko_pades_ecdsa_verifies() {
    let cms = parse_signed_cms(&vector("pyhanko-b-b-p256.p7s")).unwrap();
    assert!(!cms.was_ber);
    assert_eq!(cms.content_type, oids::ID_DATA);
    assert!(cms.content.is_none(), "PAdES is detached");
    assert_eq!(cms.certificates.len(), 3);
    assert_eq!(cms.signers.len(), 1);
    let signer = &cms.signers[0];
    assert_eq!(signer.digest_algorithm(), Ok(DigestAlgorithm::Sha256));
    assert_eq!(signer.signing_time(), Ok(None), "PAdES puts the time in /M");
    assert!(signer.signing_certificate_v2().unwrap().is_some());
    assert!(signer.signature_time_stamp_tokens().is_empty());

    let digest = recorded_digest("pyhanko-b-b-p256.sha256");
    let check = verify_first(&cms, Some(&digest));
    assert_eq!(check.message_digest, MdCheck::Match);
    assert_eq!(
        check.signature,
        Ok(SignatureScheme::Ecdsa(DigestAlgorithm::Sha256))
    );
    assert_eq!(check.content_type, ContentTypeCheck::Match);
    assert_eq!(check.ess, EssCheck::Match { v2: true });
    assert_eq!(check.algorithm_protection, AlgorithmProtectionCheck::Absent);
    assert!(check.problems.is_empty(), "{:?}", check.problems);
    assert!(check.is_valid());
}

#[test]
fn pyhanko_pades_rsa_verifies() {
    let cms = parse_signed_cms(&vector("pyhanko-b-b-rsa.p7s")).unwrap();
    let check = verify_first(&cms, Some(&recorded_digest("pyhanko-b-b-rsa.sha256")));
    assert_eq!(
        check.signature,
        Ok(SignatureScheme::RsaPkcs1(DigestAlgorithm::Sha256))
    );
    assert!(check.is_valid(), "{check:?}");
}

#[test]
fn pyhanko_adbe_pkcs7_has_signing_time_and_algorithm_protection() {
    let cms = parse_signed_cms(&vector("pyhanko-adbe-pkcs7-detached.p7s")).unwrap();
    let signer = &cms.signers[0];
    let t = signer.signing_time().unwrap().unwrap();
    assert!(t.year() >= 2026, "{t}");
    assert!(signer.algorithm_protection().unwrap().is_some());
    let check = verify_first(
        &cms,
        Some(&recorded_digest("pyhanko-adbe-pkcs7-detached.sha256")),
    );
    assert_eq!(
        check.algorithm_protection,
        AlgorithmProtectionCheck::Consistent
    );
    assert!(check.is_valid(), "{check:?}");
}

#[test]
fn pdf_zero_padding_is_ignored_but_other_trailing_bytes_are_not() {
    let mut bytes = vector("pyhanko-b-b-p256.p7s");
    let len = bytes.len();
    bytes.extend(std::iter::repeat_n(0u8, 1500));
    let cms = parse_signed_cms(&bytes).unwrap();
    let check = verify_first(&cms, Some(&recorded_digest("pyhanko-b-b-p256.sha256")));
    assert!(check.is_valid());

    bytes[len + 700] = 0x41;
    match parse_signed_cms(&bytes) {
        Err(CmsError::TrailingData { offset, len: n }) => {
            assert_eq!(offset, len + 700);
            assert_eq!(n, 1500);
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn altered_signature_value_is_a_crypto_failure() {
    let mut bytes = vector("pyhanko-b-b-p256.p7s");
    let sig = parse_signed_cms(&bytes).unwrap().signers[0]
        .signature_value()
        .to_vec();
    let at = bytes
        .windows(sig.len())
        .position(|w| w == sig.as_slice())
        .unwrap();
    // the last byte of the ECDSA s value: still well-formed DER
    bytes[at + sig.len() - 1] ^= 0x01;
    let cms = parse_signed_cms(&bytes).unwrap();
    let check = verify_first(&cms, Some(&recorded_digest("pyhanko-b-b-p256.sha256")));
    assert_eq!(check.message_digest, MdCheck::Match);
    assert_eq!(
        check.signature,
        Err(SignatureCheckError::Crypto(SignatureError::Invalid))
    );
    assert!(!check.is_intact());
}

#[test]
fn wrong_content_digest_is_a_mismatch() {
    let cms = parse_signed_cms(&vector("pyhanko-b-b-p256.p7s")).unwrap();
    let good = recorded_digest("pyhanko-b-b-p256.sha256");
    let mut bad = good.clone();
    bad[0] ^= 0x80;
    let check = verify_first(&cms, Some(&bad));
    assert_eq!(
        check.message_digest,
        MdCheck::Mismatch {
            expected: bad,
            found: good
        }
    );
    assert!(check.signature.is_ok(), "the signed attributes are intact");
    assert!(!check.is_intact());

    let check = verify_first(&cms, None);
    assert_eq!(check.message_digest, MdCheck::NoContentDigest);
    assert!(!check.is_intact());
}

#[test]
fn altered_signed_attribute_breaks_the_signature() {
    let mut bytes = vector("pyhanko-b-b-p256.p7s");
    let digest = recorded_digest("pyhanko-b-b-p256.sha256");
    let at = bytes
        .windows(digest.len())
        .position(|w| w == digest.as_slice())
        .unwrap();
    bytes[at] ^= 0x80;
    let cms = parse_signed_cms(&bytes).unwrap();
    let check = verify_first(&cms, Some(&digest));
    assert!(matches!(check.message_digest, MdCheck::Mismatch { .. }));
    assert_eq!(
        check.signature,
        Err(SignatureCheckError::Crypto(SignatureError::Invalid))
    );
}

#[test]
fn wrong_certificate_is_reported() {
    let cms = parse_signed_cms(&vector("pyhanko-b-b-p256.p7s")).unwrap();
    let ca = &cms.certificates[1];
    assert!(!sid_matches(cms.signers[0].sid(), ca));
    let check = cms.signers[0].verify(ca, Some(&recorded_digest("pyhanko-b-b-p256.sha256")));
    assert!(check.signature.is_err());
    assert!(matches!(check.ess, EssCheck::Mismatch { .. }));
}

#[test]
fn signer_found_by_subject_key_identifier() {
    let cms = parse_signed_cms(&vector("pyhanko-b-b-p256.p7s")).unwrap();
    let cert = cms.find_signer_certificate(&cms.signers[0], &[]).unwrap();
    let ski = subject_key_identifier(&cert).unwrap();
    assert_eq!(
        hex::encode(&ski),
        "ebbb5bdb6c7577a65b70fe89029d0358f1991204"
    );
    let sid = SignerIdentifier::SubjectKeyIdentifier(x509_cert::ext::pkix::SubjectKeyIdentifier(
        OctetString::new(ski).unwrap(),
    ));
    assert!(sid_matches(&sid, &cert));
    assert!(!sid_matches(&sid, &cms.certificates[1]));
    // without the extension: SHA-1 of the public key (RFC 5280 §4.2.1.2 method 1)
    let mut bare = cert.clone();
    bare.tbs_certificate.extensions = None;
    let method1 = DigestAlgorithm::Sha1.digest(
        bare.tbs_certificate
            .subject_public_key_info
            .subject_public_key
            .raw_bytes(),
    );
    let sid = SignerIdentifier::SubjectKeyIdentifier(x509_cert::ext::pkix::SubjectKeyIdentifier(
        OctetString::new(method1).unwrap(),
    ));
    assert!(sid_matches(&sid, &bare));
    // the certificate found among `extra`
    let only_extra = SignedCms {
        certificates: vec![],
        ..cms.clone()
    };
    assert!(only_extra
        .find_signer_certificate(&cms.signers[0], &[])
        .is_none());
    assert_eq!(
        only_extra.find_signer_certificate(&cms.signers[0], &cms.certificates),
        Some(cert)
    );
}

#[test]
fn openssl_stream_ber_verifies() {
    let bytes = vector("openssl-ber-stream.p7s");
    assert_eq!(&bytes[..2], &[0x30, 0x80]);
    let cms = parse_signed_cms(&bytes).unwrap();
    assert_eq!(
        cms.content.as_deref(),
        Some(vector("openssl-data.txt").as_slice()),
        "constructed OCTET STRING flattened"
    );
    let digest = cms.content_digest(&cms.signers[0]).unwrap().unwrap();
    let check = verify_first(&cms, Some(&digest));
    assert!(check.is_valid(), "{check:?}");
    assert!(check.problems.is_empty(), "{:?}", check.problems);
    // the caller may hash the content itself, as for a detached signature
    let own = DigestAlgorithm::Sha256.digest(&vector("openssl-data.txt"));
    assert_eq!(own, digest);
    assert!(verify_first(&cms, Some(&own)).is_valid());
    // OpenSSL writes signing-time and no ESS attribute
    assert!(cms.signers[0].signing_time().unwrap().is_some());
    assert_eq!(check.ess, EssCheck::Absent);
    // the encapsulated content is also readable through the decoded SignedData
    assert!(cms.signed_data.encap_content_info.econtent.is_some());
}

#[test]
fn openssl_without_signed_attributes_verifies_over_the_content_digest() {
    let cms = parse_signed_cms(&vector("openssl-noattr.p7s")).unwrap();
    let signer = &cms.signers[0];
    assert!(signer.signed_attrs_raw.is_none());
    let digest = DigestAlgorithm::Sha256.digest(&vector("openssl-data.txt"));
    let check = verify_first(&cms, Some(&digest));
    assert_eq!(check.message_digest, MdCheck::NotApplicable);
    assert_eq!(check.content_type, ContentTypeCheck::NotApplicable);
    assert!(check.is_valid(), "{check:?}");

    let mut bad = digest.clone();
    bad[31] ^= 1;
    let check = verify_first(&cms, Some(&bad));
    assert_eq!(
        check.signature,
        Err(SignatureCheckError::Crypto(SignatureError::Invalid))
    );
    let check = verify_first(&cms, None);
    assert_eq!(
        check.signature,
        Err(SignatureCheckError::ContentDigestMissing)
    );
}

#[test]
fn openssl_rsa_pss_verifies() {
    let cms = parse_signed_cms(&vector("openssl-rsa-pss.p7s")).unwrap();
    let digest = DigestAlgorithm::Sha256.digest(&vector("openssl-data.txt"));
    let check = verify_first(&cms, Some(&digest));
    assert!(
        matches!(
            check.signature,
            Ok(SignatureScheme::RsaPss {
                digest: DigestAlgorithm::Sha256,
                ..
            })
        ),
        "{check:?}"
    );
    assert!(check.is_valid());
}

#[test]
fn openssl_subject_key_identifier_without_certificates() {
    let cms = parse_signed_cms(&vector("openssl-keyid-nocerts-sha384.p7s")).unwrap();
    assert!(cms.certificates.is_empty());
    let signer = &cms.signers[0];
    assert!(matches!(
        signer.sid(),
        SignerIdentifier::SubjectKeyIdentifier(_)
    ));
    assert_eq!(signer.digest_algorithm(), Ok(DigestAlgorithm::Sha384));
    assert!(cms.find_signer_certificate(signer, &[]).is_none());
    // the same key's certificate, carried by another vector
    let other = parse_signed_cms(&vector("openssl-ber-stream.p7s")).unwrap();
    let cert = cms
        .find_signer_certificate(signer, &other.certificates)
        .unwrap();
    let digest = DigestAlgorithm::Sha384.digest(&vector("openssl-data.txt"));
    let check = signer.verify(&cert, Some(&digest));
    // ecdsa-with-SHA384 over the signed attributes
    assert_eq!(
        check.signature,
        Ok(SignatureScheme::Ecdsa(DigestAlgorithm::Sha384))
    );
    assert!(check.is_valid(), "{check:?}");
}

#[test]
fn unsupported_digest_algorithm_is_reported_at_check_time() {
    let mut cms = parse_signed_cms(&vector("pyhanko-b-b-p256.p7s")).unwrap();
    // MD5
    cms.signers[0].signer_info.digest_alg.oid = ObjectIdentifier::new_unwrap("1.2.840.113549.2.5");
    let e = cms.signers[0].digest_algorithm().unwrap_err();
    assert!(e.to_string().contains("1.2.840.113549.2.5"));
    let check = verify_first(&cms, Some(&recorded_digest("pyhanko-b-b-p256.sha256")));
    assert!(matches!(
        check.signature,
        Err(SignatureCheckError::Crypto(
            SignatureError::UnsupportedAlgorithm { .. }
        ))
    ));
}

// ---- hand-built CMS -------------------------------------------------------------------

fn tlv(tag: u8, parts: &[&[u8]]) -> Vec<u8> {
    ber::wrap(tag, &parts.concat())
}

fn indefinite(tag: u8, parts: &[&[u8]]) -> Vec<u8> {
    let mut out = vec![tag, 0x80];
    out.extend(parts.concat());
    out.extend([0, 0]);
    out
}

fn attribute(oid: ObjectIdentifier, value: &[u8]) -> Vec<u8> {
    tlv(0x30, &[&oid.to_der().unwrap(), &tlv(0x31, &[value])])
}

struct TestSigner {
    pair: ring::signature::EcdsaKeyPair,
    cert: Certificate,
    rng: ring::rand::SystemRandom,
}

impl TestSigner {
    /// A fresh P-256 key in a copy of the pyHanko signer certificate (its own signature
    /// no longer verifies, which does not matter to CMS checks).
    fn new() -> Self {
        let rng = ring::rand::SystemRandom::new();
        let alg = &ring::signature::ECDSA_P256_SHA256_ASN1_SIGNING;
        let pkcs8 = ring::signature::EcdsaKeyPair::generate_pkcs8(alg, &rng).unwrap();
        let pair = ring::signature::EcdsaKeyPair::from_pkcs8(alg, pkcs8.as_ref(), &rng).unwrap();
        let cms = parse_signed_cms(&vector("pyhanko-b-b-p256.p7s")).unwrap();
        let mut cert = cms.certificates[0].clone();
        cert.tbs_certificate
            .subject_public_key_info
            .subject_public_key =
            der::asn1::BitString::from_bytes(pair.public_key().as_ref()).unwrap();
        TestSigner { pair, cert, rng }
    }

    fn sign(&self, msg: &[u8]) -> Vec<u8> {
        self.pair.sign(&self.rng, msg).unwrap().as_ref().to_vec()
    }

    /// A detached SignedData over `content` whose SignerInfo has signed attributes
    /// `attrs_field` (the complete `[0]` element) signed as `signed_over`.
    fn cms(
        &self,
        attrs_field: &[u8],
        signed_over: &[u8],
        crls_field: &[u8],
        unsigned_field: &[u8],
    ) -> Vec<u8> {
        let sig = self.sign(signed_over);
        let ias = cms::cert::IssuerAndSerialNumber {
            issuer: self.cert.tbs_certificate.issuer.clone(),
            serial_number: self.cert.tbs_certificate.serial_number.clone(),
        };
        let sha256 = DigestAlgorithm::Sha256
            .algorithm_identifier()
            .to_der()
            .unwrap();
        let ecdsa = AlgorithmIdentifierOwned {
            oid: oids::ECDSA_WITH_SHA256,
            parameters: None,
        }
        .to_der()
        .unwrap();
        let signer_info = tlv(
            0x30,
            &[
                &[2, 1, 1],
                &ias.to_der().unwrap(),
                &sha256,
                attrs_field,
                &ecdsa,
                &tlv(0x04, &[&sig]),
                unsigned_field,
            ],
        );
        let signed_data = tlv(
            0x30,
            &[
                &[2, 1, 1],
                &tlv(0x31, &[&sha256]),
                &tlv(0x30, &[&oids::ID_DATA.to_der().unwrap()]),
                &tlv(0xa0, &[&self.cert.to_der().unwrap()]),
                crls_field,
                &tlv(0x31, &[&signer_info]),
            ],
        );
        tlv(
            0x30,
            &[
                &oids::ID_SIGNED_DATA.to_der().unwrap(),
                &tlv(0xa0, &[&signed_data]),
            ],
        )
    }
}

fn basic_attrs(digest: &[u8]) -> (Vec<u8>, Vec<u8>) {
    let ct = attribute(oids::ID_CONTENT_TYPE, &oids::ID_DATA.to_der().unwrap());
    let md = attribute(
        oids::ID_MESSAGE_DIGEST,
        &OctetString::new(digest).unwrap().to_der().unwrap(),
    );
    (ct, md)
}

#[test]
fn unsorted_signed_attributes_are_hashed_as_written() {
    let signer = TestSigner::new();
    let digest = DigestAlgorithm::Sha256.digest(b"content");
    let (ct, md) = basic_attrs(&digest);
    // DER would sort content-type (shorter encoding) first: write message-digest first.
    assert!(md.len() > ct.len());
    let set = tlv(0x31, &[&md, &ct]);
    let mut field = set.clone();
    field[0] = 0xa0;
    let bytes = signer.cms(&field, &set, &[], &[]);
    let cms = parse_signed_cms(&bytes).unwrap();
    let view = &cms.signers[0];
    assert_eq!(view.signed_attrs_raw.as_deref(), Some(set.as_slice()));
    let check = view.verify(&signer.cert, Some(&digest));
    assert!(check.is_valid(), "{check:?}");
    assert!(check.problems.is_empty());
    // A re-encoding of the decoded attributes is sorted, and the signature does not
    // verify over it: this is why the raw bytes are kept.
    let reencoded = view.signed_attributes().unwrap().to_der().unwrap();
    assert_ne!(reencoded, set);
    assert!(crate::crypto::verify_signature(
        &signer.cert.tbs_certificate.subject_public_key_info,
        view.signature_algorithm(),
        None,
        &reencoded,
        view.signature_value()
    )
    .is_err());
}

#[test]
fn ber_signed_attributes_verify_as_written_or_as_der() {
    let signer = TestSigner::new();
    let digest = DigestAlgorithm::Sha256.digest(b"content");
    let (ct, md) = basic_attrs(&digest);
    let der_set = tlv(0x31, &[&ct, &md]);
    let ber_field = indefinite(0xa0, &[&ct, &md]);
    let mut ber_set = ber_field.clone();
    ber_set[0] = 0x31;

    // signed over the bytes as written (BER)
    let cms = parse_signed_cms(&signer.cms(&ber_field, &ber_set, &[], &[])).unwrap();
    assert!(cms.was_ber);
    let check = cms.signers[0].verify(&signer.cert, Some(&digest));
    assert!(check.is_valid(), "{check:?}");
    assert!(check.problems.is_empty());

    // signed over the DER encoding (what OpenSSL computes on verification)
    let cms = parse_signed_cms(&signer.cms(&ber_field, &der_set, &[], &[])).unwrap();
    let check = cms.signers[0].verify(&signer.cert, Some(&digest));
    assert!(check.is_valid(), "{check:?}");
    assert_eq!(check.problems.len(), 1, "{:?}", check.problems);
}

#[test]
fn content_type_mismatch_and_missing_attributes_are_findings() {
    let signer = TestSigner::new();
    let digest = DigestAlgorithm::Sha256.digest(b"content");
    let (_, md) = basic_attrs(&digest);
    let ct_tst = attribute(
        oids::ID_CONTENT_TYPE,
        &oids::ID_CT_TST_INFO.to_der().unwrap(),
    );
    let set = tlv(0x31, &[&ct_tst, &md]);
    let mut field = set.clone();
    field[0] = 0xa0;
    let cms = parse_signed_cms(&signer.cms(&field, &set, &[], &[])).unwrap();
    let check = cms.signers[0].verify(&signer.cert, Some(&digest));
    assert!(check.is_intact());
    assert!(matches!(
        check.content_type,
        ContentTypeCheck::Mismatch { .. }
    ));
    assert!(!check.is_valid());

    // no content-type, no message-digest: only a signing time
    let st = attribute(
        oids::ID_SIGNING_TIME,
        &der::asn1::UtcTime::from_unix_duration(core::time::Duration::from_secs(1_700_000_000))
            .unwrap()
            .to_der()
            .unwrap(),
    );
    let set = tlv(0x31, &[&st]);
    let mut field = set.clone();
    field[0] = 0xa0;
    let cms = parse_signed_cms(&signer.cms(&field, &set, &[], &[])).unwrap();
    let check = cms.signers[0].verify(&signer.cert, Some(&digest));
    assert_eq!(check.message_digest, MdCheck::Missing);
    assert_eq!(check.content_type, ContentTypeCheck::Missing);
    assert!(!check.is_intact());
}

#[test]
fn revocation_data_is_collected_with_its_source() {
    let signer = TestSigner::new();
    let digest = DigestAlgorithm::Sha256.digest(b"content");
    let (ct, md) = basic_attrs(&digest);
    let crl = vector("lab-int.crl");
    // OCSPResponse { responseStatus tryLater(3) } — small but well-formed
    let ocsp = [0x30, 0x03, 0x0a, 0x01, 0x03];
    let archival = tlv(
        0x30,
        &[
            &tlv(0xa0, &[&tlv(0x30, &[&crl])]),
            &tlv(0xa1, &[&tlv(0x30, &[&ocsp])]),
        ],
    );
    let arch_attr = attribute(oids::ADBE_REVOCATION_INFO_ARCHIVAL, &archival);
    let set = tlv(0x31, &[&ct, &md, &arch_attr]);
    let mut field = set.clone();
    field[0] = 0xa0;
    // SignedData.crls: the CRL, an OCSP response (RFC 5940) and an unknown format
    let other_ocsp = tlv(0xa1, &[&oids::ID_RI_OCSP_RESPONSE.to_der().unwrap(), &ocsp]);
    let other_unknown = tlv(
        0xa1,
        &[
            &ObjectIdentifier::new_unwrap("1.2.3.4").to_der().unwrap(),
            &Null.to_der().unwrap(),
        ],
    );
    let crls_field = tlv(0xa1, &[&crl, &other_ocsp, &other_unknown]);
    let cms = parse_signed_cms(&signer.cms(&field, &set, &crls_field, &[])).unwrap();
    assert!(cms.signers[0]
        .verify(&signer.cert, Some(&digest))
        .is_valid());

    let sources: Vec<_> = cms.crls.iter().map(|c| c.source).collect();
    assert_eq!(
        sources,
        [
            RevocationSource::SignedData,
            RevocationSource::AdbeRevocationInfoArchival { signer: 0 }
        ]
    );
    assert_eq!(cms.crls[0].value.to_der().unwrap(), crl);
    let ocsp_sources: Vec<_> = cms.ocsp_responses.iter().map(|o| o.source).collect();
    assert_eq!(
        ocsp_sources,
        [
            RevocationSource::SignedData,
            RevocationSource::AdbeRevocationInfoArchival { signer: 0 }
        ]
    );
    for o in &cms.ocsp_responses {
        assert_eq!(o.der, ocsp);
        assert!(o.is_full_response());
        assert_eq!(
            o.basic_response_der(),
            None,
            "tryLater has no response bytes"
        );
    }
    assert!(
        cms.notes.iter().any(|n| n.contains("1.2.3.4")),
        "{:?}",
        cms.notes
    );
    // the decoded SignedData carries the CRL (OCSP cannot be represented there)
    assert_eq!(cms.signed_data.crls.as_ref().map(|c| c.0.len()), Some(1));
}

#[test]
fn duplicate_and_undecodable_certificates_are_skipped_with_a_note() {
    let bytes = vector("pyhanko-b-b-p256.p7s");
    let cms = parse_signed_cms(&bytes).unwrap();
    let cert = cms.certificates[0].to_der().unwrap();
    // rebuild the certificate set: signer cert twice, then a SEQUENCE that is not a cert
    let root = ber::parse(&bytes).unwrap();
    let sd = &root.children[1].children[0];
    let certs_node = &sd.children[3];
    let mut set = Vec::new();
    for c in &certs_node.children {
        set.extend(c.raw(&bytes));
    }
    set.extend(&cert);
    set.extend([0x30, 0x03, 0x02, 0x01, 0x05]);
    let mut sd_content = Vec::new();
    for (i, c) in sd.children.iter().enumerate() {
        if i == 3 {
            sd_content.extend(ber::wrap(0xa0, &set));
        } else {
            sd_content.extend(c.raw(&bytes));
        }
    }
    let rebuilt = tlv(
        0x30,
        &[
            &oids::ID_SIGNED_DATA.to_der().unwrap(),
            &tlv(0xa0, &[&tlv(0x30, &[&sd_content])]),
        ],
    );
    let cms = parse_signed_cms(&rebuilt).unwrap();
    assert_eq!(cms.certificates.len(), 3);
    assert_eq!(cms.notes.len(), 2, "{:?}", cms.notes);
    let check = verify_first(&cms, Some(&recorded_digest("pyhanko-b-b-p256.sha256")));
    assert!(check.is_valid());
}

// ---- hostile input --------------------------------------------------------------------

#[test]
fn every_truncation_is_an_error() {
    let bytes = vector("pyhanko-b-t-p256.p7s");
    for n in 0..bytes.len() {
        assert!(parse_signed_cms(&bytes[..n]).is_err(), "prefix {n}");
    }
    let ber = vector("openssl-ber-stream.p7s");
    for n in 0..ber.len() {
        assert!(parse_signed_cms(&ber[..n]).is_err(), "BER prefix {n}");
    }
}

#[test]
fn corrupted_bytes_never_panic() {
    let digest = recorded_digest("pyhanko-b-b-p256.sha256");
    for name in ["pyhanko-b-b-p256.p7s", "openssl-ber-stream.p7s"] {
        let bytes = vector(name);
        for i in 0..bytes.len() {
            for x in [0xff, 0x01] {
                let mut b = bytes.clone();
                b[i] ^= x;
                if let Ok(cms) = parse_signed_cms(&b) {
                    for s in &cms.signers {
                        // The signature is over the signed attributes; a change elsewhere
                        // leaves it valid, and verifying every variant would be slow.
                        if i % 16 == 0 {
                            if let Some(c) = cms.find_signer_certificate(s, &[]) {
                                let _ = s.verify(&c, Some(&digest));
                            }
                        }
                        let _ = s.signing_time();
                        let _ = s.signing_certificate_v2();
                    }
                }
            }
        }
    }
}

#[test]
fn garbage_is_an_error() {
    // a deterministic pseudo-random stream (xorshift)
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    for len in [1usize, 2, 3, 10, 100, 1000, 5000] {
        for _ in 0..50 {
            let mut v = Vec::with_capacity(len);
            for _ in 0..len {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                v.push(x as u8);
            }
            assert!(parse_signed_cms(&v).is_err());
        }
    }
    assert!(matches!(parse_signed_cms(&[]), Err(CmsError::Empty)));
    assert!(matches!(parse_signed_cms(&[0; 64]), Err(CmsError::Empty)));
}

#[test]
fn huge_lengths_are_errors_not_allocations() {
    for input in [
        &[0x30, 0x84, 0xff, 0xff, 0xff, 0xff][..],
        &[0x30, 0x88, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff],
        &[0x30, 0x89, 1, 0, 0, 0, 0, 0, 0, 0, 0],
        &[0x30, 0xff],
        &[0x04, 0x80, 0x00, 0x00],
        &[0x30, 0x80, 0x00, 0x01],
        &[0x30, 0x02, 0x00, 0x00],
        &[0x1f, 0x80, 0x01, 0x00],
        &[0x1f, 0x85, 0x85, 0x85, 0x85, 0x05, 0x00],
    ] {
        assert!(
            matches!(parse_signed_cms(input), Err(CmsError::Ber(_))),
            "{input:02x?}"
        );
    }
}

#[test]
fn deep_nesting_is_an_error() {
    let mut indef = Vec::new();
    for _ in 0..100_000 {
        indef.extend([0x30, 0x80]);
    }
    assert!(matches!(
        parse_signed_cms(&indef),
        Err(CmsError::Ber(BerError::TooDeep { .. }))
    ));
    let mut def = vec![0x05, 0x00];
    for _ in 0..200 {
        def = tlv(0x30, &[&def]);
    }
    assert!(matches!(
        parse_signed_cms(&def),
        Err(CmsError::Ber(BerError::TooDeep { .. }))
    ));
}

#[test]
fn too_many_elements_is_an_error() {
    let nulls = [0x05u8, 0x00].repeat(ber::MAX_NODES + 1);
    assert!(matches!(
        parse_signed_cms(&tlv(0x30, &[&nulls])),
        Err(CmsError::Ber(BerError::TooManyElements { .. }))
    ));
}

#[test]
fn other_content_types_are_rejected() {
    let enveloped = tlv(
        0x30,
        &[
            &ObjectIdentifier::new_unwrap("1.2.840.113549.1.7.3")
                .to_der()
                .unwrap(),
            &tlv(0xa0, &[&[0x30, 0x00]]),
        ],
    );
    assert!(matches!(
        parse_signed_cms(&enveloped),
        Err(CmsError::NotSignedData { .. })
    ));
    let not_content_info = tlv(0x31, &[&[0x05, 0x00]]);
    assert!(matches!(
        parse_signed_cms(&not_content_info),
        Err(CmsError::Structure { .. })
    ));
}

#[test]
fn malformed_unsigned_attributes_do_not_hide_the_signer() {
    let signer = TestSigner::new();
    let digest = DigestAlgorithm::Sha256.digest(b"content");
    let (ct, md) = basic_attrs(&digest);
    let set = tlv(0x31, &[&ct, &md]);
    let mut field = set.clone();
    field[0] = 0xa0;
    // an unsigned attribute whose SET holds the same value twice: `der` refuses it
    let dup = tlv(
        0x30,
        &[
            &ObjectIdentifier::new_unwrap("1.2.3.4").to_der().unwrap(),
            &tlv(0x31, &[&[0x05, 0x00], &[0x05, 0x00]]),
        ],
    );
    let unsigned = tlv(0xa1, &[&dup]);
    let cms = parse_signed_cms(&signer.cms(&field, &set, &[], &unsigned)).unwrap();
    assert!(cms.signers[0].unsigned_attributes().is_none());
    assert!(
        cms.notes.iter().any(|n| n.contains("unsigned")),
        "{:?}",
        cms.notes
    );
    assert!(cms.signers[0]
        .verify(&signer.cert, Some(&digest))
        .is_valid());
}

/// Signatures of PDFs the lab corpus holds (skipped when it is absent): every one parses,
/// and integrity holds except where the corpus says the bytes or the value were altered.
#[test]
fn lab_corpus_signatures_when_present() {
    let dir = std::path::Path::new("/work/shared/corpus");
    let Ok(entries) = std::fs::read_dir(dir) else {
        eprintln!("SKIPPED: {} not present", dir.display());
        return;
    };
    let mut seen = 0;
    for e in entries {
        let path = e.unwrap().path();
        if path.extension().and_then(|x| x.to_str()) != Some("pdf") {
            continue;
        }
        let name = path.file_name().unwrap().to_string_lossy().to_string();
        let data = std::fs::read(&path).unwrap();
        for (a, b, c, d) in byte_ranges(&data) {
            let hex_text: Vec<u8> = data[a + b..c]
                .iter()
                .copied()
                .filter(|ch| ch.is_ascii_hexdigit())
                .collect();
            let bytes = hex::decode(hex_text).unwrap();
            let cms = parse_signed_cms(&bytes).unwrap_or_else(|e| panic!("{name}: {e}"));
            let signer = &cms.signers[0];
            let mut h = signer.digest_algorithm().unwrap().hasher();
            h.update(&data[a..a + b]);
            h.update(&data[c..c + d]);
            let digest = h.finalize();
            let intact = if cms.content_type == oids::ID_CT_TST_INFO {
                let token = crate::tsp::parse_timestamp_token(&bytes).unwrap();
                let tsa = token.tsa_certificate(&[]).unwrap();
                token.check_imprint_digest(&digest) == crate::tsp::ImprintCheck::Match
                    && token.verify_signature(&tsa).is_valid()
            } else {
                let cert = cms.find_signer_certificate(signer, &[]).unwrap();
                let check = signer.verify(&cert, Some(&digest));
                for token in signer.signature_time_stamp_tokens() {
                    let token = crate::tsp::parse_timestamp_token(token).unwrap();
                    let tsa = token.tsa_certificate(&[]).unwrap();
                    assert_eq!(
                        token.check_imprint(signer.signature_value()),
                        crate::tsp::ImprintCheck::Match,
                        "{name}"
                    );
                    assert!(token.verify_signature(&tsa).is_valid(), "{name}");
                }
                check.is_valid()
            };
            let expect_intact = !name.starts_with("tampered-");
            assert_eq!(intact, expect_intact, "{name}");
            seen += 1;
        }
    }
    assert!(seen >= 10, "only {seen} signatures found");
}

fn byte_ranges(data: &[u8]) -> Vec<(usize, usize, usize, usize)> {
    let key = b"/ByteRange";
    let mut out = Vec::new();
    let mut i = 0;
    while let Some(p) = data[i..].windows(key.len()).position(|w| w == key) {
        let start = i + p + key.len();
        let end = start + data[start..].iter().position(|&ch| ch == b']').unwrap();
        let nums: Vec<usize> = String::from_utf8_lossy(&data[start..end])
            .trim_start_matches([' ', '['])
            .split_whitespace()
            .map(|n| n.parse().unwrap())
            .collect();
        if let [a, b, c, d] = nums[..] {
            out.push((a, b, c, d));
        }
        i = end;
    }
    out
}

/// STYLE: every ASN.1 type we model decodes and re-encodes byte for byte, here on
/// values real producers wrote.
#[test]
fn modelled_attributes_round_trip_on_real_values() {
    fn round_trip<T: DecodeOwned + Encode>(any: &der::Any) {
        let der = any.to_der().unwrap();
        let value = T::from_der(&der).unwrap();
        assert_eq!(value.to_der().unwrap(), der);
    }
    let pades = parse_signed_cms(&vector("pyhanko-adbe-pkcs7-detached.p7s")).unwrap();
    let s = &pades.signers[0];
    round_trip::<ess::SigningCertificateV2>(
        s.signed_attribute(oids::ID_AA_SIGNING_CERTIFICATE_V2)
            .unwrap()
            .unwrap(),
    );
    round_trip::<algorithm_protection::CmsAlgorithmProtection>(
        s.signed_attribute(oids::ID_AA_CMS_ALGORITHM_PROTECTION)
            .unwrap()
            .unwrap(),
    );
    let token = crate::tsp::parse_timestamp_token(&vector("openssl-ts-token.der")).unwrap();
    let t = &token.cms.signers[0];
    round_trip::<ess::SigningCertificate>(
        t.signed_attribute(oids::ID_AA_SIGNING_CERTIFICATE)
            .unwrap()
            .unwrap(),
    );
    let b_t = parse_signed_cms(&vector("pyhanko-b-t-p256.p7s")).unwrap();
    let token = crate::tsp::parse_timestamp_token(&b_t.signers[0].signature_time_stamp_tokens()[0])
        .unwrap();
    round_trip::<ess::SigningCertificateV2>(
        token.cms.signers[0]
            .signed_attribute(oids::ID_AA_SIGNING_CERTIFICATE_V2)
            .unwrap()
            .unwrap(),
    );
}
