//! CONV_2D and DEPTHWISE_CONV_2D: int8 NHWC input, int8 weights (OHWI for CONV_2D,
//! `[1, kh, kw, channels]` for DEPTHWISE_CONV_2D) quantized per-tensor or per output channel with
//! zero points 0, optional int32 bias, int8 output, SAME/VALID padding, strides, dilations.
//!
//! Both always requantize per channel (a per-tensor weight scale is repeated), as TFLite does.

use super::bounds::{check_depth_multiplier, check_window, Axis};
use super::{as_i8, as_i8_mut, kernel_err, KernelUse, Needs, Operands, Prep};
use crate::engine::error::{LoadError, LoadErrorKind, RunError};
use crate::engine::kernels::conv::{
    self, sparse, Conv2d, ConvOperands, Facts, Geometry, Shapes, TapLayout, Variant,
};
use crate::engine::kernels::depthwise::{self, DepthwiseConv2d, DepthwiseOperands};
#[cfg(feature = "in-place")]
use crate::engine::kernels::in_place;
use crate::engine::kernels::{
    channel_multipliers, padding, Choice, I32Le, KernelVariant, Requantize,
};
use crate::engine::model::operator::{code, Op};
use crate::engine::model::tensor::{DType, Quantization};
use crate::engine::record::{shape_of, shape_words, word, RecordReader, RecordWriter};
use crate::model::QuantParams;
use bytemuck::{CheckedBitPattern, NoUninit};

/// An operand's facts, read by [`operand`] so that no `TensorInfo` stays on the stack.
struct Operand<'m> {
    quant: Option<QuantParams>,
    shape: [usize; 4],
    data: Option<&'m [u8]>,
    weights_quant: Option<Quantization<'m>>,
}

/// Input `j` (or the output, for `None`): int8, 4-D; its quantization (per tensor unless
/// `weights`), shape and data.
#[inline(never)]
fn operand<'m>(
    p: &Prep<'_, 'm>,
    j: Option<usize>,
    weights: bool,
) -> Result<Operand<'m>, LoadError> {
    let t = p.operand(j)?;
    let quant = if weights {
        p.dtype(&t, DType::Int8, "weights must be int8")?;
        None
    } else if j.is_some() {
        Some(p.int8(&t, "input must be int8, per-tensor quantized")?)
    } else {
        Some(p.int8(&t, "output must be int8, per-tensor quantized")?)
    };
    let shape = p.shape4(&t, "operands must be 4-D")?;
    if t.shape.dims().len() != 4 {
        return Err(p.shapes("operands must be 4-D"));
    }
    Ok(Operand { quant, shape, data: t.data, weights_quant: t.quantization })
}

