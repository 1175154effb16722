//! FULLY_CONNECTED: `output[b][u] = requantize(bias[u] + sum_d (w[u][d] - zp_w)(x[b][d] - zp_x))`.
//!
//! Operands: int8 input (any rank, `batches x depth` row-major), int8 weights `[units, depth]`
//! (per-tensor, or per-channel along dimension 0 with zero points 0), optional int32 bias
//! `[units]`, int8 output with `batches x units` elements.

use super::{as_i8_mut, kernel_err, KernelUse, Needs, Operands, Prep};
use crate::engine::arith::QuantizedMultiplier;
use crate::engine::error::{LoadError, RunError};
use crate::engine::kernels::fully_connected::{
    self as fc_kernel, per_tensor_multiplier, rescale_of, sparse, Facts as KernelFacts, FcOperands,
    FullyConnected, FullyConnectedDims, Variant,
};
use crate::engine::kernels::{conv_multiplier, Choice, I32Le, KernelVariant, Requantize};
use crate::engine::model::operator::Op;
use crate::engine::model::tensor::{DType, Quantization};
use crate::engine::record::{word, RecordReader, RecordWriter};
use crate::model::QuantParams;
use bytemuck::{CheckedBitPattern, NoUninit};

/// What FULLY_CONNECTED's record is made from, read from its operands by [`operands`] (so no
/// `TensorInfo` stays live in the frames that write the record: the loader's stack is small).
struct Facts<'m> {
    fc: FullyConnected,
    dims: FullyConnectedDims,
    input_scale: f32,
    output_scale: f32,
    weights_quant: Quantization<'m>,
    per_channel: bool,
    filter: Option<&'m [i8]>,
    /// `Some(data)` for a bias (`data` `None` if it is not a constant).
    bias: Option<Option<&'m [u8]>>,
}

#[inline(never)]
pub(super) fn prepare(p: &Prep<'_, '_>, w: &mut RecordWriter<'_>) -> Result<Needs, LoadError> {
    // The operands are read (the deepest stack of loading) under this small frame, and the
    // record is written from what they say in its own frame, not one holding their reads.
    operands(p, w)
}

/// FULLY_CONNECTED's fixed parameters. After it in the record, as its [`Tail`] says: the
/// multipliers and rescales; then, if either target's variant lists the weights, their length
/// in bytes (a word) and the listed weights.
#[derive(Clone, Copy, Debug, PartialEq, Eq, NoUninit, CheckedBitPattern)]
#[repr(C)]
pub(super) struct FcRecord {
    /// The kernel's parameters.
    pub fc: FullyConnected,
    /// Rows of the input.
    pub batches: u32,
    /// Elements of a row.
    pub depth: u32,
    /// Output units.
    pub units: u32,
    /// The kernel variant for each target ([`Choice::to_codes`]).
    pub variants: [u8; 2],
    /// True if the operator has a bias (input 2).
    pub bias: bool,
    /// What follows the record.
    pub tail: Tail,
}

/// How FULLY_CONNECTED requantizes, which says what follows its [`FcRecord`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, NoUninit, CheckedBitPattern)]
#[repr(u8)]
pub(super) enum Tail {
    /// One multiplier and shift (a [`QuantizedMultiplier`], two words).
    TensorMultiplier = 0,
    /// One multiplier per unit (4 bytes each), then one shift per unit (1 byte each).
    UnitMultipliers = 1,
    /// The same, then each unit's prepared rescale (a word each; written when either target's
    /// variant is [`Variant::Prepared`]).
    UnitMultipliersAndRescales = 2,
}

impl FcRecord {
    /// The variant this target runs.
    #[inline]
    fn variant(&self) -> Result<Variant, RunError> {
        Choice::here_in(self.variants).ok_or(RunError::Internal)
    }
}

