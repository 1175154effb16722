//! Operators that move elements without arithmetic: CONCATENATION, PAD, SPACE_TO_BATCH_ND,
//! BATCH_TO_SPACE_ND, STRIDED_SLICE and PACK. They work on any element type the engine holds
//! (int8, int32, float32, int64): elements are copied as opaque bytes. Int8 operands must share
//! one quantization (TFLite's reference kernels do not rescale here). Shape operands (paddings,
//! block sizes, begin/end/strides) must be constants, so every shape is checked at load.

use super::elementwise::DimsRecord;
use super::{kernel_err, Needs, Operands, Prep};
use crate::engine::arith::FusedActivation;
use crate::engine::error::{LoadError, LoadErrorKind, RunError};
use crate::engine::kernels::elementwise::MAX_RANK;
use crate::engine::kernels::movement::{
    batch_to_space, concatenate_into, pad, space_to_batch, SpaceBatch,
};
use crate::engine::kernels::read_i32;
use crate::engine::kernels::shape_ops::{pack_into, StridedSlice};
use crate::engine::model::operator::{code, Op, StridedSliceOptions};
use crate::engine::model::tensor::{DType, TensorInfo};
use crate::engine::record::{shape_of, word, RecordReader, RecordWriter};
use crate::model::{QuantParams, Shape};
use bytemuck::{Pod, Zeroable};

/// What these operators use of an operand: its type, shape and quantization. A third of a
/// [`TensorInfo`], read out of line: the preparations below keep two or three operands at once
/// while reading more, deep in the stack of loading.
#[derive(Clone, Copy)]
struct Operand {
    dtype: DType,
    shape: Shape,
    quant: Option<QuantParams>,
}

impl Operand {
    fn of(t: Result<TensorInfo<'_>, LoadError>) -> Result<Operand, LoadError> {
        let t = t?;
        Ok(Operand { dtype: t.dtype, shape: t.shape, quant: t.quant() })
    }

    fn elements(&self) -> usize {
        self.shape.elements().unwrap_or(0)
    }
}

/// Input `j` (which must be present).
#[inline(never)]
fn input(p: &Prep<'_, '_>, j: usize) -> Result<Operand, LoadError> {
    Operand::of(p.input(j))
}

/// The per-tensor quantization of `o` (positive finite scale, zero point in int8 range).
fn quant(p: &Prep<'_, '_>, o: &Operand, what: &'static str) -> Result<QuantParams, LoadError> {
    let q = o.quant.ok_or(p.err(LoadErrorKind::Quantization(what)))?;
    if !(q.scale.is_finite() && q.scale > 0.0 && (-128..=127).contains(&q.zero_point)) {
        return Err(p.err(LoadErrorKind::Quantization(what)));
    }
    Ok(q)
}

/// Checks that `a` and `b` have the same type and (for int8) the same quantization.
fn same_kind(p: &Prep<'_, '_>, a: &Operand, b: &Operand) -> Result<(), LoadError> {
    if a.dtype != b.dtype {
        return Err(p.err(LoadErrorKind::Types("operands must have the same type")));
    }
    if a.dtype == DType::Int8 {
        let qa = quant(p, a, "int8 operands must be per-tensor quantized")?;
        let qb = quant(p, b, "int8 operands must be per-tensor quantized")?;
        if qa != qb {
            return Err(p.err(LoadErrorKind::Quantization("operands' quantization differs")));
        }
    }
    Ok(())
}

/// The padding value of an output: its zero point for int8, 0 otherwise.
fn pad_value(p: &Prep<'_, '_>, out: &Operand) -> Result<i32, LoadError> {
    Ok(if out.dtype == DType::Int8 {
        quant(p, out, "int8 output must be per-tensor quantized")?.zero_point
    } else {
        0
    })
}

/// Fails as `p.input(j)` would (an absent input), without reading the tensor.
fn present(p: &Prep<'_, '_>, j: usize) -> Result<(), LoadError> {
    match p.op.input(j) {
        Some(_) => Ok(()),
        None => Err(p.err(LoadErrorKind::Missing("operator input"))),
    }
}

