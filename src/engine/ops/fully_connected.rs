//! FULLY_CONNECTED: `output[b][u] = requantize(bias[u] + sum_d (w[u][d] - zp_w)(x[b][d] - zp_x))`.
//!
//! Operands: int8 input (any rank, `batches x depth` row-major), int8 weights `[units, depth]`
//! (per-tensor, or per-channel along dimension 0 with zero points 0), optional int32 bias
//! `[units]`, int8 output with `batches x units` elements.

use super::{as_i8_mut, kernel_err, Needs, Operands, Prep};
use crate::engine::arith::QuantizedMultiplier;
use crate::engine::error::{LoadError, RunError};
use crate::engine::kernels::fc_prepared::rescale_of;
use crate::engine::kernels::fully_connected::{
    per_tensor_multiplier, FullyConnected, FullyConnectedDims,
};
use crate::engine::kernels::{conv_multiplier, sparse, I32Le, Requantize};
use crate::engine::operator::Op;
use crate::engine::record::{RecordReader, RecordWriter};
use crate::engine::tensor::DType;

#[inline(never)]
pub(super) fn prepare(p: &Prep<'_, '_>, w: &mut RecordWriter<'_>) -> Result<Needs, LoadError> {
    let Op::FullyConnected { activation, .. } = p.op.op else {
        return Err(p.shapes("not FULLY_CONNECTED"));
    };
    p.arity(2, 3)?;
    let (input, weights, bias, output) = (p.input(0)?, p.input(1)?, p.input_opt(2)?, p.output()?);
    let qi = p.int8(&input, "input must be int8, per-tensor quantized")?;
    let qo = p.int8(&output, "output must be int8, per-tensor quantized")?;
    p.dtype(&weights, DType::Int8, "weights must be int8")?;
    let wq = weights
        .quantization
        .ok_or(p.err(crate::engine::error::LoadErrorKind::Quantization("weights unquantized")))?;
    let dims = weights.shape.dims();
    if dims.len() != 2 {
        return Err(p.shapes("weights must be [units, depth]"));
    }
    let (units, depth) = (dims[0] as usize, dims[1] as usize);
    if depth == 0 || units == 0 || input.elements() % depth != 0 {
        return Err(p.shapes("input size is not a multiple of the weights' depth"));
    }
    let batches = input.elements() / depth;
    if Some(output.elements()) != batches.checked_mul(units)
        || output.shape.dims().last() != Some(&(units as u32))
    {
        return Err(p.shapes("output must be batches x units"));
    }
    if let Some(b) = &bias {
        p.dtype(b, DType::Int32, "bias must be int32")?;
        if b.elements() != units {
            return Err(p.shapes("bias must have one value per unit"));
        }
    }
    let per_channel = wq.len() > 1;
    let filter_zp = if per_channel {
        if wq.len() != units || (0..units).any(|c| wq.zero_point(c) != 0) {
            return Err(p.err(crate::engine::error::LoadErrorKind::Quantization(
                "per-channel weights need one scale per unit and zero points 0",
            )));
        }
        0
    } else {
        p.quant(&weights, "weights zero point out of range")?.zero_point
    };
    let fc = FullyConnected::new(qi.zero_point, filter_zp, qo.scale, qo.zero_point, activation)
        .map_err(|e| p.kernel(e))?;
    for v in
        [fc.input_offset, fc.filter_offset, fc.output_offset, fc.activation_min, fc.activation_max]
    {
        w.i32(v);
    }
    for v in [batches, depth, units] {
        w.usize(v);
    }
    // The multipliers, per tensor or per unit (as `write_channel_multipliers` computes them);
    // one that cannot be computed is refused below and would only lose the fast rescale here.
    let multiplier = |u: usize| {
        let m = if per_channel {
            conv_multiplier(qi.scale, wq.scale(u), qo.scale)
        } else {
            per_tensor_multiplier(qi.scale, wq.scale(0), qo.scale)
        };
        m.unwrap_or(QuantizedMultiplier { multiplier: 0, shift: 0 })
    };
    // Flags in one word: bias, per-channel multipliers, listed (sparse) weights, prepared
    // rescales (per-channel weights whose multipliers all have the one-instruction form, the
    // usual case: the packed kernel would otherwise derive that form unit by unit on every call;
    // with one multiplier it derives it once per call, which costs less than the prepared
    // path's setup on small layers).
    let filter = weights.data.map(super::as_i8).unwrap_or(&[]);
    let nonzero = sparse::nonzero(filter, fc.filter_offset).unwrap_or(usize::MAX);
    let listed = !cfg!(feature = "dense-only")
        && weights.data.is_some()
        && bias.is_none_or(|b| b.data.is_some())
        && sparse::worth_it(depth, nonzero, filter.len());
    let rescales = units;
    let rescaled = per_channel
        && !listed
        && (0..rescales).all(|u| rescale_of(multiplier(u), fc.output_offset).is_some());
    w.i32(
        bias.is_some() as i32
            | (per_channel as i32) << 1
            | (listed as i32) << 2
            | (rescaled as i32) << 3,
    );
    if per_channel {
        super::conv::write_channel_multipliers(p, w, qi.scale, wq.scales(), qo.scale, units)?;
    } else {
        let m = per_tensor_multiplier(qi.scale, wq.scale(0), qo.scale).map_err(|e| p.kernel(e))?;
        w.i32(m.multiplier);
        w.i32(m.shift);
    }
    if rescaled {
        for u in 0..rescales {
            w.i32(rescale_of(multiplier(u), fc.output_offset).unwrap_or(0));
        }
    }
    // Pruned weights (mostly zeros): list each unit's nonzero weights once, here, with the bias,
    // the zero-point term and the rescale folded into each unit's header, and run those instead
    // of the dense rows.
    if listed {
        let bytes = sparse::table_bytes(filter, depth, fc.filter_offset)
            .ok_or(p.shapes("weights cannot be listed"))?;
        w.usize(bytes);
        if let Some(table) = w.reserve(bytes) {
            let k = sparse::UnitConstants {
                input_offset: fc.input_offset,
                bias: bias.and_then(|b| b.data).map(I32Le),
                multiplier,
                output_offset: fc.output_offset,
            };
            if !sparse::write_table(filter, depth, fc.filter_offset, k, table) {
                return Err(p.shapes("weights cannot be listed"));
            }
        }
    }
    Ok(Needs::default())
}

