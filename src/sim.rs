//! A deterministic simulated bearing: 3-axis vibration with noise and injected fault episodes.
//!
//! It is what the host example, the graph tests and the emulated boards feed the graph with, so
//! all three see the same signal, sample for sample, on any target (no `std`, no `libm`). The
//! signal, in m/s²: gravity on Z, the shaft's once-per-revolution vibration on X and Y, Gaussian-ish
//! noise on all axes, and — during each [`FaultEpisode`] — a train of impacts at the fault
//! frequency, each ringing at the housing's resonance and decaying, as an outer-race defect does.
//! An optional slow rise of the broadband vibration models wear (drift). This module does not encode
//! register bytes; see the drivers' tests and the example for that.

use crate::math;
use core::f32::consts::TAU;

/// A stretch of samples during which the bearing is faulty.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct FaultEpisode {
    /// First faulty sample.
    pub start: u32,
    /// Number of faulty samples.
    pub len: u32,
}

impl FaultEpisode {
    /// `true` when sample `i` is inside the episode.
    pub fn contains(&self, i: u32) -> bool {
        i >= self.start && i - self.start < self.len
    }

    /// `true` when the samples `first..=last` overlap the episode.
    pub fn overlaps(&self, first: u32, last: u32) -> bool {
        first < self.start.saturating_add(self.len) && last >= self.start
    }
}

/// The five fault episodes of the demo run: 60 s at 1 kHz, 0.4 s faults at known times.
pub const DEMO_FAULTS: [FaultEpisode; 5] = [
    FaultEpisode { start: 8_000, len: 400 },
    FaultEpisode { start: 19_500, len: 400 },
    FaultEpisode { start: 31_000, len: 400 },
    FaultEpisode { start: 42_250, len: 400 },
    FaultEpisode { start: 53_700, len: 400 },
];

/// Samples in the demo run (60 s at 1 kHz).
pub const DEMO_SAMPLES: u32 = 60_000;

/// Physical parameters of the simulated machine.
#[derive(Clone, Copy, Debug, PartialEq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct BearingConfig {
    /// Sampling rate, Hz.
    pub sample_rate_hz: f32,
    /// Shaft rotation, Hz.
    pub shaft_hz: f32,
    /// Shaft vibration amplitude, m/s².
    pub shaft_amplitude: f32,
    /// Noise standard deviation per axis, m/s².
    pub noise_std: f32,
    /// Impacts per second during a fault (the defect frequency).
    pub impact_hz: f32,
    /// Peak acceleration of one impact, m/s².
    pub impact_amplitude: f32,
    /// Frequency each impact rings at, Hz.
    pub resonance_hz: f32,
    /// Decay rate of the ringing, 1/s.
    pub decay_per_s: f32,
    /// Growth of the broadband vibration (the noise standard deviation) per second, as a wearing
    /// bearing shows; 0 for a healthy, steady machine. m/s² per s.
    pub drift_per_s: f32,
    /// Seed of the noise generator.
    pub seed: u32,
}

impl Default for BearingConfig {
    /// A 1 kHz recording of a 25 Hz shaft with 0.3 m/s² vibration and 0.05 m/s² noise; faults
    /// hit at 87 Hz with 4 m/s² impacts ringing at 230 Hz.
    fn default() -> Self {
        BearingConfig {
            sample_rate_hz: 1000.0,
            shaft_hz: 25.0,
            shaft_amplitude: 0.3,
            noise_std: 0.05,
            impact_hz: 87.0,
            impact_amplitude: 4.0,
            resonance_hz: 230.0,
            decay_per_s: 60.0,
            drift_per_s: 0.0,
            seed: 0x5eed_1234,
        }
    }
}

/// The simulated bearing: call [`next_sample`](Bearing::next_sample) once per sampling period.
///
/// ```
/// use edge_reflex::sim::{Bearing, BearingConfig, DEMO_FAULTS};
/// let mut bearing = Bearing::new(BearingConfig::default(), &DEMO_FAULTS);
/// let s = bearing.next_sample();
/// assert!((s[2] - 9.81).abs() < 0.5); // gravity on Z
/// ```
#[derive(Clone, Debug)]
pub struct Bearing<'a> {
    config: BearingConfig,
    faults: &'a [FaultEpisode],
    index: u32,
    rng: u32,
}

