//! Benchmark of the `verify` CLI against its baselines, measured in the same run:
//! * a 100 MB signed PDF: wall time as a ratio to `openssl dgst -sha256` of the same file,
//!   and peak RSS (goal ≤ 1.3× and < 64 MB, flat in the file size);
//! * a 1-page signed PDF: against poppler's `pdfsig` and the `pyhanko sign validate` CLI.
//!
//! Run: `cargo bench -p verifier --bench verify` (needs openssl, /usr/bin/time, and for the
//! signed inputs the test virtualenv with pyHanko: `scripts/install-test-deps.sh`; set
//! `TEST_VENV` if it is not in the default place). `BENCH_MB` changes the big file's size.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

fn main() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let work = root.join("target/bench-data");
    std::fs::create_dir_all(&work).unwrap();
    let verify = root.join("target/release/verify");
    let st = Command::new("cargo")
        .args(["build", "--release", "-p", "verifier", "--bin", "verify"])
        .current_dir(&root)
        .status()
        .unwrap();
    assert!(st.success(), "building verify failed");
    let python = venv_python();
    let mb: usize = std::env::var("BENCH_MB")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100);

    let pki = work.join("pki");
    make_pki(&pki);
    let big = work.join(format!("big-{mb}mb.pdf"));
    let big_signed = work.join(format!("big-{mb}mb-signed.pdf"));
    if !big_signed.exists() {
        write_big_pdf(&big, mb);
        sign_with_pyhanko(&python, &big, &big_signed, &pki);
    }
    let small = work.join("one-page.pdf");
    let small_signed = work.join("one-page-signed.pdf");
    if !small_signed.exists() {
        write_big_pdf(&small, 0);
        sign_with_pyhanko(&python, &small, &small_signed, &pki);
    }
    let trust = pki.join("root.pem");
    let v = |f: &Path| -> Vec<String> {
        vec![
            verify.display().to_string(),
            "--json".into(),
            "--trust".into(),
            trust.display().to_string(),
            f.display().to_string(),
        ]
    };

    println!("# verify benchmark ({} MB file, medians of the runs)", mb);
    let dgst = median_secs(
        &[
            "openssl".into(),
            "dgst".into(),
            "-sha256".into(),
            big_signed.display().to_string(),
        ],
        7,
    );
    let ours = median_secs(&v(&big_signed), 7);
    let rss_big = peak_rss_kb(&v(&big_signed));
    let rss_small = peak_rss_kb(&v(&small_signed));
    println!("openssl dgst -sha256 big   {:>8.1} ms", dgst * 1e3);
    println!(
        "verify big                 {:>8.1} ms   ratio {:.2}x openssl",
        ours * 1e3,
        ours / dgst
    );
    println!(
        "verify peak RSS            big {} KB, 1-page {} KB",
        rss_big, rss_small
    );

    let ours_small = median_secs(&v(&small_signed), 21);
    println!("verify 1-page              {:>8.2} ms", ours_small * 1e3);
    if which("pdfsig") {
        let p = median_secs(&["pdfsig".into(), small_signed.display().to_string()], 21);
        println!(
            "pdfsig 1-page              {:>8.2} ms   verify is {:.1}x faster",
            p * 1e3,
            p / ours_small
        );
        let pb = median_secs(&["pdfsig".into(), big_signed.display().to_string()], 3);
        println!("pdfsig big                 {:>8.1} ms", pb * 1e3);
    }
    let pyhanko = python.with_file_name("pyhanko");
    if pyhanko.exists() {
        let cmd = vec![
            pyhanko.display().to_string(),
            "sign".into(),
            "validate".into(),
            "--no-revocation-check".into(),
            "--trust".into(),
            trust.display().to_string(),
            "--trust-replace".into(),
            small_signed.display().to_string(),
        ];
        let p = median_secs(&cmd, 5);
        println!(
            "pyhanko validate 1-page    {:>8.1} ms   verify is {:.0}x faster",
            p * 1e3,
            p / ours_small
        );
    }
}

fn which(tool: &str) -> bool {
    Command::new("sh")
        .args(["-c", &format!("command -v {tool}")])
        .stdout(Stdio::null())
        .status()
        .map(|s| s.success())
        .unwrap_or(false)
}

fn venv_python() -> PathBuf {
    let mut candidates = Vec::new();
    if let Ok(v) = std::env::var("TEST_VENV") {
        candidates.push(PathBuf::from(v));
    }
    if let Ok(h) = std::env::var("HOME") {
        candidates.push(Path::new(&h).join(".cache/esig-test-venv"));
    }
    candidates.push(PathBuf::from("/tmp/peers-venv"));
    candidates
        .into_iter()
        .map(|v| v.join("bin/python"))
        .find(|p| p.exists())
        .expect("no virtualenv with pyHanko: run scripts/install-test-deps.sh or set TEST_VENV")
}

fn sh(cmd: &str, dir: &Path) {
    let st = Command::new("sh")
        .args(["-c", cmd])
        .current_dir(dir)
        .status()
        .unwrap();
    assert!(st.success(), "{cmd}");
}

fn make_pki(dir: &Path) {
    if dir.join("signer.p12").exists() {
        return;
    }
    std::fs::create_dir_all(dir).unwrap();
    sh(
        "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout root.key -out root.pem -days 3650 -subj '/CN=Bench Root' -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign 2>/dev/null && \
         openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout signer.key -out signer.csr -subj '/CN=Bench Signer' 2>/dev/null && \
         printf 'basicConstraints=critical,CA:FALSE\\nkeyUsage=critical,digitalSignature,nonRepudiation\\n' > ext.cnf && \
         openssl x509 -req -in signer.csr -CA root.pem -CAkey root.key -CAcreateserial -days 3650 -extfile ext.cnf -out signer.pem 2>/dev/null && \
         openssl pkcs12 -export -inkey signer.key -in signer.pem -certfile root.pem -passout pass:bench -out signer.p12",
        dir,
    );
}

