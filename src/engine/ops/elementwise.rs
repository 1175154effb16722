//! Elementwise and reduction operators on int8 tensors: ADD and MUL (with broadcasting), MEAN,
//! QUANTIZE (float32 -> int8, int8 -> int8) and DEQUANTIZE (int8 -> float32).

use super::{as_i8_mut, kernel_err, Needs, Operands, Prep};
use crate::engine::arith::{FusedActivation, QuantizedMultiplier};
use crate::engine::error::{LoadError, LoadErrorKind, RunError};
use crate::engine::kernels::elementwise::{Add, Mul, MAX_RANK};
use crate::engine::kernels::mean::Mean;
use crate::engine::kernels::quantize::{Dequantize, Quantize, Requantize8};
use crate::engine::model::operator::{code, Op};
use crate::engine::model::tensor::DType;
use crate::engine::record::{RecordReader, RecordWriter};

/// Most axes a MEAN may list (repeats included).
const MAX_AXES: usize = 16;

/// Writes a shape of rank <= 6 as `rank, d0..d5`.
pub(super) fn write_dims(w: &mut RecordWriter<'_>, dims: &[u32]) {
    w.usize(dims.len());
    for d in 0..MAX_RANK {
        w.usize(dims.get(d).copied().unwrap_or(1) as usize);
    }
}

/// A shape written by [`write_dims`].
#[derive(Clone, Copy, Debug)]
pub(super) struct Dims {
    pub rank: usize,
    pub dims: [usize; MAX_RANK],
}

impl Dims {
    pub fn read(r: &mut RecordReader<'_>) -> Result<Dims, RunError> {
        let rank = r.usize()?;
        let mut dims = [1usize; MAX_RANK];
        for d in dims.iter_mut() {
            *d = r.usize()?;
        }
        if rank > MAX_RANK {
            return Err(RunError::Internal);
        }
        Ok(Dims { rank, dims })
    }

    pub fn get(&self) -> &[usize] {
        &self.dims[..self.rank]
    }
}

fn write_multiplier(w: &mut RecordWriter<'_>, m: QuantizedMultiplier) {
    w.i32(m.multiplier);
    w.i32(m.shift);
}

fn read_multiplier(r: &mut RecordReader<'_>) -> Result<QuantizedMultiplier, RunError> {
    Ok(QuantizedMultiplier { multiplier: r.i32()?, shift: r.i32()? })
}

/// True if shapes `a` and `b` broadcast (NumPy rules) to exactly `out`.
pub(super) fn broadcasts_to(a: &[u32], b: &[u32], out: &[u32]) -> bool {
    let rank = a.len().max(b.len());
    if out.len() != rank {
        return false;
    }
    (0..rank).all(|i| {
        let pick = |s: &[u32]| {
            (i + s.len()).checked_sub(rank).and_then(|k| s.get(k).copied()).unwrap_or(1)
        };
        let (x, y, o) = (pick(a), pick(b), out[i]);
        (x == o || x == 1) && (y == o || y == 1) && (o == x.max(y) || (x.min(y) == 0 && o == 0))
    })
}

/// Checks and writes the record of an elementwise, reduction or (through `movement`) data
/// movement operator.
///
/// Only a dispatch: each operator's preparation is its own out-of-line function, so the frame
/// under the operand reads (the deepest stack of loading) is that one operator's, not the union
/// of all of them.
#[inline(never)]
pub(super) fn prepare(p: &Prep<'_, '_>, w: &mut RecordWriter<'_>) -> Result<Needs, LoadError> {
    match p.op.op {
        Op::Add { activation } | Op::Mul { activation } if super::built(code::ADD) => {
            prepare_add_mul(p, w, activation)
        }
        Op::Quantize | Op::Dequantize if super::built(code::QUANTIZE) => prepare_quantize(p, w),
        Op::Mean { .. } if super::built(code::MEAN) => prepare_mean(p, w),
        _ => super::movement::prepare(p, w),
    }
}

