//! Finding and configuring the LIS3DH: address probe, FIFO watermark on INT1, retries.
//!
//! The sensor may be missing, wired to the other address, or still booting; none of that is a
//! reason to panic. [`bring_up`] keeps trying, logging why each attempt failed, until the chip
//! answers and accepts the configuration. [`configure`] is also what recovery after repeated read
//! failures calls.

use edge_reflex::drivers::lis3dh::{
    self, FifoConfig, FifoMode, Lis3dh, ADDRESS_SA0_HIGH, ADDRESS_SA0_LOW,
};
use edge_reflex::drivers::{Async, AsyncRegisterInterface, I2cInterface};
use embedded_hal_async::delay::DelayNs;
use embedded_hal_async::i2c::I2c;

use super::ReflexConfig;

/// Time the LIS3DH needs after power-up before it answers (datasheet: 5 ms boot procedure).
const BOOT_MS: u32 = 5;

/// The async LIS3DH on the board's I2C bus.
pub type Accelerometer<I2C> = Lis3dh<I2cInterface<I2C>, Async>;

/// Probes the configured address (or both), initialises the chip and enables its FIFO in stream
/// mode with the watermark on INT1. Retries every `config.retry_ms` until it succeeds.
pub async fn bring_up<I2C: I2c, D: DelayNs>(
    mut i2c: I2C,
    delay: &mut D,
    config: &ReflexConfig,
) -> Accelerometer<I2C> {
    delay.delay_ms(BOOT_MS).await;
    let single;
    let candidates: &[u8] = match config.address {
        Some(address) => {
            single = [address];
            &single
        }
        None => &[ADDRESS_SA0_LOW, ADDRESS_SA0_HIGH],
    };
    loop {
        for &address in candidates {
            let mut sensor = Lis3dh::new_i2c_async(i2c, address).with_config(config.sensor);
            match configure(&mut sensor, config).await {
                Ok(()) => {
                    defmt::info!(
                        "LIS3DH at {=u8:#x}: {}, FIFO watermark {=u8} on INT1",
                        address,
                        config.sensor,
                        config.watermark
                    );
                    return sensor;
                }
                Err(error) => {
                    log_error(address, &error);
                    i2c = sensor.destroy();
                }
            }
        }
        delay.delay_ms(config.retry_ms).await;
    }
}

/// Checks WHO_AM_I, writes the measurement configuration (FIFO off, which empties it), then
/// enables the FIFO in stream mode with the watermark routed to INT1.
pub async fn configure<I: AsyncRegisterInterface>(
    sensor: &mut Lis3dh<I, Async>,
    config: &ReflexConfig,
) -> Result<(), lis3dh::Error<I::Error>> {
    sensor.init().await?;
    let fifo = FifoConfig { mode: FifoMode::Stream, watermark: config.watermark, interrupt: true };
    sensor.enable_fifo(fifo).await
}

/// Logs a failed bring-up without requiring the bus error to be `defmt::Format`.
pub fn log_error<E>(address: u8, error: &lis3dh::Error<E>) {
    match error {
        lis3dh::Error::WrongDevice { found } => {
            defmt::warn!("no LIS3DH at {=u8:#x}: WHO_AM_I reads {=u8:#x}", address, found)
        }
        lis3dh::Error::InvalidConfig(reason) => {
            defmt::error!("LIS3DH at {=u8:#x} refuses the configuration: {}", address, reason)
        }
        lis3dh::Error::Bus(_) => defmt::warn!("no LIS3DH at {=u8:#x}: bus error", address),
    }
}
