//! Float32 kernels (feature `op-float`): the operators of float32 models and the dynamic-range
//! ("hybrid") FULLY_CONNECTED, CONV_2D and DEPTHWISE_CONV_2D, with int8 weights and float32
//! activations.
//!
//! Each follows the order of operations of TFLite's reference kernels (`BUILTIN_REF`), so that
//! results agree to the last bits wherever the reference's own order is kept: sums accumulate
//! in `f32` in the reference's loop order, the bias is added after the sum, the fused activation
//! is `min(max(x, lo), hi)` last. `exp` and `tanh` are the `libm` crate's (`no_std` has none),
//! so LOGISTIC, TANH and SOFTMAX may differ from the reference's C library by an ulp or so.
//! `docs/engine.md` ("Float and hybrid arithmetic") writes the formulas out.
//!
//! Tensors are little-endian `f32` bytes of any alignment ([`F32Le`] to read, [`put`] to
//! write), as the int8 kernels' int32 biases are: weights are read in place from the model,
//! which need not be aligned. As every kernel here, they check slice lengths against their
//! shapes before touching data and never panic; NaN and infinite inputs propagate (or are
//! clamped by an activation) like in the reference, never trap.
//!
//! What they do not do: anything integer models need. Nothing here is linked into a build
//! without `op-float`.

pub mod dense;
pub mod hybrid;
pub mod window;

use super::broadcast::{extend, strides, volume, Broadcast, MAX_RANK};
use super::KernelError;
use crate::engine::arith::FusedActivation;

/// A read-only view of little-endian `f32` values stored as bytes (any alignment).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct F32Le<'a>(pub &'a [u8]);

impl<'a> F32Le<'a> {
    /// Number of whole values in the view.
    #[inline]
    pub fn len(&self) -> usize {
        self.0.len() / 4
    }

    /// True if the view holds no value.
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Value `i`; 0 past the end (callers check lengths first).
    #[inline]
    pub fn get(&self, i: usize) -> f32 {
        match i.checked_mul(4).and_then(|s| self.0.get(s..s + 4)) {
            Some(b) => f32::from_le_bytes([b[0], b[1], b[2], b[3]]),
            None => 0.0,
        }
    }
}

/// Writes `v` as value `i` of little-endian `f32` bytes `out` (nothing past the end: callers
/// check lengths first).
#[inline]
pub fn put(out: &mut [u8], i: usize, v: f32) {
    if let Some(b) = i.checked_mul(4).and_then(|s| out.get_mut(s..s + 4)) {
        b.copy_from_slice(&v.to_le_bytes());
    }
}

/// Number of `f32` values in `bytes`, if it holds a whole number of them.
#[inline]
pub fn count(bytes: &[u8]) -> Option<usize> {
    bytes.len().is_multiple_of(4).then_some(bytes.len() / 4)
}

/// The range a fused activation clamps to (TFLite's `CalculateActivationRange` for float).
#[derive(Clone, Copy, Debug, PartialEq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Clamp {
    /// Lower bound (`f32::MIN` for none: TFLite's `numeric_limits<float>::lowest()`).
    pub min: f32,
    /// Upper bound (`f32::MAX` for none).
    pub max: f32,
}

impl Clamp {
    /// The range of `activation`.
    pub const fn of(activation: FusedActivation) -> Clamp {
        match activation {
            FusedActivation::None => Clamp { min: f32::MIN, max: f32::MAX },
            FusedActivation::Relu => Clamp { min: 0.0, max: f32::MAX },
            FusedActivation::ReluN1To1 => Clamp { min: -1.0, max: 1.0 },
            FusedActivation::Relu6 => Clamp { min: 0.0, max: 6.0 },
        }
    }

    /// `min(max(x, lo), hi)` with C++'s `std::max`/`std::min` (a NaN stays NaN, infinities
    /// are clamped), TFLite's `ActivationFunctionWithMinMax`.
    #[inline]
    pub fn apply(&self, x: f32) -> f32 {
        let y = if x < self.min { self.min } else { x };
        if self.max < y {
            self.max
        } else {
            y
        }
    }
}

/// The elementwise operators with two inputs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Binary {
    /// ADD: `a + b`.
    Add,
    /// MUL: `a * b`.
    Mul,
}

