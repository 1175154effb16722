//! The float32 operators and the dynamic-range ("hybrid") FULLY_CONNECTED, CONV_2D and
//! DEPTHWISE_CONV_2D (feature `op-float`): prepare checks the float operands and writes the record, eval runs the
//! [`float`](crate::engine::kernels::float) kernels.
//!
//! An operator runs here when its output is float32 and its code is one of [`runs_code`]'s
//! (the data movement operators, RESHAPE and QUANTIZE/DEQUANTIZE keep their own preparation,
//! which handles float32 elements already). Its record is written with code
//! `code | RECORD_FLAG`, so eval finds it without reading any tensor.

use super::bounds::{check_window, Axis};
use super::elementwise::DimsRecord;
use super::{kernel_err, Needs, Operands, Prep};
use crate::engine::arith::FusedActivation;
use crate::engine::error::{LoadError, LoadErrorKind, RunError};
use crate::engine::kernels::elementwise::MAX_RANK;
use crate::engine::kernels::float::dense::{
    fully_connected, hybrid_fully_connected, Dense, HybridOperands, WeightScales,
};
use crate::engine::kernels::float::hybrid::{hybrid_conv, hybrid_depthwise, HybridConvOperands};
use crate::engine::kernels::float::window::{conv, depthwise, pool, ConvOperands, Pool, Shapes};
use crate::engine::kernels::float::{binary, mean, softmax, unary, Binary, Clamp, F32Le, Unary};
use crate::engine::kernels::geometry::Geometry;
use crate::engine::kernels::padding;
use crate::engine::model::operator::{code, Op, OperatorInfo};
use crate::engine::model::tensor::{DType, TensorInfo};
use crate::engine::model::TfLiteModel;
use crate::engine::record::{shape_of, shape_words, word, RecordReader, RecordWriter};
use bytemuck::{CheckedBitPattern, NoUninit, Pod, Zeroable};

/// Set in the record code of an operator that runs here.
pub(super) const RECORD_FLAG: i32 = 1 << 20;

/// The builtin codes this module runs on float32 operands (when their family is built).
pub(super) const fn runs_code(c: i32) -> bool {
    matches!(
        c,
        code::CONV_2D
            | code::DEPTHWISE_CONV_2D
            | code::FULLY_CONNECTED
            | code::ADD
            | code::MUL
            | code::MEAN
            | code::AVERAGE_POOL_2D
            | code::MAX_POOL_2D
            | code::SOFTMAX
            | code::LOGISTIC
            | code::TANH
    ) && super::built(c)
}

/// True if operator `op` of `m` runs here: a code of [`runs_code`] with a float32 output.
pub(super) fn runs(m: &TfLiteModel<'_>, op: &OperatorInfo<'_>) -> bool {
    runs_code(op.code)
        && op.output(0).and_then(|t| m.tensor(t).ok()).is_some_and(|t| t.dtype == DType::Float32)
}

/// Requires `t` to be float32.
fn float(p: &Prep<'_, '_>, t: &TensorInfo<'_>, what: &'static str) -> Result<(), LoadError> {
    p.dtype(t, DType::Float32, what)
}

/// The float32 bias (input 2) of `count` values: `None` if absent.
fn bias(p: &Prep<'_, '_>, count: usize) -> Result<Option<()>, LoadError> {
    match p.input_opt(2)? {
        Some(b) => {
            float(p, &b, "bias must be float32")?;
            if b.elements() != count {
                return Err(p.shapes("bias must have one value per output channel"));
            }
            Ok(Some(()))
        }
        None => Ok(None),
    }
}

/// A clamp range as records hold it.
fn clamp_words(a: FusedActivation) -> [f32; 2] {
    let c = Clamp::of(a);
    [c.min, c.max]
}

/// The clamp range `[min, max]` of a record.
fn clamp_of([min, max]: [f32; 2]) -> Clamp {
    Clamp { min, max }
}

/// Strides, dilations and padding as records hold them (the order of [`Geometry`]).
fn geometry_words(g: &Geometry) -> [u32; 6] {
    [g.stride_h, g.stride_w, g.dilation_h, g.dilation_w, g.pad_h, g.pad_w].map(word)
}

/// The [`Geometry`] of a record's words.
fn geometry_of(words: [u32; 6]) -> Geometry {
    let [stride_h, stride_w, dilation_h, dilation_w, pad_h, pad_w] = words.map(|v| v as usize);
    Geometry { stride_h, stride_w, dilation_h, dilation_w, pad_h, pad_w }
}

