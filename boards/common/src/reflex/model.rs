//! The boards' model: `models/bearing_classifier.tflite`, or the file `REFLEX_MODEL` names at build
//! time, run by the edge-reflex TFLite engine.
//!
//! The model file is embedded in flash (16-byte aligned) beside its prebuilt [`PLAN`], which this
//! crate's `build.rs` makes from the same file with the engine (`engine::build::prebuilt_plan`):
//! the model is checked, its operators prepared and its memory planned on the build machine, so a
//! model the engine cannot run fails the build, the firmware links neither the loader nor the
//! planner, and the RAM arena [`ARENA_BYTES`] holds the activations alone (see
//! `models/README.md` for the network). This module does not run the graph;
//! [`run_vibration_reflex`](super::run_vibration_reflex) does.

use edge_reflex::engine::plan::prebuilt::IoTensor;
use edge_reflex::engine::{DType, Interpreter, PlanError, Prebuilt, RunError};

use crate::Aligned;

mod consts {
    include!(concat!(env!("OUT_DIR"), "/reflex_model.rs"));
}

pub use consts::*;

/// The `.tflite` bytes of the model (the bearing-fault classifier unless `REFLEX_MODEL` named another).
pub static MODEL: &Aligned<[u8]> = &Aligned(consts::MODEL_BYTES);

/// The arena of the model: exactly [`ARENA_BYTES`], 16-byte aligned.
pub type Arena = Aligned<[u8; ARENA_BYTES]>;

/// An empty arena (put it where it lives as long as the interpreter, e.g. a local of the task).
pub const fn arena() -> Arena {
    Aligned([0; ARENA_BYTES])
}

/// Why the model could not be set up (not expected: `build.rs` made the plan from the same file).
#[derive(Clone, Copy, Debug, defmt::Format)]
pub enum SetupError {
    /// The plan does not bind to the model (damaged flash, or a stale plan).
    Plan(PlanError),
    /// The arena was refused (too small).
    Arena(RunError),
}

/// Binds [`PLAN`] to [`MODEL`] (checking both) and runs it in `arena`.
pub fn interpreter(
    arena: &mut Arena,
) -> Result<Interpreter<'static, '_, Prebuilt<'static, '_>>, SetupError> {
    interpreter_for(&MODEL.0, &PLAN, arena)
}

/// Binds `plan` to `model` (checking both) and runs it in `arena`: the built-in model, or one
/// an update installed in a flash slot.
pub fn interpreter_for<'a>(
    model: &'static [u8],
    plan: &'static [u8],
    arena: &'a mut Arena,
) -> Result<Interpreter<'static, 'a, Prebuilt<'static, 'a>>, SetupError> {
    let prebuilt = Prebuilt::new(model, plan).map_err(SetupError::Plan)?;
    Interpreter::from_plan(prebuilt, &mut arena.0).map_err(SetupError::Arena)
}

/// Whether `model` with `plan` can replace the built-in model in this firmware: the plan binds,
/// its activations fit [`ARENA_BYTES`], and it takes the graph's window (one int8 input of
/// [`INPUT_LEN`] values) and gives an int8 score first.
pub fn fits(model: &'static [u8], plan: &'static [u8]) -> bool {
    let Ok(p) = Prebuilt::new(model, plan) else { return false };
    let int8 = |t: Option<IoTensor>| t.filter(|t| t.dtype == DType::Int8);
    p.arena_size() <= ARENA_BYTES
        && p.input_count() == 1
        && int8(p.input(0)).is_some_and(|t| t.shape.elements() == Some(INPUT_LEN))
        && int8(p.output(0)).is_some()
}

// The window the graph quantizes must be exactly the model's input.
const _: () =
    assert!(INPUT_LEN == edge_reflex::vibration::INPUT_LEN, "model input != graph window");
const _: () = assert!(OUTPUT_LEN >= 1, "the rule reads output 0");
