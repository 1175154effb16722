//! The windowed float32 kernels: CONV_2D, DEPTHWISE_CONV_2D, AVERAGE_POOL_2D and MAX_POOL_2D
//! (NHWC), in the loop order of TFLite's reference float kernels (`reference_ops::Conv`,
//! `DepthwiseConv`, `AveragePool`, `MaxPool`).

use super::{count, put, Clamp, F32Le};
use crate::engine::kernels::geometry::Geometry;
use crate::engine::kernels::KernelError;

/// The shapes of a windowed operator: input `[n, h, w, c]`, filter (`[out_c, kh, kw, in_c /
/// groups]` for CONV_2D, `[1, kh, kw, out_c]` for DEPTHWISE_CONV_2D, `[1, kh, kw, 1]` for
/// pooling), output `[n, oh, ow, out_c]`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Shapes {
    /// Input shape.
    pub input: [usize; 4],
    /// Filter shape.
    pub filter: [usize; 4],
    /// Output shape.
    pub output: [usize; 4],
}

fn volume(s: [usize; 4]) -> Option<usize> {
    s.iter().try_fold(1usize, |a, &d| a.checked_mul(d))
}

/// The operands of a convolution.
#[derive(Clone, Copy, Debug)]
pub struct ConvOperands<'a> {
    /// Input values.
    pub input: F32Le<'a>,
    /// Filter values.
    pub filter: F32Le<'a>,
    /// One bias value per output channel, if any.
    pub bias: Option<F32Le<'a>>,
    /// The three shapes.
    pub shapes: Shapes,
}

impl ConvOperands<'_> {
    /// Checks the lengths against the shapes (and the output's, `output` bytes).
    fn check(&self, output: &[u8], out_c: usize) -> Result<(), KernelError> {
        let s = self.shapes;
        let ok = volume(s.input) == count(self.input.0)
            && volume(s.filter) == count(self.filter.0)
            && volume(s.output) == count(output)
            && self.bias.is_none_or(|b| count(b.0) == Some(out_c))
            && s.input[0] == s.output[0];
        if ok {
            Ok(())
        } else {
            Err(KernelError::ShapeMismatch)
        }
    }
}

/// CONV_2D: for every output `(b, y, x, oc)`, `clamp(sum + bias[oc])` where `sum` adds
/// `input[b, iy, ix, g * d + ic] * filter[oc, ky, kx, ic]` over the window rows `ky`, columns
/// `kx` (inside the input) and input channels `ic < d` of the channel's group `g` (`d` the
/// filter's depth).
///
/// Errors: [`KernelError::ShapeMismatch`] if a length disagrees with the shapes or the channels
/// do not divide into groups; [`KernelError::Unsupported`] for a zero stride or dilation.
pub fn conv(
    geometry: Geometry,
    clamp: Clamp,
    ops: ConvOperands<'_>,
    output: &mut [u8],
) -> Result<(), KernelError> {
    let [batches, in_h, in_w, in_c] = ops.shapes.input;
    let [out_c, kh, kw, depth] = ops.shapes.filter;
    let [_, out_h, out_w, out_c2] = ops.shapes.output;
    ops.check(output, out_c)?;
    if out_c != out_c2 || depth == 0 || in_c % depth != 0 {
        return Err(KernelError::ShapeMismatch);
    }
    let groups = in_c / depth;
    if groups == 0 || out_c % groups != 0 {
        return Err(KernelError::ShapeMismatch);
    }
    if !geometry.fits(out_h, out_w, kh, kw) {
        return Err(KernelError::Unsupported);
    }
    let per_group = out_c / groups;
    let mut o = 0usize;
    for b in 0..batches {
        for y in 0..out_h {
            for x in 0..out_w {
                for oc in 0..out_c {
                    let group = oc / per_group;
                    let mut total = 0.0f32;
                    for ky in 0..kh {
                        let Some(iy) = geometry.in_y(y, ky, in_h) else { continue };
                        for kx in 0..kw {
                            let Some(ix) = geometry.in_x(x, kx, in_w) else { continue };
                            let at = ((b * in_h + iy) * in_w + ix) * in_c + group * depth;
                            let f = ((oc * kh + ky) * kw + kx) * depth;
                            for ic in 0..depth {
                                total += ops.input.get(at + ic) * ops.filter.get(f + ic);
                            }
                        }
                    }
                    let bias = ops.bias.map_or(0.0, |bias| bias.get(oc));
                    put(output, o, clamp.apply(total + bias));
                    o += 1;
                }
            }
        }
    }
    Ok(())
}

