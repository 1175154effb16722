//! Batch reads: drivers whose hardware FIFO can be emptied in one go.
//!
//! [`Fifo`] (blocking) and [`AsyncFifo`] (async) are what
//! [`InterruptDriven`](super::InterruptDriven) needs from a driver: "copy every sample the chip
//! holds, up to `out.len()`, oldest first, and say how many". Samples left in the chip stay there
//! for the next call, so nothing is lost or read twice. This module does not configure FIFOs; the
//! drivers do.

/// A driver that drains its buffered samples (blocking).
pub trait Fifo {
    /// Why a drain failed.
    type Error: core::fmt::Debug;

    /// Moves up to `out.len()` buffered samples (m/s², oldest first) into `out`; returns how many.
    /// `Ok(0)` means nothing was buffered.
    fn drain_fifo(&mut self, out: &mut [[f32; 3]]) -> Result<usize, Self::Error>;
}

/// A driver that drains its buffered samples (async mirror of [`Fifo`]).
#[allow(async_fn_in_trait)]
pub trait AsyncFifo {
    /// Why a drain failed.
    type Error: core::fmt::Debug;

    /// Moves up to `out.len()` buffered samples (m/s², oldest first) into `out`; returns how many.
    async fn drain_fifo(&mut self, out: &mut [[f32; 3]]) -> Result<usize, Self::Error>;
}
