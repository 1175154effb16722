//! Bit-exact int8 kernels of the TFLite operators the engine runs.
//!
//! Each operator family has its own module. A kernel is a plain function over slices: int8
//! tensors as `&[i8]`/`&mut [i8]` (row-major, NHWC for images), int32 and float32 tensors as their
//! little-endian bytes (`&[u8]`, so weights can be read unaligned, straight from the model in
//! flash). Whatever depends on float scales is computed once by a `*Params::new`/`prepare`
//! function at load time; the `eval` functions use integers only (no `f32` on the run path, so
//! they run on a Cortex-M0), except QUANTIZE/DEQUANTIZE whose tensors are float.
//!
//! What the kernels do **not** do: read the model, pick tensors, check that shapes agree with the
//! operator (the loader does that once, at load time). They still never panic and never index out
//! of bounds: every eval function checks that its slice lengths agree with the shapes it was
//! given and returns [`KernelError::ShapeMismatch`] if not, before touching any data.
//!
//! The float32 and dynamic-range kernels (feature `op-float`) are in `float`.
//!
//! The arithmetic is TFLite's *reference* kernels (`BUILTIN_REF` resolver), see
//! [`arith`](crate::engine::arith) and `docs/engine-arithmetic.md`.

pub mod broadcast;
pub mod conv;
pub mod depthwise;
pub mod dsp;
pub mod elementwise;
#[cfg(feature = "op-float")]
pub mod float;
pub mod fully_connected;
pub mod geometry;
#[cfg(feature = "in-place")]
pub mod in_place;
pub mod linked;
pub mod lstm;
pub mod lut;
pub mod mean;
pub mod movement;
pub mod narrow;
pub mod pooling;
pub mod quantize;
pub mod rescale;
pub mod shape_ops;
pub mod softmax;
#[doc(hidden)]
pub mod testing;
#[cfg(all(target_arch = "arm", not(target_feature = "dsp")))]
mod thumb1;
#[cfg(test)]
pub(crate) mod xorshift;

use crate::engine::arith::{QuantizedMultiplier, ScaleError};

/// Whether this build runs the packed variants (written in [`dsp`]'s instructions): on
/// Cortex-M4/M7, where those are DSP instructions, and on hosts, where the emulated instructions
/// let the tests run them. Cortex-M0 (and any embedded target without the DSP extension) runs
/// the portable ones. This is the one place the target's capability is decided; see [`Target`].
pub const FAST_PATHS: bool =
    cfg!(any(all(target_arch = "arm", target_feature = "dsp"), not(target_os = "none")));

/// The two kinds of target a kernel variant is chosen for. A family's `select` takes it into
/// account, so that a target without the DSP extension never gets a packed variant.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Target {
    /// Portable integer code only (Cortex-M0).
    Portable,
    /// The packed instructions of [`dsp`] are available (Cortex-M4/M7, hosts).
    Dsp,
}

impl Target {
    /// The target this build runs on ([`FAST_PATHS`]).
    pub const HERE: Target = if FAST_PATHS { Target::Dsp } else { Target::Portable };
}

/// A kernel variant chosen at prepare for each [`Target`]: a plan is the same for every target
/// (it can be made on a host for a Cortex-M0), so an operator's record keeps both choices and
/// the evaluation takes the one of [`Target::HERE`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Choice<V> {
    /// The variant for a target with the DSP extension.
    pub dsp: V,
    /// The variant for a target without it.
    pub portable: V,
}

