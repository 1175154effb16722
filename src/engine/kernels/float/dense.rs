//! FULLY_CONNECTED in float32 (TFLite's reference `FullyConnected`) and its dynamic-range
//! ("hybrid") form: int8 weights, float32 input and output, the input quantized on the fly per
//! batch row (TFLite's `EvalHybridDense` over `tensor_utils`' portable functions).

use super::{count, put, Clamp, F32Le};
use crate::engine::kernels::KernelError;

/// The sizes of a FULLY_CONNECTED: `batches` rows of `depth` inputs, `units` outputs per row.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Dense {
    /// Input rows.
    pub batches: usize,
    /// Inputs per row (the weights' columns).
    pub depth: usize,
    /// Outputs per row (the weights' rows).
    pub units: usize,
}

impl Dense {
    fn check(&self, input: &[u8], weights: usize, bias: Option<F32Le<'_>>, output: &[u8]) -> bool {
        let n = |a: usize, b: usize| a.checked_mul(b);
        count(input).is_some_and(|c| Some(c) == n(self.batches, self.depth))
            && Some(weights) == n(self.units, self.depth)
            && count(output).is_some_and(|c| Some(c) == n(self.batches, self.units))
            && bias.is_none_or(|b| count(b.0) == Some(self.units))
    }
}

/// Float FULLY_CONNECTED: `out[b, u] = clamp(sum_d(in[b, d] * w[u, d]) + bias[u])`, the sum in
/// `f32` in column order, the bias added after it.
///
/// Errors: [`KernelError::ShapeMismatch`] if a length disagrees with `size`.
pub fn fully_connected(
    size: Dense,
    clamp: Clamp,
    input: F32Le<'_>,
    weights: F32Le<'_>,
    bias: Option<F32Le<'_>>,
    output: &mut [u8],
) -> Result<(), KernelError> {
    if !count(weights.0).is_some_and(|w| size.check(input.0, w, bias, output)) {
        return Err(KernelError::ShapeMismatch);
    }
    let Dense { batches, depth, units } = size;
    for b in 0..batches {
        for u in 0..units {
            let mut total = 0.0f32;
            for d in 0..depth {
                total += input.get(b * depth + d) * weights.get(u * depth + d);
            }
            let bias = bias.map_or(0.0, |bias| bias.get(u));
            put(output, b * units + u, clamp.apply(total + bias));
        }
    }
    Ok(())
}

/// How the weights of a hybrid FULLY_CONNECTED are scaled: one scale, or one per unit.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum WeightScales<'a> {
    /// One scale for the whole tensor.
    PerTensor(f32),
    /// One scale per unit (output row).
    PerChannel(F32Le<'a>),
}

/// One batch row quantized to int8: its scale and zero point (`offset`, 0 when symmetric).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct RowQuantization {
    /// The real value of one step.
    pub scale: f32,
    /// The int8 value of real 0.
    pub offset: i32,
}

/// TFLite's `SymmetricQuantizeFloats`: `range = max(|min|, |max|)`, `scale = range / 127`,
/// `q = clamp(round(x * (127 / range)), -127, 127)` (round half away from zero); an all-zero
/// row gives zeros and scale 1.
pub fn quantize_symmetric(row: F32Le<'_>, out: &mut [i8]) -> RowQuantization {
    let (min, max) = min_max(row);
    let range = fmax_abs(min, max);
    if range == 0.0 {
        out.fill(0);
        return RowQuantization { scale: 1.0, offset: 0 };
    }
    let inverse = 127.0 / range;
    for (i, q) in out.iter_mut().enumerate() {
        let v = libm::roundf(row.get(i) * inverse) as i32;
        *q = v.clamp(-127, 127) as i8;
    }
    RowQuantization { scale: range / 127.0, offset: 0 }
}

