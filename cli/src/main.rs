//! `reflex`: inspect and run int8 TFLite models with the edge-reflex engine, on the host, with
//! the same library code the firmware runs.
//!
//! ```text
//! reflex inspect MODEL [--json]
//! reflex run MODEL [--plan FILE] --input FILE [--input FILE ...] --output FILE [--output FILE ...]
//! reflex plan MODEL [--output FILE]
//! ```
//!
//! `inspect` prints the operators (shapes, MACs), the tensors (type, shape, quantization, bytes),
//! the totals and the memory plan (arena bytes, each tensor's offset and lifetime). `run` reads
//! raw little-endian tensor bytes for each model input, runs one inference and writes each
//! output's raw bytes (with `--plan`, through that prebuilt plan, as a firmware would). `plan`
//! writes the model's prebuilt plan (default: the model's name with `.plan`). Any problem exits
//! non-zero with a one-line message.

mod inspect;
mod plan;
mod run;

use std::process::ExitCode;

const USAGE: &str = "usage: reflex inspect MODEL [--json]\n       \
reflex run MODEL [--plan FILE] --input FILE [--input FILE ...] --output FILE [--output FILE ...]\n       \
reflex plan MODEL [--output FILE]";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("inspect") => inspect::main(&args[1..]),
        Some("run") => run::main(&args[1..]),
        Some("plan") => plan::main(&args[1..]),
        Some("-h" | "--help" | "help") => {
            println!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        _ => {
            eprintln!("{USAGE}");
            return ExitCode::from(2);
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("reflex: {message}");
            ExitCode::FAILURE
        }
    }
}

/// Reads a model file, with a one-line error naming the file.
pub(crate) fn read_model(path: &str) -> Result<Vec<u8>, String> {
    std::fs::read(path).map_err(|e| format!("{path}: {e}"))
}