/// DEPTHWISE_CONV_2D: for every output `(b, y, x, ic * m + j)`, `clamp(sum + bias)` where
/// `sum` adds `input[b, iy, ix, ic] * filter[0, ky, kx, ic * m + j]` over the window (inside
/// the input), `m` the depth multiplier.
///
/// Errors: as [`conv`]; also if the output channels are not `in_c * depth_multiplier`.
pub fn depthwise(
    geometry: Geometry,
    depth_multiplier: usize,
    clamp: Clamp,
    ops: ConvOperands<'_>,
    output: &mut [u8],
) -> Result<(), KernelError> {
    let [batches, in_h, in_w, in_c] = ops.shapes.input;
    let [one, kh, kw, out_c] = ops.shapes.filter;
    let [_, out_h, out_w, out_c2] = ops.shapes.output;
    ops.check(output, out_c)?;
    if one != 1 || out_c != out_c2 || in_c.checked_mul(depth_multiplier) != Some(out_c) {
        return Err(KernelError::ShapeMismatch);
    }
    if !geometry.fits(out_h, out_w, kh, kw) {
        return Err(KernelError::Unsupported);
    }
    for b in 0..batches {
        for y in 0..out_h {
            for x in 0..out_w {
                for ic in 0..in_c {
                    for m in 0..depth_multiplier {
                        let oc = ic * depth_multiplier + m;
                        let mut total = 0.0f32;
                        for ky in 0..kh {
                            let Some(iy) = geometry.in_y(y, ky, in_h) else { continue };
                            for kx in 0..kw {
                                let Some(ix) = geometry.in_x(x, kx, in_w) else { continue };
                                let input =
                                    ops.input.get(((b * in_h + iy) * in_w + ix) * in_c + ic);
                                total += input * ops.filter.get((ky * kw + kx) * out_c + oc);
                            }
                        }
                        let bias = ops.bias.map_or(0.0, |bias| bias.get(oc));
                        let o = ((b * out_h + y) * out_w + x) * out_c + oc;
                        put(output, o, clamp.apply(total + bias));
                    }
                }
            }
        }
    }
    Ok(())
}

/// Which reduction a pooling window applies (a byte in an operator record: `NoUninit` to write,
/// `CheckedBitPattern` to read back checked).
#[derive(Clone, Copy, Debug, PartialEq, Eq, bytemuck::NoUninit, bytemuck::CheckedBitPattern)]
#[repr(u8)]
pub enum Pool {
    /// AVERAGE_POOL_2D: the `f32` sum of the window's inputs (inside the input) divided by their
    /// count.
    Average = 0,
    /// MAX_POOL_2D: the largest of the window's inputs (`f32::MIN` to start, as the reference's
    /// `lowest()`).
    Max = 1,
}

