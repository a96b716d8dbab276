//! `verify` against pyHanko on cases generated at test time (see `interop_tests::cases`):
//! every signature gets pyHanko's indication, exit codes follow the documented table, and
//! the `--json` report keeps its schema.

use std::collections::BTreeSet;
use std::path::Path;

use interop_tests::cases::{Case, Fixture, FAILED, INDETERMINATE, PASSED};
use interop_tests::pdfsig::Pdfsig;
use interop_tests::pki::UNTRUSTED_ROOT;
use interop_tests::require;
use interop_tests::table::Table;
use interop_tests::tools::require_tool;
use interop_tests::verify::{self, exit, expected_exit, ReportedSignature};

fn fixture() -> Option<&'static Fixture> {
    Fixture::shared()
}

/// Harness self-check: each case is what it was built to be, according to pyHanko. If this
/// fails, fix the case generator (tests/py/make_cases.py), not the verifier.
#[test]
fn generated_cases_are_what_they_claim() {
    let fx = require!(fixture());
    let mut bad = Table::new(&["case", "field", "intent", "pyHanko", "pyHanko summary"]);
    for case in &fx.cases {
        let fields: BTreeSet<&String> = case.pyhanko.iter().map(|v| &v.field).collect();
        for (field, intent) in &case.intent {
            if !fields.contains(field) {
                bad.row([case.name.as_str(), field, intent, "(no such signature)", ""]);
            }
        }
        for v in &case.pyhanko {
            let intent = case
                .intent
                .get(&v.field)
                .map_or("(not declared)", String::as_str);
            if intent != v.indication {
                bad.row([
                    case.name.as_str(),
                    &v.field,
                    intent,
                    &v.indication,
                    &v.summary,
                ]);
            }
        }
    }
    assert!(
        bad.is_empty(),
        "generated cases disagree with pyHanko:\n{}",
        bad.render()
    );
    assert!(
        fx.cases.len() >= 20,
        "only {} cases generated",
        fx.cases.len()
    );
}

/// Harness self-check with a second judge: poppler's pdfsig agrees with pyHanko on every case
/// it can judge (it cannot see changes after signing nor check document timestamps).
#[test]
fn pdfsig_agrees_with_pyhanko_where_it_can_judge() {
    let fx = require!(fixture());
    require!(require_tool("pdfsig"));
    require!(require_tool("certutil"));
    let pdfsig = Pdfsig::new(&fx.pki.root(), &[&fx.pki.crl("root"), &fx.pki.crl("int")])
        .expect("NSS database");
    let mut bad = Table::new(&["case", "field", "pyHanko", "pdfsig", "pdfsig said"]);
    let mut judged = 0;
    for case in &fx.cases {
        let report = pdfsig.check(&case.path).expect("pdfsig");
        for v in case
            .pyhanko
            .iter()
            .filter(|v| !v.summary.contains("ILLEGAL_MODIFICATIONS"))
        {
            let theirs = report.iter().find(|s| s.field == v.field);
            let Some(ind) = theirs.map(|s| s.indication()) else {
                bad.row([case.name.as_str(), &v.field, &v.indication, "(missing)", ""]);
                continue;
            };
            let Some(ind) = ind else { continue };
            judged += 1;
            if ind != v.indication {
                let said = theirs
                    .map(|s| format!("{} / {}", s.signature, s.certificate))
                    .unwrap_or_default();
                bad.row([case.name.as_str(), &v.field, &v.indication, ind, &said]);
            }
        }
    }
    assert!(
        bad.is_empty(),
        "pdfsig and pyHanko disagree on generated cases:\n{}",
        bad.render()
    );
    assert!(judged >= 20, "pdfsig judged only {judged} signatures");
}

/// The main agreement check: `verify --json --trust ROOT` on every case gives, for every
/// signature and document timestamp, pyHanko's indication.
#[test]
fn verify_agrees_with_pyhanko_on_every_generated_case() {
    let fx = require!(fixture());
    let root = fx.pki.root();
    let mut table = Table::new(&[
        "case",
        "field",
        "kind",
        "pyHanko",
        "ours",
        "ours: subIndication / note",
    ]);
    let (mut agree, mut total) = (0, 0);
    for case in &fx.cases {
        let ours = match verify::run_json(&root, &[&case.path]).and_then(|r| r.signatures()) {
            Ok(sigs) => sigs,
            Err(e) => {
                total += case.pyhanko.len();
                table.row([
                    case.name.as_str(),
                    "*",
                    "*",
                    "*",
                    "ERROR",
                    &first_line(&format!("{e:#}")),
                ]);
                continue;
            }
        };
        for expected in &case.pyhanko {
            total += 1;
            let got = ours.iter().find(|s| s.field == expected.field);
            let (ind, note) = describe(got, &expected.kind);
            if got.is_some_and(|g| g.indication == expected.indication && g.kind == expected.kind) {
                agree += 1;
            } else {
                table.row([
                    case.name.as_str(),
                    &expected.field,
                    &expected.kind,
                    &expected.indication,
                    &ind,
                    &note,
                ]);
            }
        }
        for extra in ours
            .iter()
            .filter(|s| !case.pyhanko.iter().any(|p| p.field == s.field))
        {
            table.row([
                case.name.as_str(),
                &extra.field,
                &extra.kind,
                "(none)",
                &extra.indication,
                "signature pyHanko does not see",
            ]);
        }
    }
    assert!(
        table.is_empty(),
        "verify disagrees with pyHanko on {} of {total} signatures (agree {agree}/{total}); files in {}\n{}",
        total - agree,
        fx.dir.display(),
        table.render()
    );
}

