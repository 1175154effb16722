//! Register writes computed by pure code, executed by either the blocking or the async driver.
//!
//! A driver keeps its typed settings; a pure function turns settings into a *register image* (the
//! value of every register the driver owns, in the order they must be written). Changing a setting
//! computes the new image and writes only the registers that differ ([`WritePlan::changes`]), so the
//! blocking and async forms share one encoding and cannot disagree. This module does no bus I/O.

use super::interface::RegisterWrite;

/// Up to `N` register writes, in order. Capacity is in the type; nothing allocates.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct WritePlan<const N: usize> {
    writes: [RegisterWrite; N],
    len: usize,
}

impl<const N: usize> WritePlan<N> {
    /// Every write of `image`, in order (used by `init`, which puts all registers in a known state).
    pub fn all(image: [RegisterWrite; N]) -> Self {
        WritePlan { writes: image, len: N }
    }

    /// The writes of `new` whose value differs from `old` at the same position, in `new`'s order.
    /// Both images list the same registers in the same order (they come from one function).
    pub fn changes(old: &[RegisterWrite; N], new: &[RegisterWrite; N]) -> Self {
        let mut plan = WritePlan { writes: [RegisterWrite::default(); N], len: 0 };
        for (before, after) in old.iter().zip(new.iter()) {
            if before != after {
                if let Some(slot) = plan.writes.get_mut(plan.len) {
                    *slot = *after;
                    plan.len += 1;
                }
            }
        }
        plan
    }

    /// The writes to perform, in order.
    pub fn as_slice(&self) -> &[RegisterWrite] {
        self.writes.get(..self.len).unwrap_or(&[])
    }
}

/// Shorthand for a [`RegisterWrite`].
pub(crate) const fn write(register: u8, value: u8) -> RegisterWrite {
    RegisterWrite { register, value }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn changes_keep_order_and_skip_equal_registers() {
        let old = [write(1, 0), write(2, 5), write(3, 7)];
        let new = [write(1, 9), write(2, 5), write(3, 8)];
        let plan = WritePlan::changes(&old, &new);
        assert_eq!(plan.as_slice(), &[write(1, 9), write(3, 8)]);
        assert!(WritePlan::changes(&old, &old).as_slice().is_empty());
        assert_eq!(WritePlan::all(new).as_slice(), &new);
    }
}
