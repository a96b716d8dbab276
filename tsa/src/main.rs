//! `tsa`: the time-stamp authority server.
fn main() {
    eprintln!("tsa: not yet implemented");
    std::process::exit(1);
}
