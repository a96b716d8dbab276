//! The PAdES library on its own: prepare → sign → finalize round trips checked with our
//! own reader and CMS checks, the stored state, and every refusal. No external tool.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use formats::cms::parse_signed_cms;
use formats::crypto::DigestAlgorithm;
use formats::pdf::{Object, PdfError, PdfReader};
use signer::pades::{
    finalize, prepare, Appearance, Level, PadesError, Prepared, Rect, SignOptions,
    SignatureAlgorithm, Timestamper,
};
use support::{nested_pages_pdf, pki, TestSigner};

fn options() -> SignOptions {
    SignOptions::new(time::macros::datetime!(2026-11-22 16:12:06 +01:00))
}

fn sign_with(
    pdf: &[u8],
    signer: &TestSigner,
    opts: &SignOptions,
    tsa: Option<&dyn Timestamper>,
) -> Result<Vec<u8>, PadesError> {
    let prepared = prepare(pdf, &signer.chain, opts)?;
    let sig = signer.sign(prepared.signed_attributes());
    let mut out = Vec::new();
    finalize(&prepared, pdf, &sig, &signer.chain, tsa, &mut out)?;
    Ok(out)
}

/// Checks every signature of `pdf` with our own reader and CMS code: byte range covers
/// all but `/Contents`, the message digest matches, the signature verifies. Returns the
/// field names and whether each has a signature time-stamp.
fn check_signed(pdf: &[u8]) -> Vec<(String, bool)> {
    let r = PdfReader::open(pdf.to_vec()).unwrap();
    assert!(!r.recovered(), "{:?}", r.warnings());
    let cat = r.catalog().unwrap();
    let form = r.resolve(cat.get("AcroForm").unwrap()).unwrap();
    let fields = r
        .resolve(form.as_dict().unwrap().get("Fields").unwrap())
        .unwrap();
    assert_eq!(form.as_dict().unwrap().get_int("SigFlags"), Some(3));
    let mut found = Vec::new();
    for f in fields.as_array().unwrap() {
        let fd = r.resolve(f).unwrap();
        let fd = fd.as_dict().unwrap();
        if fd.get_name("FT") != Some(b"Sig") {
            continue;
        }
        let Some(v) = fd.get("V") else { continue };
        let sig = r.resolve(v).unwrap();
        let sig = sig.as_dict().unwrap();
        let br: Vec<usize> = sig
            .get("ByteRange")
            .unwrap()
            .as_array()
            .unwrap()
            .iter()
            .map(|o| o.as_int().unwrap() as usize)
            .collect();
        assert_eq!(br[0], 0);
        assert_eq!(pdf[br[1]], b'<');
        assert_eq!(pdf[br[2] - 1], b'>');
        let last_end = br[2] + br[3];
        let contents = sig.get("Contents").unwrap().as_string().unwrap();
        let mut h = DigestAlgorithm::Sha256.hasher();
        h.update(&pdf[br[0]..br[1]]);
        h.update(&pdf[br[2]..last_end]);
        let digest = h.finalize();
        let cms = parse_signed_cms(contents).unwrap();
        assert_eq!(cms.signers.len(), 1);
        let signer = &cms.signers[0];
        let cert = cms.find_signer_certificate(signer, &[]).unwrap();
        let check = signer.verify(&cert, Some(&digest));
        assert!(check.is_valid(), "{check:?}");
        // PAdES baseline: no signing-time, ESS v2 present
        assert!(signer.signing_time().unwrap().is_none());
        assert!(signer.signing_certificate_v2().unwrap().is_some());
        let name = formats::pdf::decode_text_string(fd.get("T").unwrap().as_string().unwrap());
        found.push((name, !signer.signature_time_stamp_tokens().is_empty()));
    }
    found
}

#[test]
fn b_b_ecdsa_on_a_deep_page_tree() {
    let pdf = nested_pages_pdf(10);
    let out = sign_with(&pdf, &pki().ecdsa, &options(), None).unwrap();
    assert_eq!(&out[..pdf.len()], &pdf[..], "the original bytes are kept");
    assert_eq!(check_signed(&out), vec![("Signature1".to_string(), false)]);
    let r = PdfReader::open(out).unwrap();
    assert_eq!(r.revisions().len(), 2);
}

