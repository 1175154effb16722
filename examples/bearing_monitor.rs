//! The main job: a vibration reflex on a simulated bearing, end to end on the host.
//!
//! A LIS3DH accelerometer *driver of this crate* reads X/Y/Z over an embedded-hal-mock I2C bus whose
//! expected transactions carry the register bytes of a simulated bearing (1 kHz, 60 s, five injected
//! fault episodes). The graph windows the samples (64, every 32), gates out quiet windows, quantizes
//! the rest with the model's own input parameters, runs the model and drives an alarm LED. One line
//! per detection, then a summary (compute saved by the gate, hits/misses/false alarms, latency) and
//! the telemetry snapshot as JSON. A second scenario then lets the bearing wear (its broadband
//! vibration grows) and shows the drift monitor raising the drift event. A third one is a bad day
//! for the sensor: a 20 m/s² knock while the model learns and a corrupted read (±1e20 m/s²) every
//! 100 samples from t = 10 s; the reflex must still find every fault without a false alarm (the
//! windows holding the knock may be flagged: it is a real vibration) and raise the sensor's health
//! event (see docs/reliability.md).
//!
//!     cargo run --release --example bearing_monitor            # streaming z-score model
//!     cargo run --release --example bearing_monitor -- --int8  # models/bearing_classifier.tflite
//!     cargo run --release --example bearing_monitor -- --spectral  # spectral features, k-means
//!
//! With `--spectral` a feature stage sits between the window and the gate: each window becomes
//! per-axis RMS and band powers in dB ([`vibration::spectral_stage`]) and the model is a k-means
//! detector whose centres and threshold (`models/bearing_kmeans.rs`) were fitted by `reflex kmeans
//! fit` on the features of normal runs of the simulated bearing (other seeds than the demo's, no
//! faults), written by `--spectral --export-normal FILE`:
//!
//!     cargo run --release --example bearing_monitor -- --spectral --export-normal /tmp/normal.csv
//!     cargo run --release -p edge-reflex-cli -- kmeans fit /tmp/normal.csv --k 4 --out models/bearing_kmeans.rs
//!
//! With `--int8` the model is the int8 TFLite classifier trained with TensorFlow on this simulator
//! (see `models/README.md`), run by the crate's engine in an arena of exactly the reported size.
//! Deterministic: the bearing's noise is seeded (only latencies, from the host clock, vary). Exits
//! non-zero if a fault is missed, an alarm is false, the gate passes over 10% of windows, the
//! drift goes unnoticed, a healthy sensor raises a health event or the bad one raises none.

use edge_reflex::action::{Action, Decision, PinAlarm, Scores};
use edge_reflex::drift::{DriftConfig, DriftEvent};
use edge_reflex::drivers::lis3dh::{Config, DataRate, Lis3dh, Mode, Range};
use edge_reflex::drivers::I2cInterface;
use edge_reflex::engine::{Interpreter, TfLiteModel};
use edge_reflex::feature::{FeatureStage, Raw};
use edge_reflex::graph::{GraphError, Step};
use edge_reflex::health::HealthEvent;
use edge_reflex::model::Model;
use edge_reflex::sim::{
    Bearing, BearingConfig, FaultEpisode, FaultInjector, SensorEpisode, SensorFault, DEMO_FAULTS,
    DEMO_SAMPLES,
};
use edge_reflex::stats::Stats;
use edge_reflex::telemetry;
use edge_reflex::vibration::{self, VibrationConfig, HOP, WINDOW};
use edge_reflex::window::Window;
use embedded_hal_mock::eh1::i2c::{Mock as I2cMock, Transaction as I2c};
use std::cell::Cell;
use std::convert::Infallible;
use std::process::ExitCode;
use std::rc::Rc;
use std::time::Instant as HostInstant;

const ADDRESS: u8 = 0x18;
const SAMPLE_RATE_HZ: f32 = 1000.0;
/// The trained classifier (in flash on a board).
static INT8_MODEL: &[u8] = include_bytes!("../models/bearing_classifier.tflite");

/// The k-means centres and threshold of the spectral mode (`reflex kmeans fit`).
mod bearing_kmeans {
    include!("../models/bearing_kmeans.rs");
}

/// The seeds of the normal runs the k-means centres are fitted on (the demo's is the default).
const NORMAL_SEEDS: [u32; 4] = [101, 202, 303, 404];

