//! The float32 operators and the dynamic-range ("hybrid") FULLY_CONNECTED (feature
//! `op-float`): prepare checks the float operands and writes the record, eval runs the
//! [`float`](crate::engine::kernels::float) kernels.
//!
//! An operator runs here when its output is float32 and its code is one of [`runs_code`]'s
//! (the data movement operators, RESHAPE and QUANTIZE/DEQUANTIZE keep their own preparation,
//! which handles float32 elements already). Its record is written with code
//! `code | RECORD_FLAG`, so eval finds it without reading any tensor.

use super::bounds::{check_window, Axis};
use super::elementwise::DimsRecord;
use super::{kernel_err, read_shape, write_shape, Needs, Operands, Prep};
use crate::engine::arith::FusedActivation;
use crate::engine::error::{LoadError, LoadErrorKind, RunError};
use crate::engine::kernels::elementwise::MAX_RANK;
use crate::engine::kernels::float::dense::{
    fully_connected, hybrid_fully_connected, Dense, HybridOperands, WeightScales,
};
use crate::engine::kernels::float::window::{conv, depthwise, pool, ConvOperands, Pool, Shapes};
use crate::engine::kernels::float::{binary, mean, softmax, unary, Binary, Clamp, F32Le, Unary};
use crate::engine::kernels::geometry::Geometry;
use crate::engine::kernels::padding;
use crate::engine::model::operator::{code, Op, OperatorInfo};
use crate::engine::model::tensor::{DType, TensorInfo};
use crate::engine::model::TfLiteModel;
use crate::engine::record::{RecordReader, RecordWriter};

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

fn write_clamp(w: &mut RecordWriter<'_>, a: FusedActivation) {
    let c = Clamp::of(a);
    w.pod(&c.min);
    w.pod(&c.max);
}

fn read_clamp(r: &mut RecordReader<'_>) -> Result<Clamp, RunError> {
    Ok(Clamp { min: r.pod()?, max: r.pod()? })
}

fn write_geometry(w: &mut RecordWriter<'_>, g: &Geometry) {
    for v in [g.stride_h, g.stride_w, g.dilation_h, g.dilation_w, g.pad_h, g.pad_w] {
        w.usize(v);
    }
}

fn read_geometry(r: &mut RecordReader<'_>) -> Result<Geometry, RunError> {
    let [stride_h, stride_w, dilation_h, dilation_w, pad_h, pad_w] =
        [r.usize()?, r.usize()?, r.usize()?, r.usize()?, r.usize()?, r.usize()?];
    Ok(Geometry { stride_h, stride_w, dilation_h, dilation_w, pad_h, pad_w })
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
            write_clamp(w, activation);
            w.pod(&DimsRecord::new(a.shape.dims()));
            w.pod(&DimsRecord::new(b.shape.dims()));
            w.pod(&DimsRecord::new(o.shape.dims()));
            Ok(Needs::default())
        }
        Op::Mean { .. } => prepare_mean(p, w),
        Op::Softmax { beta } => {
            let (i, o) = same_shape(p)?;
            let depth = i.shape.dims().last().copied().unwrap_or(1) as usize;
            if depth == 0 || o.elements() % depth != 0 {
                return Err(p.shapes("softmax depth"));
            }
            w.pod(&beta);
            w.usize(depth);
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
    if filter.dtype == DType::Int8 {
        return Err(p.err(LoadErrorKind::DynamicRangeModel));
    }
    float(p, &filter, "weights must be float32")?;
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
    write_geometry(w, &g);
    w.usize(depth_multiplier.map_or(0, |_| channels / is[3]));
    write_clamp(w, o.activation);
    w.bool(has_bias);
    for s in [is, fs, os] {
        write_shape(w, s);
    }
    Ok(Needs::default())
}