/// Exit code of every case follows from pyHanko's indications (0 / 1 / 2), with and without
/// `--json`.
#[test]
fn exit_codes_follow_the_indications() {
    let fx = require!(fixture());
    let root = fx.pki.root();
    let mut table = Table::new(&[
        "case",
        "pyHanko indications",
        "want",
        "--json exit",
        "text exit",
    ]);
    for case in &fx.cases {
        let want = expected_exit(case.pyhanko.iter().map(|v| v.indication.as_str()));
        let json = code(verify::run_json(&root, &[&case.path]));
        let text = code(verify::run([Path::new("--trust"), &root, &case.path]));
        if json != Some(want) || text != Some(want) {
            let inds: Vec<&str> = case.pyhanko.iter().map(|v| v.indication.as_str()).collect();
            table.row([
                case.name.clone(),
                inds.join(","),
                want.to_string(),
                show(json),
                show(text),
            ]);
        }
    }
    assert!(table.is_empty(), "wrong exit codes:\n{}", table.render());
}

#[test]
fn unsigned_pdf_exits_3_and_reports_no_signatures() {
    let fx = require!(fixture());
    let run = verify::run_json(&fx.pki.root(), &[&fx.samples.contract()]).expect("run verify");
    assert_eq!(
        run.code,
        Some(exit::NO_SIGNATURE),
        "{}\nstdout: {}\nstderr: {}",
        run.command,
        run.stdout,
        run.stderr
    );
    let sigs = run.signatures().expect("a report that keeps the schema");
    assert!(
        sigs.is_empty(),
        "signatures reported in an unsigned PDF: {sigs:?}"
    );
}

#[test]
fn unreadable_input_exits_4() {
    let fx = require!(fixture());
    let not_pdf = fx.dir.join("not-a-pdf.pdf");
    std::fs::write(&not_pdf, "this is plain text, not a PDF\n").expect("write");
    let truncated = fx.dir.join("truncated.pdf");
    let signed = std::fs::read(&fx.case("b-b-p256.pdf").path).expect("read");
    std::fs::write(&truncated, &signed[..200]).expect("write");
    let missing = fx.dir.join("does-not-exist.pdf");
    for file in [&not_pdf, &truncated, &missing] {
        let run = verify::run_json(&fx.pki.root(), &[file]).expect("run verify");
        assert_eq!(
            run.code,
            Some(exit::UNREADABLE),
            "{}\nstdout: {}\nstderr: {}",
            run.command,
            run.stdout,
            run.stderr
        );
        // the reason goes to stderr, or into the JSON report's file entry
        let in_json = run
            .json()
            .ok()
            .and_then(|j| j["files"][0]["error"].as_str().map(str::to_owned));
        assert!(
            !run.stderr.trim().is_empty() || in_json.is_some_and(|e| !e.is_empty()),
            "{}: says nothing about why (stderr empty, no files[0].error)\nstdout: {}",
            run.command,
            run.stdout
        );
    }
}

/// Several files in one run: the report lists each in order, the worst verdict sets the exit code.
#[test]
fn several_files_are_reported_in_order_and_the_worst_sets_the_exit_code() {
    let fx = require!(fixture());
    let root = fx.pki.root();
    let good = &fx.case("b-b-p256.pdf").path;
    let failed = &fx.case("tampered-signed-range.pdf").path;
    let indeterminate = &fx.case("untrusted-root.pdf").path;
    for (files, want) in [
        (vec![good, good], exit::ALL_PASSED),
        (vec![good, failed, indeterminate], exit::FAILED),
        (vec![indeterminate, good], exit::INDETERMINATE),
    ] {
        let paths: Vec<&Path> = files.iter().map(|p| p.as_path()).collect();
        let run = verify::run_json(&root, &paths).expect("run verify");
        assert_eq!(
            run.code,
            Some(want),
            "{}\nstderr: {}",
            run.command,
            run.stderr
        );
        let json = run.json().expect("JSON report");
        let reported: Vec<&str> = json["files"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|f| f["path"].as_str())
            .collect();
        let given: Vec<String> = paths.iter().map(|p| p.display().to_string()).collect();
        assert_eq!(
            reported, given,
            "{}: files[].path should list the arguments in order",
            run.command
        );
    }
}

