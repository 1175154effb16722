//! Analog Devices ADXL345 3-axis accelerometer over I2C or SPI, blocking or async.
//!
//! [`Adxl345`] checks DEVID, configures data rate, range, resolution and power mode, reads X/Y/Z
//! in one burst and converts to m/s² with the datasheet's typical sensitivity (256 LSB/g in full
//! resolution). For wake-on-interrupt it configures the ACTIVITY interrupt
//! ([`ActivityInterrupt`]) and the FIFO with a WATERMARK interrupt ([`FifoConfig`]) on INT1 or
//! INT2, and drains the FIFO ([`Adxl345::drain_fifo`]).
//!
//! **FIFO reads:** the ADXL345 pops one FIFO entry per read of the data registers, so a drain is
//! one FIFO_STATUS read followed by one 6-byte multi-byte read of DATAX0..DATAZ1 *per entry*
//! (reading further does not reach the next entry). The datasheet requires 5 µs between the end
//! of one data read and the next FIFO/FIFO_STATUS read: on I2C (≤ 400 kHz) the next transfer's
//! addressing alone takes longer; on SPI the driver starts every read transaction with a 5 µs
//! delay (`SPI_PROTOCOL.read_gap_ns`), which covers clocks above 1.5 MHz.
//!
//! `Adxl345<_, Blocking>` implements [`Sensor`](crate::sensor::Sensor), `Adxl345<_, Async>`
//! implements [`AsyncSensor`](crate::sensor::AsyncSensor); each method is written once (the async
//! form; the blocking one is derived from it by `maybe-async-cfg`) around the shared pure encoders.
//! Errors are the drivers' shared [`Error`].
//! Not covered: tap, double tap, free fall, inactivity, auto-sleep, offsets, self-test.

pub mod config;
mod device;
pub mod register;
mod settings;

use core::marker::PhantomData;

/// The drivers' shared error (`drivers::Error`), also reachable here.
pub use super::error::Error;
pub use config::{
    ActivityInterrupt, Config, DataRate, FifoConfig, FifoMode, InterruptPin, InterruptSource,
    PowerMode, Range, Resolution,
};
pub use settings::{
    encode_activity_threshold, fifo_entries, interrupt_source, lsb_per_g, ACTIVITY_THRESHOLD_LSB_MG,
};

use super::interface::{Async, Blocking, I2cInterface, Protocol, SpiInterface};
use settings::Settings;

/// I2C address with the ALT ADDRESS pin low.
pub const ADDRESS_ALT_LOW: u8 = 0x53;
/// I2C address with the ALT ADDRESS pin high.
pub const ADDRESS_ALT_HIGH: u8 = 0x1D;

/// Sub-address rules on I2C: multi-byte reads auto-increment without a flag.
pub const I2C_PROTOCOL: Protocol = Protocol { read_bit: 0, multi_byte_bit: 0, read_gap_ns: 0 };

/// Sub-address rules on SPI (4-wire, mode 3): bit 7 = read, bit 6 (MB) = multi-byte, and the
/// 5 µs FIFO pop delay before every read.
pub const SPI_PROTOCOL: Protocol =
    Protocol { read_bit: 0x80, multi_byte_bit: 0x40, read_gap_ns: register::fifo::POP_DELAY_NS };

/// An ADXL345 behind interface `I` (I2C or SPI), in mode `M` ([`Blocking`] or [`Async`]).
#[derive(Debug)]
pub struct Adxl345<I, M = Blocking> {
    interface: I,
    settings: Settings,
    mode: PhantomData<M>,
}

impl<I2C> Adxl345<I2cInterface<I2C>, Blocking> {
    /// A blocking driver on `i2c` at `address` ([`ADDRESS_ALT_LOW`] or [`ADDRESS_ALT_HIGH`]).
    /// Call [`init`](Adxl345::init) before reading.
    pub fn new_i2c(i2c: I2C, address: u8) -> Self {
        Adxl345::new(I2cInterface::new(i2c, address, I2C_PROTOCOL))
    }
}

impl<SPI> Adxl345<SpiInterface<SPI>, Blocking> {
    /// A blocking driver on a 4-wire SPI device (mode 3, up to 5 MHz).
    pub fn new_spi(spi: SPI) -> Self {
        Adxl345::new(SpiInterface::new(spi, SPI_PROTOCOL))
    }
}

impl<I2C> Adxl345<I2cInterface<I2C>, Async> {
    /// An async driver on an embedded-hal-async `i2c` at `address`.
    pub fn new_i2c_async(i2c: I2C, address: u8) -> Self {
        Adxl345::new_async(I2cInterface::new(i2c, address, I2C_PROTOCOL))
    }
}

impl<SPI> Adxl345<SpiInterface<SPI>, Async> {
    /// An async driver on an embedded-hal-async 4-wire SPI device.
    pub fn new_spi_async(spi: SPI) -> Self {
        Adxl345::new_async(SpiInterface::new(spi, SPI_PROTOCOL))
    }
}

impl<I> Adxl345<I, Blocking> {
    /// A blocking driver over any [`RegisterInterface`](crate::drivers::RegisterInterface).
    pub fn new(interface: I) -> Self {
        Adxl345 { interface, settings: Settings::default(), mode: PhantomData }
    }
}

impl<I> Adxl345<I, Async> {
    /// An async driver over any [`AsyncRegisterInterface`](crate::drivers::AsyncRegisterInterface).
    pub fn new_async(interface: I) -> Self {
        Adxl345 { interface, settings: Settings::default(), mode: PhantomData }
    }
}

impl<I, M> Adxl345<I, M> {
    /// Sets the configuration `init` will write (default: 100 Hz, ±2 g, full resolution, normal
    /// power).
    pub fn with_config(mut self, config: Config) -> Self {
        self.settings.config = config;
        self
    }

    /// The measurement configuration in effect.
    pub fn config(&self) -> Config {
        self.settings.config
    }

    /// The activity interrupt in effect, if any.
    pub fn activity_interrupt(&self) -> Option<ActivityInterrupt> {
        self.settings.activity
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

impl<I2C, M> Adxl345<I2cInterface<I2C>, M> {
    /// Gives the I2C bus back.
    pub fn destroy(self) -> I2C {
        self.interface.release()
    }
}

impl<SPI, M> Adxl345<SpiInterface<SPI>, M> {
    /// Gives the SPI device back.
    pub fn destroy(self) -> SPI {
        self.interface.release()
    }
}
