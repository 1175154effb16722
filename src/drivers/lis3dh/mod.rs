//! ST LIS3DH 3-axis accelerometer over I2C or SPI, blocking or async.
//!
//! [`Lis3dh`] checks WHO_AM_I, configures data rate, range and resolution, reads X/Y/Z in one
//! burst and converts to m/s² with the datasheet sensitivities. For wake-on-interrupt it
//! configures interrupt generator 1 as a motion detector on INT1 ([`MotionInterrupt`]) and the
//! 32-level FIFO with a watermark on INT1 ([`FifoConfig`]), and drains the FIFO in one burst read
//! ([`Lis3dh::drain_fifo`]). Pair it with [`InterruptDriven`](crate::drivers::InterruptDriven) to
//! sleep until the pin fires.
//!
//! The same struct serves both forms: `Lis3dh<_, Blocking>` (from [`Lis3dh::new_i2c`] /
//! [`Lis3dh::new_spi`]) has blocking methods and implements [`Sensor`](crate::sensor::Sensor);
//! `Lis3dh<_, Async>` (from [`Lis3dh::new_i2c_async`] / [`Lis3dh::new_spi_async`]) has the same
//! methods as `async fn`s and implements [`AsyncSensor`](crate::sensor::AsyncSensor). Each method
//! is written once (the async form; the blocking one is derived from it by `maybe-async-cfg`) and
//! calls the same pure encoders and decoders. Errors are the drivers' shared
//! [`Error`].
//!
//! Not covered: click/tap detection, 6D orientation, interrupt generator 2, the auxiliary ADC and
//! temperature sensor, self-test.

pub mod config;
mod device;
pub mod register;
mod settings;

use core::marker::PhantomData;

/// The drivers' shared error (`drivers::Error`), also reachable here.
pub use super::error::Error;
pub use config::{Config, DataRate, FifoConfig, FifoMode, Mode, MotionInterrupt, Range};
pub use settings::{encode_threshold, fifo_level, sensitivity_mg, threshold_lsb_mg};

use super::interface::{Async, Blocking, I2cInterface, Protocol, SpiInterface};
use settings::Settings;

/// I2C address with the SA0/SDO pin low.
pub const ADDRESS_SA0_LOW: u8 = 0x18;
/// I2C address with the SA0/SDO pin high (the default on most breakout boards).
pub const ADDRESS_SA0_HIGH: u8 = 0x19;

/// Sub-address rules on I2C: MSB set to auto-increment over several registers.
pub const I2C_PROTOCOL: Protocol = Protocol { read_bit: 0, multi_byte_bit: 0x80, read_gap_ns: 0 };

/// Sub-address rules on SPI: bit 7 = read, bit 6 (MS) = auto-increment.
pub const SPI_PROTOCOL: Protocol =
    Protocol { read_bit: 0x80, multi_byte_bit: 0x40, read_gap_ns: 0 };

/// A LIS3DH behind interface `I` (I2C or SPI), in mode `M` ([`Blocking`] or [`Async`]).
#[derive(Debug)]
pub struct Lis3dh<I, M = Blocking> {
    interface: I,
    settings: Settings,
    mode: PhantomData<M>,
}

impl<I2C> Lis3dh<I2cInterface<I2C>, Blocking> {
    /// A blocking driver on `i2c` at `address` ([`ADDRESS_SA0_LOW`] or [`ADDRESS_SA0_HIGH`]).
    /// Call [`init`](Lis3dh::init) before reading.
    pub fn new_i2c(i2c: I2C, address: u8) -> Self {
        Lis3dh::new(I2cInterface::new(i2c, address, I2C_PROTOCOL))
    }
}

impl<SPI> Lis3dh<SpiInterface<SPI>, Blocking> {
    /// A blocking driver on an SPI device (mode 0 or 3, up to 10 MHz).
    pub fn new_spi(spi: SPI) -> Self {
        Lis3dh::new(SpiInterface::new(spi, SPI_PROTOCOL))
    }
}

impl<I2C> Lis3dh<I2cInterface<I2C>, Async> {
    /// An async driver on an embedded-hal-async `i2c` at `address`.
    pub fn new_i2c_async(i2c: I2C, address: u8) -> Self {
        Lis3dh::new_async(I2cInterface::new(i2c, address, I2C_PROTOCOL))
    }
}

impl<SPI> Lis3dh<SpiInterface<SPI>, Async> {
    /// An async driver on an embedded-hal-async SPI device.
    pub fn new_spi_async(spi: SPI) -> Self {
        Lis3dh::new_async(SpiInterface::new(spi, SPI_PROTOCOL))
    }
}

impl<I> Lis3dh<I, Blocking> {
    /// A blocking driver over any [`RegisterInterface`](crate::drivers::RegisterInterface).
    pub fn new(interface: I) -> Self {
        Lis3dh { interface, settings: Settings::default(), mode: PhantomData }
    }
}

impl<I> Lis3dh<I, Async> {
    /// An async driver over any [`AsyncRegisterInterface`](crate::drivers::AsyncRegisterInterface).
    pub fn new_async(interface: I) -> Self {
        Lis3dh { interface, settings: Settings::default(), mode: PhantomData }
    }
}

impl<I, M> Lis3dh<I, M> {
    /// Sets the configuration `init` will write (default: 100 Hz, ±2 g, high resolution).
    pub fn with_config(mut self, config: Config) -> Self {
        self.settings.config = config;
        self
    }

    /// The measurement configuration in effect.
    pub fn config(&self) -> Config {
        self.settings.config
    }

    /// The motion interrupt in effect, if any.
    pub fn motion_interrupt(&self) -> Option<MotionInterrupt> {
        self.settings.motion
    }

    /// The FIFO configuration in effect, if any.
    pub fn fifo_config(&self) -> Option<FifoConfig> {
        self.settings.fifo
    }

    /// Gives the interface back.
    pub fn release_interface(self) -> I {
        self.interface
    }
}

impl<I2C, M> Lis3dh<I2cInterface<I2C>, M> {
    /// Gives the I2C bus back.
    pub fn destroy(self) -> I2C {
        self.interface.release()
    }
}

impl<SPI, M> Lis3dh<SpiInterface<SPI>, M> {
    /// Gives the SPI device back.
    pub fn destroy(self) -> SPI {
        self.interface.release()
    }
}