/// A PDF of one page with an incompressible image of `mb` megabytes (0: text only).
fn write_big_pdf(path: &Path, mb: usize) {
    let mut f = std::io::BufWriter::new(std::fs::File::create(path).unwrap());
    let mut offsets = Vec::new();
    let mut pos = 0usize;
    let put = |f: &mut std::io::BufWriter<std::fs::File>, b: &[u8], pos: &mut usize| {
        f.write_all(b).unwrap();
        *pos += b.len();
    };
    put(&mut f, b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n", &mut pos);
    let side = ((mb * 1024 * 1024 / 3) as f64).sqrt() as usize;
    let content = if mb > 0 {
        b"q 500 0 0 500 50 200 cm /Im1 Do Q BT /F1 18 Tf 50 750 Td (Benchmark document) Tj ET"
            .to_vec()
    } else {
        b"BT /F1 18 Tf 50 750 Td (One page contract) Tj ET".to_vec()
    };
    let objs: Vec<Vec<u8>> = vec![
        b"<</Type/Catalog/Pages 2 0 R>>".to_vec(),
        b"<</Type/Pages/Kids[3 0 R]/Count 1>>".to_vec(),
        b"<</Type/Page/Parent 2 0 R/MediaBox[0 0 595 842]/Contents 4 0 R/Resources<</Font<</F1 5 0 R>>/XObject<</Im1 6 0 R>>>>>>".to_vec(),
        [format!("<</Length {}>>\nstream\n", content.len()).into_bytes(), content, b"\nendstream".to_vec()].concat(),
        b"<</Type/Font/Subtype/Type1/BaseFont/Helvetica>>".to_vec(),
    ];
    for (i, o) in objs.iter().enumerate() {
        offsets.push(pos);
        put(&mut f, format!("{} 0 obj\n", i + 1).as_bytes(), &mut pos);
        put(&mut f, o, &mut pos);
        put(&mut f, b"\nendobj\n", &mut pos);
    }
    offsets.push(pos);
    let len = side * side * 3;
    put(
        &mut f,
        format!("6 0 obj\n<</Type/XObject/Subtype/Image/Width {side}/Height {side}/ColorSpace/DeviceRGB/BitsPerComponent 8/Length {len}>>\nstream\n").as_bytes(),
        &mut pos,
    );
    let mut x: u64 = 0x2545_F491_4F6C_DD1D;
    let mut buf = vec![0u8; 1 << 16];
    let mut left = len;
    while left > 0 {
        for b in buf.iter_mut() {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            *b = x as u8;
        }
        let n = left.min(buf.len());
        put(&mut f, &buf[..n], &mut pos);
        left -= n;
    }
    put(&mut f, b"\nendstream\nendobj\n", &mut pos);
    let xref = pos;
    put(
        &mut f,
        format!("xref\n0 {}\n0000000000 65535 f \n", offsets.len() + 1).as_bytes(),
        &mut pos,
    );
    for o in &offsets {
        put(&mut f, format!("{o:010} 00000 n \n").as_bytes(), &mut pos);
    }
    put(
        &mut f,
        format!(
            "trailer\n<</Size {}/Root 1 0 R>>\nstartxref\n{xref}\n%%EOF\n",
            offsets.len() + 1
        )
        .as_bytes(),
        &mut pos,
    );
}

fn sign_with_pyhanko(python: &Path, input: &Path, output: &Path, pki: &Path) {
    let script = format!(
        "from pyhanko.sign import signers\nfrom pyhanko.sign.fields import SigSeedSubFilter\nfrom pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter\n\
         s = signers.SimpleSigner.load_pkcs12('{p12}', passphrase=b'bench')\n\
         with open('{i}','rb') as inf, open('{o}','wb') as out:\n    w = IncrementalPdfFileWriter(inf)\n    signers.sign_pdf(w, signers.PdfSignatureMetadata(field_name='Signature1', subfilter=SigSeedSubFilter.PADES), signer=s, output=out)\n",
        p12 = pki.join("signer.p12").display(),
        i = input.display(),
        o = output.display()
    );
    let st = Command::new(python).args(["-c", &script]).status().unwrap();
    assert!(st.success(), "pyHanko signing failed");
}

fn median_secs(cmd: &[String], runs: usize) -> f64 {
    let mut t: Vec<f64> = (0..runs)
        .map(|_| {
            let s = Instant::now();
            let _ = Command::new(&cmd[0])
                .args(&cmd[1..])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status()
                .unwrap();
            s.elapsed().as_secs_f64()
        })
        .collect();
    t.sort_by(|a, b| a.total_cmp(b));
    t[t.len() / 2]
}

fn peak_rss_kb(cmd: &[String]) -> u64 {
    let out = Command::new("/usr/bin/time")
        .arg("-f")
        .arg("%M")
        .args(cmd)
        .stdout(Stdio::null())
        .output()
        .expect("/usr/bin/time (Debian package `time`)");
    String::from_utf8_lossy(&out.stderr)
        .lines()
        .last()
        .and_then(|l| l.trim().parse().ok())
        .unwrap_or(0)
}
