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

use crate::engine::loader::TfLiteModel;
use crate::engine::planner;
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
    let (input, output) = (
        model.input_info(0).ok_or("model has no input")?,
        model.output_info(0).ok_or("model has no output")?,
    );
    Ok(format!(
        "/// Bytes of arena the model needs (edge-reflex planner).\n\
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