#[test]
fn visible_signature_on_page_57_gets_an_appearance() {
    let pdf = nested_pages_pdf(10);
    let mut opts = options();
    opts.appearance = Appearance::Visible {
        page: 57,
        rect: Rect {
            llx: 300.0,
            lly: 80.0,
            urx: 560.0,
            ury: 140.0,
        },
    };
    opts.reason = Some("I agree (fully) \\ café".into());
    opts.field_name = Some("Approval".into());
    let out = sign_with(&pdf, &pki().ecdsa, &opts, None).unwrap();
    check_signed(&out);
    let r = PdfReader::open(out).unwrap();
    // the widget hangs on page 57's /Annots
    let cat = r.catalog().unwrap();
    let form = r.resolve(cat.get("AcroForm").unwrap()).unwrap();
    let fields = form.as_dict().unwrap().get("Fields").unwrap().clone();
    let field_ref = fields.as_array().unwrap()[0].as_ref().unwrap();
    let field = r.get(field_ref).unwrap();
    let page_ref = field.as_dict().unwrap().get("P").unwrap().as_ref().unwrap();
    let page = r.get(page_ref).unwrap();
    let annots = page.as_dict().unwrap().get("Annots").unwrap();
    assert_eq!(annots.as_array().unwrap(), &[Object::Ref(field_ref)]);
    let contents = r
        .resolve(page.as_dict().unwrap().get("Contents").unwrap())
        .unwrap();
    let text = r.decode_stream(contents.as_stream().unwrap()).unwrap();
    assert!(String::from_utf8_lossy(&text).contains("Page 57 "));
    let ap = field
        .as_dict()
        .unwrap()
        .get("AP")
        .unwrap()
        .as_dict()
        .unwrap()
        .clone();
    let n = r.resolve(ap.get("N").unwrap()).unwrap();
    let stream = r.decode_stream(n.as_stream().unwrap()).unwrap();
    let stream = String::from_utf8_lossy(&stream);
    assert!(
        stream.contains("(Digitally signed by Alice Example) Tj"),
        "{stream}"
    );
    assert!(
        stream.contains("(Reason: I agree \\(fully\\) \\\\ caf\\351) Tj"),
        "{stream}"
    );
}

#[test]
fn second_signature_takes_the_next_name_and_keeps_the_first() {
    let pdf = nested_pages_pdf(2);
    let once = sign_with(&pdf, &pki().ecdsa, &options(), None).unwrap();
    let twice = sign_with(&once, &pki().rsa2048, &options(), None).unwrap();
    let found = check_signed(&twice);
    assert_eq!(
        found.iter().map(|f| f.0.as_str()).collect::<Vec<_>>(),
        ["Signature1", "Signature2"]
    );
    // signing again under a used name is refused
    let mut opts = options();
    opts.field_name = Some("Signature1".into());
    assert!(matches!(
        prepare(&twice[..], &pki().ecdsa.chain, &opts),
        Err(PadesError::FieldExists { .. })
    ));
}

#[test]
fn b_t_embeds_a_signature_time_stamp() {
    let pdf = nested_pages_pdf(1);
    let mut opts = options();
    opts.level = Level::BT;
    let out = sign_with(&pdf, &pki().ecdsa, &opts, Some(&pki().tsa)).unwrap();
    assert_eq!(check_signed(&out), vec![("Signature1".to_string(), true)]);
    // without a time-stamper B-T cannot finish
    let prepared = prepare(&pdf[..], &pki().ecdsa.chain, &opts).unwrap();
    let sig = pki().ecdsa.sign(prepared.signed_attributes());
    let mut sink = Vec::new();
    assert!(matches!(
        finalize(
            &prepared,
            &pdf[..],
            &sig,
            &pki().ecdsa.chain,
            None,
            &mut sink
        ),
        Err(PadesError::NoTimestamper)
    ));
}

