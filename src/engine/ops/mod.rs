//! The operators' wiring between the model and the kernels: for each supported operator, a
//! *prepare* step (run at load to check operand types, shapes and quantization, and again when an
//! interpreter is built to write the operator's integer parameters into its arena record) and an
//! *eval* step (run on every invoke: read the record back, call the kernel).
//!
//! All float arithmetic (multipliers, activation ranges, lookup tables) happens in prepare; eval
//! is integer-only (except inside QUANTIZE/DEQUANTIZE, whose tensors are float). The kernels
//! themselves live in [`kernels`](crate::engine::kernels).

mod activation;
mod conv;
mod elementwise;
mod fully_connected;
mod layout;
mod movement;
mod pool;
pub(crate) mod record;

use crate::engine::error::{LoadError, LoadErrorKind, RunError, Site};
use crate::engine::kernels::KernelError;
pub(crate) use crate::engine::model::operator::built;
use crate::engine::model::operator::{Op, OperatorInfo};
use crate::engine::model::tensor::{DType, TensorInfo};
use crate::engine::model::TfLiteModel;
use crate::engine::ops::record::{RecordReader, RecordWriter};
use crate::model::QuantParams;

/// What an operator needs from the planner besides its operands.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Needs {
    /// Bytes of scratch memory the operator uses while it runs.
    pub scratch: usize,
}

impl<'m> TfLiteModel<'m> {
    /// Checks `file` completely and returns the view: [`parse`](TfLiteModel::parse) (the
    /// [`model`](crate::engine::model) layer), the whole-graph checks (the
    /// [`check`](crate::engine::check) layer), then every operator's preparation in counting mode
    /// (this layer): after it succeeds, nothing about the model can fail except the arena size.
    ///
    /// Errors name what is wrong and where (tensor or operator index). Float32 and
    /// dynamic-range models are refused with [`LoadErrorKind::FloatModel`] /
    /// [`LoadErrorKind::DynamicRangeModel`], whose message says how to convert them.
    #[inline(never)]
    pub fn load(file: &'m [u8]) -> Result<TfLiteModel<'m>, LoadError> {
        // Each stage is its own function, so that the deepest one (the operators' checks, which
        // read tensors) runs under a small frame here.
        let mut r = TfLiteModel::parse(file);
        if let Ok(m) = &mut r {
            if let Err(e) = m.check(check_operator) {
                r = Err(e);
            }
        }
        r
    }
}

/// [`check`] as the check layer calls it.
fn check_operator<'m>(m: &TfLiteModel<'m>, op: &OperatorInfo<'m>) -> Result<(), LoadError> {
    check(m, op).map(|_| ())
}

/// Checks operator `op` of `m` (types, shapes, quantization) without writing anything.
pub fn check(m: &TfLiteModel<'_>, op: &OperatorInfo<'_>) -> Result<Needs, LoadError> {
    prepare(m, op, &mut RecordWriter::counting())
}

