//! UNIDIRECTIONAL_SEQUENCE_LSTM, integer (int8 activations and weights, int16 cell state):
//! TFLite's `PopulateQuantizedLstmParams8x8_16` at prepare, its `EvalInteger8x8_16` at eval
//! (the kernel is [`kernels::lstm`](crate::engine::kernels::lstm)).
//!
//! Operands (TFLite's 24): 0 input `[batch, time, features]` (or `[time, batch, features]` when
//! `time_major`, or `[batch, features]` for one step); 1-4 input weights and 5-8 recurrent
//! weights of the input, forget, cell and output gates (int8, zero point 0); 9-11 peephole
//! weights (absent); 12-15 the gates' int32 biases; 16-17 projection (absent); 18 the output
//! state (int8, variable) and 19 the cell state (int16, variable, a power-of-two scale); 20-23
//! layer-norm coefficients (absent). Intermediate 4 gives the hidden state's quantization.
//!
//! The two state tensors live at the start of the operator's scratch memory (the planner keeps
//! it for the whole run, see [`state_layout`]): they persist between invokes and are reset to
//! their zero points by [`reset`] (what `Interpreter::reset_state` runs).

use super::{as_i8_mut, kernel_err, Needs, Operands, Prep};
use crate::engine::arith::QuantizedMultiplier;
use crate::engine::error::{LoadError, LoadErrorKind, RunError};
use crate::engine::kernels::lstm::{self, LstmParams, LstmWeights, GATES};
use crate::engine::kernels::{I32Le, KernelError};
use crate::engine::model::kernel::state_layout;
use crate::engine::model::operator::Op;
use crate::engine::model::tensor::{DType, TensorInfo};
use crate::engine::record::{word, RecordReader, RecordWriter};
use bytemuck::{CheckedBitPattern, NoUninit, Pod, Zeroable};

/// Operand positions.
const INPUT: usize = 0;
const INPUT_WEIGHTS: usize = 1;
const RECURRENT_WEIGHTS: usize = 5;
const PEEPHOLE: [usize; 3] = [9, 10, 11];
const BIASES: usize = 12;
const PROJECTION: [usize; 2] = [16, 17];
const OUTPUT_STATE: usize = 18;
const CELL_STATE: usize = 19;
const LAYER_NORM: [usize; 4] = [20, 21, 22, 23];
/// The intermediate holding the hidden state's quantization.
const HIDDEN: usize = 4;

/// Scale of the gates' Q3.12 (`intermediate_scale` of an LSTM without layer norm).
const GATE_SCALE: f32 = 1.0 / 4096.0;

