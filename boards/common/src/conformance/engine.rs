//! The glue between the conformance runner and the crate's TFLite engine.
//!
//! Runs a case the way its board runs models: a case without a plan is loaded, checked and planned
//! on the device ([`TfLiteModel`] + [`Interpreter::new`]); a case with a plan made at build time
//! binds it ([`Prebuilt`] + [`Interpreter::from_plan`]). For every sample it copies the input bytes in,
//! invokes, and compares every output byte with the golden file. Writes the rest of the case's
//! report line: `ok` with the sample count and the arena bytes used, or `FAIL` with the first
//! problem and every failing sample.

use core::fmt::{self, Write};

use edge_reflex::engine::{Interpreter, Prebuilt, RunError, Source, TfLiteModel};

use super::{compare_altered, compare_within, Case, Mismatch, OutOfTolerance, Sample, Verdict};

/// Runs one case and writes its verdict (the runner already wrote `case <name> `).
pub(super) fn run_case<W: Write>(case: &Case, arena: &mut [u8], out: &mut W) -> Verdict {
    match case.plan {
        None => {
            let model = match TfLiteModel::load(case.model) {
                Ok(model) => model,
                Err(e) => return fail(out, format_args!("load: {e}")),
            };
            match Interpreter::new(&model, arena) {
                Ok(mut interpreter) => {
                    let arena_used = interpreter.layout().total;
                    check_samples(case, &mut interpreter, arena_used, out)
                }
                Err(e) => fail(out, format_args!("prepare: {e}")),
            }
        }
        Some(plan) => {
            let prebuilt = match Prebuilt::new(case.model, plan) {
                Ok(prebuilt) => prebuilt,
                Err(e) => return fail(out, format_args!("bind the plan: {e}")),
            };
            let arena_used = prebuilt.arena_size();
            match Interpreter::from_plan(prebuilt, arena) {
                Ok(mut interpreter) => check_samples(case, &mut interpreter, arena_used, out),
                Err(e) => fail(out, format_args!("prepare: {e}")),
            }
        }
    }
}

/// Runs every sample of `case` through `interpreter` and writes the verdict. A case without
/// samples is invoked once on the inputs as they are, to show that it runs; nothing is compared.
fn check_samples<W: Write>(
    case: &Case,
    interpreter: &mut Interpreter<'_, '_, impl Source>,
    arena_used: usize,
    out: &mut W,
) -> Verdict {
    if case.samples.is_empty() {
        return match interpreter.invoke() {
            Ok(()) => {
                let _ = write!(out, "ok    invoked once, no golden samples to compare; output 0:");
                for b in interpreter.output_bytes(0).unwrap_or(&[]).iter().take(16) {
                    let _ = write!(out, " {}", *b as i8);
                }
                let _ = writeln!(out, "  arena {arena_used} B");
                Verdict::Pass
            }
            Err(e) => fail(out, format_args!("invoke: {e}")),
        };
    }
    // Every sample runs, so the report says how many match; the first problem is shown.
    let mut matched = 0;
    let mut first_problem = None;
    // Which samples failed (the first 64), so the report names every one of them.
    let mut failed_mask = 0u64;
    for (k, sample) in case.samples.iter().enumerate() {
        match run_sample(interpreter, sample, case.tolerance, k == 0) {
            Ok(()) => matched += 1,
            Err(problem) => {
                failed_mask |= 1u64.checked_shl(k as u32).unwrap_or(0);
                first_problem.get_or_insert((k, problem));
            }
        }
    }
    let n = case.samples.len();
    match first_problem {
        None => {
            let _ = write!(out, "ok    {matched}/{n} samples");
            if case.samples_in_fixture > n {
                let _ = write!(out, " (first {n} of {})", case.samples_in_fixture);
            }
            let _ = writeln!(out, "  arena {arena_used} B");
            Verdict::Pass
        }
        Some((k, problem)) => {
            let failed = FailedSamples(failed_mask);
            fail(
                out,
                format_args!(
                    "{matched}/{n} samples match (failing:{failed}); first: sample {k} {problem}"
                ),
            )
        }
    }
}

/// The indices of the failing samples, shown as ` 1 2 5`.
struct FailedSamples(u64);

impl fmt::Display for FailedSamples {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        (0..64).filter(|k| self.0 & (1 << k) != 0).try_for_each(|k| write!(f, " {k}"))
    }
}

/// Why one sample did not match.
enum Problem {
    InputSize { input: usize, model: usize, fixture: usize },
    NoInput(usize),
    NoOutput(usize),
    Invoke(RunError),
    Mismatch { output: usize, at: Mismatch },
    Tolerance { output: usize, at: OutOfTolerance },
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Problem::InputSize { input, model, fixture } => {
                write!(f, "input {input}: the model takes {model} bytes, the fixture has {fixture}")
            }
            Problem::NoInput(j) => write!(f, "input {j}: the model has no such input"),
            Problem::NoOutput(j) => write!(f, "output {j}: the model has no such output"),
            Problem::Invoke(e) => write!(f, "invoke: {e}"),
            Problem::Mismatch { output, at } => write!(f, "output {output}: {at}"),
            Problem::Tolerance { output, at } => write!(f, "output {output}: {at}"),
        }
    }
}

/// Copies a sample's inputs in, invokes, and compares every output (byte for byte, or as float32
/// within `tolerance` when it is above 0).
fn run_sample(
    interpreter: &mut Interpreter<'_, '_, impl Source>,
    sample: &Sample,
    tolerance: f32,
    first_sample: bool,
) -> Result<(), Problem> {
    // Every sample is an independent run: the state of stateful operators (LSTM) starts from its
    // zero point, as the fixtures' goldens were made (nothing to reset in other models).
    interpreter.reset_state().map_err(Problem::Invoke)?;
    for (j, bytes) in sample.inputs.iter().enumerate() {
        let input = interpreter.input_bytes(j).ok_or(Problem::NoInput(j))?;
        if input.len() != bytes.len() {
            return Err(Problem::InputSize { input: j, model: input.len(), fixture: bytes.len() });
        }
        input.copy_from_slice(bytes);
    }
    interpreter.invoke().map_err(Problem::Invoke)?;
    for (j, expected) in sample.outputs.iter().enumerate() {
        let actual = interpreter.output_bytes(j).ok_or(Problem::NoOutput(j))?;
        let alter = first_sample && j == 0 && crate::selftest_corrupts_output();
        if tolerance > 0.0 {
            if let Some(at) = compare_within(expected, actual, tolerance, alter) {
                return Err(Problem::Tolerance { output: j, at });
            }
        } else if let Some(at) = compare_altered(expected, actual, alter) {
            return Err(Problem::Mismatch { output: j, at });
        }
    }
    Ok(())
}

fn fail<W: Write>(out: &mut W, why: core::fmt::Arguments<'_>) -> Verdict {
    let _ = writeln!(out, "FAIL  {why}");
    Verdict::Fail
}
