//! `pades-bench`: prepare + finalize of a large PDF (B-B, ECDSA P-256 test key in-process)
//! against `openssl dgst -sha256` of the same file in the same run, peak memory, and
//! pyHanko signing the same file in-process (its Python API) and through its CLI.
//!
//! ```text
//! cargo run --release -p signer --bin pades-bench -- [--input FILE] [--size-mb 100]
//!     [--runs 5] [--workdir DIR] [--venv DIR]
//! ```
//! Without `--input` a PDF of `--size-mb` megabytes (ten pages of incompressible images)
//! is written to the work directory. Not a test: it prints numbers.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::str::FromStr;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use clap::Parser;
use der::{Encode, EncodePem};
use formats::pdf::FileSource;
use formats::pki::{
    issue_certificate, CertificateTemplate, IssuerRef, KeyAlgorithm, Profile, SigningKey,
};
use signer::pades::{finalize, prepare, SignOptions};

#[derive(Parser)]
#[command(about = "PAdES prepare+finalize benchmark against openssl dgst and pyHanko")]
struct Args {
    /// PDF to sign (default: generate one).
    #[arg(long)]
    input: Option<PathBuf>,
    /// Size of the generated PDF in MB.
    #[arg(long, default_value_t = 100)]
    size_mb: usize,
    /// Runs per measurement (the median is reported).
    #[arg(long, default_value_t = 5)]
    runs: usize,
    /// Work directory (default: a directory under the system temp dir).
    #[arg(long)]
    workdir: Option<PathBuf>,
    /// Virtualenv with pyhanko and pyhanko-cli (default: $TEST_VENV, then
    /// ~/.cache/esig-test-venv, then /tmp/peers-venv).
    #[arg(long)]
    venv: Option<PathBuf>,
}