/// Writes the spectral features of every window of fault-free runs of the bearing, one vector
/// per line: the data `reflex kmeans fit` fits the centres on.
fn export_normal(path: &str) -> std::io::Result<()> {
    let mut out = String::new();
    let mut windows = 0;
    for seed in NORMAL_SEEDS {
        let mut bearing = Bearing::new(BearingConfig { seed, ..BearingConfig::default() }, &[]);
        let mut window = Window::<[f32; 3], WINDOW, HOP>::new();
        let mut stage = vibration::spectral_stage(SAMPLE_RATE_HZ);
        for _ in 0..DEMO_SAMPLES {
            if window.push(bearing.next_sample()).unwrap_or(false) {
                let (older, newer) = window.as_slices();
                let values: Vec<String> =
                    stage.compute(older, newer).iter().map(|v| format!("{v:?}")).collect();
                out += &values.join(",");
                out.push('\n');
                windows += 1;
            }
        }
    }
    std::fs::write(path, out)?;
    println!(
        "{path}: {windows} windows x {} spectral features of {} fault-free runs (seeds {NORMAL_SEEDS:?})",
        vibration::SPECTRAL_FEATURES,
        NORMAL_SEEDS.len()
    );
    Ok(())
}

/// What the LIS3DH holds for an acceleration in high-resolution ±2 g mode: 12-bit counts of
/// 1 mg, left-justified in a little-endian i16 per axis (datasheet table 4 and §3.2.1).
fn lis3dh_bytes(sample: [f32; 3]) -> Vec<u8> {
    sample
        .iter()
        .flat_map(|&a| {
            let counts = (a / 9.806_65 * 1000.0).round().clamp(-2048.0, 2047.0) as i16;
            (counts << 4).to_le_bytes()
        })
        .collect()
}

/// A LIS3DH on a mock I2C bus that expects the driver's init (from the datasheet), then one 6-byte
/// burst read from OUT_X_L (0x28, auto-increment bit 0x80) per sample of `bearing`.
fn lis3dh_on_mock_bus(mut bearing: Bearing<'_>) -> Lis3dh<I2cInterface<I2cMock>> {
    let mut t = vec![
        I2c::write_read(ADDRESS, vec![0x0F], vec![0x33]), // WHO_AM_I
        I2c::write(ADDRESS, vec![0x20, 0x97]),            // CTRL_REG1: 1.344 kHz, XYZ on
        I2c::write(ADDRESS, vec![0x21, 0x00]),            // CTRL_REG2
        I2c::write(ADDRESS, vec![0x23, 0x88]),            // CTRL_REG4: BDU, ±2 g, HR
        I2c::write(ADDRESS, vec![0x24, 0x00]),            // CTRL_REG5: FIFO off
        I2c::write(ADDRESS, vec![0x25, 0x00]),            // CTRL_REG6
        I2c::write(ADDRESS, vec![0x2E, 0x00]),            // FIFO_CTRL_REG: bypass
        I2c::write(ADDRESS, vec![0x32, 0x00]),            // INT1_THS
        I2c::write(ADDRESS, vec![0x33, 0x00]),            // INT1_DURATION
        I2c::write(ADDRESS, vec![0x30, 0x00]),            // INT1_CFG
        I2c::write(ADDRESS, vec![0x22, 0x00]),            // CTRL_REG3
    ];
    for _ in 0..DEMO_SAMPLES {
        t.push(I2c::write_read(ADDRESS, vec![0xA8], lis3dh_bytes(bearing.next_sample())));
    }
    let mut sensor = Lis3dh::new_i2c(I2cMock::new(&t), ADDRESS).with_config(Config {
        data_rate: DataRate::Hz1344,
        range: Range::G2,
        mode: Mode::HighResolution,
    });
    sensor.init().expect("LIS3DH init over the mock bus");
    sensor
}

/// The board's alarm LED, as a mock GPIO that remembers its level.
#[derive(Clone, Default)]
struct AlarmLed(Rc<Cell<bool>>);

impl embedded_hal::digital::ErrorType for AlarmLed {
    type Error = Infallible;
}

impl embedded_hal::digital::OutputPin for AlarmLed {
    fn set_low(&mut self) -> Result<(), Infallible> {
        self.0.set(false);
        Ok(())
    }
    fn set_high(&mut self) -> Result<(), Infallible> {
        self.0.set(true);
        Ok(())
    }
}

/// A second action beside the LED: remembers drift and sensor health events (the LED ignores them).
#[derive(Clone, Default)]
struct DriftLog(Rc<std::cell::RefCell<Vec<DriftEvent>>>, Rc<std::cell::RefCell<Vec<HealthEvent>>>);

