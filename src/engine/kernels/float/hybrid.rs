//! Dynamic-range ("hybrid") CONV_2D and DEPTHWISE_CONV_2D: int8 weights (zero points 0), float32
//! input, bias and output, as TFLite's `conv.cc` (`EvalHybrid`, `EvalHybridPerChannel`) and
//! `depthwise_conv.cc` (`EvalHybridPerChannel`) compute them with the reference kernels
//! (`HybridConvPerChannel`, `DepthwiseConvHybridPerChannel`).
//!
//! Each batch (one `[h, w, c]` image) is quantized on the fly to int8 with one scale `s_b` (and
//! one zero point `z_b` when asymmetric), the window products are accumulated in `i32`, and the
//! sum is scaled back to float with the weights' scale:
//!
//! ```text
//! per-tensor CONV_2D (symmetric, z_b = 0):  out = clamp((0 + acc · (s_b · s_w)) + bias[o])
//! per-channel CONV_2D (asymmetric):          out = clamp((acc · s_w[o]) · s_b + bias[o])
//! DEPTHWISE_CONV_2D (asymmetric):            out = clamp(acc · (s_w[o] · s_b) + bias[o])
//! acc = Σ over the taps inside the input of w · (q - z_b)
//! ```
//!
//! every product and sum in `f32` in the order written (the reference's), taps in the padding
//! skipped (padding holds the zero point, real 0). An all-zero batch quantizes to zeros with
//! `s_b = 1` and `z_b = 0`, so its outputs are the clamped bias.

use super::dense::{quantize_asymmetric, quantize_symmetric, RowQuantization, WeightScales};
use super::window::Shapes;
use super::{count, put, Clamp, F32Le};
use crate::engine::kernels::geometry::Geometry;
use crate::engine::kernels::KernelError;

/// The operands of a hybrid convolution.
#[derive(Clone, Copy, Debug)]
pub struct HybridConvOperands<'a> {
    /// The float input, `[n, h, w, c]`.
    pub input: F32Le<'a>,
    /// The int8 weights (`[out_c, kh, kw, in_c / groups]` for CONV_2D, `[1, kh, kw, out_c]`
    /// for DEPTHWISE_CONV_2D).
    pub filter: &'a [i8],
    /// Their scales: one (CONV_2D only), or one per output channel.
    pub scales: WeightScales<'a>,
    /// One float bias per output channel, if any.
    pub bias: Option<F32Le<'a>>,
    /// The three shapes.
    pub shapes: Shapes,
}

impl HybridConvOperands<'_> {
    /// Checks lengths against the shapes; returns the elements of one input batch.
    fn check(&self, output: &[u8], out_c: usize, scratch: usize) -> Result<usize, KernelError> {
        let s = self.shapes;
        let volume = |d: [usize; 4]| d.iter().try_fold(1usize, |a, &x| a.checked_mul(x));
        let per_batch = volume([1, s.input[1], s.input[2], s.input[3]]);
        let scales_ok = match self.scales {
            WeightScales::PerTensor(_) => true,
            WeightScales::PerChannel(v) => count(v.0) == Some(out_c),
        };
        let ok = volume(s.input) == count(self.input.0)
            && volume(s.filter) == Some(self.filter.len())
            && volume(s.output) == count(output)
            && self.bias.is_none_or(|b| count(b.0) == Some(out_c))
            && s.input[0] == s.output[0]
            && s.output[3] == out_c
            && scales_ok
            && per_batch.is_some_and(|n| n <= scratch);
        match per_batch {
            Some(n) if ok => Ok(n),
            _ => Err(KernelError::ShapeMismatch),
        }
    }

    /// Quantizes batch `b` into `q` (`n` values): its scale and zero point.
    fn quantize(&self, b: usize, n: usize, asymmetric: bool, q: &mut [i8]) -> RowQuantization {
        let row = F32Le(self.input.0.get(b * n * 4..(b + 1) * n * 4).unwrap_or(&[]));
        let q = &mut q[..n];
        if asymmetric {
            quantize_asymmetric(row, q)
        } else {
            quantize_symmetric(row, q)
        }
    }
}

