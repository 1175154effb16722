//! Recomputes the microfrontend's precomputed tables the way TensorFlow's C library builds them at
//! start-up (`window_util.c`, `filterbank_util.c`, `noise_reduction_util.c`,
//! `pcan_gain_control_util.c`, kissfft's `kiss_fft_alloc`/`kiss_fftr_alloc`), with the same `f32`
//! (and, for kissfft, `f64`) operations in the same order, for the micro_speech settings.
//! `tests/frontend_tables.rs` checks the library's constants against these; with `--ignored
//! print_tables` it prints them as Rust source.
#![allow(dead_code)]

use std::hint::black_box;

pub const SAMPLE_RATE: i32 = 16000;
pub const WINDOW_SIZE: usize = 480;
pub const FFT_SIZE: usize = 512;
pub const NUM_CHANNELS: usize = 40;
pub const LOWER_BAND_LIMIT: f32 = 125.0;
pub const UPPER_BAND_LIMIT: f32 = 7500.0;
const FILTERBANK_BITS: i32 = 12;
const WINDOW_BITS: i32 = 12;
const NOISE_REDUCTION_BITS: i32 = 14;

/// The Hann window, `floor((0.5 - 0.5 cos(2 pi (i + 0.5) / N)) * 4096 + 0.5)`.
///
/// `window_util.c` writes this with `f32` operations (`cosf`), but the TensorFlow build that made
/// the goldens (and TFLM's own micro_speech feature arrays) agrees with the value computed in
/// `f64`: the two differ in one coefficient only (index 17: 53 in `f64`, 54 with glibc's `cosf`
/// in strict `f32`), and only 53 reproduces the goldens. So this is computed in `f64`.
pub fn window() -> Vec<i16> {
    let arg = core::f64::consts::PI * 2.0 / (WINDOW_SIZE as f64);
    (0..WINDOW_SIZE)
        .map(|i| {
            let v = 0.5 - 0.5 * black_box(arg * (i as f64 + 0.5)).cos();
            (v * f64::from(1 << WINDOW_BITS) + 0.5).floor() as i16
        })
        .collect()
}

/// The window in strict `f32`, as `window_util.c` reads (differs from [`window`] at index 17).
pub fn window_f32() -> Vec<i16> {
    let arg = core::f32::consts::PI * 2.0f32 / (WINDOW_SIZE as f32);
    (0..WINDOW_SIZE)
        .map(|i| {
            let v = 0.5f32 - 0.5f32 * black_box(arg * (i as f32 + 0.5f32)).cos();
            (v * (1 << WINDOW_BITS) as f32 + 0.5f32).floor() as i16
        })
        .collect()
}

/// kissfft's twiddles of its complex FFT of `n` points: `floor(0.5 + 32767 cos(-2 pi i / n))`.
pub fn twiddles(n: usize) -> Vec<(i16, i16)> {
    // kissfft writes pi out to 60 digits; as an f64 it is `PI`.
    let pi = core::f64::consts::PI;
    (0..n)
        .map(|i| {
            let phase = -2.0f64 * pi * (i as f64) / (n as f64);
            (q15(black_box(phase).cos()), q15(black_box(phase).sin()))
        })
        .collect()
}

/// kissfft's real-FFT "super twiddles" for a complex FFT of `ncfft` points.
pub fn super_twiddles(ncfft: usize) -> Vec<(i16, i16)> {
    (0..ncfft / 2)
        .map(|i| {
            let phase = -core::f64::consts::PI * (((i + 1) as f64) / (ncfft as f64) + 0.5f64);
            (q15(black_box(phase).cos()), q15(black_box(phase).sin()))
        })
        .collect()
}

fn q15(x: f64) -> i16 {
    (0.5f64 + 32767.0f64 * x).floor() as i16
}

