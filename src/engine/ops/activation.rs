//! SOFTMAX (over the last dimension), LOGISTIC and TANH on int8 tensors.
//!
//! The output quantization is fixed by TFLite for int8: SOFTMAX and LOGISTIC write `1/256` with
//! zero point -128, TANH writes `1/128` with zero point 0; other output parameters are refused.
//! LOGISTIC and TANH run from a 256-entry table built at load time.

use super::{as_i8_mut, kernel_err, Needs, Operands, Prep};
use crate::engine::error::{LoadError, LoadErrorKind, RunError};
use crate::engine::kernels::lut::{self, ActivationTable};
use crate::engine::kernels::softmax::Softmax;
use crate::engine::model::operator::{code, Op};
use crate::engine::record::{word, RecordReader, RecordWriter};
use bytemuck::{Pod, Zeroable};

#[inline(never)]
pub(super) fn prepare(p: &Prep<'_, '_>, w: &mut RecordWriter<'_>) -> Result<Needs, LoadError> {
    p.arity(1, 1)?;
    let (input, output) = (p.input(0)?, p.output()?);
    let qi = p.int8(&input, "input must be int8, per-tensor quantized")?;
    let qo = p.int8(&output, "output must be int8, per-tensor quantized")?;
    if input.shape != output.shape {
        return Err(p.shapes("input and output shapes differ"));
    }
    let (scale, zero_point) = match p.op.op {
        Op::Tanh => (1.0 / 128.0, 0),
        _ => (1.0 / 256.0, -128),
    };
    if qo.scale != scale || qo.zero_point != zero_point {
        return Err(p.err(LoadErrorKind::Quantization(
            "output must be quantized with 1/256, -128 (1/128, 0 for TANH)",
        )));
    }
    match p.op.op {
        Op::Softmax { beta } if super::built(code::SOFTMAX) => {
            let depth = input.shape.dims().last().copied().unwrap_or(1) as usize;
            if depth == 0 {
                return Err(p.shapes("empty softmax axis"));
            }
            let k = Softmax::new(beta, qi.scale).map_err(|e| p.kernel(e))?;
            w.pod(&SoftmaxRecord { softmax: k, depth: word(depth) });
        }
        Op::Logistic | Op::Tanh if super::built(code::LOGISTIC) => {
            // Computed straight into the record (no 256-byte table on the stack).
            let tanh = p.op.op == Op::Tanh;
            let (si, zi, so, zo) = (qi.scale, qi.zero_point, qo.scale, qo.zero_point);
            lut::write_table(tanh, si, zi, so, zo, w.reserve(256)).map_err(|e| p.kernel(e))?;
        }
        _ => return Err(p.shapes("not an activation")),
    }
    Ok(Needs::default())
}

/// SOFTMAX's parameters (the whole record). LOGISTIC's and TANH's record is their 256-entry
/// table alone.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Pod, Zeroable)]
#[repr(C)]
pub(super) struct SoftmaxRecord {
    /// The kernel's parameters.
    pub softmax: Softmax,
    /// Elements of the last dimension (the softmax axis).
    pub depth: u32,
}

#[inline(never)]
pub(super) fn eval(
    op_code: i32,
    r: &mut RecordReader<'_>,
    io: Operands<'_>,
) -> Result<(), RunError> {
    let input = io.inputs.i8(0)?;
    let output = as_i8_mut(io.output);
    if op_code == code::SOFTMAX && super::built(code::SOFTMAX) {
        let rec: SoftmaxRecord = r.pod()?;
        rec.softmax.eval(input, output, rec.depth as usize).map_err(kernel_err)
    } else if super::built(code::LOGISTIC) {
        let table: [i8; 256] = r.pod()?;
        ActivationTable { table }.eval(input, output).map_err(kernel_err)
    } else {
        Err(RunError::Internal)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::record::assert_round_trip;

    #[test]
    fn the_records_round_trip() {
        let softmax =
            Softmax { input_multiplier: 0x6000_0000, input_left_shift: 21, diff_min: -992 };
        let rec = SoftmaxRecord { softmax, depth: 3 };
        assert_round_trip(&rec);
        let mut table = [0i8; 256];
        for (i, t) in table.iter_mut().enumerate() {
            *t = i as u8 as i8;
        }
        assert_round_trip(&table);
    }
}