/// Chooses the kernel once here for each target (see [`fc_kernel::select`]) and writes the
/// record and its tail.
#[inline(never)]
fn write_record(
    p: &Prep<'_, '_>,
    w: &mut RecordWriter<'_>,
    f: &Facts<'_>,
) -> Result<Needs, LoadError> {
    let fc = f.fc;
    let facts = KernelFacts {
        dims: f.dims,
        weights: f.filter,
        bias_constant: f.bias.is_none_or(|b| b.is_some()),
        per_channel: f.per_channel,
        multiplier: |u| multiplier(f, u),
    };
    let choice = Choice::new(|target| fc_kernel::select(&fc, &facts, target));
    let tail = match (f.per_channel, choice.uses(Variant::Prepared)) {
        (false, _) => Tail::TensorMultiplier,
        (true, false) => Tail::UnitMultipliers,
        (true, true) => Tail::UnitMultipliersAndRescales,
    };
    let listed = choice.uses(Variant::Sparse) || choice.uses(Variant::SparsePacked);
    let listed_bytes = if listed {
        sparse::table_bytes(f.filter.unwrap_or(&[]), f.dims.depth, fc.filter_offset)
            .ok_or(p.shapes("weights cannot be listed"))?
    } else {
        0
    };
    w.pod(&FcRecord {
        fc,
        batches: word(f.dims.batches),
        depth: word(f.dims.depth),
        units: word(f.dims.units),
        variants: choice.to_codes(),
        bias: f.bias.is_some(),
        tail,
    });
    write_multipliers(p, w, f)?;
    if tail == Tail::UnitMultipliersAndRescales {
        for u in 0..f.dims.units {
            w.i32(rescale_of(multiplier(f, u), fc.output_offset).unwrap_or(0));
        }
    }
    if listed {
        w.pod(&word(listed_bytes));
        write_list(p, w, f, listed_bytes)?;
    }
    Ok(Needs::default())
}

/// Checks the operands and reads what the record needs (each operand in its own step, so at
/// most one `TensorInfo` is on the stack at a time), then writes the record with `w`.
#[inline(never)]
fn operands(p: &Prep<'_, '_>, w: &mut RecordWriter<'_>) -> Result<Needs, LoadError> {
    let Op::FullyConnected { activation, .. } = p.op.op else {
        return Err(p.shapes("not FULLY_CONNECTED"));
    };
    p.arity(2, 3)?;
    let (qi, input_elements, _) =
        int8_operand(p, Some(0), "input must be int8, per-tensor quantized")?;
    let (qo, output_elements, output_last) =
        int8_operand(p, None, "output must be int8, per-tensor quantized")?;
    let (wq, units, depth, filter) = weights(p)?;
    if input_elements % depth != 0 {
        return Err(p.shapes("input size is not a multiple of the weights' depth"));
    }
    let batches = input_elements / depth;
    if Some(output_elements) != batches.checked_mul(units) || output_last != Some(units as u32) {
        return Err(p.shapes("output must be batches x units"));
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
        let zp = wq.zero_point(0);
        let scale = wq.scale(0);
        if !((-128..=127).contains(&zp) && scale.is_finite() && scale > 0.0) {
            return Err(p.err(crate::engine::error::LoadErrorKind::Quantization(
                "weights zero point out of range",
            )));
        }
        zp as i32
    };
    let bias = p.bias(units, "bias must have one value per unit")?;
    let fc = FullyConnected::new(qi.zero_point, filter_zp, qo.scale, qo.zero_point, activation)
        .map_err(|e| p.kernel(e))?;
    let f = Facts {
        fc,
        dims: FullyConnectedDims { batches, depth, units },
        input_scale: qi.scale,
        output_scale: qo.scale,
        weights_quant: wq,
        per_channel,
        filter,
        bias,
    };
    write_record(p, w, &f)
}

/// Input `j` (or the output, for `None`): its quantization (int8, per tensor), element count
/// and last dimension.
#[inline(never)]
fn int8_operand(
    p: &Prep<'_, '_>,
    j: Option<usize>,
    what: &'static str,
) -> Result<(QuantParams, usize, Option<u32>), LoadError> {
    let t = p.operand(j)?;
    let q = p.int8(&t, what)?;
    Ok((q, t.elements(), t.shape.dims().last().copied()))
}

