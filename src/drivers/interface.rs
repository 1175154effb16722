//! How a driver reaches its chip's registers: over I2C or SPI, blocking or async.
//!
//! Both accelerometers here speak the same register protocol over two buses: a one-byte register
//! *sub-address* followed by data. They differ only in the bits OR-ed into that sub-address (a read
//! flag on SPI, a multi-byte/auto-increment flag on both buses), which a chip describes with a
//! [`Protocol`]. [`I2cInterface`] and [`SpiInterface`] implement [`RegisterInterface`] for
//! embedded-hal 1.0 buses and [`AsyncRegisterInterface`] for embedded-hal-async buses; a driver is
//! generic over the interface, so it also runs over a shared bus (embedded-hal-bus devices are
//! `I2c`/`SpiDevice` too) or over your own interface (a fault injector in tests).
//!
//! The driver's *mode* marker ([`Blocking`] or [`Async`]) picks which of the two method sets it has.
//! The traits and the bus code are written once, in their async form; `maybe-async-cfg` derives
//! the blocking form. This module does not know any chip's registers.

/// Mode marker: the driver's methods block on the bus ([`RegisterInterface`]).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Blocking;

/// Mode marker: the driver's methods are `async fn`s ([`AsyncRegisterInterface`]).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Async;

/// How a chip marks its register sub-address byte, and any timing rule between reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Protocol {
    /// OR-ed into the sub-address of every read (SPI R/W bit; `0` on I2C, where the direction is
    /// part of the bus address).
    pub read_bit: u8,
    /// OR-ed into the sub-address when more than one byte is read (auto-increment).
    pub multi_byte_bit: u8,
    /// SPI only: a delay inserted at the start of every read transaction, for chips that need a
    /// gap between reads (ADXL345 FIFO pops). `0` for none.
    pub read_gap_ns: u32,
}

impl Protocol {
    /// The sub-address byte for reading `len` bytes starting at `register`.
    pub const fn read_address(&self, register: u8, len: usize) -> u8 {
        let multi = if len > 1 { self.multi_byte_bit } else { 0 };
        register | self.read_bit | multi
    }
}

/// One register write: `value` into `register`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct RegisterWrite {
    /// Register sub-address (without protocol bits).
    pub register: u8,
    /// Value written.
    pub value: u8,
}

/// Register access; [`RegisterInterface`] blocks on the bus, [`AsyncRegisterInterface`] is its
/// async form (one definition: the blocking trait is generated from the async one).
#[maybe_async_cfg::maybe(
    sync(self = "RegisterInterface"),
    async(keep_self, outer(allow(async_fn_in_trait)))
)]
pub trait AsyncRegisterInterface {
    /// The bus error.
    type Error: core::fmt::Debug;

    /// Writes one register.
    async fn write_register(&mut self, register: u8, value: u8) -> Result<(), Self::Error>;

    /// Reads `buffer.len()` consecutive registers starting at `register` in one bus transaction
    /// (auto-increment when longer than one byte).
    async fn read_registers(&mut self, register: u8, buffer: &mut [u8]) -> Result<(), Self::Error>;

    /// Reads one register.
    async fn read_register(&mut self, register: u8) -> Result<u8, Self::Error> {
        let mut byte = [0u8];
        self.read_registers(register, &mut byte).await?;
        Ok(byte[0])
    }

    /// Performs `writes` in order, stopping at the first error.
    async fn write_all(&mut self, writes: &[RegisterWrite]) -> Result<(), Self::Error> {
        for write in writes {
            self.write_register(write.register, write.value).await?;
        }
        Ok(())
    }
}

/// Registers over I2C: `write(address, [register, value])` and
/// `write_read(address, [sub-address], buffer)`.
#[derive(Debug)]
pub struct I2cInterface<I2C> {
    i2c: I2C,
    address: u8,
    protocol: Protocol,
}

impl<I2C> I2cInterface<I2C> {
    /// Talks to the chip at 7-bit `address` with the chip's I2C `protocol`.
    pub fn new(i2c: I2C, address: u8, protocol: Protocol) -> Self {
        I2cInterface { i2c, address, protocol }
    }

    /// The 7-bit bus address.
    pub fn address(&self) -> u8 {
        self.address
    }

    /// Gives the bus back.
    pub fn release(self) -> I2C {
        self.i2c
    }
}

/// Registers over SPI (`SpiDevice`, which owns chip select): a write is one transaction
/// `[register, value]`; a read is one transaction `[sub-address]` then `buffer.len()` bytes in.
#[derive(Debug)]
pub struct SpiInterface<SPI> {
    spi: SPI,
    protocol: Protocol,
}

impl<SPI> SpiInterface<SPI> {
    /// Talks to the chip behind `spi` with the chip's SPI `protocol`.
    pub fn new(spi: SPI, protocol: Protocol) -> Self {
        SpiInterface { spi, protocol }
    }

    /// Gives the bus back.
    pub fn release(self) -> SPI {
        self.spi
    }
}

/// The bus traffic of both interfaces, written once for embedded-hal-async; the embedded-hal
/// (blocking) form is derived from it.
#[maybe_async_cfg::maybe(
    idents(
        AsyncRegisterInterface(sync = "RegisterInterface", async),
        embedded_hal_async(sync = "embedded_hal", async)
    ),
    sync(self = "blocking"),
    async(self = "asynch")
)]
mod bus {
    use super::{AsyncRegisterInterface, I2cInterface, SpiInterface};
    use embedded_hal_async::spi::Operation;

    impl<I2C: embedded_hal_async::i2c::I2c> AsyncRegisterInterface for I2cInterface<I2C> {
        type Error = I2C::Error;

        async fn write_register(&mut self, register: u8, value: u8) -> Result<(), Self::Error> {
            self.i2c.write(self.address, &[register, value]).await
        }

        async fn read_registers(
            &mut self,
            register: u8,
            buffer: &mut [u8],
        ) -> Result<(), Self::Error> {
            let sub_address = self.protocol.read_address(register, buffer.len());
            self.i2c.write_read(self.address, &[sub_address], buffer).await
        }
    }

    impl<SPI: embedded_hal_async::spi::SpiDevice> AsyncRegisterInterface for SpiInterface<SPI> {
        type Error = SPI::Error;

        async fn write_register(&mut self, register: u8, value: u8) -> Result<(), Self::Error> {
            self.spi.write(&[register, value]).await
        }

        async fn read_registers(
            &mut self,
            register: u8,
            buffer: &mut [u8],
        ) -> Result<(), Self::Error> {
            let sub_address = [self.protocol.read_address(register, buffer.len())];
            let gap = self.protocol.read_gap_ns;
            if gap > 0 {
                self.spi
                    .transaction(&mut [
                        Operation::DelayNs(gap),
                        Operation::Write(&sub_address),
                        Operation::Read(buffer),
                    ])
                    .await
            } else {
                self.spi
                    .transaction(&mut [Operation::Write(&sub_address), Operation::Read(buffer)])
                    .await
            }
        }
    }
}