/// The values of constant int32 input `j` (at most `MAX` of them).
///
/// Reads only the tensor's type and data (`TfLiteModel::stored`; a constant's shape is never
/// inferred, and `load` checked that its data holds one value per element).
#[inline(never)]
fn const_ints<const MAX: usize>(
    p: &Prep<'_, '_>,
    j: usize,
    what: &'static str,
) -> Result<([i32; MAX], usize), LoadError> {
    let missing = || p.err(LoadErrorKind::Missing("operator input"));
    let t = p.op.input(j).and_then(|t| p.m.stored(t)).ok_or_else(missing)?;
    if t.dtype != DType::Int32 {
        return Err(p.err(LoadErrorKind::Types(what)));
    }
    let data = t.data.ok_or(p.err(LoadErrorKind::UnsupportedOption(what)))?;
    let n = data.len() / 4;
    if n > MAX {
        return Err(p.shapes(what));
    }
    let mut v = [0i32; MAX];
    for (i, x) in v.iter_mut().enumerate().take(n) {
        *x = read_i32(data, i).ok_or(p.shapes(what))?;
    }
    Ok((v, n))
}

fn normalize_axis(axis: i32, rank: usize) -> Option<usize> {
    let a = if axis < 0 { axis.checked_add(rank as i32)? } else { axis };
    usize::try_from(a).ok().filter(|&a| a < rank)
}

fn dims_usize(d: &[u32]) -> [usize; MAX_RANK] {
    let mut out = [1usize; MAX_RANK];
    for (o, &x) in out.iter_mut().zip(d) {
        *o = x as usize;
    }
    out
}

/// The output, whose rank must be at most 6.
#[inline(never)]
fn output(p: &Prep<'_, '_>) -> Result<Operand, LoadError> {
    let out = Operand::of(p.output())?;
    if out.shape.dims().len() > MAX_RANK {
        return Err(p.shapes("rank above 6"));
    }
    Ok(out)
}

/// The output and input 0 of an operator with `arity` inputs, of the same kind; inputs below
/// `present` must be there (checked in the order the operators always did).
#[inline(never)]
fn input_and_output(
    p: &Prep<'_, '_>,
    arity: usize,
    present_below: usize,
) -> Result<(Operand, Operand), LoadError> {
    let out = output(p)?;
    p.arity(arity, arity)?;
    let input = input(p, 0)?;
    for j in 1..present_below {
        present(p, j)?;
    }
    same_kind(p, &input, &out)?;
    Ok((input, out))
}

/// Checks and writes the record of a data movement operator.
///
/// Only a dispatch: each operator's preparation is its own out-of-line function, so the frame
/// under the operand reads (the deepest stack of loading) is that one operator's.
#[inline(never)]
pub(super) fn prepare(p: &Prep<'_, '_>, w: &mut RecordWriter<'_>) -> Result<Needs, LoadError> {
    match p.op.op {
        Op::Concatenation { axis, activation } if super::built(code::PAD) => {
            prepare_concatenation(p, w, axis, activation)
        }
        Op::Pad if super::built(code::PAD) => prepare_pad(p, w),
        Op::SpaceToBatchNd | Op::BatchToSpaceNd if super::built(code::PAD) => {
            prepare_space_batch(p, w)
        }
        Op::StridedSlice(o) if super::built(code::STRIDED_SLICE) => prepare_strided_slice(p, w, o),
        Op::Pack { values_count, axis } if super::built(code::STRIDED_SLICE) => {
            prepare_pack(p, w, values_count, axis)
        }
        _ => unsupported(p),
    }
}

/// Refuses an operator this module does not handle (after the output checks, as the others).
#[cold]
#[inline(never)]
fn unsupported(p: &Prep<'_, '_>) -> Result<Needs, LoadError> {
    output(p)?;
    Err(p.err(LoadErrorKind::UnsupportedOperator(p.op.code)))
}