impl<'a> Bearing<'a> {
    /// A bearing that is faulty during `faults`.
    pub fn new(config: BearingConfig, faults: &'a [FaultEpisode]) -> Self {
        Bearing { config, faults, index: 0, rng: config.seed | 1 }
    }

    /// Index of the next sample.
    pub fn index(&self) -> u32 {
        self.index
    }

    /// The fault episodes.
    pub fn faults(&self) -> &'a [FaultEpisode] {
        self.faults
    }

    /// `true` when sample `i` is inside a fault episode.
    pub fn is_faulty(&self, i: u32) -> bool {
        self.faults.iter().any(|f| f.contains(i))
    }

    fn uniform(&mut self) -> f32 {
        // xorshift32: tiny, deterministic, identical on every target.
        let mut x = self.rng;
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        self.rng = x;
        (x >> 8) as f32 / (1u32 << 24) as f32
    }

    fn gaussian(&mut self) -> f32 {
        // Irwin-Hall with four uniforms: mean 2, variance 1/3.
        let s = self.uniform() + self.uniform() + self.uniform() + self.uniform();
        (s - 2.0) * 1.732_050_8
    }

    /// The next 3-axis acceleration, m/s².
    pub fn next_sample(&mut self) -> [f32; 3] {
        let c = self.config;
        let i = self.index;
        self.index = self.index.wrapping_add(1);
        let t = i as f32 / c.sample_rate_hz;
        let amplitude = c.shaft_amplitude;
        let noise = c.noise_std + c.drift_per_s * t;
        let phase = TAU * c.shaft_hz * t;
        let mut x = amplitude * math::sin(phase);
        let mut y = amplitude * math::sin(phase + core::f32::consts::FRAC_PI_2);
        let mut z = 9.81;
        if let Some(f) = self.faults.iter().find(|f| f.contains(i)) {
            let since = (i - f.start) as f32 / c.sample_rate_hz;
            let period = 1.0 / c.impact_hz;
            let tau = since - period * ((since / period) as u32) as f32;
            let ring = c.impact_amplitude
                * math::exp_neg(-c.decay_per_s * tau)
                * math::sin(TAU * c.resonance_hz * tau);
            x += ring;
            y += 0.6 * ring;
            z += 0.3 * ring;
        }
        x += noise * self.gaussian();
        y += noise * self.gaussian();
        z += noise * self.gaussian();
        [x, y, z]
    }
}

/// What a [`FaultInjector`] does to a read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Injected {
    /// The read fails with a bus error, as a NACK would.
    BusError,
    /// The read returns NaN on every channel.
    NotANumber,
    /// The read returns the previous good sample again (a stuck sensor).
    Stuck,
}

/// A sensor failure applied by a [`FaultInjector`] to a stretch of the wrapped sensor's reads.
#[derive(Clone, Copy, Debug, PartialEq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum SensorFault {
    /// Every read repeats the last sample delivered before the episode (a frozen sensor).
    Stuck,
    /// Every read fails with a bus error; the samples taken meanwhile are lost (a sensor that
    /// stopped answering).
    Dropout,
    /// The episode's first sample has `value` added on `channel` (a knock, a glitch).
    Spike {
        /// The channel hit.
        channel: u8,
        /// What is added, in the sample's units.
        value: f32,
    },
    /// Every `every`-th sample of the episode, from its first, reads `value` on every channel,
    /// with alternating sign (finite, but beyond any full scale: a corrupted read).
    OutOfRange {
        /// The magnitude read.
        value: f32,
        /// One such sample in this many (at least 1).
        every: u32,
    },
    /// The sensitivity grows by `per_sample` per sample since the episode's start: every channel
    /// reads `(1 + per_sample · n)` times the truth (an ageing sensor, a loosening mount).
    GainDrift {
        /// Gain added per sample.
        per_sample: f32,
    },
    /// `channel` reads `value` whatever happens (a broken axis).
    DeadAxis {
        /// The dead channel.
        channel: u8,
        /// What it reads.
        value: f32,
    },
}

/// A [`SensorFault`] over the wrapped sensor's reads `start..start + len` (counted from 0).
#[derive(Clone, Copy, Debug, PartialEq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct SensorEpisode {
    /// What goes wrong.
    pub fault: SensorFault,
    /// First affected read.
    pub start: u32,
    /// Number of affected reads (`u32::MAX`: until the end).
    pub len: u32,
}

