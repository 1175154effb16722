//! Fitness: whether this build of the engine can run a bundle's model, and gives its known
//! answer bit-exact. Runs after [`verify`](super::verify) (only authentic bytes are loaded).

use super::bundle::{Bundle, Operators};
use crate::engine::{
    builtin, Interpreter, LoadError, PlanError, Prebuilt, RunError, Source, TfLiteModel,
};

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

/// Copies `input` (every input's bytes, in order) into the inputs and runs the model.
fn run(interpreter: &mut Interpreter<'_, '_, impl Source>, input: &[u8]) -> Result<(), CheckError> {
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

/// What to do with the outputs of a known-answer run.
enum Outputs<'o> {
    /// Copy them, in order, here.
    Write(&'o mut [u8]),
    /// Compare them, in order, with these bytes (in place: no output buffer needed).
    Expect(&'o [u8]),
}

/// Runs `input` through `interpreter` and writes or compares its outputs; returns the output
/// bytes seen.
fn known_answer(
    interpreter: &mut Interpreter<'_, '_, impl Source>,
    input: &[u8],
    outputs: Outputs<'_>,
) -> Result<usize, CheckError> {
    run(interpreter, input)?;
    let mut at = 0;
    let mut outputs = outputs;
    for j in 0..interpreter.output_count() {
        let got = interpreter.output_bytes(j).ok_or(CheckError::KnownAnswerSize)?;
        let end = at + got.len();
        match &mut outputs {
            Outputs::Write(out) => {
                out.get_mut(at..end).ok_or(CheckError::KnownAnswerSize)?.copy_from_slice(got)
            }
            Outputs::Expect(want) => {
                let want = want.get(at..end).ok_or(CheckError::KnownAnswerSize)?;
                if let Some(i) = got.iter().zip(want).position(|(g, w)| g != w) {
                    return Err(CheckError::KnownAnswer { at: at + i });
                }
            }
        }
        at = end;
    }
    if let Outputs::Expect(want) = outputs {
        if at != want.len() {
            return Err(CheckError::KnownAnswerSize);
        }
    }
    Ok(at)
}

/// [`known_answer`] through `plan` if given (as the device will run it), else planned in `arena`.
fn run_model(
    model: &TfLiteModel<'_>,
    plan: Option<&[u8]>,
    arena: &mut [u8],
    input: &[u8],
    outputs: Outputs<'_>,
) -> Result<usize, CheckError> {
    match plan {
        Some(plan) => {
            let prebuilt = Prebuilt::new(model.file(), plan).map_err(CheckError::Plan)?;
            let mut interpreter =
                Interpreter::from_plan(prebuilt, arena).map_err(CheckError::Run)?;
            known_answer(&mut interpreter, input, outputs)
        }
        None => {
            let mut interpreter = Interpreter::new(model, arena).map_err(CheckError::Run)?;
            known_answer(&mut interpreter, input, outputs)
        }
    }
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
    run_model(&model, plan, arena, input, Outputs::Write(output))
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
    run_model(
        &model,
        bundle.plan,
        arena,
        bundle.known_input,
        Outputs::Expect(bundle.known_output),
    )?;
    Ok(())
}
