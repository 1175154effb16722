//! Real accelerometer drivers: the [`Sensor`](crate::sensor::Sensor) stage for vibration and
//! activity work, over embedded-hal 1.0 I2C or SPI, blocking or async.
//!
//! | chip | driver | buses | wake-on-interrupt |
//! |---|---|---|---|
//! | ST LIS3DH | [`Lis3dh`] | I2C (0x18/0x19), SPI | INT1 motion (INT1_CFG/THS/DURATION), FIFO watermark |
//! | Analog Devices ADXL345 | [`Adxl345`] | I2C (0x53/0x1D), SPI | ACTIVITY, FIFO WATERMARK, on INT1 or INT2 |
//!
//! Each driver checks the chip's ID register (typed `WrongDevice { found }` error), writes a
//! typed configuration (`DataRate`, `Range`, resolution/power mode), reads X/Y/Z in one burst and
//! returns `[f32; 3]` in m/s² using the datasheet sensitivities, and gives the bus back with
//! `destroy()`. Register maps are constants in each driver's `register` module.
//!
//! ## Design
//! - **One struct, two modes.** `Lis3dh<I, M>` is generic over the register interface `I`
//!   ([`I2cInterface`], [`SpiInterface`], or your own [`RegisterInterface`]) and a mode marker
//!   `M`: [`Blocking`] drivers (`new_i2c`, `new_spi`) have blocking methods and implement
//!   [`Sensor`](crate::sensor::Sensor); [`Async`] drivers (`new_i2c_async`, `new_spi_async`) have
//!   the same methods as `async fn`s over embedded-hal-async and implement
//!   [`AsyncSensor`](crate::sensor::AsyncSensor).
//! - **Each method written once.** A driver's methods are written as the `async fn`s of the
//!   [`Async`] form; the `maybe-async-cfg` macro derives the [`Blocking`] form from the same text
//!   (dropping `async`/`.await`, renaming `AsyncRegisterInterface` to `RegisterInterface` and so
//!   on). The register interfaces and [`InterruptDriven`]'s `read` are written once the same way,
//!   so the two modes cannot drift apart: they send the same bus traffic.
//! - **Encoding is shared, not duplicated.** The driver keeps typed settings; a pure function
//!   turns them into the register image, and a change writes only the registers that differ.
//!   Decoding (counts to m/s², FIFO status) is pure as well. The method bodies are only bus calls
//!   around these functions.
//! - **No surprises on bad data.** Invalid settings (a NaN threshold, a data rate the mode lacks)
//!   are refused with [`ConfigError`] before anything is written; any byte from the bus decodes
//!   to a finite value. Every driver, in both modes, reports one [`Error<E>`](Error) (bus
//!   failures are `Error::Bus(e)`), and every error has a [`kind()`](ErrorKind).
//! - **Batching.** Each driver's `drain_fifo` moves all buffered samples into a caller-provided
//!   `&mut [[f32; 3]]` (LIS3DH: one burst read; ADXL345: one 6-byte read per entry, as the chip
//!   requires). [`InterruptDriven`] waits for the interrupt pin, drains, and returns the samples
//!   one by one, so the core sleeps between batches and no sample is lost or read twice.
//!
//! Not here: a simulated device (see `crate::sim`), calibration, filtering, other chips.
//!
//! ## Examples
//!
//! A blocking LIS3DH on I2C, as the first stage of a graph:
//!
//! ```
//! use edge_reflex::drivers::lis3dh::{self, Config, DataRate, Lis3dh, Range};
//! use edge_reflex::drivers::Error;
//! use edge_reflex::sensor::Sensor;
//!
//! fn vibration_sensor<I2C: embedded_hal::i2c::I2c>(
//!     i2c: I2C,
//! ) -> Result<impl Sensor<Sample = [f32; 3]>, Error<I2C::Error>> {
//!     let config = Config { data_rate: DataRate::Hz400, range: Range::G4, ..Config::default() };
//!     let mut accel = Lis3dh::new_i2c(i2c, lis3dh::ADDRESS_SA0_HIGH).with_config(config);
//!     accel.init()?; // checks WHO_AM_I, writes the configuration
//!     Ok(accel)
//! }
//!
//! // On a bus where nothing answers like a LIS3DH, `init` says what it found:
//! use embedded_hal_mock::eh1::i2c::{Mock, Transaction};
//! let bus = Mock::new(&[Transaction::write_read(0x19, vec![0x0F], vec![0xE5])]);
//! let mut accel = Lis3dh::new_i2c(bus, lis3dh::ADDRESS_SA0_HIGH);
//! assert_eq!(accel.init(), Err(Error::WrongDevice { found: 0xE5 }));
//! accel.destroy().done();
//! ```
//!
//! A blocking ADXL345 on SPI (an `SpiDevice`, which owns chip select):
//!
//! ```
//! use edge_reflex::drivers::adxl345::{Adxl345, Config, Range, Resolution};
//! use edge_reflex::drivers::Error;
//!
//! fn read_once<SPI: embedded_hal::spi::SpiDevice>(
//!     spi: SPI,
//! ) -> Result<([f32; 3], SPI), Error<SPI::Error>> {
//!     let config = Config { range: Range::G8, resolution: Resolution::Full, ..Config::default() };
//!     let mut accel = Adxl345::new_spi(spi).with_config(config);
//!     accel.init()?; // checks DEVID, configures, starts measuring
//!     let xyz = accel.read_acceleration()?; // m/s²
//!     Ok((xyz, accel.destroy()))
//! }
//! ```
//!
//! Async, waking on the LIS3DH FIFO watermark (INT1) and draining 16 samples per wake-up:
//!
//! ```
//! use edge_reflex::drivers::lis3dh::{self, FifoConfig, FifoMode, Lis3dh};
//! use edge_reflex::drivers::{InterruptDriven, InterruptError};
//! use edge_reflex::sensor::AsyncSensor;
//!
//! async fn batched<I2C, PIN>(i2c: I2C, int1: PIN) -> Result<[f32; 3], impl core::fmt::Debug>
//! where
//!     I2C: embedded_hal_async::i2c::I2c,
//!     PIN: embedded_hal_async::digital::Wait,
//! {
//!     let mut accel = Lis3dh::new_i2c_async(i2c, lis3dh::ADDRESS_SA0_LOW);
//!     accel.init().await.map_err(InterruptError::Driver)?;
//!     let fifo = FifoConfig { mode: FifoMode::Stream, watermark: 16, interrupt: true };
//!     accel.enable_fifo(fifo).await.map_err(InterruptError::Driver)?;
//!     // Queue of 32 = the LIS3DH FIFO depth: one wake-up drains everything.
//!     let mut sensor: InterruptDriven<_, _, 32> = InterruptDriven::new(accel, int1);
//!     sensor.read().await // sleeps on INT1, then one burst read of all stored samples
//! }
//! ```
//!
//! The ADXL345 works the same way (`Adxl345::new_i2c_async`, `enable_fifo` with an
//! `InterruptPin`, or `enable_activity_interrupt` to wake on motion).

pub mod adxl345;
mod error;
mod fifo;
mod interface;
mod interrupt;
pub mod lis3dh;
mod plan;
mod units;

pub use adxl345::Adxl345;
pub use error::{ConfigError, DriverError, Error, ErrorKind};
pub use fifo::{AsyncFifo, Fifo};
pub use interface::{
    Async, AsyncRegisterInterface, Blocking, I2cInterface, Protocol, RegisterInterface,
    RegisterWrite, SpiInterface,
};
pub use interrupt::{InterruptDriven, InterruptError, Trigger};
pub use lis3dh::Lis3dh;
pub use units::{mps2_per_count, xyz_le, Axes, STANDARD_GRAVITY};
