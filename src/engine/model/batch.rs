//! The real batch size of tensors between SPACE_TO_BATCH_ND and BATCH_TO_SPACE_ND.
//!
//! A dilated convolution converted from Keras arrives as SPACE_TO_BATCH_ND -> CONV_2D ->
//! BATCH_TO_SPACE_ND, and the converter writes the tensors in between with batch 1 (their
//! `shape_signature` says -1): TFLite fixes them when it resizes tensors in `Prepare`. We do the
//! same, statically: the batch of a tensor is followed up through batch-preserving operators to a
//! tensor whose stored shape is trusted, multiplied by the blocks of the SPACE_TO_BATCH_ND and
//! divided by those of the BATCH_TO_SPACE_ND on the way. Only the batch dimension is inferred;
//! models without these operators are not affected (and pay nothing).

use crate::engine::format::flatbuffer::Words;
use crate::engine::kernels::read_i32;
use crate::engine::model::operator::code;
use crate::engine::model::tensor::{DType, TensorInfo};
use crate::engine::model::TfLiteModel;

// This runs inside a tensor read (at the bottom of the deepest stack of loading and planning), so
// it reads only what it needs of tensors and operators (`TfLiteModel::stored`,
// `TfLiteModel::code_and_inputs`), never a whole `TensorInfo` or `OperatorInfo`.

/// The product of a constant int32 block-shape tensor's values.
fn block_volume(m: &TfLiteModel<'_>, t: Option<u32>) -> Option<u64> {
    let info = m.stored(t?)?;
    if info.dtype != DType::Int32 {
        return None;
    }
    // `load` checked that the data holds exactly one int32 per element.
    let data = info.data?;
    (0..data.len() / 4).try_fold(1u64, |acc, k| {
        let v = u64::try_from(read_i32(data, k)?).ok().filter(|&v| v > 0)?;
        acc.checked_mul(v)
    })
}

/// Tensor index of entry `k` of an operator's input list (`None` if absent).
fn input(m: &TfLiteModel<'_>, inputs: Words, k: usize) -> Option<u32> {
    inputs.vector(m.file()).i32(k).ok().and_then(|t| u32::try_from(t).ok())
}

/// The batch tensor `t` really has, when it differs from its stored shape; `None` otherwise.
pub fn effective_batch(m: &TfLiteModel<'_>, t: u32, stored: &TensorInfo<'_>) -> Option<u32> {
    let stored_batch = *stored.shape.dims().first()?;
    let (mut num, mut den) = (1u64, 1u64);
    let mut cur = t;
    let mut steps = 0usize;
    let base = loop {
        steps += 1;
        if steps > m.operator_count() + 1 {
            return None;
        }
        let producer = (0..m.operator_count() as u32).find(|&j| m.writes(j, cur));
        let Some((op, inputs)) = producer.and_then(|j| m.code_and_inputs(j)) else {
            break m.stored(cur)?.first?;
        };
        let next = match op {
            code::SPACE_TO_BATCH_ND => {
                num = num.checked_mul(block_volume(m, input(m, inputs, 1))?)?;
                input(m, inputs, 0)
            }
            code::BATCH_TO_SPACE_ND => {
                den = den.checked_mul(block_volume(m, input(m, inputs, 1))?)?;
                input(m, inputs, 0)
            }
            code::CONV_2D
            | code::DEPTHWISE_CONV_2D
            | code::AVERAGE_POOL_2D
            | code::MAX_POOL_2D
            | code::LOGISTIC
            | code::TANH
            | code::QUANTIZE
            | code::DEQUANTIZE => input(m, inputs, 0),
            code::ADD | code::MUL => {
                // Follow the operand with the output's rank (not a broadcast constant).
                let rank = m.stored(cur)?.rank;
                (0..inputs.len())
                    .filter_map(|k| input(m, inputs, k))
                    .find(|&x| m.stored(x).is_some_and(|i| i.data.is_none() && i.rank == rank))
            }
            _ => break m.stored(cur)?.first?,
        };
        cur = next?;
    };
    let total = (base as u64).checked_mul(num)?;
    if den == 0 || total % den != 0 {
        return None;
    }
    let batch = u32::try_from(total / den).ok()?;
    (batch != stored_batch).then_some(batch)
}
