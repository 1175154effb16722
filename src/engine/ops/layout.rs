//! Operators that only describe shapes: RESHAPE, EXPAND_DIMS and SQUEEZE (the output shares the
//! input's memory, nothing runs) and SHAPE (writes the input's static shape).

use super::{Needs, Operands, Prep};
use crate::engine::error::{LoadError, LoadErrorKind, RunError};
use crate::engine::model::operator::Op;
use crate::engine::model::tensor::DType;
use crate::engine::record::{RecordReader, RecordWriter};

/// Checks a reshape-like operator: same type, element count and quantization; the planner
/// makes the output an alias of the input.
#[inline(never)]
pub(super) fn prepare_reshape(p: &Prep<'_, '_>) -> Result<Needs, LoadError> {
    let max_inputs = if p.op.op == Op::Squeeze { 1 } else { 2 };
    p.arity(1, max_inputs)?;
    let (input, output) = (p.input(0)?, p.output()?);
    if input.dtype != output.dtype {
        return Err(p.err(LoadErrorKind::Types("input and output types differ")));
    }
    if input.elements() != output.elements() {
        return Err(p.shapes("input and output element counts differ"));
    }
    let same_quant = match (input.quantization, output.quantization) {
        (None, None) => true,
        (Some(a), Some(b)) => {
            a.len() == b.len()
                && (0..a.len())
                    .all(|i| a.scale(i) == b.scale(i) && a.zero_point(i) == b.zero_point(i))
        }
        _ => false,
    };
    if !same_quant {
        return Err(p.err(LoadErrorKind::Quantization("input and output quantization differ")));
    }
    Ok(Needs::default())
}

/// SHAPE: the output (int32 or int64, `[rank]`) receives the input's dimensions, known at load.
#[inline(never)]
pub(super) fn prepare_shape(
    p: &Prep<'_, '_>,
    w: &mut RecordWriter<'_>,
) -> Result<Needs, LoadError> {
    p.arity(1, 1)?;
    let (input, output) = (p.input(0)?, p.output()?);
    let rank = input.shape.dims().len();
    if output.shape.dims() != [rank as u32] {
        return Err(p.shapes("output must be [rank of input]"));
    }
    let wide = match output.dtype {
        DType::Int32 => false,
        DType::Int64 => true,
        _ => return Err(p.err(LoadErrorKind::Types("output must be int32 or int64"))),
    };
    w.usize(output.bytes());
    for &d in input.shape.dims() {
        if wide {
            w.bytes(&(d as i64).to_le_bytes());
        } else {
            w.bytes(&(d as i32).to_le_bytes());
        }
    }
    Ok(Needs::default())
}

#[inline(never)]
pub(super) fn eval_shape(r: &mut RecordReader<'_>, io: Operands<'_>) -> Result<(), RunError> {
    let n = r.usize()?;
    let bytes = r.bytes(n)?;
    if io.output.len() != n {
        return Err(RunError::Internal);
    }
    io.output.copy_from_slice(bytes);
    Ok(())
}
