//! MFE/MFCC against a plain `f64` implementation of the same definitions (pre-emphasis over the
//! stream, Hamming window over the frame, zero padding, direct DFT, `|X|² / FFT`, HTK-mel
//! triangular filters, natural log with a 1e-10 floor, orthonormal DCT-II).
//!
//! Tolerance: every log energy and every coefficient within 2e-3 absolute (the f32 FFT and filter
//! sums against f64; log energies are around -10 to 10).

use edge_reflex::frontend::mfcc::{Mfcc, MfccConfig, MfccError};
use std::f64::consts::PI;

fn mel(f: f64) -> f64 {
    2595.0 * (1.0 + f / 700.0).log10()
}
fn hz(m: f64) -> f64 {
    700.0 * (10f64.powf(m / 2595.0) - 1.0)
}

/// All frames' (MFE, MFCC) of `x` from a fresh state.
fn reference(
    x: &[f64],
    c: &MfccConfig,
    fft: usize,
    filters: usize,
    coeffs: usize,
) -> Vec<(Vec<f64>, Vec<f64>)> {
    let a = f64::from(c.pre_emphasis);
    let y: Vec<f64> =
        (0..x.len()).map(|n| x[n] - a * if n == 0 { 0.0 } else { x[n - 1] }).collect();
    let fs = f64::from(c.sample_rate_hz);
    let (lo, hi) = (f64::from(c.low_hz), f64::from(c.high_hz));
    let edges: Vec<f64> = (0..filters + 2)
        .map(|i| hz(mel(lo) + (mel(hi) - mel(lo)) * i as f64 / (filters + 1) as f64))
        .collect();
    let l = c.frame_length;
    let mut out = Vec::new();
    let mut start = 0;
    while start + l <= y.len() {
        let frame: Vec<f64> = (0..l)
            .map(|n| y[start + n] * (0.54 - 0.46 * (2.0 * PI * n as f64 / (l - 1) as f64).cos()))
            .collect();
        let power: Vec<f64> = (0..=fft / 2)
            .map(|k| {
                let (mut re, mut im) = (0.0, 0.0);
                for (n, v) in frame.iter().enumerate() {
                    let ang = -2.0 * PI * (k * n) as f64 / fft as f64;
                    re += v * ang.cos();
                    im += v * ang.sin();
                }
                (re * re + im * im) / fft as f64
            })
            .collect();
        let mfe: Vec<f64> = (0..filters)
            .map(|m| {
                let (left, centre, right) = (edges[m], edges[m + 1], edges[m + 2]);
                let sum: f64 = power
                    .iter()
                    .enumerate()
                    .map(|(k, p)| {
                        let f = k as f64 * fs / fft as f64;
                        let w = if f > left && f <= centre {
                            (f - left) / (centre - left)
                        } else if f > centre && f < right {
                            (right - f) / (right - centre)
                        } else {
                            0.0
                        };
                        w * p
                    })
                    .sum();
                sum.max(1e-10).ln()
            })
            .collect();
        let n = filters as f64;
        let mfcc: Vec<f64> = (0..coeffs)
            .map(|i| {
                let s = if i == 0 { (1.0 / n).sqrt() } else { (2.0 / n).sqrt() };
                s * mfe
                    .iter()
                    .enumerate()
                    .map(|(m, e)| e * (PI * i as f64 * (m as f64 + 0.5) / n).cos())
                    .sum::<f64>()
            })
            .collect();
        out.push((mfe, mfcc));
        start += c.frame_stride;
    }
    out
}

fn signal(n: usize, fs: f64) -> Vec<f64> {
    let mut seed: u64 = 777;
    (0..n)
        .map(|i| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            let t = i as f64 / fs;
            let chirp = (2.0 * PI * (300.0 + 2000.0 * t) * t).sin();
            0.6 * chirp
                + 0.2 * (2.0 * PI * 1250.0 * t).sin()
                + 0.05 * ((seed >> 11) as f64 / (1u64 << 53) as f64 - 0.5)
        })
        .collect()
}

const CONFIG: MfccConfig = MfccConfig {
    sample_rate_hz: 16_000.0,
    frame_length: 400,
    frame_stride: 160,
    low_hz: 80.0,
    high_hz: 7600.0,
    pre_emphasis: 0.97,
};

