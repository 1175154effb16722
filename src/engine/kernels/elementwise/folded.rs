//! ADD and MUL with the per-element arithmetic of TFLite's reference folded at prepare time.
//!
//! The reference evaluates, for every element of an int8 ADD, three rescales, each a rounding
//! doubling high multiply (SRDHM) followed by a rounding divide by a power of two (RDBP); MUL one.
//! The same bits come out of far fewer instructions:
//!
//! - `SRDHM(x, m) = floor((x m + 2^30) / 2^31)` (gemmlowp's nudge rounds positive ties up and
//!   negative ties toward zero: both toward +inf), which is `SMMULR(2x, m)` whenever `2x` fits.
//! - For `e >= 1`, `RDBP(y, e) + zp = floor((y + 2^(e-1) - [y < 0] + zp 2^e) / 2^e)`, and the two
//!   floors merge: `RDBP(SMMULR(s, m), e) + zp = SMMLAR(s, m, c) >> e` with
//!   `c = 2^(e-1) + zp 2^e - [y < 0]`: one multiply-accumulate and one shift ([`FoldedRescale`]).
//! - `[y < 0]` is taken as `[s < 0]`. They differ only when `s m = -2^31` exactly (then `y = 0`),
//!   and there the result is the same: the low `e` bits of `c` are `2^(e-1) >= 1`, so taking one
//!   from `c` never crosses a multiple of `2^e`.
//! - ADD: the input with the larger scale has the multiplier `1/2` exactly (`s_i / (2 max)`), so
//!   its term is `(x - zp) 2^19`, a shift; the other input's term depends on one int8 value: a
//!   256-entry table ([`AddFolded::table`], written into the record when the tensor is large
//!   enough to pay for it) or its own [`FoldedRescale`].
//! - MUL: `(x1 - zp1)(x2 - zp2)` times `2^(1 + left shift)` is at most `2^30`, so the left shift
//!   and the doubling fold into one factor of input 2.
//!
//! [`Add::folded`] and [`Mul::folded`] return `None` when a range condition does not hold (the
//! output multiplier of an ADD is `>= 1/2`, an accumulator would overflow); the reference
//! kernels ([`Add::eval`], [`Mul::eval`]) then run. Both forms give the same bytes; the tests
//! compare them exhaustively over every pair of int8 inputs for random scales.

use super::super::broadcast::volume;
use super::{broadcast, Add, KernelError, Mul};
use crate::engine::arith::QuantizedMultiplier;
use crate::engine::kernels::dsp;

/// Bytes of an ADD's table: 256 little-endian `i32`.
pub const TABLE_BYTES: usize = 256 * 4;

/// An ADD's table as stored in its record: entry `x as u8` is the doubled term of the
/// smaller-scale input plus the larger-scale input's offset, `2 T(x) - zp_big 2^20`.
pub type AddTable = [[u8; 4]; 256];

/// `RDBP(SRDHM(s / 2, m), e) + zp` (TFLite's `MultiplyByQuantizedMultiplier` for a multiplier
/// below one, plus the zero point) as `SMMLAR(s, m, c) >> e`; see the module documentation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct FoldedRescale {
    /// The Q0.31 significand `m`.
    pub multiplier: i32,
    /// `2^(e-1) + zp 2^e` (`zp` when `e = 0`).
    pub accumulator: i32,
    /// The right shift `e` (0 to 31).
    pub shift: u32,
    /// `-1` when `e >= 1` (negative products take one from the accumulator), else 0.
    pub negative: i32,
}

impl FoldedRescale {
    /// Folds `m` (whose `shift` must be `<= 0`) and zero point `zp` for products `s` with
    /// `|s| <= max_s`; `None` if the accumulator could overflow.
    pub fn new(m: QuantizedMultiplier, zp: i32, max_s: i64) -> Option<FoldedRescale> {
        if m.shift > 0 || m.shift < -31 || m.multiplier < 0 || max_s >= 1 << 31 {
            return None;
        }
        let e = (-m.shift) as u32;
        let acc: i64 = if e == 0 { zp as i64 } else { (1i64 << (e - 1)) + ((zp as i64) << e) };
        // |SMMULR(s, m)| <= max_s m / 2^32 + 1; the sum with the accumulator must fit an i32.
        let top = ((max_s * m.multiplier as i64) >> 32) + 2;
        if acc.abs() + top > i32::MAX as i64 {
            return None;
        }
        Some(FoldedRescale {
            multiplier: m.multiplier,
            accumulator: acc as i32,
            shift: e,
            negative: if e == 0 { 0 } else { -1 },
        })
    }

