//! `verify` on the shared reference corpus (`<workspace>/../shared/corpus`, signed with pyHanko
//! under its own PKI): every PDF row of `expected.tsv` must get the verdict listed there.
//! XML rows and rows needing the lab's online CRL server are left out.
//! Optional: a clone without `../shared` skips this test with a note (also in CI).

use std::collections::BTreeMap;
use std::path::PathBuf;

use interop_tests::table::Table;
use interop_tests::tools::workspace_root;
use interop_tests::verify;

/// `expected.tsv` verdict words -> ETSI indications.
fn indication(expected: &str) -> Option<&'static str> {
    match expected {
        "VALID" => Some("TOTAL-PASSED"),
        "INVALID" => Some("TOTAL-FAILED"),
        "INDETERMINATE" => Some("INDETERMINATE"),
        _ => None,
    }
}

struct Row {
    file: String,
    field: String,
    want: &'static str,
    reason: String,
}

fn corpus_dir() -> Option<PathBuf> {
    let dir = std::env::var_os("SHARED_CORPUS")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace_root().join("../shared/corpus"));
    if dir.join("expected.tsv").is_file() {
        Some(dir.canonicalize().unwrap_or(dir))
    } else {
        eprintln!(
            "NOTE: no reference corpus at {} (expected.tsv); corpus agreement not checked",
            dir.display()
        );
        None
    }
}

fn read_expected(dir: &std::path::Path) -> Vec<Row> {
    let tsv = std::fs::read_to_string(dir.join("expected.tsv")).expect("read expected.tsv");
    let mut lines = tsv.lines();
    let header: Vec<&str> = lines.next().unwrap_or_default().split('\t').collect();
    let col = |name: &str| {
        header
            .iter()
            .position(|h| *h == name)
            .unwrap_or_else(|| panic!("expected.tsv has no column {name}"))
    };
    let (file, sig, exp, reason) = (
        col("file"),
        col("signature"),
        col("expected"),
        col("reason"),
    );
    lines
        .filter(|l| !l.trim().is_empty())
        .map(|l| l.split('\t').collect::<Vec<_>>())
        .filter(|c| !c.get(file).is_some_and(|f| f.ends_with(".xml")))
        // rows that need the lab's online CRL server (as in peers/compare_verdicts.py)
        .filter(|c| !c.get(reason).is_some_and(|r| r.contains("lab server")))
        .map(|c| {
            let get = |i: usize| c.get(i).copied().unwrap_or_default().to_owned();
            let want = indication(&get(exp))
                .unwrap_or_else(|| panic!("expected.tsv: unknown verdict {:?}", get(exp)));
            Row {
                file: get(file),
                field: get(sig),
                want,
                reason: get(reason),
            }
        })
        .collect()
}

#[test]
fn verify_agrees_with_expected_tsv() {
    let Some(dir) = corpus_dir() else { return };
    let root = dir.join("pki/root-ca.pem");
    let rows = read_expected(&dir);
    assert!(!rows.is_empty(), "expected.tsv has no PDF rows");

    let mut by_file: BTreeMap<&str, Vec<&Row>> = BTreeMap::new();
    for row in &rows {
        by_file.entry(&row.file).or_default().push(row);
    }
    let mut table = Table::new(&["file", "signature", "expected", "ours", "note", "reason"]);
    let mut agree = 0;
    for (file, want) in &by_file {
        let path = dir.join(file);
        let ours = verify::run_json(&root, &[&path]).and_then(|r| r.signatures());
        for row in want {
            let (got, note) = match &ours {
                Err(e) => (
                    "ERROR".to_owned(),
                    format!("{e:#}")
                        .lines()
                        .next()
                        .unwrap_or_default()
                        .chars()
                        .take(120)
                        .collect(),
                ),
                Ok(sigs) => match sigs.iter().find(|s| s.field == row.field) {
                    None => (
                        "(missing)".to_owned(),
                        format!(
                            "fields reported: {:?}",
                            sigs.iter().map(|s| &s.field).collect::<Vec<_>>()
                        ),
                    ),
                    Some(s) => (
                        s.indication.clone(),
                        s.sub_indication.clone().unwrap_or_default(),
                    ),
                },
            };
            if got == row.want {
                agree += 1;
            } else {
                table.row([
                    row.file.as_str(),
                    &row.field,
                    row.want,
                    &got,
                    &note,
                    &row.reason,
                ]);
            }
        }
    }
    // every PDF in the corpus should be listed; a new file without a row is a corpus bug
    let unlisted: Vec<String> = std::fs::read_dir(&dir)
        .expect("list corpus")
        .filter_map(|e| e.ok().map(|e| e.file_name().to_string_lossy().into_owned()))
        .filter(|n| n.ends_with(".pdf") && !by_file.contains_key(n.as_str()))
        .collect();
    assert!(
        unlisted.is_empty(),
        "PDFs in {} without a row in expected.tsv: {unlisted:?}",
        dir.display()
    );
    assert!(
        table.is_empty(),
        "verify disagrees with {}/expected.tsv on {} of {} signatures (agree {agree}/{}):\n{}",
        dir.display(),
        rows.len() - agree,
        rows.len(),
        rows.len(),
        table.render()
    );
}
