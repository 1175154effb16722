//! Spectral features against a plain `f64` reference (a direct DFT with the same definitions:
//! mean removed, periodic Hann, `P[k] = |X[k]|² / N²` for `k = 1..=N/2`, local-maximum peaks,
//! band sums over `[low, high)`, `10 log10` in dB mode).
//!
//! Tolerances (f32 FFT vs f64 DFT): RMS within 1e-5 relative; band powers and peak heights within
//! 1e-4 of the window's total spectral power (absolute) plus 1e-4 relative; in dB, 0.01 dB for
//! every value at least 1/1000 of the total power (lower ones are float rounding noise of the FFT
//! relative to the loudest bins, checked in linear mode by the absolute tolerance); peak
//! frequencies exact (they are bin frequencies).

use edge_reflex::frontend::spectral::{Spectral, SpectralConfig, WindowFunction};
use std::f64::consts::PI;

struct Reference {
    rms: f64,
    power: Vec<f64>, // index k = 0..=N/2, [0] unused
}

fn reference(x: &[f64], hann: bool) -> Reference {
    let n = x.len();
    let mean = x.iter().sum::<f64>() / n as f64;
    let centred: Vec<f64> = x.iter().map(|v| v - mean).collect();
    let rms = (centred.iter().map(|v| v * v).sum::<f64>() / n as f64).sqrt();
    let windowed: Vec<f64> = centred
        .iter()
        .enumerate()
        .map(
            |(i, v)| {
                if hann {
                    v * (0.5 - 0.5 * (2.0 * PI * i as f64 / n as f64).cos())
                } else {
                    *v
                }
            },
        )
        .collect();
    let mut power = vec![0.0; n / 2 + 1];
    for (k, p) in power.iter_mut().enumerate().skip(1) {
        let (mut re, mut im) = (0.0, 0.0);
        for (i, v) in windowed.iter().enumerate() {
            let a = -2.0 * PI * (k * i) as f64 / n as f64;
            re += v * a.cos();
            im += v * a.sin();
        }
        *p = (re * re + im * im) / (n as f64 * n as f64);
    }
    Reference { rms, power }
}

fn ref_peaks(r: &Reference) -> Vec<(usize, f64)> {
    let bins = r.power.len() - 1;
    let mut peaks: Vec<(usize, f64)> = (1..=bins)
        .filter(|&k| {
            let p = r.power[k];
            p > 0.0 && (k == 1 || p > r.power[k - 1]) && (k == bins || p >= r.power[k + 1])
        })
        .map(|k| (k, r.power[k]))
        .collect();
    peaks.sort_by(|a, b| b.1.partial_cmp(&a.1).unwrap());
    peaks
}

fn tone(n: usize, fs: f64, parts: &[(f64, f64)], offset: f64) -> Vec<f64> {
    (0..n)
        .map(|i| {
            let t = i as f64 / fs;
            offset + parts.iter().map(|(f, a)| a * (2.0 * PI * f * t).sin()).sum::<f64>()
        })
        .collect()
}

fn close(ours: f32, expected: f64, total: f64, what: &str) {
    let tol = 1e-4 * total + 1e-4 * expected.abs();
    assert!((f64::from(ours) - expected).abs() <= tol, "{what}: {ours} vs {expected} (tol {tol})");
}

const BANDS: [(f32, f32); 4] = [(0.0, 50.0), (50.0, 120.0), (120.0, 300.0), (300.0, 500.1)];

#[test]
fn tones_match_the_f64_reference_linear_and_db() {
    let fs = 1000.0;
    // 62.5 Hz sits on bin 16 of 256; 203 Hz falls between bins; a DC offset is removed.
    let x = tone(256, fs, &[(62.5, 2.0), (203.0, 0.5), (410.0, 0.1)], 3.0);
    for window in [WindowFunction::Hann, WindowFunction::Rectangular] {
        for log in [false, true] {
            let config = SpectralConfig { sample_rate_hz: fs as f32, window, bands: BANDS, log };
            let mut spectral = Spectral::<256, 3, 4>::new(config);
            let input: [f32; 256] = core::array::from_fn(|i| x[i] as f32);
            let ours = spectral.analyze(&input);
            let r = reference(&x, window == WindowFunction::Hann);
            let total: f64 = r.power.iter().sum();
            let what = format!("{window:?} log={log}");

            assert!((f64::from(ours.rms) - r.rms).abs() <= 1e-5 * r.rms, "{what}: rms");
            let ref_peaks = ref_peaks(&r);
            assert_eq!(ours.found, 3, "{what}");
            for (peak, &(k, p)) in ours.peaks.iter().zip(&ref_peaks) {
                assert_eq!(peak.frequency_hz, (k as f64 * fs / 256.0) as f32, "{what}: peak bin");
                if log {
                    let db = 10.0 * p.log10();
                    assert!((f64::from(peak.height) - db).abs() <= 0.01, "{what}: peak {k}");
                } else {
                    close(peak.height, p, total, &format!("{what}: peak {k}"));
                }
            }
            for (i, &(lo, hi)) in BANDS.iter().enumerate() {
                let expected: f64 = (1..r.power.len())
                    .filter(|&k| {
                        let f = (k as f64 * fs / 256.0) as f32;
                        f >= lo && f < hi
                    })
                    .map(|k| r.power[k])
                    .sum();
                if log {
                    let db = 10.0 * expected.max(1e-20).log10();
                    if expected >= 1e-3 * total {
                        assert!((f64::from(ours.bands[i]) - db).abs() <= 0.01, "{what}: band {i}");
                    }
                } else {
                    close(ours.bands[i], expected, total, &format!("{what}: band {i}"));
                }
            }
        }
    }
}

