//! The 512-point real FFT in 16-bit fixed point, with kissfft's `FIXED_POINT=16` arithmetic (the
//! build TensorFlow's microfrontend links): a 256-point complex FFT of the even/odd samples packed
//! as (re, im), radix 4 in four stages, each butterfly input divided by 4 first, then kissfft's
//! real-FFT split with its own divide by 2.
//!
//! Every step rounds and wraps the way the C does: products are `i32`, rounded back to Q15 with
//! `(x + 2^14) >> 15`; sums are stored in `i16` (two's complement wrap); halving is an arithmetic
//! shift of the `i32` sum. What it does not do: other sizes, the inverse transform, floats.

use super::tables::{SUPER_TWIDDLES, TWIDDLES};

/// Real input samples per transform.
pub const FFT_SIZE: usize = 512;
/// Complex points of the packed transform.
const COMPLEX_SIZE: usize = FFT_SIZE / 2;
/// Output bins: DC to Nyquist.
pub const FFT_BINS: usize = FFT_SIZE / 2 + 1;

/// A Q15 complex number, kissfft's `kiss_fft_cpx` with `int16_t` parts.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Complex16 {
    /// Real part.
    pub re: i16,
    /// Imaginary part.
    pub im: i16,
}

impl Complex16 {
    const fn from_pair(pair: (i16, i16)) -> Self {
        Complex16 { re: pair.0, im: pair.1 }
    }

    fn add(self, other: Self) -> Self {
        Complex16 { re: self.re.wrapping_add(other.re), im: self.im.wrapping_add(other.im) }
    }

    fn sub(self, other: Self) -> Self {
        Complex16 { re: self.re.wrapping_sub(other.re), im: self.im.wrapping_sub(other.im) }
    }

    /// `C_MUL`: each part is one rounded Q15 product sum.
    fn mul(self, other: Self) -> Self {
        Complex16 {
            re: round_q15(product(self.re, other.re).wrapping_sub(product(self.im, other.im))),
            im: round_q15(product(self.re, other.im).wrapping_add(product(self.im, other.re))),
        }
    }

    /// `C_FIXDIV(c, div)`: both parts times `32767 / div` in Q15, rounded.
    fn fixdiv(self, div: i16) -> Self {
        let k = i16::MAX / div;
        Complex16 { re: round_q15(product(self.re, k)), im: round_q15(product(self.im, k)) }
    }
}

/// kissfft's `smul`: the exact `i32` product.
fn product(a: i16, b: i16) -> i32 {
    i32::from(a) * i32::from(b)
}

/// kissfft's `sround`: round a Q30 product back to Q15 and store it in `i16`.
fn round_q15(x: i32) -> i16 {
    (x.wrapping_add(1 << 14) >> 15) as i16
}

/// kissfft's `HALF_OF` of an `i32` sum of two `i16`, stored in `i16`.
fn half(x: i32) -> i16 {
    (x >> 1) as i16
}

/// The working memory of one transform: the packed complex spectrum.
#[derive(Clone, Debug)]
pub struct RealFft {
    packed: [Complex16; COMPLEX_SIZE],
}

impl Default for RealFft {
    fn default() -> Self {
        Self::new()
    }
}

impl RealFft {
    /// A transform with zeroed working memory.
    pub const fn new() -> Self {
        RealFft { packed: [Complex16 { re: 0, im: 0 }; COMPLEX_SIZE] }
    }

    /// The spectrum of `input` (bins 0 to 256), as kissfft's `kiss_fftr` computes it.
    pub fn transform(&mut self, input: &[i16; FFT_SIZE], output: &mut [Complex16; FFT_BINS]) {
        self.complex_fft(input);
        self.split(output);
    }

    /// kissfft's `kf_work` for 256 = 4·4·4·4: decimation in time, the input read with growing
    /// strides, radix-4 butterflies from the smallest sub-transforms up.
    fn complex_fft(&mut self, input: &[i16; FFT_SIZE]) {
        let at = |k: usize| Complex16 { re: input[2 * k], im: input[2 * k + 1] };
        // The innermost stage (m = 1) copies input k·64 + ... in the digit-reversed order kissfft's
        // recursion produces; the output index o = 64a + 16b + 4c + d reads input d·64 + c·16 + b·4 + a.
        for (o, slot) in self.packed.iter_mut().enumerate() {
            let (a, b, c, d) = (o >> 6, (o >> 4) & 3, (o >> 2) & 3, o & 3);
            *slot = at(d * 64 + c * 16 + b * 4 + a);
        }
        // Stages with sub-transform length m = 1, 4, 16, 64; the twiddle stride is 256 / (4 m).
        let mut m = 1;
        while m < COMPLEX_SIZE {
            let fstride = COMPLEX_SIZE / (4 * m);
            for block in self.packed.chunks_exact_mut(4 * m) {
                butterfly4(block, fstride, m);
            }
            m *= 4;
        }
    }

    /// kissfft's `kiss_fftr` post-processing: separate the spectra of the even and odd samples and
    /// combine them into the real signal's spectrum.
    fn split(&self, out: &mut [Complex16; FFT_BINS]) {
        let n = COMPLEX_SIZE;
        let tdc = self.packed[0].fixdiv(2);
        out[0] = Complex16 { re: tdc.re.wrapping_add(tdc.im), im: 0 };
        out[n] = Complex16 { re: tdc.re.wrapping_sub(tdc.im), im: 0 };
        for k in 1..=n / 2 {
            let fpk = self.packed[k].fixdiv(2);
            let mirror = self.packed[n - k];
            let fpnk = Complex16 { re: mirror.re, im: mirror.im.wrapping_neg() }.fixdiv(2);
            let f1k = fpk.add(fpnk);
            let f2k = fpk.sub(fpnk);
            let tw = f2k.mul(Complex16::from_pair(SUPER_TWIDDLES[k - 1]));
            out[k] = Complex16 {
                re: half(i32::from(f1k.re) + i32::from(tw.re)),
                im: half(i32::from(f1k.im) + i32::from(tw.im)),
            };
            out[n - k] = Complex16 {
                re: half(i32::from(f1k.re) - i32::from(tw.re)),
                im: half(i32::from(tw.im) - i32::from(f1k.im)),
            };
        }
    }
}

/// kissfft's forward `kf_bfly4` over one block of `4 m` points.
fn butterfly4(block: &mut [Complex16], fstride: usize, m: usize) {
    for k in 0..m {
        let f0 = block[k].fixdiv(4);
        let f1 = block[k + m].fixdiv(4);
        let f2 = block[k + 2 * m].fixdiv(4);
        let f3 = block[k + 3 * m].fixdiv(4);
        let s0 = f1.mul(Complex16::from_pair(TWIDDLES[k * fstride]));
        let s1 = f2.mul(Complex16::from_pair(TWIDDLES[2 * k * fstride]));
        let s2 = f3.mul(Complex16::from_pair(TWIDDLES[3 * k * fstride]));
        let s5 = f0.sub(s1);
        let f0 = f0.add(s1);
        let s3 = s0.add(s2);
        let s4 = s0.sub(s2);
        block[k + 2 * m] = f0.sub(s3);
        block[k] = f0.add(s3);
        block[k + m] = Complex16 { re: s5.re.wrapping_add(s4.im), im: s5.im.wrapping_sub(s4.re) };
        block[k + 3 * m] =
            Complex16 { re: s5.re.wrapping_sub(s4.im), im: s5.im.wrapping_add(s4.re) };
    }
}
