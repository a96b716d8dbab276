//! `verify`: check the signatures of PDF files.
//!
//! Exit codes (documented in the README):
//! * 0 — every signature of every file is TOTAL-PASSED;
//! * 1 — some signature is TOTAL-FAILED;
//! * 2 — some signature is INDETERMINATE and none failed;
//! * 3 — some file has no signature (and none failed);
//! * 4 — some file could not be read or parsed (takes precedence over everything).

use std::io::{IsTerminal, Write};
use std::path::PathBuf;

use clap::Parser;
use rayon::prelude::*;
use verifier::{FileReport, Indication, Options, Outcome, SignatureKind};

/// Validate the signatures and document timestamps of PDF files (PAdES, adbe.pkcs7.detached,
/// RFC 3161 document timestamps), as ETSI EN 319 102-1 indications.
#[derive(Parser, Debug)]
#[command(name = "verify", version)]
struct Cli {
    /// PEM file with trust anchors (root certificates); may be given several times.
    #[arg(long = "trust", value_name = "PEM")]
    trust: Vec<PathBuf>,
    /// Print the stable JSON report instead of text.
    #[arg(long)]
    json: bool,
    /// Treat missing revocation information as INDETERMINATE (default: a warning).
    #[arg(long)]
    require_revocation: bool,
    /// Validate as of this time (RFC 3339) instead of now.
    #[arg(long, value_name = "RFC3339")]
    at: Option<String>,
    /// Do not show a progress bar.
    #[arg(long)]
    quiet: bool,
    /// PDF files to check.
    #[arg(required = true, value_name = "FILE")]
    files: Vec<PathBuf>,
}

const EXIT_USAGE: i32 = 64;

fn main() {
    let cli = Cli::parse();
    let code = match run(&cli) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("verify: {e:#}");
            EXIT_USAGE
        }
    };
    std::process::exit(code);
}

fn run(cli: &Cli) -> anyhow::Result<i32> {
    let mut trust = Vec::new();
    for p in &cli.trust {
        let bytes = std::fs::read(p)
            .map_err(|e| anyhow::anyhow!("cannot read trust anchor file {}: {e}", p.display()))?;
        let certs = formats::x509::parse_pem_certificates(&bytes).map_err(|e| {
            anyhow::anyhow!(
                "{} holds no usable certificate ({e}); give a PEM file with the root certificate(s)",
                p.display()
            )
        })?;
        trust.extend(certs);
    }
    let now = match &cli.at {
        Some(t) => time::OffsetDateTime::parse(t, &time::format_description::well_known::Rfc3339)
            .map_err(|e| anyhow::anyhow!("--at {t:?} is not an RFC 3339 time: {e}"))?,
        None => time::OffsetDateTime::now_utc(),
    };
    let opts = Options {
        trust,
        require_revocation: cli.require_revocation,
        now,
    };

    let show_progress = !cli.quiet && cli.files.len() > 1 && std::io::stderr().is_terminal();
    let bar = if show_progress {
        let b = indicatif::ProgressBar::new(cli.files.len() as u64);
        b.set_style(
            indicatif::ProgressStyle::with_template("{bar:40} {pos}/{len} files {msg}")
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
        );
        Some(b)
    } else {
        None
    };
    let reports: Vec<FileReport> = cli
        .files
        .par_iter()
        .map(|p| {
            let r = verifier::verify_path(p, &opts);
            if let Some(b) = &bar {
                b.inc(1);
            }
            r
        })
        .collect();
    if let Some(b) = bar {
        b.finish_and_clear();
    }

    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    let res = if cli.json {
        print_json(&mut out, &reports)
    } else {
        print_text(&mut out, &reports)
    };
    match res {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => {}
        Err(e) => return Err(e.into()),
    }
    Ok(exit_code(&reports))
}

fn exit_code(reports: &[FileReport]) -> i32 {
    let outcomes: Vec<Outcome> = reports.iter().map(FileReport::outcome).collect();
    if outcomes.contains(&Outcome::Unreadable) {
        4
    } else if outcomes.contains(&Outcome::Failed) {
        1
    } else if outcomes.contains(&Outcome::NoSignature) {
        3
    } else if outcomes.contains(&Outcome::Indeterminate) {
        2
    } else {
        0
    }
}

