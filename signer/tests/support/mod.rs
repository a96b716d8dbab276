//! Shared test support: PKI, device stand-in, in-process TSA, input PDFs, validators.
//! See README.md beside this file.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};
use std::process::Command;
use std::str::FromStr;
use std::sync::OnceLock;
use std::time::Duration;

use der::asn1::{GeneralizedTime, Int, OctetString, SetOfVec};
use der::{Any, Decode, Encode};
use formats::cms::attr::{content_type_attribute, message_digest_attribute, signed_attributes_der};
use formats::cms::ess::signing_certificate_v2_attribute;
use formats::crypto::DigestAlgorithm;
use formats::oids;
use formats::pki::{
    issue_certificate, CertificateTemplate, ExtendedKeyUsageSpec, IssuerRef, KeyAlgorithm, Profile,
    SigningKey,
};
use ring::signature::KeyPair;
use signer::pades::{SignatureAlgorithm, TimestampError, Timestamper};
use x509_cert::ext::pkix::KeyUsages;
use x509_cert::name::Name;
use x509_cert::Certificate;

// ------------------------------------------------------------------ PKI and device

/// A signer: key material (PKCS#8 DER) and its chain (signer, root).
pub struct TestSigner {
    pub label: &'static str,
    pub pkcs8: Vec<u8>,
    pub chain: Vec<Vec<u8>>,
    pub algorithm: SignatureAlgorithm,
}

impl TestSigner {
    /// What the device does: signs the signed attributes.
    pub fn sign(&self, message: &[u8]) -> Vec<u8> {
        let rng = ring::rand::SystemRandom::new();
        match self.algorithm {
            SignatureAlgorithm::EcdsaSha256 => {
                let pair = ring::signature::EcdsaKeyPair::from_pkcs8(
                    &ring::signature::ECDSA_P256_SHA256_ASN1_SIGNING,
                    &self.pkcs8,
                    &rng,
                )
                .unwrap();
                pair.sign(&rng, message).unwrap().as_ref().to_vec()
            }
            SignatureAlgorithm::RsaPkcs1Sha256 | SignatureAlgorithm::RsaPssSha256 => {
                let pair = ring::signature::RsaKeyPair::from_pkcs8(&self.pkcs8).unwrap();
                let mut sig = vec![0; pair.public().modulus_len()];
                let pad: &dyn ring::signature::RsaEncoding =
                    if self.algorithm == SignatureAlgorithm::RsaPssSha256 {
                        &ring::signature::RSA_PSS_SHA256
                    } else {
                        &ring::signature::RSA_PKCS1_SHA256
                    };
                pair.sign(pad, &rng, message, &mut sig).unwrap();
                sig
            }
            _ => unreachable!(),
        }
    }

    /// The raw `r‖s` form WebCrypto and PKCS#11 devices return (ECDSA only).
    pub fn sign_raw(&self, message: &[u8]) -> Vec<u8> {
        let rng = ring::rand::SystemRandom::new();
        let pair = ring::signature::EcdsaKeyPair::from_pkcs8(
            &ring::signature::ECDSA_P256_SHA256_FIXED_SIGNING,
            &self.pkcs8,
            &rng,
        )
        .unwrap();
        pair.sign(&rng, message).unwrap().as_ref().to_vec()
    }

    pub fn key_pem(&self) -> String {
        pem("PRIVATE KEY", &self.pkcs8)
    }
}

pub struct Pki {
    pub root_der: Vec<u8>,
    pub ecdsa: TestSigner,
    pub rsa2048: TestSigner,
    pub rsa3072_pss: TestSigner,
    pub tsa: TestTsa,
    /// A directory holding root.pem and the signers' PEM files.
    pub dir: PathBuf,
}

