//! What the firmware measures about itself: time asleep on INT1, wake-ups, drift events.
//!
//! [`MeteredPin`] wraps the INT1 pin and adds the time each `Wait` took to a [`SleepMeter`]: while
//! the task waits on the pin, the executor has nothing to run and the core sleeps (WFE), so
//! "period minus waited time" is the time the core was awake — measured on the device, including
//! bus transfers, beside the estimate of `edge_reflex::power`. [`DriftLog`] is an action that logs
//! the graph's drift events. [`Period`] says when the next telemetry line is due. This module does
//! not decide what to log; [`run_vibration_reflex`](super::run_vibration_reflex) does.

use core::cell::Cell;

use edge_reflex::action::{Action, Decision, Scores};
use edge_reflex::drift::DriftEvent;
use edge_reflex::time::{Clock, Instant};
use embedded_hal::digital::ErrorType;
use embedded_hal_async::digital::Wait;

/// Time spent waiting on the interrupt pin, and how many waits, since the last [`take`].
///
/// [`take`]: SleepMeter::take
#[derive(Debug, Default)]
pub struct SleepMeter {
    waited_us: Cell<u64>,
    waits: Cell<u32>,
}

impl SleepMeter {
    /// Nothing recorded.
    pub const fn new() -> Self {
        SleepMeter { waited_us: Cell::new(0), waits: Cell::new(0) }
    }

    fn record(&self, micros: u32) {
        self.waited_us.set(self.waited_us.get().saturating_add(u64::from(micros)));
        self.waits.set(self.waits.get().saturating_add(1));
    }

    /// Returns (µs waited, number of waits) and starts again from zero.
    pub fn take(&self) -> (u64, u32) {
        (self.waited_us.replace(0), self.waits.replace(0))
    }
}

/// A `Wait` pin that records in a [`SleepMeter`] how long each wait took.
pub struct MeteredPin<'m, P, C> {
    pin: P,
    clock: C,
    meter: &'m SleepMeter,
}

impl<'m, P, C: Clock> MeteredPin<'m, P, C> {
    /// Wraps `pin`, timing its waits with `clock` into `meter`.
    pub fn new(pin: P, clock: C, meter: &'m SleepMeter) -> Self {
        MeteredPin { pin, clock, meter }
    }

    fn started(&mut self) -> Instant {
        self.clock.now()
    }

    fn finished(&mut self, started: Instant) {
        self.meter.record(self.clock.now().micros_since(started));
    }
}

impl<P: ErrorType, C> ErrorType for MeteredPin<'_, P, C> {
    type Error = P::Error;
}

impl<P: Wait, C: Clock> Wait for MeteredPin<'_, P, C> {
    async fn wait_for_high(&mut self) -> Result<(), Self::Error> {
        let started = self.started();
        let result = self.pin.wait_for_high().await;
        self.finished(started);
        result
    }

    async fn wait_for_low(&mut self) -> Result<(), Self::Error> {
        let started = self.started();
        let result = self.pin.wait_for_low().await;
        self.finished(started);
        result
    }

    async fn wait_for_rising_edge(&mut self) -> Result<(), Self::Error> {
        let started = self.started();
        let result = self.pin.wait_for_rising_edge().await;
        self.finished(started);
        result
    }

    async fn wait_for_falling_edge(&mut self) -> Result<(), Self::Error> {
        let started = self.started();
        let result = self.pin.wait_for_falling_edge().await;
        self.finished(started);
        result
    }

    async fn wait_for_any_edge(&mut self) -> Result<(), Self::Error> {
        let started = self.started();
        let result = self.pin.wait_for_any_edge().await;
        self.finished(started);
        result
    }
}

/// An action that logs the drift monitor's events (and ignores decisions: the LED shows those).
#[derive(Clone, Copy, Debug, Default)]
pub struct DriftLog;

impl Action for DriftLog {
    type Error = core::convert::Infallible;

    fn act(&mut self, _: &Decision, _: &Scores<'_>) -> Result<(), Self::Error> {
        Ok(())
    }

    fn on_drift(&mut self, event: &DriftEvent) -> Result<(), Self::Error> {
        if event.drifting {
            defmt::warn!("drift: {}", event);
        } else {
            defmt::info!("drift over: {}", event);
        }
        Ok(())
    }
}

/// A repeating deadline on a wrapping µs clock.
pub struct Period<C> {
    clock: C,
    period_us: u32,
    last: Instant,
}

impl<C: Clock> Period<C> {
    /// Starts the first period now.
    pub fn new(mut clock: C, period_us: u32) -> Self {
        let last = clock.now();
        Period { clock, period_us, last }
    }

    /// Once per period: `Some(µs since the previous one)`, and a new period starts.
    pub fn elapsed(&mut self) -> Option<u32> {
        let now = self.clock.now();
        let elapsed = now.micros_since(self.last);
        if elapsed < self.period_us {
            return None;
        }
        self.last = now;
        Some(elapsed)
    }
}
