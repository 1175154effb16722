//! The sixth stage: turn the model's scores into a [`Decision`] and act on it.
//!
//! A [`Rule`] reads the dequantized [`Scores`] and says whether the reflex fires; an [`Action`]
//! then does something with every decision: [`PinAlarm`] drives an embedded-hal `OutputPin`,
//! [`FnAction`] calls a closure, and a tuple `(A, B)` does both. Actions are called after *every*
//! inference, so an alarm pin can follow the decision (high on anomaly, low otherwise) or latch.
//! This module does not run models or keep statistics.

use crate::drift::DriftEvent;
use crate::health::HealthEvent;
use crate::model::QuantParams;
use embedded_hal::digital::OutputPin;

/// The int8 outputs of a model with their quantization, readable as real scores.
#[derive(Clone, Copy, Debug)]
pub struct Scores<'a> {
    raw: &'a [i8],
    quant: QuantParams,
}

impl<'a> Scores<'a> {
    /// Scores over a model's output tensor.
    pub fn new(raw: &'a [i8], quant: QuantParams) -> Self {
        Scores { raw, quant }
    }

    /// Number of scores.
    pub fn len(&self) -> usize {
        self.raw.len()
    }

    /// `true` when the model has no outputs.
    pub fn is_empty(&self) -> bool {
        self.raw.is_empty()
    }

    /// The raw int8 outputs.
    pub fn raw(&self) -> &'a [i8] {
        self.raw
    }

    /// Score `i` in real units (`scale * (q - zero_point)`), `None` past the end.
    pub fn get(&self, i: usize) -> Option<f32> {
        let quantizer = crate::quantizer::AffineQuantizer::unchecked(self.quant);
        self.raw.get(i).map(|&q| quantizer.dequantize(q))
    }

    /// Index and value of the highest score (the first on ties), `None` when empty.
    pub fn argmax(&self) -> Option<(usize, f32)> {
        let (i, _) = self.raw.iter().enumerate().fold(
            None,
            |best: Option<(usize, i8)>, (i, &q)| match best {
                Some((_, b)) if b >= q => best,
                _ => Some((i, q)),
            },
        )?;
        Some((i, self.get(i)?))
    }
}

/// What the graph concluded from one inference.
#[derive(Clone, Copy, Debug, PartialEq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Decision {
    /// `true` when the reflex fires (anomaly, wanted class...).
    pub triggered: bool,
    /// The class or output index the rule looked at.
    pub class: usize,
    /// That output's score in real units.
    pub score: f32,
}

/// How scores become a decision.
#[derive(Clone, Copy, Debug, PartialEq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum Rule {
    /// Fires when output `index` is at or above `threshold` (anomaly scores, a sigmoid output).
    ScoreAtLeast {
        /// Which output.
        index: usize,
        /// The score that fires (equal fires).
        threshold: f32,
    },
    /// Fires when the highest-scoring class is `class` with at least `min_score` (classifiers).
    ArgMaxIs {
        /// The class that fires.
        class: usize,
        /// Its minimum score.
        min_score: f32,
    },
}

impl Rule {
    /// Applies the rule. An index past the model's outputs never fires (score 0).
    pub fn decide(&self, scores: &Scores<'_>) -> Decision {
        match *self {
            Rule::ScoreAtLeast { index, threshold } => {
                let score = scores.get(index);
                Decision {
                    triggered: score.is_some_and(|s| s >= threshold),
                    class: index,
                    score: score.unwrap_or(0.0),
                }
            }
            Rule::ArgMaxIs { class, min_score } => match scores.argmax() {
                Some((best, score)) => {
                    Decision { triggered: best == class && score >= min_score, class: best, score }
                }
                None => Decision { triggered: false, class, score: 0.0 },
            },
        }
    }
}

/// Does something with each decision.
pub trait Action {
    /// Why the action failed (a GPIO error, a full queue...).
    type Error: core::fmt::Debug;

