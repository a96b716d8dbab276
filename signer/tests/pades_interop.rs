//! The signing matrix judged by validators we did not write: pyHanko (`pyhanko sign
//! validate`, test root as the only trust anchor), poppler `pdfsig` (NSS database trusting
//! only the test root) and our own `verify`. Inputs are made at test time: reportlab
//! contract with form fields, a 100-page document with a four-level page tree, qpdf
//! rewrites (object streams + cross-reference stream, linearized, PDF 2.0) and a file
//! pyHanko signed first. Visible signatures are rendered with `pdftoppm`.
//!
//! Tools are located as support/README.md says; a missing tool skips (fails under CI=true).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use formats::pdf::PdfReader;
use signer::pades::{finalize, prepare, Appearance, Level, Rect, SignOptions, Timestamper};
use support::{pki, run, which, TestSigner};

/// The input documents, made once.
struct Inputs {
    dir: PathBuf,
    venv: PathBuf,
}

fn inputs() -> Option<&'static Inputs> {
    static INPUTS: OnceLock<Option<Inputs>> = OnceLock::new();
    let made = INPUTS.get_or_init(|| {
        let venv = support::venv()?;
        which("qpdf")?;
        let dir = support::work_dir("pades-interop-inputs");
        let contract = dir.join("contract.pdf");
        support::reportlab_contract(&venv, &contract);
        let nested = dir.join("nested-100p.pdf");
        std::fs::write(&nested, support::nested_pages_pdf(10)).unwrap();
        support::qpdf(
            &["--object-streams=generate", "--compress-streams=y"],
            &contract,
            &dir.join("objstm.pdf"),
        );
        support::qpdf(&["--linearize"], &nested, &dir.join("linearized.pdf"));
        support::qpdf(&["--force-version=2.0"], &contract, &dir.join("pdf20.pdf"));
        support::pyhanko_sign(&venv, &contract, &dir.join("presigned.pdf"), "PreSig");
        // other producers, when installed (optional: the test harness does not install them)
        if let Some(gs) = which("gs") {
            let (ok, text) = run(Command::new(gs)
                .args(["-q", "-dNOPAUSE", "-dBATCH", "-sDEVICE=pdfwrite", "-o"])
                .arg(dir.join("ghostscript.pdf"))
                .arg(&nested));
            assert!(ok, "gs: {text}");
        }
        if let Some(mutool) = which("mutool") {
            let (ok, text) = run(Command::new(mutool)
                .args(["clean", "-gggg", "-l"]) // linearized by mupdf; plain `clean` writes generation 65536 for object 0, which pyHanko refuses in the original
                .arg(&contract)
                .arg(dir.join("mutool.pdf")));
            assert!(ok, "mutool: {text}");
        }
        Some(Inputs { dir, venv })
    });
    if made.is_none() {
        support::missing("pyHanko virtualenv (TEST_VENV) or qpdf");
    }
    made.as_ref()
}

struct Case {
    name: &'static str,
    input: &'static str,
    signer: fn() -> &'static TestSigner,
    level: Level,
    visible: Option<u32>,
    raw_ecdsa: bool,
    /// Signature fields expected in the output, in order.
    fields: &'static [&'static str],
}

fn options(case: &Case) -> SignOptions {
    let mut o = SignOptions::new(time::OffsetDateTime::now_utc());
    o.level = case.level;
    o.reason = Some("I approve this document".into());
    o.location = Some("Brussels".into());
    if let Some(page) = case.visible {
        o.appearance = Appearance::Visible {
            page,
            rect: Rect {
                llx: 320.0,
                lly: 200.0,
                urx: 540.0,
                ury: 270.0,
            },
        };
    }
    o
}

/// Signs `case.input` into `<dir>/<case>.pdf`.
fn sign(inputs: &Inputs, case: &Case) -> PathBuf {
    let input = inputs.dir.join(case.input);
    let signer = (case.signer)();
    let source = formats::pdf::FileSource::open(&input).unwrap();
    let prepared = prepare(&source, &signer.chain, &options(case)).unwrap();
    let sig = if case.raw_ecdsa {
        signer.sign_raw(prepared.signed_attributes())
    } else {
        signer.sign(prepared.signed_attributes())
    };
    let out_path = inputs.dir.join(format!("{}.pdf", case.name));
    let mut out = std::io::BufWriter::new(std::fs::File::create(&out_path).unwrap());
    let tsa: &dyn Timestamper = &pki().tsa;
    finalize(&prepared, &source, &sig, &signer.chain, Some(tsa), &mut out).unwrap();
    drop(out);
    let r = PdfReader::open(formats::pdf::FileSource::open(&out_path).unwrap()).unwrap();
    assert!(!r.recovered(), "{}: {:?}", case.name, r.warnings());
    out_path
}

