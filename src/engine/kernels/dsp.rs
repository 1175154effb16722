//! Packed 16-bit arithmetic in a 32-bit word: the Cortex-M4/M7 DSP instructions the fast kernels
//! are written in (SXTB16, SXTAB16, SMLAD, SMLAxy, SMMULR, SMMLA, SMMLAR).
//!
//! A "pair" is a `u32` holding two `i16` lanes: bits `0..16` (bottom) and `16..32` (top). Each
//! function here is one instruction. On targets with the DSP extension
//! (`target_feature = "dsp"`: thumbv7em, i.e. Cortex-M4/M7) it *is* that instruction, written
//! with `asm!`; everywhere else (the host, Cortex-M0) it is a portable emulation with exactly the
//! instruction's semantics ([`emulated`]), so the fast kernels compute the same bits on every
//! target and their structure is tested on the host. The Cortex-M0 build does not run the fast
//! kernels (emulating the instructions would be slower than the portable kernels), only the
//! host's tests do.
//!
//! What this module does not do: memory access. Its `asm!` blocks only read and write registers.
//! The kernels' hand-written Cortex-M4 loops that do load and store (the packed and sparse
//! variants of CONV_2D, the packed variants of DEPTHWISE_CONV_2D) are elsewhere, each `asm!`
//! block with its own `// SAFETY:` argument (the bounds it relies on, checked just before it),
//! and run by the conformance firmware on the emulated Cortex-M4.

/// `true` when the functions below compile to DSP instructions (Cortex-M4/M7).
pub const NATIVE: bool = cfg!(all(target_arch = "arm", target_feature = "dsp"));

#[cfg(all(target_arch = "arm", target_feature = "dsp"))]
mod native {
    //! The instructions themselves.
    //!
    //! SAFETY (every block below): the instruction reads and writes only the registers given as
    //! operands (`nomem`, `nostack`: no memory, no stack); it has no effect besides its result
    //! and, for the multiply-accumulates, possibly the sticky Q flag, which nothing reads (so
    //! `preserves_flags` is only claimed by the instructions that cannot set Q). Every operand
    //! value is valid for the instruction, so there is no undefined behaviour to avoid. Tested:
    //! [`super::emulated`] is the specification, and `check_native` (run by the conformance
    //! firmware on the Cortex-M4) compares each instruction against it.
    use core::arch::asm;

    /// The instruction; semantics: [`super::emulated::sxtb16`].
    #[inline(always)]
    pub fn sxtb16(x: u32) -> u32 {
        let r;
        // SAFETY: register-only instruction, see the module comment.
        unsafe {
            asm!("sxtb16 {r}, {x}", r = lateout(reg) r, x = in(reg) x, options(pure, nomem, nostack, preserves_flags))
        };
        r
    }

    /// The instruction; semantics: [`super::emulated::sxtb16_ror8`].
    #[inline(always)]
    pub fn sxtb16_ror8(x: u32) -> u32 {
        let r;
        // SAFETY: register-only instruction, see the module comment.
        unsafe {
            asm!("sxtb16 {r}, {x}, ror #8", r = lateout(reg) r, x = in(reg) x, options(pure, nomem, nostack, preserves_flags))
        };
        r
    }

    /// The instruction; semantics: [`super::emulated::sxtab16`].
    #[inline(always)]
    pub fn sxtab16(a: u32, x: u32) -> u32 {
        let r;
        // SAFETY: register-only instruction, see the module comment.
        unsafe {
            asm!("sxtab16 {r}, {a}, {x}", r = lateout(reg) r, a = in(reg) a, x = in(reg) x, options(pure, nomem, nostack, preserves_flags))
        };
        r
    }

    /// The instruction; semantics: [`super::emulated::sxtab16_ror8`].
    #[inline(always)]
    pub fn sxtab16_ror8(a: u32, x: u32) -> u32 {
        let r;
        // SAFETY: register-only instruction, see the module comment.
        unsafe {
            asm!("sxtab16 {r}, {a}, {x}, ror #8", r = lateout(reg) r, a = in(reg) a, x = in(reg) x, options(pure, nomem, nostack, preserves_flags))
        };
        r
    }

    /// The instruction; semantics: [`super::emulated::sadd16`].
    #[inline(always)]
    pub fn sadd16(a: u32, b: u32) -> u32 {
        let r;
        // SAFETY: register-only instruction (sets the GE flags), see the module comment.
        unsafe {
            asm!("sadd16 {r}, {a}, {b}", r = lateout(reg) r, a = in(reg) a, b = in(reg) b, options(pure, nomem, nostack))
        };
        r
    }

