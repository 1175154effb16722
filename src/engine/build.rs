//! Build-script helpers (feature `build`, which enables `std`): size a model's arena at compile
//! time, so firmware declares `static ARENA: [u8; ARENA_BYTES]` exactly, and a model the engine
//! cannot run fails the build instead of the device.
//!
//! ```no_run
//! // build.rs of a board crate (with `edge-reflex = { ..., features = ["build"] }` in
//! // [build-dependencies]):
//! let consts = edge_reflex::engine::build::model_consts("model.tflite").unwrap_or_else(|e| panic!("{e}"));
//! let out = std::path::PathBuf::from(std::env::var("OUT_DIR").unwrap()).join("model_consts.rs");
//! std::fs::write(out, consts).unwrap();
//! println!("cargo:rerun-if-changed=model.tflite");
//! // main.rs: include!(concat!(env!("OUT_DIR"), "/model_consts.rs"));
//! ```

extern crate std;

use crate::engine::model::TfLiteModel;
use crate::engine::plan::planner;
use std::format;
use std::path::Path;
use std::string::String;
use std::vec;

/// Rust source declaring the constants of the model file at `path`:
/// `ARENA_BYTES` (exact arena size), `INPUT_BYTES`/`OUTPUT_BYTES` (bytes of input 0 / output 0)
/// and `INPUT_LEN`/`OUTPUT_LEN` (their element counts).
///
/// Errors: a one-line message if the file cannot be read or the model is refused (malformed,
/// unsupported operator, float model...).
pub fn model_consts(path: impl AsRef<Path>) -> Result<String, String> {
    let path = path.as_ref();
    let bytes = std::fs::read(path).map_err(|e| format!("{}: cannot read: {e}", path.display()))?;
    model_consts_from_bytes(&bytes).map_err(|e| format!("{}: {e}", path.display()))
}

/// [`model_consts`] for model bytes already in memory.
pub fn model_consts_from_bytes(bytes: &[u8]) -> Result<String, String> {
    let model = TfLiteModel::load(bytes).map_err(|e| format!("{e}"))?;
    let mut scratch = vec![0u8; planner::scratch_bytes(&model)];
    let arena = model.arena_size_with_scratch(&mut scratch).map_err(|e| format!("{e}"))?;
    consts(&model, arena, "Bytes of arena the model needs (edge-reflex planner).")
}

/// The constants' source, with `ARENA_BYTES = arena` documented by `arena_doc`.
fn consts(model: &TfLiteModel<'_>, arena: usize, arena_doc: &str) -> Result<String, String> {
    let (input, output) = (
        model.input_info(0).ok_or("model has no input")?,
        model.output_info(0).ok_or("model has no output")?,
    );
    Ok(format!(
        "/// {arena_doc}\n\
         pub const ARENA_BYTES: usize = {arena};\n\
         /// Bytes of the model's input 0 ({in_ty} {in_shape:?}).\n\
         pub const INPUT_BYTES: usize = {in_bytes};\n\
         /// Elements of the model's input 0.\n\
         pub const INPUT_LEN: usize = {in_len};\n\
         /// Bytes of the model's output 0 ({out_ty} {out_shape:?}).\n\
         pub const OUTPUT_BYTES: usize = {out_bytes};\n\
         /// Elements of the model's output 0.\n\
         pub const OUTPUT_LEN: usize = {out_len};\n",
        in_ty = input.dtype.name(),
        in_shape = input.shape.dims(),
        in_bytes = input.bytes(),
        in_len = input.elements(),
        out_ty = output.dtype.name(),
        out_shape = output.shape.dims(),
        out_bytes = output.bytes(),
        out_len = output.elements(),
    ))
}

/// Writes the [`prebuilt`](crate::engine::plan::prebuilt) plan of the model file at `path` into
/// `out_dir` (as `<file stem>.plan`) and returns Rust source declaring
///
/// * `PLAN: [u8; N]`, the plan (`include_bytes!` of that file), for
///   [`Prebuilt::new`](crate::engine::Prebuilt::new) together with the model's bytes;
/// * `ARENA_BYTES`, the RAM arena [`Interpreter::from_plan`](crate::engine::Interpreter::from_plan)
///   needs (the activations alone: the records live in `PLAN`, in flash);
/// * `INPUT_BYTES`, `INPUT_LEN`, `OUTPUT_BYTES`, `OUTPUT_LEN` as in [`model_consts`].
///
/// ```no_run
/// // build.rs
/// let out = std::path::PathBuf::from(std::env::var("OUT_DIR").unwrap());
/// let src = edge_reflex::engine::build::prebuilt_plan("model.tflite", &out)
///     .unwrap_or_else(|e| panic!("{e}"));
/// std::fs::write(out.join("model_plan.rs"), src).unwrap();
/// println!("cargo:rerun-if-changed=model.tflite");
/// // main.rs:
/// // include!(concat!(env!("OUT_DIR"), "/model_plan.rs"));
/// // static MODEL: [u8; _] = *include_bytes!("../model.tflite");
/// // let plan = Prebuilt::new(&MODEL, &PLAN)?;
/// ```
///
/// Errors: a one-line message if the file cannot be read or written, or the model is refused.
pub fn prebuilt_plan(path: impl AsRef<Path>, out_dir: impl AsRef<Path>) -> Result<String, String> {
    let path = path.as_ref();
    let bytes = std::fs::read(path).map_err(|e| format!("{}: cannot read: {e}", path.display()))?;
    let model = TfLiteModel::load(&bytes).map_err(|e| format!("{}: {e}", path.display()))?;
    let plan = plan_of(&model).map_err(|e| format!("{}: {e}", path.display()))?;
    let stem = path.file_stem().and_then(|s| s.to_str()).unwrap_or("model");
    let plan_path = out_dir.as_ref().join(format!("{stem}.plan"));
    std::fs::write(&plan_path, &plan)
        .map_err(|e| format!("{}: cannot write: {e}", plan_path.display()))?;
    let prebuilt = crate::engine::Prebuilt::new(&bytes, &plan).map_err(|e| format!("{e}"))?;
    let doc = "Bytes of RAM arena the model needs with its plan in flash (the activations alone).";
    let consts = consts(&model, prebuilt.arena_size(), doc)?;
    Ok(format!(
        "{consts}/// The model's prebuilt plan ({len} bytes, edge-reflex plan format {version}).\n\
         pub static PLAN: [u8; {len}] = *include_bytes!({path:?});\n",
        len = plan.len(),
        version = crate::engine::plan::prebuilt::VERSION,
        path = plan_path.to_str().ok_or("OUT_DIR is not UTF-8")?,
    ))
}

/// The prebuilt plan of model bytes already in memory.
pub fn plan_from_bytes(bytes: &[u8]) -> Result<std::vec::Vec<u8>, String> {
    plan_of(&TfLiteModel::load(bytes).map_err(|e| format!("{e}"))?)
}

/// The prebuilt plan of a loaded model.
fn plan_of(model: &TfLiteModel<'_>) -> Result<std::vec::Vec<u8>, String> {
    let size = model.arena_size().map_err(|e| format!("{e}"))?;
    let mut work = vec![0u8; size];
    let len =
        crate::engine::plan::prebuilt::plan_len(model, &mut work).map_err(|e| format!("{e}"))?;
    let mut plan = vec![0u8; len];
    crate::engine::plan::prebuilt::write(model, &mut work, &mut plan)
        .map_err(|e| format!("{e}"))?;
    Ok(plan)
}