/// Float CONV_2D's and DEPTHWISE_CONV_2D's parameters (the whole record).
#[derive(Clone, Copy, Debug, PartialEq, NoUninit, CheckedBitPattern)]
#[repr(C)]
pub(super) struct FloatConvRecord {
    /// Strides, dilations and padding, as [`Geometry`] orders them.
    pub geometry: [u32; 6],
    /// Output channels per input channel (DEPTHWISE_CONV_2D; 0 for CONV_2D).
    pub depth_multiplier: u32,
    /// Clamp bounds `[min, max]` of the fused activation.
    pub clamp: [f32; 2],
    /// Input shape (NHWC).
    pub input: [u32; 4],
    /// Weights' shape.
    pub filter: [u32; 4],
    /// Output shape (NHWC).
    pub output: [u32; 4],
    /// True if the operator has a bias (input 2).
    pub bias: bool,
    /// Float weights, or int8 ones and how they are scaled (a hybrid convolution, whose weight
    /// scales follow the record: one, or one per output channel).
    pub weights: ConvWeights,
    /// Zeros.
    pub reserved: [u8; 2],
}

/// The weights of a float-input convolution, and so which kernel runs it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, NoUninit, CheckedBitPattern)]
#[repr(u8)]
pub(super) enum ConvWeights {
    /// float32 weights: the float kernels.
    Float = 0,
    /// int8 weights, one scale: hybrid CONV_2D with the input quantized symmetrically
    /// (TFLite's `EvalHybrid`).
    PerTensor = 1,
    /// int8 weights, one scale per output channel: hybrid CONV_2D or DEPTHWISE_CONV_2D with the
    /// input quantized asymmetrically (TFLite's `EvalHybridPerChannel`).
    PerChannel = 2,
}

impl FloatConvRecord {
    fn shapes(&self) -> Shapes {
        Shapes {
            input: shape_of(self.input),
            filter: shape_of(self.filter),
            output: shape_of(self.output),
        }
    }
}

/// Float AVERAGE_POOL_2D's and MAX_POOL_2D's parameters (the whole record).
#[derive(Clone, Copy, Debug, PartialEq, NoUninit, CheckedBitPattern)]
#[repr(C)]
pub(super) struct FloatPoolRecord {
    /// The reduction.
    pub kind: Pool,
    /// Zeros.
    pub reserved: [u8; 3],
    /// Strides, dilations (1) and padding, as [`Geometry`] orders them.
    pub geometry: [u32; 6],
    /// Clamp bounds `[min, max]` of the fused activation.
    pub clamp: [f32; 2],
    /// Input shape (NHWC).
    pub input: [u32; 4],
    /// Window `[1, height, width, 1]`.
    pub filter: [u32; 4],
    /// Output shape (NHWC).
    pub output: [u32; 4],
}

/// Float or hybrid FULLY_CONNECTED's parameters; a hybrid one's weight scales (`scales` of
/// them, `f32`) follow it.
#[derive(Clone, Copy, Debug, PartialEq, NoUninit, CheckedBitPattern)]
#[repr(C)]
pub(super) struct FloatFcRecord {
    /// Input rows.
    pub batches: u32,
    /// Values per input row.
    pub depth: u32,
    /// Output values per row.
    pub units: u32,
    /// Clamp bounds `[min, max]` of the fused activation.
    pub clamp: [f32; 2],
    /// Weight scales after the record (0 for float weights, 1 per tensor, else one per unit).
    pub scales: u32,
    /// True for int8 weights (the hybrid kernel).
    pub hybrid: bool,
    /// True if the operator has a bias (input 2).
    pub bias: bool,
    /// True if the hybrid kernel quantizes its input asymmetrically (the op's option).
    pub asymmetric: bool,
    /// Zero.
    pub reserved: u8,
}

/// Float ADD's and MUL's parameters (the whole record).
#[derive(Clone, Copy, Debug, PartialEq, Pod, Zeroable)]
#[repr(C)]
pub(super) struct FloatAddMulRecord {
    /// Clamp bounds `[min, max]` of the fused activation.
    pub clamp: [f32; 2],
    /// First input's shape.
    pub a: DimsRecord,
    /// Second input's shape.
    pub b: DimsRecord,
    /// Output shape.
    pub output: DimsRecord,
}