    /// The instruction; semantics: [`super::emulated::smlad`].
    #[inline(always)]
    pub fn smlad(x: u32, y: u32, acc: i32) -> i32 {
        let r;
        // SAFETY: register-only instruction, see the module comment.
        unsafe {
            asm!("smlad {r}, {x}, {y}, {a}", r = lateout(reg) r, x = in(reg) x, y = in(reg) y, a = in(reg) acc, options(pure, nomem, nostack))
        };
        r
    }

    /// The instruction; semantics: [`super::emulated::smlabb`].
    #[inline(always)]
    pub fn smlabb(x: u32, y: u32, acc: i32) -> i32 {
        let r;
        // SAFETY: register-only instruction, see the module comment.
        unsafe {
            asm!("smlabb {r}, {x}, {y}, {a}", r = lateout(reg) r, x = in(reg) x, y = in(reg) y, a = in(reg) acc, options(pure, nomem, nostack))
        };
        r
    }

    /// The instruction; semantics: [`super::emulated::smlabt`].
    #[inline(always)]
    pub fn smlabt(x: u32, y: u32, acc: i32) -> i32 {
        let r;
        // SAFETY: register-only instruction, see the module comment.
        unsafe {
            asm!("smlabt {r}, {x}, {y}, {a}", r = lateout(reg) r, x = in(reg) x, y = in(reg) y, a = in(reg) acc, options(pure, nomem, nostack))
        };
        r
    }

    /// The instruction; semantics: [`super::emulated::smlatb`].
    #[inline(always)]
    pub fn smlatb(x: u32, y: u32, acc: i32) -> i32 {
        let r;
        // SAFETY: register-only instruction, see the module comment.
        unsafe {
            asm!("smlatb {r}, {x}, {y}, {a}", r = lateout(reg) r, x = in(reg) x, y = in(reg) y, a = in(reg) acc, options(pure, nomem, nostack))
        };
        r
    }

    /// The instruction; semantics: [`super::emulated::smlatt`].
    #[inline(always)]
    pub fn smlatt(x: u32, y: u32, acc: i32) -> i32 {
        let r;
        // SAFETY: register-only instruction, see the module comment.
        unsafe {
            asm!("smlatt {r}, {x}, {y}, {a}", r = lateout(reg) r, x = in(reg) x, y = in(reg) y, a = in(reg) acc, options(pure, nomem, nostack))
        };
        r
    }

    /// The instruction; semantics: [`super::emulated::smmulr`].
    #[inline(always)]
    pub fn smmulr(a: i32, b: i32) -> i32 {
        let r;
        // SAFETY: register-only instruction, see the module comment.
        unsafe {
            asm!("smmulr {r}, {a}, {b}", r = lateout(reg) r, a = in(reg) a, b = in(reg) b, options(pure, nomem, nostack, preserves_flags))
        };
        r
    }

    /// The instruction; semantics: [`super::emulated::smmla`].
    #[inline(always)]
    pub fn smmla(a: i32, b: i32, acc: i32) -> i32 {
        let r;
        // SAFETY: register-only instruction, see the module comment.
        unsafe {
            asm!("smmla {r}, {a}, {b}, {c}", r = lateout(reg) r, a = in(reg) a, b = in(reg) b, c = in(reg) acc, options(pure, nomem, nostack, preserves_flags))
        };
        r
    }

    /// The instruction; semantics: [`super::emulated::smmlar`].
    #[inline(always)]
    pub fn smmlar(a: i32, b: i32, acc: i32) -> i32 {
        let r;
        // SAFETY: register-only instruction, see the module comment.
        unsafe {
            asm!("smmlar {r}, {a}, {b}, {c}", r = lateout(reg) r, a = in(reg) a, b = in(reg) b, c = in(reg) acc, options(pure, nomem, nostack, preserves_flags))
        };
        r
    }
}

pub mod emulated {
    //! The instructions' semantics in portable Rust (ARM Architecture Reference Manual, ARMv7-M:
    //! SXTB16, SXTAB16, SMLAD, `SMLA<x><y>`, SMMULR, SMMLA, SMMLAR). These are the specification the
    //! native versions are checked against, and what the other targets run.

    #[inline(always)]
    fn lo(x: u32) -> i32 {
        x as u16 as i16 as i32
    }

    #[inline(always)]
    fn hi(x: u32) -> i32 {
        (x >> 16) as u16 as i16 as i32
    }

