//! Accelerometer drivers over embedded-hal 1.0 that implement [`Sensor`](crate::sensor::Sensor).
//!
//! (full docs follow)

pub mod adxl345;
mod error;
mod fifo;
mod interface;
mod interrupt;
pub mod lis3dh;
mod plan;
mod units;

pub use adxl345::Adxl345;
pub use error::{ConfigError, DriverError, ErrorKind};
pub use fifo::{AsyncFifo, Fifo};
pub use interface::{
    Async, AsyncRegisterInterface, Blocking, I2cInterface, Protocol, RegisterInterface,
    RegisterWrite, SpiInterface,
};
pub use interrupt::{InterruptDriven, InterruptError, Trigger};
pub use lis3dh::Lis3dh;
pub use plan::WritePlan;
pub use units::{mps2_per_count, xyz_le, Axes, STANDARD_GRAVITY};