/// The weights: quantization, `units`, `depth` (both nonzero) and data.
#[inline(never)]
#[allow(clippy::type_complexity)]
fn weights<'m>(
    p: &Prep<'_, 'm>,
) -> Result<(Quantization<'m>, usize, usize, Option<&'m [i8]>), LoadError> {
    let weights = p.input(1)?;
    p.dtype(&weights, DType::Int8, "weights must be int8")?;
    let wq = weights
        .quantization
        .ok_or(p.err(crate::engine::error::LoadErrorKind::Quantization("weights unquantized")))?;
    let dims = weights.shape.dims();
    if dims.len() != 2 {
        return Err(p.shapes("weights must be [units, depth]"));
    }
    let (units, depth) = (dims[0] as usize, dims[1] as usize);
    if depth == 0 || units == 0 {
        return Err(p.shapes("input size is not a multiple of the weights' depth"));
    }
    Ok((wq, units, depth, weights.data.map(super::as_i8)))
}

/// Unit `u`'s multiplier, per tensor or per unit (as `write_channel_multipliers` computes it);
/// one that cannot be computed is refused by [`write_multipliers`] and would only lose the
/// fast rescale where this is used.
fn multiplier(f: &Facts<'_>, u: usize) -> QuantizedMultiplier {
    let m = if f.per_channel {
        conv_multiplier(f.input_scale, f.weights_quant.scale(u), f.output_scale)
    } else {
        per_tensor_multiplier(f.input_scale, f.weights_quant.scale(0), f.output_scale)
    };
    m.unwrap_or(QuantizedMultiplier { multiplier: 0, shift: 0 })
}

/// The record's multipliers: per unit (5 bytes each) or one (two words).
#[inline(never)]
fn write_multipliers(
    p: &Prep<'_, '_>,
    w: &mut RecordWriter<'_>,
    f: &Facts<'_>,
) -> Result<(), LoadError> {
    let (wq, units) = (&f.weights_quant, f.dims.units);
    if f.per_channel {
        super::conv::write_channel_multipliers(
            p,
            w,
            f.input_scale,
            wq.scales(),
            f.output_scale,
            units,
        )
    } else {
        let m = per_tensor_multiplier(f.input_scale, wq.scale(0), f.output_scale)
            .map_err(|e| p.kernel(e))?;
        w.pod(&m);
        Ok(())
    }
}

/// Pruned weights (mostly zeros): each unit's nonzero weights listed once, here, with the bias,
/// the zero-point term and the rescale folded into each unit's header; eval runs those instead
/// of the dense rows.
#[inline(never)]
fn write_list(
    p: &Prep<'_, '_>,
    w: &mut RecordWriter<'_>,
    f: &Facts<'_>,
    bytes: usize,
) -> Result<(), LoadError> {
    let (filter, depth, fc) = (f.filter.unwrap_or(&[]), f.dims.depth, f.fc);
    if let Some(table) = w.reserve(bytes) {
        let k = sparse::UnitConstants {
            input_offset: fc.input_offset,
            bias: f.bias.flatten().map(I32Le),
            multiplier: |u| multiplier(f, u),
            output_offset: fc.output_offset,
        };
        if !sparse::write_table(filter, depth, fc.filter_offset, k, table) {
            return Err(p.shapes("weights cannot be listed"));
        }
    }
    Ok(())
}

/// The variants an operator's record asks for ([`super::kernel_use`]).
pub(super) fn kernel_use(r: &mut RecordReader<'_>) -> Option<KernelUse> {
    let rec: FcRecord = r.checked().ok()?;
    KernelUse::of::<Variant>(rec.variants)
}

#[inline(never)]
pub(super) fn eval(r: &mut RecordReader<'_>, io: Operands<'_>) -> Result<(), RunError> {
    r.checked_with::<FcRecord, 9, _>(|rec, r| eval_record(rec, r, io))
}

