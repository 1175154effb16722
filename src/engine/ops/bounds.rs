//! Bounded work: the checks that keep an operator's run time proportional to its tensors' sizes.
//!
//! Most operators' work follows from their operands alone (a copy, a lookup, a multiply per
//! weight), and their preparation already requires the output shape to follow from the input
//! and the parameters. The windowed ones also take sizes from their options, which a file can
//! set to anything the loader's shape arithmetic survives: a pooling window of 2^31 - 1 rows over
//! a 4-row input has a consistent output size (SAME padding) and makes the kernel scan every
//! window row for every output row. These checks refuse such parameters at load, before any
//! kernel sees them; `docs/reliability.md` ("Bounded inference") argues operator by operator
//! why what remains is bounded.
//!
//! What they refuse, along each spatial axis of a convolution or pooling window:
//! * a stride larger than the padded input (TFLite's converter never writes one: only the
//!   first window position would exist);
//! * a dilation larger than the input when the window has more than one tap (every window
//!   would see at most one input row or column, the rest padding);
//! * a pooling window larger than its input (a pooling window is an option, not a tensor, so
//!   nothing else bounds it).
//!
//! And, for DEPTHWISE_CONV_2D, a depth multiplier option that disagrees with the weights.

use super::Prep;
use crate::engine::error::LoadError;
use crate::engine::kernels::Padding;

/// One spatial axis of a window: the input's extent and the window's parameters.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Axis {
    /// Input extent along the axis.
    pub input: usize,
    /// Window taps along the axis (filter or pooling size).
    pub window: usize,
    /// Stride.
    pub stride: usize,
    /// Dilation (1 for pooling).
    pub dilation: usize,
}

impl Axis {
    /// The total padding the scheme adds along this axis (before and after), `None` on
    /// overflow or for a zero stride, dilation or window.
    fn total_padding(&self, scheme: Padding) -> Option<usize> {
        let out = match scheme {
            Padding::Same => self.input.checked_add(self.stride.checked_sub(1)?)? / self.stride,
            Padding::Valid => return Some(0),
        };
        let effective = (self.window.checked_sub(1)?).checked_mul(self.dilation)?.checked_add(1)?;
        let needed = out.checked_sub(1)?.checked_mul(self.stride)?.checked_add(effective)?;
        Some(needed.saturating_sub(self.input))
    }

    /// Why this axis is refused, if it is (see the module docs).
    pub fn refusal(&self, scheme: Padding, pooling: bool) -> Option<&'static str> {
        let Some(total) = self.total_padding(scheme) else {
            return Some("window parameters overflow");
        };
        if self.stride > self.input.saturating_add(total).max(1) {
            return Some("stride larger than the padded input");
        }
        if self.window > 1 && self.dilation > self.input.max(1) {
            return Some("dilation larger than the input");
        }
        if pooling && self.window > self.input {
            return Some("pooling window larger than its input");
        }
        None
    }
}

/// Refuses a window (height and width axes) whose work would not be bounded by its tensors.
pub(super) fn check_window(
    p: &Prep<'_, '_>,
    scheme: Padding,
    axes: [Axis; 2],
    pooling: bool,
) -> Result<(), LoadError> {
    for a in axes {
        if let Some(why) = a.refusal(scheme, pooling) {
            return Err(p.shapes(why));
        }
    }
    Ok(())
}

/// Refuses a DEPTHWISE_CONV_2D whose `option` depth multiplier is negative or disagrees with
/// the one its weights imply (`from_shapes`); 0, as some files carry, means "from the shapes".
pub(super) fn check_depth_multiplier(
    p: &Prep<'_, '_>,
    option: i32,
    from_shapes: usize,
) -> Result<(), LoadError> {
    match usize::try_from(option) {
        Ok(m) if m == 0 || m == from_shapes => Ok(()),
        _ => Err(p.shapes("depth multiplier disagrees with the weights")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn axis(input: usize, window: usize, stride: usize, dilation: usize) -> Axis {
        Axis { input, window, stride, dilation }
    }

    #[test]
    fn ordinary_windows_pass() {
        for scheme in [Padding::Same, Padding::Valid] {
            assert_eq!(axis(96, 3, 2, 1).refusal(scheme, false), None);
            assert_eq!(axis(49, 10, 2, 1).refusal(scheme, false), None);
            assert_eq!(axis(12, 3, 1, 2).refusal(scheme, false), None);
            assert_eq!(axis(4, 4, 1, 1).refusal(scheme, true), None);
            assert_eq!(axis(1, 1, 1, 1).refusal(scheme, true), None);
        }
        // SAME pads a 2-wide window over a 1-row input up to the stride.
        assert_eq!(
            axis(1, 1, 2, 1).refusal(Padding::Same, false),
            Some("stride larger than the padded input")
        );
        assert_eq!(axis(1, 2, 2, 1).refusal(Padding::Same, false), None);
    }

    #[test]
    fn hostile_windows_are_refused() {
        let huge = i32::MAX as usize;
        assert_eq!(
            axis(4, 268_435_458, 1, 1).refusal(Padding::Same, true),
            Some("pooling window larger than its input")
        );
        assert_eq!(
            axis(4, huge, 1, 1).refusal(Padding::Same, true),
            Some("pooling window larger than its input")
        );
        assert_eq!(
            axis(4, 2, huge, 1).refusal(Padding::Same, true),
            Some("stride larger than the padded input")
        );
        assert_eq!(
            axis(4, 3, 1, huge).refusal(Padding::Same, false),
            Some("dilation larger than the input")
        );
        assert_eq!(
            axis(4, 3, 0, 1).refusal(Padding::Same, false),
            Some("window parameters overflow")
        );
        assert_eq!(
            axis(usize::MAX, 2, 1, usize::MAX).refusal(Padding::Same, false),
            Some("window parameters overflow")
        );
    }
}
