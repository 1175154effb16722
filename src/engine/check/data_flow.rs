//! Whole-graph checks run by [`TfLiteModel::load`]: the data flow (every tensor is written once,
//! before it is read, never by the operator reading it) and the numeric kind of each operator
//! (full-integer; float32 and dynamic-range only where this build has their kernels, feature
//! `op-float`).

use crate::engine::error::{LoadError, LoadErrorKind, Site};
use crate::engine::model::operator::{Op, OperatorInfo};
use crate::engine::model::tensor::DType;
use crate::engine::model::TfLiteModel;

fn site(op: &OperatorInfo<'_>) -> Site {
    Site::Operator { index: op.index, name: op.name() }
}

/// True if an operator before `before` writes tensor `t`.
fn written_before(m: &TfLiteModel<'_>, t: u32, before: u32) -> bool {
    (0..before).any(|j| m.writes(j, t))
}

/// A variable (state) tensor holds a value before any operator runs, and is updated in place by
/// the one operator that keeps it: an LSTM, as its output or cell state (inputs 18 and 19). Any
/// other use is refused: the planner keeps a state tensor with the operator that owns it.
#[inline(never)]
fn check_variable_use(m: &TfLiteModel<'_>, op: &OperatorInfo<'_>) -> Result<(), LoadError> {
    for (j, t) in op.inputs().enumerate() {
        let Some(t) = t else { continue };
        if !m.is_variable(t) {
            continue;
        }
        let state_slot = matches!(op.op, Op::UnidirectionalSequenceLstm(_)) && (j == 18 || j == 19);
        let shared = (0..m.operator_count() as u32)
            .filter(|&k| k != op.index)
            .filter_map(|k| m.operator(k).ok())
            .any(|other| other.inputs().any(|i| i == Some(t)))
            || op.inputs().enumerate().any(|(k, i)| k != j && i == Some(t));
        if !state_slot || shared || m.is_input(t) || facts(m, t)?.1 {
            return Err(LoadError::new(site(op), LoadErrorKind::Variable));
        }
    }
    Ok(())
}

/// Tensor `t`'s type, whether it is a constant, and its element count.
///
/// Out of line (as every helper here): the tensor read is the deepest part of these checks, and
/// its result stays in this small frame instead of the callers' (see `loader` on the stack).
#[inline(never)]
fn facts(m: &TfLiteModel<'_>, t: u32) -> Result<(DType, bool, usize), LoadError> {
    let info = m.tensor(t)?;
    Ok((info.dtype, info.is_constant(), info.elements()))
}

/// True if tensor `t` holds a value before any operator runs (graph input, constant, or, in a
/// build with the LSTM, a variable tensor: an LSTM's state, updated in place and never written as
/// an output). Without the LSTM a variable tensor is an ordinary one: read before it is written,
/// it is refused (`ReadBeforeWritten`).
fn initially_defined(m: &TfLiteModel<'_>, t: u32) -> Result<bool, LoadError> {
    Ok(m.is_input(t) || facts(m, t)?.1 || (cfg!(feature = "op-lstm") && m.is_variable(t)))
}

/// Refuses a non-constant tensor without elements.
fn check_not_empty(m: &TfLiteModel<'_>, t: u32, site: Site) -> Result<(), LoadError> {
    let (_, constant, elements) = facts(m, t)?;
    if !constant && elements == 0 {
        return Err(LoadError::new(site, LoadErrorKind::EmptyTensor(t)));
    }
    Ok(())
}

/// Checks the data flow of the graph, in execution order.
#[inline(never)]
pub fn check_data_flow(m: &TfLiteModel<'_>) -> Result<(), LoadError> {
    for j in 0..m.input_count() {
        let t = m.input(j).unwrap_or(u32::MAX);
        if facts(m, t)?.1 {
            return Err(LoadError::new(Site::Subgraph, LoadErrorKind::ConstantInput(t)));
        }
        check_not_empty(m, t, Site::Subgraph)?;
    }
    for j in 0..m.output_count() {
        check_not_empty(m, m.output(j).unwrap_or(u32::MAX), Site::Subgraph)?;
    }
    for i in 0..m.operator_count() as u32 {
        check_operator_flow(m, i)?;
    }
    for j in 0..m.output_count() {
        let t = m.output(j).unwrap_or(u32::MAX);
        if !initially_defined(m, t)? && !written_before(m, t, m.operator_count() as u32) {
            return Err(LoadError::new(Site::Subgraph, LoadErrorKind::NeverWritten(t)));
        }
    }
    Ok(())
}