/// TFLite's `AsymmetricQuantizeFloats`: the range `[min(0, min), max(0, max)]` mapped onto
/// `[-128, 127]` in `f64` (`scale = (rmax - rmin) / 255`, the zero point from whichever end
/// errs less, nudged into range and rounded), then
/// `q = clamp(round(zp + x * (1 / scale)), -128, 127)` in `f32`; an all-zero row gives zeros,
/// scale 1 and zero point 0.
pub fn quantize_asymmetric(row: F32Le<'_>, out: &mut [i8]) -> RowQuantization {
    let (min, max) = min_max(row);
    let rmin = if min < 0.0 { min as f64 } else { 0.0 };
    let rmax = if max > 0.0 { max as f64 } else { 0.0 };
    if rmin == rmax {
        out.fill(0);
        return RowQuantization { scale: 1.0, offset: 0 };
    }
    let (qmin, qmax) = (-128.0f64, 127.0f64);
    let scale = (rmax - rmin) / (qmax - qmin);
    let from_min = qmin - rmin / scale;
    let from_max = qmax - rmax / scale;
    let error_min = qmin.abs() + (rmin / scale).abs();
    let error_max = qmax.abs() + (rmax / scale).abs();
    let zero_point = if error_min < error_max { from_min } else { from_max };
    let offset = if zero_point <= qmin {
        -128
    } else if zero_point >= qmax {
        127
    } else {
        libm::round(zero_point) as i32
    };
    let scale = scale as f32;
    let inverse = (1.0 / scale as f64) as f32;
    for (i, q) in out.iter_mut().enumerate() {
        let v = libm::roundf(offset as f32 + row.get(i) * inverse) as i32;
        *q = v.clamp(-128, 127) as i8;
    }
    RowQuantization { scale, offset }
}

/// `std::minmax_element` of a row: the first minimum and the last maximum under `<` (a NaN
/// never compares, so it is skipped unless it comes first).
fn min_max(row: F32Le<'_>) -> (f32, f32) {
    let n = row.len();
    if n == 0 {
        return (0.0, 0.0);
    }
    let (mut min, mut max) = (row.get(0), row.get(0));
    for i in 1..n {
        let v = row.get(i);
        if v < min {
            min = v;
        }
        if v.partial_cmp(&max) != Some(core::cmp::Ordering::Less) {
            max = v;
        }
    }
    (min, max)
}

/// `std::max(std::abs(a), std::abs(b))`.
fn fmax_abs(a: f32, b: f32) -> f32 {
    let (a, b) = (a.abs(), b.abs());
    if a < b {
        b
    } else {
        a
    }
}

/// The operands of a hybrid FULLY_CONNECTED.
#[derive(Clone, Copy, Debug)]
pub struct HybridOperands<'a> {
    /// The float input, `batches x depth`.
    pub input: F32Le<'a>,
    /// The int8 weights, `units x depth`, zero points 0.
    pub weights: &'a [i8],
    /// Their scales.
    pub scales: WeightScales<'a>,
    /// The float bias, one per unit, if any.
    pub bias: Option<F32Le<'a>>,
}

