//! The whole program of an emulated board: every check in turn, one report, one exit code.
//!
//! [`run`] paints the stack, runs the conformance cases, then the shared graph on the simulated
//! sensor, reports the stack high-water mark, and exits QEMU through semihosting: code 0 only when
//! every check passed. The board's `main` only lends the arena and names the board, with
//! [`qemu_board!`](crate::qemu_board) (the cases and host outcomes its `build.rs` generated); the
//! fault handler of its runtime calls [`semihosting::fault`](crate::semihosting::fault). Nothing here
//! depends on the core: the same body runs on Cortex-M0, M4, M33 and RISC-V.

use core::fmt::Write;

use crate::conformance::{self, Case};
use crate::graph::{self, GraphCheck};
use crate::selftest;
use crate::semihosting::{exit, HostOut};
use crate::stack::StackMeter;

/// What the board is, for the report.
pub struct Board {
    /// Short name, e.g. `qemu-m4`.
    pub name: &'static str,
    /// The emulated machine, e.g. `Cortex-M4F (mps2-an386)`.
    pub machine: &'static str,
    /// The embedded conformance cases.
    pub cases: &'static [Case],
    /// Bytes of fixture data in flash.
    pub fixture_bytes: usize,
    /// The host's outcomes of the graph scenario (from the board's build script).
    pub graph_expected: &'static [graph::Expected],
}

/// The [`Board`] of the QEMU board crate that expands it: `qemu_board!("qemu-m4", "Cortex-M4F
/// (mps2-an386)")`, with the conformance cases (`fixtures_build.rs`) and the host's graph outcomes
/// (`graph_build.rs`) that the crate's `build.rs` wrote to its `OUT_DIR`.
#[macro_export]
macro_rules! qemu_board {
    ($name:expr, $machine:expr) => {{
        mod generated {
            include!(concat!(env!("OUT_DIR"), "/conformance_cases.rs"));
            include!(concat!(env!("OUT_DIR"), "/graph_expected.rs"));
        }
        $crate::checks::Board {
            name: $name,
            machine: $machine,
            cases: generated::CASES,
            fixture_bytes: generated::EMBEDDED_FIXTURE_BYTES,
            graph_expected: generated::GRAPH_EXPECTED,
        }
    }};
}

/// Runs every check with `arena` as the engine's memory and exits QEMU with the verdict.
pub fn run(board: &Board, arena: &mut [u8]) -> ! {
    let stack = StackMeter::paint();
    let mut out = HostOut::open();
    let _ = writeln!(
        out,
        "{}: {}, {} fixture bytes embedded",
        board.name, board.machine, board.fixture_bytes
    );
    selftest::inject_early();

    let summary = conformance::run_all(board.cases, arena, &mut out);
    let conformance_stack = stack.high_water();
    let graph = graph::run_simulated(board.graph_expected, arena, &mut out);

    let overflowed = stack.overflowed();
    let _ = writeln!(
        out,
        "stack: {} of {} B used at the deepest ({} B during conformance){}",
        stack.high_water(),
        stack.capacity(),
        conformance_stack,
        if overflowed { " (OVERFLOW into the statics)" } else { "" }
    );
    let ok = summary.success() && graph != GraphCheck::Fail && !overflowed;
    let _ = writeln!(out, "{}: {}", board.name, if ok { "PASS" } else { "FAIL" });
    exit(ok)
}