/// [`eval`] with the record read (see [`RecordReader::checked_with`]): out of line, so that
/// the record lent in place and its copy share one body.
#[inline(never)]
fn eval_record(rec: &FcRecord, r: &mut RecordReader<'_>, io: Operands<'_>) -> Result<(), RunError> {
    let dims = FullyConnectedDims {
        batches: rec.batches as usize,
        depth: rec.depth as usize,
        units: rec.units as usize,
    };
    let variant = rec.variant()?;
    let requantize = if rec.tail == Tail::TensorMultiplier {
        Requantize::PerTensor(r.pod::<QuantizedMultiplier>()?)
    } else {
        super::conv::read_channel_multipliers(r, dims.units)?
    };
    let bias = if rec.bias { Some(I32Le(io.inputs.get(2)?)) } else { None };
    let rescales = if rec.tail == Tail::UnitMultipliersAndRescales {
        I32Le(r.bytes(dims.units.checked_mul(4).ok_or(RunError::Internal)?)?)
    } else {
        I32Le(&[])
    };
    // A sparse variant this build does not link runs the reference, which reads the weights.
    let sparse = variant.is_sparse() && variant.is_linked();
    let listed = if sparse {
        let len = r.pod::<u32>()? as usize;
        r.bytes(len)?
    } else {
        &[]
    };
    let filter = if sparse { &[][..] } else { io.inputs.i8(1)? };
    let (input, output) = (io.inputs.i8(0)?, as_i8_mut(io.output));
    let ops = FcOperands { input, filter, listed, bias, requantize, rescales, output, dims };
    rec.fc.eval(variant, ops).map_err(kernel_err)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::record::assert_round_trip;
    use crate::engine::record::tests::assert_code_checked;
    use core::mem::offset_of;

    fn record() -> FcRecord {
        FcRecord {
            fc: FullyConnected {
                input_offset: 5,
                filter_offset: -3,
                output_offset: -7,
                activation_min: -128,
                activation_max: 127,
            },
            batches: 2,
            depth: 16,
            units: 4,
            variants: Choice { dsp: Variant::SparsePacked, portable: Variant::Sparse }.to_codes(),
            bias: false,
            tail: Tail::UnitMultipliersAndRescales,
        }
    }

    #[test]
    fn the_record_round_trips() {
        let rec = record();
        assert_round_trip(&rec);
        // Read in place (aligned) and copied (not aligned), with the reader left after it.
        let mut buf = [0u32; 11];
        let bytes: &mut [u8] = bytemuck::cast_slice_mut(&mut buf);
        for at in [0, 1, 4, 7] {
            bytes.fill(0);
            bytes[at..at + 36].copy_from_slice(bytemuck::bytes_of(&rec));
            bytes[at + 36] = 0xA5;
            let mut r = RecordReader::new(&bytes[at..at + 37]);
            let read = r.checked_with::<FcRecord, 9, _>(|got, r| Ok((*got, r.bytes(1)?[0])));
            assert_eq!(read, Ok((rec, 0xA5)), "at {at}");
            let mut short = RecordReader::new(&bytes[at..at + 35]);
            assert!(short.checked_with::<FcRecord, 9, _>(|got, _| Ok(*got)).is_err());
        }
        let here = Choice { dsp: Variant::SparsePacked, portable: Variant::Sparse }.here();
        assert_eq!(rec.variant(), Ok(here));
        for tail in
            [Tail::TensorMultiplier, Tail::UnitMultipliers, Tail::UnitMultipliersAndRescales]
        {
            assert_round_trip(&FcRecord { tail, bias: true, ..rec });
        }
    }

    #[test]
    fn corrupt_codes_are_errors() {
        let rec = FcRecord { variants: [5, 5], ..record() };
        assert_eq!(rec.variant(), Err(RunError::Internal));
        let (bias, tail) = (offset_of!(FcRecord, bias), offset_of!(FcRecord, tail));
        assert_code_checked(&record(), bias, 0xFF);
        assert_code_checked(&record(), tail, 3);
        let mut buf = [0u32; 10];
        let bytes: &mut [u8] = bytemuck::cast_slice_mut(&mut buf);
        for at in [0, 3] {
            bytes[at..at + 36].copy_from_slice(bytemuck::bytes_of(&record()));
            bytes[at + tail] = 3;
            let read = RecordReader::new(&bytes[at..at + 36])
                .checked_with::<FcRecord, 9, _>(|_, _| Ok(()));
            assert_eq!(read, Err(RunError::Internal), "at {at}");
        }
    }
}