#[inline(never)]
pub(super) fn prepare(p: &Prep<'_, '_>, w: &mut RecordWriter<'_>) -> Result<Needs, LoadError> {
    let (o, depthwise) = match p.op.op {
        Op::Conv2d(o) => (o, false),
        Op::DepthwiseConv2d { conv, .. } => (conv, true),
        _ => return Err(p.shapes("not a convolution")),
    };
    p.arity(2, 3)?;
    let input = operand(p, Some(0), false)?;
    let filter = operand(p, Some(1), true)?;
    let output = operand(p, None, false)?;
    let (Some(qi), Some(qo)) = (input.quant, output.quant) else {
        return Err(p.shapes("not a convolution"));
    };
    let (in_shape, filter_shape, out_shape) = (input.shape, filter.shape, output.shape);
    let [batches, in_h, in_w, in_c] = in_shape;
    let [f0, kh, kw, f3] = filter_shape;
    let [out_b, out_h, out_w, out_c] = out_shape;
    let (channels, qdim) = if depthwise { (f3, 3) } else { (f0, 0) };
    if out_b != batches || out_c != channels || channels == 0 || in_c == 0 {
        return Err(p.shapes("output channels must match the weights"));
    }
    let depth_multiplier = channels / in_c;
    if depthwise {
        if f0 != 1 || channels % in_c != 0 {
            return Err(p.shapes("depthwise weights must be [1, h, w, in_channels * multiplier]"));
        }
    } else if f3 == 0 || in_c % f3 != 0 || channels % (in_c / f3) != 0 {
        return Err(p.shapes(
            "input channels must be a multiple of the weights' depth, output channels of the groups",
        ));
    }
    let bias = p.bias(channels, "bias must have one value per output channel")?;
    let fq =
        filter.weights_quant.ok_or(p.err(LoadErrorKind::Quantization("weights unquantized")))?;
    if !(fq.len() == 1 || (fq.len() == channels && fq.dimension() == qdim))
        || (0..fq.len()).any(|c| fq.zero_point(c) != 0)
    {
        return Err(p.err(LoadErrorKind::Quantization(
            "weights need one scale (or one per output channel) and zero points 0",
        )));
    }
    let (stride_h, stride_w) = (o.stride_h as usize, o.stride_w as usize);
    let (dilation_h, dilation_w) = (o.dilation_h as usize, o.dilation_w as usize);
    let axes = [
        Axis { input: in_h, window: kh, stride: stride_h, dilation: dilation_h },
        Axis { input: in_w, window: kw, stride: stride_w, dilation: dilation_w },
    ];
    check_window(p, o.padding, axes)?;
    if let Op::DepthwiseConv2d { depth_multiplier: m, .. } = p.op.op {
        check_depth_multiplier(p, m, depth_multiplier)?;
    }
    let (oh, pad_h) = padding(o.padding, in_h, kh, stride_h, dilation_h)
        .ok_or(p.shapes("window does not fit the input"))?;
    let (ow, pad_w) = padding(o.padding, in_w, kw, stride_w, dilation_w)
        .ok_or(p.shapes("window does not fit the input"))?;
    if (oh, ow) != (out_h, out_w) {
        return Err(p.shapes("output size does not follow from padding and strides"));
    }
    if !window_fits(out_h, stride_h, kh, dilation_h)
        || !window_fits(out_w, stride_w, kw, dilation_w)
    {
        return Err(p.shapes("window positions overflow"));
    }
    let geometry = Geometry { stride_h, stride_w, dilation_h, dilation_w, pad_h, pad_w };
    let shapes = Shapes { input: in_shape, filter: filter_shape, output: out_shape };
    let has_bias = bias.is_some();
    let weights = filter.data.map(as_i8);
    let k = if depthwise {
        let k = DepthwiseConv2d::new(
            geometry,
            depth_multiplier,
            qi.zero_point,
            qo.scale,
            qo.zero_point,
            o.activation,
        )
        .map_err(|e| p.kernel(e))?;
        Kernel::Depthwise(k)
    } else {
        let k = Conv2d::new(geometry, qi.zero_point, qo.scale, qo.zero_point, o.activation)
            .map_err(|e| p.kernel(e))?;
        Kernel::Conv(k, Facts { shapes, weights, bias: bias.flatten().map(I32Le) })
    };
    let chosen = choose(&k, shapes);
    write_record(w, &k, shapes, has_bias, &chosen);
    write_channel_multipliers(p, w, qi.scale, fq.scales(), qo.scale, channels)?;
    if let Kernel::Conv(k, facts) = &k {
        if chosen.listed_bytes != 0 {
            write_list(p, w, k, facts, chosen.listed_bytes)?;
        }
    }
    Ok(Needs { scratch: chosen.scratch })
}

/// The kernel a convolution runs, as prepared.
enum Kernel<'m> {
    /// CONV_2D, with what its variant is chosen from.
    Conv(Conv2d, Facts<'m>),
    /// DEPTHWISE_CONV_2D.
    Depthwise(DepthwiseConv2d),
}

/// CONV_2D's and DEPTHWISE_CONV_2D's fixed parameters. After it in the record: `output[3]`
/// multipliers (4 bytes each) then as many shifts (1 byte each), then `listed_bytes` of listed
/// weights (CONV_2D with a sparse variant for either target).
#[derive(Clone, Copy, Debug, PartialEq, Eq, NoUninit, CheckedBitPattern)]
#[repr(C)]
pub(super) struct ConvRecord {
    /// Strides, dilations and padding, as [`Geometry`] orders them.
    pub geometry: [u32; 6],
    /// Output channels per input channel (DEPTHWISE_CONV_2D; 1 for CONV_2D).
    pub depth_multiplier: u32,
    /// `-input_zero_point`.
    pub input_offset: i32,
    /// `output_zero_point`.
    pub output_offset: i32,
    /// Lower clamp bound.
    pub activation_min: i32,
    /// Upper clamp bound.
    pub activation_max: i32,
    /// Input shape (NHWC).
    pub input: [u32; 4],
    /// Weights' shape.
    pub filter: [u32; 4],
    /// Output shape (NHWC).
    pub output: [u32; 4],
    /// Bytes of listed weights after the multipliers (0 if none).
    pub listed_bytes: u32,
    /// The kernel variant for each target ([`Choice::to_codes`]).
    pub variants: [u8; 2],
    /// True if the operator has a bias (input 2).
    pub bias: bool,
    /// Zero.
    pub reserved: u8,
}