#[inline(never)]
pub(super) fn prepare(p: &Prep<'_, '_>, w: &mut RecordWriter<'_>) -> Result<Needs, LoadError> {
    let Op::UnidirectionalSequenceLstm(options) = p.op.op else {
        return Err(p.shapes("not an LSTM"));
    };
    p.arity(20, 24)?;
    for j in PEEPHOLE.iter().chain(&PROJECTION).chain(&LAYER_NORM) {
        if p.input_opt(*j)?.is_some() {
            return Err(p.err(LoadErrorKind::UnsupportedOption(
                "LSTM with peephole, projection or layer normalization",
            )));
        }
    }
    if p.input_opt(INPUT_WEIGHTS)?.is_none() {
        return Err(p.err(LoadErrorKind::UnsupportedOption("LSTM without input gate (CIFG)")));
    }
    let input = p.input(INPUT)?;
    let qx = p.int8(&input, "LSTM input must be int8, per-tensor quantized")?;
    let dims = input.shape.dims();
    let (n_batch, max_time, n_input) = match (dims, options.time_major) {
        (&[b, f], _) => (b, 1, f),
        (&[t, b, f], true) | (&[b, t, f], false) => (b, t, f),
        _ => return Err(p.shapes("LSTM input must be [batch, time, features]")),
    };
    let (n_batch, max_time, n_input) = (n_batch as usize, max_time as usize, n_input as usize);

    // Weights: int8, zero point 0, constant.
    let mut weight_scales = [[0f32; GATES]; 2];
    let n_cell = p.input(INPUT_WEIGHTS)?.shape.dims().first().copied().unwrap_or(0) as usize;
    for (set, first, cols) in [(0, INPUT_WEIGHTS, n_input), (1, RECURRENT_WEIGHTS, n_cell)] {
        for (k, scale) in weight_scales[set].iter_mut().enumerate() {
            *scale = weight(p, &p.input(first + k)?, n_cell, cols)?;
        }
    }
    let output_state = p.input(OUTPUT_STATE)?;
    let cell_state = p.input(CELL_STATE)?;
    let qh = p.int8(&output_state, "LSTM output state must be int8, per-tensor quantized")?;
    let (h, c) = (p.op.input(OUTPUT_STATE), p.op.input(CELL_STATE));
    if !h.is_some_and(|t| p.m.is_variable(t)) || !c.is_some_and(|t| p.m.is_variable(t)) {
        return Err(p.err(LoadErrorKind::UnsupportedOption("LSTM state must be variable tensors")));
    }
    if output_state.elements() != n_batch * n_cell || cell_state.elements() != n_batch * n_cell {
        return Err(p.shapes("LSTM state must be [batch, cells]"));
    }
    p.dtype(&cell_state, DType::Int16, "LSTM cell state must be int16")?;
    let cell_scale = cell_scale_log2(p, &cell_state)?;
    let output = p.output()?;
    p.int8(&output, "LSTM output must be int8, per-tensor quantized")?;
    if output.elements() != n_batch * max_time * n_cell {
        return Err(p.shapes("LSTM output must be [batch, time, cells]"));
    }
    let hidden = hidden_quant(p)?;

    let kernel = |e| p.kernel(e);
    let rescale = |s: f32| QuantizedMultiplier::from_real(s as f64).map_err(|e| kernel(e.into()));
    let mut params = LstmParams {
        n_input,
        n_cell,
        hidden_zero_point: hidden.zero_point,
        cell_scale,
        cell_clip: quantized_clip(options.cell_clip, cell_state_scale(&cell_state)),
        ..LstmParams::default()
    };
    // Float arithmetic as TFLite: (weight scale * input scale) / 2^-12, in f32.
    for (m, s) in params.input_rescale.iter_mut().zip(weight_scales[0]) {
        *m = rescale(s * qx.scale / GATE_SCALE)?;
    }
    for (m, s) in params.recurrent_rescale.iter_mut().zip(weight_scales[1]) {
        *m = rescale(s * qh.scale / GATE_SCALE)?;
    }
    // 2^-15 / hidden scale * 2^-15 in f64, stored as f32 (TFLite's effective_hidden_scale).
    const TWO_TO_MINUS_15: f64 = 1.0 / 32768.0;
    let hidden_scale = (TWO_TO_MINUS_15 / hidden.scale as f64 * TWO_TO_MINUS_15) as f32;
    params.hidden_rescale = rescale(hidden_scale)?;

    let (Some(h_at), state_bytes) = state_layout(p.m, p.op, p.op.input(OUTPUT_STATE))? else {
        return Err(p.err(LoadErrorKind::Variable));
    };
    let (Some(c_at), _) = state_layout(p.m, p.op, p.op.input(CELL_STATE))? else {
        return Err(p.err(LoadErrorKind::Variable));
    };
    let state = State {
        h_at: word(h_at),
        h_len: word(output_state.bytes()),
        h_zero_point: qh.zero_point,
        c_at: word(c_at),
        c_len: word(cell_state.bytes()),
    };
    w.pod(&LstmRecord::new(state, [n_batch, max_time], options.time_major, &params));
    // Biases with the zero-point terms folded in (TFLite's PrecomputeZeroPointTimesWeightWithBias):
    // input products: bias - z_x * rowsum(W); recurrent products: -z_h * rowsum(R).
    for k in 0..GATES {
        let weights = p.input(INPUT_WEIGHTS + k)?.data.unwrap_or(&[]);
        let bias = p.input(BIASES + k)?;
        p.dtype(&bias, DType::Int32, "LSTM bias must be int32")?;
        let bias = bias.data.filter(|b| b.len() == 4 * n_cell);
        let bias = bias.ok_or(p.err(LoadErrorKind::UnsupportedOption("LSTM bias not constant")))?;
        for j in 0..n_cell {
            let b = I32Le(bias).get(j);
            let sum = row_sum(weights, j, n_input);
            w.i32(b.wrapping_add(sum.wrapping_mul(-qx.zero_point)));
        }
    }
    for k in 0..GATES {
        let weights = p.input(RECURRENT_WEIGHTS + k)?.data.unwrap_or(&[]);
        for j in 0..n_cell {
            w.i32(row_sum(weights, j, n_cell).wrapping_mul(-qh.zero_point));
        }
    }
    Ok(Needs { scratch: state_bytes })
}