/// CONCATENATION along `axis` (no fused activation).
#[inline(never)]
fn prepare_concatenation(
    p: &Prep<'_, '_>,
    w: &mut RecordWriter<'_>,
    axis: i32,
    activation: FusedActivation,
) -> Result<Needs, LoadError> {
    let out = output(p)?;
    let od = out.shape.dims();
    let rank = od.len();
    p.arity(1, usize::MAX)?;
    if activation != FusedActivation::None {
        return Err(p.err(LoadErrorKind::UnsupportedOption("fused activation on CONCATENATION")));
    }
    let axis = normalize_axis(axis, rank).ok_or(p.shapes("axis out of range"))?;
    let inner: usize = od[axis + 1..].iter().map(|&d| d as usize).product();
    let outer: usize = od[..axis].iter().map(|&d| d as usize).product();
    write_header(w, out.dtype.size());
    w.pod(&ConcatRecord { outer: word(outer), inputs: word(p.op.input_count()) });
    let mut offset = 0usize;
    for j in 0..p.op.input_count() {
        let t = input(p, j)?;
        same_kind(p, &t, &out)?;
        let d = t.shape.dims();
        if d.len() != rank || (0..rank).any(|k| k != axis && d[k] != od[k]) {
            return Err(p.shapes("inputs must match the output except along the axis"));
        }
        w.pod(&word(offset));
        offset = offset.saturating_add((d[axis] as usize).saturating_mul(inner));
    }
    if offset != (od[axis] as usize).saturating_mul(inner) {
        return Err(p.shapes("inputs do not add up to the output along the axis"));
    }
    Ok(Needs::default())
}

/// PAD with constant int32 paddings `[rank, 2]`.
#[inline(never)]
fn prepare_pad(p: &Prep<'_, '_>, w: &mut RecordWriter<'_>) -> Result<Needs, LoadError> {
    let (input, out) = input_and_output(p, 2, 2)?;
    pad_record(p, w, &input, &out)
}

/// The rest of [`prepare_pad`], once its operands are read.
#[inline(never)]
fn pad_record(
    p: &Prep<'_, '_>,
    w: &mut RecordWriter<'_>,
    input: &Operand,
    out: &Operand,
) -> Result<Needs, LoadError> {
    let od = out.shape.dims();
    let rank = od.len();
    let (v, n) =
        const_ints::<{ 2 * MAX_RANK }>(p, 1, "paddings must be a constant int32 [rank, 2]")?;
    let id = input.shape.dims();
    if id.len() != rank || n != 2 * rank {
        return Err(p.shapes("paddings must be [rank, 2]"));
    }
    write_header(w, out.dtype.size());
    w.pod(&PadRecord { value: pad_value(p, out)?, shape: DimsRecord::new(id) });
    for d in 0..rank {
        let (before, after) = (v[2 * d], v[2 * d + 1]);
        if before < 0 || after < 0 || id[d] as i64 + before as i64 + after as i64 != od[d] as i64 {
            return Err(p.shapes("output size does not follow from the paddings"));
        }
        w.pod(&[before, after].map(|v| v as u32));
    }
    Ok(Needs::default())
}

/// SPACE_TO_BATCH_ND and BATCH_TO_SPACE_ND, 4-D (or 3-D with a 1-D block).
#[inline(never)]
fn prepare_space_batch(p: &Prep<'_, '_>, w: &mut RecordWriter<'_>) -> Result<Needs, LoadError> {
    let (input, out) = input_and_output(p, 3, 3)?;
    space_batch_record(p, w, &input, &out)
}

/// The rest of [`prepare_space_batch`], once its operands are read.
#[inline(never)]
fn space_batch_record(
    p: &Prep<'_, '_>,
    w: &mut RecordWriter<'_>,
    input: &Operand,
    out: &Operand,
) -> Result<Needs, LoadError> {
    let rank = out.shape.dims().len();
    let (b, nb) = const_ints::<2>(p, 1, "block shape must be a constant int32")?;
    let (c, nc) = const_ints::<4>(p, 2, "paddings/crops must be a constant int32")?;
    let (id, od) = (input.shape.dims(), out.shape.dims());
    // A 3-D [n, h, c] tensor is handled as [n, h, 1, c] with a 1-wide block.
    let (in4, out4, geometry, after) = match (id.len(), nb, nc, rank) {
        (4, 2, 4, 4) => (
            [id[0], id[1], id[2], id[3]],
            [od[0], od[1], od[2], od[3]],
            (b[0], b[1], c[0], c[2]),
            (c[1], c[3]),
        ),
        (3, 1, 2, 3) => {
            ([id[0], id[1], 1, id[2]], [od[0], od[1], 1, od[2]], (b[0], 1, c[0], 0), (c[1], 0))
        }
        _ => return Err(p.shapes("input must be 3-D or 4-D with matching block and paddings")),
    };
    let (bh, bw, top, left) = geometry;
    if bh < 1 || bw < 1 || top < 0 || left < 0 || after.0 < 0 || after.1 < 0 {
        return Err(p.shapes("block sizes must be positive and paddings non-negative"));
    }
    let [n, h, wd, ch] = in4.map(|d| d as i128);
    let (bh, bw) = (bh as i128, bw as i128);
    let expect = if p.op.op == Op::SpaceToBatchNd {
        let (ph, pw) = (h + top as i128 + after.0 as i128, wd + left as i128 + after.1 as i128);
        if ph % bh != 0 || pw % bw != 0 {
            return Err(p.shapes("padded size is not a multiple of the block"));
        }
        [n * bh * bw, ph / bh, pw / bw, ch]
    } else {
        if n % (bh * bw) != 0 {
            return Err(p.shapes("batch is not a multiple of the block"));
        }
        [
            n / (bh * bw),
            h * bh - top as i128 - after.0 as i128,
            wd * bw - left as i128 - after.1 as i128,
            ch,
        ]
    };
    if expect != out4.map(|d| d as i128) {
        return Err(p.shapes("output shape does not follow from block and paddings"));
    }
    write_header(w, out.dtype.size());
    w.pod(&SpaceBatchRecord {
        value: pad_value(p, out)?,
        block: [bh as u32, bw as u32],
        top: top as u32,
        left: left as u32,
        input: in4,
        output: out4,
    });
    Ok(Needs::default())
}