fn main() -> Result<()> {
    let args = Args::parse();
    let work = args
        .workdir
        .clone()
        .unwrap_or_else(|| std::env::temp_dir().join("pades-bench"));
    std::fs::create_dir_all(&work)?;
    let input = match &args.input {
        Some(p) => p.clone(),
        None => {
            let p = work.join(format!("big-{}mb.pdf", args.size_mb));
            if !p.exists() {
                write_big_pdf(&p, args.size_mb)?;
            }
            p
        }
    };
    let size = std::fs::metadata(&input)?.len();
    println!(
        "input: {} ({:.1} MB), {} runs, medians",
        input.display(),
        size as f64 / 1e6,
        args.runs
    );

    // a P-256 test key and a two-certificate chain, in-process
    let (root_key, _) = SigningKey::generate(KeyAlgorithm::EcdsaP256)?;
    let root = issue_certificate(
        &CertificateTemplate::new(
            x509_cert::name::Name::from_str("CN=Bench Root")?,
            Profile::Ca { path_len: None },
            Duration::from_secs(86400),
        ),
        root_key.public_key_info(),
        IssuerRef::SelfSigned(&root_key),
    )?;
    let (key, pkcs8) = SigningKey::generate(KeyAlgorithm::EcdsaP256)?;
    let mut leaf_t = CertificateTemplate::new(
        x509_cert::name::Name::from_str("CN=Bench Signer")?,
        Profile::EndEntity,
        Duration::from_secs(86400),
    );
    leaf_t.key_usage = x509_cert::ext::pkix::KeyUsages::DigitalSignature
        | x509_cert::ext::pkix::KeyUsages::NonRepudiation;
    let leaf = issue_certificate(
        &leaf_t,
        key.public_key_info(),
        IssuerRef::Ca {
            certificate: &root,
            key: &root_key,
        },
    )?;
    let chain = vec![leaf.to_der()?, root.to_der()?];

    // warm the page cache once
    std::io::copy(&mut std::fs::File::open(&input)?, &mut std::io::sink())?;

    let out_path = work.join("signed-ours.pdf");
    let mut ours = Vec::new();
    let mut prep_times = Vec::new();
    for _ in 0..args.runs {
        // a new output file each run, as the service writes one (truncating the previous
        // output inside the timed part would add the file system's cost of freeing it)
        let _ = std::fs::remove_file(&out_path);
        let t0 = Instant::now();
        let source = FileSource::open(&input)?;
        let options = SignOptions::new(time::OffsetDateTime::now_utc());
        let prepared = prepare(&source, &chain, &options)?;
        let t_prep = t0.elapsed();
        let signature = key.sign(prepared.signed_attributes())?;
        let mut out = std::fs::File::create(&out_path)?;
        finalize(&prepared, &source, &signature, &chain, None, &mut out)?;
        drop(out);
        ours.push(t0.elapsed());
        prep_times.push(t_prep);
    }
    let peak_rss_kb = vm_hwm_kb().unwrap_or(0);

    let mut openssl = Vec::new();
    for _ in 0..args.runs {
        let t0 = Instant::now();
        let st = Command::new("openssl")
            .args(["dgst", "-sha256"])
            .arg(&input)
            .env("OPENSSL_CONF", "/dev/null")
            .stdout(std::process::Stdio::null())
            .status()
            .context("running openssl")?;
        if !st.success() {
            bail!("openssl dgst failed");
        }
        openssl.push(t0.elapsed());
    }
    let m_ours = median(&mut ours);
    let m_ssl = median(&mut openssl);
    println!(
        "ours prepare+finalize B-B: {:.1} ms (prepare {:.1} ms), output {}",
        ms(m_ours),
        ms(median(&mut prep_times)),
        out_path.display()
    );
    println!("openssl dgst -sha256:      {:.1} ms", ms(m_ssl));
    println!(
        "ratio ours / openssl:      {:.2}x (goal <= 1.5x)",
        m_ours.as_secs_f64() / m_ssl.as_secs_f64()
    );
    println!(
        "peak RSS (VmHWM):          {:.1} MB (goal < 64 MB)",
        peak_rss_kb as f64 / 1024.0
    );

    // pyHanko, in-process and CLI, on the same file with the same key
    let Some(venv) = find_venv(args.venv.as_deref()) else {
        println!("pyHanko: SKIPPED (no virtualenv with pyhanko; pass --venv)");
        return Ok(());
    };
    let key_pem = work.join("bench-key.pem");
    let cert_pem = work.join("bench-cert.pem");
    let root_pem = work.join("bench-root.pem");
    std::fs::write(&key_pem, pkcs8.to_pem()?)?;
    std::fs::write(&cert_pem, leaf.to_pem(der::pem::LineEnding::LF)?)?;
    std::fs::write(&root_pem, root.to_pem(der::pem::LineEnding::LF)?)?;

    let script = r#"
import sys, time, statistics
from pyhanko.sign import signers
from pyhanko.sign.fields import SigSeedSubFilter
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
key, cert, root, src, dst, runs = sys.argv[1:7]
signer = signers.SimpleSigner.load(key, cert, ca_chain_files=(root,))
times = []
for _ in range(int(runs)):
    t0 = time.perf_counter()
    with open(src, "rb") as inf, open(dst, "wb") as outf:
        w = IncrementalPdfFileWriter(inf, strict=False)
        meta = signers.PdfSignatureMetadata(field_name="Sig", subfilter=SigSeedSubFilter.PADES)
        signers.sign_pdf(w, meta, signer=signer, output=outf)
    times.append(time.perf_counter() - t0)
print(f"{statistics.median(times) * 1000:.1f}")
"#;
    let py_out = work.join("signed-pyhanko-api.pdf");
    let out = Command::new(venv.join("bin/python"))
        .arg("-c")
        .arg(script)
        .args([&key_pem, &cert_pem, &root_pem, &input, &py_out])
        .arg(args.runs.to_string())
        .output()?;
    if out.status.success() {
        let api_ms: f64 = String::from_utf8_lossy(&out.stdout)
            .trim()
            .parse()
            .unwrap_or(0.0);
        println!(
            "pyHanko API sign B-B:      {api_ms:.1} ms (in-process, median; ours is {:.2}x of it)",
            ms(m_ours) / api_ms
        );
    } else {
        println!(
            "pyHanko API: failed: {}",
            String::from_utf8_lossy(&out.stderr)
                .lines()
                .last()
                .unwrap_or("")
        );
    }

    let mut cli = Vec::new();
    let cli_out = work.join("signed-pyhanko-cli.pdf");
    for _ in 0..args.runs {
        let t0 = Instant::now();
        let st = Command::new(venv.join("bin/pyhanko"))
            .args([
                "sign",
                "addsig",
                "--field",
                "Sig",
                "--use-pades",
                "pemder",
                "--key",
            ])
            .arg(&key_pem)
            .arg("--cert")
            .arg(&cert_pem)
            .arg("--chain")
            .arg(&root_pem)
            .arg("--no-pass")
            .arg(&input)
            .arg(&cli_out)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .status()?;
        if !st.success() {
            println!("pyHanko CLI: failed");
            return Ok(());
        }
        cli.push(t0.elapsed());
    }
    let m_cli = median(&mut cli);
    println!(
        "pyHanko CLI sign B-B:      {:.1} ms (whole process; ours is {:.2}x of it)",
        ms(m_cli),
        m_ours.as_secs_f64() / m_cli.as_secs_f64()
    );
    Ok(())
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn median(v: &mut [Duration]) -> Duration {
    v.sort();
    v.get(v.len() / 2).copied().unwrap_or_default()
}

fn vm_hwm_kb() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

fn find_venv(given: Option<&Path>) -> Option<PathBuf> {
    let mut c: Vec<PathBuf> = given.map(Path::to_path_buf).into_iter().collect();
    if let Ok(v) = std::env::var("TEST_VENV") {
        c.push(v.into());
    }
    if let Ok(h) = std::env::var("HOME") {
        c.push(Path::new(&h).join(".cache/esig-test-venv"));
    }
    c.push("/tmp/peers-venv".into());
    c.into_iter().find(|v| v.join("bin/pyhanko").is_file())
}

/// Writes a PDF of about `mb` megabytes: ten pages, each showing an uncompressed image of
/// pseudo-random bytes (incompressible, like a scan).
fn write_big_pdf(path: &Path, mb: usize) -> Result<()> {
    let pages = 10usize;
    let per_page = (mb * 1_000_000 / pages).max(3);
    let side = ((per_page / 3) as f64).sqrt() as usize;
    let img_len = side * side * 3;
    let mut f = Counting {
        inner: std::io::BufWriter::new(std::fs::File::create(path)?),
        pos: 0,
    };
    let mut offsets = Vec::new();
    let put = |f: &mut Counting, bytes: &[u8]| -> Result<()> {
        f.inner.write_all(bytes)?;
        f.pos += bytes.len();
        Ok(())
    };
    put(&mut f, b"%PDF-1.7\n%\xE2\xE3\xCF\xD3\n")?;
    // 1 catalog, 2 pages, then per page: page, content, image
    let kids: Vec<String> = (0..pages).map(|i| format!("{} 0 R", 3 + 3 * i)).collect();
    let mut objects: Vec<(usize, Vec<u8>)> = vec![
        (1, b"<</Type/Catalog/Pages 2 0 R>>".to_vec()),
        (
            2,
            format!("<</Type/Pages/Kids[{}]/Count {pages}>>", kids.join(" ")).into_bytes(),
        ),
    ];
    let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
    for i in 0..pages {
        let (p, c, im) = (3 + 3 * i, 4 + 3 * i, 5 + 3 * i);
        objects.push((
            p,
            format!(
                "<</Type/Page/Parent 2 0 R/MediaBox[0 0 595 842]/Contents {c} 0 R/Resources<</XObject<</Im0 {im} 0 R>>>>>>"
            )
            .into_bytes(),
        ));
        let content = b"q 515 0 0 515 40 150 cm /Im0 Do Q";
        let mut body = format!("<</Length {}>>\nstream\n", content.len()).into_bytes();
        body.extend_from_slice(content);
        body.extend_from_slice(b"\nendstream");
        objects.push((c, body));
        // the image is streamed straight to the file below
        objects.push((im, Vec::new()));
    }
    let total = objects.len();
    for (num, body) in objects {
        offsets.push((num, f.pos));
        put(&mut f, format!("{num} 0 obj\n").as_bytes())?;
        if body.is_empty() {
            put(
                &mut f,
                format!(
                    "<</Type/XObject/Subtype/Image/Width {side}/Height {side}/ColorSpace/DeviceRGB/BitsPerComponent 8/Length {img_len}>>\nstream\n"
                )
                .as_bytes(),
            )?;
            let mut buf = vec![0u8; 1 << 16];
            let mut left = img_len;
            while left > 0 {
                let n = left.min(buf.len());
                for b in buf[..n].chunks_mut(8) {
                    // xorshift64*
                    seed ^= seed >> 12;
                    seed ^= seed << 25;
                    seed ^= seed >> 27;
                    let v = seed.wrapping_mul(0x2545_f491_4f6c_dd1d).to_le_bytes();
                    b.copy_from_slice(&v[..b.len()]);
                }
                put(&mut f, &buf[..n])?;
                left -= n;
            }
            put(&mut f, b"\nendstream")?;
        } else {
            put(&mut f, &body)?;
        }
        put(&mut f, b"\nendobj\n")?;
    }
    let xref = f.pos;
    offsets.sort();
    put(
        &mut f,
        format!("xref\n0 {}\n0000000000 65535 f\r\n", total + 1).as_bytes(),
    )?;
    for (_, off) in &offsets {
        put(&mut f, format!("{off:010} 00000 n\r\n").as_bytes())?;
    }
    put(
        &mut f,
        format!(
            "trailer\n<</Size {} /Root 1 0 R>>\nstartxref\n{xref}\n%%EOF\n",
            total + 1
        )
        .as_bytes(),
    )?;
    f.inner.flush()?;
    Ok(())
}

struct Counting {
    inner: std::io::BufWriter<std::fs::File>,
    pos: usize,
}