    #[inline(always)]
    fn pack(bottom: i32, top: i32) -> u32 {
        (bottom as u32 & 0xFFFF) | ((top as u32) << 16)
    }

    /// SXTB16: sign-extends bytes 0 and 2 of `x` into the bottom and top lanes.
    #[inline(always)]
    pub fn sxtb16(x: u32) -> u32 {
        pack(x as u8 as i8 as i32, (x >> 16) as u8 as i8 as i32)
    }

    /// SXTB16 with `ROR #8`: bytes 1 and 3.
    #[inline(always)]
    pub fn sxtb16_ror8(x: u32) -> u32 {
        sxtb16(x.rotate_right(8))
    }

    /// SXTAB16: `a`'s lanes plus bytes 0 and 2 of `x` sign-extended (each lane wraps at 16 bits).
    #[inline(always)]
    pub fn sxtab16(a: u32, x: u32) -> u32 {
        let e = sxtb16(x);
        pack(lo(a).wrapping_add(lo(e)), hi(a).wrapping_add(hi(e)))
    }

    /// SXTAB16 with `ROR #8`: bytes 1 and 3.
    #[inline(always)]
    pub fn sxtab16_ror8(a: u32, x: u32) -> u32 {
        sxtab16(a, x.rotate_right(8))
    }

    /// SADD16: lane-wise `a + b`, each lane wrapping at 16 bits.
    #[inline(always)]
    pub fn sadd16(a: u32, b: u32) -> u32 {
        pack(lo(a).wrapping_add(lo(b)), hi(a).wrapping_add(hi(b)))
    }

    /// SMLAD: `acc + x.bottom * y.bottom + x.top * y.top`, wrapping.
    #[inline(always)]
    pub fn smlad(x: u32, y: u32, acc: i32) -> i32 {
        acc.wrapping_add(lo(x) * lo(y)).wrapping_add(hi(x) * hi(y))
    }

    /// SMLABB: `acc + x.bottom * y.bottom`, wrapping.
    #[inline(always)]
    pub fn smlabb(x: u32, y: u32, acc: i32) -> i32 {
        acc.wrapping_add(lo(x) * lo(y))
    }

    /// SMLABT: `acc + x.bottom * y.top`, wrapping.
    #[inline(always)]
    pub fn smlabt(x: u32, y: u32, acc: i32) -> i32 {
        acc.wrapping_add(lo(x) * hi(y))
    }

    /// SMLATB: `acc + x.top * y.bottom`, wrapping.
    #[inline(always)]
    pub fn smlatb(x: u32, y: u32, acc: i32) -> i32 {
        acc.wrapping_add(hi(x) * lo(y))
    }

    /// SMLATT: `acc + x.top * y.top`, wrapping.
    #[inline(always)]
    pub fn smlatt(x: u32, y: u32, acc: i32) -> i32 {
        acc.wrapping_add(hi(x) * hi(y))
    }

    /// SMMULR: the top word of `a * b` rounded, `floor((a*b + 2^31) / 2^32)`.
    #[inline(always)]
    pub fn smmulr(a: i32, b: i32) -> i32 {
        ((a as i64 * b as i64 + (1i64 << 31)) >> 32) as i32
    }

    /// SMMLA: `acc + floor(a*b / 2^32)` (the top word, truncated), wrapping.
    #[inline(always)]
    pub fn smmla(a: i32, b: i32, acc: i32) -> i32 {
        acc.wrapping_add(((a as i64 * b as i64) >> 32) as i32)
    }

    /// SMMLAR: `acc + floor((a*b + 2^31) / 2^32)`, wrapping.
    #[inline(always)]
    pub fn smmlar(a: i32, b: i32, acc: i32) -> i32 {
        acc.wrapping_add(smmulr(a, b))
    }
}

#[cfg(all(target_arch = "arm", target_feature = "dsp"))]
pub use native::{
    sadd16, smlabb, smlabt, smlad, smlatb, smlatt, smmla, smmlar, smmulr, sxtab16, sxtab16_ror8,
    sxtb16, sxtb16_ror8,
};

#[cfg(not(all(target_arch = "arm", target_feature = "dsp")))]
pub use emulated::{
    sadd16, smlabb, smlabt, smlad, smlatb, smlatt, smmla, smmlar, smmulr, sxtab16, sxtab16_ror8,
    sxtb16, sxtb16_ror8,
};

/// The lane pair `(v, v)`: what SXTAB16 adds to both lanes to apply an input offset.
#[inline(always)]
pub fn splat(v: i32) -> u32 {
    (v as u32 & 0xFFFF) | ((v as u32) << 16)
}