#[test]
fn rsa_pkcs1_and_pss_are_accepted() {
    let pdf = nested_pages_pdf(1);
    // PSS announced at prepare
    let mut opts = options();
    opts.signature_algorithm = Some(SignatureAlgorithm::RsaPssSha256);
    let out = sign_with(&pdf, &pki().rsa3072_pss, &opts, None).unwrap();
    check_signed(&out);
    // nothing announced: whichever padding verifies
    let out = sign_with(&pdf, &pki().rsa3072_pss, &options(), None).unwrap();
    check_signed(&out);
    let out = sign_with(&pdf, &pki().rsa2048, &options(), None).unwrap();
    check_signed(&out);
    // ECDSA algorithm with an RSA key is refused at prepare
    let mut opts = options();
    opts.signature_algorithm = Some(SignatureAlgorithm::EcdsaSha256);
    assert!(matches!(
        prepare(&pdf[..], &pki().rsa2048.chain, &opts),
        Err(PadesError::UnsupportedKey { .. })
    ));
}

#[test]
fn raw_ecdsa_values_are_converted() {
    let pdf = nested_pages_pdf(1);
    let signer = &pki().ecdsa;
    let prepared = prepare(&pdf[..], &signer.chain, &options()).unwrap();
    let raw = signer.sign_raw(prepared.signed_attributes());
    assert_eq!(raw.len(), 64);
    let mut out = Vec::new();
    finalize(&prepared, &pdf[..], &raw, &signer.chain, None, &mut out).unwrap();
    check_signed(&out);
}

#[test]
fn bad_signature_wrong_certificate_and_other_document_are_refused() {
    let pdf = nested_pages_pdf(1);
    let signer = &pki().ecdsa;
    let prepared = prepare(&pdf[..], &signer.chain, &options()).unwrap();
    let sig = signer.sign(prepared.signed_attributes());
    let mut out = Vec::new();

    let mut bad = sig.clone();
    let last = bad.len() - 1;
    bad[last] ^= 1;
    assert!(matches!(
        finalize(&prepared, &pdf[..], &bad, &signer.chain, None, &mut out),
        Err(PadesError::BadSignature { .. })
    ));
    let wrong = signer.sign(b"something else");
    assert!(matches!(
        finalize(&prepared, &pdf[..], &wrong, &signer.chain, None, &mut out),
        Err(PadesError::BadSignature { .. })
    ));
    assert!(matches!(
        finalize(
            &prepared,
            &pdf[..],
            &sig,
            &pki().rsa2048.chain,
            None,
            &mut out
        ),
        Err(PadesError::CertificateMismatch)
    ));
    let mut other = pdf.clone();
    other[20] ^= 0x20;
    signer::pades::verify_document(&prepared, &pdf[..]).unwrap();
    assert!(matches!(
        signer::pades::verify_document(&prepared, &other[..]),
        Err(PadesError::DocumentMismatch { .. })
    ));
    assert!(matches!(
        finalize(&prepared, &other[..], &sig, &signer.chain, None, &mut out),
        Err(PadesError::DocumentMismatch { .. })
    ));
    assert!(matches!(
        finalize(&prepared, &pdf[..10], &sig, &signer.chain, None, &mut out),
        Err(PadesError::DocumentMismatch { .. })
    ));
}

#[test]
fn prepared_state_survives_storage() {
    let pdf = nested_pages_pdf(1);
    let signer = &pki().ecdsa;
    let mut opts = options();
    opts.level = Level::BT;
    let prepared = prepare(&pdf[..], &signer.chain, &opts).unwrap();
    let json = prepared.to_json();
    let back = Prepared::from_json(&json).unwrap();
    assert_eq!(back, prepared);
    assert_eq!(back.level(), Level::BT);
    assert_eq!(back.data_to_sign_digest().len(), 32);
    assert_eq!(
        back.data_to_sign_digest().to_vec(),
        DigestAlgorithm::Sha256.digest(back.signed_attributes())
    );
    // the signed attributes name the document digest
    let attrs = back.signed_attributes();
    assert!(attrs.windows(32).any(|w| w == back.document_digest()));
    // finish from the restored state
    let sig = signer.sign(back.signed_attributes());
    let mut out = Vec::new();
    finalize(
        &back,
        &pdf[..],
        &sig,
        &signer.chain,
        Some(&pki().tsa),
        &mut out,
    )
    .unwrap();
    check_signed(&out);
    assert_eq!(out.len() as u64, back.signed_len());

    // damaged state is refused, not trusted
    let damaged = json.replacen("\"byte_range\":[0,", "\"byte_range\":[0,1", 1);
    assert!(matches!(
        Prepared::from_json(&damaged),
        Err(PadesError::CorruptState { .. })
    ));
    assert!(Prepared::from_json("{}").is_err());
}