pub fn pem(label: &str, der: &[u8]) -> String {
    use base64_lite::encode;
    let b64 = encode(der);
    let mut s = format!("-----BEGIN {label}-----\n");
    for line in b64.as_bytes().chunks(64) {
        s.push_str(std::str::from_utf8(line).unwrap());
        s.push('\n');
    }
    s.push_str(&format!("-----END {label}-----\n"));
    s
}

/// Minimal base64 (the tests need it only for PEM output).
mod base64_lite {
    const T: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    pub fn encode(data: &[u8]) -> String {
        let mut out = String::new();
        for c in data.chunks(3) {
            let b = [c[0], *c.get(1).unwrap_or(&0), *c.get(2).unwrap_or(&0)];
            let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
            for i in 0..4 {
                if i <= c.len() {
                    out.push(T[((n >> (18 - 6 * i)) & 63) as usize] as char);
                } else {
                    out.push('=');
                }
            }
        }
        out
    }
}

fn name(s: &str) -> Name {
    Name::from_str(s).unwrap()
}

fn leaf_template(subject: &str) -> CertificateTemplate {
    let mut t = CertificateTemplate::new(
        name(subject),
        Profile::EndEntity,
        Duration::from_secs(86400 * 30),
    );
    t.key_usage = KeyUsages::DigitalSignature | KeyUsages::NonRepudiation;
    t
}

fn spki_of(key: &SigningKey) -> spki::SubjectPublicKeyInfoOwned {
    key.public_key_info().clone()
}

/// The test PKI, made once per test binary.
pub fn pki() -> &'static Pki {
    static PKI: OnceLock<Pki> = OnceLock::new();
    PKI.get_or_init(|| {
        let (root_key, _) = SigningKey::generate(KeyAlgorithm::EcdsaP256).unwrap();
        let root_t = CertificateTemplate::new(
            name("CN=PAdES Test Root CA,O=esig tests,C=BE"),
            Profile::Ca { path_len: None },
            Duration::from_secs(86400 * 365),
        );
        let root = issue_certificate(
            &root_t,
            &spki_of(&root_key),
            IssuerRef::SelfSigned(&root_key),
        )
        .unwrap();
        let root_der = root.to_der().unwrap();
        let ca = IssuerRef::Ca {
            certificate: &root,
            key: &root_key,
        };

        let (ec_key, ec_pkcs8) = SigningKey::generate(KeyAlgorithm::EcdsaP256).unwrap();
        let ec_cert = issue_certificate(
            &leaf_template("CN=Alice Example,O=esig tests,C=BE"),
            &spki_of(&ec_key),
            ca,
        )
        .unwrap();

        let rsa = |file: &str, cn: &str| {
            let path = Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("tests/support")
                .join(file);
            let pem_text = std::fs::read_to_string(path).unwrap();
            let key = SigningKey::from_pkcs8_pem(&pem_text).unwrap();
            let cert = issue_certificate(&leaf_template(cn), &spki_of(&key), ca).unwrap();
            let der = formats::pki::key::Pkcs8Key::from_pem(&pem_text)
                .unwrap()
                .as_der()
                .to_vec();
            (der, cert.to_der().unwrap())
        };
        let (rsa2048_pkcs8, rsa2048_cert) = rsa("rsa2048.pk8.pem", "CN=Bob RSA,O=esig tests,C=BE");
        let (rsa3072_pkcs8, rsa3072_cert) =
            rsa("rsa3072.pk8.pem", "CN=Carol PSS,O=esig tests,C=BE");

        let (tsa_key, tsa_pkcs8) = SigningKey::generate(KeyAlgorithm::EcdsaP256).unwrap();
        let mut tsa_t = CertificateTemplate::new(
            name("CN=Test TSA,O=esig tests,C=BE"),
            Profile::EndEntity,
            Duration::from_secs(86400 * 30),
        );
        tsa_t.key_usage = KeyUsages::DigitalSignature.into();
        tsa_t.extended_key_usage = Some(ExtendedKeyUsageSpec {
            purposes: vec![oids::KP_TIME_STAMPING],
            critical: true,
        });
        let tsa_cert = issue_certificate(&tsa_t, &spki_of(&tsa_key), ca).unwrap();

        // one directory per test binary, remade at each run
        let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
            .join(format!("pades-pki-{}", env!("CARGO_CRATE_NAME")));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("root.pem"), pem("CERTIFICATE", &root_der)).unwrap();

        let ecdsa = TestSigner {
            label: "ecdsa",
            pkcs8: ec_pkcs8.as_der().to_vec(),
            chain: vec![ec_cert.to_der().unwrap(), root_der.clone()],
            algorithm: SignatureAlgorithm::EcdsaSha256,
        };
        std::fs::write(dir.join("ecdsa-key.pem"), ecdsa.key_pem()).unwrap();
        std::fs::write(
            dir.join("ecdsa-cert.pem"),
            pem("CERTIFICATE", &ecdsa.chain[0]),
        )
        .unwrap();
        Pki {
            ecdsa,
            rsa2048: TestSigner {
                label: "rsa2048-pkcs1",
                pkcs8: rsa2048_pkcs8,
                chain: vec![rsa2048_cert, root_der.clone()],
                algorithm: SignatureAlgorithm::RsaPkcs1Sha256,
            },
            rsa3072_pss: TestSigner {
                label: "rsa3072-pss",
                pkcs8: rsa3072_pkcs8,
                chain: vec![rsa3072_cert, root_der.clone()],
                algorithm: SignatureAlgorithm::RsaPssSha256,
            },
            tsa: TestTsa {
                pkcs8: tsa_pkcs8.as_der().to_vec(),
                cert: tsa_cert,
                chain_der: vec![root_der.clone()],
            },
            root_der,
            dir,
        }
    })
}

