//! `reflex pack`: makes a signed update bundle (`edge_reflex::update`, layout in
//! `docs/updates.md`) of a model: plans it (unless `--no-plan`), runs it on the known-answer
//! input (zeros, or `--input`) to record its output, lists its operators, and signs it.

use crate::{emit, files, keygen, Result};
use edge_reflex::engine::{build, TfLiteModel};
use edge_reflex::update::check::{operators_of, run_known_answer};
use edge_reflex::update::pack::{bundle_len, write, Parts};
use std::path::PathBuf;

/// `reflex pack` arguments (`--version` is the model's version here, not the tool's).
#[derive(clap::Args, Debug)]
#[command(disable_version_flag = true)]
pub struct Args {
    /// The model (`.tflite`, at most 16 MiB).
    model: PathBuf,
    /// The secret key (`reflex keygen`).
    #[arg(long, value_name = "FILE")]
    key: PathBuf,
    /// The model version: a device accepts only a higher one than it runs.
    #[arg(long, value_name = "N")]
    version: u32,
    /// Where to write the bundle.
    #[arg(short, long, value_name = "FILE")]
    output: PathBuf,
    /// The known-answer input: every model input's raw bytes, in order (default: zeros).
    #[arg(long, value_name = "FILE")]
    input: Option<PathBuf>,
    /// Leave the prebuilt plan out (the device then plans the model itself).
    #[arg(long)]
    no_plan: bool,
}

pub fn main(args: &Args) -> Result<()> {
    let path = args.model.display();
    let key = keygen::read_secret(&args.key)?;
    let bytes = files::read_model(&args.model)?;
    let model = TfLiteModel::load(&bytes).map_err(|e| format!("{path}: {e}"))?;
    let arena_size = model.arena_size().map_err(|e| format!("{path}: {e}"))?;
    let plan = if args.no_plan {
        None
    } else {
        Some(build::plan_from_bytes(&bytes).map_err(|e| format!("{path}: {e}"))?)
    };
    let input_len: usize =
        (0..model.input_count()).filter_map(|j| model.input_info(j)).map(|t| t.bytes()).sum();
    let input = match &args.input {
        Some(p) => files::read_tensor(p, input_len, "known-answer input (all model inputs)")?,
        None => vec![0; input_len],
    };
    let output_len: usize =
        (0..model.output_count()).filter_map(|j| model.output_info(j)).map(|t| t.bytes()).sum();
    let mut arena = files::arena(&args.model, arena_size)?;
    let mut output = vec![0; output_len];
    let n = run_known_answer(&bytes, plan.as_deref(), &input, &mut arena, &mut output)
        .map_err(|e| format!("{path}: {e}"))?;
    output.truncate(n);
    let operators = operators_of(&model).map_err(|e| format!("{path}: {e}"))?;
    let parts = Parts {
        version: args.version,
        model: &bytes,
        plan: plan.as_deref(),
        operators,
        known_input: &input,
        known_output: &output,
    };
    let mut bundle = vec![0; bundle_len(&parts).map_err(|e| format!("{path}: {e}"))?];
    let len = write(&parts, &key, &mut bundle).map_err(|e| format!("{path}: {e}"))?;
    files::write(&args.output, &bundle[..len])?;
    let codes: Vec<String> = operators.codes().map(|c| c.to_string()).collect();
    emit(&format!(
        "{}: bundle {len} bytes: model version {}, model {} bytes, plan {} bytes, operators [{}], known answer {} -> {} bytes\n",
        args.output.display(),
        args.version,
        bytes.len(),
        plan.as_ref().map_or(0, Vec::len),
        codes.join(", "),
        input.len(),
        output.len(),
    ))
}