/// The scale of weight tensor `t` (`[rows, cols]`, int8, zero point 0, constant).
fn weight(
    p: &Prep<'_, '_>,
    t: &TensorInfo<'_>,
    rows: usize,
    cols: usize,
) -> Result<f32, LoadError> {
    let q = p.int8(t, "LSTM weights must be int8, per-tensor quantized")?;
    if q.zero_point != 0 {
        return Err(p.err(LoadErrorKind::Quantization("LSTM weights must have zero point 0")));
    }
    if t.shape.dims() != [rows as u32, cols as u32] {
        return Err(p.shapes("LSTM weights must be [cells, inputs] and [cells, cells]"));
    }
    if t.data.is_none() {
        return Err(p.err(LoadErrorKind::UnsupportedOption("LSTM weights not constant")));
    }
    Ok(q.scale)
}

/// The cell state's scale (its first; checked per-tensor by [`cell_scale_log2`]).
fn cell_state_scale(t: &TensorInfo<'_>) -> f32 {
    t.quant().map_or(0.0, |q| q.scale)
}

/// `log2` of the cell state's scale, which must be a power of two in `2^-15..=2^-9` with zero
/// point 0 (TFLite's `CheckedLog2` and `cell_scale <= -9`; tanh reads the cell state with
/// `15 + log2` integer bits, at most 6).
fn cell_scale_log2(p: &Prep<'_, '_>, t: &TensorInfo<'_>) -> Result<i32, LoadError> {
    let bad = p.err(LoadErrorKind::Quantization(
        "LSTM cell state must be per-tensor, zero point 0, scale a power of two 2^-15..2^-9",
    ));
    let q = t.quant().ok_or(bad)?;
    if q.zero_point != 0 || !(q.scale.is_finite() && q.scale > 0.0) {
        return Err(bad);
    }
    let log2 = libm::log2f(q.scale);
    let rounded = libm::roundf(log2);
    if (log2 - rounded).abs() >= 1e-3 || !(-15.0..=-9.0).contains(&rounded) {
        return Err(bad);
    }
    Ok(rounded as i32)
}

/// The cell clip in cell-state units: `clip / scale` clamped to `i16` and truncated, as TFLite's
/// `static_cast<int16_t>` does (0 when there is no clip).
fn quantized_clip(clip: f32, scale: f32) -> i16 {
    if clip > 0.0 {
        (clip / scale).clamp(-32768.0, 32767.0) as i16
    } else {
        0
    }
}

/// The hidden state's quantization: intermediate 4 (int8, per tensor).
fn hidden_quant(p: &Prep<'_, '_>) -> Result<crate::model::QuantParams, LoadError> {
    let missing = p.err(LoadErrorKind::Missing("LSTM hidden-state intermediate"));
    let t = p.m.intermediate(p.op.index, HIDDEN).ok_or(missing)?;
    let t = p.m.tensor(t)?;
    p.quant(&t, "LSTM hidden-state intermediate must be per-tensor quantized")
}

/// `sum W[row][..]` with the wrapping `i32` accumulation of TFLite.
fn row_sum(weights: &[u8], row: usize, cols: usize) -> i32 {
    weights
        .get(row * cols..(row + 1) * cols)
        .unwrap_or(&[])
        .iter()
        .fold(0i32, |s, &b| s.wrapping_add(b as i8 as i32))
}

/// Where the state is in the scratch and how to reset it (the head of [`LstmRecord`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Pod, Zeroable)]
#[repr(C)]
struct State {
    /// Byte offset of the output state in the scratch.
    h_at: u32,
    /// Bytes of the output state.
    h_len: u32,
    /// The output state's zero point (what it resets to).
    h_zero_point: i32,
    /// Byte offset of the cell state in the scratch.
    c_at: u32,
    /// Bytes of the cell state.
    c_len: u32,
}

/// A quantized multiplier as a record holds it: `[multiplier, shift]`.
fn multiplier_words(q: QuantizedMultiplier) -> [i32; 2] {
    [q.multiplier, q.shift]
}