/// A family's variant enum, as a record stores it: a `#[repr(u8)]` enum whose discriminant is
/// its record code (bytemuck's `NoUninit` writes it, `CheckedBitPattern` checks a code read).
pub trait KernelVariant: Copy + bytemuck::NoUninit + bytemuck::CheckedBitPattern {
    /// The family's name in [`linked`]'s list (`"fully_connected"`).
    const FAMILY: &'static str;
    /// Each variant's name in that list, indexed by its record code.
    const NAMES: &'static [&'static str];
    /// The portable kernel every build links: what an operator runs whose variant this build
    /// does not link.
    const REFERENCE: Self;
    /// The variants this build links, a bit per record code ([`linked`]).
    const LINKED: u32 = linked::mask_of(linked::LIST, Self::FAMILY, Self::NAMES);

    /// The variant's record code.
    #[inline(always)]
    fn code(self) -> u8 {
        const { assert!(core::mem::size_of::<Self>() == 1) };
        bytemuck::cast(self)
    }

    /// The variant of record code `code`, `None` for a code no variant has.
    #[inline(always)]
    fn from_code(code: u8) -> Option<Self> {
        bytemuck::checked::try_cast(code).ok()
    }

    /// The variant's name in [`linked`]'s list.
    fn name(self) -> &'static str {
        Self::NAMES.get(usize::from(self.code())).copied().unwrap_or("?")
    }

    /// True if this build links the variant (the reference always). Constant for a constant
    /// variant: each family's `eval` guards a variant's arm with it, so an unlinked variant's
    /// code is not compiled and the operator falls to the reference arm.
    #[inline(always)]
    fn is_linked(self) -> bool {
        let code = self.code();
        code == Self::REFERENCE.code()
            || Self::LINKED & 1u32.checked_shl(code.into()).unwrap_or(0) != 0
    }

    /// The variant a target without the DSP extension runs in place of this one: itself for a
    /// portable variant. `select` never gives such a target a DSP variant; this mapping lets
    /// the compiler see it, so a Cortex-M0 build links no DSP variant.
    fn portable(self) -> Self;

    /// The variant a target with the DSP extension runs in place of this one: the packed form
    /// of a portable variant that has one (`select` never gives such a target the portable
    /// form, so this is the identity on a record's choice; it lets the compiler drop the
    /// portable form from a Cortex-M4 build), itself otherwise.
    fn dsp(self) -> Self;

    /// The variant this build runs for `self`: on a target without the DSP extension its
    /// portable form, on a Cortex-M4/M7 its packed form where it has one, on a host `self` (so
    /// the tests run every variant). The results are the same bytes; each family's `eval`
    /// applies it first, so that no build links a variant it can never run.
    #[inline(always)]
    fn in_this_build(self) -> Self {
        if !FAST_PATHS {
            self.portable()
        } else if dsp::NATIVE {
            self.dsp()
        } else {
            self
        }
    }
}

impl<V: KernelVariant> Choice<V> {
    /// Runs `select` once per target.
    pub fn new(select: impl Fn(Target) -> V) -> Choice<V> {
        Choice { dsp: select(Target::Dsp), portable: select(Target::Portable) }
    }

    /// The variant of [`Target::HERE`].
    #[inline]
    pub fn here(self) -> V {
        match Target::HERE {
            Target::Dsp => self.dsp.dsp(),
            Target::Portable => self.portable.portable(),
        }
    }

    /// True if either target's variant is `v`.
    pub fn uses(self, v: V) -> bool {
        self.dsp.code() == v.code() || self.portable.code() == v.code()
    }

    /// The codes a record stores: the DSP variant's, then the portable one's.
    pub fn to_codes(self) -> [u8; 2] {
        [self.dsp.code(), self.portable.code()]
    }

    /// The variant of [`Target::HERE`] in codes [`to_codes`](Self::to_codes) wrote (only that
    /// target's code is read); `None` for an unknown code. A family's `eval` runs its
    /// reference kernel for a variant this build does not link ([`linked`]).
    #[inline]
    pub fn here_in(codes: [u8; 2]) -> Option<V> {
        let code = match Target::HERE {
            Target::Dsp => codes[0],
            Target::Portable => codes[1],
        };
        let v = V::from_code(code)?;
        Some(match Target::HERE {
            Target::Dsp => v.dsp(),
            Target::Portable => v.portable(),
        })
    }
}

/// Reads 4 int8 values as the little-endian word the packed instructions take.
#[inline(always)]
pub(crate) fn word(c: &[i8; 4]) -> u32 {
    u32::from_le_bytes([c[0] as u8, c[1] as u8, c[2] as u8, c[3] as u8])
}

/// True if `offset` can be added to int8 values inside 16-bit lanes without wrapping.
#[inline]
pub(crate) fn lane_offset_fits(offset: i32) -> bool {
    (-32_000..=32_000).contains(&offset)
}

/// Why a kernel could not be prepared or run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum KernelError {
    /// Slice lengths do not match the shapes or parameters passed to the kernel.
    ShapeMismatch,
    /// A quantization parameter cannot be represented (see [`ScaleError`]).
    Scale(ScaleError),
    /// A parameter is outside what the kernel supports (e.g. a zero stride, a pooling window
    /// that covers no input element).
    Unsupported,
}

impl From<ScaleError> for KernelError {
    fn from(e: ScaleError) -> Self {
        KernelError::Scale(e)
    }
}

