fn main() -> anyhow::Result<()> {
    let out = std::path::PathBuf::from(std::env::args().nth(1).unwrap_or_default());
    interop_tests::pki::Pki::generate(&out.join("pki"))?;
    Ok(())
}
