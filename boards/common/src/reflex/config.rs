//! The settings of the board firmware: sensor, wake-up batch, reflex, telemetry period.

use edge_reflex::drift::DriftConfig;
use edge_reflex::drivers::lis3dh::{Config, DataRate, Mode, Range};
use edge_reflex::vibration::VibrationConfig;

/// What [`run_vibration_reflex`](super::run_vibration_reflex) needs to know besides the
/// peripherals. [`Default`] is what every board runs.
#[derive(Clone, Copy, Debug, PartialEq, defmt::Format)]
pub struct ReflexConfig {
    /// LIS3DH I2C address; `None` tries 0x18 (SA0/SDO low) then 0x19 (SA0/SDO high).
    pub address: Option<u8>,
    /// Data rate, range and resolution of the LIS3DH.
    pub sensor: Config,
    /// FIFO level (`1..=31`) at which INT1 rises and wakes the MCU for one burst read.
    pub watermark: u8,
    /// Gate and trigger settings: the same values as the host tests and QEMU boards (the
    /// classifier's, firing at a fault probability of 0.5).
    pub vibration: VibrationConfig,
    /// The drift monitor: baseline warm-up, smoothing and bounds.
    pub drift: DriftConfig,
    /// Telemetry is logged every this many µs (and the counters restart).
    pub telemetry_period_us: u32,
    /// Wait between two attempts to bring the sensor up, ms.
    pub retry_ms: u32,
    /// Consecutive failed reads after which the sensor is brought up again.
    pub recover_after: u32,
}

impl Default for ReflexConfig {
    /// 1.344 kHz (the closest LIS3DH rate to the simulated bearing's 1 kHz, on which the gate
    /// and trigger are tuned), ±2 g, 10-bit; a wake-up every 16 samples (12 ms), which leaves 16
    /// FIFO levels of slack for an inference; telemetry every 10 s.
    fn default() -> Self {
        ReflexConfig {
            address: None,
            sensor: Config { data_rate: DataRate::Hz1344, range: Range::G2, mode: Mode::Normal },
            watermark: 16,
            vibration: VibrationConfig::classifier(),
            drift: DriftConfig::default(),
            telemetry_period_us: 10_000_000,
            retry_ms: 1_000,
            recover_after: 16,
        }
    }
}