/// Float MEAN's parameters (the whole record).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Pod, Zeroable)]
#[repr(C)]
pub(super) struct FloatMeanRecord {
    /// Input shape.
    pub input: DimsRecord,
    /// Bit `d` set if dimension `d` is reduced (bits 6 and up must be clear).
    pub reduced: u32,
}

impl FloatMeanRecord {
    /// The reduced dimensions, or [`RunError::Internal`] for a bit past the largest rank.
    fn reduced(&self) -> Result<[bool; MAX_RANK], RunError> {
        if self.reduced >> MAX_RANK != 0 {
            return Err(RunError::Internal);
        }
        Ok(core::array::from_fn(|d| self.reduced & (1 << d) != 0))
    }
}

/// Float SOFTMAX's parameters (the whole record).
#[derive(Clone, Copy, Debug, PartialEq, Pod, Zeroable)]
#[repr(C)]
pub(super) struct FloatSoftmaxRecord {
    /// The input scale `beta`.
    pub beta: f32,
    /// Values per softmax row (the last dimension).
    pub depth: u32,
}

/// Checks operator `p` (one [`runs`] accepts) and writes its record.
#[inline(never)]
pub(super) fn prepare(p: &Prep<'_, '_>, w: &mut RecordWriter<'_>) -> Result<Needs, LoadError> {
    match p.op.op {
        Op::Conv2d(_) | Op::DepthwiseConv2d { .. } => prepare_conv(p, w),
        Op::AveragePool2d(_) | Op::MaxPool2d(_) => prepare_pool(p, w),
        Op::FullyConnected { .. } => prepare_fully_connected(p, w),
        Op::Add { activation } | Op::Mul { activation } => {
            p.arity(2, 2)?;
            let (a, b, o) = (p.input(0)?, p.input(1)?, p.output()?);
            for t in [&a, &b, &o] {
                float(p, t, "ADD/MUL operands must all be float32")?;
            }
            if [&a, &b, &o].iter().any(|t| t.shape.dims().len() > MAX_RANK) {
                return Err(p.shapes("rank above 6"));
            }
            if !super::elementwise::broadcasts_to(a.shape.dims(), b.shape.dims(), o.shape.dims()) {
                return Err(p.shapes("inputs do not broadcast to the output"));
            }
            w.pod(&FloatAddMulRecord {
                clamp: clamp_words(activation),
                a: DimsRecord::new(a.shape.dims()),
                b: DimsRecord::new(b.shape.dims()),
                output: DimsRecord::new(o.shape.dims()),
            });
            Ok(Needs::default())
        }
        Op::Mean { .. } => prepare_mean(p, w),
        Op::Softmax { beta } => {
            let (i, o) = same_shape(p)?;
            let depth = i.shape.dims().last().copied().unwrap_or(1) as usize;
            if depth == 0 || o.elements() % depth != 0 {
                return Err(p.shapes("softmax depth"));
            }
            w.pod(&FloatSoftmaxRecord { beta, depth: word(depth) });
            Ok(Needs::default())
        }
        Op::Logistic | Op::Tanh => {
            same_shape(p)?;
            Ok(Needs::default())
        }
        _ => Err(p.err(LoadErrorKind::FloatModel)),
    }
}

/// One float32 input and a float32 output of the same element count.
fn same_shape<'m>(p: &Prep<'_, 'm>) -> Result<(TensorInfo<'m>, TensorInfo<'m>), LoadError> {
    p.arity(1, 1)?;
    let (i, o) = (p.input(0)?, p.output()?);
    float(p, &i, "input must be float32")?;
    float(p, &o, "output must be float32")?;
    if i.elements() != o.elements() {
        return Err(p.shapes("input and output sizes differ"));
    }
    Ok((i, o))
}