    /// The rescaled value of `s` (before clamping).
    #[inline(always)]
    pub fn apply(self, s: i32) -> i32 {
        let acc = self.accumulator.wrapping_add((s >> 31) & self.negative);
        dsp::smmlar(s, self.multiplier, acc) >> self.shift
    }

    /// [`apply`](Self::apply) when `e >= 1` is known (one instruction fewer).
    #[inline(always)]
    fn apply_rounding(self, s: i32) -> i32 {
        let acc = self.accumulator.wrapping_add(s >> 31);
        dsp::smmlar(s, self.multiplier, acc) >> self.shift
    }
}

/// An ADD with its arithmetic folded (see the module documentation).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct AddFolded {
    /// Input 2 has the larger scale: the kernel reads the inputs swapped.
    pub swapped: bool,
    /// `-zp << 20` of the larger-scale input: its doubled term is `(x << 20) + big_offset`.
    pub big_offset: i32,
    /// `-zp << 21` of the smaller-scale input.
    pub small_offset: i32,
    /// The smaller-scale input's rescale (of `(x - zp) << 21`, no zero point).
    pub small: FoldedRescale,
    /// The output rescale of the doubled sum (its shift is at least 1).
    pub output: FoldedRescale,
    /// Lower clamp bound.
    pub activation_min: i32,
    /// Upper clamp bound.
    pub activation_max: i32,
}

/// The multiplier `1/2`: `frexp(0.5) = (0.5, 0)`.
const HALF: QuantizedMultiplier = QuantizedMultiplier { multiplier: 1 << 30, shift: 0 };

impl Add {
    /// The folded form of this ADD, or `None` if a range condition fails (the reference
    /// [`eval`](Add::eval) then runs). Integer arithmetic only.
    pub fn folded(&self) -> Option<AddFolded> {
        if self.left_shift != 20 {
            return None;
        }
        let (swapped, big_zp, small_zp, small_m) = if self.input1_multiplier == HALF {
            (false, self.input1_offset, self.input2_offset, self.input2_multiplier)
        } else if self.input2_multiplier == HALF {
            (true, self.input2_offset, self.input1_offset, self.input1_multiplier)
        } else {
            return None;
        };
        // Offsets are -zp with zp in -128..=127 (checked at load); 255 << 21 < 2^29.
        if !(-128..=128).contains(&big_zp) || !(-128..=128).contains(&small_zp) {
            return None;
        }
        let small = FoldedRescale::new(small_m, 0, 255 << 21)?;
        // |doubled sum| <= 255 << 20 + 2 (255 << 19 + 1) < 2^29.
        let output = FoldedRescale::new(self.output_multiplier, self.output_offset, 1 << 29)?;
        if output.shift == 0 {
            return None;
        }
        Some(AddFolded {
            swapped,
            big_offset: big_zp << 20,
            small_offset: small_zp << 21,
            small,
            output,
            activation_min: self.activation_min,
            activation_max: self.activation_max,
        })
    }
}

impl AddFolded {
    /// The smaller-scale input's doubled term plus the larger one's offset (a table entry).
    #[inline(always)]
    fn small_term(&self, x: i8) -> i32 {
        let t = self.small.apply(((x as i32) << 21).wrapping_add(self.small_offset));
        self.big_offset.wrapping_add(t.wrapping_mul(2))
    }

    /// Writes the table into `out` (entry `x as u8`, little-endian).
    pub fn table(&self, out: &mut [u8]) {
        for (k, dst) in out.chunks_exact_mut(4).take(256).enumerate() {
            dst.copy_from_slice(&self.small_term(k as u8 as i8).to_le_bytes());
        }
    }

    /// One output element from the larger-scale input `big` and the table entry (or computed
    /// term) `term` of the smaller-scale one.
    #[inline(always)]
    fn finish(&self, big: i8, term: i32) -> i32 {
        self.output.apply_rounding(((big as i32) << 20).wrapping_add(term))
    }

