//! The model layer: [`TfLiteModel`], a zero-copy view of a `.tflite` file's tensors
//! ([`tensor`]) and operators ([`operator`]), read through the [`format`](crate::engine::format)
//! layer.
//!
//! [`TfLiteModel::parse`] locates the file's lists (header, schema version, subgraph) and every
//! accessor re-checks what it reads, so a view never panics on a damaged file; what the whole
//! graph must satisfy is the [`check`](crate::engine::check) layer's, and
//! [`TfLiteModel::load`] (parse, then check, then every operator's own preparation checks in the
//! [`ops`](crate::engine) layer) is what callers use. After `load` succeeds nothing about the
//! model can fail except the arena size.
//!
//! It does not plan memory or run anything: see [`plan`](crate::engine::plan) and
//! [`run`](crate::engine::run).

pub mod batch;
pub mod kernel;
pub mod operator;
pub mod tensor;

use crate::engine::error::{LoadError, LoadErrorKind, Site};
use crate::engine::format::flatbuffer::{self, FbError, Table, Vector, Words};
use crate::engine::format::schema::{self, model, operator_name, subgraph};
use crate::engine::model::kernel::Kernels;
use crate::engine::model::operator::{parse_op, resolve_code, Op, OperatorInfo};
use crate::engine::model::tensor::{read_listed_tensor, DType, TensorInfo};

/// A validated TFLite model, borrowing the file bytes (flash or RAM) for `'m`.
#[derive(Clone, Copy, Debug)]
pub struct TfLiteModel<'m> {
    pub(in crate::engine) file: &'m [u8],
    // The lists, by position in `file` (checked by `load`): the view stays small, as it is copied
    // into every interpreter and held on the stack while loading.
    pub(in crate::engine) codes: Words,
    pub(in crate::engine) buffers: Words,
    pub(in crate::engine) tensors: Words,
    pub(in crate::engine) operators: Words,
    pub(in crate::engine) inputs: Words,
    pub(in crate::engine) outputs: Words,
    /// True once the operators are checked, if the model has SPACE_TO_BATCH_ND or
    /// BATCH_TO_SPACE_ND: batch sizes are then inferred (see `batch`).
    pub(in crate::engine) infer_batch: bool,
    /// The kernels registered besides the builtins (see [`kernel`]).
    pub(in crate::engine) kernels: &'static Kernels,
}

/// The byte offset of a FlatBuffer error, for [`LoadErrorKind::Malformed`].
pub(in crate::engine) fn at(e: FbError) -> u32 {
    u32::try_from(e.at).unwrap_or(u32::MAX)
}

