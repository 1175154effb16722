//! What the kernel property tests (`tests/kernels_*.rs`) share: deliberately simple scalar
//! references, a seeded generator, strategies, and the convolution cases.
//!
//! The references share no code with the kernels: the fixed-point primitives are written as exact
//! rational roundings in `i128` (`floor((a*b + 2^30) / 2^31)` for the doubling high multiply,
//! round-half-away for the power-of-two division), accumulators are `i64`, and indices are
//! computed with signed arithmetic straight from the operator definitions.

#![allow(dead_code)]

use edge_reflex::engine::arith::{FusedActivation, QuantizedMultiplier};
use edge_reflex::engine::kernels::geometry::Geometry;
use edge_reflex::engine::kernels::{padding, I32Le, Padding, Requantize};
use proptest::prelude::*;

// ---------------------------------------------------------------- simple references

/// Doubling high multiply as an exact rounding: nearest integer to a*b/2^31, ties toward +inf
/// (which is what the nudges 2^30 / 1-2^30 amount to), saturating MIN*MIN.
pub fn ref_srdhm(a: i32, b: i32) -> i32 {
    if a == i32::MIN && b == i32::MIN {
        return i32::MAX;
    }
    let p = a as i128 * b as i128 + (1i128 << 30);
    p.div_euclid(1i128 << 31) as i32
}

/// x / 2^e rounded to nearest, ties away from zero.
pub fn ref_rdbpot(x: i32, e: i32) -> i32 {
    if e == 0 {
        return x;
    }
    let half = 1i128 << (e - 1);
    let mag = ((x as i128).abs() + half) >> e;
    (if x < 0 { -mag } else { mag }) as i32
}

pub fn ref_mbqm(x: i32, m: QuantizedMultiplier) -> i32 {
    let (left, right) = if m.shift > 0 { (m.shift, 0) } else { (0, -m.shift) };
    ref_rdbpot(ref_srdhm(x.wrapping_mul(1 << left), m.multiplier), right)
}

/// FULLY_CONNECTED's rescale: the full multiplier, one round-half-up division, written as an
/// exact floor division.
pub fn ref_single_rounding(x: i64, m: QuantizedMultiplier) -> i64 {
    let denom = 1i128 << (31 - m.shift);
    (x as i128 * m.multiplier as i128 + denom / 2).div_euclid(denom) as i64
}

pub fn clamp8(v: i64, lo: i32, hi: i32) -> i8 {
    v.clamp(lo as i64, hi as i64) as i8
}

/// A small deterministic generator for tensor contents.
pub struct Rng(pub u64);
impl Rng {
    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        self.0 >> 33
    }
    pub fn i8s(&mut self, n: usize) -> Vec<i8> {
        (0..n).map(|_| self.next() as u8 as i8).collect()
    }
    pub fn bias(&mut self, n: usize) -> Vec<i32> {
        (0..n).map(|_| (self.next() % 20001) as i32 - 10000).collect()
    }
    pub fn scale(&mut self) -> f32 {
        // log-uniform in [1e-4, 1)
        let u = (self.next() % 1_000_000) as f32 / 1_000_000.0;
        1e-4f32 * 10f32.powf(4.0 * u)
    }
}

pub fn le_bytes(v: &[i32]) -> Vec<u8> {
    v.iter().flat_map(|x| x.to_le_bytes()).collect()
}

/// Per-channel multipliers as [`Requantize::PerChannel`] takes them: each multiplier word
/// (little-endian bytes) and each shift.
pub struct ChannelMultipliers {
    pub words: Vec<u8>,
    pub shifts: Vec<i8>,
}

impl ChannelMultipliers {
    pub fn of(mults: &[QuantizedMultiplier]) -> ChannelMultipliers {
        ChannelMultipliers {
            words: le_bytes(&mults.iter().map(|m| m.multiplier).collect::<Vec<_>>()),
            shifts: mults.iter().map(|m| m.shift as i8).collect(),
        }
    }

    pub fn per_channel(&self) -> Requantize<'_> {
        Requantize::PerChannel { multipliers: I32Le(&self.words), shifts: &self.shifts }
    }
}

pub fn activation() -> impl Strategy<Value = FusedActivation> {
    prop_oneof![
        Just(FusedActivation::None),
        Just(FusedActivation::Relu),
        Just(FusedActivation::Relu6),
        Just(FusedActivation::ReluN1To1),
    ]
}

pub fn padding_scheme() -> impl Strategy<Value = Padding> {
    prop_oneof![Just(Padding::Same), Just(Padding::Valid)]
}

// ---------------------------------------------------------------- CONV_2D / DEPTHWISE

#[derive(Debug, Clone)]
pub struct ConvCase {
    pub batches: usize,
    pub in_h: usize,
    pub in_w: usize,
    pub in_c: usize,
    pub out_c: usize,
    pub groups: usize,
    pub kh: usize,
    pub kw: usize,
    pub stride: (usize, usize),
    pub dilation: (usize, usize),
    pub scheme: Padding,
    pub zp_in: i32,
    pub zp_out: i32,
    pub act: FusedActivation,
    pub seed: u64,
}

pub fn conv_case() -> impl Strategy<Value = ConvCase> {
    (
        (1usize..3, 1usize..10, 1usize..10, 1usize..4, 1usize..4, 1usize..3),
        (1usize..4, 1usize..4, (1usize..4, 1usize..4), (1usize..3, 1usize..3)),
        (padding_scheme(), -128i32..128, -128i32..128, activation(), any::<u64>()),
    )
        .prop_map(|(a, b, c)| ConvCase {
            batches: a.0,
            in_h: a.1,
            in_w: a.2,
            in_c: a.3 * a.5,
            out_c: a.4 * a.5,
            groups: a.5,
            kh: b.0,
            kw: b.1,
            stride: b.2,
            dilation: b.3,
            scheme: c.0,
            zp_in: c.1,
            zp_out: c.2,
            act: c.3,
            seed: c.4,
        })
}

pub fn window_of(c: &ConvCase) -> Option<(Geometry, usize, usize)> {
    let (oh, ph) = padding(c.scheme, c.in_h, c.kh, c.stride.0, c.dilation.0)?;
    let (ow, pw) = padding(c.scheme, c.in_w, c.kw, c.stride.1, c.dilation.1)?;
    let w = Geometry {
        stride_h: c.stride.0,
        stride_w: c.stride.1,
        dilation_h: c.dilation.0,
        dilation_w: c.dilation.1,
        pad_h: ph,
        pad_w: pw,
    };
    Some((w, oh, ow))
}

/// Input value at signed position, `None` in the padding.
pub fn at(input: &[i8], shape: [usize; 4], b: usize, y: isize, x: isize, c: usize) -> Option<i64> {
    let [_, h, w, d] = shape;
    if y < 0 || x < 0 || y as usize >= h || x as usize >= w {
        return None;
    }
    Some(input[((b * h + y as usize) * w + x as usize) * d + c] as i64)
}

/// Offset of output multi-index `idx` in an input of `shape` right-aligned and broadcast.
pub fn broadcast_offset(idx: &[usize], shape: &[usize]) -> usize {
    let skip = idx.len() - shape.len();
    let mut off = 0;
    for (d, &n) in shape.iter().enumerate() {
        let i = if n == 1 { 0 } else { idx[skip + d] };
        off = off * n + i;
    }
    off
}

pub fn unravel(mut i: usize, shape: &[usize]) -> Vec<usize> {
    let mut idx = vec![0; shape.len()];
    for d in (0..shape.len()).rev() {
        idx[d] = i % shape[d];
        i /= shape[d];
    }
    idx
}
