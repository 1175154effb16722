//! Fitness: whether this build of the engine can run a bundle's model, and gives its known
//! answer bit-exact. Runs after [`verify`](super::verify) (only authentic bytes are loaded).

use super::bundle::{Bundle, Operators};
use crate::engine::{builtin, Interpreter, LoadError, PlanError, Prebuilt, RunError, TfLiteModel};

/// Why an authentic bundle cannot be activated.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum CheckError {
    /// The engine refuses the model.
    Model(LoadError),
    /// The model uses a builtin operator this build left out (code; see the `op-*` features).
    OperatorNotBuilt(i32),
    /// The bundle's operator list differs from the operators the model uses.
    OperatorsMismatch,
    /// The plan does not belong to the model, or is malformed.
    Plan(PlanError),
    /// The model could not run (an arena too small names the bytes needed).
    Run(RunError),
    /// The known-answer input or output is not the size of the model's inputs or outputs.
    KnownAnswerSize,
    /// The model's output for the known-answer input differs from the expected one at this byte.
    KnownAnswer {
        /// Offset of the first differing byte in the concatenated outputs.
        at: usize,
    },
}

impl core::fmt::Display for CheckError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Self::Model(e) => write!(f, "model refused: {e}"),
            Self::OperatorNotBuilt(c) => write!(f, "operator {c} is not built in"),
            Self::OperatorsMismatch => f.write_str("operator list does not match the model"),
            Self::Plan(e) => write!(f, "plan refused: {e}"),
            Self::Run(e) => write!(f, "model failed to run: {e}"),
            Self::KnownAnswerSize => f.write_str("known-answer test does not fit the model"),
            Self::KnownAnswer { at } => write!(f, "known-answer test failed at output byte {at}"),
        }
    }
}

impl core::error::Error for CheckError {}

/// The builtin operators `model` uses.
pub fn operators_of(model: &TfLiteModel<'_>) -> Result<Operators, CheckError> {
    let mut set = Operators::default();
    for op in model.operators() {
        if !set.insert(op.code) {
            return Err(CheckError::OperatorNotBuilt(op.code));
        }
    }
    Ok(set)
}

/// The interpreter the device will run: through `plan` if given, else planned in `arena`.
fn interpreter<'m, 'a>(
    model: &TfLiteModel<'m>,
    plan: Option<&'a [u8]>,
    arena: &'a mut [u8],
) -> Result<Interpreter<'m, 'a>, CheckError> {
    match plan {
        Some(plan) => {
            let prebuilt = Prebuilt::new(model.file(), plan).map_err(CheckError::Plan)?;
            Interpreter::from_plan(prebuilt, arena)
        }
        None => Interpreter::new(model, arena),
    }
    .map_err(CheckError::Run)
}

/// Copies `input` (every input's bytes, in order) into the inputs and runs the model.
fn run(interpreter: &mut Interpreter<'_, '_>, input: &[u8]) -> Result<(), CheckError> {
    let mut at = 0;
    for j in 0..interpreter.input_count() {
        let dst = interpreter.input_bytes(j).ok_or(CheckError::KnownAnswerSize)?;
        let src = input.get(at..at + dst.len()).ok_or(CheckError::KnownAnswerSize)?;
        dst.copy_from_slice(src);
        at += dst.len();
    }
    if at != input.len() {
        return Err(CheckError::KnownAnswerSize);
    }
    interpreter.invoke().map_err(CheckError::Run)
}

/// Runs `model_bytes` (through `plan` if given, as the device will) on `input` (every input's
/// bytes, in order) in `arena`, and writes every output's bytes, in order, to `output`. Returns
/// the output bytes written. `arena` must hold the model's arena (its plan's, with a plan).
pub fn run_known_answer(
    model_bytes: &[u8],
    plan: Option<&[u8]>,
    input: &[u8],
    arena: &mut [u8],
    output: &mut [u8],
) -> Result<usize, CheckError> {
    let model = TfLiteModel::load(model_bytes).map_err(CheckError::Model)?;
    let mut interpreter = interpreter(&model, plan, arena)?;
    run(&mut interpreter, input)?;
    let mut at = 0;
    for j in 0..interpreter.output_count() {
        let src = interpreter.output_bytes(j).ok_or(CheckError::KnownAnswerSize)?;
        let dst = output.get_mut(at..at + src.len()).ok_or(CheckError::KnownAnswerSize)?;
        dst.copy_from_slice(src);
        at += src.len();
    }
    Ok(at)
}

/// Checks that this build can run `bundle`'s model: the engine loads it, every operator it uses
/// is built in and listed in the bundle, its plan (if any) belongs to it, and it gives the known
/// answer bit-exact. `arena` is scratch for the run (the model's arena size, or its plan's).
pub fn check(bundle: &Bundle<'_>, arena: &mut [u8]) -> Result<(), CheckError> {
    let model = TfLiteModel::load(bundle.model).map_err(CheckError::Model)?;
    let used = operators_of(&model)?;
    if used != bundle.operators {
        return Err(CheckError::OperatorsMismatch);
    }
    if let Some(code) = used.codes().find(|&c| !builtin(c).is_some_and(|b| b.built())) {
        return Err(CheckError::OperatorNotBuilt(code));
    }
    let mut interpreter = interpreter(&model, bundle.plan, arena)?;
    run(&mut interpreter, bundle.known_input)?;
    // Compared in place, output by output: no output buffer needed.
    let mut at = 0;
    for j in 0..interpreter.output_count() {
        let got = interpreter.output_bytes(j).ok_or(CheckError::KnownAnswerSize)?;
        let want =
            bundle.known_output.get(at..at + got.len()).ok_or(CheckError::KnownAnswerSize)?;
        if let Some(i) = got.iter().zip(want).position(|(g, w)| g != w) {
            return Err(CheckError::KnownAnswer { at: at + i });
        }
        at += got.len();
    }
    if at != bundle.known_output.len() {
        return Err(CheckError::KnownAnswerSize);
    }
    Ok(())
}