/// Checks operator `op` and writes its parameters with `w`.
pub fn prepare(
    m: &TfLiteModel<'_>,
    op: &OperatorInfo<'_>,
    w: &mut RecordWriter<'_>,
) -> Result<Needs, LoadError> {
    use crate::engine::model::operator::code as c;
    let p = Prep { m, op };
    // Each arm's guard is a constant (`built` of a constant code): the arms of operator
    // families left out of the build are removed together with everything they call.
    match op.op {
        Op::FullyConnected { .. } if built(c::FULLY_CONNECTED) => fully_connected::prepare(&p, w),
        Op::Conv2d(_) | Op::DepthwiseConv2d { .. } if built(c::CONV_2D) => conv::prepare(&p, w),
        Op::AveragePool2d(_) | Op::MaxPool2d(_) if built(c::AVERAGE_POOL_2D) => {
            pool::prepare(&p, w)
        }
        Op::Softmax { .. } if built(c::SOFTMAX) => activation::prepare(&p, w),
        Op::Logistic | Op::Tanh if built(c::LOGISTIC) => activation::prepare(&p, w),
        Op::Reshape | Op::ExpandDims | Op::Squeeze => layout::prepare_reshape(&p),
        Op::Shape if built(c::SHAPE) => layout::prepare_shape(&p, w),
        Op::Add { .. } | Op::Mul { .. } if built(c::ADD) => elementwise::prepare(&p, w),
        Op::Quantize | Op::Dequantize if built(c::QUANTIZE) => elementwise::prepare(&p, w),
        Op::Mean { .. } if built(c::MEAN) => elementwise::prepare(&p, w),
        Op::Concatenation { .. } | Op::Pad | Op::SpaceToBatchNd | Op::BatchToSpaceNd
            if built(c::PAD) =>
        {
            elementwise::prepare(&p, w)
        }
        Op::StridedSlice(_) | Op::Pack { .. } if built(c::STRIDED_SLICE) => {
            elementwise::prepare(&p, w)
        }
        _ => Err(p.err(LoadErrorKind::OperatorNotBuilt(op.code))),
    }
}

/// Runs the operator whose builtin `code` and record body `r` were written by [`prepare`].
pub fn eval(code: i32, r: &mut RecordReader<'_>, io: Operands<'_>) -> Result<(), RunError> {
    use crate::engine::model::operator::code;
    match code {
        code::FULLY_CONNECTED if built(code::FULLY_CONNECTED) => fully_connected::eval(r, io),
        code::CONV_2D | code::DEPTHWISE_CONV_2D if built(code::CONV_2D) => conv::eval(code, r, io),
        code::AVERAGE_POOL_2D | code::MAX_POOL_2D if built(code::AVERAGE_POOL_2D) => {
            pool::eval(r, io)
        }
        code::SOFTMAX if built(code::SOFTMAX) => activation::eval(code, r, io),
        code::LOGISTIC | code::TANH if built(code::LOGISTIC) => activation::eval(code, r, io),
        code::SHAPE if built(code::SHAPE) => layout::eval_shape(r, io),
        code::RESHAPE | code::EXPAND_DIMS | code::SQUEEZE => Ok(()),
        code::ADD | code::MUL if built(code::ADD) => elementwise::eval(code, r, io),
        code::QUANTIZE | code::DEQUANTIZE if built(code::QUANTIZE) => {
            elementwise::eval(code, r, io)
        }
        code::MEAN if built(code::MEAN) => elementwise::eval(code, r, io),
        code::CONCATENATION | code::PAD | code::SPACE_TO_BATCH_ND | code::BATCH_TO_SPACE_ND
            if built(code::PAD) =>
        {
            elementwise::eval(code, r, io)
        }
        code::STRIDED_SLICE | code::PACK if built(code::STRIDED_SLICE) => {
            elementwise::eval(code, r, io)
        }
        _ => Err(RunError::Internal),
    }
}

/// An operator being prepared: its model, its operands, and checking helpers.
pub(crate) struct Prep<'a, 'm> {
    pub m: &'a TfLiteModel<'m>,
    pub op: &'a OperatorInfo<'m>,
}

impl<'a, 'm> Prep<'a, 'm> {
    /// An error at this operator.
    pub fn err(&self, kind: LoadErrorKind) -> LoadError {
        LoadError::new(Site::Operator { index: self.op.index, name: self.op.name() }, kind)
    }

    /// A kernel parameter error at this operator.
    pub fn kernel(&self, e: KernelError) -> LoadError {
        self.err(LoadErrorKind::Kernel(e))
    }

    /// Checks that the operator has between `min_in` and `max_in` inputs and one output.
    pub fn arity(&self, min_in: usize, max_in: usize) -> Result<(), LoadError> {
        let (i, o) = (self.op.input_count(), self.op.output_count());
        if i < min_in || i > max_in || o != 1 {
            return Err(self.err(LoadErrorKind::Arity { inputs: i as u32, outputs: o as u32 }));
        }
        Ok(())
    }

