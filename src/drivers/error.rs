//! What can go wrong in a driver, in terms generic code can count.
//!
//! Every driver here reports one [`Error<E>`], generic over the bus error `E`, in both modes
//! (blocking and async). It says which [`ErrorKind`] it is through [`Error::kind`] (and
//! [`DriverError`], which `InterruptDriven` errors share), so the graph can react to "the bus
//! failed" without knowing the chip. [`ConfigError`] says which setting was refused before
//! anything was written; a failure only one chip can have would be a variant here, named after
//! the chip register that reports it. This module does not retry or recover.

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

/// Why a driver operation failed; the same type for every chip and both modes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Error<E> {
    /// The I2C/SPI bus failed (NACK, arbitration loss, ...).
    Bus(E),
    /// The identification register (LIS3DH WHO_AM_I, ADXL345 DEVID) did not hold the chip's
    /// value: wrong chip, address or wiring.
    WrongDevice {
        /// The value read from the identification register.
        found: u8,
    },
    /// The requested setting is not valid; nothing was written.
    InvalidConfig(ConfigError),
}

impl<E> Error<E> {
    /// The category of this error.
    pub fn kind(&self) -> ErrorKind {
        match self {
            Error::Bus(_) => ErrorKind::Bus,
            Error::WrongDevice { .. } => ErrorKind::WrongDevice,
            Error::InvalidConfig(_) => ErrorKind::InvalidConfig,
        }
    }
}

impl<E> DriverError for Error<E> {
    fn kind(&self) -> ErrorKind {
        Error::kind(self)
    }
}

impl<E> From<ConfigError> for Error<E> {
    fn from(error: ConfigError) -> Self {
        Error::InvalidConfig(error)
    }
}