    /// One output element (the table entry if there is a table).
    #[inline(always)]
    fn element(&self, x1: i8, x2: i8, table: Option<&AddTable>) -> i8 {
        let (big, small) = if self.swapped { (x2, x1) } else { (x1, x2) };
        let term = match table {
            Some(t) => entry(t, small),
            None => self.small_term(small),
        };
        clamp(self.finish(big, term), self.activation_min, self.activation_max)
    }
}

impl Add {
    /// Adds like [`eval`](Add::eval), the same bytes, through the folded form where it applies
    /// (with `table`, the record's [`AddTable`] of [`folded`](Add::folded), if there is one):
    /// a tight loop for same-shape operands without a fused clamp, else one broadcasting loop.
    ///
    /// Errors: as [`eval`](Add::eval).
    #[allow(clippy::too_many_arguments)]
    pub fn eval_prepared(
        &self,
        input1: &[i8],
        shape1: &[usize],
        input2: &[i8],
        shape2: &[usize],
        output: &mut [i8],
        output_shape: &[usize],
        table: Option<&AddTable>,
    ) -> Result<(), KernelError> {
        let folded = self.folded();
        if let (Some(f), Some(t)) = (folded, table) {
            let full = f.activation_min == i8::MIN as i32 && f.activation_max == i8::MAX as i32;
            if full && same_shape(input1, shape1, input2, shape2, output, output_shape) {
                let (big, small) = if f.swapped { (input2, input1) } else { (input1, input2) };
                add_table_loop(big, small, output, t, f.output);
                return Ok(());
            }
        }
        broadcast(input1, shape1, input2, shape2, output, output_shape, |a, b| match &folded {
            Some(f) => f.element(a, b, table),
            None => self.apply(a, b),
        })
    }
}

/// The fast ADD loop: `out[i] = sat8(r(big[i] << 20 + t[small[i]]))` for `n` = `out.len()`
/// elements (the inputs are at least as long); portable form.
#[cfg(not(all(target_arch = "arm", target_feature = "dsp")))]
fn add_table_loop(big: &[i8], small: &[i8], out: &mut [i8], t: &AddTable, r: FoldedRescale) {
    zip(big, small, out, move |b, s| {
        sat8(r.apply_rounding(((b as i32) << 20).wrapping_add(entry(t, s))))
    });
}

/// The fast ADD loop on a Cortex-M4/M7, two elements per iteration: post-incremented byte
/// loads, the table word, SMMLAR, the shift and SSAT, ten instructions an element (the compiled
/// form of the portable loop takes twelve: it keeps three indices). Bit-identical to the
/// portable form (the same instructions: [`FoldedRescale::apply_rounding`] is SMMLAR and ASR),
/// checked on the emulated Cortex-M4 by every benchmarked model with an ADD (scripts/bench.sh
/// compares each output with TFLite's).
#[cfg(all(target_arch = "arm", target_feature = "dsp"))]
fn add_table_loop(big: &[i8], small: &[i8], out: &mut [i8], t: &AddTable, r: FoldedRescale) {
    let n = out.len();
    let (Some(big), Some(small)) = (big.get(..n), small.get(..n)) else { return };
    let pairs = n / 2;
    if pairs > 0 {
        // SAFETY: the loop runs `pairs` times and reads two bytes from each of `big` and
        // `small` and writes two bytes to `out` per iteration, all advanced by post-increment
        // from their starts: 2 * pairs <= n bytes, and all three slices hold n bytes. The
        // table reads are at word index `x as u8` <= 255 of the 256-word `t`. Everything else
        // is registers; no stack. `r.shift` <= 31 (a register shift uses its low byte).
        unsafe {
            core::arch::asm!(
                "2:",
                "ldrsb {b}, [{pb}], #1",
                "ldrb {s}, [{ps}], #1",
                "ldr {s}, [{tab}, {s}, lsl #2]",
                "add {s}, {s}, {b}, lsl #20",
                "add {b}, {ra}, {s}, asr #31",
                "smmlar {s}, {s}, {m}, {b}",
                "asr {s}, {s}, {e}",
                "ssat {s}, #8, {s}",
                "strb {s}, [{po}], #1",
                "ldrsb {b}, [{pb}], #1",
                "ldrb {s}, [{ps}], #1",
                "ldr {s}, [{tab}, {s}, lsl #2]",
                "add {s}, {s}, {b}, lsl #20",
                "add {b}, {ra}, {s}, asr #31",
                "smmlar {s}, {s}, {m}, {b}",
                "asr {s}, {s}, {e}",
                "ssat {s}, #8, {s}",
                "strb {s}, [{po}], #1",
                "subs {n}, {n}, #1",
                "bne 2b",
                pb = inout(reg) big.as_ptr() => _,
                ps = inout(reg) small.as_ptr() => _,
                po = inout(reg) out.as_mut_ptr() => _,
                n = inout(reg) pairs => _,
                tab = in(reg) t.as_ptr(),
                ra = in(reg) r.accumulator,
                m = in(reg) r.multiplier,
                e = in(reg) r.shift,
                b = out(reg) _,
                s = out(reg) _,
                options(nostack),
            );
        }
    }
    if n % 2 == 1 {
        let i = n - 1;
        if let (Some(y), Some(&b), Some(&s)) = (out.get_mut(i), big.get(i), small.get(i)) {
            *y = sat8(r.apply_rounding(((b as i32) << 20).wrapping_add(entry(t, s))));
        }
    }
}