/// Compares every instruction [`NATIVE`] uses against [`emulated`] on a spread of operands;
/// `true` if they all agree (always on targets without the DSP extension, where they are the
/// same code). Board self-tests call this on the Cortex-M4.
pub fn check_native() -> bool {
    const WORDS: [u32; 12] = [
        0,
        1,
        0xFFFF_FFFF,
        0x8000_0000,
        0x7FFF_FFFF,
        0x8080_8080,
        0x7F7F_7F7F,
        0x0180_FF7F,
        0x1234_5678,
        0xDEAD_BEEF,
        0x00FF_FF00,
        0xFF01_807F,
    ];
    let mut ok = true;
    for &a in &WORDS {
        for &b in &WORDS {
            let c = a.rotate_left(7) as i32;
            let (ai, bi) = (a as i32, b as i32);
            ok &= sxtb16(a) == emulated::sxtb16(a);
            ok &= sxtb16_ror8(a) == emulated::sxtb16_ror8(a);
            ok &= sxtab16(a, b) == emulated::sxtab16(a, b);
            ok &= sxtab16_ror8(a, b) == emulated::sxtab16_ror8(a, b);
            ok &= sadd16(a, b) == emulated::sadd16(a, b);
            ok &= smlad(a, b, c) == emulated::smlad(a, b, c);
            ok &= smlabb(a, b, c) == emulated::smlabb(a, b, c);
            ok &= smlabt(a, b, c) == emulated::smlabt(a, b, c);
            ok &= smlatb(a, b, c) == emulated::smlatb(a, b, c);
            ok &= smlatt(a, b, c) == emulated::smlatt(a, b, c);
            ok &= smmulr(ai, bi) == emulated::smmulr(ai, bi);
            ok &= smmlar(ai, bi, c) == emulated::smmlar(ai, bi, c);
            ok &= smmla(ai, bi, c) == emulated::smmla(ai, bi, c);
        }
    }
    ok
}

#[cfg(test)]
mod tests {
    use super::emulated::*;
    use super::*;

    #[test]
    fn sign_extension_picks_bytes_0_2_and_1_3() {
        assert_eq!(sxtb16(0x0180_FF7F), 0xFF80_007F); // bytes 0x7F, 0x80 -> 127, -128
        assert_eq!(sxtb16_ror8(0x0180_FF7F), 0x0001_FFFF); // bytes 0xFF, 0x01 -> -1, 1
                                                           // 5 + (-1) = 4 in the bottom lane; -3 + 1 = -2 in the top lane.
        assert_eq!(sxtab16(0xFFFD_0005, 0x0001_00FF), 0xFFFE_0004);
        assert_eq!(sxtab16_ror8(splat(128), 0x8000_8000), splat(0));
        assert_eq!(splat(-2), 0xFFFE_FFFE);
        assert_eq!(sadd16(0x7FFF_FFFF, 0x0001_0001), 0x8000_0000); // lanes wrap separately
    }

    #[test]
    fn multiply_accumulates_use_signed_lanes() {
        let x = 0xFFFF_0003; // (3, -1)
        let y = 0x0004_FFFE; // (-2, 4)
        assert_eq!(smlad(x, y, 10), 10 - 6 - 4);
        assert_eq!(smlabb(x, y, 0), -6);
        assert_eq!(smlabt(x, y, 0), 12);
        assert_eq!(smlatb(x, y, 0), 2);
        assert_eq!(smlatt(x, y, 0), -4);
        // Wraps like the instruction (the Q flag is not modelled).
        assert_eq!(smlad(0x8000_8000, 0x8000_8000, i32::MAX), i32::MAX.wrapping_add(1 << 31));
    }

    #[test]
    fn rounded_high_multiplies() {
        assert_eq!(smmulr(1 << 30, 1 << 2), 1); // 2^32 / 2^32
        assert_eq!(smmulr(1 << 30, 1 << 1), 1); // 0.5 rounds up
        assert_eq!(smmulr(-(1 << 30), 1 << 1), 0); // -0.5 rounds up too
        assert_eq!(smmulr(-(1 << 30), 3), -1); // -0.75
        assert_eq!(smmulr(i32::MIN, i32::MIN), 1 << 30);
        assert_eq!(smmlar(7, 1 << 30, 5), 5 + 2); // 7 * 2^30 / 2^32 = 1.75 -> 2
    }

    #[test]
    fn native_agrees_with_emulation() {
        assert!(check_native());
    }
}