    /// Input `j`, which must be present.
    pub fn input(&self, j: usize) -> Result<TensorInfo<'m>, LoadError> {
        match self.op.input(j) {
            Some(t) => self.m.tensor(t),
            None => Err(self.err(LoadErrorKind::Missing("operator input"))),
        }
    }

    /// Input `j` if present (`None` for an absent optional input).
    pub fn input_opt(&self, j: usize) -> Result<Option<TensorInfo<'m>>, LoadError> {
        match self.op.input(j) {
            Some(t) => self.m.tensor(t).map(Some),
            None => Ok(None),
        }
    }

    /// The (single) output.
    pub fn output(&self) -> Result<TensorInfo<'m>, LoadError> {
        match self.op.output(0) {
            Some(t) => self.m.tensor(t),
            None => Err(self.err(LoadErrorKind::Missing("operator output"))),
        }
    }

    /// Requires `t` to be int8 with per-tensor quantization (positive scale, int8 zero point).
    pub fn int8(&self, t: &TensorInfo<'_>, what: &'static str) -> Result<QuantParams, LoadError> {
        if t.dtype != DType::Int8 {
            return Err(self.err(LoadErrorKind::Types(what)));
        }
        self.quant(t, what)
    }

    /// The per-tensor quantization of `t` (positive finite scale, zero point in int8 range).
    pub fn quant(&self, t: &TensorInfo<'_>, what: &'static str) -> Result<QuantParams, LoadError> {
        let q = t.quant().ok_or(self.err(LoadErrorKind::Quantization(what)))?;
        if !(q.scale.is_finite() && q.scale > 0.0 && (-128..=127).contains(&q.zero_point)) {
            return Err(self.err(LoadErrorKind::Quantization(what)));
        }
        Ok(q)
    }

    /// Requires `t` to have dtype `d`.
    pub fn dtype(&self, t: &TensorInfo<'_>, d: DType, what: &'static str) -> Result<(), LoadError> {
        if t.dtype != d {
            return Err(self.err(LoadErrorKind::Types(what)));
        }
        Ok(())
    }

    /// Requires `t` to be a constant and returns its bytes.
    #[allow(dead_code)]
    pub fn constant(&self, t: &TensorInfo<'m>, what: &'static str) -> Result<&'m [u8], LoadError> {
        t.data.ok_or(self.err(LoadErrorKind::UnsupportedOption(what)))
    }

    /// `t`'s shape as 4-D NHWC, leading dimensions filled with 1 (rank at most 4).
    pub fn shape4(&self, t: &TensorInfo<'_>, what: &'static str) -> Result<[usize; 4], LoadError> {
        shape4(t).ok_or(self.err(LoadErrorKind::Shapes(what)))
    }

    /// Optional input 2 as an int32 bias of `count` values: `None` if absent, else `Some(data)`
    /// (`data` `None` if it is not a constant). Out of line, so that its `TensorInfo` is not in
    /// the caller's frame (the loader's stack stays small). `per` names the unit in the error.
    #[inline(never)]
    pub fn bias(
        &self,
        count: usize,
        per: &'static str,
    ) -> Result<Option<Option<&'m [u8]>>, LoadError> {
        match self.input_opt(2)? {
            Some(b) => {
                self.dtype(&b, DType::Int32, "bias must be int32")?;
                if b.elements() != count {
                    return Err(self.shapes(per));
                }
                Ok(Some(b.data))
            }
            None => Ok(None),
        }
    }

    /// A shape disagreement at this operator.
    pub fn shapes(&self, what: &'static str) -> LoadError {
        self.err(LoadErrorKind::Shapes(what))
    }
}