/// A read-only view of a little-endian `i32` vector stored as bytes (a bias in the model, which
/// need not be 4-aligned in flash; per-channel multipliers in the arena).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct I32Le<'a>(pub &'a [u8]);

impl<'a> I32Le<'a> {
    /// Number of whole `i32` values in the view.
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
    pub fn get(&self, i: usize) -> i32 {
        read_i32(self.0, i).unwrap_or(0)
    }
}

/// How a kernel's `i32` accumulators are rescaled to the output: one multiplier for the whole
/// tensor, or one per output channel (a little-endian `i32` significand and an `i8` shift per
/// channel, written at load time by [`channel_multipliers`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Requantize<'a> {
    /// The same multiplier for every channel.
    PerTensor(QuantizedMultiplier),
    /// Channel `c` uses `multipliers[c]` and `shifts[c]`.
    PerChannel {
        /// Q0.31 significands.
        multipliers: I32Le<'a>,
        /// Power-of-two exponents (`-31..=30`).
        shifts: &'a [i8],
    },
}

impl Requantize<'_> {
    /// True if this can serve `channels` output channels.
    pub fn covers(&self, channels: usize) -> bool {
        match self {
            Requantize::PerTensor(_) => true,
            Requantize::PerChannel { multipliers, shifts } => {
                multipliers.len() == channels && shifts.len() == channels
            }
        }
    }

    /// The multiplier of channel `c`.
    #[inline]
    pub fn get(&self, c: usize) -> QuantizedMultiplier {
        match self {
            Requantize::PerTensor(m) => *m,
            Requantize::PerChannel { multipliers, shifts } => QuantizedMultiplier {
                multiplier: multipliers.get(c),
                shift: shifts.get(c).copied().unwrap_or(0) as i32,
            },
        }
    }
}

/// Reads element `i` of a little-endian `i32` tensor stored as bytes; `None` past the end.
#[inline]
pub fn read_i32(bytes: &[u8], i: usize) -> Option<i32> {
    let start = i.checked_mul(4)?;
    let b = bytes.get(start..start.checked_add(4)?)?;
    Some(i32::from_le_bytes([b[0], b[1], b[2], b[3]]))
}

/// Writes element `i` of a little-endian `i32` tensor stored as bytes; `None` past the end.
#[inline]
pub fn write_i32(bytes: &mut [u8], i: usize, value: i32) -> Option<()> {
    let start = i.checked_mul(4)?;
    let b = bytes.get_mut(start..start.checked_add(4)?)?;
    b.copy_from_slice(&value.to_le_bytes());
    Some(())
}

/// Checks that an optional bias holds exactly `len` values.
pub(crate) fn check_bias(bias: Option<I32Le<'_>>, len: usize) -> Result<(), KernelError> {
    match bias {
        Some(b) if b.0.len() != len.saturating_mul(4) => Err(KernelError::ShapeMismatch),
        _ => Ok(()),
    }
}

/// Bias value `i` (0 without a bias).
#[inline]
pub(crate) fn bias_at(bias: Option<I32Le<'_>>, i: usize) -> i32 {
    bias.map_or(0, |b| b.get(i))
}

/// Per-channel multipliers of CONV_2D, DEPTHWISE_CONV_2D and per-channel FULLY_CONNECTED:
/// `(f64)input_scale * (f64)filter_scale[c] / (f64)output_scale` for each output channel `c`
/// (TFLite's `PopulateConvolutionQuantizationParams`), written as little-endian `i32` into
/// `multipliers` (4 bytes per channel) and as `i8` into `shifts` (one per channel). With a single
/// filter scale (per-tensor weights) that scale is broadcast to every channel, as TFLite does for
/// convolutions; [`Requantize::PerTensor`] with [`conv_multiplier`] gives the same results
/// without the per-channel storage.
///
/// Errors: [`KernelError::ShapeMismatch`] if `multipliers` is not `4 * shifts.len()` long or
/// there are neither one nor `channels` filter scales; [`KernelError::Scale`] for a scale that
/// is not positive and finite.
pub fn channel_multipliers(
    input_scale: f32,
    filter_scales: impl ExactSizeIterator<Item = f32> + Clone,
    output_scale: f32,
    multipliers: &mut [u8],
    shifts: &mut [i8],
) -> Result<(), KernelError> {
    let channels = shifts.len();
    let n = filter_scales.len();
    if Some(multipliers.len()) != channels.checked_mul(4) || !(n == 1 || n == channels) {
        return Err(KernelError::ShapeMismatch);
    }
    if !(output_scale.is_finite() && output_scale > 0.0) {
        return Err(KernelError::Scale(ScaleError::NotPositiveFinite));
    }
    let mut scales = filter_scales.cycle();
    for c in 0..channels {
        let filter_scale = scales.next().ok_or(KernelError::ShapeMismatch)?;
        let m = conv_multiplier(input_scale, filter_scale, output_scale)?;
        write_i32(multipliers, c, m.multiplier).ok_or(KernelError::ShapeMismatch)?;
        let shift = shifts.get_mut(c).ok_or(KernelError::ShapeMismatch)?;
        *shift = m.shift as i8; // from_real keeps shift in -31..=30
    }
    Ok(())
}

