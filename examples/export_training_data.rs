//! Writes labelled training windows for the bearing classifier, cut from the crate's own simulator.
//!
//!     cargo run --release --example export_training_data -- /tmp/bearing_windows.bin [--runs 128] [--seed 1]
//!
//! Each run simulates a [`Bearing`] with its own seed and a [`BearingConfig`] drawn from plausible
//! ranges (shaft 10–60 Hz at 0.05–1.2 m/s², noise 0.02–0.12 m/s², impacts 1.5–8 m/s² at 40–160 Hz
//! ringing at 150–420 Hz and decaying at 30–160 /s, a third of the runs with wear drift), with one to
//! three fault episodes of 60–600 samples at random places. The samples go through the crate's
//! [`Window`] with the reflex's window and hop ([`WINDOW`] = 64, [`HOP`] = 32), so every exported
//! window is, value for value, what [`AffineQuantizer`](edge_reflex::quantizer::AffineQuantizer)
//! would quantize on the device: 64 samples oldest first, channels interleaved (X, Y, Z), in m/s².
//!
//! Every window that overlaps a fault or passes the reflex's gate level is kept; quiet normal
//! windows (which the device's gate sends to the model only as heartbeats) are kept one in four,
//! so the file stays a few MB. Labels are left to the trainer: each window carries how many of its
//! samples are faulty, so the trainer decides the threshold (`scripts/train_bearing_model.py` calls a
//! window faulty when at least 16 of its 64 samples are, a quarter window: about two impacts at the
//! slowest defect frequency).
//!
//! File layout (all little-endian), structure of arrays so numpy reads it with `frombuffer`:
//!
//! | bytes            | content                                                          |
//! |------------------|------------------------------------------------------------------|
//! | 8                | magic `ERBWIN01`                                                 |
//! | 4 × u32          | window count `n`, samples per window (64), channels (3), runs   |
//! | n × 64 × 3 × f32 | the windows                                                      |
//! | n × u16          | faulty samples in the window (0..=64)                            |
//! | n × u16          | run index (split train/held-out by run, never by window)         |
//! | n × f32          | the gate feature: std dev of the acceleration magnitude, m/s²    |
//!
//! With `--demo` it writes instead every window of the demo run ([`DEMO_FAULTS`] in
//! [`DEMO_SAMPLES`] samples of the default [`BearingConfig`]), unthinned, as run 0: evaluation data
//! only, never trained on. Deterministic: the same arguments write the same bytes.

use edge_reflex::sim::{Bearing, BearingConfig, FaultEpisode, DEMO_FAULTS, DEMO_SAMPLES};
use edge_reflex::vibration::{VibrationConfig, CHANNELS, HOP, WINDOW};
use edge_reflex::window::Window;
use std::io::Write;
use std::process::ExitCode;

/// Samples per simulated run (4 s at 1 kHz).
const RUN_SAMPLES: u32 = 4_000;
/// Keep one quiet normal window in this many.
const QUIET_KEEP_EVERY: u32 = 4;

/// A tiny deterministic generator for the run parameters (xorshift32, like the simulator's noise).
struct Draw(u32);

impl Draw {
    fn unit(&mut self) -> f32 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 17;
        self.0 ^= self.0 << 5;
        (self.0 >> 8) as f32 / (1u32 << 24) as f32
    }

    fn range(&mut self, lo: f32, hi: f32) -> f32 {
        lo + (hi - lo) * self.unit()
    }

    /// Log-uniform: amplitudes spread evenly over orders of magnitude.
    fn log_range(&mut self, lo: f32, hi: f32) -> f32 {
        (lo.ln() + (hi.ln() - lo.ln()) * self.unit()).exp()
    }

    fn below(&mut self, n: u32) -> u32 {
        ((self.unit() * n as f32) as u32).min(n.saturating_sub(1))
    }
}

fn random_config(d: &mut Draw) -> BearingConfig {
    BearingConfig {
        sample_rate_hz: 1000.0,
        shaft_hz: d.range(10.0, 60.0),
        shaft_amplitude: d.log_range(0.05, 1.2),
        noise_std: d.log_range(0.02, 0.12),
        impact_hz: d.range(40.0, 160.0),
        impact_amplitude: d.log_range(1.5, 8.0),
        resonance_hz: d.range(150.0, 420.0),
        decay_per_s: d.range(30.0, 160.0),
        drift_per_s: if d.unit() < 1.0 / 3.0 { d.range(0.0, 0.08) } else { 0.0 },
        seed: (d.unit() * u32::MAX as f32) as u32 | 1,
    }
}

/// One to three non-overlapping fault episodes, at least 200 samples apart.
fn random_faults(d: &mut Draw) -> Vec<FaultEpisode> {
    let count = 1 + d.below(3);
    let slot = RUN_SAMPLES / count;
    (0..count)
        .map(|k| {
            let len = 60 + d.below(541);
            let room = slot.saturating_sub(len + 200).max(1);
            FaultEpisode { start: k * slot + 100 + d.below(room), len }
        })
        .collect()
}

