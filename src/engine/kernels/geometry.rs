//! The window geometry shared by the convolutions and pooling: strides, dilations and leading
//! padding, and the arithmetic that maps an output position and a window tap to an input
//! position.

/// Window geometry of a convolution or pooling operator: strides, dilations, leading padding.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Geometry {
    /// Vertical stride (> 0).
    pub stride_h: usize,
    /// Horizontal stride (> 0).
    pub stride_w: usize,
    /// Vertical dilation (> 0; 1 for pooling).
    pub dilation_h: usize,
    /// Horizontal dilation (> 0; 1 for pooling).
    pub dilation_w: usize,
    /// Rows of padding before the input (see [`padding`](super::padding)).
    pub pad_h: usize,
    /// Columns of padding before the input.
    pub pad_w: usize,
}

impl Geometry {
    /// Input row of output row `out_y` and window row `k`, `None` if it falls in the padding.
    #[inline]
    pub(crate) fn in_y(&self, out_y: usize, k: usize, height: usize) -> Option<usize> {
        (out_y * self.stride_h + k * self.dilation_h)
            .checked_sub(self.pad_h)
            .filter(|&y| y < height)
    }

    /// Input column of output column `out_x` and window column `k`, `None` if in the padding.
    #[inline]
    pub(crate) fn in_x(&self, out_x: usize, k: usize, width: usize) -> Option<usize> {
        (out_x * self.stride_w + k * self.dilation_w).checked_sub(self.pad_w).filter(|&x| x < width)
    }

    /// True if every position this window can address fits in `usize` arithmetic, for an
    /// output of `out_h x out_w` and a filter of `filter_h x filter_w`.
    pub(crate) fn fits(
        &self,
        out_h: usize,
        out_w: usize,
        filter_h: usize,
        filter_w: usize,
    ) -> bool {
        let reach = |out: usize, stride: usize, k: usize, dil: usize| {
            out.checked_mul(stride)
                .and_then(|a| k.checked_mul(dil).and_then(|b| a.checked_add(b)))
                .is_some()
        };
        self.stride_h > 0
            && self.stride_w > 0
            && self.dilation_h > 0
            && self.dilation_w > 0
            && reach(out_h, self.stride_h, filter_h, self.dilation_h)
            && reach(out_w, self.stride_w, filter_w, self.dilation_w)
    }
}

/// The taps `first..end` of `0..n` for which `valid` holds, which form one range when `valid`
/// is an input bound check along one axis (positions grow with the tap index).
#[inline(always)]
pub(crate) fn tap_span(valid: impl Fn(usize) -> bool, n: usize) -> (usize, usize) {
    let first = (0..n).find(|&k| valid(k)).unwrap_or(n);
    (first, (first..n).find(|&k| !valid(k)).unwrap_or(n))
}