/// `FreqToMel`. `black_box` keeps the compiler from folding `log1pf` of a constant at compile time
/// (with a differently rounded logarithm than the C library's run-time one): the table must be
/// what the C computes when it starts, and the same in debug and release builds.
fn freq_to_mel(freq: f32) -> f32 {
    1127.0f32 * black_box(black_box(freq) / 700.0f32).ln_1p()
}

/// The filterbank, as `filterbank_util.c` lays it out before alignment padding: channel `c`
/// (0..=40, channel 0 only feeds the first output through its unweights) covers FFT bins
/// `starts[c] .. starts[c] + widths[c]`; `weights`/`unweights` are indexed by bin - start_index.
pub struct Filterbank {
    pub start_index: usize,
    pub end_index: usize,
    pub starts: Vec<u16>,
    pub widths: Vec<u16>,
    pub weights: Vec<i16>,
    pub unweights: Vec<i16>,
}

pub fn filterbank() -> Filterbank {
    let spectrum_size = FFT_SIZE / 2 + 1;
    let n1 = NUM_CHANNELS + 1;
    let mel_low = freq_to_mel(LOWER_BAND_LIMIT);
    let mel_hi = freq_to_mel(UPPER_BAND_LIMIT);
    let mel_span = mel_hi - mel_low;
    let mel_spacing = mel_span / (n1 as f32);
    let centers: Vec<f32> = (0..n1).map(|i| mel_low + mel_spacing * ((i + 1) as f32)).collect();
    let hz_per_sbin = 0.5f32 * (SAMPLE_RATE as f32) / ((spectrum_size as f32) - 1.0f32);
    let start_index = (1.5f32 + LOWER_BAND_LIMIT / hz_per_sbin) as usize;
    let mut starts = Vec::new();
    let mut widths = Vec::new();
    let mut chan_start = start_index;
    for center in &centers {
        let mut f = chan_start;
        while freq_to_mel((f as f32) * hz_per_sbin) <= *center {
            f += 1;
        }
        starts.push(chan_start as u16);
        widths.push((f - chan_start) as u16);
        chan_start = f;
    }
    let mut weights = Vec::new();
    let mut unweights = Vec::new();
    let mut end_index = 0;
    for chan in 0..n1 {
        let denom = if chan == 0 { mel_low } else { centers[chan - 1] };
        let mut f = starts[chan] as usize;
        for _ in 0..widths[chan] {
            let w =
                (centers[chan] - freq_to_mel((f as f32) * hz_per_sbin)) / (centers[chan] - denom);
            weights.push((w * (1 << FILTERBANK_BITS) as f32 + 0.5f32).floor() as i16);
            unweights.push(((1.0f32 - w) * (1 << FILTERBANK_BITS) as f32 + 0.5f32).floor() as i16);
            f += 1;
        }
        end_index = end_index.max(f);
    }
    Filterbank { start_index, end_index, starts, widths, weights, unweights }
}

/// Noise reduction's fixed-point coefficients (even smoothing, odd smoothing, min signal
/// remaining): `config_value as f32 * 2^14`, truncated.
pub fn noise_coefficients() -> (u32, u32, u32) {
    let s = (1 << NOISE_REDUCTION_BITS) as f32;
    ((0.025f32 * s) as u32, (0.06f32 * s) as u32, (0.05f32 * s) as u32)
}

fn pcan_gain(input_bits: i32, x: u32) -> i16 {
    let strength = 0.95f32;
    let offset = 80.0f32;
    let gain_bits = 21;
    let x_as_float = (x as f32) / ((1u32 << input_bits) as f32);
    let gain =
        ((1u32 << gain_bits) as f32) * black_box(x_as_float + offset).powf(black_box(-strength));
    if gain > 32767.0f32 {
        return 32767;
    }
    (gain + 0.5f32) as i16
}

