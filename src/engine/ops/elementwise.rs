//! Elementwise and reduction operators on int8 tensors: ADD and MUL (with broadcasting), MEAN,
//! QUANTIZE (float32 -> int8, int8 -> int8) and DEQUANTIZE (int8 -> float32).

use super::{as_i8_mut, kernel_err, Needs, Operands, Prep};
use crate::engine::arith::FusedActivation;
use crate::engine::error::{LoadError, LoadErrorKind, RunError};
use crate::engine::kernels::elementwise::folded::TABLE_BYTES;
use crate::engine::kernels::elementwise::{Add, AddTable, Mul, MAX_RANK};
use crate::engine::kernels::mean::Mean;
use crate::engine::kernels::quantize::{Dequantize, Quantize, Requantize8};
use crate::engine::model::operator::{code, Op};
use crate::engine::model::tensor::DType;
use crate::engine::record::{word, RecordReader, RecordWriter};
use bytemuck::{CheckedBitPattern, NoUninit, Pod, Zeroable};

/// Output elements from which a folded ADD gets its 1 KB table in the record (below, the
/// smaller-scale input's term is computed per element: the table would cost more flash than it
/// saves instructions).
const ADD_TABLE_MIN_ELEMENTS: usize = 512;

/// Most axes a MEAN may list (repeats included).
const MAX_AXES: usize = 16;

/// A shape of rank <= 6 as records hold it: the rank, then the dimensions (1 past the rank).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Pod, Zeroable)]
#[repr(C)]
pub(super) struct DimsRecord {
    /// The rank.
    pub rank: u32,
    /// The dimensions, 1 past the rank.
    pub dims: [u32; MAX_RANK],
}

impl DimsRecord {
    /// The record of `dims` (rank at most 6, checked by the caller; more is cut).
    pub fn new(dims: &[u32]) -> DimsRecord {
        let mut d = [1u32; MAX_RANK];
        for (o, &x) in d.iter_mut().zip(dims) {
            *o = x;
        }
        DimsRecord { rank: word(dims.len()), dims: d }
    }

    /// The shape, or [`RunError::Internal`] for a rank above 6.
    pub fn get(&self) -> Result<Dims, RunError> {
        let rank = self.rank as usize;
        if rank > MAX_RANK {
            return Err(RunError::Internal);
        }
        Ok(Dims { rank, dims: self.dims.map(|d| d as usize) })
    }
}

/// A shape read from a [`DimsRecord`].
#[derive(Clone, Copy, Debug)]
pub(super) struct Dims {
    pub rank: usize,
    pub dims: [usize; MAX_RANK],
}

impl Dims {
    pub fn get(&self) -> &[usize] {
        &self.dims[..self.rank]
    }
}

/// ADD's parameters (the whole record).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Pod, Zeroable)]
#[repr(C)]
pub(super) struct AddRecord {
    /// The kernel's parameters.
    pub add: Add,
    /// The shapes of input 1, input 2 and the output.
    pub shapes: [DimsRecord; 3],
    /// 1 if the folded form's table (`TABLE_BYTES`, see kernels::elementwise::folded) follows the
    /// record, 0 if not.
    pub table: u32,
}

/// MUL's parameters (the whole record).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Pod, Zeroable)]
#[repr(C)]
pub(super) struct MulRecord {
    /// The kernel's parameters.
    pub mul: Mul,
    /// The shapes of input 1, input 2 and the output.
    pub shapes: [DimsRecord; 3],
}

/// What a QUANTIZE or DEQUANTIZE record holds after its [`QuantizeHeader`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, NoUninit, CheckedBitPattern)]
#[repr(u8)]
pub(super) enum QuantizeKind {
    /// QUANTIZE float32 -> int8: a [`Quantize`].
    FromFloat = 0,
    /// QUANTIZE int8 -> int8: a [`Requantize8`].
    Requantize = 1,
    /// DEQUANTIZE int8 -> float32: a [`Dequantize`].
    ToFloat = 2,
}

/// The word in front of a QUANTIZE or DEQUANTIZE record.
#[derive(Clone, Copy, Debug, PartialEq, Eq, NoUninit, CheckedBitPattern)]
#[repr(C)]
pub(super) struct QuantizeHeader {
    /// What follows.
    pub kind: QuantizeKind,
    /// Zeros.
    pub reserved: [u8; 3],
}

impl QuantizeHeader {
    fn new(kind: QuantizeKind) -> QuantizeHeader {
        QuantizeHeader { kind, reserved: [0; 3] }
    }
}