// ------------------------------------------------------------------ in-process TSA

/// Issues RFC 3161 tokens in-process (ECDSA P-256, ESS signing-certificate-v2, the TSA
/// certificate and its CA in the token).
pub struct TestTsa {
    pkcs8: Vec<u8>,
    cert: Certificate,
    chain_der: Vec<Vec<u8>>,
}

impl Timestamper for TestTsa {
    fn timestamp(
        &self,
        digest_alg: DigestAlgorithm,
        imprint: &[u8],
    ) -> Result<Vec<u8>, TimestampError> {
        Ok(self.token(digest_alg, imprint))
    }
}

impl TestTsa {
    pub fn token(&self, digest_alg: DigestAlgorithm, imprint: &[u8]) -> Vec<u8> {
        use cms::cert::{CertificateChoices, IssuerAndSerialNumber};
        use cms::content_info::{CmsVersion, ContentInfo};
        use cms::signed_data::{
            CertificateSet, EncapsulatedContentInfo, SignedData, SignerIdentifier, SignerInfo,
            SignerInfos,
        };
        let now = std::time::SystemTime::now();
        let since = now.duration_since(std::time::UNIX_EPOCH).unwrap();
        let tst = x509_tsp::TstInfo {
            version: x509_tsp::TspVersion::V1,
            policy: const_oid::ObjectIdentifier::new_unwrap("1.3.6.1.4.1.99999.1.1"),
            message_imprint: x509_tsp::MessageImprint {
                hash_algorithm: spki::AlgorithmIdentifier {
                    oid: digest_alg.oid(),
                    parameters: None,
                },
                hashed_message: OctetString::new(imprint).unwrap(),
            },
            serial_number: Int::new(&[&[1u8][..], &since.as_nanos().to_be_bytes()[8..]].concat())
                .unwrap(),
            gen_time: GeneralizedTime::from_unix_duration(Duration::from_secs(since.as_secs()))
                .unwrap(),
            accuracy: None,
            ordering: false,
            nonce: None,
            tsa: None,
            extensions: None,
        };
        let tst_der = tst.to_der().unwrap();
        let cert_der = self.cert.to_der().unwrap();
        let attrs = signed_attributes_der(&[
            content_type_attribute(oids::ID_CT_TST_INFO).unwrap(),
            message_digest_attribute(&DigestAlgorithm::Sha256.digest(&tst_der)).unwrap(),
            signing_certificate_v2_attribute(&cert_der, true).unwrap(),
        ])
        .unwrap();
        let rng = ring::rand::SystemRandom::new();
        let pair = ring::signature::EcdsaKeyPair::from_pkcs8(
            &ring::signature::ECDSA_P256_SHA256_ASN1_SIGNING,
            &self.pkcs8,
            &rng,
        )
        .unwrap();
        let _ = pair.public_key();
        let sig = pair.sign(&rng, &attrs).unwrap();
        let signer_info = SignerInfo {
            version: CmsVersion::V1,
            sid: SignerIdentifier::IssuerAndSerialNumber(IssuerAndSerialNumber {
                issuer: self.cert.tbs_certificate.issuer.clone(),
                serial_number: self.cert.tbs_certificate.serial_number.clone(),
            }),
            digest_alg: DigestAlgorithm::Sha256.algorithm_identifier(),
            signed_attrs: Some(x509_cert::attr::Attributes::from_der(&attrs).unwrap()),
            signature_algorithm: spki::AlgorithmIdentifierOwned {
                oid: oids::ECDSA_WITH_SHA256,
                parameters: None,
            },
            signature: OctetString::new(sig.as_ref()).unwrap(),
            unsigned_attrs: None,
        };
        let mut certs = vec![CertificateChoices::Certificate(self.cert.clone())];
        for c in &self.chain_der {
            certs.push(CertificateChoices::Certificate(
                Certificate::from_der(c).unwrap(),
            ));
        }
        let mut digest_algorithms = SetOfVec::new();
        digest_algorithms
            .insert(DigestAlgorithm::Sha256.algorithm_identifier())
            .unwrap();
        let sd = SignedData {
            version: CmsVersion::V3,
            digest_algorithms,
            encap_content_info: EncapsulatedContentInfo {
                econtent_type: oids::ID_CT_TST_INFO,
                econtent: Some(Any::encode_from(&OctetString::new(tst_der).unwrap()).unwrap()),
            },
            certificates: Some(CertificateSet::try_from(certs).unwrap()),
            crls: None,
            signer_infos: SignerInfos::try_from(vec![signer_info]).unwrap(),
        };
        ContentInfo {
            content_type: oids::ID_SIGNED_DATA,
            content: Any::encode_from(&sd).unwrap(),
        }
        .to_der()
        .unwrap()
    }
}

