//! ADXL345 driver errors, generic over the bus error.

use crate::drivers::error::{ConfigError, DriverError, ErrorKind};

/// Why an ADXL345 operation failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Error<E> {
    /// The I2C/SPI bus failed (NACK, arbitration loss, ...).
    Bus(E),
    /// DEVID did not read 0xE5; `found` is what it read.
    WrongDevice {
        /// The value read from DEVID.
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