/// One channel's multiplier as [`channel_multipliers`] computes it:
/// `(f64)input_scale * (f64)filter_scale / (f64)output_scale`.
pub fn conv_multiplier(
    input_scale: f32,
    filter_scale: f32,
    output_scale: f32,
) -> Result<QuantizedMultiplier, KernelError> {
    let real = input_scale as f64 * filter_scale as f64 / output_scale as f64;
    Ok(QuantizedMultiplier::from_real(real)?)
}

/// The padding scheme of a convolution or pooling window (the schema's `Padding`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Padding {
    /// Output size `ceil(in / stride)`, zero points padded around the input as needed.
    Same,
    /// No padding: only windows that fit entirely in the input.
    Valid,
}

/// Output size and leading padding along one spatial axis (TFLite's `ComputeOutSize` and
/// `ComputePaddingWithOffset`): `(out, pad_before)`. `None` for a zero stride, dilation or
/// filter size, on overflow, or when no output position exists.
pub fn padding(
    scheme: Padding,
    in_size: usize,
    filter_size: usize,
    stride: usize,
    dilation: usize,
) -> Option<(usize, usize)> {
    if stride == 0 || dilation == 0 || filter_size == 0 {
        return None;
    }
    let effective = (filter_size - 1).checked_mul(dilation)?.checked_add(1)?;
    let out = match scheme {
        Padding::Same => in_size.checked_add(stride - 1)? / stride,
        Padding::Valid => (in_size.checked_add(stride)?.checked_sub(effective)?) / stride,
    };
    if out == 0 {
        return None;
    }
    let needed = (out - 1).checked_mul(stride)?.checked_add(effective)?;
    let total = needed.saturating_sub(in_size);
    Some((out, total / 2))
}

/// Number of elements of an NHWC shape, `None` on overflow.
pub(crate) fn elements(shape: [usize; 4]) -> Option<usize> {
    shape.iter().try_fold(1usize, |acc, &d| acc.checked_mul(d))
}

#[cfg(test)]
mod tests {
    use super::{conv, depthwise, fully_connected, Choice, KernelVariant, Target};

    /// Every pair of codes of a family: the word round-trips to the variant of this target,
    /// and a portable target's variant is a portable one.
    fn round_trip<V: KernelVariant + PartialEq + core::fmt::Debug>(all: &[V]) {
        for &dsp in all {
            for &portable in all {
                let choice = Choice { dsp, portable };
                assert_eq!(Choice::<V>::here_in(choice.to_codes()), Some(choice.here()));
                assert_eq!(portable.portable().portable(), portable.portable());
                assert_eq!(dsp.dsp().dsp(), dsp.dsp());
                assert!(choice.uses(dsp) && choice.uses(portable));
            }
        }
        assert!(Choice::<V>::here_in([0xFF, 0xFF]).is_none());
        if Target::HERE == Target::Dsp {
            assert_eq!(Choice { dsp: all[1], portable: all[0] }.here(), all[1]);
        }
    }

    #[test]
    fn choice_words_round_trip() {
        use conv::Variant as C;
        round_trip(&[
            C::Reference,
            C::Packed,
            C::Sparse,
            C::SparsePacked,
            C::SparsePackedBounded,
            C::Folded,
        ]);
        use depthwise::Variant as D;
        round_trip(&[D::Reference, D::Packed, D::SingleChannel, D::Folded]);
        use fully_connected::Variant as F;
        round_trip(&[F::Reference, F::Packed, F::Prepared, F::Sparse, F::SparsePacked]);
        assert_eq!(C::SparsePackedBounded.portable(), C::Sparse);
        assert_eq!(F::Prepared.portable(), F::Reference);
    }
}