    /// Called after every inference with its decision and the scores it came from.
    fn act(&mut self, decision: &Decision, scores: &Scores<'_>) -> Result<(), Self::Error>;

    /// Called when the graph's drift monitor reports a change (see [`drift`](crate::drift)).
    /// Does nothing unless implemented.
    fn on_drift(&mut self, _event: &DriftEvent) -> Result<(), Self::Error> {
        Ok(())
    }

    /// Called when the graph's sensor health monitor reports a change (see
    /// [`health`](crate::health)): a frozen sensor, a dead axis, a dropout, out-of-range samples.
    /// Does nothing unless implemented.
    fn on_health(&mut self, _event: &HealthEvent) -> Result<(), Self::Error> {
        Ok(())
    }
}

/// Drives a GPIO from the decisions: high while triggered, or latched high until [`reset`].
///
/// The pin is written only when its level changes (and once at the first decision), so a steady
/// state costs no GPIO traffic.
///
/// [`reset`]: PinAlarm::reset
pub struct PinAlarm<P> {
    pin: P,
    latch: bool,
    /// The level last written, `None` before the first write.
    level: Option<bool>,
}

impl<P: OutputPin> PinAlarm<P> {
    /// The pin follows each decision: high when triggered, low otherwise.
    pub fn new(pin: P) -> Self {
        PinAlarm { pin, latch: false, level: None }
    }

    /// The pin goes high on the first trigger and stays high until [`reset`](Self::reset).
    pub fn latching(pin: P) -> Self {
        PinAlarm { pin, latch: true, level: None }
    }

    /// Clears the alarm and drives the pin low.
    pub fn reset(&mut self) -> Result<(), P::Error> {
        self.level = Some(false);
        self.pin.set_low()
    }

    /// `true` while the pin is driven high.
    pub fn is_raised(&self) -> bool {
        self.level == Some(true)
    }

    fn drive(&mut self, high: bool) -> Result<(), P::Error> {
        if self.level == Some(high) {
            return Ok(());
        }
        if high {
            self.pin.set_high()?;
        } else {
            self.pin.set_low()?;
        }
        self.level = Some(high);
        Ok(())
    }

    /// Gives the pin back.
    pub fn release(self) -> P {
        self.pin
    }
}

impl<P: OutputPin> Action for PinAlarm<P> {
    type Error = P::Error;

    fn act(&mut self, decision: &Decision, _: &Scores<'_>) -> Result<(), P::Error> {
        let high = decision.triggered || (self.latch && self.is_raised());
        // A failed write leaves `level` unchanged, so the next decision retries it.
        self.drive(high)
    }
}

/// Any closure `FnMut(&Decision, &Scores) -> Result<(), E>` as an [`Action`].
pub struct FnAction<F>(F);

impl<F> FnAction<F> {
    /// Wraps `act`.
    pub fn new(act: F) -> Self {
        FnAction(act)
    }
}

impl<E: core::fmt::Debug, F: FnMut(&Decision, &Scores<'_>) -> Result<(), E>> Action
    for FnAction<F>
{
    type Error = E;
    fn act(&mut self, decision: &Decision, scores: &Scores<'_>) -> Result<(), E> {
        (self.0)(decision, scores)
    }
}

/// An action that does nothing (for graphs whose caller reads the returned decisions).
#[derive(Clone, Copy, Debug, Default)]
pub struct NoAction;

impl Action for NoAction {
    type Error = core::convert::Infallible;
    fn act(&mut self, _: &Decision, _: &Scores<'_>) -> Result<(), Self::Error> {
        Ok(())
    }
}

/// Which of two actions failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum EitherError<A, B> {
    /// The first action failed.
    First(A),
    /// The second action failed.
    Second(B),
}

/// Both actions run on every decision, the second even when the first failed; the first error
/// is reported.
impl<A: Action, B: Action> Action for (A, B) {
    type Error = EitherError<A::Error, B::Error>;
    fn act(&mut self, decision: &Decision, scores: &Scores<'_>) -> Result<(), Self::Error> {
        let a = self.0.act(decision, scores);
        let b = self.1.act(decision, scores);
        a.map_err(EitherError::First)?;
        b.map_err(EitherError::Second)
    }

