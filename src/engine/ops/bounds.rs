//! Bounded work: the checks that keep an operator's run time proportional to its tensors' sizes.
//!
//! Most operators' work follows from their operands alone (a copy, a lookup, a multiply per
//! weight), and their preparation already requires the output shape to follow from the input
//! and the parameters. The windowed ones also take sizes from their options, which a file can
//! set to anything: a pooling window of 2^31 - 1 rows over a 4-row input has a consistent output
//! size (SAME padding). The kernels visit only what a window covers of the input (pooling
//! computes a window's first and last input rows from its ends, as TFLite's reference kernel
//! does; convolutions visit their weights' taps), so such parameters cost no more than the
//! tensors they touch, and the models TFLite accepts are accepted: a window larger than its
//! input, or a stride or dilation past it, is valid and runs. `docs/reliability.md` ("Bounded
//! inference") argues operator by operator why the work is bounded.
//!
//! What these checks refuse is what the window arithmetic itself cannot represent: padding,
//! window extents and positions that overflow; and, for DEPTHWISE_CONV_2D, a depth multiplier
//! option that disagrees with the weights.

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

    /// Why this axis is refused, if it is (see the module docs): only window arithmetic that
    /// leaves `i32` (TFLite's own position type), or a zero stride, dilation or window.
    pub fn refusal(&self, scheme: Padding) -> Option<&'static str> {
        let last = self.total_padding(scheme).and_then(|total| {
            let extent = self.window.checked_sub(1)?.checked_mul(self.dilation)?;
            self.input.checked_add(total)?.checked_add(self.stride)?.checked_add(extent)
        });
        match last {
            Some(last) if last <= i32::MAX as usize => None,
            _ => Some("window parameters overflow"),
        }
    }
}

/// Refuses a window (height and width axes) whose work would not be bounded by its tensors.
pub(super) fn check_window(
    p: &Prep<'_, '_>,
    scheme: Padding,
    axes: [Axis; 2],
) -> Result<(), LoadError> {
    for a in axes {
        if let Some(why) = a.refusal(scheme) {
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
    fn windows_tflite_accepts_pass() {
        for scheme in [Padding::Same, Padding::Valid] {
            assert_eq!(axis(96, 3, 2, 1).refusal(scheme), None);
            assert_eq!(axis(49, 10, 2, 1).refusal(scheme), None);
            assert_eq!(axis(12, 3, 1, 2).refusal(scheme), None);
            assert_eq!(axis(4, 4, 1, 1).refusal(scheme), None);
            assert_eq!(axis(1, 1, 1, 1).refusal(scheme), None);
            // Larger than the input: valid, and bounded by what the window covers of it.
            assert_eq!(axis(1, 2, 2, 1).refusal(scheme), None);
            assert_eq!(axis(4, 268_435_458, 1, 1).refusal(scheme), None);
            assert_eq!(axis(4, 2, 1 << 20, 1).refusal(scheme), None);
            assert_eq!(axis(4, 3, 1, 1 << 20).refusal(scheme), None);
        }
    }

    #[test]
    fn overflowing_windows_are_refused() {
        let huge = i32::MAX as usize;
        let overflow = Some("window parameters overflow");
        assert_eq!(axis(4, huge, 1, 1).refusal(Padding::Same), overflow);
        assert_eq!(axis(4, 2, huge, 1).refusal(Padding::Same), overflow);
        assert_eq!(axis(4, 3, 1, huge).refusal(Padding::Same), overflow);
        assert_eq!(axis(4, 3, 0, 1).refusal(Padding::Same), overflow);
        assert_eq!(axis(4, 0, 1, 1).refusal(Padding::Valid), overflow);
        assert_eq!(axis(usize::MAX, 2, 1, usize::MAX).refusal(Padding::Same), overflow);
    }
}
