//! UNIDIRECTIONAL_SEQUENCE_LSTM, integer: int8 input, output and hidden state, int16 cell state
//! and gates, as TFLite's reference integer LSTM computes it (`lstm_eval.cc`
//! `EvalInteger8x8_16` with the portable `tensor_utils`), bit for bit.
//!
//! One time step, for every cell `j` (gates `k` = input, forget, cell, output):
//!
//! ```text
//! a_k = sat16(MBQM(b_in[k][j] + W_k[j] . x, m_in[k]))               (zero points folded in b)
//! z_k = sat16(a_k + MBQM(b_rec[k][j] + R_k[j] . h, m_rec[k]))
//! i, f, o = logistic(z_i, z_f, z_o) (Q3.12 in, Q0.15 out);  g = tanh(z_g) (Q3.12 in)
//! c' = sat16(RDBPOT(f c, 15) + RDBPOT(i g, 30 + cell_scale)), then clipped to ±clip
//! h' = clamp8(MBQM(o tanh(c'), m_hidden) + z_hidden)   (tanh reads c' with 15 + cell_scale
//!                                                        integer bits)
//! ```
//!
//! TFLite runs each of these as a pass over whole vectors; every operation is elementwise per
//! cell except the two matrix products, which read the *old* `h`. This kernel computes cell by
//! cell (the eight dot products of cell `j`, then its gates and its state), writing `h'` to the
//! output row, and copies that row into `h` once the step is done: the same values with no gate
//! buffers. Not supported (refused at prepare): CIFG (no input gate), peephole, projection, layer
//! normalization.

pub mod fixed16;

use super::{I32Le, KernelError};
use crate::engine::arith::QuantizedMultiplier;
use crate::engine::arith::{multiply_by_quantized_multiplier, rounding_divide_by_pot};

/// Number of gates: input, forget, cell, output (TFLite's operand order).
pub const GATES: usize = 4;

/// The integer parameters of an LSTM, computed at prepare.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct LstmParams {
    /// Features per input row.
    pub n_input: usize,
    /// Cells (units); also the width of the hidden state and the output (no projection).
    pub n_cell: usize,
    /// Rescale of each gate's input product to the gate's Q3.12.
    pub input_rescale: [QuantizedMultiplier; GATES],
    /// Rescale of each gate's recurrent product to the gate's Q3.12.
    pub recurrent_rescale: [QuantizedMultiplier; GATES],
    /// Rescale of `o * tanh(c)` (Q0.15 x Q0.15) to the hidden state's int8 scale.
    pub hidden_rescale: QuantizedMultiplier,
    /// The hidden state's zero point.
    pub hidden_zero_point: i32,
    /// `log2` of the cell state's scale (`-15..=-9`).
    pub cell_scale: i32,
    /// The cell clip in cell-state units (0: none).
    pub cell_clip: i16,
}

