//! LIS3DH typed configuration: data rate, range, resolution, motion interrupt, FIFO.
//!
//! Plain values with their datasheet meaning; turning them into register bytes is `settings`'
//! job. Nothing here touches the bus.

use crate::drivers::units::Axes;

/// Output data rate (CTRL_REG1 `ODR[3:0]`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum DataRate {
    /// Power-down: no measurement.
    PowerDown,
    /// 1 Hz.
    Hz1,
    /// 10 Hz.
    Hz10,
    /// 25 Hz.
    Hz25,
    /// 50 Hz.
    Hz50,
    /// 100 Hz.
    #[default]
    Hz100,
    /// 200 Hz.
    Hz200,
    /// 400 Hz.
    Hz400,
    /// 1.6 kHz, low-power mode only.
    LowPowerHz1600,
    /// 1.344 kHz in normal and high-resolution mode; 5.376 kHz in low-power mode.
    Hz1344,
}

impl DataRate {
    /// The `ODR[3:0]` code.
    pub const fn bits(self) -> u8 {
        match self {
            DataRate::PowerDown => 0b0000,
            DataRate::Hz1 => 0b0001,
            DataRate::Hz10 => 0b0010,
            DataRate::Hz25 => 0b0011,
            DataRate::Hz50 => 0b0100,
            DataRate::Hz100 => 0b0101,
            DataRate::Hz200 => 0b0110,
            DataRate::Hz400 => 0b0111,
            DataRate::LowPowerHz1600 => 0b1000,
            DataRate::Hz1344 => 0b1001,
        }
    }

    /// Samples per second in `mode` (0 when powered down).
    pub const fn hz(self, mode: Mode) -> f32 {
        match (self, mode) {
            (DataRate::PowerDown, _) => 0.0,
            (DataRate::Hz1, _) => 1.0,
            (DataRate::Hz10, _) => 10.0,
            (DataRate::Hz25, _) => 25.0,
            (DataRate::Hz50, _) => 50.0,
            (DataRate::Hz100, _) => 100.0,
            (DataRate::Hz200, _) => 200.0,
            (DataRate::Hz400, _) => 400.0,
            (DataRate::LowPowerHz1600, _) => 1600.0,
            (DataRate::Hz1344, Mode::LowPower) => 5376.0,
            (DataRate::Hz1344, _) => 1344.0,
        }
    }
}

/// Full-scale range (CTRL_REG4 `FS[1:0]`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum Range {
    /// ±2 g.
    #[default]
    G2,
    /// ±4 g.
    G4,
    /// ±8 g.
    G8,
    /// ±16 g.
    G16,
}

impl Range {
    /// The `FS[1:0]` code.
    pub const fn bits(self) -> u8 {
        match self {
            Range::G2 => 0b00,
            Range::G4 => 0b01,
            Range::G8 => 0b10,
            Range::G16 => 0b11,
        }
    }
}

/// Power/resolution mode (CTRL_REG1 LPen and CTRL_REG4 HR).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum Mode {
    /// 8-bit data, lowest current.
    LowPower,
    /// 10-bit data.
    Normal,
    /// 12-bit data.
    #[default]
    HighResolution,
}

impl Mode {
    /// Significant bits of each output sample.
    pub const fn bits_per_sample(self) -> u8 {
        match self {
            Mode::LowPower => 8,
            Mode::Normal => 10,
            Mode::HighResolution => 12,
        }
    }
}

/// Measurement configuration written by `init` and the setters.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Config {
    /// Output data rate.
    pub data_rate: DataRate,
    /// Full-scale range.
    pub range: Range,
    /// Power/resolution mode.
    pub mode: Mode,
}

/// Wake-on-motion: interrupt generator 1 (OR of the selected axes' high events) on the INT1 pin.
///
/// INT1 goes high while any selected axis exceeds `threshold` for at least `duration` samples; it
/// is not latched, so it falls again when the motion stops.
#[derive(Clone, Copy, Debug, PartialEq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct MotionInterrupt {
    /// Threshold in m/s², encoded into INT1_THS with the LSB of the current range (16, 32, 62 or
    /// 186 mg) and rounded; it must fit 7 bits.
    pub threshold: f32,
    /// Minimum duration in samples (1/ODR each), `0..=127` (INT1_DURATION).
    pub duration: u8,
    /// Axes whose high event raises the interrupt.
    pub axes: Axes,
    /// Compare the high-pass-filtered acceleration (ignores gravity and slow tilt) instead of the
    /// raw one (CTRL_REG2 HP_IA1).
    pub high_pass: bool,
}

/// FIFO mode (FIFO_CTRL_REG `FM[1:0]`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum FifoMode {
    /// Fill 32 levels, then stop collecting; it collects again only after a reset (bypass, i.e.
    /// `disable_fifo` then `enable_fifo`). Good for one capture; use `Stream` for batching.
    Fifo,
    /// Keep the newest 32 samples, overwriting the oldest (the usual choice for batching).
    #[default]
    Stream,
}

impl FifoMode {
    /// The `FM[1:0]` code.
    pub const fn bits(self) -> u8 {
        match self {
            FifoMode::Fifo => 0b01,
            FifoMode::Stream => 0b10,
        }
    }
}

/// FIFO batching with a watermark, optionally signalled on the INT1 pin.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct FifoConfig {
    /// FIFO or stream mode.
    pub mode: FifoMode,
    /// Watermark level `1..=31` (FTH): the WTM flag rises once this many samples are stored.
    pub watermark: u8,
    /// Route the watermark flag to INT1 (CTRL_REG3 I1_WTM).
    pub interrupt: bool,
}