/// ADD or MUL with NumPy broadcasting (rank up to [`MAX_RANK`]), then the fused activation:
/// `out = clamp(a op b)` (TFLite's reference `Add`/`Mul` and their broadcast forms).
///
/// Errors: [`KernelError::ShapeMismatch`] if a length disagrees with its shape or the shapes
/// do not broadcast to `output_shape` (checked before writing).
pub fn binary(
    op: Binary,
    clamp: Clamp,
    (input1, shape1): (F32Le<'_>, &[usize]),
    (input2, shape2): (F32Le<'_>, &[usize]),
    (output, output_shape): (&mut [u8], &[usize]),
) -> Result<(), KernelError> {
    let walk = Broadcast::new(
        (shape1, count(input1.0).ok_or(KernelError::ShapeMismatch)?),
        (shape2, count(input2.0).ok_or(KernelError::ShapeMismatch)?),
        (output_shape, count(output).ok_or(KernelError::ShapeMismatch)?),
    )?;
    let f = |a: f32, b: f32| {
        clamp.apply(match op {
            Binary::Add => a + b,
            Binary::Mul => a * b,
        })
    };
    walk.for_each(|i, at1, at2| put(output, i, f(input1.get(at1), input2.get(at2))));
    Ok(())
}

/// The one-input activations.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Unary {
    /// LOGISTIC: `1 / (1 + exp(-x))`, with TFLite's cut-offs (`1` above 16.619047, `exp(x)`
    /// below -9).
    Logistic,
    /// TANH.
    Tanh,
}

/// LOGISTIC or TANH elementwise (TFLite's reference float `Logistic`/`Tanh`).
///
/// Errors: [`KernelError::ShapeMismatch`] if the lengths differ or are not whole values.
pub fn unary(op: Unary, input: F32Le<'_>, output: &mut [u8]) -> Result<(), KernelError> {
    let n = count(output).ok_or(KernelError::ShapeMismatch)?;
    if count(input.0) != Some(n) {
        return Err(KernelError::ShapeMismatch);
    }
    for i in 0..n {
        let x = input.get(i);
        let y = match op {
            Unary::Logistic => logistic(x),
            Unary::Tanh => libm::tanhf(x),
        };
        put(output, i, y);
    }
    Ok(())
}

/// TFLite's reference float logistic.
fn logistic(x: f32) -> f32 {
    const CUTOFF_UPPER: f32 = 16.619_047;
    const CUTOFF_LOWER: f32 = -9.0;
    if x > CUTOFF_UPPER {
        1.0
    } else if x < CUTOFF_LOWER {
        libm::expf(x)
    } else {
        1.0 / (1.0 + libm::expf(-x))
    }
}

/// SOFTMAX over the last dimension (`depth` values per row): `e_c = exp((x_c - max) * beta)`,
/// `out_c = e_c / sum(e)` (TFLite's reference float `Softmax`).
///
/// Errors: [`KernelError::ShapeMismatch`] if the lengths differ or `depth` does not divide
/// them.
pub fn softmax(
    beta: f32,
    depth: usize,
    input: F32Le<'_>,
    output: &mut [u8],
) -> Result<(), KernelError> {
    let n = count(output).ok_or(KernelError::ShapeMismatch)?;
    if count(input.0) != Some(n) || depth == 0 || n % depth != 0 {
        return Err(KernelError::ShapeMismatch);
    }
    for row in 0..n / depth {
        let base = row * depth;
        let mut max = f32::MIN;
        for c in 0..depth {
            let x = input.get(base + c);
            max = if max < x { x } else { max };
        }
        let mut sum = 0.0f32;
        for c in 0..depth {
            let e = libm::expf((input.get(base + c) - max) * beta);
            put(output, base + c, e);
            sum += e;
        }
        for c in 0..depth {
            let e = F32Le(output).get(base + c);
            put(output, base + c, e / sum);
        }
    }
    Ok(())
}

/// MEAN over the axes flagged in `reduced` of an input of shape `shape` (rank up to
/// [`MAX_RANK`]): each output element is the `f32` sum of its inputs in row-major input order,
/// divided by their count (TFLite's reference `Mean` with a float temporary sum). The output
/// holds one value per combination of the kept axes.
///
/// Errors: [`KernelError::ShapeMismatch`] if a length disagrees with the shapes.
pub fn mean(
    input: F32Le<'_>,
    shape: &[usize],
    reduced: [bool; MAX_RANK],
    output: &mut [u8],
) -> Result<(), KernelError> {
    let bad = KernelError::ShapeMismatch;
    let dims = extend(shape).ok_or(bad)?;
    let pad = MAX_RANK - shape.len();
    let flag = |d: usize| d >= pad && reduced[d - pad];
    let mut kept = [1usize; MAX_RANK];
    let mut per_output = 1usize;
    for d in 0..MAX_RANK {
        if flag(d) {
            per_output = per_output.checked_mul(dims[d]).ok_or(bad)?;
        } else {
            kept[d] = dims[d];
        }
    }
    if volume(&dims) != count(input.0) || volume(&kept) != count(output) {
        return Err(bad);
    }
    let outputs = output.len() / 4;
    for i in 0..outputs {
        put(output, i, 0.0);
    }
    // Output strides over the input's multi-index (0 along reduced axes).
    let out_strides = strides(kept, dims).ok_or(bad)?;
    let mut index = [0usize; MAX_RANK];
    let mut at = 0usize;
    for i in 0..input.len() {
        let sum = F32Le(output).get(at) + input.get(i);
        put(output, at, sum);
        for d in (0..MAX_RANK).rev() {
            index[d] += 1;
            at += out_strides[d];
            if index[d] < dims[d] {
                break;
            }
            at -= out_strides[d] * dims[d];
            index[d] = 0;
        }
    }
    if per_output > 0 {
        for i in 0..outputs {
            put(output, i, F32Le(output).get(i) / per_output as f32);
        }
    }
    Ok(())
}

#[cfg(test)]
pub(crate) mod testing {
    //! Helpers of the float kernels' unit tests.
    use std::vec::Vec;

    /// `values` as little-endian bytes.
    pub fn bytes(values: &[f32]) -> Vec<u8> {
        values.iter().flat_map(|v| v.to_le_bytes()).collect()
    }

    /// Little-endian bytes as values.
    pub fn values(bytes: &[u8]) -> Vec<f32> {
        bytes.chunks_exact(4).map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]])).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::testing::{bytes, values};
    use super::*;
    use std::{vec, vec::Vec};

    #[test]
    fn clamp_is_tflites_min_max() {
        let relu6 = Clamp::of(FusedActivation::Relu6);
        assert_eq!(relu6.apply(-3.0), 0.0);
        assert_eq!(relu6.apply(7.5), 6.0);
        assert_eq!(relu6.apply(f32::INFINITY), 6.0);
        assert_eq!(relu6.apply(f32::NEG_INFINITY), 0.0);
        assert!(relu6.apply(f32::NAN).is_nan());
        let n1 = Clamp::of(FusedActivation::ReluN1To1);
        assert_eq!((n1.apply(-1.5), n1.apply(0.25), n1.apply(2.0)), (-1.0, 0.25, 1.0));
        let none = Clamp::of(FusedActivation::None);
        assert_eq!(none.apply(f32::INFINITY), f32::MAX);
        assert_eq!(none.apply(-1e30), -1e30);
        assert_eq!(Clamp::of(FusedActivation::Relu).apply(-0.0), -0.0);
    }

    #[test]
    fn binary_broadcasts_like_numpy() {
        let a = bytes(&[1.0, 2.0, 3.0, 4.0, 5.0, 6.0]);
        let b = bytes(&[10.0, -20.0, 0.5]);
        let mut out = vec![0u8; 24];
        let none = Clamp::of(FusedActivation::None);
        binary(Binary::Add, none, (F32Le(&a), &[2, 3]), (F32Le(&b), &[3]), (&mut out, &[2, 3]))
            .unwrap();
        assert_eq!(values(&out), [11.0, -18.0, 3.5, 14.0, -15.0, 6.5]);
        let col = bytes(&[2.0, -1.0]);
        let relu = Clamp::of(FusedActivation::Relu);
        binary(
            Binary::Mul,
            relu,
            (F32Le(&a), &[2, 3]),
            (F32Le(&col), &[2, 1]),
            (&mut out, &[2, 3]),
        )
        .unwrap();
        assert_eq!(values(&out), [2.0, 4.0, 6.0, 0.0, 0.0, 0.0]);
        // Shapes that do not broadcast, lengths that disagree.
        let r = binary(
            Binary::Add,
            none,
            (F32Le(&a), &[2, 3]),
            (F32Le(&col), &[2]),
            (&mut out, &[2, 3]),
        );
        assert_eq!(r, Err(KernelError::ShapeMismatch));
        let r = binary(
            Binary::Add,
            none,
            (F32Le(&a[..20]), &[2, 3]),
            (F32Le(&b), &[3]),
            (&mut out, &[2, 3]),
        );
        assert_eq!(r, Err(KernelError::ShapeMismatch));
    }

    #[test]
    fn binary_passes_nan_and_inf_through() {
        let a = bytes(&[f32::NAN, f32::INFINITY, f32::INFINITY, 1.0]);
        let b = bytes(&[1.0, f32::NEG_INFINITY, 1.0, f32::MAX]);
        let mut out = vec![0u8; 16];
        let relu6 = Clamp::of(FusedActivation::Relu6);
        binary(Binary::Add, relu6, (F32Le(&a), &[4]), (F32Le(&b), &[4]), (&mut out, &[4])).unwrap();
        let v = values(&out);
        assert!(v[0].is_nan() && v[1].is_nan());
        assert_eq!((v[2], v[3]), (6.0, 6.0));
    }

    #[test]
    fn logistic_and_tanh_against_f64() {
        let xs = [-100.0f32, -9.5, -9.0, -1.0, 0.0, 0.5, 16.6, 16.7, 100.0, f32::INFINITY];
        let input = bytes(&xs);
        let mut out = vec![0u8; input.len()];
        unary(Unary::Logistic, F32Le(&input), &mut out).unwrap();
        for (x, y) in xs.iter().zip(values(&out)) {
            let exact = 1.0 / (1.0 + (-(*x as f64)).exp());
            assert!((y as f64 - exact).abs() <= 1e-6, "logistic({x}) = {y}, not {exact}");
        }
        unary(Unary::Tanh, F32Le(&input), &mut out).unwrap();
        for (x, y) in xs.iter().zip(values(&out)) {
            assert!((y as f64 - (*x as f64).tanh()).abs() <= 1e-6, "tanh({x}) = {y}");
        }
        let nan = bytes(&[f32::NAN, f32::NEG_INFINITY]);
        let mut out = vec![0u8; 8];
        unary(Unary::Logistic, F32Le(&nan), &mut out).unwrap();
        assert!(values(&out)[0].is_nan());
        assert_eq!(values(&out)[1], 0.0);
        assert_eq!(unary(Unary::Tanh, F32Le(&nan), &mut [0u8; 4]), Err(KernelError::ShapeMismatch));
    }

    #[test]
    fn softmax_against_f64_and_at_its_edges() {
        let xs = [1.0f32, 2.0, 3.0, -1000.0, 0.0, 1000.0];
        let input = bytes(&xs);
        let mut out = vec![0u8; input.len()];
        softmax(0.5, 3, F32Le(&input), &mut out).unwrap();
        let y = values(&out);
        for row in 0..2 {
            let r = &xs[row * 3..row * 3 + 3];
            let max = r.iter().fold(f64::MIN, |m, &x| m.max(x as f64));
            let e: Vec<f64> = r.iter().map(|&x| ((x as f64 - max) * 0.5).exp()).collect();
            let s: f64 = e.iter().sum();
            for c in 0..3 {
                assert!((y[row * 3 + c] as f64 - e[c] / s).abs() <= 1e-7);
            }
        }
        // A NaN row stays NaN (no panic); an infinite row's maximum gives NaN like the reference.
        let input = bytes(&[f32::NAN, 1.0, f32::INFINITY, 1.0]);
        let mut out = vec![0u8; 16];
        softmax(1.0, 2, F32Le(&input), &mut out).unwrap();
        assert!(values(&out)[0].is_nan());
        assert_eq!(softmax(1.0, 3, F32Le(&input), &mut out), Err(KernelError::ShapeMismatch));
        assert_eq!(softmax(1.0, 0, F32Le(&input), &mut out), Err(KernelError::ShapeMismatch));
    }

    #[test]
    fn mean_against_f64() {
        // [2, 3, 4], reduced over axes 0 and 2: three outputs.
        let xs: Vec<f32> = (0..24).map(|i| (i as f32) * 0.37 - 3.0).collect();
        let input = bytes(&xs);
        let mut out = vec![0u8; 12];
        let mut reduced = [false; MAX_RANK];
        reduced[0] = true;
        reduced[2] = true;
        mean(F32Le(&input), &[2, 3, 4], reduced, &mut out).unwrap();
        let y = values(&out);
        for (j, got) in y.iter().enumerate() {
            let mut s = 0f64;
            for a in 0..2 {
                for c in 0..4 {
                    s += xs[a * 12 + j * 4 + c] as f64;
                }
            }
            assert!((*got as f64 - s / 8.0).abs() <= 1e-6, "{j}: {got}");
        }
        // Nothing reduced: a copy. Wrong output size: refused.
        let mut out = vec![0u8; 96];
        mean(F32Le(&input), &[2, 3, 4], [false; MAX_RANK], &mut out).unwrap();
        assert_eq!(values(&out), xs);
        assert_eq!(
            mean(F32Le(&input), &[2, 3, 4], reduced, &mut [0u8; 8]),
            Err(KernelError::ShapeMismatch)
        );
        let inf = bytes(&[f32::INFINITY, f32::NEG_INFINITY]);
        let mut one = [0u8; 4];
        mean(F32Le(&inf), &[2], [true, false, false, false, false, false], &mut one).unwrap();
        assert!(values(&one)[0].is_nan());
    }
}
