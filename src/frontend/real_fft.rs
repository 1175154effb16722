//! `microfft`'s real FFT over a slice whose length the caller checked at compile time (32 to 512,
//! a power of two), shared by the float front-ends.

use microfft::Complex32;

/// The real FFT of `buffer` in place (`microfft` packs the Nyquist bin's real part into bin 0's
/// imaginary part); empty for a length `microfft` is not built for here.
pub(crate) fn rfft(buffer: &mut [f32]) -> &mut [Complex32] {
    match buffer.len() {
        32 => rfft_of(buffer, microfft::real::rfft_32),
        64 => rfft_of(buffer, microfft::real::rfft_64),
        128 => rfft_of(buffer, microfft::real::rfft_128),
        256 => rfft_of(buffer, microfft::real::rfft_256),
        512 => rfft_of(buffer, microfft::real::rfft_512),
        _ => &mut [],
    }
}

/// Calls a fixed-size `microfft` transform on a slice of that size.
fn rfft_of<const L: usize, const H: usize>(
    buffer: &mut [f32],
    transform: fn(&mut [f32; L]) -> &mut [Complex32; H],
) -> &mut [Complex32] {
    match <&mut [f32; L]>::try_from(buffer) {
        Ok(array) => transform(array),
        Err(_) => &mut [],
    }
}