// ------------------------------------------------------------------ tools

fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true")
}

/// Skips (prints SKIPPED and returns None) or, under CI=true, fails.
pub fn missing(what: &str) -> Option<std::convert::Infallible> {
    if in_ci() {
        panic!("required test tool missing under CI: {what}");
    }
    println!("SKIPPED: {what} not available");
    None
}

/// The test virtualenv (pyhanko, pyhanko-cli, reportlab).
pub fn venv() -> Option<PathBuf> {
    let mut candidates = Vec::new();
    if let Ok(v) = std::env::var("TEST_VENV") {
        candidates.push(PathBuf::from(v));
    }
    if let Ok(home) = std::env::var("HOME") {
        candidates.push(Path::new(&home).join(".cache/esig-test-venv"));
    }
    candidates.push(PathBuf::from("/tmp/peers-venv"));
    candidates
        .into_iter()
        .find(|v| v.join("bin/pyhanko").is_file() && v.join("bin/python").is_file())
}

pub fn which(tool: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|p| p.join(tool))
        .find(|p| p.is_file())
}

/// The `verify` binary of the verifier crate.
pub fn verify_bin() -> Option<PathBuf> {
    if let Ok(p) = std::env::var("VERIFY_BIN") {
        return Some(PathBuf::from(p)).filter(|p| p.is_file());
    }
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../target"));
    [target.join("debug/verify"), target.join("release/verify")]
        .into_iter()
        .find(|p| p.is_file())
}

