//! Raw counts to SI units, and the axis selection both chips share.
//!
//! Accelerometers report signed counts; the datasheet gives a sensitivity in milli-g per count.
//! This module converts with the standard gravity (9.80665 m/s²) and nothing else: no
//! calibration, offsets or filtering.

/// Standard gravity in m/s² (the `g` of the datasheets).
pub const STANDARD_GRAVITY: f32 = 9.806_65;

/// m/s² per count for a sensitivity of `milli_g` milli-g per count.
pub fn mps2_per_count(milli_g: f32) -> f32 {
    milli_g * STANDARD_GRAVITY / 1000.0
}

/// Three little-endian `i16`s (X, Y, Z) from six bytes, as both chips lay out their data registers.
pub fn xyz_le(bytes: &[u8; 6]) -> [i16; 3] {
    [
        i16::from_le_bytes([bytes[0], bytes[1]]),
        i16::from_le_bytes([bytes[2], bytes[3]]),
        i16::from_le_bytes([bytes[4], bytes[5]]),
    ]
}

/// Which axes take part in a motion/activity interrupt.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Axes {
    /// X axis.
    pub x: bool,
    /// Y axis.
    pub y: bool,
    /// Z axis.
    pub z: bool,
}

impl Axes {
    /// All three axes.
    pub const ALL: Axes = Axes { x: true, y: true, z: true };
}

impl Default for Axes {
    fn default() -> Self {
        Axes::ALL
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_decode_little_endian_signed() {
        assert_eq!(xyz_le(&[0x01, 0x00, 0xFF, 0xFF, 0x00, 0x80]), [1, -1, i16::MIN]);
        assert!((mps2_per_count(1000.0) - STANDARD_GRAVITY).abs() < 1e-6);
    }
}
