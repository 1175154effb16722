//! What can go wrong in a driver, in terms generic code can count.
//!
//! Each driver has its own error enum generic over the bus error (`lis3dh::Error<E>`,
//! `adxl345::Error<E>`); all of them report an [`ErrorKind`] through [`DriverError::kind`], so the
//! graph can react to "the bus failed" without knowing the chip. [`ConfigError`] says which setting
//! was refused before anything was written. This module does not retry or recover.

/// The category of a driver error.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum ErrorKind {
    /// The bus (I2C/SPI) reported an error: NACK, arbitration loss, overrun, ...
    Bus,
    /// The identification register did not hold the chip's value (wrong chip, address or wiring).
    WrongDevice,
    /// A requested setting is not valid for the chip; nothing was written.
    InvalidConfig,
    /// The interrupt pin could not be read or waited on.
    Pin,
    /// The interrupt fired but the FIFO held no sample.
    NoData,
}

/// A setting the chip cannot take; reported before any register is written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum ConfigError {
    /// The output data rate is not available in the chosen power/resolution mode.
    DataRateUnavailable,
    /// A threshold is NaN, negative, or beyond what its register encodes at the current range.
    Threshold,
    /// A duration does not fit its register.
    Duration,
    /// The FIFO watermark is outside `1..=31`.
    Watermark,
}

/// Errors that can say which [`ErrorKind`] they are.
pub trait DriverError {
    /// The category of this error.
    fn kind(&self) -> ErrorKind;
}