impl Action for DriftLog {
    type Error = Infallible;
    fn act(&mut self, _: &Decision, _: &Scores<'_>) -> Result<(), Infallible> {
        Ok(())
    }
    fn on_drift(&mut self, event: &DriftEvent) -> Result<(), Infallible> {
        self.0.borrow_mut().push(*event);
        Ok(())
    }
    fn on_health(&mut self, event: &HealthEvent) -> Result<(), Infallible> {
        println!(
            "          SENSOR {} {:?}{} after {} samples",
            if event.active { "fault" } else { "recovered" },
            event.kind,
            event.channel.map(|c| format!(" on channel {c}")).unwrap_or_default(),
            event.run
        );
        self.1.borrow_mut().push(*event);
        Ok(())
    }
}

/// The sensor's bad day: a 20 m/s² knock on X at t = 2 s, while the z-score model learns, and a
/// corrupted read of ±1e20 m/s² every 100 samples from t = 10 s on.
const BAD_DAY: [SensorEpisode; 2] = [
    SensorEpisode { fault: SensorFault::Spike { channel: 0, value: 20.0 }, start: 2_000, len: 1 },
    SensorEpisode {
        fault: SensorFault::OutOfRange { value: 1e20, every: 100 },
        start: 10_000,
        len: u32::MAX,
    },
];

fn seconds(sample: u32) -> f32 {
    sample as f32 / SAMPLE_RATE_HZ
}

/// What one scenario found.
struct Outcome {
    stats: Stats,
    misses: usize,
    false_alarms: u32,
    knock_windows: u32,
    wear_windows: u32,
    drift_events: Vec<DriftEvent>,
    health_events: Vec<HealthEvent>,
}

/// Runs 60 s of `bearing` through the vibration reflex scored by `model`, with `sensor_faults`
/// applied to the driver's reads, printing detections, alarm changes, drift and sensor health
/// events as they happen.
fn run_scenario<M: Model, F: FeatureStage<[f32; 3], WINDOW, HOP>>(
    model: M,
    features: F,
    bearing: BearingConfig,
    config: &VibrationConfig,
    sensor_faults: &[SensorEpisode],
) -> Outcome
where
    M::Error: std::fmt::Debug,
{
    let faults = &DEMO_FAULTS;
    let driver = lis3dh_on_mock_bus(Bearing::new(bearing, faults));
    let sensor = FaultInjector::with_episodes(driver, sensor_faults);
    let led = AlarmLed::default();
    let drift = DriftLog::default();
    let start = HostInstant::now();
    let clock = move || start.elapsed().as_micros() as u32;
    let actions = (PinAlarm::new(led.clone()), drift.clone());
    let mut graph = match vibration::graph(sensor, model, actions, clock, config) {
        Ok(graph) => graph.with_drift_monitor(DriftConfig::default()).with_features(features),
        Err(e) => {
            eprintln!("bearing_monitor: the model's quantization is refused: {e}");
            std::process::exit(1);
        }
    };

    let mut hits = [false; DEMO_FAULTS.len()];
    let mut false_alarms = 0u32;
    let mut knock_windows = 0u32;
    let mut wear_windows = 0u32;
    let wearing = bearing.drift_per_s > 0.0;
    let knocks: Vec<FaultEpisode> = sensor_faults
        .iter()
        .filter(|e| matches!(e.fault, SensorFault::Spike { .. }))
        .map(|e| FaultEpisode { start: e.start, len: 1 })
        .collect();
    let mut alarm_on = false;
    let mut drift_seen = 0;
    for i in 0..DEMO_SAMPLES {
        match graph.step() {
            Ok(Step::Inferred(d)) if d.triggered => {
                let first = (i + 1).saturating_sub(WINDOW as u32);
                match faults.iter().position(|f| f.overlaps(first, i)) {
                    Some(k) if !hits[k] => {
                        hits[k] = true;
                        println!(
                            "t={:7.3}s  DETECTED  score {:6.3}  window {first}..={i}  (fault #{} injected at t={:.3}s)",
                            seconds(i),
                            d.score,
                            k + 1,
                            seconds(faults[k].start)
                        );
                    }
                    Some(_) => {}
                    // A knock is a real vibration: a window that holds one may be flagged.
                    None if knocks.iter().any(|k| k.overlaps(first, i)) => {
                        knock_windows += 1;
                        println!("t={:7.3}s  KNOCK flagged  score {:6.3}", seconds(i), d.score);
                    }
                    // On a wearing bearing a window unlike the normal ones is the wear itself
                    // (counted, not printed: the drift monitor reports it once).
                    None if wearing => wear_windows += 1,
                    None => {
                        false_alarms += 1;
                        println!("t={:7.3}s  FALSE ALARM  score {:6.3}", seconds(i), d.score);
                    }
                }
            }
            Ok(_) => {}
            // Refused corrupted reads are counted in the telemetry; one line would be per read.
            Err(GraphError::OutOfRange) => {}
            Err(e) => println!("t={:7.3}s  error: {e:?}", seconds(i)),
        }
        if led.0.get() != alarm_on {
            alarm_on = led.0.get();
            println!("t={:7.3}s  alarm LED {}", seconds(i), if alarm_on { "on" } else { "off" });
        }
        for e in drift.0.borrow().iter().skip(drift_seen) {
            println!(
                "t={:7.3}s  DRIFT {} {:?}: smoothed {:.4} vs baseline {:.4}",
                seconds(i),
                if e.drifting { "started" } else { "ended" },
                e.kind,
                e.value,
                e.baseline
            );
        }
        drift_seen = drift.0.borrow().len();
    }
    let stats = *graph.stats();
    let (stages, _) = graph.into_stages();
    stages.sensor.into_inner().destroy().done(); // every expected bus transaction happened
    let drift_events = drift.0.borrow().clone();
    let health_events = drift.1.borrow().clone();
    Outcome {
        stats,
        misses: hits.iter().filter(|&&h| !h).count(),
        false_alarms,
        knock_windows,
        wear_windows,
        drift_events,
        health_events,
    }
}

