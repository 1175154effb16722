//! ADXL345 settings and the pure encoding/decoding both driver forms share.
//!
//! [`Settings`] is the driver's typed state; [`Settings::image`] turns it into the bytes of every
//! register the driver owns, and the decoders turn data, FIFO status and interrupt source bytes
//! back into values. No bus I/O happens here.

use super::config::{
    ActivityInterrupt, Config, DataRate, FifoConfig, InterruptPin, InterruptSource,
};
use super::config::{PowerMode, Range, Resolution};
use super::register::{self as reg, act_inact, bw_rate, data_format, fifo, int, power_ctl};
use crate::drivers::error::ConfigError;
use crate::drivers::interface::RegisterWrite;
use crate::drivers::plan::{write, WritePlan};
use crate::drivers::units::{mps2_per_count, xyz_le, STANDARD_GRAVITY};

/// Number of registers in the driver's register image.
pub(crate) const IMAGE_LEN: usize = 8;

/// LSB of THRESH_ACT in mg.
pub const ACTIVITY_THRESHOLD_LSB_MG: f32 = 62.5;

/// Typical sensitivity in LSB per g (datasheet table 1: 256 at ±2 g 10-bit and in full
/// resolution; 128, 64, 32 at ±4, ±8, ±16 g 10-bit).
pub const fn lsb_per_g(resolution: Resolution, range: Range) -> f32 {
    match resolution {
        Resolution::Full => 256.0,
        Resolution::TenBit => (256u16 >> range.bits()) as f32,
    }
}

/// THRESH_ACT value for a threshold in m/s²: rounded to the nearest 62.5 mg, `1..=255`.
pub fn encode_activity_threshold(threshold: f32) -> Result<u8, ConfigError> {
    let counts = crate::math::round(threshold / mps2_per_count(ACTIVITY_THRESHOLD_LSB_MG));
    if counts.is_finite() && (1.0..=255.0).contains(&counts) {
        Ok(counts as u8)
    } else {
        Err(ConfigError::Threshold)
    }
}

/// Entries readable from a FIFO_STATUS byte (at most 33: 32 levels plus the output registers).
pub const fn fifo_entries(fifo_status: u8) -> usize {
    let entries = (fifo_status & fifo::ENTRIES_MASK) as usize;
    if entries > fifo::MAX_ENTRIES {
        fifo::MAX_ENTRIES
    } else {
        entries
    }
}

/// Decodes an INT_SOURCE byte.
pub const fn interrupt_source(byte: u8) -> InterruptSource {
    InterruptSource {
        data_ready: byte & int::DATA_READY != 0,
        activity: byte & int::ACTIVITY != 0,
        watermark: byte & int::WATERMARK != 0,
        overrun: byte & int::OVERRUN != 0,
    }
}

/// The driver's typed state: what it believes the chip is configured to.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub(crate) struct Settings {
    pub config: Config,
    pub activity: Option<ActivityInterrupt>,
    pub fifo: Option<FifoConfig>,
    pub data_ready: Option<InterruptPin>,
}

const fn map_bit(pin: InterruptPin, bit: u8) -> u8 {
    match pin {
        InterruptPin::Int1 => 0,
        InterruptPin::Int2 => bit,
    }
}