/// The quantized multiplier of a record's words.
fn multiplier_of([multiplier, shift]: [i32; 2]) -> QuantizedMultiplier {
    QuantizedMultiplier { multiplier, shift }
}

/// UNIDIRECTIONAL_SEQUENCE_LSTM's parameters; the folded biases follow it (`n_cell` `i32` per
/// gate for the input products, then as many for the recurrent products).
#[derive(Clone, Copy, Debug, PartialEq, Eq, NoUninit, CheckedBitPattern)]
#[repr(C)]
struct LstmRecord {
    /// Where the state is and what it resets to.
    state: State,
    /// Sequences per input.
    n_batch: u32,
    /// Time steps per sequence.
    max_time: u32,
    /// Features per input row.
    n_input: u32,
    /// Cells (units).
    n_cell: u32,
    /// [`LstmParams::input_rescale`], `[multiplier, shift]` per gate.
    input_rescale: [[i32; 2]; GATES],
    /// [`LstmParams::recurrent_rescale`], `[multiplier, shift]` per gate.
    recurrent_rescale: [[i32; 2]; GATES],
    /// [`LstmParams::hidden_rescale`], `[multiplier, shift]`.
    hidden_rescale: [i32; 2],
    /// [`LstmParams::hidden_zero_point`].
    hidden_zero_point: i32,
    /// [`LstmParams::cell_scale`] (`-15..=-9`, checked on reading).
    cell_scale: i32,
    /// [`LstmParams::cell_clip`].
    cell_clip: i16,
    /// True if the input is `[time, batch, features]`.
    time_major: bool,
    /// Zero.
    reserved: u8,
}

impl LstmRecord {
    fn new(
        state: State,
        [n_batch, max_time]: [usize; 2],
        time_major: bool,
        p: &LstmParams,
    ) -> Self {
        LstmRecord {
            state,
            n_batch: word(n_batch),
            max_time: word(max_time),
            n_input: word(p.n_input),
            n_cell: word(p.n_cell),
            input_rescale: p.input_rescale.map(multiplier_words),
            recurrent_rescale: p.recurrent_rescale.map(multiplier_words),
            hidden_rescale: multiplier_words(p.hidden_rescale),
            hidden_zero_point: p.hidden_zero_point,
            cell_scale: p.cell_scale,
            cell_clip: p.cell_clip,
            time_major,
            reserved: 0,
        }
    }

    /// The kernel's parameters, or [`RunError::Internal`] for a cell scale out of range.
    fn params(&self) -> Result<LstmParams, RunError> {
        if !(-15..=-9).contains(&self.cell_scale) {
            return Err(RunError::Internal);
        }
        Ok(LstmParams {
            n_input: self.n_input as usize,
            n_cell: self.n_cell as usize,
            input_rescale: self.input_rescale.map(multiplier_of),
            recurrent_rescale: self.recurrent_rescale.map(multiplier_of),
            hidden_rescale: multiplier_of(self.hidden_rescale),
            hidden_zero_point: self.hidden_zero_point,
            cell_scale: self.cell_scale,
            cell_clip: self.cell_clip,
        })
    }
}

/// The two state tensors inside `scratch` (output state, cell state).
fn split_state<'s>(
    s: &State,
    scratch: &'s mut [u8],
) -> Result<(&'s mut [u8], &'s mut [u8]), RunError> {
    let [h_at, h_len, c_at, c_len] = [s.h_at, s.h_len, s.c_at, s.c_len].map(|v| v as usize);
    let c_end = c_at.checked_add(c_len).ok_or(RunError::Internal)?;
    let h_end = h_at.checked_add(h_len).ok_or(RunError::Internal)?;
    if h_end > c_at || c_end > scratch.len() {
        return Err(RunError::Internal);
    }
    let (head, tail) = scratch.split_at_mut(c_at);
    Ok((&mut head[h_at..h_end], &mut tail[..c_len]))
}

/// Resets the state: the output state to its zero point, the cell state to 0 (TFLite's
/// `ResetVariableTensors`: int8 variables to their zero point, others to zero bytes).
pub(super) fn reset(r: &mut RecordReader<'_>, scratch: &mut [u8]) -> Result<(), RunError> {
    let s = r.checked::<LstmRecord>()?.state;
    let (h, c) = split_state(&s, scratch)?;
    h.fill(s.h_zero_point as i8 as u8);
    c.fill(0);
    Ok(())
}

