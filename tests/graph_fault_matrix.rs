//! The fault matrix: the vibration reflex on the simulated bearing (60 s, five bearing faults)
//! while its *sensor* fails, for each sensor fault × when it starts — during the z-score model's
//! warm-up, during a healthy phase, during a bearing fault. Each cell reports the bearing faults
//! detected and missed, the false alarms, and the health and drift events raised.
//!
//! A cell is *silent* when a bearing fault is missed and nothing was raised: the worst outcome, a
//! monitor that looks fine while it is blind. No cell may be silent; the cells a deployment meets
//! (a spike while learning, a frozen sensor, a dead axis, out-of-range values) are checked too.
//!
//!     cargo test --release --test graph_fault_matrix -- --nocapture   # prints the table
//!
//! docs/reliability.md carries the table this prints.

use edge_reflex::action::{Action, Decision, Scores};
use edge_reflex::drift::{DriftConfig, DriftEvent};
use edge_reflex::graph::Step;
use edge_reflex::health::{HealthEvent, HealthKind};
use edge_reflex::sensor::FnSensor;
use edge_reflex::sim::{
    Bearing, BearingConfig, FaultInjector, SensorEpisode, SensorFault, DEMO_FAULTS, DEMO_SAMPLES,
};
use edge_reflex::vibration::{self, VibrationConfig, WINDOW};
use std::convert::Infallible;

/// Remembers what the graph raised besides decisions.
#[derive(Default)]
struct Log {
    health: Vec<HealthEvent>,
    drift: Vec<DriftEvent>,
}

impl Action for Log {
    type Error = Infallible;
    fn act(&mut self, _: &Decision, _: &Scores<'_>) -> Result<(), Infallible> {
        Ok(())
    }
    fn on_drift(&mut self, event: &DriftEvent) -> Result<(), Infallible> {
        self.drift.push(*event);
        Ok(())
    }
    fn on_health(&mut self, event: &HealthEvent) -> Result<(), Infallible> {
        self.health.push(*event);
        Ok(())
    }
}

/// What one cell found.
#[derive(Debug)]
struct Cell {
    detected: usize,
    missed: usize,
    false_alarms: u32,
    health: Vec<HealthEvent>,
    drift: Vec<DriftEvent>,
}

impl Cell {
    fn health_raised(&self) -> usize {
        self.health.iter().filter(|e| e.active).count()
    }

    fn silent(&self) -> bool {
        self.missed > 0 && self.health_raised() == 0
    }
}

/// Runs the demo with `episodes` applied to the sensor.
fn run(episodes: &[SensorEpisode]) -> Cell {
    let config = VibrationConfig::default();
    let mut bearing = Bearing::new(BearingConfig::default(), &DEMO_FAULTS);
    let clean = FnSensor::new(move || Ok::<_, ()>(bearing.next_sample()));
    let sensor = FaultInjector::with_episodes(clean, episodes);
    let model = vibration::zscore_model(&config).unwrap();
    let mut graph = vibration::graph(sensor, model, Log::default(), || 0u32, &config)
        .unwrap()
        .with_drift_monitor(DriftConfig::default());
    let mut hit = [false; DEMO_FAULTS.len()];
    let mut false_alarms = 0;
    // One step per real sample: the injector alters reads, it inserts none.
    for i in 0..DEMO_SAMPLES {
        if let Ok(Step::Inferred(d)) = graph.step() {
            if d.triggered {
                let first = (i + 1).saturating_sub(WINDOW as u32);
                match DEMO_FAULTS.iter().position(|f| f.overlaps(first, i)) {
                    Some(k) => hit[k] = true,
                    None => false_alarms += 1,
                }
            }
        }
    }
    let detected = hit.iter().filter(|&&h| h).count();
    let log = std::mem::take(graph.action_mut());
    let stats = graph.stats();
    assert_eq!(stats.health.events as usize, log.health.len());
    assert_eq!(stats.drift_events as usize, log.drift.len());
    Cell {
        detected,
        missed: DEMO_FAULTS.len() - detected,
        false_alarms,
        health: log.health,
        drift: log.drift,
    }
}

/// When a sensor fault starts: during warm-up (t = 2 s; the model learns until about 6 s),
/// between bearing faults (t = 25 s), inside bearing fault 3 (31.0..31.4 s).
const STARTS: [(&str, u32); 3] = [("warm-up", 2_000), ("healthy", 25_000), ("in fault", 31_100)];