impl Settings {
    /// Every register the driver owns, in write order (INT_MAP before INT_ENABLE, measurement
    /// last), or why the settings cannot be encoded.
    pub fn image(&self) -> Result<[RegisterWrite; IMAGE_LEN], ConfigError> {
        let Config { data_rate, range, resolution, power } = self.config;
        let low_power = match power {
            PowerMode::Normal => 0,
            PowerMode::LowPower
                if data_rate.bits() >= DataRate::Hz12_5.bits()
                    && data_rate.bits() <= DataRate::Hz400.bits() =>
            {
                bw_rate::LOW_POWER
            }
            PowerMode::LowPower => return Err(ConfigError::DataRateUnavailable),
        };
        let full_res = match resolution {
            Resolution::Full => data_format::FULL_RES,
            Resolution::TenBit => 0,
        };
        let (mut thresh_act, mut act_ctl, mut fifo_ctl) = (0, 0, 0);
        let (mut int_map, mut int_enable) = (0, 0);
        if let Some(activity) = self.activity {
            thresh_act = encode_activity_threshold(activity.threshold)?;
            act_ctl = (if activity.ac_coupled { act_inact::ACT_AC } else { 0 })
                | (if activity.axes.x { act_inact::ACT_X } else { 0 })
                | (if activity.axes.y { act_inact::ACT_Y } else { 0 })
                | (if activity.axes.z { act_inact::ACT_Z } else { 0 });
            int_map |= map_bit(activity.pin, int::ACTIVITY);
            int_enable |= int::ACTIVITY;
        }
        if let Some(pin) = self.data_ready {
            int_map |= map_bit(pin, int::DATA_READY);
            int_enable |= int::DATA_READY;
        }
        if let Some(config) = self.fifo {
            if !(1..=fifo::SAMPLES_MASK).contains(&config.watermark) {
                return Err(ConfigError::Watermark);
            }
            fifo_ctl = (config.mode.bits() << fifo::MODE_SHIFT) | config.watermark;
            if let Some(pin) = config.interrupt {
                int_map |= map_bit(pin, int::WATERMARK);
                int_enable |= int::WATERMARK;
            }
        }
        Ok([
            write(reg::DATA_FORMAT, full_res | range.bits()),
            write(reg::BW_RATE, low_power | data_rate.bits()),
            write(reg::THRESH_ACT, thresh_act),
            write(reg::ACT_INACT_CTL, act_ctl),
            write(reg::FIFO_CTL, fifo_ctl),
            write(reg::INT_MAP, int_map),
            write(reg::INT_ENABLE, int_enable),
            write(reg::POWER_CTL, power_ctl::MEASURE),
        ])
    }

    /// The writes that take the chip from `self` to `new` (only registers that change).
    pub fn plan_to(&self, new: &Settings) -> Result<WritePlan<IMAGE_LEN>, ConfigError> {
        let after = new.image()?;
        Ok(match self.image() {
            Ok(before) => WritePlan::changes(&before, &after),
            Err(_) => WritePlan::all(after),
        })
    }

    /// One X/Y/Z sample in m/s² from the six data bytes (right-justified little-endian `i16`s).
    pub fn decode(&self, bytes: &[u8; 6]) -> [f32; 3] {
        let scale = STANDARD_GRAVITY / lsb_per_g(self.config.resolution, self.config.range);
        xyz_le(bytes).map(|raw| f32::from(raw) * scale)
    }

    /// Whether a FIFO mode is configured (each data read pops one FIFO entry).
    pub fn fifo_enabled(&self) -> bool {
        self.fifo.is_some()
    }

    /// Whether the latched ACTIVITY interrupt is on (a drain must read INT_SOURCE to clear it).
    pub fn activity_enabled(&self) -> bool {
        self.activity.is_some()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_image_is_full_resolution_2g_100hz_measuring() {
        let image = Settings::default().image().unwrap();
        assert_eq!(image[0], write(0x31, 0x08));
        assert_eq!(image[1], write(0x2C, 0x0A));
        assert_eq!(image[7], write(0x2D, 0x08));
        assert!(image[2..7].iter().all(|w| w.value == 0));
    }

    #[test]
    fn sensitivity_follows_resolution_and_range() {
        assert_eq!(lsb_per_g(Resolution::Full, Range::G16), 256.0);
        assert_eq!(lsb_per_g(Resolution::TenBit, Range::G2), 256.0);
        assert_eq!(lsb_per_g(Resolution::TenBit, Range::G16), 32.0);
    }

    #[test]
    fn activity_threshold_needs_one_to_255_lsb() {
        assert_eq!(encode_activity_threshold(0.25 * STANDARD_GRAVITY), Ok(4));
        assert!(encode_activity_threshold(0.0).is_err());
        assert!(encode_activity_threshold(17.0 * STANDARD_GRAVITY).is_err());
        assert!(encode_activity_threshold(f32::INFINITY).is_err());
    }

    #[test]
    fn fifo_entries_are_clamped_to_33() {
        assert_eq!(fifo_entries(0x80 | 12), 12);
        assert_eq!(fifo_entries(33), 33);
        assert_eq!(fifo_entries(0x3F), 33);
    }
}
