//! The first stage: something that produces one [`Sample`] per read, or a typed error.
//!
//! [`Sensor`] is the blocking form, [`AsyncSensor`] the async one (await the data-ready interrupt
//! or the bus instead of spinning). Drivers for real accelerometers live in
//! [`drivers`](crate::drivers); [`FnSensor`] turns any closure (your own ADC read) into a sensor.
//! This module does not buffer samples; that is the [`Window`](crate::window::Window)'s job.

use crate::sample::Sample;

/// A blocking sensor: one call, one sample.
pub trait Sensor {
    /// What one read produces.
    type Sample: Sample;
    /// Why a read failed (usually wraps the bus error).
    type Error: core::fmt::Debug;

    /// Reads one sample.
    fn read(&mut self) -> Result<Self::Sample, Self::Error>;
}

/// An async sensor: the mirror of [`Sensor`] for embedded-hal-async buses and interrupts.
#[allow(async_fn_in_trait)]
pub trait AsyncSensor {
    /// What one read produces.
    type Sample: Sample;
    /// Why a read failed.
    type Error: core::fmt::Debug;

    /// Reads one sample, sleeping while the bus or the data-ready line is busy.
    async fn read(&mut self) -> Result<Self::Sample, Self::Error>;
}

impl<T: Sensor + ?Sized> Sensor for &mut T {
    type Sample = T::Sample;
    type Error = T::Error;
    fn read(&mut self) -> Result<Self::Sample, Self::Error> {
        T::read(self)
    }
}

/// Any closure `FnMut() -> Result<S, E>` as a [`Sensor`] (and an [`AsyncSensor`] that never waits).
///
/// ```
/// use edge_reflex::sensor::{FnSensor, Sensor};
/// let mut adc_counts = [512u16, 530, 498].into_iter().cycle();
/// let mut sensor = FnSensor::new(|| -> Result<f32, ()> {
///     Ok(adc_counts.next().unwrap() as f32 * 3.3 / 1023.0)
/// });
/// assert!((sensor.read().unwrap() - 1.6516).abs() < 1e-3);
/// ```
pub struct FnSensor<F>(F);

impl<F> FnSensor<F> {
    /// Wraps `read`.
    pub fn new(read: F) -> Self {
        FnSensor(read)
    }
}

impl<S: Sample, E: core::fmt::Debug, F: FnMut() -> Result<S, E>> Sensor for FnSensor<F> {
    type Sample = S;
    type Error = E;
    fn read(&mut self) -> Result<S, E> {
        (self.0)()
    }
}

impl<S: Sample, E: core::fmt::Debug, F: FnMut() -> Result<S, E>> AsyncSensor for FnSensor<F> {
    type Sample = S;
    type Error = E;
    async fn read(&mut self) -> Result<S, E> {
        (self.0)()
    }
}
