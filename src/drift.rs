//! Drift detection on the device: has the machine (or the sensor) moved away from the baseline
//! it had when the reflex was installed?
//!
//! A [`DriftMonitor`] watches every ready window — whether or not the gate let it through — and
//! tracks four signals against a baseline learned over the first `warmup_windows` windows:
//!
//! | [`DriftKind`] | signal per window | drifting when |
//! |---|---|---|
//! | `InputLevel` | mean level of the window | EWMA leaves `baseline ± k·σ` |
//! | `InputEnergy` | standard deviation of the window's level | EWMA leaves `baseline ± k·σ` |
//! | `AnomalyRate` | 1 if the window's inference triggered, else 0 | EWMA exceeds baseline rate + bound |
//! | `InputFrozen` | the window's level does not move at all (peak-to-peak exactly 0) | at once, if the baseline moved (mean energy above `min_sigma`) |
//!
//! The baseline (mean μ and standard deviation σ of each signal, and the anomaly rate) comes from
//! Welford's algorithm over the warm-up; afterwards each signal is smoothed with an exponentially
//! weighted moving average `m ← m + α (x' − m)` with `x' = clamp(x, μ − 2b, μ + 2b)`, where `b`
//! is the signal's bound (α = [`DriftConfig::smoothing`], a time constant of about 1/α windows).
//! Clamping makes the average robust: a burst shorter than `1/(2α)` windows — a fault episode —
//! cannot move it past the bound however loud it is, but a slow, lasting shift does. σ is floored
//! at [`DriftConfig::min_sigma`] so a perfectly steady baseline does not make every tiny change a
//! drift. A signal stops drifting when its EWMA comes back within half
//! the bound (hysteresis). Each change is reported once, as a [`DriftEvent`].
//!
//! A frozen sensor is its own signal: its energy falls to exactly zero, a fall smaller than the
//! energy bound when the machine is quiet, so the EWMA alone would never call it drift. A window
//! that does not move at all after a baseline that did is `InputFrozen` right away; the first
//! window that moves again ends it.
//!
//! This module does not decide what to do about drift: the graph counts events in
//! [`Stats`](crate::stats::Stats) and passes them to [`Action::on_drift`](crate::action::Action::on_drift).

use crate::window::Features;

/// Settings of the drift monitor.
#[derive(Clone, Copy, Debug, PartialEq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct DriftConfig {
    /// Windows that form the baseline (at least 2).
    pub warmup_windows: u32,
    /// EWMA weight α of each new window, in (0, 1].
    pub smoothing: f32,
    /// `k`: how many baseline standard deviations the input EWMAs may move.
    pub sigmas: f32,
    /// Floor of the baseline standard deviations, in input units.
    pub min_sigma: f32,
    /// How far above its baseline the anomaly rate may rise (absolute, e.g. 0.2 = 20 points).
    pub anomaly_rate_bound: f32,
}

impl Default for DriftConfig {
    /// 200 warm-up windows, α = 0.005 (~200 windows), 6 σ, σ ≥ 0.01, anomaly rate +0.2.
    fn default() -> Self {
        DriftConfig {
            warmup_windows: 200,
            smoothing: 0.005,
            sigmas: 6.0,
            min_sigma: 0.01,
            anomaly_rate_bound: 0.2,
        }
    }
}

/// Which signal drifted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum DriftKind {
    /// The mean level of the input (an offset, a tilt, a sensor fault).
    InputLevel,
    /// The vibration energy of the input (wear, looseness).
    InputEnergy,
    /// The share of windows the model flags (the detector fires "too often").
    AnomalyRate,
    /// The input stopped moving altogether (a frozen sensor, a stale register).
    InputFrozen,
}

/// A change of drift state of one signal.
#[derive(Clone, Copy, Debug, PartialEq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct DriftEvent {
    /// The signal.
    pub kind: DriftKind,
    /// `true` when drift starts, `false` when the signal is back within bounds.
    pub drifting: bool,
    /// The signal's smoothed value now.
    pub value: f32,
    /// The signal's baseline.
    pub baseline: f32,
}

/// Where the monitor is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum DriftStatus {
    /// Still learning the baseline.
    Learning,
    /// Every signal within bounds.
    Stable,
    /// At least one signal out of bounds.
    Drifting,
}

#[derive(Clone, Copy, Debug, Default)]
struct Signal {
    count: u32,
    mean: f32,
    m2: f32,
    ewma: f32,
    drifting: bool,
}

