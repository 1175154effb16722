//! What every edge-reflex firmware shares, so that a board crate only wires its peripherals.
//!
//! - [`conformance`]: runs the conformance fixtures (int8 TFLite models with golden outputs from
//!   `tests/data/conformance`, embedded at build time by the board's `build.rs`, see
//!   `fixtures_build.rs` in this directory) through the engine and compares output bytes.
//! - [`graph`] (feature `semihosting`): the shared graph (`edge_reflex::vibration::graph`) fed by a
//!   simulated LIS3DH, checked field by field against the same scenario run on the host.
//! - [`checks`] (feature `semihosting`): the whole program of a QEMU board (conformance, graph,
//!   stack), reported line by line, ending in the exit code.
//! - [`semihosting`] (feature `semihosting`): report lines and the exit code of the emulated boards.
//! - [`stack`] (feature `semihosting`): the stack high-water mark, so a firmware that nearly fills
//!   its RAM shows how much room is left (and fails if the stack ran into the statics).
//! - [`selftest`] (feature `semihosting`): failures injected on request, to prove that a wrong result,
//!   a panic or a fault really fails the run.
//! - [`reflex`] and [`led`] (feature `reflex`): the physical boards' firmware, one async task
//!   generic over embedded-hal (LIS3DH with wake-on-FIFO-watermark, the vibration graph, the alarm
//!   LED, defmt telemetry); the board crates only wire pins and call it.
//! - [`update`] (feature `update`): model updates on the physical boards, over the HAL's NOR flash
//!   driver (two slots and a state log in the flash `memory.x` reserves; trial boots confirmed
//!   after the first good inference; bundles fed in chunks by the application's transport).
//!
//! It does not configure clocks, pins or peripherals: that is the board crate's job.
#![no_std]
#![deny(missing_docs)]

#[cfg(feature = "semihosting")]
pub mod checks;
pub mod conformance;
#[cfg(feature = "semihosting")]
pub mod graph;
#[cfg(feature = "reflex")]
pub mod led;
#[cfg(feature = "reflex")]
pub mod reflex;
#[cfg(feature = "semihosting")]
pub mod selftest;
#[cfg(feature = "semihosting")]
pub mod semihosting;
#[cfg(feature = "semihosting")]
pub mod stack;
#[cfg(feature = "update")]
pub mod update;

/// Bytes with a 16-byte alignment, so an embedded `.tflite` model can be read with aligned loads.
///
/// The generated fixture table wraps every model in it: `static M: Aligned<[u8; N]> =
/// Aligned(*include_bytes!(...));`.
#[repr(C, align(16))]
pub struct Aligned<T: ?Sized>(pub T);

/// True when this firmware was built to fail its first conformance comparison on purpose
/// (`BOARD_SELFTEST=mismatch`, see [`selftest`]).
fn selftest_corrupts_output() -> bool {
    #[cfg(feature = "semihosting")]
    return selftest::corrupt_first_output();
    #[cfg(not(feature = "semihosting"))]
    return false;
}
