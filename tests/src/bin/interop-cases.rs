//! `interop-cases DIR`: generate the verifier's test fixture (PKI, samples, signed cases and
//! pyHanko's verdicts) into DIR, as the tests do, and print pyHanko's verdicts.
#![forbid(unsafe_code)]

use std::path::PathBuf;

use anyhow::{bail, Context, Result};
use interop_tests::cases::Fixture;
use interop_tests::table::Table;
use interop_tests::tools;

fn main() -> Result<()> {
    let Some(dir) = std::env::args_os().nth(1).map(PathBuf::from) else {
        bail!("usage: interop-cases DIR   (DIR is wiped and refilled)");
    };
    let Some(venv) = tools::venv() else {
        bail!("no pyHanko virtualenv: run scripts/install-test-deps.sh or set TEST_VENV");
    };
    let fixture = Fixture::generate(&dir, &venv).context("generating the fixture")?;
    let mut table = Table::new(&[
        "case",
        "field",
        "kind",
        "intent",
        "pyHanko",
        "pyHanko summary",
    ]);
    for case in &fixture.cases {
        for v in &case.pyhanko {
            let intent = case.intent.get(&v.field).map_or("-", String::as_str);
            table.row([
                case.name.as_str(),
                &v.field,
                &v.kind,
                intent,
                &v.indication,
                &v.summary,
            ]);
        }
    }
    print!("{}", table.render());
    println!(
        "{} in {}; trust anchor {}",
        fixture.timings,
        fixture.dir.display(),
        fixture.pki.root().display()
    );
    Ok(())
}
