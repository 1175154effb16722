//! The primitive gates: thresholds, bands, hysteresis, rate limits and counters.

use super::{Gate, GateInput};
use crate::time::Instant;
use crate::window::Feature;

/// Admits every window: the model runs every `HOP` samples.
#[derive(Clone, Copy, Debug, Default)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Always;

impl Gate for Always {
    fn admit(&mut self, _: &GateInput) -> bool {
        true
    }
}

/// Admits when a feature is at or above a level (`feature >= level`).
#[derive(Clone, Copy, Debug, PartialEq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Threshold {
    /// The feature compared.
    pub feature: Feature,
    /// The level; equal counts as above.
    pub level: f32,
}

impl Threshold {
    /// `feature >= level`.
    pub fn new(feature: Feature, level: f32) -> Self {
        Threshold { feature, level }
    }
}

impl Gate for Threshold {
    fn admit(&mut self, input: &GateInput) -> bool {
        input.features.get(self.feature) >= self.level
    }
}

/// Admits when a feature is outside (or, with [`Band::inside`], inside) `[low, high]`.
#[derive(Clone, Copy, Debug, PartialEq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Band {
    /// The feature compared.
    pub feature: Feature,
    /// Lower edge (belongs to the band).
    pub low: f32,
    /// Upper edge (belongs to the band).
    pub high: f32,
    /// `true`: admit inside the band; `false`: admit outside it.
    pub admit_inside: bool,
}

impl Band {
    /// Admits when the feature leaves the normal band: `< low` or `> high`.
    pub fn outside(feature: Feature, low: f32, high: f32) -> Self {
        Band { feature, low, high, admit_inside: false }
    }

    /// Admits when the feature is within `[low, high]`, edges included.
    pub fn inside(feature: Feature, low: f32, high: f32) -> Self {
        Band { feature, low, high, admit_inside: true }
    }
}

impl Gate for Band {
    fn admit(&mut self, input: &GateInput) -> bool {
        let v = input.features.get(self.feature);
        let inside = v >= self.low && v <= self.high;
        inside == self.admit_inside
    }
}

/// Opens when a feature reaches `on` and stays open until it falls below `off` (`off <= on`), so a
/// level hovering at the threshold does not make the gate chatter.
#[derive(Clone, Copy, Debug, PartialEq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Hysteresis {
    /// The feature compared.
    pub feature: Feature,
    /// Opening level (`>=` opens).
    pub on: f32,
    /// Closing level (`<` closes).
    pub off: f32,
    open: bool,
}

impl Hysteresis {
    /// A closed gate with the two levels; if `off > on` the two are swapped.
    pub fn new(feature: Feature, on: f32, off: f32) -> Self {
        let (on, off) = if off > on { (off, on) } else { (on, off) };
        Hysteresis { feature, on, off, open: false }
    }

    /// Whether the gate is currently open.
    pub fn is_open(&self) -> bool {
        self.open
    }
}

impl Gate for Hysteresis {
    fn admit(&mut self, input: &GateInput) -> bool {
        let v = input.features.get(self.feature);
        if self.open {
            if v < self.off {
                self.open = false;
            }
        } else if v >= self.on {
            self.open = true;
        }
        self.open
    }
}

/// Admits only if at least `micros` have passed since the last inference (a rate limit).
///
/// Time is a wrapping 32-bit µs counter; the gate forgets the last inference as soon as it has
/// seen the interval elapse, so it stays right across counter wrap-around as long as windows keep
/// arriving more often than every 2³¹ µs (35 minutes).
#[derive(Clone, Copy, Debug, PartialEq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct MinInterval {
    /// Minimum time between two inferences, µs (at most 2³¹ - 1).
    pub micros: u32,
    last: Option<Instant>,
}

impl MinInterval {
    /// A rate limit of one inference per `micros` (clamped to 2³¹ - 1).
    pub fn new(micros: u32) -> Self {
        MinInterval { micros: micros.min(i32::MAX as u32), last: None }
    }
}

