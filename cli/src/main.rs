//! `reflex`: inspect and run int8 TFLite models with the edge-reflex engine, on the host, with
//! the same library code the firmware runs.
//!
//! ```text
//! reflex inspect MODEL [--json] [--wide] [--profile [--input FILE ...] [--repeat N]]
//! reflex run MODEL [--plan FILE] --input FILE ... [--output FILE ...] [--json] [--repeat N]
//! reflex plan MODEL --output FILE
//! reflex features WAV [--u16 FILE] [--i8 FILE]
//! reflex kmeans fit DATA --out FILE.rs [--k K] [--iterations N] [--margin M]
//! reflex keygen --secret FILE --public FILE
//! reflex pack MODEL --key SECRET --version N --output BUNDLE [--input FILE] [--no-plan]
//! reflex verify BUNDLE --pubkey PUBLIC
//! ```
//!
//! `inspect` prints the operators (shapes, options, MACs), the tensors (type, shape,
//! quantization, bytes, location, lifetime), the totals and the memory plan (arena parts and the
//! bytes live at each operator step); `--profile` also runs the model on the host and prints the
//! time of each operator. `run` reads raw little-endian tensor bytes for each model input, runs
//! the model and reports each output (raw and dequantized values, the top class of a softmax
//! classifier, host time per inference), and writes each output's raw bytes where `--output`
//! says (with `--plan`, through that prebuilt plan, as a firmware would). `plan` writes the
//! model's prebuilt plan to `--output`. `kmeans fit` clusters feature vectors of normal operation
//! and writes the centres and a threshold as Rust constants for a k-means detector. `keygen`, `pack` and `verify` make signing keys, signed
//! model-update bundles, and check a bundle as a device would (see `docs/updates.md`).
//!
//! Every problem is a one-line message on stderr and a non-zero exit (2 for a bad command line,
//! 1 otherwise); a closed standard output (`reflex inspect M | head`) ends the program quietly.
//! Files are read only if they are regular files, and never past a bound: a model or plan is at
//! most [`files::MAX_MODEL_BYTES`], an input exactly the size of the model's input tensor; an
//! arena is at most [`files::MAX_ARENA_BYTES`].

mod features;
mod files;
mod inspect;
mod json;
mod keygen;
mod kmeans;
mod operators;
mod options;
mod pack;
mod plan;
mod run;
mod verify;

use clap::{Parser, Subcommand};
use std::io::Write;
use std::process::ExitCode;

/// Inspect, run and plan int8 TFLite models with the edge-reflex engine, on the host.
#[derive(Parser, Debug)]
#[command(name = "reflex", version, about, long_about = None, propagate_version = true)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Operators (with their options), tensors, totals and the memory plan of a model.
    Inspect(inspect::Args),
    /// Runs a model on raw input files and reports (and optionally writes) its outputs.
    Run(run::Args),
    /// Writes a model's prebuilt plan (what a device that receives the model at run time needs).
    Plan(plan::Args),
    /// Lists the operators the engine runs: code, name, accepted versions, whether built.
    Operators(operators::Args),
    /// The micro_speech audio front-end's features of a 16 kHz WAV file (u16 and int8).
    Features(features::Args),
    /// k-means anomaly detection: `fit` cluster centres to normal feature vectors.
    Kmeans(kmeans::Args),
    /// Makes the Ed25519 key pair that signs model updates.
    Keygen(keygen::Args),
    /// Makes a signed model-update bundle: model, plan, operators, known-answer test.
    Pack(pack::Args),
    /// Checks a bundle as a device would before activating it; exit 0 only if it would.
    Verify(verify::Args),
}

/// Why a command stopped.
#[derive(Debug)]
pub(crate) enum Error {
    /// A problem to report in one line.
    Message(String),
    /// Standard output was closed by its reader: stop quietly.
    BrokenPipe,
}

impl From<String> for Error {
    fn from(message: String) -> Self {
        Error::Message(message)
    }
}

impl From<&str> for Error {
    fn from(message: &str) -> Self {
        Error::Message(message.to_string())
    }
}

/// What every command returns.
pub(crate) type Result<T> = std::result::Result<T, Error>;

/// Writes `text` to standard output and flushes it: a closed pipe is [`Error::BrokenPipe`], any
/// other failure (a full disk) a one-line error.
pub(crate) fn emit(text: &str) -> Result<()> {
    let mut out = std::io::stdout().lock();
    out.write_all(text.as_bytes()).and_then(|()| out.flush()).map_err(|e| match e.kind() {
        std::io::ErrorKind::BrokenPipe => Error::BrokenPipe,
        _ => Error::Message(format!("standard output: {e}")),
    })
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            // Help and version go to stdout, usage errors to stderr (clap decides); a failure
            // to print them is reported like any other output failure.
            let code = e.exit_code();
            if let Err(io) = e.print() {
                if io.kind() != std::io::ErrorKind::BrokenPipe {
                    let _ = writeln!(std::io::stderr(), "reflex: standard output: {io}");
                    return ExitCode::FAILURE;
                }
            }
            return ExitCode::from(u8::try_from(code).unwrap_or(2));
        }
    };
    let result = match cli.command {
        Command::Inspect(args) => inspect::main(&args),
        Command::Run(args) => run::main(&args),
        Command::Plan(args) => plan::main(&args),
        Command::Operators(args) => operators::main(&args),
        Command::Features(args) => features::main(&args),
        Command::Kmeans(args) => kmeans::main(&args),
        Command::Keygen(args) => keygen::main(&args),
        Command::Pack(args) => pack::main(&args),
        Command::Verify(args) => verify::main(&args),
    };
    match result {
        Ok(()) | Err(Error::BrokenPipe) => ExitCode::SUCCESS,
        Err(Error::Message(message)) => {
            let _ = writeln!(std::io::stderr(), "reflex: {message}");
            ExitCode::FAILURE
        }
    }
}