impl Signal {
    fn learn(&mut self, x: f32) {
        self.count += 1;
        let d = x - self.mean;
        self.mean += d / self.count as f32;
        self.m2 += d * (x - self.mean);
        self.ewma = self.mean;
    }

    fn sigma(&self, floor: f32) -> f32 {
        let var = if self.count > 1 { self.m2 / (self.count - 1) as f32 } else { 0.0 };
        crate::math::sqrt(var).max(floor)
    }

    /// Smooths `x` in and returns the new drifting state given the allowed deviation.
    fn track(&mut self, x: f32, alpha: f32, bound: f32, two_sided: bool) -> bool {
        // Winsorize: one window can pull the average by at most α·2·bound, so a fault burst of
        // fewer than 1/(2α) windows cannot look like drift on its own.
        let x = x.clamp(self.mean - 2.0 * bound, self.mean + 2.0 * bound);
        self.ewma += alpha * (x - self.ewma);
        let dev = self.ewma - self.mean;
        let dev = if two_sided { dev.abs() } else { dev };
        if self.drifting {
            dev > 0.5 * bound
        } else {
            dev > bound
        }
    }
}

/// Watches windows and decisions for drift; see the [module docs](self).
#[derive(Clone, Debug)]
pub struct DriftMonitor {
    config: DriftConfig,
    windows: u32,
    level: Signal,
    energy: Signal,
    rate: Signal,
    frozen: bool,
}

impl DriftMonitor {
    /// A monitor that starts learning its baseline now.
    pub fn new(config: DriftConfig) -> Self {
        let config = DriftConfig {
            warmup_windows: config.warmup_windows.max(2),
            smoothing: if config.smoothing > 0.0 && config.smoothing <= 1.0 {
                config.smoothing
            } else {
                DriftConfig::default().smoothing
            },
            ..config
        };
        DriftMonitor {
            config,
            windows: 0,
            level: Signal::default(),
            energy: Signal::default(),
            rate: Signal::default(),
            frozen: false,
        }
    }

    /// The settings.
    pub fn config(&self) -> &DriftConfig {
        &self.config
    }

    /// Learning, stable or drifting.
    pub fn status(&self) -> DriftStatus {
        if self.windows < self.config.warmup_windows {
            DriftStatus::Learning
        } else if self.level.drifting || self.energy.drifting || self.rate.drifting || self.frozen {
            DriftStatus::Drifting
        } else {
            DriftStatus::Stable
        }
    }