/// The data flow through operator `i` (its operands checked by `load` already).
#[inline(never)]
fn check_operator_flow(m: &TfLiteModel<'_>, i: u32) -> Result<(), LoadError> {
    let Ok(op) = m.operator(i) else { return Ok(()) };
    let site = site(&op);
    if op.output_count() == 0 {
        return Err(LoadError::new(
            site,
            LoadErrorKind::Arity { inputs: op.input_count() as u32, outputs: 0 },
        ));
    }
    for t in op.inputs().flatten().chain(op.outputs().flatten()) {
        check_not_empty(m, t, site)?;
    }
    if cfg!(feature = "op-lstm") {
        check_variable_use(m, &op)?;
    }
    for t in op.inputs().flatten() {
        if op.outputs().any(|o| o == Some(t)) {
            return Err(LoadError::new(site, LoadErrorKind::ReadsOwnOutput(t)));
        }
        if !initially_defined(m, t)? && !written_before(m, t, op.index) {
            return Err(LoadError::new(site, LoadErrorKind::ReadBeforeWritten(t)));
        }
    }
    for (k, t) in op.outputs().enumerate() {
        let t = t.ok_or(LoadError::new(site, LoadErrorKind::Missing("operator output")))?;
        let twice_in_op = op.outputs().take(k).any(|o| o == Some(t));
        if twice_in_op || initially_defined(m, t)? || written_before(m, t, op.index) {
            return Err(LoadError::new(site, LoadErrorKind::WrittenTwice(t)));
        }
    }
    Ok(())
}

/// Refuses the float32 and dynamic-range operators this build cannot run: without `op-float`,
/// float tensors may only enter through QUANTIZE and leave through DEQUANTIZE; with it, an
/// operator with float32 operands must have a float kernel
/// ([`float_built`](crate::engine::model::operator::float_built)), and one that also has int8
/// constants (weights) a hybrid one.
#[inline(never)]
pub fn check_integer_model(m: &TfLiteModel<'_>) -> Result<(), LoadError> {
    for i in 0..m.operator_count() as u32 {
        check_operator_kind(m, i)?;
    }
    Ok(())
}

/// [`check_integer_model`] at operator `i`.
#[inline(never)]
fn check_operator_kind(m: &TfLiteModel<'_>, i: u32) -> Result<(), LoadError> {
    let Ok(op) = m.operator(i) else { return Ok(()) };
    // Conversions are float on one side by definition; a custom operator's types are its
    // registered kernel's business.
    if matches!(op.op, Op::Quantize | Op::Dequantize | Op::Custom) {
        return Ok(());
    }
    let mut float_activation = false;
    let mut int8_weights = false;
    for t in op.inputs().chain(op.outputs()).flatten() {
        match facts(m, t)? {
            (DType::Float32, _, _) => float_activation = true,
            (DType::Int8, true, _) => int8_weights = true,
            // int16 is an LSTM's cell state, nothing else.
            (DType::Int16, _, _) if !matches!(op.op, Op::UnidirectionalSequenceLstm(_)) => {
                return Err(LoadError::new(site(&op), LoadErrorKind::Types("int16 tensor")));
            }
            _ => {}
        }
    }
    if float_activation {
        if let Some(kind) = refusal(op.code, int8_weights, cfg!(feature = "op-float")) {
            return Err(LoadError::new(site(&op), kind));
        }
    }
    Ok(())
}

/// Why an operator with float32 activations (and int8 weights, if `int8_weights`) is refused
/// in a build with (`float`) or without the `op-float` feature, `None` if it runs.
const fn refusal(code: i32, int8_weights: bool, float: bool) -> Option<LoadErrorKind> {
    use crate::engine::model::operator::{float_kernel, hybrid_kernel};
    if int8_weights {
        if float && hybrid_kernel(code) {
            None
        } else {
            Some(LoadErrorKind::DynamicRangeModel)
        }
    } else if float && float_kernel(code) {
        None
    } else {
        Some(LoadErrorKind::FloatModel)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::model::operator::code;

    /// Without `op-float` every float32 or dynamic-range operator is refused; with it, those
    /// with kernels run and the others keep their typed refusal.
    #[test]
    fn float_operators_are_refused_exactly_where_no_kernel_is_built() {
        use LoadErrorKind::{DynamicRangeModel, FloatModel};
        for c in [code::CONV_2D, code::FULLY_CONNECTED, code::MEAN, code::SOFTMAX, code::PAD] {
            assert_eq!(refusal(c, false, false), Some(FloatModel), "{c}");
            assert_eq!(refusal(c, false, true), None, "{c}");
            assert_eq!(refusal(c, true, false), Some(DynamicRangeModel), "{c}");
        }
        for c in [code::FULLY_CONNECTED, code::CONV_2D, code::DEPTHWISE_CONV_2D] {
            assert_eq!(refusal(c, true, true), None, "{c}");
        }
        for c in [code::ADD, code::MEAN, code::AVERAGE_POOL_2D] {
            assert_eq!(refusal(c, true, true), Some(DynamicRangeModel), "{c}");
        }
        // SHAPE and the conversions have no float kernel of their own here.
        assert_eq!(refusal(code::SHAPE, false, true), Some(FloatModel));
        // The build's own answer is the one `load` gives.
        let on = cfg!(feature = "op-float");
        assert_eq!(refusal(code::CONV_2D, false, on).is_none(), on);
    }
}
