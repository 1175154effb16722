//! LIS3DH settings and the pure encoding/decoding both driver forms share.
//!
//! [`Settings`] is the driver's typed state; [`Settings::image`] turns it into the bytes of every
//! register the driver owns, and the decoders turn output and FIFO status bytes back into values.
//! No bus I/O happens here, so the blocking and async methods are thin loops over these results.

use super::config::{Config, DataRate, FifoConfig, Mode, MotionInterrupt, Range};
use super::register::{self as reg, ctrl1, ctrl2, ctrl3, ctrl4, ctrl5, fifo, int1};
use crate::drivers::error::ConfigError;
use crate::drivers::fifo::decode_each;
use crate::drivers::interface::RegisterWrite;
use crate::drivers::plan::{write, WritePlan};
use crate::drivers::units::{mps2_per_count, xyz_le};

/// Number of registers in the driver's register image.
pub(crate) const IMAGE_LEN: usize = 10;

/// Sensitivity in mg per digit (datasheet table 4) for `mode` and `range`.
pub const fn sensitivity_mg(mode: Mode, range: Range) -> f32 {
    let high_resolution = match range {
        Range::G2 => 1.0,
        Range::G4 => 2.0,
        Range::G8 => 4.0,
        Range::G16 => 12.0,
    };
    match mode {
        Mode::HighResolution => high_resolution,
        Mode::Normal => high_resolution * 4.0,
        Mode::LowPower => high_resolution * 16.0,
    }
}

/// LSB of INT1_THS in mg for `range` (datasheet section 8.21).
pub const fn threshold_lsb_mg(range: Range) -> f32 {
    match range {
        Range::G2 => 16.0,
        Range::G4 => 32.0,
        Range::G8 => 62.0,
        Range::G16 => 186.0,
    }
}

/// INT1_THS value for a threshold in m/s² at `range`: rounded to the nearest LSB, 7 bits.
pub fn encode_threshold(threshold: f32, range: Range) -> Result<u8, ConfigError> {
    let counts = crate::math::round(threshold / mps2_per_count(threshold_lsb_mg(range)));
    if counts.is_finite() && (0.0..=f32::from(int1::MAX_7BIT)).contains(&counts) {
        Ok(counts as u8)
    } else {
        Err(ConfigError::Threshold)
    }
}

/// Number of unread samples from a FIFO_SRC_REG byte: FSS, or the full depth (32) on overrun.
pub const fn fifo_level(fifo_src: u8) -> usize {
    if fifo_src & fifo::OVRN != 0 {
        fifo::DEPTH
    } else {
        (fifo_src & fifo::FSS_MASK) as usize
    }
}

/// The driver's typed state: what it believes the chip is configured to.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub(crate) struct Settings {
    pub config: Config,
    pub motion: Option<MotionInterrupt>,
    pub fifo: Option<FifoConfig>,
    pub data_ready: bool,
}