/// PCAN's gain lookup table (`kWideDynamicFunctionLUTSize` = 125 entries; the fourth entry of
/// each interval is never read and is 0 here).
pub fn pcan_lut() -> Vec<i16> {
    let smoothing_bits = 10;
    let input_correction_bits = (FFT_SIZE.trailing_zeros() as i32 + 1) - 1 - FILTERBANK_BITS / 2;
    let input_bits = smoothing_bits - input_correction_bits;
    let mut lut = vec![0i16; 4 * 32 - 3];
    lut[0] = pcan_gain(input_bits, 0);
    lut[1] = pcan_gain(input_bits, 1);
    for interval in 2..=32usize {
        let x0: u32 = 1u32 << (interval - 1);
        let x1 = x0 + (x0 >> 1);
        let x2 = if interval == 32 { x0 + (x0 - 1) } else { 2 * x0 };
        let y0 = pcan_gain(input_bits, x0);
        let y1 = pcan_gain(input_bits, x1);
        let y2 = pcan_gain(input_bits, x2);
        let diff1 = y1 as i32 - y0 as i32;
        let diff2 = y2 as i32 - y0 as i32;
        let a1 = 4 * diff1 - diff2;
        let a2 = diff2 - a1;
        let base = 4 * interval - 6;
        lut[base] = y0;
        lut[base + 1] = a1 as i16;
        lut[base + 2] = a2 as i16;
    }
    lut
}

fn fmt_list<T: core::fmt::Display>(v: &[T]) -> String {
    let mut s = String::new();
    for (i, x) in v.iter().enumerate() {
        if i % 12 == 0 {
            s.push_str("\n    ");
        } else {
            s.push(' ');
        }
        s.push_str(&format!("{x},"));
    }
    s.push('\n');
    s
}

fn fmt_pairs(v: &[(i16, i16)]) -> String {
    let mut s = String::new();
    for (i, (r, im)) in v.iter().enumerate() {
        if i % 6 == 0 {
            s.push_str("\n    ");
        } else {
            s.push(' ');
        }
        s.push_str(&format!("({r}, {im}),"));
    }
    s.push('\n');
    s
}

/// The tables as the Rust source of `src/frontend/microfrontend/tables.rs`'s constants.
pub fn rust_source() -> String {
    let fb = filterbank();
    let (even, odd, min) = noise_coefficients();
    let mut s = String::new();
    s += &format!("pub const WINDOW: [i16; {}] = [{}];\n", WINDOW_SIZE, fmt_list(&window()));
    s += &format!(
        "pub const TWIDDLES: [(i16, i16); {}] = [{}];\n",
        FFT_SIZE / 2,
        fmt_pairs(&twiddles(FFT_SIZE / 2))
    );
    s += &format!(
        "pub const SUPER_TWIDDLES: [(i16, i16); {}] = [{}];\n",
        FFT_SIZE / 4,
        fmt_pairs(&super_twiddles(FFT_SIZE / 2))
    );
    s += &format!("pub const START_INDEX: usize = {};\n", fb.start_index);
    s += &format!("pub const END_INDEX: usize = {};\n", fb.end_index);
    s += &format!(
        "pub const CHANNEL_STARTS: [u16; {}] = [{}];\n",
        NUM_CHANNELS + 1,
        fmt_list(&fb.starts)
    );
    s += &format!(
        "pub const CHANNEL_WIDTHS: [u16; {}] = [{}];\n",
        NUM_CHANNELS + 1,
        fmt_list(&fb.widths)
    );
    s +=
        &format!("pub const WEIGHTS: [i16; {}] = [{}];\n", fb.weights.len(), fmt_list(&fb.weights));
    s += &format!(
        "pub const UNWEIGHTS: [i16; {}] = [{}];\n",
        fb.unweights.len(),
        fmt_list(&fb.unweights)
    );
    s += &format!("pub const EVEN_SMOOTHING: u32 = {even};\n");
    s += &format!("pub const ODD_SMOOTHING: u32 = {odd};\n");
    s += &format!("pub const MIN_SIGNAL_REMAINING: u32 = {min};\n");
    let lut = pcan_lut();
    s += &format!("pub const PCAN_GAIN_LUT: [i16; {}] = [{}];\n", lut.len(), fmt_list(&lut));
    s
}
