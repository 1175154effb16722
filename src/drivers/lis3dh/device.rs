//! LIS3DH methods, written once: bus I/O around the shared encoders in `settings`.
//!
//! The body below is the async form (`Lis3dh<I, Async>` over an
//! [`AsyncRegisterInterface`](crate::drivers::AsyncRegisterInterface)); `maybe_async_cfg` derives
//! the blocking form (`Lis3dh<I, Blocking>` over a
//! [`RegisterInterface`](crate::drivers::RegisterInterface)) from the same text by dropping
//! `async`/`.await` and renaming the mode-specific names listed in `idents`. Both forms therefore
//! send the same register traffic.

#[maybe_async_cfg::maybe(
    idents(
        Async(sync = "Blocking", async),
        AsyncRegisterInterface(sync = "RegisterInterface", async),
        AsyncSensor(sync = "Sensor", async),
        AsyncFifo(sync = "Fifo", async),
    ),
    sync(self = "blocking"),
    async(self = "asynch")
)]
mod methods {
    use super::super::config::{Config, DataRate, FifoConfig, Mode, MotionInterrupt, Range};
    use super::super::register::{self as reg, fifo, status};
    use super::super::settings::{fifo_level, Settings};
    use super::super::{Error, Lis3dh};
    use crate::drivers::fifo::{store_one, AsyncFifo};
    use crate::drivers::interface::{Async, AsyncRegisterInterface};
    use crate::drivers::plan::WritePlan;
    use crate::sensor::AsyncSensor;

    impl<I: AsyncRegisterInterface> Lis3dh<I, Async> {
        /// Checks WHO_AM_I, then writes the configuration with the motion interrupt and FIFO off,
        /// putting every register the driver owns into a known state.
        pub async fn init(&mut self) -> Result<(), Error<I::Error>> {
            let settings = Settings { config: self.settings.config, ..Settings::default() };
            let image = settings.image()?;
            let found = self.who_am_i().await?;
            if found != reg::DEVICE_ID {
                return Err(Error::WrongDevice { found });
            }
            let plan = WritePlan::all(image);
            self.interface.write_all(plan.as_slice()).await.map_err(Error::Bus)?;
            self.settings = settings;
            Ok(())
        }

        /// Reads WHO_AM_I (0x33 on a LIS3DH).
        pub async fn who_am_i(&mut self) -> Result<u8, Error<I::Error>> {
            self.interface.read_register(reg::WHO_AM_I).await.map_err(Error::Bus)
        }

        /// Writes the registers that differ between the current settings and `new`, then adopts them.
        async fn apply(&mut self, new: Settings) -> Result<(), Error<I::Error>> {
            let plan = self.settings.plan_to(&new)?;
            self.interface.write_all(plan.as_slice()).await.map_err(Error::Bus)?;
            self.settings = new;
            Ok(())
        }

        /// Sets data rate, range and mode together.
        pub async fn set_config(&mut self, config: Config) -> Result<(), Error<I::Error>> {
            self.apply(Settings { config, ..self.settings }).await
        }

        /// Sets the output data rate.
        pub async fn set_data_rate(&mut self, data_rate: DataRate) -> Result<(), Error<I::Error>> {
            self.set_config(Config { data_rate, ..self.settings.config }).await
        }

        /// Sets the full-scale range (re-encodes the motion threshold if one is set).
        pub async fn set_range(&mut self, range: Range) -> Result<(), Error<I::Error>> {
            self.set_config(Config { range, ..self.settings.config }).await
        }

        /// Sets the power/resolution mode.
        pub async fn set_mode(&mut self, mode: Mode) -> Result<(), Error<I::Error>> {
            self.set_config(Config { mode, ..self.settings.config }).await
        }

        /// Configures interrupt generator 1 as a motion detector on INT1.
        pub async fn enable_motion_interrupt(
            &mut self,
            motion: MotionInterrupt,
        ) -> Result<(), Error<I::Error>> {
            self.apply(Settings { motion: Some(motion), ..self.settings }).await
        }

        /// Turns the motion interrupt off.
        pub async fn disable_motion_interrupt(&mut self) -> Result<(), Error<I::Error>> {
            self.apply(Settings { motion: None, ..self.settings }).await
        }