#[inline(never)]
fn prepare_conv(p: &Prep<'_, '_>, w: &mut RecordWriter<'_>) -> Result<Needs, LoadError> {
    let (o, depth_multiplier) = match p.op.op {
        Op::Conv2d(o) => (o, None),
        Op::DepthwiseConv2d { conv, depth_multiplier } => (conv, Some(depth_multiplier)),
        _ => return Err(p.shapes("not a convolution")),
    };
    p.arity(2, 3)?;
    let (input, filter, output) = (p.input(0)?, p.input(1)?, p.output()?);
    float(p, &input, "input must be float32")?;
    if filter.dtype != DType::Int8 {
        float(p, &filter, "weights must be float32 or int8")?;
    }
    float(p, &output, "output must be float32")?;
    if [&input, &filter, &output].iter().any(|t| t.shape.dims().len() != 4) {
        return Err(p.shapes("operands must be 4-D"));
    }
    let (is, fs, os) =
        (p.shape4(&input, "input")?, p.shape4(&filter, "weights")?, p.shape4(&output, "output")?);
    let channels = if depth_multiplier.is_some() { fs[3] } else { fs[0] };
    if os[0] != is[0] || os[3] != channels || channels == 0 || is[3] == 0 {
        return Err(p.shapes("output channels must match the weights"));
    }
    if let Some(m) = depth_multiplier {
        if fs[0] != 1 || channels % is[3] != 0 {
            return Err(p.shapes("depthwise weights must be [1, h, w, in_channels * multiplier]"));
        }
        super::bounds::check_depth_multiplier(p, m, channels / is[3])?;
    } else if fs[3] == 0 || is[3] % fs[3] != 0 || channels % (is[3] / fs[3]) != 0 {
        return Err(p.shapes("input channels must be a multiple of the weights' depth"));
    }
    let has_bias = bias(p, channels)?.is_some();
    let (sh, sw) = (o.stride_h as usize, o.stride_w as usize);
    let (dh, dw) = (o.dilation_h as usize, o.dilation_w as usize);
    let axes = [
        Axis { input: is[1], window: fs[1], stride: sh, dilation: dh },
        Axis { input: is[2], window: fs[2], stride: sw, dilation: dw },
    ];
    check_window(p, o.padding, axes)?;
    let fit = p.shapes("window does not fit the input");
    let (oh, pad_h) = padding(o.padding, is[1], fs[1], sh, dh).ok_or(fit)?;
    let (ow, pad_w) = padding(o.padding, is[2], fs[2], sw, dw).ok_or(fit)?;
    if (oh, ow) != (os[1], os[2]) {
        return Err(p.shapes("output size does not follow from padding and strides"));
    }
    let g = Geometry { stride_h: sh, stride_w: sw, dilation_h: dh, dilation_w: dw, pad_h, pad_w };
    if !g.fits(oh, ow, fs[1], fs[2]) {
        return Err(p.shapes("window positions overflow"));
    }
    let groups_of_one = depth_multiplier.is_some() || fs[3] == is[3];
    let weights = hybrid_weights(p, &filter, channels, depth_multiplier.is_some(), groups_of_one)?;
    w.pod(&FloatConvRecord {
        geometry: geometry_words(&g),
        depth_multiplier: word(depth_multiplier.map_or(0, |_| channels / is[3])),
        clamp: clamp_words(o.activation),
        input: shape_words(is),
        filter: shape_words(fs),
        output: shape_words(os),
        bias: has_bias,
        weights,
        reserved: [0; 2],
    });
    match weights {
        ConvWeights::Float => return Ok(Needs::default()),
        ConvWeights::PerTensor => w.pod(&filter.quantization.map_or(0.0, |q| q.scale(0))),
        ConvWeights::PerChannel => {
            for s in filter.quantization.iter().flat_map(|q| q.scales()) {
                w.pod(&s);
            }
        }
    }
    Ok(Needs { scratch: is[1] * is[2] * is[3] })
}

/// How a convolution's weights are stored, as TFLite picks its kernel: float32; int8 with one
/// scale (or several, all equal) for a CONV_2D without groups; else int8 with one scale per
/// output channel (along dimension 0 for CONV_2D, 3 for DEPTHWISE_CONV_2D, which TFLite runs
/// only so). Int8 zero points must be 0 and the scales positive.
fn hybrid_weights(
    p: &Prep<'_, '_>,
    filter: &TensorInfo<'_>,
    channels: usize,
    depthwise: bool,
    groups_of_one: bool,
) -> Result<ConvWeights, LoadError> {
    if filter.dtype != DType::Int8 {
        return Ok(ConvWeights::Float);
    }
    let q = filter.quantization.ok_or(p.err(LoadErrorKind::Quantization("weights unquantized")))?;
    let valid =
        q.scales().all(|s| s.is_finite() && s > 0.0) && (0..q.len()).all(|c| q.zero_point(c) == 0);
    let along = q.dimension() == if depthwise { 3 } else { 0 };
    let per_channel = q.len() == channels && (along || channels == 1);
    let equal = q.scales().all(|s| s == q.scale(0));
    if valid && !depthwise && groups_of_one && (q.len() == 1 || (per_channel && equal)) {
        Ok(ConvWeights::PerTensor)
    } else if valid && per_channel {
        Ok(ConvWeights::PerChannel)
    } else {
        Err(p.err(LoadErrorKind::Quantization(
            "hybrid convolution weights need zero points 0 and one positive scale per output \
             channel (or one scale, for CONV_2D without groups)",
        )))
    }
}