pub fn run(cmd: &mut Command) -> (bool, String) {
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}"));
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

// ------------------------------------------------------------------ input documents

pub fn work_dir(name: &str) -> PathBuf {
    let d = Path::new(env!("CARGO_TARGET_TMPDIR")).join(name);
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// A one-page contract with two AcroForm text fields, made with reportlab.
pub fn reportlab_contract(venv: &Path, out: &Path) {
    let script = r#"
import sys
from reportlab.lib.pagesizes import A4
from reportlab.pdfgen import canvas
c = canvas.Canvas(sys.argv[1], pagesize=A4, invariant=1)
c.setTitle("Sale agreement #2026-0042")
c.setFont("Helvetica-Bold", 16); c.drawString(60, 770, "SALE AGREEMENT #2026-0042")
c.setFont("Helvetica", 10)
y = 740
for ln in ["Between: Test Notary Office (the Seller)", "And: the Buyer named below",
           "Article 1. The Seller sells to the Buyer the apartment at Rue de la Loi 16.",
           "Article 2. The price is EUR 250,000.00."]:
    c.drawString(60, y, ln); y -= 14
c.drawString(60, 420, "Buyer name:")
c.acroForm.textfield(name="buyer_name", x=140, y=412, width=250, height=20, borderWidth=1, value="")
c.drawString(60, 390, "Date:")
c.acroForm.textfield(name="buyer_date", x=140, y=382, width=120, height=20, borderWidth=1, value="")
c.showPage(); c.save()
"#;
    let (ok, text) = run(Command::new(venv.join("bin/python"))
        .arg("-c")
        .arg(script)
        .arg(out));
    assert!(ok, "reportlab failed: {text}");
}

/// A 100-page document whose page tree is four levels deep (root → 2 → 5 → 10 pages),
/// written by hand with a classic cross-reference table.
pub fn nested_pages_pdf(pages_per_leaf: usize) -> Vec<u8> {
    let mut objs: Vec<String> = Vec::new(); // index i = object i+1
    let add = |objs: &mut Vec<String>, body: String| -> usize {
        objs.push(body);
        objs.len()
    };
    // 1 catalog, 2 root pages, 3 font; filled in at the end
    add(&mut objs, String::new());
    add(&mut objs, String::new());
    add(
        &mut objs,
        "<</Type/Font/Subtype/Type1/BaseFont/Helvetica/Encoding/WinAnsiEncoding>>".into(),
    );
    let mut level1 = Vec::new();
    let mut page_no = 0;
    for _ in 0..2 {
        let l1 = add(&mut objs, String::new());
        let mut level2 = Vec::new();
        for _ in 0..5 {
            let l2 = add(&mut objs, String::new());
            let mut kids = Vec::new();
            for _ in 0..pages_per_leaf {
                page_no += 1;
                let text =
                    format!("BT /F1 24 Tf 72 720 Td (Page {page_no} of the nested document) Tj ET");
                let content = add(
                    &mut objs,
                    format!("<</Length {}>>\nstream\n{text}\nendstream", text.len()),
                );
                let page = add(
                    &mut objs,
                    format!("<</Type/Page/Parent {l2} 0 R/Contents {content} 0 R/Resources<</Font<</F1 3 0 R>>>>>>"),
                );
                kids.push(page);
            }
            objs[l2 - 1] = format!(
                "<</Type/Pages/Parent {l1} 0 R/Kids[{}]/Count {}>>",
                kids.iter()
                    .map(|k| format!("{k} 0 R"))
                    .collect::<Vec<_>>()
                    .join(" "),
                kids.len()
            );
            level2.push(l2);
        }
        objs[l1 - 1] = format!(
            "<</Type/Pages/Parent 2 0 R/Kids[{}]/Count {}>>",
            level2
                .iter()
                .map(|k| format!("{k} 0 R"))
                .collect::<Vec<_>>()
                .join(" "),
            5 * pages_per_leaf
        );
        level1.push(l1);
    }
    objs[0] = "<</Type/Catalog/Pages 2 0 R>>".into();
    objs[1] = format!(
        "<</Type/Pages/Kids[{}]/Count {page_no}/MediaBox[0 0 612 792]>>",
        level1
            .iter()
            .map(|k| format!("{k} 0 R"))
            .collect::<Vec<_>>()
            .join(" ")
    );
    let mut out = b"%PDF-1.7\n%\xE2\xE3\xCF\xD3\n".to_vec();
    let mut offsets = Vec::new();
    for (i, body) in objs.iter().enumerate() {
        offsets.push(out.len());
        out.extend_from_slice(format!("{} 0 obj\n{body}\nendobj\n", i + 1).as_bytes());
    }
    let xref = out.len();
    out.extend_from_slice(format!("xref\n0 {}\n0000000000 65535 f\r\n", objs.len() + 1).as_bytes());
    for o in offsets {
        out.extend_from_slice(format!("{o:010} 00000 n\r\n").as_bytes());
    }
    out.extend_from_slice(
        format!(
            "trailer\n<</Size {} /Root 1 0 R /ID [<0123456789abcdef0123456789abcdef><0123456789abcdef0123456789abcdef>]>>\nstartxref\n{xref}\n%%EOF\n",
            objs.len() + 1
        )
        .as_bytes(),
    );
    out
}

/// qpdf `ARGS... in out`.
pub fn qpdf(args: &[&str], input: &Path, output: &Path) {
    let qpdf = which("qpdf").expect("qpdf");
    let (ok, text) = run(Command::new(qpdf).args(args).arg(input).arg(output));
    assert!(
        ok || text.contains("operation succeeded with warnings"),
        "qpdf {args:?}: {text}"
    );
}

/// Signs `input` with pyHanko (B-B, field `field`) with the test ECDSA signer.
pub fn pyhanko_sign(venv: &Path, input: &Path, output: &Path, field: &str) {
    let p = pki();
    let (ok, text) = run(Command::new(venv.join("bin/pyhanko"))
        .args(["sign", "addsig", "--field", field, "--use-pades", "pemder"])
        .arg("--key")
        .arg(p.dir.join("ecdsa-key.pem"))
        .arg("--cert")
        .arg(p.dir.join("ecdsa-cert.pem"))
        .arg("--chain")
        .arg(p.dir.join("root.pem"))
        .arg("--no-pass")
        .arg(input)
        .arg(output));
    assert!(ok, "pyhanko sign failed: {text}");
}

// ------------------------------------------------------------------ validators

/// One signature as pyHanko sees it.
#[derive(Debug)]
pub struct PyhankoVerdict {
    pub field: String,
    pub summary: String,
}

impl PyhankoVerdict {
    pub fn intact(&self) -> bool {
        self.summary.starts_with("INTACT:")
    }
    pub fn trusted(&self) -> bool {
        self.intact() && self.summary.split([':', ',']).any(|w| w == "TRUSTED")
    }
    pub fn timestamp_trusted(&self) -> bool {
        self.summary.contains("TIMESTAMP_TOKEN<INTACT:TRUSTED>")
    }
    pub fn modifications_ok(&self) -> bool {
        !self.summary.contains("ILLEGAL_MODIFICATIONS")
            && !self.summary.contains("NONSTANDARD_COVERAGE")
    }
}

/// `pyhanko sign validate --trust root --trust-replace --no-revocation-check`, one line per
/// signature field of `fields`.
pub fn pyhanko_validate(venv: &Path, file: &Path, fields: &[String]) -> Vec<PyhankoVerdict> {
    let root = pki().dir.join("root.pem");
    let (_, text) = run(Command::new(venv.join("bin/pyhanko"))
        .args(["sign", "validate", "--trust"])
        .arg(&root)
        .args(["--trust-replace", "--no-revocation-check"])
        .arg(file));
    fields
        .iter()
        .map(|f| {
            let line = text
                .lines()
                .find(|l| l.starts_with(&format!("{f}:")))
                .unwrap_or_else(|| panic!("pyHanko printed nothing for field {f}: {text}"));
            // FIELD:SHA256FP:SUMMARY
            let summary = line.splitn(3, ':').nth(2).unwrap_or_default().to_string();
            PyhankoVerdict {
                field: f.clone(),
                summary,
            }
        })
        .collect()
}

/// PAdES level of each signature (field, level) through pyHanko's reader.
pub fn pyhanko_levels(venv: &Path, file: &Path) -> Vec<(String, String)> {
    let script = r#"
import sys
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.validation import generic_cms
with open(sys.argv[1], "rb") as f:
    r = PdfFileReader(f, strict=False)
    for es in r.embedded_signatures:
        sf = str(es.sig_object.get("/SubFilter", "")).lstrip("/")
        ts = next(generic_cms.extract_tst_data_iter(es.signer_info, signed=False), None) is not None
        level = "adbe" if sf != "ETSI.CAdES.detached" else ("B-T" if ts else "B-B")
        print(f"{es.field_name}\t{level}")
"#;
    let (ok, text) = run(Command::new(venv.join("bin/python"))
        .arg("-c")
        .arg(script)
        .arg(file));
    assert!(ok, "pyHanko reader failed: {text}");
    text.lines()
        .filter_map(|l| l.split_once('\t'))
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect()
}

/// pdfsig's verdict per signature: (signature valid, certificate trusted), with an NSS
/// database that trusts only the test root.
pub fn pdfsig(file: &Path) -> Option<Vec<(bool, bool, String)>> {
    let pdfsig = which("pdfsig")?;
    let certutil = which("certutil")?;
    let nss = pki().dir.join("nss");
    static NSS: OnceLock<()> = OnceLock::new();
    NSS.get_or_init(|| {
        let _ = std::fs::remove_dir_all(&nss);
        std::fs::create_dir_all(&nss).unwrap();
        let db = format!("sql:{}", nss.display());
        let (ok, t) = run(Command::new(&certutil).args(["-N", "-d", &db, "--empty-password"]));
        assert!(ok, "certutil -N: {t}");
        let (ok, t) = run(Command::new(&certutil)
            .args(["-A", "-d", &db, "-n", "test-root", "-t", "C,C,C", "-i"])
            .arg(pki().dir.join("root.pem")));
        assert!(ok, "certutil -A: {t}");
    });
    let (_, text) = run(Command::new(pdfsig)
        .arg("-nssdir")
        .arg(format!("sql:{}", nss.display()))
        .arg(file));
    let mut out = Vec::new();
    for block in text.split("Signature #").skip(1) {
        let valid = block.contains("Signature Validation: Signature is Valid.");
        let trusted = block.contains("Certificate Validation: Certificate is Trusted.");
        out.push((valid, trusted, block.to_string()));
    }
    Some(out)
}

/// Our verifier's indications, one per signature.
pub fn our_verify(file: &Path) -> Option<Result<Vec<String>, String>> {
    let bin = verify_bin()?;
    let (_, text) = run(Command::new(bin)
        .arg("--json")
        .arg("--trust")
        .arg(pki().dir.join("root.pem"))
        .arg(file));
    let json_start = text.find('{').unwrap_or(0);
    let v: serde_json::Value = match serde_json::from_str(&text[json_start..]) {
        Ok(v) => v,
        Err(e) => return Some(Err(format!("verify printed no JSON ({e}): {text}"))),
    };
    let sigs = v["files"][0]["signatures"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    Some(Ok(sigs
        .iter()
        .map(|s| s["indication"].as_str().unwrap_or("?").to_string())
        .collect()))
}