#[test]
fn noise_bands_and_rms_match_the_f64_reference_at_every_length() {
    let mut seed: u64 = 12345;
    let mut noise = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        (seed >> 11) as f64 / (1u64 << 53) as f64 - 0.5
    };
    fn check<const N: usize>(x: &[f64]) {
        let config = SpectralConfig {
            sample_rate_hz: 1000.0,
            window: WindowFunction::Hann,
            bands: BANDS,
            log: false,
        };
        let mut spectral = Spectral::<N, 4, 4>::new(config);
        let input: [f32; N] = core::array::from_fn(|i| x[i] as f32);
        let ours = spectral.analyze(&input);
        let r = reference(x, true);
        let total: f64 = r.power.iter().sum();
        assert!((f64::from(ours.rms) - r.rms).abs() <= 1e-5 * r.rms, "N={N}: rms");
        for (i, &(lo, hi)) in BANDS.iter().enumerate() {
            let expected: f64 = (1..r.power.len())
                .filter(|&k| {
                    let f = (k as f64 * 1000.0 / N as f64) as f32;
                    f >= lo && f < hi
                })
                .map(|k| r.power[k])
                .sum();
            close(ours.bands[i], expected, total, &format!("N={N} band {i}"));
        }
        // Every reported peak is a reference peak of nearly the same height, highest first.
        for w in ours.peaks[..ours.found].windows(2) {
            assert!(w[0].height >= w[1].height);
        }
    }
    let x: Vec<f64> = (0..512).map(|_| noise()).collect();
    check::<32>(&x[..32]);
    check::<64>(&x[..64]);
    check::<128>(&x[..128]);
    check::<256>(&x[..256]);
    check::<512>(&x);
}

#[test]
fn each_axis_of_a_three_axis_window_is_analysed_alone() {
    let fs = 800.0;
    let xs = tone(128, fs, &[(100.0, 1.0)], 0.0);
    let ys = tone(128, fs, &[(200.0, 0.5)], 1.0);
    let window: [[f32; 3]; 128] = core::array::from_fn(|i| [xs[i] as f32, ys[i] as f32, 0.25]);
    let config = SpectralConfig {
        sample_rate_hz: fs as f32,
        window: WindowFunction::Hann,
        bands: [(0.0, 400.1)],
        log: false,
    };
    let mut spectral = Spectral::<128, 1, 1>::new(config);
    let x = spectral.analyze_axis(&window, 0);
    let y = spectral.analyze_axis(&window, 1);
    let z = spectral.analyze_axis(&window, 2);
    assert_eq!((x.found, x.peaks[0].frequency_hz), (1, 100.0));
    assert_eq!((y.found, y.peaks[0].frequency_hz), (1, 200.0));
    assert!((x.rms - 1.0 / 2f32.sqrt()).abs() < 1e-4);
    assert!((y.rms - 0.5 / 2f32.sqrt()).abs() < 1e-4);
    // A constant axis: no peak, no power, rms 0.
    assert_eq!((z.found, z.rms, z.bands[0]), (0, 0.0, 0.0));
}

#[test]
fn silence_in_db_is_the_floor_not_infinity() {
    let config = SpectralConfig {
        sample_rate_hz: 100.0,
        window: WindowFunction::Rectangular,
        bands: [(0.0, 50.0)],
        log: true,
    };
    let mut spectral = Spectral::<64, 2, 1>::new(config);
    let out = spectral.analyze(&[7.0; 64]);
    assert_eq!(out.found, 0);
    assert_eq!(out.bands[0], -200.0);
}

/// Non-finite samples give non-finite features, never a panic; the next window is clean again.
#[test]
fn non_finite_samples_do_not_panic() {
    let config = SpectralConfig {
        sample_rate_hz: 100.0,
        window: WindowFunction::Hann,
        bands: [(0.0, 50.0)],
        log: true,
    };
    let mut spectral = Spectral::<32, 3, 1>::new(config);
    let mut x = [0.5f32; 32];
    x[3] = f32::NAN;
    x[9] = f32::INFINITY;
    let out = spectral.analyze(&x);
    assert!(out.rms.is_nan());
    assert!(out.found <= 3);
    let clean = spectral.analyze(&[0.0; 32]);
    assert_eq!((clean.rms, clean.found, clean.bands[0]), (0.0, 0, -200.0));
}