/// A MUL with its arithmetic folded (see the module documentation).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct MulFolded {
    /// `-zp` of input 1.
    pub input1_offset: i32,
    /// `2^(1 + left shift)`: input 2's factor.
    pub input2_factor: i32,
    /// `-zp2 * input2_factor`.
    pub input2_offset: i32,
    /// The output rescale.
    pub output: FoldedRescale,
    /// Lower clamp bound.
    pub activation_min: i32,
    /// Upper clamp bound.
    pub activation_max: i32,
}

impl Mul {
    /// The folded form of this MUL, or `None` if a range condition fails (the reference
    /// [`eval`](Mul::eval) then runs). Integer arithmetic only.
    pub fn folded(&self) -> Option<MulFolded> {
        let m = self.output_multiplier;
        let left = m.shift.max(0);
        // |(x1 - zp1)(x2 - zp2)| <= 255^2 < 2^16: the doubled, shifted product fits below 2^30.
        if left > 13
            || !(-128..=128).contains(&self.input1_offset)
            || !(-128..=128).contains(&self.input2_offset)
        {
            return None;
        }
        let factor = 1i32 << (1 + left);
        let max_s = (255 * 255) << (1 + left);
        let output = FoldedRescale::new(
            QuantizedMultiplier { multiplier: m.multiplier, shift: m.shift.min(0) },
            self.output_offset,
            max_s,
        )?;
        Some(MulFolded {
            input1_offset: self.input1_offset,
            input2_factor: factor,
            input2_offset: self.input2_offset * factor,
            output,
            activation_min: self.activation_min,
            activation_max: self.activation_max,
        })
    }
}

impl MulFolded {
    #[inline(always)]
    fn product(&self, x1: i8, x2: i8) -> i32 {
        let a = (x1 as i32).wrapping_add(self.input1_offset);
        let b = (x2 as i32).wrapping_mul(self.input2_factor).wrapping_add(self.input2_offset);
        a.wrapping_mul(b)
    }

    /// One output element.
    #[inline(always)]
    fn element(&self, x1: i8, x2: i8) -> i8 {
        clamp(self.output.apply(self.product(x1, x2)), self.activation_min, self.activation_max)
    }
}

impl Mul {
    /// Multiplies like [`eval`](Mul::eval), the same bytes, through the folded form where it
    /// applies: a tight loop for same-shape operands without a fused clamp, else one
    /// broadcasting loop.
    ///
    /// Errors: as [`eval`](Mul::eval).
    pub fn eval_prepared(
        &self,
        input1: &[i8],
        shape1: &[usize],
        input2: &[i8],
        shape2: &[usize],
        output: &mut [i8],
        output_shape: &[usize],
    ) -> Result<(), KernelError> {
        let folded = self.folded();
        if let Some(k) = folded {
            let full = k.activation_min == i8::MIN as i32 && k.activation_max == i8::MAX as i32;
            let out = k.output;
            if full
                && out.shift > 0
                && same_shape(input1, shape1, input2, shape2, output, output_shape)
            {
                zip(input1, input2, output, move |a, b| sat8(out.apply_rounding(k.product(a, b))));
                return Ok(());
            }
        }
        broadcast(input1, shape1, input2, shape2, output, output_shape, |a, b| match &folded {
            Some(k) => k.element(a, b),
            None => self.apply(a, b),
        })
    }
}

