//! The glue between the conformance runner and the crate's TFLite engine.
//!
//! Loads a case's model, checks that the board's arena is large enough, and for every sample copies
//! the input bytes in, invokes, and compares the output bytes. Writes the case's report line.

use core::fmt::Write;

use super::{Case, Verdict};

/// Runs one case; on success writes `ok` with the sample count, on failure the first problem.
pub(super) fn run_case<W: Write>(case: &Case, arena: &mut [u8], _out: &mut W) -> Verdict {
    // TODO(wiring): the engine's public API (src/engine) is being written; until it lands every
    // case is reported as skipped.
    let _ = (case, arena);
    Verdict::Skip("engine API not wired yet")
}
