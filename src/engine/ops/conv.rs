//! CONV_2D and DEPTHWISE_CONV_2D: int8 NHWC input, int8 weights (OHWI for CONV_2D,
//! `[1, kh, kw, channels]` for DEPTHWISE_CONV_2D) quantized per-tensor or per output channel with
//! zero points 0, optional int32 bias, int8 output, SAME/VALID padding, strides, dilations.
//!
//! Both always requantize per channel (a per-tensor weight scale is repeated), as TFLite does.

use super::bounds::{check_depth_multiplier, check_window, Axis};
use super::{as_i8, as_i8_mut, kernel_err, read_shape, write_shape, Needs, Operands, Prep};
use crate::engine::error::{LoadError, LoadErrorKind, RunError};
use crate::engine::kernels::conv::{
    self, sparse, Conv2d, ConvOperands, Facts, Geometry, Shapes, TapLayout, Variant,
};
use crate::engine::kernels::depthwise::{self, DepthwiseConv2d, DepthwiseOperands};
use crate::engine::kernels::{channel_multipliers, padding, Choice, I32Le, Requantize};
use crate::engine::model::operator::{code, Op};
use crate::engine::model::tensor::{DType, Quantization};
use crate::engine::record::{RecordReader, RecordWriter};
use crate::model::QuantParams;

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
    let (input_offset, output_offset, act_min, act_max) = if depthwise {
        let k = DepthwiseConv2d::new(
            geometry,
            depth_multiplier,
            qi.zero_point,
            qo.scale,
            qo.zero_point,
            o.activation,
        )
        .map_err(|e| p.kernel(e))?;
        (k.input_offset, k.output_offset, k.activation_min, k.activation_max)
    } else {
        let k = Conv2d::new(geometry, qi.zero_point, qo.scale, qo.zero_point, o.activation)
            .map_err(|e| p.kernel(e))?;
        (k.input_offset, k.output_offset, k.activation_min, k.activation_max)
    };
    for v in [stride_h, stride_w, dilation_h, dilation_w, pad_h, pad_w, depth_multiplier] {
        w.usize(v);
    }
    for v in [input_offset, output_offset, act_min, act_max] {
        w.i32(v);
    }
    write_shape(w, in_shape);
    write_shape(w, filter_shape);
    write_shape(w, out_shape);
    write_channel_multipliers(p, w, qi.scale, fq.scales(), qo.scale, channels)?;
    let shapes = Shapes { input: in_shape, filter: filter_shape, output: out_shape };
    if depthwise {
        let k = DepthwiseConv2d {
            geometry,
            depth_multiplier,
            input_offset,
            output_offset,
            activation_min: act_min,
            activation_max: act_max,
        };
        let choice = Choice::new(|target| depthwise::select(&k, shapes, target));
        w.i32(choice.to_word() | bias_flag(bias.is_some()));
        let scratch =
            k.scratch_bytes(choice.dsp, shapes).max(k.scratch_bytes(choice.portable, shapes));
        return Ok(Needs { scratch });
    }
    let k = Conv2d {
        geometry,
        input_offset,
        output_offset,
        activation_min: act_min,
        activation_max: act_max,
    };
    let facts = Facts { shapes, weights: filter.data.map(as_i8), bias: bias.flatten().map(I32Le) };
    write_variant(p, w, &k, &facts, bias.is_some())
}

/// The bit of the record's choice word that says the operator has a bias (above the two
/// variant codes of [`Choice::to_word`]).
fn bias_flag(has_bias: bool) -> i32 {
    (has_bias as i32) << 16
}