    fn on_drift(&mut self, event: &DriftEvent) -> Result<(), Self::Error> {
        let a = self.0.on_drift(event);
        let b = self.1.on_drift(event);
        a.map_err(EitherError::First)?;
        b.map_err(EitherError::Second)
    }

    fn on_health(&mut self, event: &HealthEvent) -> Result<(), Self::Error> {
        let a = self.0.on_health(event);
        let b = self.1.on_health(event);
        a.map_err(EitherError::First)?;
        b.map_err(EitherError::Second)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use embedded_hal_mock::eh1::digital::{Mock as PinMock, State, Transaction as PinTx};
    use std::vec::Vec;

    const Q: QuantParams = QuantParams { scale: 0.5, zero_point: 0 };

    #[test]
    fn score_rule_fires_at_threshold() {
        let raw = [4i8, 6];
        let s = Scores::new(&raw, Q);
        let d = Rule::ScoreAtLeast { index: 1, threshold: 3.0 }.decide(&s);
        assert_eq!(d, Decision { triggered: true, class: 1, score: 3.0 });
        let d = Rule::ScoreAtLeast { index: 0, threshold: 3.0 }.decide(&s);
        assert!(!d.triggered);
        let d = Rule::ScoreAtLeast { index: 9, threshold: -100.0 }.decide(&s);
        assert!(!d.triggered);
    }

    #[test]
    fn argmax_rule_takes_first_on_ties() {
        let raw = [1i8, 7, 7, -3];
        let s = Scores::new(&raw, Q);
        assert_eq!(s.argmax(), Some((1, 3.5)));
        assert!(Rule::ArgMaxIs { class: 1, min_score: 3.5 }.decide(&s).triggered);
        assert!(!Rule::ArgMaxIs { class: 2, min_score: 0.0 }.decide(&s).triggered);
        assert!(
            !Rule::ArgMaxIs { class: 0, min_score: 0.0 }.decide(&Scores::new(&[], Q)).triggered
        );
    }

    #[test]
    fn pin_alarm_follows_or_latches() {
        let hit = Decision { triggered: true, class: 0, score: 1.0 };
        let calm = Decision { triggered: false, class: 0, score: 0.0 };
        let s = Scores::new(&[], Q);

        let pin = PinMock::new(&[
            PinTx::set(State::Low),
            PinTx::set(State::High),
            PinTx::set(State::Low),
        ]);
        let mut follow = PinAlarm::new(pin);
        follow.act(&calm, &s).unwrap(); // first decision: written
        follow.act(&calm, &s).unwrap(); // unchanged: no traffic
        follow.act(&hit, &s).unwrap();
        follow.act(&hit, &s).unwrap(); // unchanged: no traffic
        follow.act(&calm, &s).unwrap();
        follow.release().done();

        let pin = PinMock::new(&[PinTx::set(State::High), PinTx::set(State::Low)]);
        let mut latch = PinAlarm::latching(pin);
        latch.act(&hit, &s).unwrap();
        latch.act(&calm, &s).unwrap(); // stays high: no pin traffic
        latch.act(&hit, &s).unwrap(); // already latched: no traffic
        latch.reset().unwrap();
        assert!(!latch.is_raised());
        latch.release().done();
    }

    #[test]
    fn pair_runs_both_and_reports_first_error() {
        let mut log = Vec::new();
        let mut seen = 0;
        {
            let failing = FnAction::new(|_: &Decision, _: &Scores<'_>| Err::<(), _>("gpio"));
            let counting = FnAction::new(|d: &Decision, _: &Scores<'_>| {
                seen += 1;
                log.push(d.triggered);
                Ok::<(), ()>(())
            });
            let mut both = (failing, counting);
            let d = Decision { triggered: true, class: 0, score: 0.0 };
            assert_eq!(both.act(&d, &Scores::new(&[], Q)), Err(EitherError::First("gpio")));
        }
        assert_eq!(seen, 1);
        assert_eq!(log, [true]);
    }
}
