//! ADXL345 register map and bit fields (Analog Devices datasheet Rev. G, table 19).
//!
//! Only addresses and bit positions live here; what to write is decided in `settings`.

/// Device ID register; reads [`DEVICE_ID`].
pub const DEVID: u8 = 0x00;
/// Value of [`DEVID`] on an ADXL345.
pub const DEVICE_ID: u8 = 0xE5;
/// Activity threshold (62.5 mg/LSB, unsigned).
pub const THRESH_ACT: u8 = 0x24;
/// Activity/inactivity axis enables and ac/dc coupling.
pub const ACT_INACT_CTL: u8 = 0x27;
/// Data rate and low-power mode.
pub const BW_RATE: u8 = 0x2C;
/// Measure/standby, sleep, link.
pub const POWER_CTL: u8 = 0x2D;
/// Interrupt enables.
pub const INT_ENABLE: u8 = 0x2E;
/// Interrupt pin mapping (bit set = INT2, clear = INT1).
pub const INT_MAP: u8 = 0x2F;
/// Interrupt source (reading clears activity/inactivity/tap/free-fall flags).
pub const INT_SOURCE: u8 = 0x30;
/// Data format: self-test, SPI 3-wire, interrupt polarity, full resolution, justify, range.
pub const DATA_FORMAT: u8 = 0x31;
/// First data register: X low byte; X, Y, Z follow as little-endian `i16`s up to 0x37.
pub const DATAX0: u8 = 0x32;
/// FIFO mode, trigger pin and watermark (samples).
pub const FIFO_CTL: u8 = 0x38;
/// FIFO trigger flag and number of entries.
pub const FIFO_STATUS: u8 = 0x39;

/// Bits of [`INT_ENABLE`], [`INT_MAP`] and [`INT_SOURCE`].
pub mod int {
    /// New data ready.
    pub const DATA_READY: u8 = 1 << 7;
    /// Activity above THRESH_ACT.
    pub const ACTIVITY: u8 = 1 << 4;
    /// FIFO holds at least the watermark number of entries.
    pub const WATERMARK: u8 = 1 << 1;
    /// FIFO overrun.
    pub const OVERRUN: u8 = 1 << 0;
}

/// Bits of [`ACT_INACT_CTL`].
pub mod act_inact {
    /// Activity detection ac-coupled (relative to the acceleration when it was enabled).
    pub const ACT_AC: u8 = 1 << 7;
    /// X axis takes part in activity detection.
    pub const ACT_X: u8 = 1 << 6;
    /// Y axis takes part in activity detection.
    pub const ACT_Y: u8 = 1 << 5;
    /// Z axis takes part in activity detection.
    pub const ACT_Z: u8 = 1 << 4;
}

/// Bits of [`BW_RATE`].
pub mod bw_rate {
    /// Reduced-power operation (more noise), 12.5 to 400 Hz only.
    pub const LOW_POWER: u8 = 1 << 4;
}

/// Bits of [`POWER_CTL`].
pub mod power_ctl {
    /// Measurement mode (clear = standby).
    pub const MEASURE: u8 = 1 << 3;
}

/// Bits of [`DATA_FORMAT`].
pub mod data_format {
    /// Full resolution: 4 mg/LSB (nominal 3.9) at every range.
    pub const FULL_RES: u8 = 1 << 3;
}

/// Bits of [`FIFO_CTL`] and [`FIFO_STATUS`].
pub mod fifo {
    /// Position of the FIFO_MODE field in FIFO_CTL.
    pub const MODE_SHIFT: u8 = 6;
    /// Samples (watermark) field of FIFO_CTL.
    pub const SAMPLES_MASK: u8 = 0x1F;
    /// Entries field of FIFO_STATUS.
    pub const ENTRIES_MASK: u8 = 0x3F;
    /// Most entries readable at once: 32 FIFO levels plus the output registers.
    pub const MAX_ENTRIES: usize = 33;
    /// Minimum time between the end of one data read and the next FIFO read (5 µs).
    pub const POP_DELAY_NS: u32 = 5_000;
}