/// CONV_2D's kernel, chosen once here for each target (see [`conv::select`]), and for pruned
/// weights (mostly zeros) each channel's nonzero taps listed once; returns the operator's
/// scratch needs.
#[inline(never)]
fn write_variant(
    p: &Prep<'_, '_>,
    w: &mut RecordWriter<'_>,
    k: &Conv2d,
    facts: &Facts<'_>,
    has_bias: bool,
) -> Result<Needs, LoadError> {
    let choice = Choice::new(|target| conv::select(k, facts, target));
    w.i32(choice.to_word() | bias_flag(has_bias));
    let shapes = facts.shapes;
    let scratch = k.scratch_bytes(choice.dsp, shapes).max(k.scratch_bytes(choice.portable, shapes));
    if choice.dsp.is_sparse() || choice.portable.is_sparse() {
        let weights = facts.weights.unwrap_or(&[]);
        let layout = TapLayout::new(k, shapes).ok_or(p.shapes("weights cannot be listed"))?;
        let bytes = sparse::table_bytes(shapes.filter[0], sparse::nonzero(weights));
        w.usize(bytes);
        if let Some(table) = w.reserve(bytes) {
            if !sparse::write_table(weights, shapes, &layout, k.input_offset, facts.bias, table) {
                return Err(p.shapes("weights cannot be listed"));
            }
        }
    }
    Ok(Needs { scratch })
}

/// True if `out * stride + window * dilation` fits in `usize` (what the kernels index with).
pub(super) fn window_fits(out: usize, stride: usize, window: usize, dilation: usize) -> bool {
    out.checked_mul(stride)
        .and_then(|a| window.checked_mul(dilation).and_then(|b| a.checked_add(b)))
        .is_some()
}

/// Writes `channels` multipliers (4 bytes each) then shifts (1 byte each); when only counting,
/// still checks that every channel's multiplier is representable.
pub(super) fn write_channel_multipliers(
    p: &Prep<'_, '_>,
    w: &mut RecordWriter<'_>,
    input_scale: f32,
    filter_scales: impl ExactSizeIterator<Item = f32> + Clone,
    output_scale: f32,
    channels: usize,
) -> Result<(), LoadError> {
    w.usize(channels);
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

/// Reads what [`write_channel_multipliers`] wrote.
pub(super) fn read_channel_multipliers<'r>(
    r: &mut RecordReader<'r>,
) -> Result<Requantize<'r>, RunError> {
    let channels = r.usize()?;
    let m = r.bytes(channels.checked_mul(4).ok_or(RunError::Internal)?)?;
    let s = r.bytes(channels)?;
    Ok(Requantize::PerChannel { multipliers: I32Le(m), shifts: as_i8(s) })
}

#[inline(never)]
pub(super) fn eval(
    op_code: i32,
    r: &mut RecordReader<'_>,
    io: Operands<'_>,
) -> Result<(), RunError> {
    let geometry = Geometry {
        stride_h: r.usize()?,
        stride_w: r.usize()?,
        dilation_h: r.usize()?,
        dilation_w: r.usize()?,
        pad_h: r.usize()?,
        pad_w: r.usize()?,
    };
    let depth_multiplier = r.usize()?;
    let (input_offset, output_offset, activation_min, activation_max) =
        (r.i32()?, r.i32()?, r.i32()?, r.i32()?);
    let (in_shape, filter_shape, out_shape) = (read_shape(r)?, read_shape(r)?, read_shape(r)?);
    let requantize = read_channel_multipliers(r)?;
    let word = r.i32()?;
    let bias = if word & bias_flag(true) != 0 { Some(I32Le(io.inputs.get(2)?)) } else { None };
    let (input, filter, output) = (io.inputs.i8(0)?, io.inputs.i8(1)?, as_i8_mut(io.output));
    if op_code == code::DEPTHWISE_CONV_2D {
        let k = DepthwiseConv2d {
            geometry,
            depth_multiplier,
            input_offset,
            output_offset,
            activation_min,
            activation_max,
        };
        let variant: depthwise::Variant = Choice::here_in_word(word).ok_or(RunError::Internal)?;
        let shapes = Shapes { input: in_shape, filter: filter_shape, output: out_shape };
        let ops = DepthwiseOperands { input, filter, bias, requantize, output, shapes };
        return k.eval(variant, ops, io.scratch).map_err(kernel_err);
    }
    let k = Conv2d { geometry, input_offset, output_offset, activation_min, activation_max };
    let variant: Variant = Choice::here_in_word(word).ok_or(RunError::Internal)?;
    let listed = if variant.is_sparse() {
        let len = r.usize()?;
        r.bytes(len)?
    } else {
        &[]
    };
    let shapes = Shapes { input: in_shape, filter: filter_shape, output: out_shape };
    let ops = ConvOperands { input, filter, listed, bias, requantize, output, shapes };
    k.eval(variant, ops, io.scratch).map_err(kernel_err)
}