impl ConvRecord {
    fn geometry(&self) -> Geometry {
        let [stride_h, stride_w, dilation_h, dilation_w, pad_h, pad_w] =
            self.geometry.map(|v| v as usize);
        Geometry { stride_h, stride_w, dilation_h, dilation_w, pad_h, pad_w }
    }

    fn shapes(&self) -> Shapes {
        Shapes {
            input: shape_of(self.input),
            filter: shape_of(self.filter),
            output: shape_of(self.output),
        }
    }

    /// The variant this target runs ([`conv::Variant`] or [`depthwise::Variant`]).
    #[inline]
    fn variant<V: KernelVariant>(&self) -> Result<V, RunError> {
        Choice::here_in(self.variants).ok_or(RunError::Internal)
    }
}

/// The kernel chosen for each target, and what the choice implies.
struct Chosen {
    /// [`Choice::to_codes`].
    variants: [u8; 2],
    /// Scratch bytes either target's variant needs.
    scratch: usize,
    /// Bytes of listed weights (0 unless a variant is sparse).
    listed_bytes: usize,
}

/// Chooses the kernel once here for each target ([`conv::select`], [`depthwise::select`]). Out
/// of line, and apart from [`write_record`], so that the record is not on the stack while the
/// selection scans the weights.
#[inline(never)]
fn choose(k: &Kernel<'_>, shapes: Shapes) -> Chosen {
    match k {
        Kernel::Depthwise(k) => {
            let choice = Choice::new(|target| depthwise::select(k, shapes, target));
            let scratch =
                k.scratch_bytes(choice.dsp, shapes).max(k.scratch_bytes(choice.portable, shapes));
            Chosen { variants: choice.to_codes(), scratch, listed_bytes: 0 }
        }
        Kernel::Conv(k, facts) => {
            let choice = Choice::new(|target| conv::select(k, facts, target));
            let scratch =
                k.scratch_bytes(choice.dsp, shapes).max(k.scratch_bytes(choice.portable, shapes));
            let listed_bytes = if choice.dsp.is_sparse() || choice.portable.is_sparse() {
                let weights = facts.weights.unwrap_or(&[]);
                sparse::table_bytes(shapes.filter[0], sparse::nonzero(weights))
            } else {
                0
            };
            Chosen { variants: choice.to_codes(), scratch, listed_bytes }
        }
    }
}

/// Writes the operator's [`ConvRecord`]. Out of line, so that the record is not in the frame
/// that reads the operands.
#[inline(never)]
fn write_record(
    w: &mut RecordWriter<'_>,
    k: &Kernel<'_>,
    shapes: Shapes,
    has_bias: bool,
    chosen: &Chosen,
) {
    let (geometry, depth_multiplier, clamp, offsets) = match k {
        Kernel::Depthwise(k) => (
            k.geometry,
            k.depth_multiplier,
            (k.activation_min, k.activation_max),
            (k.input_offset, k.output_offset),
        ),
        Kernel::Conv(k, _) => {
            (k.geometry, 1, (k.activation_min, k.activation_max), (k.input_offset, k.output_offset))
        }
    };
    let g = geometry;
    w.pod(&ConvRecord {
        geometry: [g.stride_h, g.stride_w, g.dilation_h, g.dilation_w, g.pad_h, g.pad_w].map(word),
        depth_multiplier: word(depth_multiplier),
        input_offset: offsets.0,
        output_offset: offsets.1,
        activation_min: clamp.0,
        activation_max: clamp.1,
        input: shape_words(shapes.input),
        filter: shape_words(shapes.filter),
        output: shape_words(shapes.output),
        listed_bytes: word(chosen.listed_bytes),
        variants: chosen.variants,
        bias: has_bias,
        reserved: 0,
    });
}

