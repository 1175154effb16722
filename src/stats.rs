//! Counters the graph keeps as it runs: what happened to each sample, errors per stage, and
//! inference latency. They are what telemetry reports and what tells a user how much compute the
//! gate saved. This module does not send or encode anything.

use crate::health::HealthCounts;

/// Errors counted per stage.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct StageErrors {
    /// Sensor reads that failed (bus errors, wrong device...).
    pub sensor: u32,
    /// Samples refused by the window (NaN or infinite channels).
    pub window: u32,
    /// Windows that did not fit the model's input.
    pub quantizer: u32,
    /// Failed inferences.
    pub model: u32,
    /// Failed actions.
    pub action: u32,
}

impl StageErrors {
    /// All errors together.
    pub fn total(&self) -> u32 {
        self.sensor
            .saturating_add(self.window)
            .saturating_add(self.quantizer)
            .saturating_add(self.model)
            .saturating_add(self.action)
    }
}

/// Minimum, mean and maximum of a duration in µs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Latency {
    /// Shortest, µs (`u32::MAX` before the first measurement).
    pub min: u32,
    /// Longest, µs.
    pub max: u32,
    /// Sum of all measurements, µs.
    pub total: u64,
    /// Number of measurements.
    pub count: u32,
}

impl Default for Latency {
    fn default() -> Self {
        Self::new()
    }
}

impl Latency {
    /// No measurements yet.
    pub const fn new() -> Self {
        Latency { min: u32::MAX, max: 0, total: 0, count: 0 }
    }

    /// Adds one measurement.
    pub fn record(&mut self, micros: u32) {
        self.min = self.min.min(micros);
        self.max = self.max.max(micros);
        self.total = self.total.saturating_add(micros as u64);
        self.count = self.count.saturating_add(1);
    }

    /// Mean in µs, `None` before the first measurement.
    pub fn mean(&self) -> Option<u32> {
        if self.count == 0 {
            None
        } else {
            Some((self.total / self.count as u64) as u32)
        }
    }

    /// Minimum in µs, `None` before the first measurement.
    pub fn min(&self) -> Option<u32> {
        (self.count > 0).then_some(self.min)
    }
}

/// Running mean and variance of a value (Welford's algorithm): exact to f32 rounding, O(1) memory.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Moments {
    /// Number of values.
    pub count: u32,
    /// Their mean.
    pub mean: f32,
    /// Sum of squared deviations from the mean (`variance × (count − 1)`).
    pub sum_sq_dev: f32,
}

impl Moments {
    /// Adds one value; non-finite values are ignored.
    pub fn record(&mut self, x: f32) {
        if !x.is_finite() {
            return;
        }
        self.count = self.count.saturating_add(1);
        let d = x - self.mean;
        self.mean += d / self.count as f32;
        self.sum_sq_dev += d * (x - self.mean);
    }

    /// Sample variance, 0 with fewer than two values.
    pub fn variance(&self) -> f32 {
        if self.count < 2 {
            0.0
        } else {
            self.sum_sq_dev / (self.count - 1) as f32
        }
    }
}

/// What the graph has done since it started (or was last reset). Counters saturate.
#[derive(Clone, Copy, Debug, PartialEq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Stats {
    /// Samples taken into the window.
    pub samples: u32,
    /// Windows that became ready (every `HOP` samples once full).
    pub windows: u32,
    /// Windows the model ran on.
    pub inferences: u32,
    /// Windows the gate refused.
    pub gated_out: u32,
    /// Inferences whose decision triggered.
    pub anomalies: u32,
    /// Errors per stage.
    pub errors: StageErrors,
    /// Time from quantizing the window to the model's output, µs.
    pub latency: Latency,
    /// Mean level of each ready window (e.g. acceleration magnitude incl. gravity).
    pub input_level: Moments,
    /// Standard deviation of the level within each ready window (vibration energy).
    pub input_energy: Moments,
    /// The decision score of each inference.
    pub score: Moments,
    /// Drift state changes reported by the drift monitor (see [`drift`](crate::drift)).
    pub drift_events: u32,
    /// What the sensor health monitor found (see [`health`](crate::health)).
    #[cfg_attr(feature = "serde", serde(default))]
    pub health: HealthCounts,
}

impl Default for Stats {
    fn default() -> Self {
        Self::new()
    }
}

impl Stats {
    /// All zero (usable in a `static`).
    pub const fn new() -> Self {
        const M: Moments = Moments { count: 0, mean: 0.0, sum_sq_dev: 0.0 };
        Stats {
            samples: 0,
            windows: 0,
            inferences: 0,
            gated_out: 0,
            anomalies: 0,
            errors: StageErrors { sensor: 0, window: 0, quantizer: 0, model: 0, action: 0 },
            latency: Latency::new(),
            input_level: M,
            input_energy: M,
            score: M,
            drift_events: 0,
            health: HealthCounts::new(),
        }
    }

    /// Fraction of ready windows that the gate kept away from the model (0 when none were ready).
    pub fn gated_fraction(&self) -> f32 {
        if self.windows == 0 {
            0.0
        } else {
            self.gated_out as f32 / self.windows as f32
        }
    }
}

pub(crate) fn bump(counter: &mut u32) {
    *counter = counter.saturating_add(1);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn latency_min_mean_max() {
        let mut l = Latency::default();
        assert_eq!((l.min(), l.mean()), (None, None));
        for v in [30, 10, 20] {
            l.record(v);
        }
        assert_eq!((l.min(), l.mean(), l.max), (Some(10), Some(20), 30));
    }

    #[test]
    fn moments_match_direct_computation() {
        let mut m = Moments::default();
        let xs = [2.0f32, 4.0, 4.0, 4.0, 5.0, 5.0, 7.0, 9.0];
        for x in xs {
            m.record(x);
        }
        m.record(f32::NAN);
        assert_eq!(m.count, 8);
        assert_eq!(m.mean, 5.0);
        assert!((m.variance() - 32.0 / 7.0).abs() < 1e-6);
    }

    #[test]
    fn counters_saturate() {
        let mut c = u32::MAX;
        bump(&mut c);
        assert_eq!(c, u32::MAX);
    }
}