#[inline(never)]
fn prepare_pool(p: &Prep<'_, '_>, w: &mut RecordWriter<'_>) -> Result<Needs, LoadError> {
    let (o, kind) = match p.op.op {
        Op::AveragePool2d(o) => (o, Pool::Average),
        Op::MaxPool2d(o) => (o, Pool::Max),
        _ => return Err(p.shapes("not a pooling")),
    };
    p.arity(1, 1)?;
    let (input, output) = (p.input(0)?, p.output()?);
    float(p, &input, "input must be float32")?;
    float(p, &output, "output must be float32")?;
    if input.shape.dims().len() != 4 || output.shape.dims().len() != 4 {
        return Err(p.shapes("operands must be 4-D"));
    }
    let (is, os) = (p.shape4(&input, "input")?, p.shape4(&output, "output")?);
    let (fh, fw) = (o.filter_h as usize, o.filter_w as usize);
    let (sh, sw) = (o.stride_h as usize, o.stride_w as usize);
    let axis = |input, window, stride| Axis { input, window, stride, dilation: 1 };
    check_window(p, o.padding, [axis(is[1], fh, sh), axis(is[2], fw, sw)])?;
    let fit = p.shapes("window does not fit");
    let (oh, pad_h) = padding(o.padding, is[1], fh, sh, 1).ok_or(fit)?;
    let (ow, pad_w) = padding(o.padding, is[2], fw, sw, 1).ok_or(fit)?;
    if [is[0], oh, ow, is[3]] != os {
        return Err(p.shapes("output size does not follow from padding and strides"));
    }
    let g = Geometry { stride_h: sh, stride_w: sw, dilation_h: 1, dilation_w: 1, pad_h, pad_w };
    if !g.fits(oh, ow, fh, fw) {
        return Err(p.shapes("window positions overflow"));
    }
    w.pod(&FloatPoolRecord {
        kind,
        reserved: [0; 3],
        geometry: geometry_words(&g),
        clamp: clamp_words(o.activation),
        input: shape_words(is),
        filter: shape_words([1, fh, fw, 1]),
        output: shape_words(os),
    });
    Ok(Needs::default())
}

/// Float or hybrid FULLY_CONNECTED: float32 input and output, weights `[units, depth]` in
/// float32, or in int8 (per tensor, or per unit along dimension 0) with zero points 0.
#[inline(never)]
fn prepare_fully_connected(p: &Prep<'_, '_>, w: &mut RecordWriter<'_>) -> Result<Needs, LoadError> {
    let Op::FullyConnected { activation, .. } = p.op.op else {
        return Err(p.shapes("not FULLY_CONNECTED"));
    };
    p.arity(2, 3)?;
    let (input, weights, output) = (p.input(0)?, p.input(1)?, p.output()?);
    float(p, &input, "input must be float32")?;
    float(p, &output, "output must be float32")?;
    let wd = weights.shape.dims();
    if wd.len() != 2 || wd[1] == 0 {
        return Err(p.shapes("weights must be [units, depth]"));
    }
    let (units, depth) = (wd[0] as usize, wd[1] as usize);
    if input.elements() % depth != 0 {
        return Err(p.shapes("input size is not a multiple of the weights' depth"));
    }
    let batches = input.elements() / depth;
    let out_last = output.shape.dims().last().copied();
    if Some(output.elements()) != batches.checked_mul(units) || out_last != Some(units as u32) {
        return Err(p.shapes("output must be batches x units"));
    }
    let has_bias = bias(p, units)?.is_some();
    let hybrid = match weights.dtype {
        DType::Float32 => false,
        DType::Int8 => true,
        _ => return Err(p.err(LoadErrorKind::Types("weights must be float32 or int8"))),
    };
    let mut rec = FloatFcRecord {
        batches: word(batches),
        depth: word(depth),
        units: word(units),
        clamp: clamp_words(activation),
        scales: 0,
        hybrid,
        bias: has_bias,
        asymmetric: false,
        reserved: 0,
    };
    if !hybrid {
        w.pod(&rec);
        return Ok(Needs::default());
    }
    let q =
        weights.quantization.ok_or(p.err(LoadErrorKind::Quantization("weights unquantized")))?;
    let per_channel = q.len() > 1;
    let scales_ok = q.scales().all(|s| s.is_finite() && s > 0.0)
        && (0..q.len()).all(|c| q.zero_point(c) == 0)
        && (!per_channel || (q.len() == units && q.dimension() == 0));
    if !scales_ok {
        return Err(p.err(LoadErrorKind::Quantization(
            "hybrid weights need one positive scale (or one per unit) and zero points 0",
        )));
    }
    rec.asymmetric = p.m.asymmetric_quantize_inputs(p.op.index);
    rec.scales = word(q.len());
    w.pod(&rec);
    for s in q.scales() {
        w.pod(&s);
    }
    Ok(Needs { scratch: depth })
}

