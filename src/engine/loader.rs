//! [`TfLiteModel`]: a checked, zero-copy view of a `.tflite` file.
//!
//! [`TfLiteModel::load`] validates the whole file once: header, schema version, every FlatBuffer
//! offset and length the engine reads, every tensor (type, shape, size, buffer, quantization),
//! every operator (code, version, options, operand indices, operand types and shapes), and the
//! data flow of the graph (no operator reads its own output or a tensor nobody wrote before it, no
//! tensor is written twice, every output is produced). Weights stay where they are in the file.
//! After `load` succeeds nothing about the model can fail except the arena size.
//!
//! It does not plan memory or run anything: see [`planner`](crate::engine::planner) and
//! [`Interpreter`](crate::engine::Interpreter).

use crate::engine::error::{LoadError, LoadErrorKind, RunError, Site};
use crate::engine::flatbuffer::{self, FbError, Table, Vector};
use crate::engine::operator::{parse_op, resolve_code, Op, OperatorInfo};
use crate::engine::schema::{model, operator, operator_name, subgraph};
use crate::engine::tensor::{read_tensor, DType, TensorInfo};

/// A validated TFLite model, borrowing the file bytes (flash or RAM) for `'m`.
#[derive(Clone, Copy, Debug)]
pub struct TfLiteModel<'m> {
    file: &'m [u8],
    codes: Vector<'m>,
    buffers: Vector<'m>,
    tensors: Vector<'m>,
    operators: Vector<'m>,
    inputs: Vector<'m>,
    outputs: Vector<'m>,
    /// True once the operators are checked, if the model has SPACE_TO_BATCH_ND or
    /// BATCH_TO_SPACE_ND: batch sizes are then inferred (see `batch`).
    infer_batch: bool,
}

fn at(e: FbError) -> u32 {
    u32::try_from(e.at).unwrap_or(u32::MAX)
}

