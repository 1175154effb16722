//! The boards' model: `models/bearing_classifier.tflite`, run by the edge-reflex TFLite engine.
//!
//! The model file is embedded in flash (16-byte aligned); its arena size [`ARENA_BYTES`] is
//! computed by this crate's `build.rs` from the same file, so the arena the firmware reserves is
//! exactly what the engine's planner needs (see `models/README.md` for the network). This module
//! does not run the graph; [`run_vibration_reflex`](super::run_vibration_reflex) does.

use edge_reflex::engine::LoadError;
use edge_reflex::engine::{Interpreter, RunError, TfLiteModel};

use crate::Aligned;

mod consts {
    include!(concat!(env!("OUT_DIR"), "/reflex_model.rs"));
}

pub use consts::*;

/// The `.tflite` bytes of the bearing-fault classifier.
pub static MODEL: &Aligned<[u8]> = &Aligned(*include_bytes!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../models/bearing_classifier.tflite"
)));

/// The arena of the model: exactly [`ARENA_BYTES`], 16-byte aligned.
pub type Arena = Aligned<[u8; ARENA_BYTES]>;

/// An empty arena (put it where it lives as long as the interpreter, e.g. a local of the task).
pub const fn arena() -> Arena {
    Aligned([0; ARENA_BYTES])
}

/// Why the model could not be set up (not expected: `build.rs` ran the same checks).
#[derive(Clone, Copy, Debug, defmt::Format)]
pub enum SetupError {
    /// The model file was refused.
    Load(LoadError),
    /// The arena was refused (too small).
    Arena(RunError),
}

/// Loads [`MODEL`] and prepares it in `arena`.
pub fn interpreter(arena: &mut Arena) -> Result<Interpreter<'static, '_>, SetupError> {
    let model = TfLiteModel::load(&MODEL.0).map_err(SetupError::Load)?;
    Interpreter::new(&model, &mut arena.0).map_err(SetupError::Arena)
}

// The window the graph quantizes must be exactly the model's input.
const _: () =
    assert!(INPUT_LEN == edge_reflex::vibration::INPUT_LEN, "model input != graph window");
const _: () = assert!(OUTPUT_LEN >= 1, "the rule reads output 0");
