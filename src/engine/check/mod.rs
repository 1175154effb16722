//! The check layer: what a model must satisfy as a whole before anything prepares or runs it.
//!
//! `TfLiteModel::check` validates, in order: every operator code and buffer; every tensor
//! (type, shape, size, buffer, quantization); the graph's inputs and outputs; every operator's
//! code, version, options and operand indices; the batch sizes a SPACE_TO_BATCH_ND /
//! BATCH_TO_SPACE_ND pair implies (inferred once the operators are known, see
//! [`batch`](crate::engine::model::batch)); the data flow ([`data_flow`]: no operator reads its
//! own output or a tensor nobody wrote before it, no tensor is written twice, every output is
//! produced) and the numeric kind of the model; then each operator's own check, passed in by the
//! layer above (the [`ops`](crate::engine) layer's preparation in counting mode), so this layer
//! does not depend on the operators.
//!
//! [`cost`] reads what one inference costs from the checked model.

pub mod cost;
pub mod data_flow;

use crate::engine::error::{LoadError, LoadErrorKind, Site};
use crate::engine::model::operator::{resolve_code, Op, OperatorInfo};
use crate::engine::model::tensor::buffer_data;
use crate::engine::model::{at, count, TfLiteModel};

/// One operator's own check (its preparation without writing), run after the whole-graph checks.
pub type OperatorCheck =
    for<'a, 'm> fn(&'a TfLiteModel<'m>, &'a OperatorInfo<'m>) -> Result<(), LoadError>;

impl TfLiteModel<'_> {
    /// Everything [`TfLiteModel::load`] checks after locating the lists, in order (see the
    /// module docs); `operator` is each operator's own check (its preparation, from the layer
    /// above), run last, on operands the earlier checks have validated.
    pub(in crate::engine) fn check(&mut self, operator: OperatorCheck) -> Result<(), LoadError> {
        self.check_codes_and_buffers()?;
        for i in 0..self.tensors.len() {
            self.check_tensor(i as u32)?;
        }
        self.check_graph_io()?;
        for i in 0..self.operators.len() {
            self.check_operator_fields(i as u32)?;
        }
        self.infer_batch = self.has_space_to_batch();
        if self.infer_batch {
            for i in 0..self.tensors.len() {
                self.check_tensor(i as u32)?;
            }
        }
        data_flow::check_data_flow(self)?;
        data_flow::check_integer_model(self)?;
        for i in 0..self.operators.len() {
            self.check_operator(i as u32, operator)?;
        }
        Ok(())
    }

    /// Every operator code and every buffer.
    #[inline(never)]
    fn check_codes_and_buffers(&self) -> Result<(), LoadError> {
        for i in 0..self.codes.len() {
            let site = Site::OperatorCode(count(i));
            let c = self.codes.vector(self.file).table(i).map_err(|e| {
                LoadError::new(site, LoadErrorKind::Malformed { field: "operator code", at: at(e) })
            })?;
            resolve_code(c).map_err(|k| LoadError::new(site, k))?;
        }
        for i in 0..self.buffers.len() {
            let site = Site::Buffer(count(i));
            let b = self.buffers.vector(self.file).table(i).map_err(|e| {
                LoadError::new(site, LoadErrorKind::Malformed { field: "buffer", at: at(e) })
            })?;
            buffer_data(self.file, b).map_err(|k| LoadError::new(site, k))?;
        }
        Ok(())
    }

    /// Tensor `i` reads without error.
    #[inline(never)]
    fn check_tensor(&self, i: u32) -> Result<(), LoadError> {
        self.tensor(i).map(|_| ())
    }

    /// The graph's inputs and outputs: at least one each, every index in range.
    #[inline(never)]
    fn check_graph_io(&self) -> Result<(), LoadError> {
        let sg_err = |kind| LoadError::new(Site::Subgraph, kind);
        if self.inputs.is_empty() || self.outputs.is_empty() {
            return Err(sg_err(LoadErrorKind::NoInputsOrOutputs));
        }
        for (list, field) in [(self.inputs, "subgraph input"), (self.outputs, "subgraph output")] {
            for j in 0..list.len() {
                let t = list.vector(self.file).i32(j).map_err(|e| {
                    LoadError::new(Site::File, LoadErrorKind::Malformed { field, at: at(e) })
                })?;
                if t < 0 || t as usize >= self.tensors.len() {
                    return Err(sg_err(LoadErrorKind::IndexOutOfRange {
                        field,
                        index: t as i64,
                        len: count(self.tensors.len()),
                    }));
                }
            }
        }
        Ok(())
    }

    /// Operator `i`'s code, version, options and operand indices.
    #[inline(never)]
    fn check_operator_fields(&self, i: u32) -> Result<(), LoadError> {
        self.operator(i).map(|_| ())
    }

    /// True if an operator is SPACE_TO_BATCH_ND or BATCH_TO_SPACE_ND (batch sizes are then
    /// inferred).
    #[inline(never)]
    fn has_space_to_batch(&self) -> bool {
        (0..self.operators.len() as u32)
            .any(|i| matches!(self.op(i), Some(Op::SpaceToBatchNd | Op::BatchToSpaceNd)))
    }

    /// Operator `i`'s operands, exactly as its preparation will use them.
    #[inline(never)]
    fn check_operator(&self, i: u32, operator: OperatorCheck) -> Result<(), LoadError> {
        // The operator is used where it lies in the result (no copy in this frame, under which
        // the operator's checks read its tensors).
        let r = self.operator(i);
        let op = match &r {
            Ok(op) => op,
            Err(e) => return Err(*e),
        };
        operator(self, op)
    }
}
