//! What an operator implementation is, builtin or yours: a prepare step that checks the
//! operator's operands at load and writes its parameters into a record ([`Prep`],
//! [`RecordWriter`]), and an eval step that reads the record back and computes the output
//! ([`RecordReader`], [`Operands`]). The builtin operators (the `ops` layer above) are written
//! against this interface, and so is a kernel you register for a CUSTOM operator or in place of a
//! builtin ([`Kernels`]): the model keeps the registrations it was loaded with, so loading,
//! planning and running all see them.
//!
//! ```
//! use edge_reflex::engine::model::kernel::{
//!     Kernels, Needs, OperatorCode, Operands, Prep, Registration,
//! };
//! use edge_reflex::engine::record::{RecordReader, RecordWriter};
//! use edge_reflex::engine::{LoadError, RunError};
//!
//! /// Doubles its int8 input (a stand-in for an accelerator's kernel).
//! fn prepare(p: &Prep<'_, '_>, w: &mut RecordWriter<'_>) -> Result<Needs, LoadError> {
//!     p.arity(1, 1)?;
//!     let input = p.input(0)?;
//!     w.usize(input.elements());
//!     Ok(Needs::default())
//! }
//!
//! fn eval(r: &mut RecordReader<'_>, io: Operands<'_>) -> Result<(), RunError> {
//!     let n = r.usize()?;
//!     let input = io.inputs.get(0)?;
//!     for (o, i) in io.output.iter_mut().zip(input).take(n) {
//!         *o = (*i as i8).saturating_mul(2) as u8;
//!     }
//!     Ok(())
//! }
//!
//! static KERNELS: Kernels = Kernels::new(&[Registration {
//!     operator: OperatorCode::Custom("DOUBLE"),
//!     prepare,
//!     eval,
//! }]);
//! // let model = TfLiteModel::load_with(bytes, &KERNELS)?;
//! # assert_eq!(KERNELS.registrations().len(), 1);
//! ```

use crate::engine::error::{LoadError, LoadErrorKind, RunError, Site};
use crate::engine::kernels::KernelError;
use crate::engine::model::operator::OperatorInfo;
use crate::engine::model::tensor::{DType, TensorInfo};
use crate::engine::model::TfLiteModel;
use crate::engine::record::{RecordReader, RecordWriter};
use crate::model::QuantParams;

/// What an operator needs from the planner besides its operands.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Needs {
    /// Bytes of scratch memory the operator uses while it runs.
    pub scratch: usize,
}

/// An operator being prepared: its model, its operands, and checking helpers.
pub struct Prep<'a, 'm> {
    /// The model.
    pub m: &'a TfLiteModel<'m>,
    /// The operator.
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

    /// Input `j`, or the (single) output for `None`: one tensor read whichever it is (a caller
    /// that matched on `j` around [`input`](Self::input) and [`output`](Self::output) would
    /// hold two results in its frame, at the bottom of the loader's deepest stack).
    pub fn operand(&self, j: Option<usize>) -> Result<TensorInfo<'m>, LoadError> {
        let (index, missing) = match j {
            Some(j) => (self.op.input(j), "operator input"),
            None => (self.op.output(0), "operator output"),
        };
        match index {
            Some(t) => self.m.tensor(t),
            None => Err(self.err(LoadErrorKind::Missing(missing))),
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
        // The tensor read in place, into this frame, and looked at there (not moved out of its
        // `Result`: this runs at the bottom of the loader's deepest stack).
        let Some(t) = self.op.input(2) else {
            return Ok(None);
        };
        let mut r = Ok(TensorInfo::EMPTY);
        self.m.fill_tensor(t, &mut r);
        if self.m.infer_batch {
            self.m.infer_batch_of(t, &mut r);
        }
        let b = match &r {
            Ok(b) => b,
            Err(e) => return Err(*e),
        };
        self.dtype(b, DType::Int32, "bias must be int32")?;
        if b.elements() != count {
            return Err(self.shapes(per));
        }
        Ok(Some(b.data))
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
        Ok(bytemuck::cast_slice(self.get(j)?))
    }
}

/// A prepare step: checks the operator's operands and writes its record (or only counts, with a
/// counting writer); returns what it needs from the planner.
pub type PrepareFn =
    for<'p, 'm, 'w, 'b> fn(&'p Prep<'p, 'm>, &'w mut RecordWriter<'b>) -> Result<Needs, LoadError>;

/// An eval step: reads the record its prepare step wrote and computes the output.
pub type EvalFn =
    for<'r, 'b, 'x> fn(&'r mut RecordReader<'b>, Operands<'x>) -> Result<(), RunError>;