/// For pruned CONV_2D weights (mostly zeros), each channel's nonzero taps listed once, after the
/// multipliers (`bytes`, the record's `listed_bytes`).
#[inline(never)]
fn write_list(
    p: &Prep<'_, '_>,
    w: &mut RecordWriter<'_>,
    k: &Conv2d,
    facts: &Facts<'_>,
    bytes: usize,
) -> Result<(), LoadError> {
    let (weights, shapes) = (facts.weights.unwrap_or(&[]), facts.shapes);
    let layout = TapLayout::new(k, shapes).ok_or(p.shapes("weights cannot be listed"))?;
    if let Some(table) = w.reserve(bytes) {
        if !sparse::write_table(weights, shapes, &layout, k.input_offset, facts.bias, table) {
            return Err(p.shapes("weights cannot be listed"));
        }
    }
    Ok(())
}

/// True if `out * stride + window * dilation` fits in `usize` (what the kernels index with).
pub(super) fn window_fits(out: usize, stride: usize, window: usize, dilation: usize) -> bool {
    out.checked_mul(stride)
        .and_then(|a| window.checked_mul(dilation).and_then(|b| a.checked_add(b)))
        .is_some()
}

/// Writes `channels` multipliers (4 bytes each) then shifts (1 byte each), their count being in
/// the operator's record; when only counting, still checks that every channel's multiplier is
/// representable.
pub(super) fn write_channel_multipliers(
    p: &Prep<'_, '_>,
    w: &mut RecordWriter<'_>,
    input_scale: f32,
    filter_scales: impl ExactSizeIterator<Item = f32> + Clone,
    output_scale: f32,
    channels: usize,
) -> Result<(), LoadError> {
    let bytes = channels.checked_mul(5).ok_or(p.shapes("too many channels"))?;
    match w.reserve(bytes) {
        Some(buf) => {
            let (m, s) = buf.split_at_mut(channels * 4);
            channel_multipliers(input_scale, filter_scales, output_scale, m, as_i8_mut(s))
                .map_err(|e| p.kernel(e))?;
        }
        None => {
            for scale in filter_scales {
                channel_multipliers(
                    input_scale,
                    core::iter::once(scale),
                    output_scale,
                    &mut [0; 4],
                    &mut [0; 1],
                )
                .map_err(|e| p.kernel(e))?;
            }
        }
    }
    Ok(())
}

/// Reads the `channels` multipliers and shifts [`write_channel_multipliers`] wrote.
#[inline]
pub(super) fn read_channel_multipliers<'r>(
    r: &mut RecordReader<'r>,
    channels: usize,
) -> Result<Requantize<'r>, RunError> {
    let m = r.bytes(channels.checked_mul(4).ok_or(RunError::Internal)?)?;
    let s = r.bytes(channels)?;
    Ok(Requantize::PerChannel { multipliers: I32Le(m), shifts: as_i8(s) })
}

/// The variants an operator's record asks for ([`super::kernel_use`]).
pub(super) fn kernel_use(op_code: i32, r: &mut RecordReader<'_>) -> Option<KernelUse> {
    let rec: ConvRecord = r.checked().ok()?;
    if op_code == code::DEPTHWISE_CONV_2D {
        KernelUse::of::<depthwise::Variant>(rec.variants)
    } else {
        KernelUse::of::<Variant>(rec.variants)
    }
}

#[inline(never)]
pub(super) fn eval(
    op_code: i32,
    r: &mut RecordReader<'_>,
    io: Operands<'_>,
) -> Result<(), RunError> {
    let rec: ConvRecord = r.checked()?;
    let requantize = read_channel_multipliers(r, rec.output[3] as usize)?;
    let bias = if rec.bias { Some(I32Le(io.inputs.get(2)?)) } else { None };
    let (geometry, shapes) = (rec.geometry(), rec.shapes());
    let (input, filter, output) = (io.inputs.i8(0)?, io.inputs.i8(1)?, as_i8_mut(io.output));
    let (input_offset, output_offset) = (rec.input_offset, rec.output_offset);
    let (activation_min, activation_max) = (rec.activation_min, rec.activation_max);
    if op_code == code::DEPTHWISE_CONV_2D {
        let k = DepthwiseConv2d {
            geometry,
            depth_multiplier: rec.depth_multiplier as usize,
            input_offset,
            output_offset,
            activation_min,
            activation_max,
        };
        let variant: depthwise::Variant =
            Choice::here_in(rec.variants).ok_or(RunError::Internal)?;
        let ops = DepthwiseOperands { input, filter, bias, requantize, output, shapes };
        #[cfg(feature = "in-place")]
        return depthwise_kernel(&k, variant, ops, io.scratch).map_err(kernel_err);
        #[cfg(not(feature = "in-place"))]
        return k.eval(variant, ops, io.scratch).map_err(kernel_err);
    }
    let k = Conv2d { geometry, input_offset, output_offset, activation_min, activation_max };
    let variant: Variant = rec.variant()?;
    let listed = if variant.is_sparse() { r.bytes(rec.listed_bytes as usize)? } else { &[] };
    let ops = ConvOperands { input, filter, listed, bias, requantize, output, shapes };
    #[cfg(feature = "in-place")]
    return conv_kernel(&k, variant, ops, io.scratch).map_err(kernel_err);
    #[cfg(not(feature = "in-place"))]
    k.eval(variant, ops, io.scratch).map_err(kernel_err)
}