#[inline(never)]
fn prepare_mean(p: &Prep<'_, '_>, w: &mut RecordWriter<'_>) -> Result<Needs, LoadError> {
    p.arity(2, 2)?;
    let (input, axes, output) = (p.input(0)?, p.input(1)?, p.output()?);
    float(p, &input, "input must be float32")?;
    float(p, &output, "output must be float32")?;
    let rank = input.shape.dims().len();
    if rank > MAX_RANK {
        return Err(p.shapes("rank above 6"));
    }
    p.dtype(&axes, DType::Int32, "axes must be int32")?;
    let data = p.constant(&axes, "axes must be constant")?;
    let mut reduced = [false; MAX_RANK];
    for k in 0..axes.elements() {
        let a = crate::engine::kernels::read_i32(data, k).unwrap_or(i32::MAX);
        let a = if a < 0 { a.saturating_add(rank as i32) } else { a };
        match usize::try_from(a).ok().filter(|&a| a < rank) {
            Some(a) => reduced[a] = true,
            None => return Err(p.shapes("axis out of range")),
        }
    }
    let kept: usize =
        (0..rank).filter(|&d| !reduced[d]).map(|d| input.shape.dims()[d] as usize).product();
    if kept != output.elements() {
        return Err(p.shapes("output size does not match the reduced input"));
    }
    let bits = (0..MAX_RANK).filter(|&d| reduced[d]).fold(0u32, |m, d| m | 1 << d);
    w.pod(&FloatMeanRecord { input: DimsRecord::new(input.shape.dims()), reduced: bits });
    Ok(Needs::default())
}

/// Input `j` as float32 values.
fn f32_input<'x>(io: &Operands<'x>, j: usize) -> Result<F32Le<'x>, RunError> {
    Ok(F32Le(io.inputs.get(j)?))
}

