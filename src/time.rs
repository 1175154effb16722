//! Monotonic time for gates and latency statistics: a wrapping 32-bit microsecond counter.
//!
//! Most microcontroller timers are 32 bits wide and wrap (a 1 MHz counter every 71.6 minutes).
//! [`Instant`] keeps that width and does all arithmetic with wrapping subtraction, so an interval
//! measured across the wrap is still right, as long as it is shorter than 2³¹ µs (35.8 minutes).
//! A plain `u32` newtype is used rather than `fugit` to keep the stage signatures short; the
//! conversion from any tick rate is one multiplication in the user's [`Clock`].

/// A point in time, in microseconds of a free-running counter that wraps at 2³².
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Instant(pub u32);

impl Instant {
    /// Microseconds from `earlier` to `self`, correct across one wrap of the counter.
    pub fn micros_since(self, earlier: Instant) -> u32 {
        self.0.wrapping_sub(earlier.0)
    }

    /// `self` moved `micros` later (wrapping).
    pub fn plus_micros(self, micros: u32) -> Instant {
        Instant(self.0.wrapping_add(micros))
    }
}

/// A monotonic clock the graph reads to time inferences and rate-limit the gate.
pub trait Clock {
    /// The current time.
    fn now(&mut self) -> Instant;
}

impl<F: FnMut() -> u32> Clock for F {
    fn now(&mut self) -> Instant {
        Instant(self())
    }
}

/// A clock that stands still at zero, for graphs that need no time (no interval gate and no
/// latency figures).
#[derive(Clone, Copy, Debug, Default)]
pub struct NoClock;

impl Clock for NoClock {
    fn now(&mut self) -> Instant {
        Instant(0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn interval_across_wrap() {
        let before = Instant(u32::MAX - 9);
        let after = before.plus_micros(30);
        assert_eq!(after, Instant(20));
        assert_eq!(after.micros_since(before), 30);
    }
}