/// STRIDED_SLICE with constant int32 begin/end/strides (no ellipsis/new-axis mask, no offset).
#[inline(never)]
fn prepare_strided_slice(
    p: &Prep<'_, '_>,
    w: &mut RecordWriter<'_>,
    o: StridedSliceOptions,
) -> Result<Needs, LoadError> {
    let (input, out) = input_and_output(p, 4, 1)?;
    slice_record(p, w, o, &input, &out)
}

/// The rest of [`prepare_strided_slice`], once its operands are read.
#[inline(never)]
fn slice_record(
    p: &Prep<'_, '_>,
    w: &mut RecordWriter<'_>,
    o: StridedSliceOptions,
    input: &Operand,
    out: &Operand,
) -> Result<Needs, LoadError> {
    if o.offset {
        return Err(p.err(LoadErrorKind::UnsupportedOption("strided slice offset")));
    }
    let id = input.shape.dims();
    let what = "begin, end and strides must be constant int32 [rank]";
    let (begin, nb) = const_ints::<MAX_RANK>(p, 1, what)?;
    let (end, ne) = const_ints::<MAX_RANK>(p, 2, what)?;
    let (strides, ns) = const_ints::<MAX_RANK>(p, 3, what)?;
    if id.len() > MAX_RANK
        || nb != id.len()
        || ne != id.len()
        || ns != id.len()
        || strides[..ns].contains(&0)
    {
        return Err(p.shapes(what));
    }
    let k = StridedSlice {
        rank: id.len(),
        begin,
        end,
        strides,
        begin_mask: o.begin_mask as u32,
        end_mask: o.end_mask as u32,
        shrink_axis_mask: o.shrink_axis_mask as u32,
    };
    // A shrunk axis takes the element at `begin`, which must exist.
    for (d, &size) in id.iter().enumerate() {
        let shrink = o.shrink_axis_mask & (1 << d) != 0;
        let masked = o.begin_mask & (1 << d) != 0;
        let b = if begin[d] < 0 { begin[d] as i64 + size as i64 } else { begin[d] as i64 };
        if shrink && (size == 0 || (!masked && !(0..size as i64).contains(&b))) {
            return Err(p.shapes("shrunk axis index out of range"));
        }
    }
    let in_dims = dims_usize(id);
    if k.output_len(&in_dims[..id.len()]).map_err(|e| p.kernel(e))? != out.elements() {
        return Err(p.shapes("output size does not follow from the slice"));
    }
    write_header(w, out.dtype.size());
    w.pod(&SliceRecord {
        shape: DimsRecord::new(id),
        begin,
        end,
        strides,
        masks: [o.begin_mask, o.end_mask, o.shrink_axis_mask].map(|m| m as u32),
    });
    Ok(Needs::default())
}

