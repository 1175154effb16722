//! Drift: a bearing whose broadband vibration slowly grows raises a drift event (and the
//! detector starts firing more often), while the healthy demo run raises none.

use edge_reflex::action::{Action, Decision, Scores};
use edge_reflex::drift::{DriftConfig, DriftEvent, DriftKind, DriftStatus};
use edge_reflex::sensor::FnSensor;
use edge_reflex::sim::{Bearing, BearingConfig, DEMO_FAULTS, DEMO_SAMPLES};
use edge_reflex::vibration::{self, VibrationConfig};

/// Records drift events.
#[derive(Default)]
struct DriftLog(Vec<(u32, DriftEvent)>, u32);

impl Action for &mut DriftLog {
    type Error = core::convert::Infallible;
    fn act(&mut self, _: &Decision, _: &Scores<'_>) -> Result<(), Self::Error> {
        Ok(())
    }
    fn on_drift(&mut self, event: &DriftEvent) -> Result<(), Self::Error> {
        self.0.push((self.1, *event));
        Ok(())
    }
}

fn run(
    bearing: BearingConfig,
    log: &mut DriftLog,
) -> (edge_reflex::stats::Stats, Option<DriftStatus>) {
    let mut b = Bearing::new(bearing, &DEMO_FAULTS);
    let sensor = FnSensor::new(move || Ok::<_, ()>(b.next_sample()));
    let config = VibrationConfig::default();
    let mut g = vibration::graph(
        sensor,
        vibration::zscore_model(&config).unwrap(),
        &mut *log,
        || 0u32,
        &config,
    )
    .unwrap()
    .with_drift_monitor(DriftConfig::default());
    for i in 0..DEMO_SAMPLES {
        g.step().unwrap();
        g.action_mut().1 = i;
    }
    (*g.stats(), g.drift_status())
}

#[test]
fn healthy_run_with_faults_has_no_drift() {
    let mut log = DriftLog::default();
    let (stats, status) = run(BearingConfig::default(), &mut log);
    assert_eq!(log.0, vec![]);
    assert_eq!(stats.drift_events, 0);
    assert_eq!(status, Some(DriftStatus::Stable));
}

#[test]
fn growing_vibration_raises_an_energy_drift_event() {
    let mut log = DriftLog::default();
    // Noise std grows from 0.05 to 0.35 m/s² over the minute.
    let wearing = BearingConfig { drift_per_s: 0.005, ..BearingConfig::default() };
    let (stats, status) = run(wearing, &mut log);
    let (at, first) = log.0[0];
    assert_eq!((first.kind, first.drifting), (DriftKind::InputEnergy, true));
    assert!(first.value > first.baseline);
    // Raised after the warm-up (200 windows × 32 samples) and well before the end.
    assert!(at > 6_400 && at < 40_000, "drift at sample {at}");
    assert_eq!(stats.drift_events as usize, log.0.len());
    assert_eq!(status, Some(DriftStatus::Drifting));
    // The symptom the seed describes: the gate opens far more often as the machine wears.
    let mut healthy = DriftLog::default();
    let (base, _) = run(BearingConfig::default(), &mut healthy);
    assert!(stats.inferences > 2 * base.inferences, "{} vs {}", stats.inferences, base.inferences);
}