/// The one call of CONV_2D's kernel, for the operator run whole and for each band of one run in
/// place (out of line: the kernel's dispatch is linked once).
#[cfg(feature = "in-place")]
#[inline(never)]
fn conv_kernel(
    k: &Conv2d,
    variant: Variant,
    ops: ConvOperands<'_>,
    scratch: &mut [u8],
) -> Result<(), crate::engine::kernels::KernelError> {
    k.eval(variant, ops, scratch)
}

/// The one call of DEPTHWISE_CONV_2D's kernel (see [`conv_kernel`]).
#[cfg(feature = "in-place")]
#[inline(never)]
fn depthwise_kernel(
    k: &DepthwiseConv2d,
    variant: depthwise::Variant,
    ops: DepthwiseOperands<'_>,
    scratch: &mut [u8],
) -> Result<(), crate::engine::kernels::KernelError> {
    k.eval(variant, ops, scratch)
}

/// Runs a CONV_2D or DEPTHWISE_CONV_2D the planner placed in place: `io.output` is the region
/// holding its input and output as `at` says, computed in bands of `band` output rows
/// ([`in_place`]). Out of line: an operator run whole never pays for it.
#[cfg(feature = "in-place")]
#[inline(never)]
pub(super) fn eval_in_place(
    op_code: i32,
    r: &mut RecordReader<'_>,
    io: Operands<'_>,
    at: in_place::InPlace,
    band: usize,
) -> Result<(), RunError> {
    let rec: ConvRecord = r.checked()?;
    let requantize = read_channel_multipliers(r, rec.output[3] as usize)?;
    let bias = if rec.bias { Some(I32Le(io.inputs.get(2)?)) } else { None };
    let (geometry, shapes) = (rec.geometry(), rec.shapes());
    let filter = io.inputs.i8(1)?;
    let rows = in_place::Rows::of_conv(geometry, shapes)
        .and_then(|rows| rows.with_band(band))
        .ok_or(RunError::Internal)?;
    let (input_offset, output_offset) = (rec.input_offset, rec.output_offset);
    let (activation_min, activation_max) = (rec.activation_min, rec.activation_max);
    let (region, scratch) = (io.output, io.scratch);
    if op_code == code::DEPTHWISE_CONV_2D {
        let k = DepthwiseConv2d {
            geometry,
            depth_multiplier: rec.depth_multiplier as usize,
            input_offset,
            output_offset,
            activation_min,
            activation_max,
        };
        let variant: depthwise::Variant = rec.variant()?;
        let w = in_place::Weights { filter, listed: &[], bias, requantize, shapes };
        let eval = |k: &DepthwiseConv2d, ops: DepthwiseOperands<'_>, scratch: &mut [u8]| {
            depthwise_kernel(k, variant, ops, scratch)
        };
        return in_place::depthwise(&k, &w, rows, region, at, scratch, eval).map_err(kernel_err);
    }
    let k = Conv2d { geometry, input_offset, output_offset, activation_min, activation_max };
    let variant: Variant = rec.variant()?;
    let listed = if variant.is_sparse() { r.bytes(rec.listed_bytes as usize)? } else { &[] };
    let w = in_place::Weights { filter, listed, bias, requantize, shapes };
    let eval = |k: &Conv2d, ops: ConvOperands<'_>, scratch: &mut [u8]| {
        conv_kernel(k, variant, ops, scratch)
    };
    in_place::conv(&k, &w, rows, region, at, scratch, eval).map_err(kernel_err)
}

