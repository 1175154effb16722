//! DEPTHWISE_CONV_2D (int8, NHWC input, `[1, H, W, in_channels * depth_multiplier]` weights).
//!
//! Output channel `o = i * depth_multiplier + m` sees only input channel `i`:
//! `acc = bias[o] + sum_{ky,kx} w[ky][kx][o] * (in[b][y*sh - ph + ky*dh][x*sw - pw + kx*dw][i] - zp_in)`
//! over the taps inside the input, then `out = clamp(zp_out + M_o * acc)` (TFLite's
//! `reference_integer_ops::DepthwiseConvPerChannel`; weights' zero point unused, must be 0).
//!
//! The family has one portable kernel, `reference` (what every other variant is compared
//! with), two DSP variants that replace it where they apply: `packed` (3x3 windows,
//! MobileNet's layers) and `single_channel` (one input channel, a keyword spotter's first
//! layer), and `folded`, what a target without the DSP extension runs (the zero point folded
//! into the bias, four pixels per walk of the weights). [`select`] picks one [`Variant`] per target once, when the operator
//! is prepared; [`DepthwiseConv2d::eval`] runs the one it is given.

pub(crate) mod folded;
pub(crate) mod packed;
mod reference;
pub(crate) mod single_channel;

use super::conv::Shapes;
use super::geometry::Geometry;
use super::rescale::{channel_or_constant, ChannelRescale};
use super::{check_bias, elements, I32Le, KernelError, KernelVariant, Requantize, Target};
use crate::engine::arith::{activation_range, clamp_to_i8, FusedActivation, QuantizedMultiplier};

/// The integer parameters of one DEPTHWISE_CONV_2D operator.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct DepthwiseConv2d {
    /// Strides, dilations and padding.
    pub geometry: Geometry,
    /// Output channels per input channel (> 0).
    pub depth_multiplier: usize,
    /// `-input_zero_point`.
    pub input_offset: i32,
    /// `output_zero_point`.
    pub output_offset: i32,
    /// Lower clamp bound (fused activation and int8 range).
    pub activation_min: i32,
    /// Upper clamp bound.
    pub activation_max: i32,
}

impl DepthwiseConv2d {
    /// Parameters from the geometry, depth multiplier, zero points, output scale and fused
    /// activation.
    pub fn new(
        geometry: Geometry,
        depth_multiplier: usize,
        input_zero_point: i32,
        output_scale: f32,
        output_zero_point: i32,
        activation: FusedActivation,
    ) -> Result<DepthwiseConv2d, KernelError> {
        let (activation_min, activation_max) =
            activation_range(activation, output_scale, output_zero_point)?;
        Ok(DepthwiseConv2d {
            geometry,
            depth_multiplier,
            input_offset: input_zero_point.wrapping_neg(),
            output_offset: output_zero_point,
            activation_min,
            activation_max,
        })
    }

    /// Bytes of scratch memory `variant` needs for `shapes` (0 for the reference).
    pub fn scratch_bytes(&self, variant: Variant, shapes: Shapes) -> usize {
        match variant {
            Variant::Reference => 0,
            Variant::Packed => packed::scratch_bytes(self, shapes),
            Variant::SingleChannel => single_channel::scratch_bytes(self, shapes),
            Variant::Folded => folded::scratch_bytes(self, shapes),
        }
    }

    /// Runs the depthwise convolution with `variant` (from [`select`]). Shapes: input
    /// `[batch, height, width, in_channels]`, weights `[1, height, width, in_channels *
    /// depth_multiplier]`, output `[batch, out_height, out_width, in_channels *
    /// depth_multiplier]`; the bias and `requantize` cover the output channels. The results are
    /// the reference's whatever the variant (a build runs its own equivalent of a variant it
    /// cannot run: [`KernelVariant::in_this_build`]).
    ///
    /// Errors: [`KernelError::ShapeMismatch`] if a length or dimension disagrees (checked before
    /// anything is written); [`KernelError::Unsupported`] for a zero stride, dilation or depth
    /// multiplier.
    pub fn eval(
        &self,
        variant: Variant,
        mut ops: DepthwiseOperands<'_>,
        scratch: &mut [u8],
    ) -> Result<(), KernelError> {
        check(self, &ops)?;
        // The one run-time fallback of the packed variants: too little scratch (or, for the
        // single-channel kernel, a channel without a fast rescale whose window is too large for
        // its exact form) runs the reference.
        let variant = super::KernelVariant::in_this_build(variant);
        // Each arm's guard is a constant: a variant this build does not link is not compiled.
        let ran = match variant {
            Variant::Packed if Variant::Packed.is_linked() => {
                packed::depthwise(self, &mut ops, scratch)
            }
            Variant::SingleChannel if Variant::SingleChannel.is_linked() => {
                single_channel::depthwise(self, &mut ops, scratch)
            }
            Variant::Folded if Variant::Folded.is_linked() && !super::dsp::NATIVE => {
                folded::depthwise(self, &mut ops, scratch)
            }
            _ => false,
        };
        if !ran {
            reference::run(self, ops);
        }
        Ok(())
    }
}

/// The operands of one DEPTHWISE_CONV_2D evaluation.
#[derive(Debug)]
pub struct DepthwiseOperands<'a> {
    /// The input, `shapes.input`.
    pub input: &'a [i8],
    /// The weights, `shapes.filter`.
    pub filter: &'a [i8],
    /// One value per output channel, or none.
    pub bias: Option<I32Le<'a>>,
    /// Covers every output channel.
    pub requantize: Requantize<'a>,
    /// The output, `shapes.output`.
    pub output: &'a mut [i8],
    /// The shapes of the three tensors.
    pub shapes: Shapes,
}

