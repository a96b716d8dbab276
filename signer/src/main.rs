//! `signer`: the signing service.
fn main() {
    eprintln!("signer: not yet implemented");
    std::process::exit(1);
}
