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

/// Puts `sample` at the front of `out`; returns how many were stored (0 when `out` is empty).
pub(crate) fn store_one(sample: [f32; 3], out: &mut [[f32; 3]]) -> usize {
    match out.first_mut() {
        Some(slot) => {
            *slot = sample;
            1
        }
        None => 0,
    }
}

/// Decodes consecutive 6-byte samples of `bytes` into `out` with `decode`; returns how many
/// (limited by whichever is shorter; a trailing partial sample is ignored).
pub(crate) fn decode_each(
    bytes: &[u8],
    out: &mut [[f32; 3]],
    decode: impl Fn(&[u8; 6]) -> [f32; 3],
) -> usize {
    let mut decoded = 0;
    for (chunk, slot) in bytes.chunks_exact(6).zip(out.iter_mut()) {
        if let Ok(sample) = <&[u8; 6]>::try_from(chunk) {
            *slot = decode(sample);
            decoded += 1;
        }
    }
    decoded
}