/// The rows operator `op` of `m` runs in place over, if the planner may place its output over
/// its input ([`in_place`]): an int8 CONV_2D or DEPTHWISE_CONV_2D run by the builtin kernels
/// whose shapes [`Rows::of_conv`](in_place::Rows::of_conv) accepts.
#[cfg(feature = "in-place")]
pub(super) fn in_place_rows(
    m: &crate::engine::model::TfLiteModel<'_>,
    op: &crate::engine::model::operator::OperatorInfo<'_>,
) -> Option<in_place::Rows> {
    let o = match op.op {
        Op::Conv2d(o) | Op::DepthwiseConv2d { conv: o, .. } => o,
        _ => return None,
    };
    if super::record_code(m, op) != op.code {
        return None;
    }
    let shape = |t: Option<u32>| -> Option<[usize; 4]> {
        let info = m.tensor(t?).ok()?;
        let dims = info.shape.dims();
        (dims.len() == 4 && info.dtype == DType::Int8)
            .then(|| [dims[0], dims[1], dims[2], dims[3]].map(|d| d as usize))
    };
    let shapes = Shapes {
        input: shape(op.input(0))?,
        filter: shape(op.input(1))?,
        output: shape(op.output(0))?,
    };
    let [_, in_h, in_w, _] = shapes.input;
    let [_, kh, kw, _] = shapes.filter;
    let (stride_h, stride_w) = (o.stride_h as usize, o.stride_w as usize);
    let (dilation_h, dilation_w) = (o.dilation_h as usize, o.dilation_w as usize);
    let (_, pad_h) = padding(o.padding, in_h, kh, stride_h, dilation_h)?;
    let (_, pad_w) = padding(o.padding, in_w, kw, stride_w, dilation_w)?;
    let geometry = Geometry { stride_h, stride_w, dilation_h, dilation_w, pad_h, pad_w };
    in_place::Rows::of_conv(geometry, shapes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::record::assert_round_trip;

    fn record() -> ConvRecord {
        ConvRecord {
            geometry: [1, 2, 1, 3, 0, 4],
            depth_multiplier: 2,
            input_offset: 128,
            output_offset: -128,
            activation_min: -128,
            activation_max: 127,
            input: [1, 49, 10, 1],
            filter: [8, 10, 8, 1],
            output: [1, 25, 5, 8],
            listed_bytes: 0,
            variants: Choice { dsp: Variant::Packed, portable: Variant::Reference }.to_codes(),
            bias: true,
            reserved: 0,
        }
    }

    #[test]
    fn the_record_round_trips() {
        let rec = record();
        assert_round_trip(&rec);
        assert_eq!(
            rec.geometry(),
            Geometry { stride_h: 1, stride_w: 2, dilation_h: 1, dilation_w: 3, pad_h: 0, pad_w: 4 }
        );
        assert_eq!(rec.shapes().filter, [8, 10, 8, 1]);
        let here = Choice { dsp: Variant::Packed, portable: Variant::Reference }.here();
        assert_eq!(rec.variant::<Variant>(), Ok(here));
    }

    #[test]
    fn corrupt_codes_are_errors() {
        let mut rec = record();
        rec.variants = [0xEE, 0xEE];
        assert_eq!(rec.variant::<Variant>(), Err(RunError::Internal));
        assert_eq!(rec.variant::<depthwise::Variant>(), Err(RunError::Internal));
        rec.variants = [4, 4];
        assert_eq!(rec.variant::<depthwise::Variant>(), Err(RunError::Internal));
        let bias_at = core::mem::offset_of!(ConvRecord, bias);
        crate::engine::record::tests::assert_code_checked(&record(), bias_at, 2);
    }

    #[test]
    fn channel_multipliers_are_read_by_the_record_count() {
        let mut buf = [0u8; 11];
        buf[..4].copy_from_slice(&0x4000_0000i32.to_le_bytes());
        buf[4..8].copy_from_slice(&0x5000_0000i32.to_le_bytes());
        buf[8..10].copy_from_slice(&[(-3i8) as u8, 2]);
        let mut r = RecordReader::new(&buf);
        let Ok(Requantize::PerChannel { multipliers, shifts }) =
            read_channel_multipliers(&mut r, 2)
        else {
            panic!("per-channel multipliers expected");
        };
        assert_eq!((multipliers.get(1), shifts), (0x5000_0000, &[-3i8, 2][..]));
        assert_eq!(r.bytes(1), Ok(&[0u8][..]));
        assert!(read_channel_multipliers(&mut RecordReader::new(&buf), 3).is_err());
    }
}
