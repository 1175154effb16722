//! With feature `reflex`: prepares the boards' int8 model at compile time.
//!
//! Runs edge-reflex's `engine::build::prebuilt_plan` on `models/bearing_classifier.tflite`: writes
//! its plan to `$OUT_DIR/bearing_classifier.plan` and `$OUT_DIR/reflex_model.rs` (`PLAN`,
//! `ARENA_BYTES`, input/output sizes), which `src/reflex/model.rs` includes; the firmware's arena
//! is therefore exactly what the plan needs, and a model the engine cannot run fails this build
//! instead of the device. Without `reflex` (the QEMU boards) it does nothing.

fn main() {
    #[cfg(feature = "reflex")]
    reflex_model();
}

#[cfg(feature = "reflex")]
fn reflex_model() {
    use std::path::PathBuf;

    let manifest = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").expect("set by cargo"));
    let model = manifest.join("../../models/bearing_classifier.tflite");
    println!("cargo:rerun-if-changed={}", model.display());
    let out = PathBuf::from(std::env::var_os("OUT_DIR").expect("set by cargo"));
    let consts = edge_reflex::engine::build::prebuilt_plan(&model, &out)
        .unwrap_or_else(|e| panic!("the boards' model cannot run on the engine: {e}"));
    std::fs::write(out.join("reflex_model.rs"), consts).expect("OUT_DIR is writable");
}