impl SensorEpisode {
    fn contains(&self, i: u32) -> bool {
        i >= self.start && i - self.start < self.len
    }
}

/// The error a [`FaultInjector`] reports for [`Injected::BusError`] and
/// [`SensorFault::Dropout`], or the inner sensor's.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum InjectedError<E> {
    /// An injected bus error.
    Injected,
    /// The wrapped sensor's own error.
    Sensor(E),
}

/// Wraps a sensor and makes it fail, two ways that can be combined:
///
/// * on a schedule, it *inserts* bad reads between the real ones (the real sample is kept for the
///   next read, so nothing is lost): bus errors, NaN samples or stuck values ([`Injected`]). The
///   graph's decisions on the real samples must not change; the tests check exactly that.
/// * over [`SensorEpisode`]s it *alters* the real reads: a frozen sensor, a dropout, a spike,
///   out-of-range values, a gain drift, a dead axis ([`SensorFault`]). The fault-matrix test
///   checks that the graph detects the bearing's faults or raises a health event.
///
/// ```
/// use edge_reflex::sensor::{FnSensor, Sensor};
/// use edge_reflex::sim::{FaultInjector, SensorEpisode, SensorFault};
/// let mut t = 0.0f32;
/// let ramp = FnSensor::new(move || { t += 1.0; Ok::<[f32; 2], ()>([t, -t]) });
/// let dead = [SensorEpisode { fault: SensorFault::DeadAxis { channel: 1, value: 0.0 }, start: 2, len: u32::MAX }];
/// let mut sensor = FaultInjector::with_episodes(ramp, &dead);
/// let reads: Vec<[f32; 2]> = (0..4).map(|_| sensor.read().unwrap()).collect();
/// assert_eq!(reads, [[1.0, -1.0], [2.0, -2.0], [3.0, 0.0], [4.0, 0.0]]);
/// ```
pub struct FaultInjector<'a, S: crate::sensor::Sensor> {
    inner: S,
    every: u32,
    kinds: &'a [Injected],
    reads: u32,
    next_kind: usize,
    last: Option<S::Sample>,
    episodes: &'a [SensorEpisode],
    /// Real reads of the inner sensor so far (the index episodes count in).
    real: u32,
    out_of_range_sign: f32,
}

impl<'a, S: crate::sensor::Sensor> FaultInjector<'a, S> {
    /// Inserts one bad read before every `every`-th real read, cycling through `kinds`.
    pub fn new(inner: S, every: u32, kinds: &'a [Injected]) -> Self {
        FaultInjector {
            inner,
            every: every.max(1),
            kinds,
            reads: 0,
            next_kind: 0,
            last: None,
            episodes: &[],
            real: 0,
            out_of_range_sign: 1.0,
        }
    }

    /// Alters the real reads during `episodes` (and inserts nothing).
    pub fn with_episodes(inner: S, episodes: &'a [SensorEpisode]) -> Self {
        FaultInjector { episodes, ..Self::new(inner, 1, &[]) }
    }

    /// Gives the wrapped sensor back.
    pub fn into_inner(self) -> S {
        self.inner
    }

    /// Applies the episodes that cover real read `index` to `sample`; `None` for a dropout.
    fn alter(&mut self, index: u32, sample: S::Sample) -> Option<S::Sample> {
        use crate::sample::Sample;
        let mut out = sample;
        for e in self.episodes.iter().filter(|e| e.contains(index)) {
            let n = index - e.start;
            match e.fault {
                SensorFault::Stuck => out = self.last.unwrap_or(out),
                SensorFault::Dropout => return None,
                SensorFault::Spike { channel, value } if n == 0 => {
                    let c = channel as usize;
                    out = S::Sample::from_fn(|i| out.channel(i) + if i == c { value } else { 0.0 });
                }
                SensorFault::Spike { .. } => {}
                SensorFault::OutOfRange { value, every } if n.is_multiple_of(every.max(1)) => {
                    let v = value * self.out_of_range_sign;
                    self.out_of_range_sign = -self.out_of_range_sign;
                    out = S::Sample::from_fn(|_| v);
                }
                SensorFault::OutOfRange { .. } => {}
                SensorFault::GainDrift { per_sample } => {
                    let gain = 1.0 + per_sample * n as f32;
                    out = S::Sample::from_fn(|i| out.channel(i) * gain);
                }
                SensorFault::DeadAxis { channel, value } => {
                    let c = channel as usize;
                    out = S::Sample::from_fn(|i| if i == c { value } else { out.channel(i) });
                }
            }
        }
        Some(out)
    }
}