/// MEAN's parameters (the whole record; the axes are read from the constant input at each run).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Pod, Zeroable)]
#[repr(C)]
pub(super) struct MeanRecord {
    /// The kernel's parameters.
    pub mean: Mean,
    /// The input shape.
    pub shape: DimsRecord,
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
    let shapes = [a.shape.dims(), b.shape.dims(), out.shape.dims()].map(DimsRecord::new);
    if matches!(p.op.op, Op::Add { .. }) {
        let k = Add::new(x, y, o, activation).map_err(|e| p.kernel(e))?;
        // The folded form's table (see kernels::elementwise::folded), when it pays.
        let folded = k.folded().filter(|_| out.elements() >= ADD_TABLE_MIN_ELEMENTS);
        w.pod(&AddRecord { add: k, shapes, table: u32::from(folded.is_some()) });
        if let Some(f) = folded {
            if let Some(dst) = w.reserve(TABLE_BYTES) {
                f.table(dst);
            }
        }
    } else {
        let k = Mul::new(x, y, o, activation).map_err(|e| p.kernel(e))?;
        w.pod(&MulRecord { mul: k, shapes });
    }
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
            w.pod(&QuantizeHeader::new(QuantizeKind::FromFloat));
            w.pod(&k);
        }
        (Op::Quantize, DType::Int8) => {
            let qi = p.int8(&input, "input must be per-tensor quantized")?;
            let qo = p.int8(&output, "output must be int8, per-tensor quantized")?;
            let k = Requantize8::new(qi.scale, qi.zero_point, qo.scale, qo.zero_point)
                .map_err(|e| p.kernel(e))?;
            w.pod(&QuantizeHeader::new(QuantizeKind::Requantize));
            w.pod(&k);
        }
        (Op::Dequantize, DType::Int8) => {
            p.dtype(&output, DType::Float32, "output must be float32")?;
            let qi = p.int8(&input, "input must be per-tensor quantized")?;
            w.pod(&QuantizeHeader::new(QuantizeKind::ToFloat));
            w.pod(&Dequantize { scale: qi.scale, zero_point: qi.zero_point });
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
    w.pod(&MeanRecord { mean: k, shape: DimsRecord::new(input.shape.dims()) });
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
                let rec: AddRecord = r.pod()?;
                let [a, b, o] = rec.shapes;
                let (a, b, o) = (a.get()?, b.get()?, o.get()?);
                let table: Option<&AddTable> = match rec.table {
                    0 => None,
                    1 => Some(bytemuck::cast_ref(
                        <&[u8; TABLE_BYTES]>::try_from(r.bytes(TABLE_BYTES)?)
                            .map_err(|_| RunError::Internal)?,
                    )),
                    _ => return Err(RunError::Internal),
                };
                rec.add.eval_prepared(in1, a.get(), in2, b.get(), out, o.get(), table)
            } else {
                let rec: MulRecord = r.pod()?;
                let [a, b, o] = rec.shapes;
                let (a, b, o) = (a.get()?, b.get()?, o.get()?);
                rec.mul.eval_prepared(in1, a.get(), in2, b.get(), out, o.get())
            }
            .map_err(kernel_err)
        }
        code::QUANTIZE | code::DEQUANTIZE if super::built(code::QUANTIZE) => {
            let header: QuantizeHeader = r.checked()?;
            match header.kind {
                QuantizeKind::FromFloat => {
                    let k: Quantize = r.pod()?;
                    k.eval(io.inputs.get(0)?, as_i8_mut(io.output)).map_err(kernel_err)
                }
                QuantizeKind::Requantize => {
                    let k: Requantize8 = r.pod()?;
                    k.eval(io.inputs.i8(0)?, as_i8_mut(io.output)).map_err(kernel_err)
                }
                QuantizeKind::ToFloat => {
                    let k: Dequantize = r.pod()?;
                    k.eval(io.inputs.i8(0)?, io.output).map_err(kernel_err)
                }
            }
        }
        code::MEAN if super::built(code::MEAN) => {
            let rec: MeanRecord = r.pod()?;
            let k = rec.mean;
            let shape = rec.shape.get()?;
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::arith::QuantizedMultiplier;
    use crate::engine::record::assert_round_trip;

    fn m(multiplier: i32, shift: i32) -> QuantizedMultiplier {
        QuantizedMultiplier { multiplier, shift }
    }

    #[test]
    fn the_records_round_trip() {
        let shapes = [&[1, 4, 1][..], &[3][..], &[1, 4, 3][..]].map(DimsRecord::new);
        let add = Add {
            input1_offset: 1,
            input2_offset: -2,
            output_offset: 3,
            left_shift: 20,
            input1_multiplier: m(0x4000_0000, -1),
            input2_multiplier: m(0x7FFF_FFFF, -2),
            output_multiplier: m(0x5555_5555, -18),
            activation_min: -128,
            activation_max: 127,
        };
        assert_round_trip(&AddRecord { add, shapes, table: 1 });
        let mul = Mul {
            input1_offset: 1,
            input2_offset: -2,
            output_offset: 3,
            output_multiplier: m(i32::MAX, 31),
            activation_min: 0,
            activation_max: 127,
        };
        assert_round_trip(&MulRecord { mul, shapes });
        let mean = Mean { input_zero_point: -128, output_zero_point: 127, multiplier: m(1, -31) };
        assert_round_trip(&MeanRecord { mean, shape: DimsRecord::new(&[1, 2, 3, 4, 5, 6]) });
        let requantize = Requantize8 {
            input_zero_point: -1,
            output_zero_point: 5,
            multiplier: m(0x4000_0001, 0),
        };
        assert_round_trip(&requantize);
        assert_round_trip(&Quantize { scale: 0.003_921_569, zero_point: -128 });
        assert_round_trip(&Dequantize { scale: f32::MIN_POSITIVE, zero_point: 127 });
        for kind in [QuantizeKind::FromFloat, QuantizeKind::Requantize, QuantizeKind::ToFloat] {
            assert_round_trip(&QuantizeHeader::new(kind));
        }
    }

    #[test]
    fn corrupt_codes_and_ranks_are_errors() {
        let header = QuantizeHeader::new(QuantizeKind::ToFloat);
        crate::engine::record::tests::assert_code_checked(&header, 0, 3);
        let dims = DimsRecord::new(&[2, 3]);
        assert_eq!(dims.get().map(|d| d.get().to_vec()), Ok(std::vec![2, 3]));
        assert_eq!(dims.dims, [2, 3, 1, 1, 1, 1]);
        let bad = DimsRecord { rank: 7, ..dims };
        assert!(bad.get().is_err());
    }
}
