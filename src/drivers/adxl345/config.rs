//! ADXL345 typed configuration: data rate, range, resolution, power, activity interrupt, FIFO.
//!
//! Plain values with their datasheet meaning; turning them into register bytes is `settings`'
//! job. Nothing here touches the bus.

use crate::drivers::units::Axes;

/// Output data rate (BW_RATE `Rate[3:0]`); the bandwidth is half of it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum DataRate {
    /// 0.10 Hz.
    Hz0_10,
    /// 0.20 Hz.
    Hz0_20,
    /// 0.39 Hz.
    Hz0_39,
    /// 0.78 Hz.
    Hz0_78,
    /// 1.56 Hz.
    Hz1_56,
    /// 3.13 Hz.
    Hz3_13,
    /// 6.25 Hz.
    Hz6_25,
    /// 12.5 Hz.
    Hz12_5,
    /// 25 Hz.
    Hz25,
    /// 50 Hz.
    Hz50,
    /// 100 Hz (power-on default).
    #[default]
    Hz100,
    /// 200 Hz.
    Hz200,
    /// 400 Hz.
    Hz400,
    /// 800 Hz.
    Hz800,
    /// 1600 Hz.
    Hz1600,
    /// 3200 Hz.
    Hz3200,
}

impl DataRate {
    /// The `Rate[3:0]` code.
    pub const fn bits(self) -> u8 {
        self as u8
    }

    /// Samples per second.
    pub const fn hz(self) -> f32 {
        match self {
            DataRate::Hz0_10 => 0.1,
            DataRate::Hz0_20 => 0.2,
            DataRate::Hz0_39 => 0.39,
            DataRate::Hz0_78 => 0.78,
            DataRate::Hz1_56 => 1.56,
            DataRate::Hz3_13 => 3.13,
            DataRate::Hz6_25 => 6.25,
            DataRate::Hz12_5 => 12.5,
            DataRate::Hz25 => 25.0,
            DataRate::Hz50 => 50.0,
            DataRate::Hz100 => 100.0,
            DataRate::Hz200 => 200.0,
            DataRate::Hz400 => 400.0,
            DataRate::Hz800 => 800.0,
            DataRate::Hz1600 => 1600.0,
            DataRate::Hz3200 => 3200.0,
        }
    }
}

/// Full-scale range (DATA_FORMAT `Range[1:0]`).
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
    /// The `Range[1:0]` code.
    pub const fn bits(self) -> u8 {
        self as u8
    }
}

/// Resolution (DATA_FORMAT FULL_RES).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum Resolution {
    /// 10 bits over the range: 256 LSB/g at ±2 g, halving with each range step.
    TenBit,
    /// Full resolution: 256 LSB/g (3.9 mg/LSB) at every range, up to 13 bits at ±16 g.
    #[default]
    Full,
}

/// Power mode (BW_RATE LOW_POWER).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum PowerMode {
    /// Normal operation.
    #[default]
    Normal,
    /// Reduced power, somewhat more noise; only 12.5 to 400 Hz.
    LowPower,
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
    /// Resolution.
    pub resolution: Resolution,
    /// Power mode.
    pub power: PowerMode,
}

/// Which of the two interrupt pins a source drives (INT_MAP).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum InterruptPin {
    /// INT1.
    #[default]
    Int1,
    /// INT2.
    Int2,
}

/// Wake-on-activity: the ACTIVITY interrupt when any selected axis exceeds `threshold`.
///
/// The ADXL345 latches ACTIVITY in INT_SOURCE until INT_SOURCE is read; the driver's drain reads it
/// whenever this interrupt is on, so the pin falls again.
#[derive(Clone, Copy, Debug, PartialEq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct ActivityInterrupt {
    /// Threshold in m/s², encoded into THRESH_ACT at 62.5 mg/LSB and rounded; must be 1..=255 LSB.
    pub threshold: f32,
    /// Axes that take part.
    pub axes: Axes,
    /// Compare against the acceleration at the time the interrupt was enabled (ac-coupled,
    /// ignores gravity) instead of against zero (dc-coupled).
    pub ac_coupled: bool,
    /// Pin driven by the interrupt.
    pub pin: InterruptPin,
}

/// FIFO mode (FIFO_CTL FIFO_MODE).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum FifoMode {
    /// Fill 32 levels, then stop collecting new samples while the FIFO is full (collection
    /// resumes as entries are read).
    Fifo,
    /// Keep the newest 32 samples, overwriting the oldest (the usual choice for batching).
    #[default]
    Stream,
}

impl FifoMode {
    /// The FIFO_MODE code.
    pub const fn bits(self) -> u8 {
        match self {
            FifoMode::Fifo => 0b01,
            FifoMode::Stream => 0b10,
        }
    }
}

/// FIFO batching with a watermark, optionally signalled on an interrupt pin.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct FifoConfig {
    /// FIFO or stream mode.
    pub mode: FifoMode,
    /// Watermark `1..=31` (FIFO_CTL samples): WATERMARK is set once this many entries are stored.
    pub watermark: u8,
    /// Pin for the WATERMARK interrupt, or `None` to poll.
    pub interrupt: Option<InterruptPin>,
}

/// Flags read from INT_SOURCE.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct InterruptSource {
    /// A new sample is in the data registers.
    pub data_ready: bool,
    /// Activity above threshold was detected (cleared by this read).
    pub activity: bool,
    /// The FIFO holds at least the watermark number of entries.
    pub watermark: bool,
    /// The FIFO overflowed and samples were lost.
    pub overrun: bool,
}
