//! Output pins whose active level is low, as seen by code that means "high = on".
//!
//! [`PinAlarm`](edge_reflex::action::PinAlarm) drives its pin high while the alarm is raised. The
//! LEDs of the nRF52840-DK (LED1, P0.13) and of the STM32F411 Black Pill (PC13) light when their
//! pin is *low*; [`ActiveLow`] swaps the two levels so the alarm lights them. This module does not
//! configure pins.

use embedded_hal::digital::{ErrorType, OutputPin};

/// An output pin with the meaning of its levels swapped: `set_high` drives the pin low.
#[derive(Debug)]
pub struct ActiveLow<P>(pub P);

impl<P: ErrorType> ErrorType for ActiveLow<P> {
    type Error = P::Error;
}

impl<P: OutputPin> OutputPin for ActiveLow<P> {
    fn set_low(&mut self) -> Result<(), Self::Error> {
        self.0.set_high()
    }

    fn set_high(&mut self) -> Result<(), Self::Error> {
        self.0.set_low()
    }
}