/// ADD and MUL: int8 operands broadcasting to the output.
#[inline(never)]
fn prepare_add_mul(
    p: &Prep<'_, '_>,
    w: &mut RecordWriter<'_>,
    activation: FusedActivation,
) -> Result<Needs, LoadError> {
    p.arity(2, 2)?;
    let (a, b, out) = (p.input(0)?, p.input(1)?, p.output()?);
    let qa = p.int8(&a, "input 1 must be int8, per-tensor quantized")?;
    let qb = p.int8(&b, "input 2 must be int8, per-tensor quantized")?;
    let qo = p.int8(&out, "output must be int8, per-tensor quantized")?;
    if a.shape.dims().len() > MAX_RANK
        || b.shape.dims().len() > MAX_RANK
        || !broadcasts_to(a.shape.dims(), b.shape.dims(), out.shape.dims())
    {
        return Err(p.shapes("inputs do not broadcast to the output"));
    }
    let (x, y, o) =
        ((qa.scale, qa.zero_point), (qb.scale, qb.zero_point), (qo.scale, qo.zero_point));
    if matches!(p.op.op, Op::Add { .. }) {
        let k = Add::new(x, y, o, activation).map_err(|e| p.kernel(e))?;
        for v in [k.input1_offset, k.input2_offset, k.output_offset, k.left_shift] {
            w.i32(v);
        }
        for m in [k.input1_multiplier, k.input2_multiplier, k.output_multiplier] {
            write_multiplier(w, m);
        }
        w.i32(k.activation_min);
        w.i32(k.activation_max);
    } else {
        let k = Mul::new(x, y, o, activation).map_err(|e| p.kernel(e))?;
        for v in [k.input1_offset, k.input2_offset, k.output_offset] {
            w.i32(v);
        }
        write_multiplier(w, k.output_multiplier);
        w.i32(k.activation_min);
        w.i32(k.activation_max);
    }
    write_dims(w, a.shape.dims());
    write_dims(w, b.shape.dims());
    write_dims(w, out.shape.dims());
    Ok(Needs::default())
}

/// QUANTIZE (float32 or int8 in, int8 out) and DEQUANTIZE (int8 in, float32 out).
#[inline(never)]
fn prepare_quantize(p: &Prep<'_, '_>, w: &mut RecordWriter<'_>) -> Result<Needs, LoadError> {
    p.arity(1, 1)?;
    let (input, output) = (p.input(0)?, p.output()?);
    if input.elements() != output.elements() {
        return Err(p.shapes("input and output sizes differ"));
    }
    match (p.op.op, input.dtype) {
        (Op::Quantize, DType::Float32) => {
            let qo = p.int8(&output, "output must be int8, per-tensor quantized")?;
            let k = Quantize::new(qo.scale, qo.zero_point).map_err(|e| p.kernel(e))?;
            w.i32(0);
            w.i32(k.scale.to_bits() as i32);
            w.i32(k.zero_point);
        }
        (Op::Quantize, DType::Int8) => {
            let qi = p.int8(&input, "input must be per-tensor quantized")?;
            let qo = p.int8(&output, "output must be int8, per-tensor quantized")?;
            let k = Requantize8::new(qi.scale, qi.zero_point, qo.scale, qo.zero_point)
                .map_err(|e| p.kernel(e))?;
            w.i32(1);
            w.i32(k.input_zero_point);
            w.i32(k.output_zero_point);
            write_multiplier(w, k.multiplier);
        }
        (Op::Dequantize, DType::Int8) => {
            p.dtype(&output, DType::Float32, "output must be float32")?;
            let qi = p.int8(&input, "input must be per-tensor quantized")?;
            w.i32(2);
            w.i32(qi.scale.to_bits() as i32);
            w.i32(qi.zero_point);
        }
        _ => return Err(p.err(LoadErrorKind::Types("float32 <-> int8 only"))),
    }
    Ok(Needs::default())
}