#[inline(never)]
pub(super) fn eval(r: &mut RecordReader<'_>, io: Operands<'_>) -> Result<(), RunError> {
    let rec: LstmRecord = r.checked()?;
    let (state, time_major) = (rec.state, rec.time_major);
    let (n_batch, max_time) = (rec.n_batch as usize, rec.max_time as usize);
    let p = rec.params()?;
    let n = p.n_cell;
    let bias_bytes = 4 * n;
    let mut weights = LstmWeights {
        input: [&[]; GATES],
        recurrent: [&[]; GATES],
        input_bias: [I32Le(&[]); GATES],
        recurrent_bias: [I32Le(&[]); GATES],
    };
    for k in 0..GATES {
        weights.input_bias[k] = I32Le(r.bytes(bias_bytes)?);
    }
    for k in 0..GATES {
        weights.recurrent_bias[k] = I32Le(r.bytes(bias_bytes)?);
        weights.input[k] = io.inputs.i8(INPUT_WEIGHTS + k)?;
        weights.recurrent[k] = io.inputs.i8(RECURRENT_WEIGHTS + k)?;
    }
    let input = io.inputs.i8(INPUT)?;
    let output = as_i8_mut(io.output);
    let (h, c) = split_state(&state, io.scratch)?;
    let shape = || kernel_err(KernelError::ShapeMismatch);
    if input.len() != n_batch * max_time * p.n_input
        || output.len() != n_batch * max_time * n
        || h.len() != n_batch * n
        || c.len() != 2 * n_batch * n
    {
        return Err(shape());
    }
    for b in 0..n_batch {
        let h = &mut as_i8_mut(h)[b * n..(b + 1) * n];
        let c = &mut c[2 * b * n..2 * (b + 1) * n];
        for t in 0..max_time {
            let row = if time_major { t * n_batch + b } else { b * max_time + t };
            let x = &input[row * p.n_input..(row + 1) * p.n_input];
            let out = &mut output[row * n..(row + 1) * n];
            lstm::step(&p, &weights, x, h, c, out).map_err(kernel_err)?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::record::assert_round_trip;
    use crate::engine::record::tests::assert_code_checked;

    fn record() -> LstmRecord {
        let q = |multiplier, shift| QuantizedMultiplier { multiplier, shift };
        let params = LstmParams {
            n_input: 3,
            n_cell: 2,
            input_rescale: [q(0x4000_0000, -3), q(0x5000_0000, -4), q(1 << 30, 0), q(i32::MAX, 1)],
            recurrent_rescale: [q(0x6000_0000, -7), q(1, -31), q(0x4000_0001, 2), q(0, 0)],
            hidden_rescale: q(0x7000_0000, -12),
            hidden_zero_point: -5,
            cell_scale: -11,
            cell_clip: -32768,
        };
        let state = State { h_at: 0, h_len: 4, h_zero_point: -5, c_at: 4, c_len: 8 };
        LstmRecord::new(state, [2, 7], true, &params)
    }

    #[test]
    fn the_record_round_trips_with_its_parameters() {
        let rec = record();
        assert_round_trip(&rec);
        assert_round_trip(&LstmRecord { time_major: false, ..rec });
        let p = rec.params().unwrap();
        assert_eq!(LstmRecord::new(rec.state, [2, 7], true, &p), rec);
        assert_eq!((p.cell_clip, p.recurrent_rescale[1].shift), (-32768, -31));
    }

    #[test]
    fn corrupt_flags_and_scales_are_errors() {
        assert_code_checked(&record(), core::mem::offset_of!(LstmRecord, time_major), 2);
        for cell_scale in [-16, -8, i32::MIN] {
            assert_eq!(LstmRecord { cell_scale, ..record() }.params(), Err(RunError::Internal));
        }
        let mut scratch = [0u8; 12];
        let state = State { c_at: 2, ..record().state };
        assert!(split_state(&state, &mut scratch).is_err(), "the states overlap");
        let state = State { c_len: 9, ..record().state };
        assert!(split_state(&state, &mut scratch).is_err(), "past the scratch");
        let state = State { h_at: u32::MAX, ..record().state };
        assert!(split_state(&state, &mut scratch).is_err(), "overflow");
        let (h, c) = split_state(&record().state, &mut scratch).unwrap();
        assert_eq!((h.len(), c.len()), (4, 8));
    }
}
