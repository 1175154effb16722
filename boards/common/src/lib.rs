//! What every edge-reflex firmware shares, so that a board crate only wires its peripherals.
//!
//! - [`conformance`]: runs the conformance fixtures (int8 TFLite models with golden outputs from
//!   `../shared/conformance`, embedded at build time by the board's `build.rs`, see
//!   `fixtures_build.rs` in this directory) through the engine and compares output bytes.
//! - [`graph`]: the place of the shared sensor-to-action graph that runs unchanged on every board.
//! - [`semihosting`] (feature `semihosting`): report lines and the exit code of the emulated boards.
//!
//! It does not configure clocks, pins or peripherals: that is the board crate's job.
#![no_std]
#![deny(missing_docs)]

pub mod conformance;
pub mod graph;
#[cfg(feature = "semihosting")]
pub mod semihosting;

/// Bytes with a 16-byte alignment, so an embedded `.tflite` model can be read with aligned loads.
///
/// The generated fixture table wraps every model in it: `static M: Aligned<[u8; N]> =
/// Aligned(*include_bytes!(...));`.
#[repr(C, align(16))]
pub struct Aligned<T: ?Sized>(pub T);
