//! ADXL345 methods, written once: bus I/O around the shared encoders in `settings`.
//!
//! The body below is the async form (`Adxl345<I, Async>` over an
//! [`AsyncRegisterInterface`](crate::drivers::AsyncRegisterInterface)); `maybe_async_cfg` derives
//! the blocking form (`Adxl345<I, Blocking>` over a
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
    use super::super::config::{
        ActivityInterrupt, Config, DataRate, FifoConfig, InterruptPin, InterruptSource,
    };
    use super::super::config::{PowerMode, Range, Resolution};
    use super::super::register as reg;
    use super::super::settings::{fifo_entries, interrupt_source, Settings};
    use super::super::{Adxl345, Error};
    use crate::drivers::fifo::{store_one, AsyncFifo};
    use crate::drivers::interface::{Async, AsyncRegisterInterface};
    use crate::drivers::plan::WritePlan;
    use crate::sensor::AsyncSensor;

    impl<I: AsyncRegisterInterface> Adxl345<I, Async> {
        /// Checks DEVID, puts the chip in standby, writes the configuration with the activity
        /// interrupt and FIFO off, then starts measuring.
        pub async fn init(&mut self) -> Result<(), Error<I::Error>> {
            let settings = Settings { config: self.settings.config, ..Settings::default() };
            let image = settings.image()?;
            let found = self.device_id().await?;
            if found != reg::DEVICE_ID {
                return Err(Error::WrongDevice { found });
            }
            self.interface.write_register(reg::POWER_CTL, 0).await.map_err(Error::Bus)?;
            let plan = WritePlan::all(image);
            self.interface.write_all(plan.as_slice()).await.map_err(Error::Bus)?;
            self.settings = settings;
            Ok(())
        }

        /// Reads DEVID (0xE5 on an ADXL345).
        pub async fn device_id(&mut self) -> Result<u8, Error<I::Error>> {
            self.interface.read_register(reg::DEVID).await.map_err(Error::Bus)
        }

        /// Writes the registers that differ between the current settings and `new`, then adopts them.
        async fn apply(&mut self, new: Settings) -> Result<(), Error<I::Error>> {
            let plan = self.settings.plan_to(&new)?;
            self.interface.write_all(plan.as_slice()).await.map_err(Error::Bus)?;
            self.settings = new;
            Ok(())
        }

        /// Sets data rate, range, resolution and power mode together.
        pub async fn set_config(&mut self, config: Config) -> Result<(), Error<I::Error>> {
            self.apply(Settings { config, ..self.settings }).await
        }

        /// Sets the output data rate.
        pub async fn set_data_rate(&mut self, data_rate: DataRate) -> Result<(), Error<I::Error>> {
            self.set_config(Config { data_rate, ..self.settings.config }).await
        }

        /// Sets the full-scale range.
        pub async fn set_range(&mut self, range: Range) -> Result<(), Error<I::Error>> {
            self.set_config(Config { range, ..self.settings.config }).await
        }

        /// Sets the resolution.
        pub async fn set_resolution(
            &mut self,
            resolution: Resolution,
        ) -> Result<(), Error<I::Error>> {
            self.set_config(Config { resolution, ..self.settings.config }).await
        }

        /// Sets the power mode.
        pub async fn set_power_mode(&mut self, power: PowerMode) -> Result<(), Error<I::Error>> {
            self.set_config(Config { power, ..self.settings.config }).await
        }

        /// Configures and enables the ACTIVITY interrupt.
        pub async fn enable_activity_interrupt(
            &mut self,
            activity: ActivityInterrupt,
        ) -> Result<(), Error<I::Error>> {
            self.apply(Settings { activity: Some(activity), ..self.settings }).await
        }

        /// Turns the ACTIVITY interrupt off.
        pub async fn disable_activity_interrupt(&mut self) -> Result<(), Error<I::Error>> {
            self.apply(Settings { activity: None, ..self.settings }).await
        }

        /// Enables the DATA_READY interrupt on `pin`: set with each sample, cleared when it is read.
        /// Pair with [`InterruptDriven`](crate::drivers::InterruptDriven) and the FIFO off for one
        /// wake-up per sample.
        pub async fn enable_data_ready_interrupt(
            &mut self,
            pin: InterruptPin,
        ) -> Result<(), Error<I::Error>> {
            self.apply(Settings { data_ready: Some(pin), ..self.settings }).await
        }

        /// Turns the DATA_READY interrupt off.
        pub async fn disable_data_ready_interrupt(&mut self) -> Result<(), Error<I::Error>> {
            self.apply(Settings { data_ready: None, ..self.settings }).await
        }

        /// Enables the FIFO with a watermark (and the WATERMARK interrupt if a pin is given).
        pub async fn enable_fifo(&mut self, config: FifoConfig) -> Result<(), Error<I::Error>> {
            self.apply(Settings { fifo: Some(config), ..self.settings }).await
        }

        /// Puts the FIFO back in bypass mode.
        pub async fn disable_fifo(&mut self) -> Result<(), Error<I::Error>> {
            self.apply(Settings { fifo: None, ..self.settings }).await
        }

        /// Reads INT_SOURCE (this clears a latched ACTIVITY flag, and with it the pin).
        pub async fn interrupt_source(&mut self) -> Result<InterruptSource, Error<I::Error>> {
            let byte = self.interface.read_register(reg::INT_SOURCE).await.map_err(Error::Bus)?;
            Ok(interrupt_source(byte))
        }

        /// Reads DATAX0..DATAZ1 in one multi-byte burst and converts to m/s². With the FIFO enabled
        /// this pops one FIFO entry.
        pub async fn read_acceleration(&mut self) -> Result<[f32; 3], Error<I::Error>> {
            let mut bytes = [0u8; 6];
            self.interface.read_registers(reg::DATAX0, &mut bytes).await.map_err(Error::Bus)?;
            Ok(self.settings.decode(&bytes))
        }

        /// Entries readable from the FIFO (FIFO_STATUS, at most 33).
        pub async fn fifo_len(&mut self) -> Result<usize, Error<I::Error>> {
            let status =
                self.interface.read_register(reg::FIFO_STATUS).await.map_err(Error::Bus)?;
            Ok(fifo_entries(status))
        }

        /// Moves every available sample, up to `out.len()`, into `out` (oldest first); returns how
        /// many.
        ///
        /// With the FIFO enabled: reads INT_SOURCE first if the activity interrupt is on (to release
        /// the latched pin), then FIFO_STATUS, then one 6-byte burst from DATAX0 per entry (the chip
        /// pops one entry per data read; see the [module docs](crate::drivers::adxl345)). If the bus fails after some
        /// entries were popped, those are returned and the error shows on the next access, so popped
        /// samples are not thrown away. Without the FIFO: reads INT_SOURCE and, if DATA_READY is set,
        /// the one new sample.
        pub async fn drain_fifo(&mut self, out: &mut [[f32; 3]]) -> Result<usize, Error<I::Error>> {
            if out.is_empty() {
                return Ok(0);
            }
            if !self.settings.fifo_enabled() {
                if !self.interrupt_source().await?.data_ready {
                    return Ok(0);
                }
                let sample = self.read_acceleration().await?;
                return Ok(store_one(sample, out));
            }
            if self.settings.activity_enabled() {
                self.interrupt_source().await?;
            }
            let count = self.fifo_len().await?;
            let mut drained = 0;
            for slot in out.iter_mut().take(count) {
                match self.read_acceleration().await {
                    Ok(sample) => {
                        *slot = sample;
                        drained += 1;
                    }
                    Err(error) if drained == 0 => return Err(error),
                    Err(_) => break,
                }
            }
            Ok(drained)
        }
    }

    impl<I: AsyncRegisterInterface> AsyncSensor for Adxl345<I, Async> {
        type Sample = [f32; 3];
        type Error = Error<I::Error>;

        /// One X/Y/Z sample in m/s² ([`Adxl345::read_acceleration`]).
        async fn read(&mut self) -> Result<[f32; 3], Self::Error> {
            self.read_acceleration().await
        }
    }

    impl<I: AsyncRegisterInterface> AsyncFifo for Adxl345<I, Async> {
        type Error = Error<I::Error>;

        async fn drain_fifo(&mut self, out: &mut [[f32; 3]]) -> Result<usize, Self::Error> {
            Adxl345::<I, Async>::drain_fifo(self, out).await
        }
    }
}