/// AVERAGE_POOL_2D or MAX_POOL_2D of a `filter_h x filter_w` window (`shapes.filter` is
/// `[1, filter_h, filter_w, 1]`), then the clamp.
///
/// Errors: [`KernelError::ShapeMismatch`] if a length disagrees with the shapes;
/// [`KernelError::Unsupported`] for a zero stride or a window that covers no input.
pub fn pool(
    kind: Pool,
    geometry: Geometry,
    clamp: Clamp,
    input: F32Le<'_>,
    shapes: Shapes,
    output: &mut [u8],
) -> Result<(), KernelError> {
    let [batches, in_h, in_w, depth] = shapes.input;
    let [_, kh, kw, _] = shapes.filter;
    let [out_b, out_h, out_w, out_c] = shapes.output;
    if volume(shapes.input) != count(input.0)
        || volume(shapes.output) != count(output)
        || out_b != batches
        || out_c != depth
    {
        return Err(KernelError::ShapeMismatch);
    }
    let geometry = Geometry { dilation_h: 1, dilation_w: 1, ..geometry };
    if !geometry.fits(out_h, out_w, kh, kw) {
        return Err(KernelError::Unsupported);
    }
    for b in 0..batches {
        for y in 0..out_h {
            for x in 0..out_w {
                for c in 0..depth {
                    let (mut total, mut n, mut max) = (0.0f32, 0u32, f32::MIN);
                    for ky in 0..kh {
                        let Some(iy) = geometry.in_y(y, ky, in_h) else { continue };
                        for kx in 0..kw {
                            let Some(ix) = geometry.in_x(x, kx, in_w) else { continue };
                            let v = input.get(((b * in_h + iy) * in_w + ix) * depth + c);
                            total += v;
                            max = if max < v { v } else { max };
                            n += 1;
                        }
                    }
                    if n == 0 {
                        return Err(KernelError::Unsupported);
                    }
                    let v = match kind {
                        Pool::Average => total / n as f32,
                        Pool::Max => max,
                    };
                    put(output, ((b * out_h + y) * out_w + x) * depth + c, clamp.apply(v));
                }
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::super::testing::{bytes, values};
    use super::*;
    use crate::engine::arith::FusedActivation;
    use std::{vec, vec::Vec};

    /// A deterministic pseudo-random value in [-2, 2).
    fn noise(i: usize) -> f32 {
        let x = (i as u32).wrapping_mul(2_654_435_761).rotate_left(13) >> 8;
        (x as f32 / (1u32 << 24) as f32) * 4.0 - 2.0
    }

    fn geometry(stride: usize, dilation: usize, pad: usize) -> Geometry {
        Geometry {
            stride_h: stride,
            stride_w: stride,
            dilation_h: dilation,
            dilation_w: dilation,
            pad_h: pad,
            pad_w: pad,
        }
    }

    /// CONV_2D in f64, straight from the definition (groups included).
    fn conv_f64(g: Geometry, s: Shapes, input: &[f32], filter: &[f32], bias: &[f32]) -> Vec<f64> {
        let [n, h, w, c] = s.input;
        let [oc_n, kh, kw, d] = s.filter;
        let [_, oh, ow, _] = s.output;
        let per_group = oc_n / (c / d);
        let mut out = Vec::new();
        for b in 0..n {
            for y in 0..oh {
                for x in 0..ow {
                    for oc in 0..oc_n {
                        let mut t = 0f64;
                        for ky in 0..kh {
                            for kx in 0..kw {
                                let iy = (y * g.stride_h + ky * g.dilation_h) as isize
                                    - g.pad_h as isize;
                                let ix = (x * g.stride_w + kx * g.dilation_w) as isize
                                    - g.pad_w as isize;
                                if iy < 0 || ix < 0 || iy >= h as isize || ix >= w as isize {
                                    continue;
                                }
                                for ic in 0..d {
                                    let i = ((b * h + iy as usize) * w + ix as usize) * c
                                        + (oc / per_group) * d
                                        + ic;
                                    t += input[i] as f64
                                        * filter[((oc * kh + ky) * kw + kx) * d + ic] as f64;
                                }
                            }
                        }
                        out.push(t + bias[oc] as f64);
                    }
                }
            }
        }
        out
    }

    #[test]
    fn conv_matches_f64_with_padding_stride_dilation_and_groups() {
        for (stride, dilation, pad, groups) in
            [(1, 1, 0, 1), (2, 1, 1, 1), (1, 2, 2, 1), (1, 1, 1, 2)]
        {
            let (h, w, c, oc, k) = (7, 6, 4, 6, 3);
            let g = geometry(stride, dilation, pad);
            let span = (k - 1) * dilation + 1;
            let oh = (h + 2 * pad - span) / stride + 1;
            let ow = (w + 2 * pad - span) / stride + 1;
            let shapes = Shapes {
                input: [1, h, w, c],
                filter: [oc, k, k, c / groups],
                output: [1, oh, ow, oc],
            };
            let input: Vec<f32> = (0..h * w * c).map(noise).collect();
            let filter: Vec<f32> = (0..oc * k * k * c / groups).map(|i| noise(i + 999)).collect();
            let bias: Vec<f32> = (0..oc).map(|i| noise(i + 77)).collect();
            let (ib, fb, bb) = (bytes(&input), bytes(&filter), bytes(&bias));
            let ops = ConvOperands {
                input: F32Le(&ib),
                filter: F32Le(&fb),
                bias: Some(F32Le(&bb)),
                shapes,
            };
            let mut out = vec![0u8; oh * ow * oc * 4];
            conv(g, Clamp::of(FusedActivation::None), ops, &mut out).unwrap();
            let exact = conv_f64(g, shapes, &input, &filter, &bias);
            for (got, want) in values(&out).iter().zip(&exact) {
                assert!((*got as f64 - want).abs() <= 1e-5, "{got} vs {want}");
            }
            // RELU6 clamps the same sums.
            conv(g, Clamp::of(FusedActivation::Relu6), ops, &mut out).unwrap();
            for (got, want) in values(&out).iter().zip(&exact) {
                assert!((*got as f64 - want.clamp(0.0, 6.0)).abs() <= 1e-5);
            }
        }
    }

    #[test]
    fn conv_refuses_bad_lengths_and_survives_nan() {
        let shapes = Shapes { input: [1, 2, 2, 1], filter: [1, 1, 1, 1], output: [1, 2, 2, 1] };
        let input = bytes(&[f32::NAN, f32::INFINITY, -1.0, 1.0]);
        let filter = bytes(&[2.0]);
        let ops = ConvOperands { input: F32Le(&input), filter: F32Le(&filter), bias: None, shapes };
        let mut out = vec![0u8; 16];
        conv(geometry(1, 1, 0), Clamp::of(FusedActivation::Relu), ops, &mut out).unwrap();
        let v = values(&out);
        assert!(v[0].is_nan());
        assert_eq!(&v[1..], [f32::MAX, 0.0, 2.0]);
        assert_eq!(
            conv(geometry(1, 1, 0), Clamp::of(FusedActivation::None), ops, &mut out[..12]),
            Err(KernelError::ShapeMismatch)
        );
        let bias = bytes(&[1.0, 2.0]);
        let wrong = ConvOperands { bias: Some(F32Le(&bias)), ..ops };
        assert_eq!(
            conv(geometry(1, 1, 0), Clamp::of(FusedActivation::None), wrong, &mut out),
            Err(KernelError::ShapeMismatch)
        );
        assert_eq!(
            conv(geometry(0, 1, 0), Clamp::of(FusedActivation::None), ops, &mut out),
            Err(KernelError::Unsupported)
        );
    }

    #[test]
    fn depthwise_matches_f64() {
        let (h, w, c, m, k) = (5, 6, 3, 2, 3);
        let g = geometry(1, 1, 1);
        let shapes =
            Shapes { input: [1, h, w, c], filter: [1, k, k, c * m], output: [1, h, w, c * m] };
        let input: Vec<f32> = (0..h * w * c).map(noise).collect();
        let filter: Vec<f32> = (0..k * k * c * m).map(|i| noise(i + 5)).collect();
        let (ib, fb) = (bytes(&input), bytes(&filter));
        let ops = ConvOperands { input: F32Le(&ib), filter: F32Le(&fb), bias: None, shapes };
        let mut out = vec![0u8; h * w * c * m * 4];
        depthwise(g, m, Clamp::of(FusedActivation::ReluN1To1), ops, &mut out).unwrap();
        let got = values(&out);
        for y in 0..h {
            for x in 0..w {
                for oc in 0..c * m {
                    let mut t = 0f64;
                    for ky in 0..k {
                        for kx in 0..k {
                            let (iy, ix) = ((y + ky) as isize - 1, (x + kx) as isize - 1);
                            if iy < 0 || ix < 0 || iy >= h as isize || ix >= w as isize {
                                continue;
                            }
                            t += input[(iy as usize * w + ix as usize) * c + oc / m] as f64
                                * filter[(ky * k + kx) * c * m + oc] as f64;
                        }
                    }
                    let o = got[(y * w + x) * c * m + oc] as f64;
                    assert!((o - t.clamp(-1.0, 1.0)).abs() <= 1e-6);
                }
            }
        }
        assert_eq!(
            depthwise(g, 3, Clamp::of(FusedActivation::None), ops, &mut out),
            Err(KernelError::ShapeMismatch)
        );
    }

    #[test]
    fn pooling_counts_only_the_input() {
        // 3x3 input, 2x2 window, stride 2, SAME padding (no leading pad): the last row and
        // column average fewer values.
        let input: Vec<f32> = (1..=9).map(|v| v as f32).collect();
        let ib = bytes(&input);
        let shapes = Shapes { input: [1, 3, 3, 1], filter: [1, 2, 2, 1], output: [1, 2, 2, 1] };
        let g = geometry(2, 1, 0);
        let mut out = vec![0u8; 16];
        pool(Pool::Average, g, Clamp::of(FusedActivation::None), F32Le(&ib), shapes, &mut out)
            .unwrap();
        assert_eq!(values(&out), [3.0, 4.5, 7.5, 9.0]);
        pool(Pool::Max, g, Clamp::of(FusedActivation::Relu6), F32Le(&ib), shapes, &mut out)
            .unwrap();
        assert_eq!(values(&out), [5.0, 6.0, 6.0, 6.0]);
        let nan = bytes(&[f32::NAN; 9]);
        pool(Pool::Average, g, Clamp::of(FusedActivation::None), F32Le(&nan), shapes, &mut out)
            .unwrap();
        assert!(values(&out).iter().all(|v| v.is_nan()));
        // `max < NaN` is false: NaNs never replace the starting lowest value, as in the reference.
        pool(Pool::Max, g, Clamp::of(FusedActivation::None), F32Le(&nan), shapes, &mut out)
            .unwrap();
        assert!(values(&out).iter().all(|&v| v == f32::MIN));
        assert_eq!(
            pool(
                Pool::Max,
                g,
                Clamp::of(FusedActivation::None),
                F32Le(&ib[..32]),
                shapes,
                &mut out
            ),
            Err(KernelError::ShapeMismatch)
        );
    }
}