#[test]
fn frames_match_the_f64_reference() {
    let x = signal(4000, 16_000.0);
    let expected = reference(&x, &CONFIG, 512, 32, 13);
    let mut mfcc = Mfcc::<512, 32, 13>::new(CONFIG).unwrap();
    let input: Vec<f32> = x.iter().map(|&v| v as f32).collect();
    let mut frames = Vec::new();
    // Uneven chunks: the frames do not depend on them.
    for chunk in input.chunks(123) {
        mfcc.push(chunk, |f| frames.push(*f));
    }
    assert_eq!(frames.len(), (4000 - 400) / 160 + 1);
    assert_eq!(frames.len(), expected.len());
    for (j, (ours, (mfe, cc))) in frames.iter().zip(&expected).enumerate() {
        for (m, (&a, &b)) in ours.mfe.iter().zip(mfe).enumerate() {
            assert!((f64::from(a) - b).abs() <= 2e-3, "frame {j} mfe {m}: {a} vs {b}");
        }
        for (i, (&a, &b)) in ours.mfcc.iter().zip(cc).enumerate() {
            assert!((f64::from(a) - b).abs() <= 2e-3, "frame {j} mfcc {i}: {a} vs {b}");
        }
    }
}

#[test]
fn small_fft_without_pre_emphasis_matches_too() {
    let config = MfccConfig {
        sample_rate_hz: 1000.0,
        frame_length: 64,
        frame_stride: 64,
        low_hz: 0.0,
        high_hz: 500.0,
        pre_emphasis: 0.0,
    };
    let x = signal(640, 1000.0);
    let expected = reference(&x, &config, 64, 8, 8);
    let mut mfcc = Mfcc::<64, 8, 8>::new(config).unwrap();
    let input: Vec<f32> = x.iter().map(|&v| v as f32).collect();
    let mut frames = Vec::new();
    mfcc.push(&input, |f| frames.push(*f));
    assert_eq!(frames.len(), 10);
    for (ours, (mfe, cc)) in frames.iter().zip(&expected) {
        for (&a, &b) in ours.mfe.iter().zip(mfe).chain(ours.mfcc.iter().zip(cc)) {
            assert!((f64::from(a) - b).abs() <= 2e-3, "{a} vs {b}");
        }
    }
}

#[test]
fn reset_and_silence() {
    let mut mfcc = Mfcc::<512, 32, 13>::new(CONFIG).unwrap();
    let mut frames = Vec::new();
    mfcc.push(&[0.0; 399], |f| frames.push(*f));
    assert!(frames.is_empty());
    mfcc.reset();
    mfcc.push(&[0.0; 400], |f| frames.push(*f));
    assert_eq!(frames.len(), 1);
    // Silence: every energy is the floor, ln(1e-10).
    for &e in &frames[0].mfe {
        assert!((e - 1e-10f32.ln()).abs() < 1e-4);
    }
}

#[test]
fn bad_configurations_are_refused() {
    let with = |f: fn(&mut MfccConfig)| {
        let mut c = CONFIG;
        f(&mut c);
        Mfcc::<512, 32, 13>::new(c).err()
    };
    assert_eq!(with(|c| c.frame_length = 513), Some(MfccError::FrameLength));
    assert_eq!(with(|c| c.frame_stride = 0), Some(MfccError::FrameStride));
    assert_eq!(with(|c| c.frame_stride = 401), Some(MfccError::FrameStride));
    assert_eq!(with(|c| c.high_hz = 9000.0), Some(MfccError::Band));
    assert_eq!(with(|c| c.low_hz = 8000.0), Some(MfccError::Band));
    assert_eq!(with(|c| c.sample_rate_hz = f32::NAN), Some(MfccError::Band));
    assert_eq!(Mfcc::<512, 8, 13>::new(CONFIG).err(), Some(MfccError::Coefficients));
}

/// Non-finite samples never panic, and a reset stream is clean again.
#[test]
fn non_finite_samples_do_not_panic() {
    let mut mfcc = Mfcc::<512, 32, 13>::new(CONFIG).unwrap();
    let mut frames = 0;
    let mut x = vec![0.1f32; 800];
    x[10] = f32::NAN;
    x[500] = f32::NEG_INFINITY;
    mfcc.push(&x, |_| frames += 1);
    assert_eq!(frames, 3);
    mfcc.reset();
    let mut clean = Vec::new();
    mfcc.push(&[0.0; 400], |f| clean.push(*f));
    assert!(clean[0].mfe.iter().all(|e| e.is_finite()));
}