/// True if both inputs and the output have the same shape and lengths that match it.
fn same_shape(
    input1: &[i8],
    shape1: &[usize],
    input2: &[i8],
    shape2: &[usize],
    output: &[i8],
    output_shape: &[usize],
) -> bool {
    shape1 == output_shape
        && shape2 == output_shape
        && input1.len() == output.len()
        && input2.len() == output.len()
        && volume(output_shape) == Some(output.len())
}

/// `out[i] = f(a[i], b[i])` for equal lengths, two elements per iteration (one index for the
/// three slices: the loop's own instructions are a sixth of an ADD's).
#[inline(always)]
fn zip(a: &[i8], b: &[i8], out: &mut [i8], f: impl Fn(i8, i8) -> i8) {
    let n = out.len();
    let (Some(a), Some(b)) = (a.get(..n), b.get(..n)) else { return };
    let mut i = 0;
    while i + 1 < n {
        out[i] = f(a[i], b[i]);
        out[i + 1] = f(a[i + 1], b[i + 1]);
        i += 2;
    }
    if i < n {
        out[i] = f(a[i], b[i]);
    }
}

#[inline(always)]
fn entry(t: &AddTable, x: i8) -> i32 {
    i32::from_le_bytes(t[x as u8 as usize])
}

#[inline(always)]
fn sat8(v: i32) -> i8 {
    v.clamp(i8::MIN as i32, i8::MAX as i32) as i8
}

/// Clamps to `[lo, hi]`, which lie in the int8 range.
#[inline(always)]
fn clamp(v: i32, lo: i32, hi: i32) -> i8 {
    sat8(v.max(lo).min(hi))
}

#[cfg(test)]
mod tests {
    extern crate std;
    use super::*;
    use crate::engine::arith::FusedActivation;
    use std::{vec, vec::Vec};

    use crate::engine::kernels::xorshift::XorShift;

    /// The quantization parameters these tests draw.
    trait Draw {
        fn scale(&mut self) -> f32;
        fn zp(&mut self) -> i32;
        fn act(&mut self) -> FusedActivation;
    }

    impl Draw for XorShift {
        /// A scale spread over many binades: 2^-12 .. 2^2 with a random significand.
        fn scale(&mut self) -> f32 {
            let e = (self.next() % 15) as i32 - 12;
            let m = 1.0 + (self.next() % 1_000_000) as f32 / 1_000_000.0;
            m * 2f32.powi(e)
        }
        fn zp(&mut self) -> i32 {
            (self.next() % 256) as i32 - 128
        }
        fn act(&mut self) -> FusedActivation {
            [FusedActivation::None, FusedActivation::Relu, FusedActivation::Relu6]
                [(self.next() % 3) as usize]
        }
    }

    /// TFLite's `MultiplyByQuantizedMultiplier` in `i64`, written independently of `arith`.
    fn mbqm(x: i64, m: QuantizedMultiplier) -> i64 {
        let left = m.shift.max(0);
        let right = (-m.shift).max(0);
        let x = (x << left) as i32 as i64; // wraps as the C code does
        let ab = x * m.multiplier as i64;
        let nudge = if ab >= 0 { 1i64 << 30 } else { 1 - (1i64 << 30) };
        // C's division truncates toward zero.
        let hi = (ab + nudge) / (1i64 << 31);
        if right == 0 {
            return hi;
        }
        let mask = (1i64 << right) - 1;
        let rem = hi & mask;
        let threshold = (mask >> 1) + (hi < 0) as i64;
        (hi >> right) + (rem > threshold) as i64
    }

    fn add_ref(k: &Add, x1: i8, x2: i8) -> i8 {
        let a = (x1 as i64 + k.input1_offset as i64) << 20;
        let b = (x2 as i64 + k.input2_offset as i64) << 20;
        let sum = mbqm(a, k.input1_multiplier) + mbqm(b, k.input2_multiplier);
        let v = mbqm(sum, k.output_multiplier) + k.output_offset as i64;
        v.clamp(k.activation_min as i64, k.activation_max as i64) as i8
    }