impl Gate for MinInterval {
    fn admit(&mut self, input: &GateInput) -> bool {
        match self.last {
            None => true,
            Some(last) if input.now.micros_since(last) >= self.micros => {
                self.last = None;
                true
            }
            Some(_) => false,
        }
    }

    fn on_inference(&mut self, now: Instant) {
        self.last = Some(now);
    }
}

/// Admits one window in every `n` (the first, then every `n`-th after it); `n = 0` acts as 1.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct EveryNth {
    /// The period in windows.
    pub n: u32,
    count: u32,
}

impl EveryNth {
    /// One window in `n`.
    pub fn new(n: u32) -> Self {
        EveryNth { n: n.max(1), count: 0 }
    }
}

impl Gate for EveryNth {
    fn admit(&mut self, _: &GateInput) -> bool {
        let admit = self.count == 0;
        self.count += 1;
        if self.count >= self.n.max(1) {
            self.count = 0;
        }
        admit
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::window::Features;

    fn at(rms: f32, now: u32) -> GateInput {
        GateInput { features: Features { rms, ..Default::default() }, now: Instant(now) }
    }

    #[test]
    fn threshold_admits_at_equality() {
        let mut g = Threshold::new(Feature::Rms, 1.0);
        assert!(g.admit(&at(1.0, 0)));
        assert!(!g.admit(&at(0.999_999_94, 0)));
    }

    #[test]
    fn band_edges_belong_to_the_band() {
        let mut out = Band::outside(Feature::Rms, 1.0, 2.0);
        assert!(!out.admit(&at(1.0, 0)));
        assert!(!out.admit(&at(2.0, 0)));
        assert!(out.admit(&at(2.000_001, 0)));
        assert!(out.admit(&at(0.5, 0)));
        let mut inside = Band::inside(Feature::Rms, 1.0, 2.0);
        assert!(inside.admit(&at(1.0, 0)));
        assert!(!inside.admit(&at(2.5, 0)));
    }

    #[test]
    fn hysteresis_opens_at_on_and_closes_below_off() {
        let mut g = Hysteresis::new(Feature::Rms, 2.0, 1.0);
        let seq =
            [(1.5, false), (2.0, true), (1.5, true), (1.0, true), (0.99, false), (1.5, false)];
        for (v, want) in seq {
            assert_eq!(g.admit(&at(v, 0)), want, "level {v}");
        }
    }

    #[test]
    fn min_interval_across_clock_wrap() {
        let mut g = MinInterval::new(1000);
        let t0 = u32::MAX - 400;
        assert!(g.admit(&at(0.0, t0)));
        g.on_inference(Instant(t0));
        // 999 µs later, across the wrap: still too soon.
        assert!(!g.admit(&at(0.0, t0.wrapping_add(999))));
        // Exactly 1000 µs later: admitted.
        assert!(g.admit(&at(0.0, t0.wrapping_add(1000))));
    }

    #[test]
    fn min_interval_forgets_after_elapsing_so_a_long_idle_is_not_misread() {
        let mut g = MinInterval::new(1000);
        g.on_inference(Instant(0));
        assert!(g.admit(&at(0.0, 5000)));
        // No inference happened; 2^31 + 100 µs later the raw difference would look "recent".
        assert!(g.admit(&at(0.0, (1u32 << 31) + 100)));
        assert!(g.admit(&at(0.0, 200)));
    }

    #[test]
    fn every_nth_admits_first_then_each_nth() {
        let mut g = EveryNth::new(3);
        let got: [bool; 7] = core::array::from_fn(|_| g.admit(&at(0.0, 0)));
        assert_eq!(got, [true, false, false, true, false, false, true]);
        let mut one = EveryNth::new(0);
        assert!(one.admit(&at(0.0, 0)) && one.admit(&at(0.0, 0)));
    }
}
