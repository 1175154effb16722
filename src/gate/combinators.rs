//! `and`, `or` and `not` over gates, without dynamic dispatch.

use super::{Gate, GateInput};
use crate::time::Instant;

/// Both gates must admit; both see every window.
#[derive(Clone, Copy, Debug, Default)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct And<A, B>(pub A, pub B);

/// Either gate may admit; both see every window.
#[derive(Clone, Copy, Debug, Default)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Or<A, B>(pub A, pub B);

/// Admits what the inner gate refuses.
#[derive(Clone, Copy, Debug, Default)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Not<A>(pub A);

impl<A: Gate, B: Gate> Gate for And<A, B> {
    fn admit(&mut self, input: &GateInput) -> bool {
        let a = self.0.admit(input);
        let b = self.1.admit(input);
        a && b
    }
    fn on_inference(&mut self, now: Instant) {
        self.0.on_inference(now);
        self.1.on_inference(now);
    }
}

impl<A: Gate, B: Gate> Gate for Or<A, B> {
    fn admit(&mut self, input: &GateInput) -> bool {
        let a = self.0.admit(input);
        let b = self.1.admit(input);
        a || b
    }
    fn on_inference(&mut self, now: Instant) {
        self.0.on_inference(now);
        self.1.on_inference(now);
    }
}

impl<A: Gate> Gate for Not<A> {
    fn admit(&mut self, input: &GateInput) -> bool {
        !self.0.admit(input)
    }
    fn on_inference(&mut self, now: Instant) {
        self.0.on_inference(now);
    }
}

/// Builder methods for combining gates: `a.and(b)`, `a.or(b)`, `a.not()`.
pub trait GateExt: Gate + Sized {
    /// Admits when both admit.
    fn and<B: Gate>(self, other: B) -> And<Self, B> {
        And(self, other)
    }
    /// Admits when either admits.
    fn or<B: Gate>(self, other: B) -> Or<Self, B> {
        Or(self, other)
    }
    /// Admits when `self` refuses.
    fn not(self) -> Not<Self> {
        Not(self)
    }
}

impl<G: Gate> GateExt for G {}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gate::{EveryNth, MinInterval, Threshold};
    use crate::window::{Feature, Features};

    fn rms(v: f32, now: u32) -> GateInput {
        GateInput { features: Features { rms: v, ..Default::default() }, now: Instant(now) }
    }

    #[test]
    fn and_or_not_truth_tables() {
        let hi = || Threshold::new(Feature::Rms, 1.0);
        let lo = || Threshold::new(Feature::Rms, 0.5).not();
        let mut and = hi().and(lo());
        let mut or = hi().or(lo());
        for (v, a, o) in [(0.2, false, true), (0.7, false, false), (1.2, false, true)] {
            assert_eq!(and.admit(&rms(v, 0)), a, "and {v}");
            assert_eq!(or.admit(&rms(v, 0)), o, "or {v}");
        }
    }

    #[test]
    fn both_sides_see_every_window() {
        // EveryNth on the right must still count windows the left side refused.
        let mut g = Threshold::new(Feature::Rms, 1.0).and(EveryNth::new(2));
        let got: [bool; 4] = [0.0, 2.0, 2.0, 2.0].map(|v| g.admit(&rms(v, 0)));
        assert_eq!(got, [false, false, true, false]);
    }

    #[test]
    fn rate_limit_state_changes_only_on_inference() {
        let mut g = Threshold::new(Feature::Rms, 1.0).and(MinInterval::new(100));
        assert!(!g.admit(&rms(0.0, 0))); // refused by the threshold, no inference
        assert!(g.admit(&rms(2.0, 10))); // the rate limit was not armed by the refusal
        g.on_inference(Instant(10));
        assert!(!g.admit(&rms(2.0, 60)));
        assert!(g.admit(&rms(2.0, 110)));
    }
}