fn count(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

impl<'m> TfLiteModel<'m> {
    /// Checks `file` completely and returns the view; see the module docs for what is checked.
    ///
    /// Errors name what is wrong and where (tensor or operator index). Float32 and
    /// dynamic-range models are refused with [`LoadErrorKind::FloatModel`] /
    /// [`LoadErrorKind::DynamicRangeModel`], whose message says how to convert them.
    pub fn load(file: &'m [u8]) -> Result<TfLiteModel<'m>, LoadError> {
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
        let sg_err = |kind| LoadError::new(Site::Subgraph, kind);
        let inputs = vector(&sg, subgraph::INPUTS, "subgraph inputs")?;
        let outputs = vector(&sg, subgraph::OUTPUTS, "subgraph outputs")?;
        let operators = sg
            .vector(subgraph::OPERATORS, 4)
            .map_err(malformed("operators"))?
            .map_or_else(empty_vector, Ok)?;

        let mut m = TfLiteModel {
            file,
            codes,
            buffers,
            tensors,
            operators,
            inputs,
            outputs,
            infer_batch: false,
        };
        for i in 0..codes.len() {
            let site = Site::OperatorCode(count(i));
            let c = codes.table(i).map_err(|e| {
                LoadError::new(site, LoadErrorKind::Malformed { field: "operator code", at: at(e) })
            })?;
            resolve_code(c).map_err(|k| LoadError::new(site, k))?;
        }
        for i in 0..buffers.len() {
            let site = Site::Buffer(count(i));
            let b = buffers.table(i).map_err(|e| {
                LoadError::new(site, LoadErrorKind::Malformed { field: "buffer", at: at(e) })
            })?;
            crate::engine::tensor::buffer_data(file, b).map_err(|k| LoadError::new(site, k))?;
        }
        for i in 0..tensors.len() {
            m.tensor(i as u32)?;
        }
        if inputs.is_empty() || outputs.is_empty() {
            return Err(sg_err(LoadErrorKind::NoInputsOrOutputs));
        }
        for (list, field) in [(inputs, "subgraph input"), (outputs, "subgraph output")] {
            for j in 0..list.len() {
                let t = list.i32(j).map_err(malformed(field))?;
                if t < 0 || t as usize >= tensors.len() {
                    return Err(sg_err(LoadErrorKind::IndexOutOfRange {
                        field,
                        index: t as i64,
                        len: count(tensors.len()),
                    }));
                }
            }
        }
        for i in 0..operators.len() {
            m.operator(i as u32)?;
        }
        let has_space_to_batch =
            m.operators().any(|o| matches!(o.op, Op::SpaceToBatchNd | Op::BatchToSpaceNd));
        m.infer_batch = has_space_to_batch;
        if m.infer_batch {
            for i in 0..tensors.len() {
                m.tensor(i as u32)?;
            }
        }
        crate::engine::graph::check_data_flow(&m)?;
        crate::engine::graph::check_integer_model(&m)?;
        for i in 0..operators.len() {
            let op = m.operator(i as u32)?;
            crate::engine::ops::check(&m, &op)?;
        }
        Ok(m)
    }

    /// The model file.
    pub fn file(&self) -> &'m [u8] {
        self.file
    }

    /// Number of tensors in the main subgraph.
    pub fn tensor_count(&self) -> usize {
        self.tensors.len()
    }

    /// Tensor `i` (checked again; cannot fail for `i < tensor_count()` after `load`).
    pub fn tensor(&self, i: u32) -> Result<TensorInfo<'m>, LoadError> {
        let mut info = self.raw_tensor(i)?;
        if self.infer_batch {
            if let Some(batch) = crate::engine::batch::effective_batch(self, i, &info) {
                let mut dims = [0u32; crate::model::Shape::MAX_RANK];
                let d = info.shape.dims();
                dims[..d.len()].copy_from_slice(d);
                dims[0] = batch;
                let too_large = LoadError::new(Site::Tensor(i), LoadErrorKind::TooLarge);
                info.shape = crate::model::Shape::new(&dims[..d.len()]).ok_or(too_large)?;
                let bytes = info.shape.elements().and_then(|n| n.checked_mul(info.dtype.size()));
                if bytes.is_none_or(|b| b > crate::engine::tensor::MAX_TENSOR_BYTES) {
                    return Err(too_large);
                }
            }
        }
        Ok(info)
    }

    /// Tensor `i` exactly as stored in the file (no batch inference).
    pub(crate) fn raw_tensor(&self, i: u32) -> Result<TensorInfo<'m>, LoadError> {
        let site = Site::Tensor(i);
        let t = self.tensors.table(i as usize).map_err(|e| {
            LoadError::new(
                site,
                if (i as usize) < self.tensors.len() {
                    LoadErrorKind::Malformed { field: "tensor", at: at(e) }
                } else {
                    LoadErrorKind::IndexOutOfRange {
                        field: "tensor",
                        index: i as i64,
                        len: count(self.tensors.len()),
                    }
                },
            )
        })?;
        read_tensor(self.file, t, self.buffers).map_err(|k| LoadError::new(site, k))
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
        let t = self.operators.table(i as usize).map_err(malformed("operator"))?;
        let code_index = t.u32(operator::OPCODE_INDEX, 0).map_err(malformed("opcode_index"))?;
        let c = self.codes.table(code_index as usize).map_err(|_| {
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
        let op = parse_op(code, version, t).map_err(|k| LoadError::new(site, k))?;
        let malformed = |field| {
            move |e: FbError| LoadError::new(site, LoadErrorKind::Malformed { field, at: at(e) })
        };
        let empty = Vector::at(&[0, 0, 0, 0], 0, 4).map_err(malformed("operands"))?;
        let inputs = t.vector(operator::INPUTS, 4).map_err(malformed("operator inputs"))?;
        let outputs = t.vector(operator::OUTPUTS, 4).map_err(malformed("operator outputs"))?;
        if t.vector(operator::INTERMEDIATES, 4)
            .map_err(malformed("operator intermediates"))?
            .is_some_and(|v| !v.is_empty())
        {
            return Err(LoadError::new(
                site,
                LoadErrorKind::UnsupportedOption("intermediate tensors"),
            ));
        }
        let (inputs, outputs) = (inputs.unwrap_or(empty), outputs.unwrap_or(empty));
        for (list, field, optional) in
            [(inputs, "operator input", true), (outputs, "operator output", false)]
        {
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
        Ok(OperatorInfo { index: i, code, version, op, inputs, outputs })
    }

    /// True if operator `j` lists tensor `t` among its outputs (a cheap read: no option parsing;
    /// false for anything unreadable).
    pub(crate) fn writes(&self, j: u32, t: u32) -> bool {
        let Ok(op) = self.operators.table(j as usize) else { return false };
        let Ok(Some(outs)) = op.vector(operator::OUTPUTS, 4) else { return false };
        (0..outs.len()).any(|k| outs.i32(k).ok() == Some(t as i32))
    }

    /// Number of graph inputs.
    pub fn input_count(&self) -> usize {
        self.inputs.len()
    }

    /// Tensor index of graph input `j`.
    pub fn input(&self, j: usize) -> Option<u32> {
        self.inputs.i32(j).ok().and_then(|t| u32::try_from(t).ok())
    }

    /// Number of graph outputs.
    pub fn output_count(&self) -> usize {
        self.outputs.len()
    }

    /// Tensor index of graph output `j`.
    pub fn output(&self, j: usize) -> Option<u32> {
        self.outputs.i32(j).ok().and_then(|t| u32::try_from(t).ok())
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

    /// Bytes of arena the model needs ([`Interpreter::new`](crate::engine::Interpreter::new) with
    /// exactly this many bytes succeeds, one fewer fails). Plans on the stack (see
    /// [`planner`](crate::engine::planner) for the limit); with more buffers than that, use
    /// [`arena_size_with_scratch`](TfLiteModel::arena_size_with_scratch).
    pub fn arena_size(&self) -> Result<usize, RunError> {
        crate::engine::planner::arena_size_on_stack(self)
    }

    /// As [`arena_size`](TfLiteModel::arena_size), planning in `scratch` (which needs
    /// [`planner::scratch_bytes`](crate::engine::planner::scratch_bytes) bytes).
    pub fn arena_size_with_scratch(&self, scratch: &mut [u8]) -> Result<usize, RunError> {
        crate::engine::planner::layout(self, scratch).map(|l| l.total)
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

/// A zero-length vector for an absent optional list field.
fn empty_vector<'m>() -> Result<Vector<'m>, LoadError> {
    Vector::at(&[0, 0, 0, 0], 0, 4).map_err(|e| {
        LoadError::new(Site::File, LoadErrorKind::Malformed { field: "empty list", at: at(e) })
    })
}