    fn mul_ref(k: &Mul, x1: i8, x2: i8) -> i8 {
        let p = (x1 as i64 + k.input1_offset as i64) * (x2 as i64 + k.input2_offset as i64);
        let v = mbqm(p, k.output_multiplier) + k.output_offset as i64;
        v.clamp(k.activation_min as i64, k.activation_max as i64) as i8
    }

    /// Every pair of int8 inputs, as two same-shape tensors of 65,536 elements.
    fn all_pairs() -> (Vec<i8>, Vec<i8>) {
        let a = (0..65536).map(|i| (i >> 8) as u8 as i8).collect();
        let b = (0..65536).map(|i| i as u8 as i8).collect();
        (a, b)
    }

    #[test]
    fn add_folded_is_bit_exact_on_every_input_pair() {
        let mut rng = XorShift(0x9e37_79b9_7f4a_7c15);
        let (a, b) = all_pairs();
        let shape = [65536usize];
        let mut folded_count = 0;
        for case in 0..60 {
            let s1 = rng.scale();
            // Some cases with equal scales, and some with an output much finer than the inputs.
            let s2 = if case % 7 == 0 { s1 } else { rng.scale() };
            let so = if case % 5 == 0 { s1.max(s2) / 64.0 } else { rng.scale() };
            let k = Add::new((s1, rng.zp()), (s2, rng.zp()), (so, rng.zp()), rng.act()).unwrap();
            let Some(f) = k.folded() else { continue };
            folded_count += 1;
            let mut table = [[0u8; 4]; 256];
            f.table(table.as_flattened_mut());
            for t in [None, Some(&table)] {
                let mut out = vec![0i8; 65536];
                k.eval_prepared(&a, &shape, &b, &shape, &mut out, &shape, t).unwrap();
                for i in 0..65536 {
                    assert_eq!(
                        out[i],
                        add_ref(&k, a[i], b[i]),
                        "case {case} {k:?} x=({}, {})",
                        a[i],
                        b[i]
                    );
                }
            }
        }
        assert!(folded_count >= 50, "only {folded_count} cases folded");
    }

    #[test]
    fn mul_folded_is_bit_exact_on_every_input_pair() {
        let mut rng = XorShift(0x2545_f491_4f6c_dd1d);
        let (a, b) = all_pairs();
        let shape = [65536usize];
        let mut folded_count = 0;
        for case in 0..60 {
            let (s1, s2) = (rng.scale(), rng.scale());
            // Output scales around s1 s2 (multipliers both sides of 1/2 and 1: left shifts).
            let so = s1
                * s2
                * 2f32.powi((rng.next() % 24) as i32 - 12)
                * if case % 3 == 0 { 1.0 } else { 0.77 };
            let Ok(k) = Mul::new((s1, rng.zp()), (s2, rng.zp()), (so, rng.zp()), rng.act()) else {
                continue;
            };
            if k.folded().is_none() {
                continue;
            }
            folded_count += 1;
            let mut out = vec![0i8; 65536];
            k.eval_prepared(&a, &shape, &b, &shape, &mut out, &shape).unwrap();
            for i in 0..65536 {
                assert_eq!(
                    out[i],
                    mul_ref(&k, a[i], b[i]),
                    "case {case} {k:?} x=({}, {})",
                    a[i],
                    b[i]
                );
            }
        }
        assert!(folded_count >= 40, "only {folded_count} cases folded");
    }

