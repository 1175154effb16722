//! `reflex plan`: writes a model's prebuilt plan (`edge_reflex::engine::plan::prebuilt`) to a file, for
//! a device that receives its model at run time (a model update): it stores the plan beside the
//! model and binds the two with `Prebuilt::new`, which refuses a plan made for other model bytes.

use crate::{emit, files, Result};
use edge_reflex::engine::{build, Prebuilt};
use std::path::PathBuf;

/// `reflex plan` arguments.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// The model (`.tflite`, at most 16 MiB).
    model: PathBuf,
    /// Where to write the plan (required: nothing is written anywhere else).
    #[arg(short, long, value_name = "FILE")]
    output: PathBuf,
}

pub fn main(args: &Args) -> Result<()> {
    let path = args.model.display();
    let bytes = files::read_model(&args.model)?;
    let plan = build::plan_from_bytes(&bytes).map_err(|e| format!("{path}: {e}"))?;
    let prebuilt = Prebuilt::new(&bytes, &plan).map_err(|e| format!("{path}: {e}"))?;
    files::write(&args.output, &plan)?;
    emit(&format!(
        "{}: plan {} bytes for {path} ({} bytes, {} operators); RAM arena {} bytes\n",
        args.output.display(),
        plan.len(),
        bytes.len(),
        prebuilt.operator_count(),
        prebuilt.arena_size()
    ))
}