/// Runs the operator with builtin `op_code` from the record [`prepare`] wrote.
#[inline(never)]
pub(super) fn eval(
    op_code: i32,
    r: &mut RecordReader<'_>,
    io: Operands<'_>,
) -> Result<(), RunError> {
    match op_code {
        code::CONV_2D | code::DEPTHWISE_CONV_2D => {
            let rec: FloatConvRecord = r.checked()?;
            if rec.weights != ConvWeights::Float {
                return eval_hybrid_conv(op_code, &rec, r, io);
            }
            let (g, clamp) = (geometry_of(rec.geometry), clamp_of(rec.clamp));
            let multiplier = rec.depth_multiplier as usize;
            let bias = if rec.bias { Some(f32_input(&io, 2)?) } else { None };
            let ops = ConvOperands {
                input: f32_input(&io, 0)?,
                filter: f32_input(&io, 1)?,
                bias,
                shapes: rec.shapes(),
            };
            if op_code == code::DEPTHWISE_CONV_2D {
                depthwise(g, multiplier, clamp, ops, io.output)
            } else {
                conv(g, clamp, ops, io.output)
            }
        }
        code::AVERAGE_POOL_2D | code::MAX_POOL_2D => {
            let rec: FloatPoolRecord = r.checked()?;
            let (g, clamp) = (geometry_of(rec.geometry), clamp_of(rec.clamp));
            let shapes = Shapes {
                input: shape_of(rec.input),
                filter: shape_of(rec.filter),
                output: shape_of(rec.output),
            };
            pool(rec.kind, g, clamp, f32_input(&io, 0)?, shapes, io.output)
        }
        code::FULLY_CONNECTED => return eval_fully_connected(r, io),
        code::ADD | code::MUL => {
            let rec: FloatAddMulRecord = r.pod()?;
            let clamp = clamp_of(rec.clamp);
            let (a, b, o) = (rec.a.get()?, rec.b.get()?, rec.output.get()?);
            let op = if op_code == code::ADD { Binary::Add } else { Binary::Mul };
            let (x, y) = (f32_input(&io, 0)?, f32_input(&io, 1)?);
            binary(op, clamp, (x, a.get()), (y, b.get()), (io.output, o.get()))
        }
        code::MEAN => {
            let rec: FloatMeanRecord = r.pod()?;
            let (dims, reduced) = (rec.input.get()?, rec.reduced()?);
            mean(f32_input(&io, 0)?, dims.get(), reduced, io.output)
        }
        code::SOFTMAX => {
            let rec: FloatSoftmaxRecord = r.pod()?;
            softmax(rec.beta, rec.depth as usize, f32_input(&io, 0)?, io.output)
        }
        code::LOGISTIC => unary(Unary::Logistic, f32_input(&io, 0)?, io.output),
        code::TANH => unary(Unary::Tanh, f32_input(&io, 0)?, io.output),
        _ => return Err(RunError::UnknownOperator(op_code | RECORD_FLAG)),
    }
    .map_err(kernel_err)
}

/// A hybrid CONV_2D or DEPTHWISE_CONV_2D: its weight scales follow the record.
#[inline(never)]
fn eval_hybrid_conv(
    op_code: i32,
    rec: &FloatConvRecord,
    r: &mut RecordReader<'_>,
    io: Operands<'_>,
) -> Result<(), RunError> {
    let shapes = rec.shapes();
    let scales = if rec.weights == ConvWeights::PerTensor {
        WeightScales::PerTensor(r.pod()?)
    } else {
        let channels = shapes.output[3];
        WeightScales::PerChannel(F32Le(
            r.bytes(channels.checked_mul(4).ok_or(RunError::Internal)?)?,
        ))
    };
    let bias = if rec.bias { Some(f32_input(&io, 2)?) } else { None };
    let ops = HybridConvOperands {
        input: f32_input(&io, 0)?,
        filter: io.inputs.i8(1)?,
        scales,
        bias,
        shapes,
    };
    let (g, clamp) = (geometry_of(rec.geometry), clamp_of(rec.clamp));
    let scratch = super::as_i8_mut(io.scratch);
    if op_code == code::DEPTHWISE_CONV_2D {
        hybrid_depthwise(g, rec.depth_multiplier as usize, clamp, ops, io.output, scratch)
    } else {
        hybrid_conv(g, clamp, ops, io.output, scratch)
    }
    .map_err(kernel_err)
}

#[inline(never)]
fn eval_fully_connected(r: &mut RecordReader<'_>, io: Operands<'_>) -> Result<(), RunError> {
    let rec: FloatFcRecord = r.checked()?;
    let [batches, depth, units] = [rec.batches, rec.depth, rec.units].map(|v| v as usize);
    let size = Dense { batches, depth, units };
    let clamp = clamp_of(rec.clamp);
    let bias = if rec.bias { Some(f32_input(&io, 2)?) } else { None };
    let input = f32_input(&io, 0)?;
    if !rec.hybrid {
        let weights = f32_input(&io, 1)?;
        return fully_connected(size, clamp, input, weights, bias, io.output).map_err(kernel_err);
    }
    let (asymmetric, n) = (rec.asymmetric, rec.scales as usize);
    let scale_bytes = r.bytes(n.checked_mul(4).ok_or(RunError::Internal)?)?;
    let scales = if n == 1 {
        WeightScales::PerTensor(F32Le(scale_bytes).get(0))
    } else {
        WeightScales::PerChannel(F32Le(scale_bytes))
    };
    let ops = HybridOperands { input, weights: io.inputs.i8(1)?, scales, bias };
    let scratch = super::as_i8_mut(io.scratch);
    hybrid_fully_connected(size, asymmetric, clamp, ops, io.output, scratch).map_err(kernel_err)
}