fn summary(o: &Outcome, model: &str) {
    let s = &o.stats;
    println!("samples            {}", s.samples);
    println!("windows            {}", s.windows);
    println!(
        "inferences         {} run, {} gated out: the gate saved {:.1}% of model runs",
        s.inferences,
        s.gated_out,
        100.0 * s.gated_fraction()
    );
    println!(
        "detections         {}/{} faults detected, {} missed, {} false alarms ({} anomalous windows)",
        DEMO_FAULTS.len() - o.misses,
        DEMO_FAULTS.len(),
        o.misses,
        o.false_alarms,
        s.anomalies
    );
    println!(
        "inference latency  mean {} µs, max {} µs (host clock, {model})",
        s.latency.mean().unwrap_or(0),
        s.latency.max
    );
    if o.knock_windows > 0 {
        println!("knock              {} windows holding the knock flagged", o.knock_windows);
    }
    if o.wear_windows > 0 {
        println!("wear               {} windows outside the faults flagged", o.wear_windows);
    }
    println!("errors             {:?}", s.errors);
    println!("sensor health      {:?}", s.health);
    let mut json = [0u8; 1024];
    match telemetry::to_json(s, &mut json) {
        Ok(n) => println!("telemetry (JSON)   {}", String::from_utf8_lossy(&json[..n])),
        Err(e) => println!("telemetry (JSON)   not encoded: {e:?}"),
    }
}

