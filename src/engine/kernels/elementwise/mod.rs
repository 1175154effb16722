//! ADD and MUL (int8, with NumPy-style broadcasting up to rank 6).
//!
//! ADD (TFLite's `reference_integer_ops::Add` and its broadcast form): both inputs are shifted
//! left by 20 bits, rescaled to a common scale (`s_i / (2 max(s1, s2))`), summed, and the sum is
//! rescaled to the output (`2 max(s1, s2) / (2^20 s_out)`):
//! `out = clamp(zp_out + M_out(M_1((x1 - zp1) << 20) + M_2((x2 - zp2) << 20)))`.
//! MUL: `out = clamp(zp_out + M((x1 - zp1)(x2 - zp2)))` with `M = s1 * s2 / s_out` computed in
//! `f32` as TFLite does.
//!
//! These are the reference forms, written as TFLite's kernels are; [`folded`] computes the same
//! bytes with the per-element work moved to prepare (what the engine runs when it can).

pub mod folded;

pub use folded::{AddFolded, AddTable, FoldedRescale, MulFolded};

use super::broadcast::Broadcast;
use super::KernelError;
use crate::engine::arith::{activation_range, clamp_to_i8, FusedActivation, QuantizedMultiplier};

pub use super::broadcast::MAX_RANK;

/// The integer parameters of one ADD operator.
///
/// Plain data (`#[repr(C)]`), so its operator's record holds it whole.
#[derive(Clone, Copy, Debug, PartialEq, Eq, bytemuck::Pod, bytemuck::Zeroable)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[repr(C)]
pub struct Add {
    /// `-zero_point` of input 1.
    pub input1_offset: i32,
    /// `-zero_point` of input 2.
    pub input2_offset: i32,
    /// Output zero point.
    pub output_offset: i32,
    /// Left shift applied to both inputs before rescaling (20 for int8).
    pub left_shift: i32,
    /// Rescales input 1 to the common scale.
    pub input1_multiplier: QuantizedMultiplier,
    /// Rescales input 2 to the common scale.
    pub input2_multiplier: QuantizedMultiplier,
    /// Rescales the sum to the output scale.
    pub output_multiplier: QuantizedMultiplier,
    /// Lower clamp bound.
    pub activation_min: i32,
    /// Upper clamp bound.
    pub activation_max: i32,
}

impl Add {
    /// TFLite's int8 ADD preparation (`left_shift = 20`).
    pub fn new(
        input1: (f32, i32),
        input2: (f32, i32),
        output: (f32, i32),
        activation: FusedActivation,
    ) -> Result<Add, KernelError> {
        const LEFT_SHIFT: i32 = 20;
        let (activation_min, activation_max) = activation_range(activation, output.0, output.1)?;
        // 2 * max(s1, s2) and 2^20 * s_out are exact in f32, as in TFLite.
        let twice_max = 2.0 * input1.0.max(input2.0) as f64;
        let output_real = twice_max / ((1u32 << LEFT_SHIFT) as f64 * output.0 as f64);
        Ok(Add {
            input1_offset: input1.1.wrapping_neg(),
            input2_offset: input2.1.wrapping_neg(),
            output_offset: output.1,
            left_shift: LEFT_SHIFT,
            input1_multiplier: QuantizedMultiplier::from_real(input1.0 as f64 / twice_max)?,
            input2_multiplier: QuantizedMultiplier::from_real(input2.0 as f64 / twice_max)?,
            output_multiplier: QuantizedMultiplier::from_real(output_real)?,
            activation_min,
            activation_max,
        })
    }

    #[inline]
    fn apply(&self, x1: i8, x2: i8) -> i8 {
        let shift = 1i32.wrapping_shl(self.left_shift.clamp(0, 31) as u32);
        let a = (x1 as i32).wrapping_add(self.input1_offset).wrapping_mul(shift);
        let b = (x2 as i32).wrapping_add(self.input2_offset).wrapping_mul(shift);
        let sum = self.input1_multiplier.apply(a).wrapping_add(self.input2_multiplier.apply(b));
        let raw = self.output_multiplier.apply(sum).wrapping_add(self.output_offset);
        clamp_to_i8(raw, self.activation_min, self.activation_max)
    }