/// PACK of inputs of one shape along `axis`.
#[inline(never)]
fn prepare_pack(
    p: &Prep<'_, '_>,
    w: &mut RecordWriter<'_>,
    values_count: i32,
    axis: i32,
) -> Result<Needs, LoadError> {
    let out = output(p)?;
    let od = out.shape.dims();
    let rank = od.len();
    let count = p.op.input_count();
    p.arity(1, usize::MAX)?;
    if values_count > 0 && values_count as usize != count {
        return Err(p.shapes("values_count differs from the number of inputs"));
    }
    let first = input(p, 0)?.shape;
    let id = first.dims();
    let axis = normalize_axis(axis, rank).ok_or(p.shapes("axis out of range"))?;
    if id.len() + 1 != rank
        || od[axis] as usize != count
        || (0..rank).any(|k| k != axis && od[k] != id[if k < axis { k } else { k - 1 }])
    {
        return Err(
            p.shapes("output must be the inputs' shape with the count inserted at the axis")
        );
    }
    for j in 0..count {
        let t = input(p, j)?;
        same_kind(p, &t, &out)?;
        if t.shape != first {
            return Err(p.shapes("inputs must have one shape"));
        }
    }
    let outer: usize = id[..axis].iter().map(|&d| d as usize).product();
    write_header(w, out.dtype.size());
    w.pod(&PackRecord { count: word(count), outer: word(outer) });
    Ok(Needs::default())
}

/// Writes the word in front of every record of this module: the element size in bytes.
fn write_header(w: &mut RecordWriter<'_>, element_bytes: usize) {
    w.pod(&word(element_bytes));
}

/// CONCATENATION's parameters; a word per input follows (its first element's offset in a block
/// of the output).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Pod, Zeroable)]
#[repr(C)]
pub(super) struct ConcatRecord {
    /// Blocks along the dimensions before the axis.
    pub outer: u32,
    /// Inputs.
    pub inputs: u32,
}

/// PAD's parameters; `shape.rank` pairs of words follow (padding before and after each
/// dimension).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Pod, Zeroable)]
#[repr(C)]
pub(super) struct PadRecord {
    /// The padding value (the output's zero point for int8, else 0).
    pub value: i32,
    /// The input shape.
    pub shape: DimsRecord,
}

/// SPACE_TO_BATCH_ND's and BATCH_TO_SPACE_ND's parameters (the whole record), 3-D tensors as
/// 4-D with a 1-wide block.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Pod, Zeroable)]
#[repr(C)]
pub(super) struct SpaceBatchRecord {
    /// The padding value (SPACE_TO_BATCH_ND).
    pub value: i32,
    /// Block height and width.
    pub block: [u32; 2],
    /// Rows padded above (cropped, for BATCH_TO_SPACE_ND).
    pub top: u32,
    /// Columns padded left (cropped).
    pub left: u32,
    /// Input shape.
    pub input: [u32; 4],
    /// Output shape.
    pub output: [u32; 4],
}

/// STRIDED_SLICE's parameters (the whole record).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Pod, Zeroable)]
#[repr(C)]
pub(super) struct SliceRecord {
    /// The input shape.
    pub shape: DimsRecord,
    /// First index per dimension.
    pub begin: [i32; MAX_RANK],
    /// End index per dimension.
    pub end: [i32; MAX_RANK],
    /// Step per dimension.
    pub strides: [i32; MAX_RANK],
    /// Begin, end and shrink-axis masks.
    pub masks: [u32; 3],
}

/// PACK's parameters (the whole record).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Pod, Zeroable)]
#[repr(C)]
pub(super) struct PackRecord {
    /// Inputs.
    pub count: u32,
    /// Blocks along the dimensions before the axis.
    pub outer: u32,
}

fn cast<T: Pod>(b: &[u8]) -> Result<&[T], RunError> {
    bytemuck::try_cast_slice(b).map_err(|_| RunError::Internal)
}

fn cast_mut<T: Pod>(b: &mut [u8]) -> Result<&mut [T], RunError> {
    bytemuck::try_cast_slice_mut(b).map_err(|_| RunError::Internal)
}

/// An element of `size` bytes holding `v` (int8: the low byte; wider: little-endian, 0-extended).
trait Element: Pod {
    fn from_i32(v: i32) -> Self;
}
impl Element for u8 {
    fn from_i32(v: i32) -> Self {
        v as u8
    }
}
impl Element for [u8; 4] {
    fn from_i32(v: i32) -> Self {
        v.to_le_bytes()
    }
}
impl Element for [u8; 8] {
    fn from_i32(v: i32) -> Self {
        (v as i64).to_le_bytes()
    }
}

