//! LIS3DH register map and bit fields (ST datasheet DocID17530, section 8).
//!
//! Only addresses and bit positions live here; what to write is decided in `settings`.

/// Identification register; reads [`DEVICE_ID`].
pub const WHO_AM_I: u8 = 0x0F;
/// Value of [`WHO_AM_I`] on a LIS3DH.
pub const DEVICE_ID: u8 = 0x33;

/// Data rate, low-power enable, axis enables.
pub const CTRL_REG1: u8 = 0x20;
/// High-pass filter configuration.
pub const CTRL_REG2: u8 = 0x21;
/// Interrupt sources routed to the INT1 pin.
pub const CTRL_REG3: u8 = 0x22;
/// Block data update, full scale, high resolution.
pub const CTRL_REG4: u8 = 0x23;
/// Reboot, FIFO enable, interrupt latching.
pub const CTRL_REG5: u8 = 0x24;
/// INT2 routing and interrupt polarity.
pub const CTRL_REG6: u8 = 0x25;
/// Data status (new data, overrun).
pub const STATUS_REG: u8 = 0x27;
/// First output register: X low byte; X, Y, Z follow as little-endian `i16`s up to 0x2D.
pub const OUT_X_L: u8 = 0x28;
/// FIFO mode and watermark.
pub const FIFO_CTRL_REG: u8 = 0x2E;
/// FIFO status: watermark, overrun, empty, stored samples.
pub const FIFO_SRC_REG: u8 = 0x2F;
/// Interrupt generator 1: event combination and enables.
pub const INT1_CFG: u8 = 0x30;
/// Interrupt generator 1: source (reading clears a latched interrupt).
pub const INT1_SRC: u8 = 0x31;
/// Interrupt generator 1: threshold (7 bits, LSB depends on the range).
pub const INT1_THS: u8 = 0x32;
/// Interrupt generator 1: minimum duration (7 bits, LSB = 1/ODR).
pub const INT1_DURATION: u8 = 0x33;

/// Bits of [`CTRL_REG1`].
pub mod ctrl1 {
    /// Low-power mode enable (8-bit data).
    pub const LPEN: u8 = 1 << 3;
    /// X, Y and Z axis enables.
    pub const XYZ_EN: u8 = 0b111;
    /// Position of the `ODR[3:0]` field.
    pub const ODR_SHIFT: u8 = 4;
}

/// Bits of [`CTRL_REG2`].
pub mod ctrl2 {
    /// High-pass filter on interrupt generator 1.
    pub const HP_IA1: u8 = 1 << 0;
}

/// Bits of [`CTRL_REG3`].
pub mod ctrl3 {
    /// Interrupt generator 1 on INT1.
    pub const I1_IA1: u8 = 1 << 6;
    /// New X/Y/Z data (ZYXDA) on INT1.
    pub const I1_ZYXDA: u8 = 1 << 4;
    /// FIFO watermark on INT1.
    pub const I1_WTM: u8 = 1 << 2;
}

/// Bits of [`CTRL_REG4`].
pub mod ctrl4 {
    /// Block data update: output registers not updated until both bytes were read.
    pub const BDU: u8 = 1 << 7;
    /// Position of the `FS[1:0]` (full scale) field.
    pub const FS_SHIFT: u8 = 4;
    /// High-resolution mode (12-bit data).
    pub const HR: u8 = 1 << 3;
}

/// Bits of [`CTRL_REG5`].
pub mod ctrl5 {
    /// FIFO enable.
    pub const FIFO_EN: u8 = 1 << 6;
}

/// Bits of [`STATUS_REG`].
pub mod status {
    /// New X, Y and Z data available.
    pub const ZYXDA: u8 = 1 << 3;
}

/// Bits of [`FIFO_CTRL_REG`] and [`FIFO_SRC_REG`].
pub mod fifo {
    /// Position of the `FM[1:0]` (FIFO mode) field in FIFO_CTRL_REG.
    pub const MODE_SHIFT: u8 = 6;
    /// `FTH[4:0]` watermark field in FIFO_CTRL_REG.
    pub const WATERMARK_MASK: u8 = 0x1F;
    /// FIFO_SRC_REG: watermark reached.
    pub const WTM: u8 = 1 << 7;
    /// FIFO_SRC_REG: overrun (the FIFO is full, a slot was overwritten).
    pub const OVRN: u8 = 1 << 6;
    /// FIFO_SRC_REG: FIFO empty.
    pub const EMPTY: u8 = 1 << 5;
    /// FIFO_SRC_REG: `FSS[4:0]`, number of unread samples.
    pub const FSS_MASK: u8 = 0x1F;
    /// Number of X/Y/Z levels in the FIFO.
    pub const DEPTH: usize = 32;
}

/// Bits of [`INT1_CFG`].
pub mod int1 {
    /// X high event enable.
    pub const XHIE: u8 = 1 << 1;
    /// Y high event enable.
    pub const YHIE: u8 = 1 << 3;
    /// Z high event enable.
    pub const ZHIE: u8 = 1 << 5;
    /// Largest value of INT1_THS and INT1_DURATION (7 bits).
    pub const MAX_7BIT: u8 = 0x7F;
}