/// Both scenarios with one model; returns whether everything the demo promises held.
fn demo<M: Model, F: FeatureStage<[f32; 3], WINDOW, HOP>>(
    models: [M; 3],
    features: impl Fn() -> F,
    config: &VibrationConfig,
    label: &str,
) -> bool
where
    M::Error: std::fmt::Debug,
{
    println!(
        "== healthy bearing with {} injected faults: {DEMO_SAMPLES} samples at {SAMPLE_RATE_HZ} Hz, window {WINDOW} every {}, {label}",
        DEMO_FAULTS.len(),
        vibration::HOP
    );
    let [healthy_model, wearing_model, bad_day_model] = models;
    let healthy = run_scenario(healthy_model, features(), BearingConfig::default(), config, &[]);
    println!();
    summary(&healthy, label);

    println!();
    println!(
        "== wearing bearing: broadband vibration grows from 0.05 to 0.35 m/s² over the minute"
    );
    let wearing = BearingConfig { drift_per_s: 0.005, ..BearingConfig::default() };
    let worn = run_scenario(wearing_model, features(), wearing, config, &[]);
    println!();
    summary(&worn, label);

    println!();
    println!(
        "== healthy bearing, failing sensor: a 20 m/s² knock at t=2s, a ±1e20 m/s² read every 100 from t=10s"
    );
    let bad_day =
        run_scenario(bad_day_model, features(), BearingConfig::default(), config, &BAD_DAY);
    println!();
    summary(&bad_day, label);

    let mut ok = true;
    if healthy.misses > 0 || healthy.false_alarms > 0 || healthy.stats.gated_fraction() < 0.9 {
        eprintln!(
            "bearing_monitor: FAILED: missed {}, false alarms {}, gated {:.3}",
            healthy.misses,
            healthy.false_alarms,
            healthy.stats.gated_fraction()
        );
        ok = false;
    }
    if !healthy.drift_events.is_empty() || !worn.drift_events.iter().any(|e| e.drifting) {
        eprintln!(
            "bearing_monitor: FAILED: drift events healthy {:?}, wearing {:?}",
            healthy.drift_events, worn.drift_events
        );
        ok = false;
    }
    let bad_day_raised = bad_day.health_events.iter().any(|e| e.active);
    if !healthy.health_events.is_empty()
        || !worn.health_events.is_empty()
        || !bad_day_raised
        || bad_day.misses > 0
        || bad_day.false_alarms > 0
    {
        eprintln!(
            "bearing_monitor: FAILED: health events healthy {:?}, wearing {:?}; bad sensor day: missed {}, false alarms {}, health events {:?}",
            healthy.health_events,
            worn.health_events,
            bad_day.misses,
            bad_day.false_alarms,
            bad_day.health_events
        );
        ok = false;
    }
    ok
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let int8 = args.iter().any(|a| a == "--int8");
    let spectral = args.iter().any(|a| a == "--spectral");
    if let Some(i) = args.iter().position(|a| a == "--export-normal") {
        let Some(path) = args.get(i + 1) else {
            eprintln!("bearing_monitor: --export-normal needs a file");
            return ExitCode::FAILURE;
        };
        return match export_normal(path) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("bearing_monitor: {path}: {e}");
                ExitCode::FAILURE
            }
        };
    }
    let ok = if spectral {
        let config = VibrationConfig {
            trigger_score: bearing_kmeans::THRESHOLD,
            ..VibrationConfig::default()
        };
        let model = || vibration::kmeans_model(bearing_kmeans::CENTRES);
        let models = match (model(), model(), model()) {
            (Ok(a), Ok(b), Ok(c)) => [a, b, c],
            (Err(e), _, _) | (_, Err(e), _) | (_, _, Err(e)) => {
                eprintln!("bearing_monitor: k-means model: {e:?}");
                return ExitCode::FAILURE;
            }
        };
        println!(
            "model: k-means, {} centres of {} spectral features (models/bearing_kmeans.rs), fires at distance {}",
            bearing_kmeans::K,
            bearing_kmeans::FEATURES,
            bearing_kmeans::THRESHOLD
        );
        let stage = || vibration::spectral_stage(SAMPLE_RATE_HZ);
        demo(models, stage, &config, "spectral features, k-means")
    } else if int8 {
        let model = match TfLiteModel::load(INT8_MODEL) {
            Ok(m) => m,
            Err(e) => {
                eprintln!("bearing_monitor: model: {e}");
                return ExitCode::FAILURE;
            }
        };
        let arena_bytes = match model.arena_size() {
            Ok(n) => n,
            Err(e) => {
                eprintln!("bearing_monitor: model: {e}");
                return ExitCode::FAILURE;
            }
        };
        let ops: Vec<&str> = model.operators().map(|o| o.name()).collect();
        println!(
            "model: models/bearing_classifier.tflite, {} bytes, arena {arena_bytes} bytes, operators {}",
            INT8_MODEL.len(),
            ops.join(" > ")
        );
        // One arena per scenario, each exactly the size the planner reports.
        let mut arenas = [vec![0u8; arena_bytes], vec![0u8; arena_bytes], vec![0u8; arena_bytes]];
        let [arena_a, arena_b, arena_c] = &mut arenas;
        let models = match (
            Interpreter::new(&model, arena_a),
            Interpreter::new(&model, arena_b),
            Interpreter::new(&model, arena_c),
        ) {
            (Ok(a), Ok(b), Ok(c)) => [a, b, c],
            (Err(e), _, _) | (_, Err(e), _) | (_, _, Err(e)) => {
                eprintln!("bearing_monitor: interpreter: {e}");
                return ExitCode::FAILURE;
            }
        };
        demo(models, || Raw, &VibrationConfig::classifier(), "int8 TFLite classifier")
    } else {
        let config = VibrationConfig::default();
        let models = match (
            vibration::zscore_model(&config),
            vibration::zscore_model(&config),
            vibration::zscore_model(&config),
        ) {
            (Ok(a), Ok(b), Ok(c)) => [a, b, c],
            (Err(e), _, _) | (_, Err(e), _) | (_, _, Err(e)) => {
                eprintln!("bearing_monitor: z-score model: {e:?}");
                return ExitCode::FAILURE;
            }
        };
        demo(models, || Raw, &config, "streaming z-score model")
    };
    if ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