#[inline(never)]
pub(super) fn eval(
    op_code: i32,
    r: &mut RecordReader<'_>,
    io: Operands<'_>,
) -> Result<(), RunError> {
    match r.pod::<u32>()? {
        1 => run::<u8>(op_code, r, io),
        4 => run::<[u8; 4]>(op_code, r, io),
        8 => run::<[u8; 8]>(op_code, r, io),
        _ => Err(RunError::Internal),
    }
}

fn run<T: Element>(
    op_code: i32,
    r: &mut RecordReader<'_>,
    io: Operands<'_>,
) -> Result<(), RunError> {
    let output = cast_mut::<T>(io.output)?;
    match op_code {
        code::CONCATENATION if super::built(code::PAD) => {
            let rec: ConcatRecord = r.pod()?;
            for j in 0..rec.inputs as usize {
                let offset = r.pod::<u32>()? as usize;
                let outer = rec.outer as usize;
                concatenate_into(cast::<T>(io.inputs.get(j)?)?, outer, offset, output)
                    .map_err(kernel_err)?;
            }
            Ok(())
        }
        code::PAD if super::built(code::PAD) => {
            let rec: PadRecord = r.pod()?;
            let value = T::from_i32(rec.value);
            let dims = rec.shape.get()?;
            let mut paddings = [(0usize, 0usize); MAX_RANK];
            for pd in paddings.iter_mut().take(dims.rank) {
                let [before, after] = r.pod::<[u32; 2]>()?;
                *pd = (before as usize, after as usize);
            }
            pad(cast::<T>(io.inputs.get(0)?)?, dims.get(), &paddings[..dims.rank], value, output)
                .map_err(kernel_err)
        }
        code::SPACE_TO_BATCH_ND | code::BATCH_TO_SPACE_ND if super::built(code::PAD) => {
            let rec: SpaceBatchRecord = r.pod()?;
            let value = T::from_i32(rec.value);
            let g = SpaceBatch {
                block_h: rec.block[0] as usize,
                block_w: rec.block[1] as usize,
                top: rec.top as usize,
                left: rec.left as usize,
            };
            let (in4, out4) = (shape_of(rec.input), shape_of(rec.output));
            let input = cast::<T>(io.inputs.get(0)?)?;
            if op_code == code::SPACE_TO_BATCH_ND {
                space_to_batch(g, input, in4, value, output, out4)
            } else {
                batch_to_space(g, input, in4, output, out4)
            }
            .map_err(kernel_err)
        }
        code::STRIDED_SLICE if super::built(code::STRIDED_SLICE) => {
            let rec: SliceRecord = r.pod()?;
            let dims = rec.shape.get()?;
            let [begin_mask, end_mask, shrink_axis_mask] = rec.masks;
            let k = StridedSlice {
                rank: dims.rank,
                begin: rec.begin,
                end: rec.end,
                strides: rec.strides,
                begin_mask,
                end_mask,
                shrink_axis_mask,
            };
            k.eval(cast::<T>(io.inputs.get(0)?)?, dims.get(), output).map_err(kernel_err)
        }
        code::PACK if super::built(code::STRIDED_SLICE) => {
            let rec: PackRecord = r.pod()?;
            let (count, outer) = (rec.count as usize, rec.outer as usize);
            for j in 0..count {
                pack_into(cast::<T>(io.inputs.get(j)?)?, j, count, outer, output)
                    .map_err(kernel_err)?;
            }
            Ok(())
        }
        _ => Err(RunError::Internal),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::record::assert_round_trip;

    #[test]
    fn the_records_round_trip() {
        assert_round_trip(&ConcatRecord { outer: 3, inputs: 2 });
        assert_round_trip(&PadRecord { value: -128, shape: DimsRecord::new(&[1, 5, 5, 2]) });
        assert_round_trip(&SpaceBatchRecord {
            value: 0,
            block: [2, 3],
            top: 1,
            left: 2,
            input: [1, 4, 4, 1],
            output: [6, 3, 2, 1],
        });
        assert_round_trip(&SliceRecord {
            shape: DimsRecord::new(&[2, 3]),
            begin: [0, -1, 0, 0, 0, 0],
            end: [2, i32::MIN, 0, 0, 0, 0],
            strides: [1, -1, 1, 1, 1, 1],
            masks: [0b01, 0b10, 0],
        });
        assert_round_trip(&PackRecord { count: 4, outer: 1 });
    }
}