#[test]
fn too_small_placeholder_is_reported_and_retry_works() {
    let pdf = nested_pages_pdf(1);
    let signer = &pki().ecdsa;
    let mut opts = options();
    opts.level = Level::BT;
    opts.timestamp_size_hint = Some(16);
    let prepared = prepare(&pdf[..], &signer.chain, &opts).unwrap();
    let sig = signer.sign(prepared.signed_attributes());
    let mut out = Vec::new();
    let needed = match finalize(
        &prepared,
        &pdf[..],
        &sig,
        &signer.chain,
        Some(&pki().tsa),
        &mut out,
    ) {
        Err(PadesError::PlaceholderTooSmall { needed, available }) => {
            assert!(needed > available);
            needed
        }
        other => panic!("expected PlaceholderTooSmall, got {other:?}"),
    };
    opts.min_contents_len = Some(needed);
    let out = sign_with(&pdf, signer, &opts, Some(&pki().tsa)).unwrap();
    check_signed(&out);
}

#[test]
fn existing_empty_signature_field_is_filled() {
    let pdf = support_pdf_with_empty_sig_field();
    let mut opts = options();
    opts.field_name = Some("Buyer".into());
    let out = sign_with(&pdf, &pki().ecdsa, &opts, None).unwrap();
    assert_eq!(check_signed(&out), vec![("Buyer".to_string(), false)]);
    let r = PdfReader::open(out).unwrap();
    let field = r.get(formats::pdf::ObjRef::new(5, 0)).unwrap();
    assert!(field.as_dict().unwrap().get("AP").is_some());
    // the page was not touched: still the original's single revision of object 3
    assert_eq!(r.entry_at(3, 1).unwrap().0, 0);
}

/// A page with an unsigned signature field `Buyer` (a merged field/widget, object 5).
fn support_pdf_with_empty_sig_field() -> Vec<u8> {
    build(&[
        "<</Type/Catalog/Pages 2 0 R/AcroForm 4 0 R>>",
        "<</Type/Pages/Kids[3 0 R]/Count 1>>",
        "<</Type/Page/Parent 2 0 R/MediaBox[0 0 612 792]/Annots[5 0 R]>>",
        "<</Fields[5 0 R]>>",
        "<</Type/Annot/Subtype/Widget/FT/Sig/T(Buyer)/Rect[100 100 300 160]/F 4/P 3 0 R>>",
    ])
}

fn build(objects: &[&str]) -> Vec<u8> {
    let mut out = b"%PDF-1.7\n".to_vec();
    let mut offsets = Vec::new();
    for (i, body) in objects.iter().enumerate() {
        offsets.push(out.len());
        out.extend_from_slice(format!("{} 0 obj\n{body}\nendobj\n", i + 1).as_bytes());
    }
    let xref = out.len();
    out.extend_from_slice(
        format!("xref\n0 {}\n0000000000 65535 f\r\n", objects.len() + 1).as_bytes(),
    );
    for o in offsets {
        out.extend_from_slice(format!("{o:010} 00000 n\r\n").as_bytes());
    }
    out.extend_from_slice(
        format!(
            "trailer\n<</Size {} /Root 1 0 R>>\nstartxref\n{xref}\n%%EOF\n",
            objects.len() + 1
        )
        .as_bytes(),
    );
    out
}

