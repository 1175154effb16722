//! The real batch size of tensors between SPACE_TO_BATCH_ND and BATCH_TO_SPACE_ND.
//!
//! A dilated convolution converted from Keras arrives as SPACE_TO_BATCH_ND -> CONV_2D ->
//! BATCH_TO_SPACE_ND, and the converter writes the tensors in between with batch 1 (their
//! `shape_signature` says -1): TFLite fixes them when it resizes tensors in `Prepare`. We do the
//! same, statically: the batch of a tensor is followed up through batch-preserving operators to a
//! tensor whose stored shape is trusted, multiplied by the blocks of the SPACE_TO_BATCH_ND and
//! divided by those of the BATCH_TO_SPACE_ND on the way. Only the batch dimension is inferred;
//! models without these operators are not affected (and pay nothing).

use crate::engine::kernels::read_i32;
use crate::engine::loader::TfLiteModel;
use crate::engine::operator::Op;
use crate::engine::tensor::{DType, TensorInfo};

/// The product of a constant int32 block-shape tensor's values.
fn block_volume(m: &TfLiteModel<'_>, t: Option<u32>) -> Option<u64> {
    let info = m.raw_tensor(t?).ok()?;
    if info.dtype != DType::Int32 {
        return None;
    }
    let data = info.data?;
    (0..info.elements()).try_fold(1u64, |acc, k| {
        let v = u64::try_from(read_i32(data, k)?).ok().filter(|&v| v > 0)?;
        acc.checked_mul(v)
    })
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
        let Some(op) = producer.and_then(|j| m.operator(j).ok()) else {
            break m.raw_tensor(cur).ok()?.shape.dims().first().copied()?;
        };
        let next = match op.op {
            Op::SpaceToBatchNd => {
                num = num.checked_mul(block_volume(m, op.input(1))?)?;
                op.input(0)
            }
            Op::BatchToSpaceNd => {
                den = den.checked_mul(block_volume(m, op.input(1))?)?;
                op.input(0)
            }
            Op::Conv2d(_)
            | Op::DepthwiseConv2d { .. }
            | Op::AveragePool2d(_)
            | Op::MaxPool2d(_)
            | Op::Logistic
            | Op::Tanh
            | Op::Quantize
            | Op::Dequantize => op.input(0),
            Op::Add { .. } | Op::Mul { .. } => {
                // Follow the operand with the output's rank (not a broadcast constant).
                let rank = m.raw_tensor(cur).ok()?.shape.dims().len();
                op.inputs().flatten().find(|&x| {
                    m.raw_tensor(x).is_ok_and(|i| !i.is_constant() && i.shape.dims().len() == rank)
                })
            }
            _ => break m.raw_tensor(cur).ok()?.shape.dims().first().copied()?,
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