/// `--trust` decides the anchors: the untrusted hierarchy passes once its root is given, our own
/// signer does not when only that root is given, and several `--trust` options add up.
#[test]
fn trust_option_selects_the_anchors() {
    let fx = require!(fixture());
    let other_root = fx.pki.cert(UNTRUSTED_ROOT);
    let ours = &fx.case("b-b-p256.pdf").path;
    let theirs = &fx.case("untrusted-root.pdf").path;
    let check = |trust: &[&Path], file: &Path, want: &str| {
        let mut args: Vec<&std::ffi::OsStr> = vec!["--json".as_ref()];
        for t in trust {
            args.push("--trust".as_ref());
            args.push(t.as_os_str());
        }
        args.push(file.as_os_str());
        let run = verify::run(args).expect("run verify");
        let sigs = run.signatures().unwrap_or_else(|e| panic!("{e:#}"));
        let got: Vec<&str> = sigs.iter().map(|s| s.indication.as_str()).collect();
        assert_eq!(got, [want], "{}\nstderr: {}", run.command, run.stderr);
    };
    check(&[&other_root], theirs, PASSED);
    check(&[&other_root], ours, INDETERMINATE);
    check(&[&fx.pki.root(), &other_root], theirs, PASSED);
    check(&[&fx.pki.root(), &other_root], ours, PASSED);
}

/// `--require-revocation`: revocation data embedded in the file (B-LT, B-LTA) satisfies it; a B-B
/// signature whose CRL cannot be fetched (its distribution point refuses connections) cannot
/// pass with it.
#[test]
fn require_revocation_uses_embedded_crls_and_refuses_to_guess() {
    let fx = require!(fixture());
    let root = fx.pki.root();
    for (name, passes) in [
        ("b-lt-p256.pdf", true),
        ("b-lta-p256.pdf", true),
        ("b-b-p256.pdf", false),
    ] {
        let case = fx.case(name);
        let run = verify::run([
            Path::new("--json"),
            Path::new("--require-revocation"),
            Path::new("--trust"),
            &root,
            &case.path,
        ])
        .expect("run verify");
        let sigs = run.signatures().unwrap_or_else(|e| panic!("{e:#}"));
        let sig = sigs
            .iter()
            .find(|s| s.kind == "signature")
            .unwrap_or_else(|| panic!("{}: no signature reported", run.command));
        if passes {
            assert_eq!(
                sig.indication, PASSED,
                "{}: {sig:?}\nstderr: {}",
                run.command, run.stderr
            );
        } else {
            assert_ne!(
                sig.indication, PASSED,
                "{}: passed without revocation data: {sig:?}",
                run.command
            );
            assert_ne!(
                sig.indication, FAILED,
                "{}: missing revocation data is not a failure: {sig:?}",
                run.command
            );
        }
    }
}

/// The PAdES level of the signatures whose level follows from how they were made.
#[test]
fn levels_are_reported() {
    let fx = require!(fixture());
    let mut table = Table::new(&["case", "field", "want", "ours"]);
    let want: [(&str, &[&str]); 7] = [
        ("b-b-p256.pdf", &["PAdES-BASELINE-B"]),
        ("b-b-rsa.pdf", &["PAdES-BASELINE-B"]),
        ("b-t-p256.pdf", &["PAdES-BASELINE-T"]),
        ("b-t-openssl-tsa.pdf", &["PAdES-BASELINE-T"]),
        ("b-lt-p256.pdf", &["PAdES-BASELINE-LT"]),
        ("b-lta-p256.pdf", &["PAdES-BASELINE-LTA"]),
        ("adbe-pkcs7-detached.pdf", &["not baseline", "null"]),
    ];
    for (name, allowed) in want {
        let case: &Case = fx.case(name);
        let got = verify::run_json(&fx.pki.root(), &[&case.path])
            .and_then(|r| r.signatures())
            .map(|sigs| {
                sigs.into_iter()
                    .find(|s| s.kind == "signature")
                    .map_or("(no signature)".to_owned(), |s| {
                        s.level.unwrap_or_else(|| "null".to_owned())
                    })
            })
            .unwrap_or_else(|e| format!("ERROR {}", first_line(&format!("{e:#}"))));
        if !allowed.contains(&got.as_str()) {
            table.row([name, "signature", &allowed.join(" | "), &got]);
        }
    }
    assert!(table.is_empty(), "wrong levels:\n{}", table.render());
}

fn describe(got: Option<&ReportedSignature>, want_kind: &str) -> (String, String) {
    match got {
        None => ("(missing)".to_owned(), "field not in the report".to_owned()),
        Some(g) => {
            let mut note = g.sub_indication.clone().unwrap_or_default();
            if g.kind != want_kind {
                note = format!("kind {} {note}", g.kind);
            }
            (g.indication.clone(), note)
        }
    }
}

fn code(run: anyhow::Result<verify::VerifyRun>) -> Option<i32> {
    run.ok().and_then(|r| r.code)
}

fn show(code: Option<i32>) -> String {
    code.map_or("none".to_owned(), |c| c.to_string())
}

fn first_line(s: &str) -> String {
    s.lines()
        .find(|l| !l.trim().is_empty())
        .unwrap_or("")
        .chars()
        .take(160)
        .collect()
}