#[inline(never)]
fn prepare_pool(p: &Prep<'_, '_>, w: &mut RecordWriter<'_>) -> Result<Needs, LoadError> {
    let (o, max) = match p.op.op {
        Op::AveragePool2d(o) => (o, false),
        Op::MaxPool2d(o) => (o, true),
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
    w.bool(max);
    write_geometry(w, &g);
    write_clamp(w, o.activation);
    for s in [is, [1, fh, fw, 1], os] {
        write_shape(w, s);
    }
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
    w.bool(hybrid);
    for v in [batches, depth, units] {
        w.usize(v);
    }
    write_clamp(w, activation);
    w.bool(has_bias);
    if !hybrid {
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
    w.bool(p.m.asymmetric_quantize_inputs(p.op.index));
    w.usize(q.len());
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
    w.pod(&DimsRecord::new(input.shape.dims()));
    for r in reduced {
        w.bool(r);
    }
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
            let g = read_geometry(r)?;
            let multiplier = r.usize()?;
            let clamp = read_clamp(r)?;
            let has_bias = r.bool()?;
            let shapes =
                Shapes { input: read_shape(r)?, filter: read_shape(r)?, output: read_shape(r)? };
            let bias = if has_bias { Some(f32_input(&io, 2)?) } else { None };
            let ops = ConvOperands {
                input: f32_input(&io, 0)?,
                filter: f32_input(&io, 1)?,
                bias,
                shapes,
            };
            if op_code == code::DEPTHWISE_CONV_2D {
                depthwise(g, multiplier, clamp, ops, io.output)
            } else {
                conv(g, clamp, ops, io.output)
            }
        }
        code::AVERAGE_POOL_2D | code::MAX_POOL_2D => {
            let kind = if r.bool()? { Pool::Max } else { Pool::Average };
            let g = read_geometry(r)?;
            let clamp = read_clamp(r)?;
            let shapes =
                Shapes { input: read_shape(r)?, filter: read_shape(r)?, output: read_shape(r)? };
            pool(kind, g, clamp, f32_input(&io, 0)?, shapes, io.output)
        }
        code::FULLY_CONNECTED => return eval_fully_connected(r, io),
        code::ADD | code::MUL => {
            let clamp = read_clamp(r)?;
            let (a, b, o) = (
                r.pod::<DimsRecord>()?.get()?,
                r.pod::<DimsRecord>()?.get()?,
                r.pod::<DimsRecord>()?.get()?,
            );
            let op = if op_code == code::ADD { Binary::Add } else { Binary::Mul };
            let (x, y) = (f32_input(&io, 0)?, f32_input(&io, 1)?);
            binary(op, clamp, (x, a.get()), (y, b.get()), (io.output, o.get()))
        }
        code::MEAN => {
            let dims = r.pod::<DimsRecord>()?.get()?;
            let mut reduced = [false; MAX_RANK];
            for f in reduced.iter_mut() {
                *f = r.bool()?;
            }
            mean(f32_input(&io, 0)?, dims.get(), reduced, io.output)
        }
        code::SOFTMAX => {
            let beta: f32 = r.pod()?;
            softmax(beta, r.usize()?, f32_input(&io, 0)?, io.output)
        }
        code::LOGISTIC => unary(Unary::Logistic, f32_input(&io, 0)?, io.output),
        code::TANH => unary(Unary::Tanh, f32_input(&io, 0)?, io.output),
        _ => return Err(RunError::UnknownOperator(op_code | RECORD_FLAG)),
    }
    .map_err(kernel_err)
}

#[inline(never)]
fn eval_fully_connected(r: &mut RecordReader<'_>, io: Operands<'_>) -> Result<(), RunError> {
    let hybrid = r.bool()?;
    let size = Dense { batches: r.usize()?, depth: r.usize()?, units: r.usize()? };
    let clamp = read_clamp(r)?;
    let bias = if r.bool()? { Some(f32_input(&io, 2)?) } else { None };
    let input = f32_input(&io, 0)?;
    if !hybrid {
        let weights = f32_input(&io, 1)?;
        return fully_connected(size, clamp, input, weights, bias, io.output).map_err(kernel_err);
    }
    let asymmetric = r.bool()?;
    let n = r.usize()?;
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
