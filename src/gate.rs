//! The third stage: decides whether the expensive model runs on this window.
//!
//! A [`Gate`] is asked once per ready window (every `HOP` samples) with a [`GateInput`]: the
//! window's [`Features`] and the current time. Most windows of a healthy machine are boring; a gate
//! that says no to them is where the power is saved. Gates are small values that combine with
//! [`GateExt::and`], [`GateExt::or`] and [`GateExt::not`]:
//!
//! ```
//! use edge_reflex::gate::{Gate, GateExt, GateInput, Hysteresis, MinInterval};
//! use edge_reflex::window::{Feature, Features};
//! use edge_reflex::time::Instant;
//!
//! // Run the model while the vibration RMS is high, at most every 100 ms.
//! let mut gate = Hysteresis::new(Feature::Rms, 2.0, 1.5).and(MinInterval::new(100_000));
//! let loud = GateInput { features: Features { rms: 2.5, ..Default::default() }, now: Instant(0) };
//! assert!(gate.admit(&loud));
//! gate.on_inference(Instant(0));
//! let soon = GateInput { now: Instant(50_000), ..loud };
//! assert!(!gate.admit(&soon)); // rate-limited
//! ```
//!
//! Combinators evaluate *both* sides on every window (no short-circuit), so stateful gates such as
//! [`Hysteresis`] and [`EveryNth`] see every window whatever their neighbours say. State that should
//! change only when the model really ran (the last inference time of [`MinInterval`]) is updated in
//! [`Gate::on_inference`], which the graph calls after each inference.
//! This module does not look at model outputs; that is the decision [`Rule`](crate::action::Rule).

mod combinators;
mod gates;

pub use combinators::{And, GateExt, Not, Or};
pub use gates::{Always, Band, EveryNth, Hysteresis, MinInterval, Threshold};

use crate::time::Instant;
use crate::window::Features;

/// What a gate sees: the window's features and the time.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct GateInput {
    /// Features of the window that just became ready.
    pub features: Features,
    /// Current time from the graph's clock.
    pub now: Instant,
}

/// Decides, per ready window, whether the model runs.
pub trait Gate {
    /// `true` to run the model on this window.
    fn admit(&mut self, input: &GateInput) -> bool;

    /// Called by the graph after the model ran (whatever the overall decision path was).
    fn on_inference(&mut self, _now: Instant) {}
}

impl<G: Gate + ?Sized> Gate for &mut G {
    fn admit(&mut self, input: &GateInput) -> bool {
        G::admit(self, input)
    }
    fn on_inference(&mut self, now: Instant) {
        G::on_inference(self, now)
    }
}