#[test]
fn refusals_are_clear() {
    let chain = &pki().ecdsa.chain;
    // not a PDF
    assert!(matches!(
        prepare(&b"hello, this is not a PDF at all"[..], chain, &options()),
        Err(PadesError::Pdf(PdfError::NotPdf))
    ));
    // encrypted
    let mut enc = build(&[
        "<</Type/Catalog/Pages 2 0 R>>",
        "<</Type/Pages/Kids[3 0 R]/Count 1>>",
        "<</Type/Page/Parent 2 0 R/MediaBox[0 0 612 792]>>",
        "<</Filter/Standard/V 2/R 3/O<00>/U<00>/P -4>>",
    ]);
    let pos = enc.windows(5).rposition(|w| w == b"/Root").unwrap();
    enc.splice(pos..pos, b"/Encrypt 4 0 R ".iter().copied());
    assert!(matches!(
        prepare(&enc[..], chain, &options()),
        Err(PadesError::Pdf(PdfError::Encrypted))
    ));
    // certified with DocMDP P=1
    let certified = build(&[
        "<</Type/Catalog/Pages 2 0 R/Perms<</DocMDP 4 0 R>>>>",
        "<</Type/Pages/Kids[3 0 R]/Count 1>>",
        "<</Type/Page/Parent 2 0 R/MediaBox[0 0 612 792]>>",
        "<</Type/Sig/Reference[<</Type/SigRef/TransformMethod/DocMDP/TransformParams<</Type/TransformParams/P 1/V/1.2>>>>]>>",
    ]);
    assert!(matches!(
        prepare(&certified[..], chain, &options()),
        Err(PadesError::CertifiedNoChanges)
    ));
    // P=2 allows a further signature
    let p2 = String::from_utf8(certified.clone())
        .unwrap()
        .replace("/P 1/", "/P 2/");
    prepare(p2.as_bytes(), chain, &options()).unwrap();
    // damaged beyond repair
    assert!(matches!(
        prepare(
            &b"%PDF-1.7\ngarbage without any object\n%%EOF"[..],
            chain,
            &options()
        ),
        Err(PadesError::Pdf(PdfError::Damaged { .. }))
    ));
    // a page that does not exist, a bad rectangle, a bad field name, a text field's name
    let pdf = nested_pages_pdf(1);
    let mut opts = options();
    opts.appearance = Appearance::Visible {
        page: 11,
        rect: Rect {
            llx: 0.0,
            lly: 0.0,
            urx: 10.0,
            ury: 10.0,
        },
    };
    assert!(matches!(
        prepare(&pdf[..], chain, &opts),
        Err(PadesError::PageOutOfRange {
            page: 11,
            count: 10
        })
    ));
    opts.appearance = Appearance::Visible {
        page: 1,
        rect: Rect {
            llx: 10.0,
            lly: 0.0,
            urx: 10.0,
            ury: 10.0,
        },
    };
    assert!(matches!(
        prepare(&pdf[..], chain, &opts),
        Err(PadesError::BadRectangle)
    ));
    let mut opts = options();
    opts.field_name = Some("a.b".into());
    assert!(matches!(
        prepare(&pdf[..], chain, &opts),
        Err(PadesError::BadFieldName { .. })
    ));
    assert!(matches!(
        prepare(&pdf[..], &[], &options()),
        Err(PadesError::EmptyChain)
    ));
    assert!(matches!(
        prepare(&pdf[..], &[vec![0x30, 0x00]], &options()),
        Err(PadesError::BadCertificate { index: 0, .. })
    ));
}

#[test]
fn hybrid_and_xref_stream_files_get_a_matching_section() {
    // sign, then sign the result: the second update chains to the first (a table)
    let pdf = nested_pages_pdf(1);
    let once = sign_with(&pdf, &pki().ecdsa, &options(), None).unwrap();
    let r = PdfReader::open(once.clone()).unwrap();
    assert!(!r.revisions()[1].xref_stream);
    assert_eq!(
        r.trailer().get("ID"),
        PdfReader::open(pdf).unwrap().trailer().get("ID")
    );
}