/// Which operators of a model a [`Registration`] runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum OperatorCode {
    /// Every operator with this builtin code, in place of the engine's kernel (an accelerator's
    /// FULLY_CONNECTED, say). Its options were parsed and checked as the builtin's.
    Builtin(i32),
    /// Every CUSTOM operator whose custom code is this string.
    Custom(&'static str),
}

/// A kernel you provide for a CUSTOM operator or in place of a builtin one.
#[derive(Clone, Copy, Debug)]
pub struct Registration {
    /// The operators it runs.
    pub operator: OperatorCode,
    /// Its prepare step (run at load, counting, and when an interpreter is built, writing).
    pub prepare: PrepareFn,
    /// Its eval step (run on every invoke).
    pub eval: EvalFn,
}

/// The kernels a model is loaded with besides the builtins: a `static` list of
/// [`Registration`]s, searched in order (the first that matches an operator runs it).
#[derive(Clone, Copy, Debug)]
pub struct Kernels {
    registrations: &'static [Registration],
}

impl Kernels {
    /// No registrations: every operator runs the engine's own kernel.
    pub const BUILTIN: Kernels = Kernels { registrations: &[] };

    /// The kernels `registrations` (searched in order).
    pub const fn new(registrations: &'static [Registration]) -> Kernels {
        Kernels { registrations }
    }

    /// The registrations.
    pub fn registrations(&self) -> &'static [Registration] {
        self.registrations
    }

    /// The registration that runs operator `op` of `m` and its position, if any.
    #[inline]
    pub fn find(
        &self,
        m: &TfLiteModel<'_>,
        op: &OperatorInfo<'_>,
    ) -> Option<(usize, &'static Registration)> {
        // The common case (no registrations) costs one compare; the search is out of line so
        // its locals are not in the frames of loading and planning, under which every operator's
        // preparation runs.
        if self.registrations.is_empty() {
            return None;
        }
        self.search(m, op)
    }

    #[inline(never)]
    fn search(
        &self,
        m: &TfLiteModel<'_>,
        op: &OperatorInfo<'_>,
    ) -> Option<(usize, &'static Registration)> {
        let custom = if op.code == crate::engine::model::operator::code::CUSTOM {
            m.custom_code(op.index)
        } else {
            None
        };
        self.registrations.iter().enumerate().find(|(_, r)| match r.operator {
            OperatorCode::Builtin(c) => c == op.code && custom.is_none(),
            OperatorCode::Custom(name) => custom == Some(name.as_bytes()),
        })
    }

    /// The record code of registration `index`: negative, so it never collides with a builtin
    /// code.
    pub const fn record_code(index: usize) -> i32 {
        -1 - index as i32
    }

    /// The registration a (negative) record code names.
    pub fn by_record_code(&self, code: i32) -> Option<&'static Registration> {
        let index = usize::try_from(-1i64 - code as i64).ok()?;
        self.registrations.get(index)
    }
}

/// Alignment of each variable (state) tensor inside its operator's scratch memory.
pub const STATE_ALIGN: usize = 4;

/// Where operator `op` keeps its variable (state) inputs: at the start of its scratch memory, in
/// input order, each at a multiple of [`STATE_ALIGN`] bytes. Returns the offset of tensor `t`
/// there (`None` if `t` is not one of them) and the bytes all of them take (0: the operator keeps
/// no state). The planner places such an operator's scratch for the whole run, never shared, so
/// the state persists between invokes; the operator's prepare step reads the same offsets.
pub fn state_layout(
    m: &TfLiteModel<'_>,
    op: &OperatorInfo<'_>,
    t: Option<u32>,
) -> Result<(Option<usize>, usize), LoadError> {
    let mut end = 0usize;
    let mut found = None;
    if !cfg!(feature = "op-lstm") {
        return Ok((None, 0));
    }
    for i in op.inputs().flatten() {
        if !m.is_variable(i) {
            continue;
        }
        let info = m.tensor(i)?;
        let at = end.div_ceil(STATE_ALIGN) * STATE_ALIGN;
        if Some(i) == t {
            found = Some(at);
        }
        end = at.saturating_add(info.bytes());
    }
    Ok((found, end.div_ceil(STATE_ALIGN) * STATE_ALIGN))
}