    /// Takes one ready window (`anomalous`: its inference triggered; `false` if gated out) and
    /// reports the first signal whose drift state changed, if any. Non-finite features are ignored.
    pub fn observe(&mut self, features: &Features, anomalous: bool) -> Option<DriftEvent> {
        if !features.mean.is_finite() || !features.std_dev.is_finite() {
            return None;
        }
        let r = if anomalous { 1.0 } else { 0.0 };
        if self.windows < self.config.warmup_windows {
            self.windows += 1;
            self.level.learn(features.mean);
            self.energy.learn(features.std_dev);
            self.rate.learn(r);
            return None;
        }
        let c = self.config;
        let level_bound = c.sigmas * self.level.sigma(c.min_sigma);
        let energy_bound = c.sigmas * self.energy.sigma(c.min_sigma);
        let level = self.level.track(features.mean, c.smoothing, level_bound, true);
        let energy = self.energy.track(features.std_dev, c.smoothing, energy_bound, true);
        let rate = self.rate.track(r, c.smoothing, c.anomaly_rate_bound, false);
        // Peak-to-peak is exact for a constant window (the running standard deviation keeps a
        // rounding residue, so it is not the test).
        let frozen = features.peak_to_peak == 0.0 && self.energy.mean > c.min_sigma;
        if frozen != self.frozen {
            self.frozen = frozen;
            return Some(DriftEvent {
                kind: DriftKind::InputFrozen,
                drifting: frozen,
                value: features.std_dev,
                baseline: self.energy.mean,
            });
        }
        for (kind, now) in [
            (DriftKind::InputLevel, level),
            (DriftKind::InputEnergy, energy),
            (DriftKind::AnomalyRate, rate),
        ] {
            let signal = match kind {
                DriftKind::InputLevel | DriftKind::InputFrozen => &mut self.level,
                DriftKind::InputEnergy => &mut self.energy,
                DriftKind::AnomalyRate => &mut self.rate,
            };
            if signal.drifting != now {
                signal.drifting = now;
                return Some(DriftEvent {
                    kind,
                    drifting: now,
                    value: signal.ewma,
                    baseline: signal.mean,
                });
            }
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn window(mean: f32, std_dev: f32) -> Features {
        Features { mean, std_dev, peak_to_peak: 4.0 * std_dev, ..Default::default() }
    }

    fn config() -> DriftConfig {
        DriftConfig {
            warmup_windows: 10,
            smoothing: 0.1,
            sigmas: 4.0,
            min_sigma: 0.01,
            anomaly_rate_bound: 0.2,
        }
    }

    #[test]
    fn learns_then_stays_stable_on_the_baseline() {
        let mut m = DriftMonitor::new(config());
        for i in 0..10 {
            assert_eq!(m.status(), DriftStatus::Learning);
            assert_eq!(m.observe(&window(9.8 + 0.01 * (i % 3) as f32, 0.05), false), None);
        }
        for i in 0..1000 {
            assert_eq!(m.observe(&window(9.8 + 0.01 * (i % 3) as f32, 0.05), false), None);
        }
        assert_eq!(m.status(), DriftStatus::Stable);
    }

    #[test]
    fn a_short_burst_is_not_drift_but_a_slow_shift_is() {
        let mut m = DriftMonitor::new(config());
        for _ in 0..10 {
            m.observe(&window(9.8, 0.05), false);
        }
        // Three loud windows: the EWMA barely moves (bound = 4 × 0.01).
        for _ in 0..3 {
            assert_eq!(m.observe(&window(9.8, 0.1), false), None);
        }
        for _ in 0..50 {
            m.observe(&window(9.8, 0.05), false);
        }
        // Energy creeps up by 0.001 per window: drift reported once, with its values.
        let mut events = std::vec::Vec::new();
        for i in 0..200 {
            if let Some(e) = m.observe(&window(9.8, 0.05 + 0.001 * i as f32), false) {
                events.push((i, e));
            }
        }
        assert_eq!(events.len(), 1, "{events:?}");
        let (_, e) = events[0];
        assert_eq!((e.kind, e.drifting), (DriftKind::InputEnergy, true));
        assert!(e.value > e.baseline + 0.04);
        assert_eq!(m.status(), DriftStatus::Drifting);
        // Back to normal: one "ended" event.
        let ended = (0..200).find_map(|_| m.observe(&window(9.8, 0.05), false));
        assert_eq!(ended.map(|e| (e.kind, e.drifting)), Some((DriftKind::InputEnergy, false)));
    }

    #[test]
    fn anomaly_rate_drift_is_one_sided() {
        let mut m = DriftMonitor::new(config());
        for i in 0..10 {
            m.observe(&window(9.8, 0.05), i == 0); // baseline rate 0.1
        }
        // Fewer anomalies than the baseline is not drift.
        for _ in 0..100 {
            assert_eq!(m.observe(&window(9.8, 0.05), false), None);
        }
        let e = (0..100).find_map(|_| m.observe(&window(9.8, 0.05), true)).unwrap();
        assert_eq!((e.kind, e.drifting), (DriftKind::AnomalyRate, true));
        assert!(e.value > 0.3);
    }

    #[test]
    fn a_frozen_input_is_drift_at_once_and_ends_when_it_moves() {
        let mut m = DriftMonitor::new(config());
        let live = Features { mean: 9.8, std_dev: 0.05, peak_to_peak: 0.2, ..Default::default() };
        let frozen = Features { mean: 9.8, std_dev: 0.0, peak_to_peak: 0.0, ..Default::default() };
        for _ in 0..20 {
            assert_eq!(m.observe(&live, false), None);
        }
        let e = m.observe(&frozen, false).unwrap();
        assert_eq!((e.kind, e.drifting, e.value), (DriftKind::InputFrozen, true, 0.0));
        assert_eq!(m.status(), DriftStatus::Drifting);
        assert_eq!(m.observe(&frozen, false), None);
        let e = m.observe(&live, false).unwrap();
        assert_eq!((e.kind, e.drifting), (DriftKind::InputFrozen, false));
        // A baseline that never moved (a test rig at rest) does not call stillness frozen.
        let mut still = DriftMonitor::new(config());
        for _ in 0..30 {
            assert_eq!(still.observe(&frozen, false), None);
        }
    }

    #[test]
    fn nan_features_are_ignored_and_bad_smoothing_is_replaced() {
        let mut m = DriftMonitor::new(DriftConfig { smoothing: f32::NAN, ..config() });
        assert_eq!(m.config().smoothing, DriftConfig::default().smoothing);
        assert_eq!(m.observe(&window(f32::NAN, 0.0), false), None);
        assert_eq!(m.status(), DriftStatus::Learning);
    }
}