/// The sensor faults: name, fault, length in samples, and whether a deployment must survive it.
fn faults() -> [(&'static str, SensorFault, u32, bool); 6] {
    [
        // 20 m/s² on X, the spike; inside the ±2 g sensor's rails, so not refused.
        ("spike 20 m/s²", SensorFault::Spike { channel: 0, value: 20.0 }, 1, true),
        ("stuck (frozen)", SensorFault::Stuck, u32::MAX, true),
        ("dead axis X=0", SensorFault::DeadAxis { channel: 0, value: 0.0 }, u32::MAX, true),
        ("±1e20 every 100", SensorFault::OutOfRange { value: 1e20, every: 100 }, u32::MAX, true),
        ("dropout 2 s", SensorFault::Dropout, 2_000, false),
        // +0.5 % sensitivity per second: +29 % by the end of the run.
        ("gain +0.5 %/s", SensorFault::GainDrift { per_sample: 5e-6 }, u32::MAX, false),
    ]
}

fn kinds(cell: &Cell) -> String {
    let mut names: Vec<String> = Vec::new();
    for e in cell.health.iter().filter(|e| e.active) {
        let name = match (e.kind, e.channel) {
            (HealthKind::DeadAxis, Some(c)) => format!("DeadAxis({c})"),
            (kind, _) => format!("{kind:?}"),
        };
        if !names.contains(&name) {
            names.push(name);
        }
    }
    if names.is_empty() {
        "-".into()
    } else {
        names.join(", ")
    }
}

fn drift_kinds(cell: &Cell) -> String {
    let mut names: Vec<String> = Vec::new();
    for e in cell.drift.iter().filter(|e| e.drifting) {
        let name = format!("{:?}", e.kind);
        if !names.contains(&name) {
            names.push(name);
        }
    }
    if names.is_empty() {
        "-".into()
    } else {
        names.join(", ")
    }
}

#[test]
fn no_sensor_fault_leaves_the_reflex_silent() {
    let baseline = run(&[]);
    assert_eq!((baseline.detected, baseline.false_alarms), (DEMO_FAULTS.len(), 0));
    assert!(baseline.health.is_empty() && baseline.drift.is_empty(), "{baseline:?}");

    let mut rows = vec![format!(
        "| {:<16} | {:<8} | {:>8} | {:>6} | {:>12} | {:<22} | {:<24} |",
        "sensor fault",
        "starts",
        "detected",
        "missed",
        "false alarms",
        "health events",
        "drift events"
    )];
    rows.push(format!(
        "|{}|{}|{}|{}|{}|{}|{}|",
        "-".repeat(18),
        "-".repeat(10),
        "-".repeat(9) + ":",
        "-".repeat(7) + ":",
        "-".repeat(13) + ":",
        "-".repeat(24),
        "-".repeat(26)
    ));
    let row = |name: &str, starts: &str, c: &Cell| {
        format!(
            "| {:<16} | {:<8} | {:>6}/{} | {:>6} | {:>12} | {:<22} | {:<24} |",
            name,
            starts,
            c.detected,
            DEMO_FAULTS.len(),
            c.missed,
            c.false_alarms,
            kinds(c),
            drift_kinds(c)
        )
    };
    rows.push(row("none", "-", &baseline));
    let mut silent = Vec::new();
    let mut required = Vec::new();
    for (name, fault, len, needed) in faults() {
        for (starts, start) in STARTS {
            let cell = run(&[SensorEpisode { fault, start, len }]);
            rows.push(row(name, starts, &cell));
            if cell.silent() {
                silent.push(format!("{name} / {starts}"));
            }
            if needed && cell.missed > 0 && cell.health_raised() == 0 {
                required.push(format!("{name} / {starts}: {cell:?}"));
            }
            match fault {
                // A spike inside the sensor's range is a vibration, not a sensor failure: the
                // robust warm-up must keep every bearing fault detectable.
                SensorFault::Spike { .. } => {
                    assert_eq!(cell.detected, DEMO_FAULTS.len(), "{name} / {starts}")
                }
                // Refused samples never reach the window: the decisions are the clean ones.
                SensorFault::OutOfRange { .. } => {
                    assert_eq!(
                        (cell.detected, cell.false_alarms),
                        (DEMO_FAULTS.len(), 0),
                        "{name} / {starts}"
                    );
                    assert!(cell.health.iter().any(|e| e.kind == HealthKind::OutOfRange));
                }
                SensorFault::Stuck => {
                    assert!(cell.health.iter().any(|e| e.kind == HealthKind::Stuck && e.active));
                    assert!(cell.drift.iter().any(|e| e.drifting), "{name} / {starts}: {cell:?}");
                }
                SensorFault::DeadAxis { .. } => assert!(cell
                    .health
                    .iter()
                    .any(|e| e.kind == HealthKind::DeadAxis && e.active && e.channel == Some(0))),
                SensorFault::Dropout => {
                    assert!(cell.health.iter().any(|e| e.kind == HealthKind::Dropout && e.active))
                }
                SensorFault::GainDrift { .. } => {}
            }
        }
    }
    println!("\nfault matrix: {} bearing faults in {DEMO_SAMPLES} samples\n", DEMO_FAULTS.len());
    for r in &rows {
        println!("{r}");
    }
    assert!(silent.is_empty(), "silent cells: {silent:?}");
    assert!(required.is_empty(), "{required:#?}");
}
