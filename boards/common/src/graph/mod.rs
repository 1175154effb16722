//! The shared sensor-to-action graph that every board runs unchanged.
//!
//! PLACEHOLDER (for the lead): the one graph, generic over embedded-hal traits, goes here (or in the
//! library, re-exported from here). The QEMU boards call [`run_simulated`] after the conformance
//! cases; it must feed the graph from the simulated sensor, and report whether the detections are the
//! same as the host run's.

use core::fmt::Write;

/// The outcome of the simulated-sensor graph run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GraphCheck {
    /// The detections matched the host run.
    Pass,
    /// The detections differed; details were written to the report.
    Fail,
    /// The shared graph is not provided yet.
    NotProvided,
}

/// Runs the shared graph on a simulated sensor and checks its detections against the host run.
pub fn run_simulated<W: Write>(arena: &mut [u8], out: &mut W) -> GraphCheck {
    let _ = arena;
    let _ = writeln!(out, "graph: shared graph not provided yet (boards/common/src/graph.rs)");
    GraphCheck::NotProvided
}