fn print_json(out: &mut impl Write, reports: &[FileReport]) -> std::io::Result<()> {
    let summary = summary(reports);
    let doc = serde_json::json!({
        "files": reports,
        "summary": {
            "files": reports.len(),
            "signatures": summary.0,
            "passed": summary.1,
            "failed": summary.2,
            "indeterminate": summary.3,
            "unreadable": summary.4,
            "unsigned": summary.5,
        }
    });
    serde_json::to_writer_pretty(&mut *out, &doc)?;
    writeln!(out)
}

fn summary(reports: &[FileReport]) -> (usize, usize, usize, usize, usize, usize) {
    let sigs = reports.iter().flat_map(|r| &r.signatures);
    let (mut n, mut p, mut f, mut i) = (0, 0, 0, 0);
    for s in sigs {
        n += 1;
        match s.indication {
            Indication::TotalPassed => p += 1,
            Indication::TotalFailed => f += 1,
            Indication::Indeterminate => i += 1,
        }
    }
    let unreadable = reports.iter().filter(|r| r.error.is_some()).count();
    let unsigned = reports
        .iter()
        .filter(|r| r.error.is_none() && r.signatures.is_empty())
        .count();
    (n, p, f, i, unreadable, unsigned)
}

fn print_text(out: &mut impl Write, reports: &[FileReport]) -> std::io::Result<()> {
    for r in reports {
        writeln!(out, "{}", r.path)?;
        if let Some(e) = &r.error {
            writeln!(out, "  ERROR: {e}")?;
        }
        for w in &r.warnings {
            writeln!(out, "  warning: {w}")?;
        }
        if r.error.is_none() && r.signatures.is_empty() {
            writeln!(out, "  no signatures found")?;
        }
        for s in &r.signatures {
            let what = match s.kind {
                SignatureKind::Signature => "signature",
                SignatureKind::DocumentTimestamp => "document timestamp",
            };
            let mark = match s.indication {
                Indication::TotalPassed => "VALID",
                Indication::TotalFailed => "INVALID",
                Indication::Indeterminate => "INDETERMINATE",
            };
            let sub = s
                .sub_indication
                .map(|x| {
                    format!(
                        " / {}",
                        serde_json::to_value(x)
                            .ok()
                            .and_then(|v| v.as_str().map(String::from))
                            .unwrap_or_default()
                    )
                })
                .unwrap_or_default();
            writeln!(
                out,
                "  {what} '{}': {mark} ({}{sub})",
                s.field,
                s.indication.as_str()
            )?;
            if let Some(signer) = &s.signer {
                writeln!(out, "    signed by:    {signer}")?;
            }
            if let Some(t) = &s.signing_time {
                let src = s
                    .signing_time_source
                    .and_then(|x| serde_json::to_value(x).ok())
                    .and_then(|v| v.as_str().map(String::from))
                    .unwrap_or_default();
                writeln!(out, "    time:         {t} ({src})")?;
            }
            if let Some(level) = s.level {
                let l = serde_json::to_value(level)
                    .ok()
                    .and_then(|v| v.as_str().map(String::from))
                    .unwrap_or_default();
                writeln!(out, "    level:        {l}")?;
            }
            if let Some(a) = &s.algorithm {
                writeln!(out, "    algorithm:    {a}")?;
            }
            let cov = serde_json::to_value(s.coverage)
                .ok()
                .and_then(|v| v.as_str().map(String::from))
                .unwrap_or_default();
            let mods = serde_json::to_value(s.modifications)
                .ok()
                .and_then(|v| v.as_str().map(String::from))
                .unwrap_or_default();
            writeln!(
                out,
                "    covers:       {cov} (revision {}); changes after signing: {mods}",
                s.revision
            )?;
            if let Some(ts) = &s.timestamp {
                writeln!(
                    out,
                    "    timestamp:    {} by {} ({})",
                    ts.time,
                    ts.tsa.as_deref().unwrap_or("unknown TSA"),
                    if ts.ok() { "valid" } else { "not valid" }
                )?;
            }
            for e in &s.errors {
                writeln!(out, "    error:   {e}")?;
            }
            for w in &s.warnings {
                writeln!(out, "    warning: {w}")?;
            }
        }
    }
    let (n, p, f, i, u, z) = summary(reports);
    writeln!(
        out,
        "{} file(s), {n} signature(s): {p} passed, {f} failed, {i} indeterminate; {u} unreadable, {z} unsigned",
        reports.len()
    )
}