/// The LSTM's constant operands: weights (rows of `n_input` and `n_cell` values) and the biases
/// with the zero-point terms folded in, per gate.
#[derive(Clone, Copy, Debug)]
pub struct LstmWeights<'a> {
    /// Input weights `W_k`, `n_cell x n_input`.
    pub input: [&'a [i8]; GATES],
    /// Recurrent weights `R_k`, `n_cell x n_cell`.
    pub recurrent: [&'a [i8]; GATES],
    /// `bias_k - z_x * rowsum(W_k)`, `n_cell` values.
    pub input_bias: [I32Le<'a>; GATES],
    /// `-z_h * rowsum(R_k)`, `n_cell` values.
    pub recurrent_bias: [I32Le<'a>; GATES],
}

impl LstmWeights<'_> {
    fn check(&self, p: &LstmParams) -> Result<(), KernelError> {
        let ok = (0..GATES).all(|k| {
            Some(self.input[k].len()) == p.n_cell.checked_mul(p.n_input)
                && Some(self.recurrent[k].len()) == p.n_cell.checked_mul(p.n_cell)
                && self.input_bias[k].len() == p.n_cell
                && self.recurrent_bias[k].len() == p.n_cell
        });
        if ok {
            Ok(())
        } else {
            Err(KernelError::ShapeMismatch)
        }
    }
}

/// `sum a[i] b[i]` with the wrapping `i32` accumulation of the C code.
#[inline]
fn dot(a: &[i8], b: &[i8]) -> i32 {
    a.iter().zip(b).fold(0i32, |acc, (&w, &x)| acc.wrapping_add(w as i32 * x as i32))
}

/// Saturates to `i16`.
#[inline]
pub fn saturate_i16(x: i32) -> i16 {
    x.clamp(i16::MIN as i32, i16::MAX as i32) as i16
}

/// Gate `k`'s pre-activation for cell `j` (Q3.12): TFLite's two
/// `MatrixBatchVectorMultiplyAccumulate` calls, each rescaled and saturated to `i16`.
#[inline]
pub fn gate_input(
    p: &LstmParams,
    w: &LstmWeights<'_>,
    k: usize,
    j: usize,
    x: &[i8],
    h: &[i8],
) -> i16 {
    let (n_in, n_cell) = (p.n_input, p.n_cell);
    let row = w.input[k].get(j * n_in..(j + 1) * n_in).unwrap_or(&[]);
    let acc = w.input_bias[k].get(j).wrapping_add(dot(row, x));
    let m = p.input_rescale[k];
    let a = saturate_i16(multiply_by_quantized_multiplier(acc, m.multiplier, m.shift));
    let row = w.recurrent[k].get(j * n_cell..(j + 1) * n_cell).unwrap_or(&[]);
    let acc = w.recurrent_bias[k].get(j).wrapping_add(dot(row, h));
    let m = p.recurrent_rescale[k];
    let r = multiply_by_quantized_multiplier(acc, m.multiplier, m.shift);
    saturate_i16(r.wrapping_add(a as i32))
}

/// The new cell state from the old one and the gates (TFLite's `UpdateLstmCellInteger`):
/// `sat16(RDBPOT(f c, 15) + RDBPOT(i g, 30 + cell_scale))`, then clipped to `±clip` if `clip > 0`.
#[inline]
pub fn update_cell(c: i16, input: i16, forget: i16, cell: i16, cell_scale: i32, clip: i16) -> i16 {
    let kept = rounding_divide_by_pot(forget as i32 * c as i32, 15) as i16;
    let added = rounding_divide_by_pot(input as i32 * cell as i32, 30 + cell_scale) as i16;
    let mut c = saturate_i16(kept as i32 + added as i32);
    if clip > 0 {
        if c > clip {
            c = clip;
        }
        if c < -clip {
            c = -clip;
        }
    }
    c
}

/// The hidden value of a cell (TFLite's `CalculateLstmOutputInteger8x8_16` without projection):
/// `clamp8(MBQM(o tanh(c), m) + z)`; `tanh` reads `c` with `15 + cell_scale` integer bits.
#[inline]
pub fn hidden(p: &LstmParams, output_gate: i16, c: i16) -> i8 {
    let t = fixed16::tanh(c, (15 + p.cell_scale) as u32);
    let m = p.hidden_rescale;
    let v = multiply_by_quantized_multiplier(output_gate as i32 * t as i32, m.multiplier, m.shift);
    v.wrapping_add(p.hidden_zero_point).clamp(-128, 127) as i8
}

/// The cell state as stored: little-endian `i16` (the arena need not be aligned).
fn cell_at(c: &[u8], j: usize) -> i16 {
    c.get(2 * j..2 * j + 2).map_or(0, |b| i16::from_le_bytes([b[0], b[1]]))
}

/// One time step of one batch row: input row `x` (`n_input`), hidden state `h` (`n_cell`, old
/// in, new out), cell state `c` (`n_cell` little-endian `i16`, updated), output row `out`
/// (`n_cell`, receives the new hidden state).
pub fn step(
    p: &LstmParams,
    w: &LstmWeights<'_>,
    x: &[i8],
    h: &mut [i8],
    c: &mut [u8],
    out: &mut [i8],
) -> Result<(), KernelError> {
    w.check(p)?;
    let n = p.n_cell;
    if x.len() != p.n_input || h.len() != n || c.len() != 2 * n || out.len() != n {
        return Err(KernelError::ShapeMismatch);
    }
    if !(-15..=-9).contains(&p.cell_scale) {
        return Err(KernelError::Unsupported);
    }
    for j in 0..n {
        let z = |k| gate_input(p, w, k, j, x, h);
        let input = fixed16::logistic(z(0), 3);
        let forget = fixed16::logistic(z(1), 3);
        let cell = fixed16::tanh(z(2), 3);
        let new_c = update_cell(cell_at(c, j), input, forget, cell, p.cell_scale, p.cell_clip);
        c[2 * j..2 * j + 2].copy_from_slice(&new_c.to_le_bytes());
        let output = fixed16::logistic(z(3), 3);
        out[j] = hidden(p, output, new_c);
    }
    h.copy_from_slice(out);
    Ok(())
}
