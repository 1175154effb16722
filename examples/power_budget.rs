//! Average current of the vibration reflex on an nRF52840, from a measured run.
//!
//!     cargo run --release --example power_budget -- --graph-insns-zscore N --graph-insns-int8 M
//!
//! `N` and `M` are the instructions the Cortex-M4 executes in `Graph::feed` over the whole 60 s demo
//! run (every sample, window, gate decision and inference), measured under QEMU by
//! `scripts/power.sh` (which also rewrites docs/power.md with this program's output). The event
//! counts come from running the same graph here on the host; the currents and bus timings are the
//! datasheet values in `NRF52840` below. Prints a markdown table, one row per model and batch size.

use edge_reflex::action::NoAction;
use edge_reflex::engine::{Interpreter, TfLiteModel};
use edge_reflex::model::Model;
use edge_reflex::power::{estimate, DutyCycle, PowerProfile};
use edge_reflex::sensor::FnSensor;
use edge_reflex::sim::{Bearing, BearingConfig, DEMO_FAULTS, DEMO_SAMPLES};
use edge_reflex::stats::Stats;
use edge_reflex::vibration::{self, VibrationConfig};
use std::process::ExitCode;

/// I2C at 400 kHz: 9 bit times (byte + ACK) of 2.5 µs per byte.
const I2C_BYTE_US: f32 = 9.0 * 2.5;
/// SPI at 8 MHz (the LIS3DH allows 10 MHz): 8 bit times of 0.125 µs per byte.
const SPI_BYTE_US: f32 = 8.0 * 0.125;

/// nRF52840 (Product Specification v1.7): 64 MHz Cortex-M4F; System ON sleep with full RAM
/// retention and the RTC running (I_ON_RAMON_RTC ≈ 3.2 µA); CPU running from flash with cache,
/// DC/DC regulator (≈ 3.3 mA). Bus times for a LIS3DH over I2C at 400 kHz: a wake reads FIFO_SRC
/// (address + register + address + 1 byte) and starts the burst (address + register + address);
/// each sample is 6 more bytes. The CPU is counted as running during transfers (conservative: with
/// EasyDMA it could sleep). Cycle costs are not used here (the measured instruction total replaces
/// them).
const NRF52840: PowerProfile = PowerProfile {
    cpu_hz: 64e6,
    sleep_ua: 3.2,
    run_ua: 3300.0,
    wake_us: 10.0,
    bus_us_per_wake: 7.0 * I2C_BYTE_US,
    bus_us_per_sample: 6.0 * I2C_BYTE_US,
    cycles_per_sample: 0.0,
    cycles_per_window: 0.0,
    cycles_per_inference: 0.0,
};

/// Runs the demo through the vibration reflex with `model` and returns its statistics.
fn demo_stats<M: Model>(model: M, config: &VibrationConfig) -> Stats {
    let mut bearing = Bearing::new(BearingConfig::default(), &DEMO_FAULTS);
    let sensor = FnSensor::new(move || Ok::<_, ()>(bearing.next_sample()));
    let mut graph = vibration::graph(sensor, model, NoAction, || 0u32, config)
        .expect("the default configuration quantizes");
    for _ in 0..DEMO_SAMPLES {
        let _ = graph.step();
    }
    *graph.stats()
}

fn arg(name: &str) -> Option<f32> {
    let args: Vec<String> = std::env::args().collect();
    args.iter().position(|a| a == name).and_then(|i| args.get(i + 1)).and_then(|v| v.parse().ok())
}

fn main() -> ExitCode {
    let (Some(zscore_insns), Some(int8_insns)) =
        (arg("--graph-insns-zscore"), arg("--graph-insns-int8"))
    else {
        eprintln!("usage: power_budget --graph-insns-zscore N --graph-insns-int8 M (see scripts/power.sh)");
        return ExitCode::FAILURE;
    };
    let run_s = DEMO_SAMPLES as f32 / 1000.0;
    let zscore = demo_stats(
        vibration::zscore_model(&VibrationConfig::default())
            .expect("the default configuration quantizes"),
        &VibrationConfig::default(),
    );
    let model = match TfLiteModel::load(include_bytes!("../models/bearing_classifier.tflite")) {
        Ok(m) => m,
        Err(e) => {
            eprintln!("power_budget: {e}");
            return ExitCode::FAILURE;
        }
    };
    let mut arena = vec![0u8; model.arena_size().unwrap_or(0)];
    let int8 = match Interpreter::new(&model, &mut arena) {
        Ok(i) => demo_stats(i, &VibrationConfig::classifier()),
        Err(e) => {
            eprintln!("power_budget: {e}");
            return ExitCode::FAILURE;
        }
    };

    println!("| model | bus | batch (FIFO watermark) | wakes/s | inferences | CPU in `feed` | bus + wake-ups | awake | duty | average current |");
    println!("|---|---|---|---|---|---|---|---|---|---|");
    for (name, stats, insns) in
        [("z-score", zscore, zscore_insns), ("int8 classifier", int8, int8_insns)]
    {
        // The whole graph's work is the measured instruction total: spread it per sample.
        let i2c = PowerProfile { cycles_per_sample: insns / stats.samples as f32, ..NRF52840 };
        // SPI: two bytes (status read) per wake, one command byte per burst, 6 bytes a sample.
        let spi = PowerProfile {
            bus_us_per_wake: 3.0 * SPI_BYTE_US,
            bus_us_per_sample: 6.0 * SPI_BYTE_US,
            ..i2c
        };
        for (bus, profile, batch) in [
            ("I2C 400 kHz", i2c, 1),
            ("I2C 400 kHz", i2c, 25),
            ("SPI 8 MHz", spi, 1),
            ("SPI 8 MHz", spi, 25),
        ] {
            let policy = DutyCycle { sample_rate_hz: 1000.0, batch, min_inference_interval_us: 0 };
            let e = estimate(&stats, run_s, &policy, &profile);
            println!(
                "| {name} | {bus} | {batch} | {:.0} | {} | {:.1} ms/s | {:.1} ms/s | {:.1} ms/s | {:.2}% | **{:.0} µA** |",
                policy.wakes_per_second(),
                stats.inferences,
                1e3 * (e.awake_graph_s + e.awake_inference_s) / run_s,
                1e3 * e.awake_io_s / run_s,
                1e3 * e.awake_s() / run_s,
                100.0 * e.duty,
                e.average_ua
            );
        }
    }
    ExitCode::SUCCESS
}