#[derive(Default)]
struct Dataset {
    windows: Vec<f32>,
    faulty: Vec<u16>,
    run: Vec<u16>,
    std_dev: Vec<f32>,
}

impl Dataset {
    /// Adds the windows of one run; quiet normal windows are thinned out when `thin` is given.
    fn add_run(
        &mut self,
        run: u16,
        config: BearingConfig,
        faults: &[FaultEpisode],
        samples: u32,
        mut thin: Option<&mut Draw>,
    ) {
        let gate_level = VibrationConfig::default().gate_std_dev;
        let mut bearing = Bearing::new(config, faults);
        let mut window: Window<[f32; 3], WINDOW, HOP> = Window::new();
        for i in 0..samples {
            let sample = bearing.next_sample();
            if !matches!(window.push(sample), Ok(true)) {
                continue;
            }
            let first = i + 1 - WINDOW as u32;
            let faulty = (first..=i).filter(|&j| bearing.is_faulty(j)).count() as u16;
            let std_dev = window.features().std_dev;
            let quiet_normal = faulty == 0 && std_dev < gate_level;
            if let Some(d) = thin.as_deref_mut() {
                if quiet_normal && d.below(QUIET_KEEP_EVERY) != 0 {
                    continue;
                }
            }
            let (older, newer) = window.as_slices();
            self.windows.extend(older.iter().chain(newer).flatten());
            self.faulty.push(faulty);
            self.run.push(run);
            self.std_dev.push(std_dev);
        }
    }

    fn write(&self, out: &mut impl Write, runs: u32) -> std::io::Result<()> {
        out.write_all(b"ERBWIN01")?;
        let header = [self.faulty.len() as u32, WINDOW as u32, CHANNELS as u32, runs];
        for v in header {
            out.write_all(&v.to_le_bytes())?;
        }
        for v in &self.windows {
            out.write_all(&v.to_le_bytes())?;
        }
        for v in &self.faulty {
            out.write_all(&v.to_le_bytes())?;
        }
        for v in &self.run {
            out.write_all(&v.to_le_bytes())?;
        }
        for v in &self.std_dev {
            out.write_all(&v.to_le_bytes())?;
        }
        out.flush()
    }
}

struct Args {
    path: String,
    runs: u32,
    seed: u32,
    demo: bool,
}

fn parse_args() -> Result<Args, String> {
    let mut args = std::env::args().skip(1);
    let (mut path, mut runs, mut seed, mut demo) = (None, 128u32, 1u32, false);
    while let Some(a) = args.next() {
        let mut number = |name: &str| -> Result<u32, String> {
            let v = args.next().ok_or(format!("{name} needs a value"))?;
            v.parse().map_err(|_| format!("{name}: not a number: {v}"))
        };
        match a.as_str() {
            "--runs" => runs = number("--runs")?.clamp(1, u16::MAX as u32),
            "--seed" => seed = number("--seed")?,
            "--demo" => demo = true,
            _ if a.starts_with("--") => return Err(format!("unknown option {a}")),
            _ => path = Some(a),
        }
    }
    let path = path.ok_or("usage: export_training_data OUT_FILE [--runs N] [--seed S] [--demo]")?;
    Ok(Args { path, runs, seed, demo })
}

fn main() -> ExitCode {
    let args = match parse_args() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("export_training_data: {e}");
            return ExitCode::FAILURE;
        }
    };
    let mut draw = Draw(args.seed.wrapping_mul(0x9E37_79B9) | 1);
    let mut data = Dataset::default();
    let runs = if args.demo {
        data.add_run(0, BearingConfig::default(), &DEMO_FAULTS, DEMO_SAMPLES, None);
        1
    } else {
        for run in 0..args.runs {
            let config = random_config(&mut draw);
            let faults = random_faults(&mut draw);
            data.add_run(run as u16, config, &faults, RUN_SAMPLES, Some(&mut draw));
        }
        args.runs
    };
    let written = std::fs::File::create(&args.path)
        .map(std::io::BufWriter::new)
        .and_then(|mut f| data.write(&mut f, runs));
    if let Err(e) = written {
        eprintln!("export_training_data: {}: {e}", args.path);
        return ExitCode::FAILURE;
    }
    let n = data.faulty.len();
    let faulty = data.faulty.iter().filter(|&&f| f >= 16).count();
    println!(
        "{}: {n} windows from {} runs ({faulty} with >= 16 faulty samples), {} bytes",
        args.path,
        runs,
        24 + n * (WINDOW * CHANNELS * 4 + 8)
    );
    ExitCode::SUCCESS
}