impl Settings {
    /// Every register the driver owns, in write order (interrupt routing last), or why the
    /// settings cannot be encoded.
    pub fn image(&self) -> Result<[RegisterWrite; IMAGE_LEN], ConfigError> {
        let Config { data_rate, range, mode } = self.config;
        if data_rate == DataRate::LowPowerHz1600 && mode != Mode::LowPower {
            return Err(ConfigError::DataRateUnavailable);
        }
        let low_power = if mode == Mode::LowPower { ctrl1::LPEN } else { 0 };
        let ctrl1 = (data_rate.bits() << ctrl1::ODR_SHIFT) | low_power | ctrl1::XYZ_EN;
        let high_resolution = if mode == Mode::HighResolution { ctrl4::HR } else { 0 };
        let ctrl4 = ctrl4::BDU | (range.bits() << ctrl4::FS_SHIFT) | high_resolution;

        let (mut ctrl2, mut ctrl3, mut ctrl5, mut fifo_ctrl) = (0, 0, 0, 0);
        let (mut ths, mut duration, mut int1_cfg) = (0, 0, 0);
        if let Some(motion) = self.motion {
            ths = encode_threshold(motion.threshold, range)?;
            if motion.duration > int1::MAX_7BIT {
                return Err(ConfigError::Duration);
            }
            duration = motion.duration;
            int1_cfg = (if motion.axes.x { int1::XHIE } else { 0 })
                | (if motion.axes.y { int1::YHIE } else { 0 })
                | (if motion.axes.z { int1::ZHIE } else { 0 });
            if motion.high_pass {
                ctrl2 |= ctrl2::HP_IA1;
            }
            ctrl3 |= ctrl3::I1_IA1;
        }
        if self.data_ready {
            ctrl3 |= ctrl3::I1_ZYXDA;
        }
        if let Some(config) = self.fifo {
            if !(1..=fifo::WATERMARK_MASK).contains(&config.watermark) {
                return Err(ConfigError::Watermark);
            }
            ctrl5 |= ctrl5::FIFO_EN;
            fifo_ctrl = (config.mode.bits() << fifo::MODE_SHIFT) | config.watermark;
            if config.interrupt {
                ctrl3 |= ctrl3::I1_WTM;
            }
        }
        Ok([
            write(reg::CTRL_REG1, ctrl1),
            write(reg::CTRL_REG2, ctrl2),
            write(reg::CTRL_REG4, ctrl4),
            write(reg::CTRL_REG5, ctrl5),
            write(reg::CTRL_REG6, 0),
            write(reg::FIFO_CTRL_REG, fifo_ctrl),
            write(reg::INT1_THS, ths),
            write(reg::INT1_DURATION, duration),
            write(reg::INT1_CFG, int1_cfg),
            write(reg::CTRL_REG3, ctrl3),
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

    /// One X/Y/Z sample in m/s² from the six output bytes (left-justified little-endian `i16`s).
    pub fn decode(&self, bytes: &[u8; 6]) -> [f32; 3] {
        let Config { mode, range, .. } = self.config;
        let shift = 16 - mode.bits_per_sample();
        let scale = mps2_per_count(sensitivity_mg(mode, range));
        xyz_le(bytes).map(|raw| f32::from(raw >> shift) * scale)
    }

    /// Decodes consecutive 6-byte samples of `bytes` into `out`; returns how many.
    pub fn decode_batch(&self, bytes: &[u8], out: &mut [[f32; 3]]) -> usize {
        decode_each(bytes, out, |sample| self.decode(sample))
    }

    /// The first `6 * count` bytes of `storage` (at most the whole FIFO), for one burst read.
    pub fn burst_buffer(storage: &mut [u8; 6 * fifo::DEPTH], count: usize) -> &mut [u8] {
        let len = 6 * count.min(fifo::DEPTH);
        storage.get_mut(..len).unwrap_or_default()
    }

    /// Whether a FIFO mode is configured (reads of the output registers pop FIFO levels).
    pub fn fifo_enabled(&self) -> bool {
        self.fifo.is_some()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::drivers::units::STANDARD_GRAVITY;

    #[test]
    fn default_image_is_100hz_high_resolution_2g_everything_else_off() {
        let image = Settings::default().image().unwrap();
        assert_eq!(image[0], write(0x20, 0x57));
        assert_eq!(image[2], write(0x23, 0x88));
        assert!(image
            .iter()
            .filter(|w| w.register != 0x20 && w.register != 0x23)
            .all(|w| w.value == 0));
    }

    #[test]
    fn decode_uses_mode_shift_and_sensitivity() {
        let mut settings = Settings::default();
        // 0x4000 left-justified 12-bit = 1024 digits at 1 mg/digit = 1 g.
        let one_g = settings.decode(&[0x00, 0x40, 0x00, 0xC0, 0x00, 0x00]);
        assert_eq!(one_g, [1024.0 * STANDARD_GRAVITY / 1000.0, -one_g[0], 0.0]);
        settings.config.mode = Mode::LowPower;
        settings.config.range = Range::G16;
        // 0x7F00 >> 8 = 127 digits at 192 mg/digit.
        let v = settings.decode(&[0x00, 0x7F, 0, 0, 0, 0]);
        assert_eq!(v[0], 127.0 * 192.0 * STANDARD_GRAVITY / 1000.0);
    }

    #[test]
    fn threshold_rounds_to_lsb_and_rejects_what_does_not_fit() {
        // 16 mg LSB at ±2 g: 0.5 g = 31.25 -> 31.
        assert_eq!(encode_threshold(0.5 * STANDARD_GRAVITY, Range::G2), Ok(31));
        assert_eq!(encode_threshold(0.0, Range::G2), Ok(0));
        assert_eq!(
            encode_threshold(3.0 * STANDARD_GRAVITY, Range::G2),
            Err(ConfigError::Threshold)
        );
        assert_eq!(encode_threshold(f32::NAN, Range::G2), Err(ConfigError::Threshold));
        assert_eq!(encode_threshold(-1.0, Range::G2), Err(ConfigError::Threshold));
    }

    #[test]
    fn fifo_level_counts_overrun_as_full() {
        assert_eq!(fifo_level(0x20), 0);
        assert_eq!(fifo_level(0x85), 5);
        assert_eq!(fifo_level(0xDF), 32);
    }
}