/// The kernel variants of DEPTHWISE_CONV_2D; stored in the operator's record as its `u8` code.
#[derive(Clone, Copy, Debug, PartialEq, Eq, bytemuck::NoUninit, bytemuck::CheckedBitPattern)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[repr(u8)]
pub enum Variant {
    /// The portable kernel.
    Reference = 0,
    /// 3x3 windows with the DSP instructions.
    Packed = 1,
    /// One input channel with the DSP instructions.
    SingleChannel = 2,
    /// A target without the DSP extension: the zero point folded into the bias, four pixels
    /// per walk of a channel's weights.
    Folded = 3,
}

impl super::KernelVariant for Variant {
    const FAMILY: &'static str = "depthwise";
    const NAMES: &'static [&'static str] = &["reference", "packed", "single_channel", "folded"];
    const REFERENCE: Variant = Variant::Reference;

    fn portable(self) -> Variant {
        match self {
            Variant::Folded => Variant::Folded,
            _ => Variant::Reference,
        }
    }

    fn dsp(self) -> Variant {
        // The identity (no mapping to pay per operator): a DSP build drops `Folded` in `eval`
        // instead, where its arm is guarded by `dsp::NATIVE`.
        self
    }
}

/// The one place DEPTHWISE_CONV_2D's kernel is chosen, once, when the operator is prepared
/// (CMSIS-NN's `arm_depthwise_conv_wrapper_s8` does the same): on a DSP target with an int8
/// input zero point, the 3x3 kernel where the window is 3x3 (dilation 1, a horizontal stride of
/// 1 or 2), else the single-channel kernel where there is one input channel (an even number of
/// output channels, windows at most 8 wide, dilation 1); on a target without it, the folded
/// kernel where it applies (dilation 1, an int8 input zero point) and pays (one input channel,
/// or enough output pixels per clipping class: on fewer, its per-channel and per-class setup
/// costs more than it saves); otherwise the reference.
#[inline(never)]
pub fn select(k: &DepthwiseConv2d, shapes: Shapes, target: Target) -> Variant {
    let int8_offset = (-128..=127).contains(&k.input_offset.wrapping_neg());
    match target {
        Target::Dsp if int8_offset && packed::applies(k, shapes) => Variant::Packed,
        Target::Dsp if int8_offset && single_channel::applies(k, shapes) => Variant::SingleChannel,
        Target::Portable if folded::applies(k, shapes) && folded::pays(k, shapes) => {
            Variant::Folded
        }
        _ => Variant::Reference,
    }
}

/// One output channel of a packed variant: its fast rescale and bias, or, for a channel of
/// all-zero weights (`zero_weights()`), its constant output; `None` if it needs the reference
/// ([`channel_or_constant`]). The common case is inline; the degenerate one is out of line, so
/// an operator without such a channel pays one range check per channel and call.
#[inline(always)]
fn channel(
    m: QuantizedMultiplier,
    output_offset: i32,
    bias: i32,
    limit: u32,
    clamp: (i32, i32),
    zero_weights: impl Fn() -> bool,
) -> Option<(ChannelRescale, i32)> {
    match ChannelRescale::new(m, output_offset) {
        Some(r) if bias.unsigned_abs() < limit => Some((r, bias)),
        _ => degenerate_channel(m, output_offset, bias, clamp, &zero_weights),
    }
}

/// [`channel`]'s rare case: a multiplier without a fast form or a bias beyond the bound.
#[cold]
#[inline(never)]
fn degenerate_channel(
    m: QuantizedMultiplier,
    output_offset: i32,
    bias: i32,
    clamp: (i32, i32),
    zero_weights: &dyn Fn() -> bool,
) -> Option<(ChannelRescale, i32)> {
    channel_or_constant(m, output_offset, bias, 0, clamp, zero_weights)
}

/// One output value of a channel without a fast rescale, from its accumulator `acc` (bias not
/// included): the reference's arithmetic (`clamp(zero_point + MBQM(acc + bias, m))`). Out of
/// line: such a channel is rare.
#[cold]
#[inline(never)]
fn exact_value(
    m: QuantizedMultiplier,
    bias: i32,
    acc: i32,
    zero_point: i32,
    clamp: (i32, i32),
) -> i8 {
    clamp_to_i8(m.apply(acc.wrapping_add(bias)).wrapping_add(zero_point), clamp.0, clamp.1)
}

/// The checks every variant makes first: slice lengths against the shapes, channels against
/// the depth multiplier, the bias and the multipliers.
fn check(k: &DepthwiseConv2d, ops: &DepthwiseOperands<'_>) -> Result<(), KernelError> {
    let Shapes { input: input_shape, filter: filter_shape, output: output_shape } = ops.shapes;
    let [batches, _, _, in_depth] = input_shape;
    let [one, filter_h, filter_w, out_depth] = filter_shape;
    let [out_batches, out_h, out_w, out_c] = output_shape;
    let multiplier = k.depth_multiplier;
    if multiplier == 0 {
        return Err(KernelError::Unsupported);
    }
    if elements(input_shape) != Some(ops.input.len())
        || elements(filter_shape) != Some(ops.filter.len())
        || elements(output_shape) != Some(ops.output.len())
        || one != 1
        || out_batches != batches
        || out_c != out_depth
        || in_depth.checked_mul(multiplier) != Some(out_depth)
        || !ops.requantize.covers(out_depth)
    {
        return Err(KernelError::ShapeMismatch);
    }
    check_bias(ops.bias, out_depth)?;
    if !k.geometry.fits(out_h, out_w, filter_h, filter_w) {
        return Err(KernelError::Unsupported);
    }
    Ok(())
}
