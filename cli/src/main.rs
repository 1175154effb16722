//! `reflex`: inspect and run int8 TFLite models with the edge-reflex engine (being written).
fn main() {
    eprintln!("reflex: not yet implemented");
    std::process::exit(2);
}