    /// Adds `input1` (shape `shape1`) and `input2` (shape `shape2`) into `output` (shape
    /// `output_shape`, the broadcast of the two).
    ///
    /// Errors: [`KernelError::ShapeMismatch`] if a length disagrees with its shape or the shapes
    /// do not broadcast to `output_shape` (checked before writing).
    pub fn eval(
        &self,
        input1: &[i8],
        shape1: &[usize],
        input2: &[i8],
        shape2: &[usize],
        output: &mut [i8],
        output_shape: &[usize],
    ) -> Result<(), KernelError> {
        broadcast(input1, shape1, input2, shape2, output, output_shape, |a, b| self.apply(a, b))
    }
}

/// The integer parameters of one MUL operator.
///
/// Plain data (`#[repr(C)]`), so its operator's record holds it whole.
#[derive(Clone, Copy, Debug, PartialEq, Eq, bytemuck::Pod, bytemuck::Zeroable)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[repr(C)]
pub struct Mul {
    /// `-zero_point` of input 1.
    pub input1_offset: i32,
    /// `-zero_point` of input 2.
    pub input2_offset: i32,
    /// Output zero point.
    pub output_offset: i32,
    /// `s1 * s2 / s_out`.
    pub output_multiplier: QuantizedMultiplier,
    /// Lower clamp bound.
    pub activation_min: i32,
    /// Upper clamp bound.
    pub activation_max: i32,
}

impl Mul {
    /// TFLite's int8 MUL preparation: the real multiplier is `s1 * s2 / s_out` evaluated in
    /// `f32`, then widened.
    pub fn new(
        input1: (f32, i32),
        input2: (f32, i32),
        output: (f32, i32),
        activation: FusedActivation,
    ) -> Result<Mul, KernelError> {
        let (activation_min, activation_max) = activation_range(activation, output.0, output.1)?;
        let real = (input1.0 * input2.0 / output.0) as f64;
        Ok(Mul {
            input1_offset: input1.1.wrapping_neg(),
            input2_offset: input2.1.wrapping_neg(),
            output_offset: output.1,
            output_multiplier: QuantizedMultiplier::from_real(real)?,
            activation_min,
            activation_max,
        })
    }

    #[inline]
    fn apply(&self, x1: i8, x2: i8) -> i8 {
        let a = (x1 as i32).wrapping_add(self.input1_offset);
        let b = (x2 as i32).wrapping_add(self.input2_offset);
        let raw = self.output_multiplier.apply(a.wrapping_mul(b)).wrapping_add(self.output_offset);
        clamp_to_i8(raw, self.activation_min, self.activation_max)
    }

    /// Multiplies `input1` and `input2` elementwise with broadcasting, like [`Add::eval`].
    ///
    /// Errors: as [`Add::eval`].
    pub fn eval(
        &self,
        input1: &[i8],
        shape1: &[usize],
        input2: &[i8],
        shape2: &[usize],
        output: &mut [i8],
        output_shape: &[usize],
    ) -> Result<(), KernelError> {
        broadcast(input1, shape1, input2, shape2, output, output_shape, |a, b| self.apply(a, b))
    }
}

/// Applies `f` elementwise with broadcasting; see [`Add::eval`] for the contract.
fn broadcast(
    input1: &[i8],
    shape1: &[usize],
    input2: &[i8],
    shape2: &[usize],
    output: &mut [i8],
    output_shape: &[usize],
    f: impl Fn(i8, i8) -> i8,
) -> Result<(), KernelError> {
    let walk = Broadcast::new(
        (shape1, input1.len()),
        (shape2, input2.len()),
        (output_shape, output.len()),
    )?;
    walk.for_each(|i, at1, at2| {
        if let Some(y) = output.get_mut(i) {
            *y = f(input1.get(at1).copied().unwrap_or(0), input2.get(at2).copied().unwrap_or(0));
        }
    });
    Ok(())
}