/// Every validator accepts every signature of `file`.
fn accepted_by_all(inputs: &Inputs, case: &Case, file: &Path) {
    let fields: Vec<String> = case.fields.iter().map(|s| s.to_string()).collect();
    // pyHanko: intact, trusted, no illegal modification, the time-stamp trusted for B-T
    for v in support::pyhanko_validate(&inputs.venv, file, &fields) {
        assert!(v.intact(), "{}: pyHanko: {v:?}", case.name);
        assert!(v.trusted(), "{}: pyHanko: {v:?}", case.name);
        assert!(v.modifications_ok(), "{}: pyHanko: {v:?}", case.name);
        if v.field != "PreSig" && case.level == Level::BT {
            assert!(v.timestamp_trusted(), "{}: pyHanko: {v:?}", case.name);
        }
    }
    let levels = support::pyhanko_levels(&inputs.venv, file);
    let ours = levels
        .iter()
        .find(|(f, _)| f == case.fields.last().unwrap())
        .unwrap_or_else(|| panic!("{}: no level for our field: {levels:?}", case.name));
    let want = if case.level == Level::BT {
        "B-T"
    } else {
        "B-B"
    };
    assert_eq!(ours.1, want, "{}: PAdES level", case.name);
    assert_eq!(levels.len(), case.fields.len(), "{}: {levels:?}", case.name);

    // pdfsig
    match support::pdfsig(file) {
        None => {
            support::missing("pdfsig/certutil");
        }
        Some(sigs) => {
            assert_eq!(
                sigs.len(),
                case.fields.len(),
                "{}: pdfsig saw {sigs:?}",
                case.name
            );
            for (valid, trusted, text) in sigs {
                assert!(valid && trusted, "{}: pdfsig: {text}", case.name);
            }
        }
    }

    // our verifier
    match support::our_verify(file) {
        None => {
            support::missing("the verify binary (cargo build -p verifier)");
        }
        Some(Err(e)) => panic!("{}: verify: {e}", case.name),
        Some(Ok(indications)) => {
            assert_eq!(
                indications.len(),
                case.fields.len(),
                "{}: {indications:?}",
                case.name
            );
            assert!(
                indications.iter().all(|i| i == "TOTAL-PASSED"),
                "{}: verify: {indications:?}",
                case.name
            );
        }
    }
}

/// The page with the widget still renders with poppler.
fn renders(inputs: &Inputs, case: &Case, file: &Path) {
    let Some(page) = case.visible else { return };
    let Some(pdftoppm) = which("pdftoppm") else {
        support::missing("pdftoppm");
        return;
    };
    let prefix = inputs.dir.join(format!("{}-render", case.name));
    let (ok, text) = run(Command::new(pdftoppm)
        .args([
            "-r",
            "50",
            "-png",
            "-singlefile",
            "-f",
            &page.to_string(),
            "-l",
            &page.to_string(),
        ])
        .arg(file)
        .arg(&prefix));
    assert!(
        ok && !text.contains("Error"),
        "{}: pdftoppm: {text}",
        case.name
    );
    let png = prefix.with_extension("png");
    let len = std::fs::metadata(&png).map(|m| m.len()).unwrap_or(0);
    assert!(len > 1000, "{}: rendered page is empty", case.name);
}

fn run_case(case: &Case) {
    let Some(inputs) = inputs() else { return };
    if !inputs.dir.join(case.input).exists() {
        // optional producers (gs, mutool) are skipped even under CI
        println!("SKIPPED: {} (no {})", case.name, case.input);
        return;
    }
    let file = sign(inputs, case);
    accepted_by_all(inputs, case, &file);
    renders(inputs, case, &file);
}

fn ecdsa() -> &'static TestSigner {
    &pki().ecdsa
}
fn rsa2048() -> &'static TestSigner {
    &pki().rsa2048
}
fn rsa3072_pss() -> &'static TestSigner {
    &pki().rsa3072_pss
}

#[test]
fn contract_invisible_ecdsa_b_b() {
    run_case(&Case {
        name: "contract-invisible-ecdsa-bb",
        input: "contract.pdf",
        signer: ecdsa,
        level: Level::BB,
        visible: None,
        raw_ecdsa: false,
        fields: &["Signature1"],
    });
}

#[test]
fn contract_visible_raw_ecdsa_b_t() {
    run_case(&Case {
        name: "contract-visible-ecdsaraw-bt",
        input: "contract.pdf",
        signer: ecdsa,
        level: Level::BT,
        visible: Some(1),
        raw_ecdsa: true,
        fields: &["Signature1"],
    });
}

#[test]
fn hundred_pages_visible_on_page_57_rsa_b_b() {
    run_case(&Case {
        name: "nested100-visible-rsa2048-bb",
        input: "nested-100p.pdf",
        signer: rsa2048,
        level: Level::BB,
        visible: Some(57),
        raw_ecdsa: false,
        fields: &["Signature1"],
    });
}

#[test]
fn object_streams_invisible_rsa_pss_b_t() {
    run_case(&Case {
        name: "objstm-invisible-rsapss-bt",
        input: "objstm.pdf",
        signer: rsa3072_pss,
        level: Level::BT,
        visible: None,
        raw_ecdsa: false,
        fields: &["Signature1"],
    });
}

