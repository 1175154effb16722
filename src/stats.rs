//! Counters the graph keeps as it runs: what happened to each sample, errors per stage, and
//! inference latency. They are what telemetry reports and what tells a user how much compute the
//! gate saved. This module does not send or encode anything.

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
        Latency { min: u32::MAX, max: 0, total: 0, count: 0 }
    }
}

impl Latency {
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

/// What the graph has done since it started (or was last reset). Counters saturate.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
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
}

impl Stats {
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
    fn counters_saturate() {
        let mut c = u32::MAX;
        bump(&mut c);
        assert_eq!(c, u32::MAX);
    }
}
