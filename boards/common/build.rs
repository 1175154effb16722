//! With feature `reflex`: prepares the physical boards' int8 model at compile time.
//!
//! Runs edge-reflex's `engine::build::prebuilt_plan` on the model named by `REFLEX_MODEL` (absolute,
//! or relative to the repository root; default `models/bearing_classifier.tflite`): writes its plan
//! to `$OUT_DIR/<stem>.plan` and `$OUT_DIR/reflex_model.rs` (`PLAN`, `ARENA_BYTES`, input/output
//! sizes, and `MODEL_BYTES`, the model itself), which `src/reflex/model.rs` includes; the
//! firmware's arena is therefore exactly what the plan needs, and a model the engine cannot run
//! fails this build instead of the device. `src/reflex/model.rs` also refuses, at compile time, a
//! model whose input is not the vibration window. Without `reflex` (the QEMU boards) it does nothing.

fn main() {
    #[cfg(feature = "reflex")]
    reflex_model();
}

#[cfg(feature = "reflex")]
fn reflex_model() {
    use std::path::PathBuf;

    let manifest = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").expect("set by cargo"));
    let repo = manifest.join("../..");
    println!("cargo:rerun-if-env-changed=REFLEX_MODEL");
    let model = match std::env::var_os("REFLEX_MODEL") {
        // Joining an absolute path replaces the base.
        Some(path) => repo.join(path),
        None => repo.join("models/bearing_classifier.tflite"),
    };
    let model =
        model.canonicalize().unwrap_or_else(|e| panic!("REFLEX_MODEL: {}: {e}", model.display()));
    println!("cargo:rerun-if-changed={}", model.display());
    let out = PathBuf::from(std::env::var_os("OUT_DIR").expect("set by cargo"));
    let consts = edge_reflex::engine::build::prebuilt_plan(&model, &out)
        .unwrap_or_else(|e| panic!("the boards' model cannot run on the engine: {e}"));
    let len = std::fs::metadata(&model).expect("the model was just read").len();
    let path = model.to_str().expect("UTF-8 model path");
    let code = format!(
        "{consts}/// The model's `.tflite` bytes ({path}).\n\
         pub static MODEL_BYTES: [u8; {len}] = *include_bytes!({path:?});\n"
    );
    std::fs::write(out.join("reflex_model.rs"), code).expect("OUT_DIR is writable");
}
