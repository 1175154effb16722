//! Duty cycling: how often the MCU wakes, how long it stays awake, and what that costs in current.
//!
//! The reflex saves power three ways: the accelerometer batches samples in its FIFO so the MCU
//! wakes once per batch instead of once per sample; the [`Gate`] keeps most
//! windows away from the model; and a minimum interval rate-limits inferences. [`DutyCycle`] makes
//! those choices explicit, and [`estimate`] turns a run's [`Stats`] plus a chip's
//! [`PowerProfile`] into the time awake and the average current:
//!
//! ```text
//! wakes      = samples / batch
//! awake_s    = wakes · (t_wake + t_bus_per_wake)                    (wake-up, FIFO status, burst start)
//!            + samples · t_bus_per_sample                            (bytes on the bus)
//!            + (samples · c_sample + windows · c_window + inferences · c_inference) / f_cpu
//! duty       = awake_s / run_s
//! I_average  = I_sleep + duty · (I_run − I_sleep)
//! ```
//!
//! `c_*` are CPU cycles per event (measured with `scripts/bench.sh` under QEMU, where one
//! instruction stands for one cycle), `t_*` come from the bus clock, currents from the datasheet.
//! `docs/power.md` works the numbers for an nRF52840 with `cargo run --example power_budget`.
//! This module does not put the MCU to sleep (the executor's WFE does) and does not measure current.

use crate::gate::{And, Gate, GateExt, MinInterval};
use crate::stats::Stats;

/// The duty-cycle policy of a reflex: sampling, batching and the inference rate limit.
#[derive(Clone, Copy, Debug, PartialEq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct DutyCycle {
    /// Sensor output data rate, Hz.
    pub sample_rate_hz: f32,
    /// Samples per wake-up: the FIFO watermark (1 = wake for every sample).
    pub batch: u32,
    /// Minimum time between two inferences, µs (0 = no limit).
    pub min_inference_interval_us: u32,
}

impl DutyCycle {
    /// Wake-ups per second.
    pub fn wakes_per_second(&self) -> f32 {
        self.sample_rate_hz / self.batch.max(1) as f32
    }

    /// `gate`, rate-limited to one inference per `min_inference_interval_us`.
    pub fn rate_limited<G: Gate>(&self, gate: G) -> And<G, MinInterval> {
        gate.and(MinInterval::new(self.min_inference_interval_us))
    }
}

/// What a chip and its board cost, from the datasheet and measurements.
#[derive(Clone, Copy, Debug, PartialEq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct PowerProfile {
    /// CPU clock, Hz.
    pub cpu_hz: f32,
    /// Current while asleep waiting for an interrupt (RAM retained, RTC running), µA.
    pub sleep_ua: f32,
    /// Current while the CPU runs, µA.
    pub run_ua: f32,
    /// Wake-up latency plus going back to sleep, µs per wake.
    pub wake_us: f32,
    /// Fixed bus time per wake (status read, burst set-up), µs.
    pub bus_us_per_wake: f32,
    /// Bus time per sample moved (6 bytes), µs.
    pub bus_us_per_sample: f32,
    /// CPU cycles to push one sample into the window.
    pub cycles_per_sample: f32,
    /// CPU cycles for a ready window: features and the gate.
    pub cycles_per_window: f32,
    /// CPU cycles for one inference: quantize, model, decision, action.
    pub cycles_per_inference: f32,
}

/// Where the time and the charge went.
#[derive(Clone, Copy, Debug, PartialEq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct PowerEstimate {
    /// Length of the run, s.
    pub run_s: f32,
    /// Wake-ups.
    pub wakes: f32,
    /// Awake for wake-up overhead and bus transfers, s.
    pub awake_io_s: f32,
    /// Awake buffering samples and gating windows, s.
    pub awake_graph_s: f32,
    /// Awake running the model, s.
    pub awake_inference_s: f32,
    /// Fraction of the time awake.
    pub duty: f32,
    /// Average current, µA.
    pub average_ua: f32,
}

impl PowerEstimate {
    /// Total time awake, s.
    pub fn awake_s(&self) -> f32 {
        self.awake_io_s + self.awake_graph_s + self.awake_inference_s
    }
}

/// Estimates time awake and average current for a run that produced `stats` in `run_s` seconds
/// under `policy` on the chip described by `profile` (formula in the [module docs](self)).
pub fn estimate(stats: &Stats, run_s: f32, policy: &DutyCycle, p: &PowerProfile) -> PowerEstimate {
    let samples = stats.samples as f32;
    let wakes = samples / policy.batch.max(1) as f32;
    let awake_io_s =
        (wakes * (p.wake_us + p.bus_us_per_wake) + samples * p.bus_us_per_sample) * 1e-6;
    let hz = p.cpu_hz.max(1.0);
    let awake_graph_s =
        (samples * p.cycles_per_sample + stats.windows as f32 * p.cycles_per_window) / hz;
    let awake_inference_s = stats.inferences as f32 * p.cycles_per_inference / hz;
    let awake = awake_io_s + awake_graph_s + awake_inference_s;
    let duty = if run_s > 0.0 { (awake / run_s).min(1.0) } else { 1.0 };
    PowerEstimate {
        run_s,
        wakes,
        awake_io_s,
        awake_graph_s,
        awake_inference_s,
        duty,
        average_ua: p.sleep_ua + duty * (p.run_ua - p.sleep_ua),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CHIP: PowerProfile = PowerProfile {
        cpu_hz: 64e6,
        sleep_ua: 2.0,
        run_ua: 3000.0,
        wake_us: 10.0,
        bus_us_per_wake: 50.0,
        bus_us_per_sample: 150.0,
        cycles_per_sample: 640.0,
        cycles_per_window: 6400.0,
        cycles_per_inference: 640_000.0,
    };

    #[test]
    fn hand_computed_budget() {
        let mut s = Stats::new();
        s.samples = 1000;
        s.windows = 31;
        s.inferences = 3;
        let policy = DutyCycle { sample_rate_hz: 1000.0, batch: 25, min_inference_interval_us: 0 };
        let e = estimate(&s, 1.0, &policy, &CHIP);
        assert_eq!(e.wakes, 40.0);
        // io: 40 × 60 µs + 1000 × 150 µs = 152.4 ms
        assert!((e.awake_io_s - 0.1524).abs() < 1e-6);
        // graph: (1000 × 640 + 31 × 6400) / 64 MHz = 13.1 ms
        assert!((e.awake_graph_s - 0.0131).abs() < 1e-6);
        // inference: 3 × 10 ms
        assert!((e.awake_inference_s - 0.03).abs() < 1e-6);
        assert!((e.duty - 0.1955).abs() < 1e-5);
        assert!((e.average_ua - (2.0 + 0.1955 * 2998.0)).abs() < 0.05);
    }

    #[test]
    fn batching_cuts_wakes_and_never_exceeds_full_duty() {
        let mut s = Stats::new();
        s.samples = 1000;
        let one = DutyCycle { sample_rate_hz: 1000.0, batch: 1, min_inference_interval_us: 0 };
        let batched = DutyCycle { batch: 32, ..one };
        assert_eq!(one.wakes_per_second(), 1000.0);
        assert_eq!(batched.wakes_per_second(), 31.25);
        let a = estimate(&s, 1.0, &one, &CHIP);
        let b = estimate(&s, 1.0, &batched, &CHIP);
        assert!(b.average_ua < a.average_ua);
        let zero_time = estimate(&s, 0.0, &one, &CHIP);
        assert_eq!(zero_time.duty, 1.0);
        assert_eq!(zero_time.average_ua, CHIP.run_ua);
    }
}