    #[test]
    fn folded_matches_the_reference_kernels_with_broadcasting_and_odd_lengths() {
        let mut rng = XorShift(0x1234_5678_9abc_def1);
        // (input 1, input 2, output) shapes: same shape (odd and even lengths), broadcasts.
        let shapes: [(&[usize], &[usize], &[usize]); 6] = [
            (&[1, 7], &[1, 7], &[1, 7]),
            (&[3, 5, 1], &[3, 5, 1], &[3, 5, 1]),
            (&[2, 3, 4], &[4], &[2, 3, 4]),
            (&[1], &[2, 5], &[2, 5]),
            (&[2, 1, 3], &[1, 4, 1], &[2, 4, 3]),
            (&[1, 1], &[1, 1], &[1, 1]),
        ];
        for case in 0..200 {
            let (s1, s2, so) = shapes[case % shapes.len()];
            let n1: usize = s1.iter().product();
            let n2: usize = s2.iter().product();
            let n: usize = so.iter().product();
            let a: Vec<i8> = (0..n1).map(|_| rng.next() as i8).collect();
            let b: Vec<i8> = (0..n2).map(|_| rng.next() as i8).collect();
            let (x, y, o) =
                ((rng.scale(), rng.zp()), (rng.scale(), rng.zp()), (rng.scale(), rng.zp()));
            let act = rng.act();
            let (mut want, mut got) = (vec![0i8; n], vec![0i8; n]);
            let add = Add::new(x, y, o, act).unwrap();
            if let Some(f) = add.folded() {
                let mut table = [[0u8; 4]; 256];
                f.table(table.as_flattened_mut());
                add.eval(&a, s1, &b, s2, &mut want, so).unwrap();
                for t in [None, Some(&table)] {
                    add.eval_prepared(&a, s1, &b, s2, &mut got, so, t).unwrap();
                    assert_eq!(got, want, "ADD case {case}");
                }
            }
            if let Ok(mul) = Mul::new(x, y, o, act) {
                mul.eval(&a, s1, &b, s2, &mut want, so).unwrap();
                mul.eval_prepared(&a, s1, &b, s2, &mut got, so).unwrap();
                assert_eq!(got, want, "MUL case {case}");
            }
        }
        // Shapes that do not broadcast are refused by the folded form too.
        let k = Add::new((1.0, 0), (0.5, 0), (1.0, 0), FusedActivation::None).unwrap();
        let mut table = [[0u8; 4]; 256];
        k.folded().unwrap().table(table.as_flattened_mut());
        let mut out = [0i8; 6];
        assert!(k
            .eval_prepared(&[0; 2], &[2], &[0; 3], &[3], &mut out, &[6], Some(&table))
            .is_err());
    }

    #[test]
    fn folded_rescale_ties_and_saturation() {
        // Exact ties of both roundings, both signs, every shift, against the i64 reference.
        for e in 1..=24u32 {
            for zp in [-128, -1, 0, 1, 127] {
                for m in [1 << 30, (1 << 30) + 1, 0x5555_5555, i32::MAX] {
                    let q = QuantizedMultiplier { multiplier: m, shift: -(e as i32) };
                    let Some(r) = FoldedRescale::new(q, zp, 1 << 29) else { continue };
                    for base in [0i64, 1, 2, 3, 1 << e, 3 << (e - 1), 1 << 20, (1 << 28) - 1] {
                        for s in [base, -base, base + 1, -base - 1, base - 1, 1 - base] {
                            let s = s.clamp(-(1 << 29), 1 << 29);
                            if s % 2 != 0 {
                                continue; // products are doubled sums
                            }
                            let want = mbqm(s / 2, q) + zp as i64;
                            assert_eq!(r.apply(s as i32) as i64, want, "e={e} zp={zp} m={m} s={s}");
                            assert_eq!(r.apply_rounding(s as i32) as i64, want);
                        }
                    }
                }
            }
        }
        // An accumulator that would overflow is refused.
        let q = QuantizedMultiplier { multiplier: 1 << 30, shift: -30 };
        assert!(FoldedRescale::new(q, 100, 1 << 29).is_none());
    }

    #[test]
    fn add_outside_the_folded_range_is_refused() {
        // An output multiplier >= 1/2 (output scale far finer than the inputs) is not folded.
        let k = Add::new((1.0, 0), (1.0, 0), (1e-7, 0), FusedActivation::None).unwrap();
        assert!(k.folded().is_none());
        // ... and runs the reference arithmetic.
        let (a, b) = ([-128i8, -1, 0, 1, 127], [127i8, 3, 0, -1, -128]);
        let (mut want, mut got) = ([0i8; 5], [0i8; 5]);
        k.eval(&a, &[5], &b, &[5], &mut want, &[5]).unwrap();
        k.eval_prepared(&a, &[5], &b, &[5], &mut got, &[5], None).unwrap();
        assert_eq!(got, want);
    }
}