#[inline(never)]
pub(super) fn eval(r: &mut RecordReader<'_>, io: Operands<'_>) -> Result<(), RunError> {
    let [input_offset, filter_offset, output_offset, activation_min, activation_max] =
        r.words::<5>()?;
    let fc = FullyConnected {
        input_offset,
        filter_offset,
        output_offset,
        activation_min,
        activation_max,
    };
    let [batches, depth, units, flags] = r.words::<4>()?;
    let count = |v: i32| usize::try_from(v).map_err(|_| RunError::Internal);
    let dims =
        FullyConnectedDims { batches: count(batches)?, depth: count(depth)?, units: count(units)? };
    let has_bias = flags & 1 != 0;
    let requantize = if flags & 2 != 0 {
        super::conv::read_channel_multipliers(r)?
    } else {
        let [multiplier, shift] = r.words::<2>()?;
        Requantize::PerTensor(crate::engine::arith::QuantizedMultiplier { multiplier, shift })
    };
    let bias = if has_bias { Some(I32Le(io.inputs.get(2)?)) } else { None };
    let (input, output) = (io.inputs.i8(0)?, as_i8_mut(io.output));
    if flags & 8 != 0 {
        let rescales = I32Le(r.bytes(dims.units.checked_mul(4).ok_or(RunError::Internal)?)?);
        fc.eval_rescaled(dims, requantize, rescales, input, io.inputs.i8(1)?, bias, output)
    } else if flags & 4 != 0 {
        let len = r.usize()?;
        let table = r.bytes(len)?;
        fc.eval_sparse(dims, requantize, input, table, output)
    } else {
        fc.eval(dims, requantize, input, io.inputs.i8(1)?, bias, output)
    }
    .map_err(kernel_err)
}