        /// Routes "new X/Y/Z data" (ZYXDA) to INT1: the pin rises with each sample and falls when it
        /// is read. Pair with [`InterruptDriven`](crate::drivers::InterruptDriven) and the FIFO off
        /// for one wake-up per sample.
        pub async fn enable_data_ready_interrupt(&mut self) -> Result<(), Error<I::Error>> {
            self.apply(Settings { data_ready: true, ..self.settings }).await
        }

        /// Stops routing data-ready to INT1.
        pub async fn disable_data_ready_interrupt(&mut self) -> Result<(), Error<I::Error>> {
            self.apply(Settings { data_ready: false, ..self.settings }).await
        }

        /// Enables the FIFO with a watermark (and the watermark on INT1 if asked).
        pub async fn enable_fifo(&mut self, config: FifoConfig) -> Result<(), Error<I::Error>> {
            self.apply(Settings { fifo: Some(config), ..self.settings }).await
        }

        /// Puts the FIFO back in bypass mode (this also empties it).
        pub async fn disable_fifo(&mut self) -> Result<(), Error<I::Error>> {
            self.apply(Settings { fifo: None, ..self.settings }).await
        }

        /// Whether a new X/Y/Z sample is ready (STATUS_REG ZYXDA).
        pub async fn data_ready(&mut self) -> Result<bool, Error<I::Error>> {
            let status = self.interface.read_register(reg::STATUS_REG).await.map_err(Error::Bus)?;
            Ok(status & status::ZYXDA != 0)
        }

        /// Reads the six output bytes in one burst and converts them to m/s². With the FIFO enabled
        /// this pops the oldest FIFO level.
        pub async fn read_acceleration(&mut self) -> Result<[f32; 3], Error<I::Error>> {
            let mut bytes = [0u8; 6];
            self.interface.read_registers(reg::OUT_X_L, &mut bytes).await.map_err(Error::Bus)?;
            Ok(self.settings.decode(&bytes))
        }

        /// Number of unread samples in the FIFO (FIFO_SRC_REG; 32 on overrun).
        pub async fn fifo_len(&mut self) -> Result<usize, Error<I::Error>> {
            let src = self.interface.read_register(reg::FIFO_SRC_REG).await.map_err(Error::Bus)?;
            Ok(fifo_level(src))
        }

        /// Moves every available sample, up to `out.len()`, into `out` (oldest first); returns how
        /// many.
        ///
        /// With the FIFO enabled: reads FIFO_SRC_REG, then all `n` samples in **one** burst read of
        /// `6 * n` bytes from OUT_X_L with auto-increment (the address wraps from OUT_Z_H back to
        /// OUT_X_L while the FIFO is on, each wrap popping one level). Without the FIFO: reads
        /// STATUS_REG and, if a new sample is ready, that one sample, so a sample is never returned
        /// twice.
        pub async fn drain_fifo(&mut self, out: &mut [[f32; 3]]) -> Result<usize, Error<I::Error>> {
            if out.is_empty() {
                return Ok(0);
            }
            if !self.settings.fifo_enabled() {
                if !self.data_ready().await? {
                    return Ok(0);
                }
                let sample = self.read_acceleration().await?;
                return Ok(store_one(sample, out));
            }
            let count = self.fifo_len().await?.min(out.len());
            if count == 0 {
                return Ok(0);
            }
            let mut storage = [0u8; 6 * fifo::DEPTH];
            let bytes = Settings::burst_buffer(&mut storage, count);
            self.interface.read_registers(reg::OUT_X_L, bytes).await.map_err(Error::Bus)?;
            Ok(self.settings.decode_batch(bytes, out))
        }
    }

    impl<I: AsyncRegisterInterface> AsyncSensor for Lis3dh<I, Async> {
        type Sample = [f32; 3];
        type Error = Error<I::Error>;

        /// One X/Y/Z sample in m/s² ([`Lis3dh::read_acceleration`]).
        async fn read(&mut self) -> Result<[f32; 3], Self::Error> {
            self.read_acceleration().await
        }
    }

    impl<I: AsyncRegisterInterface> AsyncFifo for Lis3dh<I, Async> {
        type Error = Error<I::Error>;

        async fn drain_fifo(&mut self, out: &mut [[f32; 3]]) -> Result<usize, Self::Error> {
            Lis3dh::<I, Async>::drain_fifo(self, out).await
        }
    }
}