/// MEAN over constant int32 axes.
#[inline(never)]
fn prepare_mean(p: &Prep<'_, '_>, w: &mut RecordWriter<'_>) -> Result<Needs, LoadError> {
    p.arity(2, 2)?;
    let (input, axes, output) = (p.input(0)?, p.input(1)?, p.output()?);
    let qi = p.int8(&input, "input must be int8, per-tensor quantized")?;
    let qo = p.int8(&output, "output must be int8, per-tensor quantized")?;
    let rank = input.shape.dims().len();
    if rank > MAX_RANK {
        return Err(p.shapes("rank above 6"));
    }
    p.dtype(&axes, DType::Int32, "axes must be int32")?;
    let data = p.constant(&axes, "axes must be constant")?;
    if axes.elements() > MAX_AXES {
        return Err(p.shapes("more than 16 axes"));
    }
    let mut reduced = [false; MAX_RANK];
    for k in 0..axes.elements() {
        let a = crate::engine::kernels::read_i32(data, k).unwrap_or(i32::MAX);
        let a = if a < 0 { a + rank as i32 } else { a };
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
    let k = Mean::new(qi.scale, qi.zero_point, qo.scale, qo.zero_point).map_err(|e| p.kernel(e))?;
    w.i32(k.input_zero_point);
    w.i32(k.output_zero_point);
    write_multiplier(w, k.multiplier);
    write_dims(w, input.shape.dims());
    Ok(Needs::default())
}

#[inline(never)]
pub(super) fn eval(
    op_code: i32,
    r: &mut RecordReader<'_>,
    io: Operands<'_>,
) -> Result<(), RunError> {
    match op_code {
        code::ADD | code::MUL if super::built(code::ADD) => {
            let (in1, in2) = (io.inputs.i8(0)?, io.inputs.i8(1)?);
            let out = as_i8_mut(io.output);
            if op_code == code::ADD {
                let k = Add {
                    input1_offset: r.i32()?,
                    input2_offset: r.i32()?,
                    output_offset: r.i32()?,
                    left_shift: r.i32()?,
                    input1_multiplier: read_multiplier(r)?,
                    input2_multiplier: read_multiplier(r)?,
                    output_multiplier: read_multiplier(r)?,
                    activation_min: r.i32()?,
                    activation_max: r.i32()?,
                };
                let (a, b, o) = (Dims::read(r)?, Dims::read(r)?, Dims::read(r)?);
                k.eval(in1, a.get(), in2, b.get(), out, o.get())
            } else {
                let k = Mul {
                    input1_offset: r.i32()?,
                    input2_offset: r.i32()?,
                    output_offset: r.i32()?,
                    output_multiplier: read_multiplier(r)?,
                    activation_min: r.i32()?,
                    activation_max: r.i32()?,
                };
                let (a, b, o) = (Dims::read(r)?, Dims::read(r)?, Dims::read(r)?);
                k.eval(in1, a.get(), in2, b.get(), out, o.get())
            }
            .map_err(kernel_err)
        }
        code::QUANTIZE | code::DEQUANTIZE if super::built(code::QUANTIZE) => match r.i32()? {
            0 => {
                let k = Quantize { scale: f32::from_bits(r.i32()? as u32), zero_point: r.i32()? };
                k.eval(io.inputs.get(0)?, as_i8_mut(io.output)).map_err(kernel_err)
            }
            1 => {
                let k = Requantize8 {
                    input_zero_point: r.i32()?,
                    output_zero_point: r.i32()?,
                    multiplier: read_multiplier(r)?,
                };
                k.eval(io.inputs.i8(0)?, as_i8_mut(io.output)).map_err(kernel_err)
            }
            _ => {
                let k = Dequantize { scale: f32::from_bits(r.i32()? as u32), zero_point: r.i32()? };
                k.eval(io.inputs.i8(0)?, io.output).map_err(kernel_err)
            }
        },
        code::MEAN if super::built(code::MEAN) => {
            let k = Mean {
                input_zero_point: r.i32()?,
                output_zero_point: r.i32()?,
                multiplier: read_multiplier(r)?,
            };
            let shape = Dims::read(r)?;
            let axes = io.inputs.get(1)?;
            let mut buf = [0i32; MAX_AXES];
            let n = axes.len() / 4;
            let axes_i32 = buf.get_mut(..n).ok_or(RunError::Internal)?;
            for (k, a) in axes_i32.iter_mut().enumerate() {
                *a = crate::engine::kernels::read_i32(axes, k).ok_or(RunError::Internal)?;
            }
            k.eval(io.inputs.i8(0)?, shape.get(), axes_i32, as_i8_mut(io.output))
                .map_err(kernel_err)
        }
        _ => super::movement::eval(op_code, r, io),
    }
}