/// A count or index as the `u32` errors carry.
pub(in crate::engine) fn count(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

impl<'m> TfLiteModel<'m> {
    /// The file's header and the lists the engine reads, located and bounds-checked: the view,
    /// not yet checked as a whole (that is [`TfLiteModel::load`]).
    #[inline(never)]
    pub fn parse(file: &'m [u8]) -> Result<TfLiteModel<'m>, LoadError> {
        let file_err = |kind| LoadError::new(Site::File, kind);
        if file.len() < 8 {
            return Err(file_err(LoadErrorKind::TooShort));
        }
        if file.get(4..8) != Some(b"TFL3".as_slice()) {
            return Err(file_err(LoadErrorKind::NotTfLite));
        }
        let malformed =
            |field| move |e: FbError| file_err(LoadErrorKind::Malformed { field, at: at(e) });
        let root = flatbuffer::root(file).map_err(malformed("root table"))?;
        let version = root.u32(model::VERSION, 0).map_err(malformed("version"))?;
        if version != 3 {
            return Err(file_err(LoadErrorKind::SchemaVersion(version)));
        }
        let vector = |t: &Table<'m>, id, field| -> Result<Vector<'m>, LoadError> {
            t.vector(id, 4)
                .map_err(malformed(field))?
                .ok_or(file_err(LoadErrorKind::Missing(field)))
        };
        let codes = root
            .vector(model::OPERATOR_CODES, 4)
            .map_err(malformed("operator_codes"))?
            .map_or_else(empty_vector, Ok)?;
        let buffers = vector(&root, model::BUFFERS, "buffers")?;
        let subgraphs = vector(&root, model::SUBGRAPHS, "subgraphs")?;
        if subgraphs.is_empty() {
            return Err(file_err(LoadErrorKind::NoSubgraph));
        }
        let sg = subgraphs.table(0).map_err(malformed("subgraph 0"))?;
        let tensors = vector(&sg, subgraph::TENSORS, "tensors")?;
        let inputs = vector(&sg, subgraph::INPUTS, "subgraph inputs")?;
        let outputs = vector(&sg, subgraph::OUTPUTS, "subgraph outputs")?;
        let operators = sg
            .vector(subgraph::OPERATORS, 4)
            .map_err(malformed("operators"))?
            .map_or_else(empty_vector, Ok)?;
        let words = |v: Vector<'m>, field| {
            Words::of(&v).ok_or(file_err(LoadErrorKind::Malformed { field, at: count(v.start()) }))
        };
        Ok(TfLiteModel {
            file,
            codes: words(codes, "operator_codes")?,
            buffers: words(buffers, "buffers")?,
            tensors: words(tensors, "tensors")?,
            operators: words(operators, "operators")?,
            inputs: words(inputs, "subgraph inputs")?,
            outputs: words(outputs, "subgraph outputs")?,
            infer_batch: false,
            kernels: &Kernels::BUILTIN,
        })
    }

    /// The model file.
    pub fn file(&self) -> &'m [u8] {
        self.file
    }

    /// Number of tensors in the main subgraph.
    pub fn tensor_count(&self) -> usize {
        self.tensors.len()
    }

    /// True if tensor `i` is a variable (state) tensor: an LSTM's output or cell state, which
    /// keeps its value between invokes (false for an index out of range).
    pub fn is_variable(&self, i: u32) -> bool {
        self.tensors
            .vector(self.file)
            .table(i as usize)
            .is_ok_and(|t| crate::engine::model::tensor::is_variable(&t))
    }

    /// Tensor `i` (checked again; cannot fail for `i < tensor_count()` after `load`).
    #[inline]
    pub fn tensor(&self, i: u32) -> Result<TensorInfo<'m>, LoadError> {
        // Filled in place, in the caller's result: every operator's preparation reads several
        // tensors, at the bottom of the deepest stack of `load` and `Interpreter::new`.
        let mut r = Ok(TensorInfo::EMPTY);
        self.fill_tensor(i, &mut r);
        // Not from `fill_tensor`: the batch inference reads tensors too, and must not run under
        // that frame.
        if self.infer_batch {
            self.infer_batch_of(i, &mut r);
        }
        r
    }

    /// Reads tensor `i` as stored into `r`, which holds `Ok` on entry.
    #[inline(never)]
    fn fill_tensor(&self, i: u32, r: &mut Result<TensorInfo<'m>, LoadError>) {
        let Ok(out) = r else { return };
        if let Err(kind) = read_listed_tensor(self.file, self.tensors, self.buffers, i, out) {
            tensor_error(i, kind, r);
        }
    }

    /// Replaces the stored batch of tensor `i` (in `r`) by the inferred one (see `batch`).
    #[inline(never)]
    fn infer_batch_of(&self, i: u32, r: &mut Result<TensorInfo<'m>, LoadError>) {
        let Ok(info) = r else { return };
        let Some(batch) = crate::engine::model::batch::effective_batch(self, i, info) else {
            return;
        };
        let mut dims = [0u32; crate::model::Shape::MAX_RANK];
        let d = info.shape.dims();
        dims[..d.len()].copy_from_slice(d);
        dims[0] = batch;
        let Some(shape) = crate::model::Shape::new(&dims[..d.len()]) else {
            return tensor_error(i, LoadErrorKind::TooLarge, r);
        };
        info.shape = shape;
        let bytes = info.shape.elements().and_then(|n| n.checked_mul(info.dtype.size()));
        if bytes.is_none_or(|b| b > crate::engine::model::tensor::MAX_TENSOR_BYTES) {
            tensor_error(i, LoadErrorKind::TooLarge, r);
        }
    }

    /// Type, rank, first dimension and constant data of tensor `i` exactly as stored (no batch
    /// inference), read without building a [`TensorInfo`]: for `batch`, which runs (deep in the
    /// stack, under a tensor read) on tensors `load` has checked already.
    #[inline(never)]
    pub(crate) fn stored(&self, i: u32) -> Option<Stored<'m>> {
        let t = self.tensors.vector(self.file).table(i as usize).ok()?;
        let dtype = DType::from_code(t.i8(schema::tensor::TYPE, 0).ok()?)?;
        let (rank, first) = match t.vector(schema::tensor::SHAPE, 4).ok()? {
            None => (0, None),
            Some(v) => (v.len(), v.i32(0).ok().and_then(|d| u32::try_from(d).ok())),
        };
        let buffer = t.u32(schema::tensor::BUFFER, 0).ok()?;
        let data = if buffer == 0 {
            None
        } else {
            let b = self.buffers.vector(self.file).table(buffer as usize).ok()?;
            crate::engine::model::tensor::buffer_data(self.file, b).ok()?
        };
        Some(Stored { dtype, rank, first, data })
    }

    /// The builtin code and the input list of operator `j` (no option parsing: for `batch`, on
    /// operators `load` has checked already).
    #[inline(never)]
    pub(crate) fn code_and_inputs(&self, j: u32) -> Option<(i32, Words)> {
        let t = self.operators.vector(self.file).table(j as usize).ok()?;
        let code_index = t.u32(schema::operator::OPCODE_INDEX, 0).ok()?;
        let (code, _) =
            resolve_code(self.codes.vector(self.file).table(code_index as usize).ok()?).ok()?;
        let inputs = match t.vector(schema::operator::INPUTS, 4).ok()? {
            None => Words::default(),
            Some(v) => Words::of(&v)?,
        };
        Some((code, inputs))
    }

    /// The kernels this model was loaded with besides the builtins.
    pub fn kernels(&self) -> &'static Kernels {
        self.kernels
    }

    /// The custom code of operator `i` (the string a CUSTOM operator is known by), if it has one.
    pub fn custom_code(&self, i: u32) -> Option<&'m [u8]> {
        let t = self.operators.vector(self.file).table(i as usize).ok()?;
        let index = t.u32(schema::operator::OPCODE_INDEX, 0).ok()?;
        let c = self.codes.vector(self.file).table(index as usize).ok()?;
        c.string(schema::operator_code::CUSTOM_CODE).ok()?
    }

    /// The custom options of operator `i` (raw bytes a custom kernel interprets; empty if none).
    pub fn custom_options(&self, i: u32) -> &'m [u8] {
        let options = || {
            let t = self.operators.vector(self.file).table(i as usize).ok()?;
            Some(t.vector(schema::operator::CUSTOM_OPTIONS, 1).ok()??.bytes())
        };
        options().unwrap_or(&[])
    }

    /// Whether FULLY_CONNECTED operator `i` quantizes a float32 input asymmetrically (the
    /// option `asymmetric_quantize_inputs`, read by its dynamic-range kernel; `false` if absent).
    /// Read here rather than kept in [`Op`], whose comparisons every build
    /// links.
    #[cfg(feature = "op-float")]
    pub fn asymmetric_quantize_inputs(&self, i: u32) -> bool {
        let read = || {
            let t = self.operators.vector(self.file).table(i as usize).ok()?;
            let options = t.table(schema::operator::BUILTIN_OPTIONS).ok()??;
            options.bool(3, false).ok()
        };
        read().unwrap_or(false)
    }

    /// Number of operators (execution order).
    pub fn operator_count(&self) -> usize {
        self.operators.len()
    }

    /// Operator `i`, with its code resolved and options parsed.
    pub fn operator(&self, i: u32) -> Result<OperatorInfo<'m>, LoadError> {
        let site0 = Site::Operator { index: i, name: "?" };
        let malformed = |field| {
            move |e: FbError| LoadError::new(site0, LoadErrorKind::Malformed { field, at: at(e) })
        };
        let t =
            self.operators.vector(self.file).table(i as usize).map_err(malformed("operator"))?;
        let code_index =
            t.u32(schema::operator::OPCODE_INDEX, 0).map_err(malformed("opcode_index"))?;
        let c = self.codes.vector(self.file).table(code_index as usize).map_err(|_| {
            LoadError::new(
                site0,
                LoadErrorKind::IndexOutOfRange {
                    field: "opcode_index",
                    index: code_index as i64,
                    len: count(self.codes.len()),
                },
            )
        })?;
        let (code, version) = resolve_code(c).map_err(|k| LoadError::new(site0, k))?;
        let site = Site::Operator { index: i, name: operator_name(code) };
        let op = parse_op(code, t).map_err(|k| LoadError::new(site, k))?;
        let malformed = |field| {
            move |e: FbError| LoadError::new(site, LoadErrorKind::Malformed { field, at: at(e) })
        };
        let inputs = t.vector(schema::operator::INPUTS, 4).map_err(malformed("operator inputs"))?;
        let outputs =
            t.vector(schema::operator::OUTPUTS, 4).map_err(malformed("operator outputs"))?;
        if let Some(v) = t
            .vector(schema::operator::INTERMEDIATES, 4)
            .map_err(malformed("operator intermediates"))?
            .filter(|v| !v.is_empty())
        {
            // Only the integer LSTM reads intermediates (the quantization of its hidden state);
            // they are never stored, but must name tensors.
            if !cfg!(feature = "op-lstm") || !matches!(op, Op::UnidirectionalSequenceLstm(_)) {
                return Err(LoadError::new(
                    site,
                    LoadErrorKind::UnsupportedOption("intermediate tensors"),
                ));
            }
            for j in 0..v.len() {
                let t = v.i32(j).map_err(malformed("operator intermediates"))?;
                if t < 0 || t as usize >= self.tensors.len() {
                    return Err(LoadError::new(
                        site,
                        LoadErrorKind::IndexOutOfRange {
                            field: "operator intermediate",
                            index: t as i64,
                            len: count(self.tensors.len()),
                        },
                    ));
                }
            }
        }
        let words = |v: Option<Vector<'m>>, field| match v {
            None => Ok(Words::default()),
            Some(v) => Words::of(&v).ok_or(LoadError::new(
                site,
                LoadErrorKind::Malformed { field, at: count(v.start()) },
            )),
        };
        let inputs = words(inputs, "operator inputs")?;
        let outputs = words(outputs, "operator outputs")?;
        for (list, field, optional) in
            [(inputs, "operator input", true), (outputs, "operator output", false)]
        {
            let list = list.vector(self.file);
            for j in 0..list.len() {
                let t = list.i32(j).map_err(malformed(field))?;
                let absent_ok = optional && t == -1;
                if !absent_ok && (t < 0 || t as usize >= self.tensors.len()) {
                    return Err(LoadError::new(
                        site,
                        LoadErrorKind::IndexOutOfRange {
                            field,
                            index: t as i64,
                            len: count(self.tensors.len()),
                        },
                    ));
                }
            }
        }
        Ok(OperatorInfo { index: i, code, version, op, file: self.file, inputs, outputs })
    }

    /// Tensor index of intermediate `k` of operator `j` (`None` if it has none there; indices
    /// were checked at load).
    pub fn intermediate(&self, j: u32, k: usize) -> Option<u32> {
        let op = self.operators.vector(self.file).table(j as usize).ok()?;
        let v = op.vector(schema::operator::INTERMEDIATES, 4).ok()??;
        v.i32(k).ok().and_then(|t| u32::try_from(t).ok())
    }

    /// True if operator `j` lists tensor `t` among its outputs (a cheap read: no option parsing;
    /// false for anything unreadable).
    pub(crate) fn writes(&self, j: u32, t: u32) -> bool {
        let Ok(op) = self.operators.vector(self.file).table(j as usize) else { return false };
        let Ok(Some(outs)) = op.vector(schema::operator::OUTPUTS, 4) else { return false };
        (0..outs.len()).any(|k| outs.i32(k).ok() == Some(t as i32))
    }

    /// Number of graph inputs.
    pub fn input_count(&self) -> usize {
        self.inputs.len()
    }

    /// Tensor index of graph input `j`.
    pub fn input(&self, j: usize) -> Option<u32> {
        self.inputs.tensor(self.file, j)
    }

    /// Number of graph outputs.
    pub fn output_count(&self) -> usize {
        self.outputs.len()
    }

    /// Tensor index of graph output `j`.
    pub fn output(&self, j: usize) -> Option<u32> {
        self.outputs.tensor(self.file, j)
    }

    /// True if tensor `t` is one of the graph inputs.
    pub fn is_input(&self, t: u32) -> bool {
        (0..self.input_count()).any(|j| self.input(j) == Some(t))
    }

    /// True if tensor `t` is one of the graph outputs.
    pub fn is_output(&self, t: u32) -> bool {
        (0..self.output_count()).any(|j| self.output(j) == Some(t))
    }

    /// Info of graph input `j`.
    pub fn input_info(&self, j: usize) -> Option<TensorInfo<'m>> {
        self.input(j).and_then(|t| self.tensor(t).ok())
    }

    /// Info of graph output `j`.
    pub fn output_info(&self, j: usize) -> Option<TensorInfo<'m>> {
        self.output(j).and_then(|t| self.tensor(t).ok())
    }

    /// True if every graph input and output is int8 (the model can serve as a
    /// [`Model`](crate::model::Model)).
    pub fn has_int8_io(&self) -> bool {
        let int8 = |i: Option<TensorInfo<'_>>| i.is_some_and(|t| t.dtype == DType::Int8);
        (0..self.input_count()).all(|j| int8(self.input_info(j)))
            && (0..self.output_count()).all(|j| int8(self.output_info(j)))
    }

    /// The operators, in execution order (all were checked by `load`).
    pub fn operators(&self) -> impl Iterator<Item = OperatorInfo<'m>> + '_ {
        (0..self.operator_count() as u32).filter_map(move |i| self.operator(i).ok())
    }

    /// The op kind of operator `i` (`None` past the end).
    pub fn op(&self, i: u32) -> Option<Op> {
        self.operator(i).ok().map(|o| o.op)
    }
}

/// What [`TfLiteModel::stored`] reads of a tensor.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Stored<'m> {
    /// Element type.
    pub dtype: DType,
    /// Number of dimensions.
    pub rank: usize,
    /// The first dimension (`None` for a scalar).
    pub first: Option<u32>,
    /// Constant data (`None` for an activation).
    pub data: Option<&'m [u8]>,
}

/// A problem with tensor `i`.
#[cold]
#[inline(never)]
fn tensor_error<'m>(i: u32, kind: LoadErrorKind, r: &mut Result<TensorInfo<'m>, LoadError>) {
    *r = Err(LoadError::new(Site::Tensor(i), kind));
}

/// A zero-length vector for an absent optional list field.
fn empty_vector<'m>() -> Result<Vector<'m>, LoadError> {
    Vector::at(&[0, 0, 0, 0], 0, 4).map_err(|e| {
        LoadError::new(Site::File, LoadErrorKind::Malformed { field: "empty list", at: at(e) })
    })
}