/// A second signer after pyHanko's signature. (With the same certificate signing twice,
/// pdfsig reports "Unknown issue with Certificate" for the second signature, also when
/// pyHanko makes both: an NSS quirk, so the second signer is another person here.)
#[test]
fn already_signed_visible_rsa_b_t() {
    run_case(&Case {
        name: "presigned-visible-rsa2048-bt",
        input: "presigned.pdf",
        signer: rsa2048,
        level: Level::BT,
        visible: Some(1),
        raw_ecdsa: false,
        fields: &["PreSig", "Signature1"],
    });
}

#[test]
fn linearized_invisible_ecdsa_b_b() {
    run_case(&Case {
        name: "linearized-invisible-ecdsa-bb",
        input: "linearized.pdf",
        signer: ecdsa,
        level: Level::BB,
        visible: None,
        raw_ecdsa: false,
        fields: &["Signature1"],
    });
}

#[test]
fn pdf20_visible_rsa_b_t() {
    run_case(&Case {
        name: "pdf20-visible-rsa2048-bt",
        input: "pdf20.pdf",
        signer: rsa2048,
        level: Level::BT,
        visible: Some(1),
        raw_ecdsa: false,
        fields: &["Signature1"],
    });
}

#[test]
fn objstm_visible_ecdsa_b_b() {
    run_case(&Case {
        name: "objstm-visible-ecdsa-bb",
        input: "objstm.pdf",
        signer: ecdsa,
        level: Level::BB,
        visible: Some(1),
        raw_ecdsa: false,
        fields: &["Signature1"],
    });
}

#[test]
fn ghostscript_output_visible_ecdsa_b_t() {
    run_case(&Case {
        name: "ghostscript-visible-ecdsa-bt",
        input: "ghostscript.pdf",
        signer: ecdsa,
        level: Level::BT,
        visible: Some(100),
        raw_ecdsa: false,
        fields: &["Signature1"],
    });
}

#[test]
fn mutool_output_invisible_rsa_b_b() {
    run_case(&Case {
        name: "mutool-invisible-rsa2048-bb",
        input: "mutool.pdf",
        signer: rsa2048,
        level: Level::BB,
        visible: None,
        raw_ecdsa: false,
        fields: &["Signature1"],
    });
}

/// One flipped byte inside either signed range: every validator rejects the signature.
#[test]
fn a_flipped_byte_in_either_range_is_rejected_by_all() {
    let Some(inputs) = inputs() else { return };
    let case = Case {
        name: "tamper-base",
        input: "contract.pdf",
        signer: ecdsa,
        level: Level::BT,
        visible: None,
        raw_ecdsa: false,
        fields: &["Signature1"],
    };
    let file = sign(inputs, &case);
    let bytes = std::fs::read(&file).unwrap();
    let r = PdfReader::open(bytes.clone()).unwrap();
    let contents_at = r.revisions()[1].end as usize; // end of our update
    assert_eq!(contents_at, bytes.len());
    let original_len = std::fs::metadata(inputs.dir.join("contract.pdf"))
        .unwrap()
        .len() as usize;

    // range 1: a letter of the producer comment on the second line of the original
    let first = bytes[..200]
        .windows(9)
        .position(|w| w == b"ReportLab")
        .expect("reportlab comment")
        + 1;
    assert!(first < original_len);
    // range 2: the widget flags after /Contents (/F 132 becomes /F 133)
    let contents_end = bytes
        .windows(3)
        .rposition(|w| w == b"0>>")
        .expect("end of /Contents")
        + 1;
    let second = contents_end
        + bytes[contents_end..]
            .windows(6)
            .position(|w| w == b"/F 132")
            .expect("widget flags after /Contents")
        + 5;

    for (which_range, at) in [("first", first), ("second", second)] {
        let mut t = bytes.clone();
        t[at] ^= 0x01;
        let path = inputs.dir.join(format!("tampered-{which_range}.pdf"));
        std::fs::write(&path, &t).unwrap();
        let v = support::pyhanko_validate(&inputs.venv, &path, &["Signature1".to_string()]);
        assert!(
            !v[0].intact(),
            "{which_range} range: pyHanko still says {v:?}"
        );
        if let Some(sigs) = support::pdfsig(&path) {
            assert!(
                !sigs.is_empty() && !sigs[0].0,
                "{which_range} range: pdfsig: {sigs:?}"
            );
        } else {
            support::missing("pdfsig/certutil");
        }
        match support::our_verify(&path) {
            None => {
                support::missing("the verify binary");
            }
            Some(Err(e)) => panic!("verify: {e}"),
            Some(Ok(ind)) => assert!(
                ind.iter().all(|i| i == "TOTAL-FAILED"),
                "{which_range} range: verify says {ind:?}"
            ),
        }
    }
}