impl<S: crate::sensor::Sensor> crate::sensor::Sensor for FaultInjector<'_, S> {
    type Sample = S::Sample;
    type Error = InjectedError<S::Error>;

    fn read(&mut self) -> Result<S::Sample, Self::Error> {
        self.reads = self.reads.wrapping_add(1);
        if !self.kinds.is_empty() && self.reads.is_multiple_of(self.every.saturating_add(1)) {
            if let Some(&kind) = self.kinds.get(self.next_kind % self.kinds.len()) {
                self.next_kind += 1;
                match kind {
                    Injected::BusError => return Err(InjectedError::Injected),
                    Injected::NotANumber => {
                        return Ok(<S::Sample as crate::sample::Sample>::from_fn(|_| f32::NAN));
                    }
                    Injected::Stuck => {
                        if let Some(s) = self.last {
                            return Ok(s);
                        }
                    }
                }
            }
        }
        let s = self.inner.read().map_err(InjectedError::Sensor)?;
        let index = self.real;
        self.real = self.real.wrapping_add(1);
        let s = self.alter(index, s).ok_or(InjectedError::Injected)?;
        self.last = Some(s);
        Ok(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deterministic_and_faults_are_louder() {
        let cfg = BearingConfig::default();
        let mut a = Bearing::new(cfg, &DEMO_FAULTS);
        let mut b = Bearing::new(cfg, &DEMO_FAULTS);
        let (mut calm, mut faulty) = (0.0f32, 0.0f32);
        for i in 0..9_000u32 {
            let s = a.next_sample();
            assert_eq!(s, b.next_sample());
            let e = s[0] * s[0] + s[1] * s[1];
            if (7_000..7_400).contains(&i) {
                calm += e;
            } else if DEMO_FAULTS[0].contains(i) {
                faulty += e;
            }
        }
        assert!(faulty > 5.0 * calm, "fault energy {faulty} vs calm {calm}");
    }

    #[test]
    fn episodes_alter_the_real_reads() {
        use crate::sensor::{FnSensor, Sensor};
        let mut t = 0.0f32;
        let ramp = FnSensor::new(move || {
            t += 1.0;
            Ok::<[f32; 2], ()>([t, 10.0 * t])
        });
        let episodes = [
            SensorEpisode {
                fault: SensorFault::Spike { channel: 0, value: 100.0 },
                start: 1,
                len: 1,
            },
            SensorEpisode { fault: SensorFault::Dropout, start: 2, len: 2 },
            SensorEpisode { fault: SensorFault::Stuck, start: 4, len: 2 },
            SensorEpisode {
                fault: SensorFault::OutOfRange { value: 1e20, every: 2 },
                start: 6,
                len: 3,
            },
            SensorEpisode { fault: SensorFault::GainDrift { per_sample: 0.5 }, start: 9, len: 2 },
        ];
        let mut s = FaultInjector::with_episodes(ramp, &episodes);
        let reads: std::vec::Vec<_> = (0..11).map(|_| s.read()).collect();
        assert_eq!(
            reads,
            [
                Ok([1.0, 10.0]),
                Ok([102.0, 20.0]),
                Err(InjectedError::Injected),
                Err(InjectedError::Injected),
                Ok([102.0, 20.0]),
                Ok([102.0, 20.0]),
                Ok([1e20, 1e20]),
                Ok([8.0, 80.0]),
                Ok([-1e20, -1e20]),
                Ok([10.0, 100.0]),
                Ok([16.5, 165.0]),
            ]
        );
    }

    #[test]
    fn episode_overlap_edges() {
        let f = FaultEpisode { start: 100, len: 10 };
        assert!(f.overlaps(90, 100) && f.overlaps(109, 120));
        assert!(!f.overlaps(90, 99) && !f.overlaps(110, 120));
        assert!(f.contains(109) && !f.contains(110));
    }
}