/// Hybrid FULLY_CONNECTED: each output starts at its bias (or 0); unless the whole input is
/// zero, each batch row is quantized ([`quantize_asymmetric`] when `asymmetric`, else
/// [`quantize_symmetric`]) into `scratch` (`depth` bytes), then for each unit
/// `acc = sum_d(w[u, d] * q[d]) - zp * sum_d(w[u, d])` in `i32` and
/// `out += acc as f32 * scale_u`, where `scale_u = s_row * s_w` (per-tensor, multiplied once per
/// row) or `s_row * s_w[u]` (per channel); last the fused activation.
///
/// Errors: [`KernelError::ShapeMismatch`] if a length disagrees with `size` (the scratch
/// included).
pub fn hybrid_fully_connected(
    size: Dense,
    asymmetric: bool,
    clamp: Clamp,
    ops: HybridOperands<'_>,
    output: &mut [u8],
    scratch: &mut [i8],
) -> Result<(), KernelError> {
    let scales_ok = match ops.scales {
        WeightScales::PerTensor(_) => true,
        WeightScales::PerChannel(s) => count(s.0) == Some(size.units),
    };
    if !size.check(ops.input.0, ops.weights.len(), ops.bias, output)
        || !scales_ok
        || scratch.len() < size.depth
    {
        return Err(KernelError::ShapeMismatch);
    }
    let Dense { batches, depth, units } = size;
    let outputs = batches * units;
    for i in 0..outputs {
        put(output, i, ops.bias.map_or(0.0, |b| b.get(i % units)));
    }
    let zero = (0..batches * depth).all(|i| ops.input.get(i) == 0.0);
    if !zero {
        let q = &mut scratch[..depth];
        for b in 0..batches {
            let row = F32Le(&ops.input.0[b * depth * 4..(b + 1) * depth * 4]);
            let rq =
                if asymmetric { quantize_asymmetric(row, q) } else { quantize_symmetric(row, q) };
            let row_scale = match ops.scales {
                WeightScales::PerTensor(s) => rq.scale * s,
                WeightScales::PerChannel(_) => rq.scale,
            };
            for u in 0..units {
                let w = &ops.weights[u * depth..(u + 1) * depth];
                let (mut dot, mut sum) = (0i32, 0i32);
                for (&w, &x) in w.iter().zip(q.iter()) {
                    dot = dot.wrapping_add(w as i32 * x as i32);
                    sum = sum.wrapping_add(w as i32);
                }
                if asymmetric {
                    dot = dot.wrapping_sub(sum.wrapping_mul(rq.offset));
                }
                let scale = match ops.scales {
                    WeightScales::PerTensor(_) => row_scale,
                    WeightScales::PerChannel(s) => row_scale * s.get(u),
                };
                let o = b * units + u;
                put(output, o, F32Le(output).get(o) + dot as f32 * scale);
            }
        }
    }
    for i in 0..outputs {
        put(output, i, clamp.apply(F32Le(output).get(i)));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::super::testing::{bytes, values};
    use super::*;
    use crate::engine::arith::FusedActivation;
    use std::{vec, vec::Vec};

    fn noise(i: usize) -> f32 {
        let x = (i as u32).wrapping_mul(2_654_435_761).rotate_left(11) >> 8;
        (x as f32 / (1u32 << 24) as f32) * 4.0 - 2.0
    }

    #[test]
    fn float_matches_f64() {
        let size = Dense { batches: 3, depth: 17, units: 5 };
        let x: Vec<f32> = (0..51).map(noise).collect();
        let w: Vec<f32> = (0..85).map(|i| noise(i + 100)).collect();
        let b: Vec<f32> = (0..5).map(|i| noise(i + 300)).collect();
        let (xb, wb, bb) = (bytes(&x), bytes(&w), bytes(&b));
        let mut out = vec![0u8; 60];
        let relu = Clamp::of(FusedActivation::Relu);
        fully_connected(size, relu, F32Le(&xb), F32Le(&wb), Some(F32Le(&bb)), &mut out).unwrap();
        for (i, got) in values(&out).iter().enumerate() {
            let (r, u) = (i / 5, i % 5);
            let t: f64 = (0..17).map(|d| x[r * 17 + d] as f64 * w[u * 17 + d] as f64).sum();
            assert!((*got as f64 - (t + b[u] as f64).max(0.0)).abs() <= 1e-5);
        }
        let short = fully_connected(size, relu, F32Le(&xb[..200]), F32Le(&wb), None, &mut out);
        assert_eq!(short, Err(KernelError::ShapeMismatch));
    }

    #[test]
    fn symmetric_quantization_edges() {
        let mut q = [0i8; 4];
        let r = quantize_symmetric(F32Le(&bytes(&[0.0, -0.0, 0.0, 0.0])), &mut q);
        assert_eq!((r, q), (RowQuantization { scale: 1.0, offset: 0 }, [0; 4]));
        // Ties round away from zero; the extreme maps to +-127 (range 127: the inverse is 1).
        let r = quantize_symmetric(F32Le(&bytes(&[-127.0, 0.5, -1.5, 2.5])), &mut q);
        assert_eq!(r.scale, 1.0);
        assert_eq!(q, [-127, 1, -2, 3]);
        let r = quantize_symmetric(F32Le(&bytes(&[f32::INFINITY, 1.0, -1.0, 0.0])), &mut q);
        assert!(r.scale.is_infinite());
        assert_eq!(q[1..], [0, 0, 0]);
        // A NaN row does not panic.
        quantize_symmetric(F32Le(&bytes(&[f32::NAN, 1.0, -1.0, 0.0])), &mut q);
    }

    #[test]
    fn asymmetric_quantization_edges() {
        let mut q = [0i8; 3];
        // All positive: the range starts at 0, zero point -128.
        let r = quantize_asymmetric(F32Le(&bytes(&[0.0, 1.0, 2.55])), &mut q);
        assert_eq!(r.offset, -128);
        assert_eq!(q, [-128, -28, 127]);
        // Symmetric-ish range: the zero point is near the middle, and dequantizes back within a step.
        let xs = [-1.0f32, 0.3, 2.0];
        let r = quantize_asymmetric(F32Le(&bytes(&xs)), &mut q);
        for (x, &v) in xs.iter().zip(&q) {
            assert!(((v as i32 - r.offset) as f32 * r.scale - x).abs() <= r.scale / 2.0 + 1e-6);
        }
        let r = quantize_asymmetric(F32Le(&bytes(&[0.0; 3])), &mut q);
        assert_eq!((r.scale, r.offset, q), (1.0, 0, [0; 3]));
        quantize_asymmetric(F32Le(&bytes(&[f32::NAN, f32::INFINITY, -1.0])), &mut q);
    }

    /// The hybrid product against the f64 product of the dequantized operands.
    #[test]
    fn hybrid_matches_the_dequantized_product() {
        let size = Dense { batches: 2, depth: 16, units: 4 };
        let x: Vec<f32> = (0..32).map(noise).collect();
        let w: Vec<i8> = (0..64i32).map(|i| (i * 37 % 255 - 127) as i8).collect();
        let scales = [0.01f32, 0.02, 0.005, 0.03];
        let b = [0.5f32, -0.25, 0.0, 1.0];
        let (xb, sb, bb) = (bytes(&x), bytes(&scales), bytes(&b));
        for asymmetric in [false, true] {
            for per_channel in [false, true] {
                let ws = if per_channel {
                    WeightScales::PerChannel(F32Le(&sb))
                } else {
                    WeightScales::PerTensor(0.01)
                };
                let ops = HybridOperands {
                    input: F32Le(&xb),
                    weights: &w,
                    scales: ws,
                    bias: Some(F32Le(&bb)),
                };
                let mut out = vec![0u8; 32];
                let mut scratch = [0i8; 16];
                hybrid_fully_connected(
                    size,
                    asymmetric,
                    Clamp::of(FusedActivation::None),
                    ops,
                    &mut out,
                    &mut scratch,
                )
                .unwrap();
                for (i, got) in values(&out).iter().enumerate() {
                    let (r, u) = (i / 4, i % 4);
                    let s = if per_channel { scales[u] } else { 0.01 };
                    let row = &x[r * 16..r * 16 + 16];
                    let exact: f64 =
                        (0..16).map(|d| row[d] as f64 * w[u * 16 + d] as f64 * s as f64).sum();
                    // Input quantization error: half a step per input, times the weights.
                    let step = row.iter().fold(0f32, |m, v| m.max(v.abs())) as f64 / 127.0 * 2.0;
                    let bound: f64 =
                        (0..16).map(|d| (w[u * 16 + d] as f64 * s as f64).abs()).sum::<f64>()
                            * step
                            / 2.0;
                    let err = (*got as f64 - (exact + b[u] as f64)).abs();
                    assert!(err <= bound + 1e-6, "{asymmetric} {per_channel} {i}: {err} > {bound}");
                }
            }
        }
    }

    #[test]
    fn hybrid_zero_input_is_the_bias_and_nan_does_not_panic() {
        let size = Dense { batches: 1, depth: 2, units: 2 };
        let w = [5i8, -7, 1, 1];
        let b = bytes(&[-3.0, 9.0]);
        let x = bytes(&[0.0, 0.0]);
        let mut out = vec![0u8; 8];
        let mut scratch = [0i8; 2];
        let ops = HybridOperands {
            input: F32Le(&x),
            weights: &w,
            scales: WeightScales::PerTensor(0.5),
            bias: Some(F32Le(&b)),
        };
        hybrid_fully_connected(
            size,
            true,
            Clamp::of(FusedActivation::Relu6),
            ops,
            &mut out,
            &mut scratch,
        )
        .unwrap();
        assert_eq!(values(&out), [0.0, 6.0]);
        let x = bytes(&[f32::NAN, 1.0]);
        let ops = HybridOperands { input: F32Le(&x), ..ops };
        hybrid_fully_connected(
            size,
            false,
            Clamp::of(FusedActivation::None),
            ops,
            &mut out,
            &mut scratch,
        )
        .unwrap();
        assert_eq!(
            hybrid_fully_connected(
                size,
                false,
                Clamp::of(FusedActivation::None),
                ops,
                &mut out,
                &mut [0i8; 1]
            ),
            Err(KernelError::ShapeMismatch)
        );
    }
}
