//! `app`: the simulated phone app.
fn main() {
    eprintln!("app: not yet implemented");
    std::process::exit(1);
}