/// True if [`eval`] runs builtin `c` in this build.
pub(super) const fn evaluates(c: i32) -> bool {
    runs_code(c)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::record::assert_round_trip;
    use crate::engine::record::tests::assert_code_checked;

    fn conv() -> FloatConvRecord {
        FloatConvRecord {
            geometry: [1, 2, 1, 3, 0, 4],
            depth_multiplier: 2,
            clamp: clamp_words(FusedActivation::Relu6),
            input: [1, 9, 10, 3],
            filter: [1, 3, 3, 6],
            output: [1, 7, 4, 6],
            bias: true,
            weights: ConvWeights::PerChannel,
            reserved: [0; 2],
        }
    }

    #[test]
    fn the_convolution_record_round_trips_and_checks_its_flag() {
        let rec = conv();
        assert_round_trip(&rec);
        assert_round_trip(&FloatConvRecord { bias: false, ..rec });
        assert_eq!(
            geometry_of(rec.geometry),
            Geometry { stride_h: 1, stride_w: 2, dilation_h: 1, dilation_w: 3, pad_h: 0, pad_w: 4 }
        );
        assert_eq!(geometry_words(&geometry_of(rec.geometry)), rec.geometry);
        assert_eq!(rec.shapes().filter, [1, 3, 3, 6]);
        assert_eq!(clamp_of(rec.clamp), Clamp { min: 0.0, max: 6.0 });
        assert_code_checked(&rec, core::mem::offset_of!(FloatConvRecord, bias), 2);
        for weights in [ConvWeights::Float, ConvWeights::PerTensor] {
            assert_round_trip(&FloatConvRecord { weights, ..rec });
        }
        assert_code_checked(&rec, core::mem::offset_of!(FloatConvRecord, weights), 3);
    }

    #[test]
    fn the_pooling_record_round_trips_and_checks_its_kind() {
        let rec = FloatPoolRecord {
            kind: Pool::Max,
            reserved: [0; 3],
            geometry: [2, 2, 1, 1, 0, 1],
            clamp: clamp_words(FusedActivation::None),
            input: [1, 8, 8, 4],
            filter: [1, 3, 3, 1],
            output: [1, 4, 4, 4],
        };
        assert_round_trip(&rec);
        assert_round_trip(&FloatPoolRecord { kind: Pool::Average, ..rec });
        assert_eq!(clamp_of(rec.clamp), Clamp { min: f32::MIN, max: f32::MAX });
        assert_code_checked(&rec, 0, 2);
    }

    #[test]
    fn the_fully_connected_record_round_trips_and_checks_its_flags() {
        let rec = FloatFcRecord {
            batches: 2,
            depth: 10,
            units: 3,
            clamp: clamp_words(FusedActivation::ReluN1To1),
            scales: 3,
            hybrid: true,
            bias: true,
            asymmetric: true,
            reserved: 0,
        };
        assert_round_trip(&rec);
        assert_round_trip(&FloatFcRecord { hybrid: false, asymmetric: false, scales: 0, ..rec });
        for flag in [
            core::mem::offset_of!(FloatFcRecord, hybrid),
            core::mem::offset_of!(FloatFcRecord, bias),
            core::mem::offset_of!(FloatFcRecord, asymmetric),
        ] {
            assert_code_checked(&rec, flag, 2);
        }
    }

    #[test]
    fn the_elementwise_records_round_trip_and_check_their_ranks() {
        let add = FloatAddMulRecord {
            clamp: clamp_words(FusedActivation::Relu),
            a: DimsRecord::new(&[1, 4, 1]),
            b: DimsRecord::new(&[3, 1]),
            output: DimsRecord::new(&[1, 4, 3]),
        };
        assert_round_trip(&add);
        let mean = FloatMeanRecord { input: DimsRecord::new(&[1, 5, 5, 8]), reduced: 0b0110 };
        assert_round_trip(&mean);
        assert_eq!(mean.reduced(), Ok([false, true, true, false, false, false]));
        let bad = FloatMeanRecord { reduced: 1 << MAX_RANK, ..mean };
        assert_eq!(bad.reduced(), Err(RunError::Internal));
        let deep = DimsRecord { rank: 7, ..mean.input };
        assert!(FloatMeanRecord { input: deep, ..mean }.input.get().is_err());
        assert_round_trip(&FloatSoftmaxRecord { beta: 0.5, depth: 10 });
    }
}