/// Hybrid CONV_2D (module docs): per-tensor weights quantize the input symmetrically, per-channel
/// weights asymmetrically (TFLite's two paths); `scratch` holds one quantized input batch.
///
/// Errors: [`KernelError::ShapeMismatch`] if a length disagrees with the shapes (the scratch
/// included) or the channels do not divide into groups, or per-tensor weights with groups;
/// [`KernelError::Unsupported`] for a zero stride or dilation.
pub fn hybrid_conv(
    geometry: Geometry,
    clamp: Clamp,
    ops: HybridConvOperands<'_>,
    output: &mut [u8],
    scratch: &mut [i8],
) -> Result<(), KernelError> {
    let [batches, in_h, in_w, in_c] = ops.shapes.input;
    let [out_c, kh, kw, depth] = ops.shapes.filter;
    let [_, out_h, out_w, _] = ops.shapes.output;
    let n = ops.check(output, out_c, scratch.len())?;
    if depth == 0 || in_c % depth != 0 {
        return Err(KernelError::ShapeMismatch);
    }
    let groups = in_c / depth;
    let per_tensor = matches!(ops.scales, WeightScales::PerTensor(_));
    if groups == 0 || out_c % groups != 0 || (per_tensor && groups != 1) {
        return Err(KernelError::ShapeMismatch);
    }
    if !geometry.fits(out_h, out_w, kh, kw) {
        return Err(KernelError::Unsupported);
    }
    let per_group = out_c / groups;
    for b in 0..batches {
        let rq = ops.quantize(b, n, !per_tensor, scratch);
        let q = &scratch[..n];
        for y in 0..out_h {
            for x in 0..out_w {
                for oc in 0..out_c {
                    let group = oc / per_group;
                    let mut acc = 0i32;
                    for ky in 0..kh {
                        let Some(iy) = geometry.in_y(y, ky, in_h) else { continue };
                        for kx in 0..kw {
                            let Some(ix) = geometry.in_x(x, kx, in_w) else { continue };
                            let at = (iy * in_w + ix) * in_c + group * depth;
                            let f = ((oc * kh + ky) * kw + kx) * depth;
                            for ic in 0..depth {
                                let v = q[at + ic] as i32 - rq.offset;
                                acc = acc.wrapping_add((ops.filter[f + ic] as i32).wrapping_mul(v));
                            }
                        }
                    }
                    let scaled = match ops.scales {
                        WeightScales::PerTensor(s) => 0.0 + acc as f32 * (rq.scale * s),
                        WeightScales::PerChannel(s) => acc as f32 * s.get(oc) * rq.scale,
                    };
                    let bias = ops.bias.map_or(0.0, |bias| bias.get(oc));
                    let o = ((b * out_h + y) * out_w + x) * out_c + oc;
                    put(output, o, clamp.apply(scaled + bias));
                }
            }
        }
    }
    Ok(())
}

/// Hybrid DEPTHWISE_CONV_2D (module docs): per-channel weights, the input quantized
/// asymmetrically; `scratch` holds one quantized input batch.
///
/// Errors: as [`hybrid_conv`]; also if the output channels are not
/// `in_c * depth_multiplier` or the weights have one scale (TFLite requires one per channel).
pub fn hybrid_depthwise(
    geometry: Geometry,
    depth_multiplier: usize,
    clamp: Clamp,
    ops: HybridConvOperands<'_>,
    output: &mut [u8],
    scratch: &mut [i8],
) -> Result<(), KernelError> {
    let [batches, in_h, in_w, in_c] = ops.shapes.input;
    let [one, kh, kw, out_c] = ops.shapes.filter;
    let [_, out_h, out_w, _] = ops.shapes.output;
    let n = ops.check(output, out_c, scratch.len())?;
    let WeightScales::PerChannel(scales) = ops.scales else {
        return Err(KernelError::ShapeMismatch);
    };
    if one != 1 || in_c.checked_mul(depth_multiplier) != Some(out_c) {
        return Err(KernelError::ShapeMismatch);
    }
    if !geometry.fits(out_h, out_w, kh, kw) {
        return Err(KernelError::Unsupported);
    }
    for b in 0..batches {
        let rq = ops.quantize(b, n, true, scratch);
        let q = &scratch[..n];
        for y in 0..out_h {
            for x in 0..out_w {
                for ic in 0..in_c {
                    for m in 0..depth_multiplier {
                        let oc = ic * depth_multiplier + m;
                        let mut acc = 0i32;
                        for ky in 0..kh {
                            let Some(iy) = geometry.in_y(y, ky, in_h) else { continue };
                            for kx in 0..kw {
                                let Some(ix) = geometry.in_x(x, kx, in_w) else { continue };
                                let v = q[(iy * in_w + ix) * in_c + ic] as i32 - rq.offset;
                                let w = ops.filter[(ky * kw + kx) * out_c + oc] as i32;
                                acc = acc.wrapping_add(w.wrapping_mul(v));
                            }
                        }
                        let scaled = acc as f32 * (scales.get(oc) * rq.scale);
                        let bias = ops.bias.map_or(0.0, |bias| bias.get(oc));
                        let o = ((b * out_h + y) * out_w + x) * out_c + oc;
                        put(output, o, clamp.apply(scaled + bias));
                    }
                }
            }
        }
    }
    Ok(())
}
