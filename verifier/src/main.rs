//! `verify`: check the signatures of PDF files.
fn main() {
    eprintln!("verify: not yet implemented");
    std::process::exit(4);
}