/// `t`'s shape extended to 4-D (leading 1s), `None` above rank 4.
pub(crate) fn shape4(t: &TensorInfo<'_>) -> Option<[usize; 4]> {
    let d = t.shape.dims();
    if d.len() > 4 {
        return None;
    }
    let mut s = [1usize; 4];
    for (i, &x) in d.iter().enumerate() {
        s[4 - d.len() + i] = x as usize;
    }
    Some(s)
}

/// Writes a 4-D shape.
pub(crate) fn write_shape(w: &mut RecordWriter<'_>, s: [usize; 4]) {
    for d in s {
        w.usize(d);
    }
}

/// Reads a 4-D shape.
pub(crate) fn read_shape(r: &mut RecordReader<'_>) -> Result<[usize; 4], RunError> {
    Ok([r.usize()?, r.usize()?, r.usize()?, r.usize()?])
}

/// The memory an operator reads and writes while it runs.
pub struct Operands<'x> {
    /// Its inputs.
    pub inputs: Inputs<'x>,
    /// Its output's bytes.
    pub output: &'x mut [u8],
    /// Its scratch bytes (empty if it asked for none).
    pub scratch: &'x mut [u8],
}

/// Read access to an operator's inputs, wherever they live (model or arena).
pub struct Inputs<'x> {
    pub(crate) model: &'x [u8],
    pub(crate) table: &'x [u8],
    /// The parts of the activation region not written by this operator, with their offsets.
    pub(crate) pieces: [(&'x [u8], usize); 3],
    /// The input tensor indices (little-endian `i32`, -1 absent).
    pub(crate) indices: &'x [u8],
}

#[allow(dead_code)]
impl<'x> Inputs<'x> {
    /// Number of inputs (including absent ones).
    pub fn len(&self) -> usize {
        self.indices.len() / 4
    }

    /// True if the operator has no input.
    pub fn is_empty(&self) -> bool {
        self.indices.is_empty()
    }

    /// Bytes of input `j` (an error if absent).
    pub fn get(&self, j: usize) -> Result<&'x [u8], RunError> {
        self.get_opt(j)?.ok_or(RunError::Internal)
    }

    /// Bytes of input `j`, `None` if it is an absent optional input.
    #[inline]
    pub fn get_opt(&self, j: usize) -> Result<Option<&'x [u8]>, RunError> {
        let t = crate::engine::kernels::read_i32(self.indices, j).ok_or(RunError::Internal)?;
        let Ok(t) = usize::try_from(t) else {
            return Ok(None);
        };
        let (bytes, offset, len) = match crate::engine::arena::location(self.table, t)? {
            crate::engine::arena::Location::Model { offset, len } => (self.model, offset, len),
            crate::engine::arena::Location::Arena { offset, len } => {
                // The pieces are in address order: the input lies in the last one starting at
                // or before it (it never straddles the output or the scratch).
                let [p0, p1, p2] = self.pieces;
                let (piece, base) = if offset >= p2.1 {
                    p2
                } else if offset >= p1.1 {
                    p1
                } else {
                    p0
                };
                (piece, offset.wrapping_sub(base), len)
            }
            crate::engine::arena::Location::Unused => return Err(RunError::Internal),
        };
        let end = offset.checked_add(len).ok_or(RunError::Internal)?;
        bytes.get(offset..end).map(Some).ok_or(RunError::Internal)
    }

    /// Input `j` as int8 values.
    pub fn i8(&self, j: usize) -> Result<&'x [i8], RunError> {
        Ok(as_i8(self.get(j)?))
    }
}

/// Bytes viewed as `i8`.
pub(crate) fn as_i8(b: &[u8]) -> &[i8] {
    bytemuck::cast_slice(b)
}

/// Mutable bytes viewed as `i8`.
pub(crate) fn as_i8_mut(b: &mut [u8]) -> &mut [i8] {
    bytemuck::cast_slice_mut(b)
}

/// Maps a kernel error at run time.
pub(crate) fn kernel_err(e: KernelError) -> RunError {
    RunError::Kernel { operator: u32::MAX, error: e }
}
