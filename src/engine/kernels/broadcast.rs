//! NumPy broadcasting of two operands onto an output shape: the index walk every two-input
//! elementwise kernel shares (int8 ADD/MUL, their folded forms, the float ones).
//!
//! ```
//! use edge_reflex::engine::kernels::broadcast::Broadcast;
//!
//! // [2, 3] + [3]: input 2 is read again for each row.
//! let walk = Broadcast::new((&[2, 3], 6), (&[3], 3), (&[2, 3], 6)).unwrap();
//! let mut pairs = Vec::new();
//! walk.for_each(|_, a, b| pairs.push((a, b)));
//! assert_eq!(pairs, [(0, 0), (1, 1), (2, 2), (3, 0), (4, 1), (5, 2)]);
//! ```

use super::KernelError;

/// Largest rank the broadcasting kernels accept.
pub const MAX_RANK: usize = 6;

/// Elements of a shape, `None` if the count overflows.
pub fn volume(shape: &[usize]) -> Option<usize> {
    shape.iter().try_fold(1usize, |acc, &d| acc.checked_mul(d))
}

/// The element of each input that every output element (in row-major order) reads: for each
/// output index `i`, `(i, index in input 1, index in input 2)`, through [`for_each`](Self::for_each).
#[derive(Clone, Copy, Debug)]
pub struct Broadcast {
    out: [usize; MAX_RANK],
    s1: [usize; MAX_RANK],
    s2: [usize; MAX_RANK],
    len: usize,
}

impl Broadcast {
    /// The walk for operands `(shape, length)` onto the output `(shape, length)`.
    ///
    /// Errors: [`KernelError::ShapeMismatch`] if a length disagrees with its shape, a rank is
    /// above [`MAX_RANK`], or a dimension of an input is neither the output's nor 1.
    #[inline(always)]
    pub fn new(
        (shape1, len1): (&[usize], usize),
        (shape2, len2): (&[usize], usize),
        (output_shape, output_len): (&[usize], usize),
    ) -> Result<Broadcast, KernelError> {
        let bad = KernelError::ShapeMismatch;
        if volume(shape1) != Some(len1)
            || volume(shape2) != Some(len2)
            || volume(output_shape) != Some(output_len)
        {
            return Err(bad);
        }
        let out = extend(output_shape).ok_or(bad)?;
        let s1 = strides(extend(shape1).ok_or(bad)?, out).ok_or(bad)?;
        let s2 = strides(extend(shape2).ok_or(bad)?, out).ok_or(bad)?;
        Ok(Broadcast { out, s1, s2, len: output_len })
    }

    /// Output elements.
    pub fn len(&self) -> usize {
        self.len
    }

    /// True if the output has no element.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Calls `f(i, at1, at2)` for every output index `i` in order, with the indices of the
    /// input elements it reads.
    #[inline(always)]
    pub fn for_each(self, mut f: impl FnMut(usize, usize, usize)) {
        let Broadcast { out, s1, s2, len } = self;
        let mut index = [0usize; MAX_RANK];
        let (mut at1, mut at2) = (0usize, 0usize);
        for i in 0..len {
            f(i, at1, at2);
            // Advance the multi-index (innermost first), keeping both input offsets in step.
            for d in (0..MAX_RANK).rev() {
                index[d] += 1;
                at1 += s1[d];
                at2 += s2[d];
                if index[d] < out[d] {
                    break;
                }
                at1 -= s1[d] * index[d];
                at2 -= s2[d] * index[d];
                index[d] = 0;
            }
        }
    }
}

/// A shape right-aligned into [`MAX_RANK`] dimensions (leading 1s), `None` if too long.
pub(crate) fn extend(shape: &[usize]) -> Option<[usize; MAX_RANK]> {
    let pad = MAX_RANK.checked_sub(shape.len())?;
    let mut out = [1usize; MAX_RANK];
    out[pad..].copy_from_slice(shape);
    Some(out)
}

/// Row-major strides of an extended input shape, with 0 where the input is broadcast along an
/// output dimension; `None` if a dimension is neither equal to the output's nor 1.
pub(crate) fn strides(
    shape: [usize; MAX_RANK],
    out: [usize; MAX_RANK],
) -> Option<[usize; MAX_RANK]> {
    let mut s = [0usize; MAX_RANK];
    let mut stride = 1usize;
    for d in (0..MAX_RANK).rev() {
        if shape[d] == out[d] {
            s[d] = stride;
        } else if shape[d] != 1 {
            return None;
        }
        stride = stride.checked_mul(shape[d])?;
    }
    Some(s)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::{vec, vec::Vec};

    /// The walk against the definition: output multi-index, each input's index clamped to 0
    /// along its broadcast dimensions.
    fn by_definition(s1: &[usize], s2: &[usize], out: &[usize]) -> Vec<(usize, usize)> {
        let n = volume(out).unwrap();
        let flat = |shape: &[usize], idx: &[usize]| {
            let off = out.len() - shape.len();
            shape
                .iter()
                .enumerate()
                .fold(0, |acc, (d, &dim)| acc * dim + if dim == 1 { 0 } else { idx[off + d] })
        };
        (0..n)
            .map(|mut i| {
                let mut idx = vec![0; out.len()];
                for d in (0..out.len()).rev() {
                    idx[d] = i % out[d];
                    i /= out[d];
                }
                (flat(s1, &idx), flat(s2, &idx))
            })
            .collect()
    }

    #[test]
    fn the_walk_follows_the_definition() {
        let cases: [(&[usize], &[usize], &[usize]); 7] = [
            (&[5], &[5], &[5]),
            (&[2, 3, 4], &[4], &[2, 3, 4]),
            (&[1], &[2, 5], &[2, 5]),
            (&[3, 1, 2], &[1, 4, 1], &[3, 4, 2]),
            (&[1, 1, 1, 1, 1, 3], &[2, 1, 1, 1, 2, 1], &[2, 1, 1, 1, 2, 3]),
            (&[2, 1], &[2, 1], &[2, 1]),
            (&[0, 3], &[3], &[0, 3]),
        ];
        for (s1, s2, out) in cases {
            let walk = Broadcast::new(
                (s1, volume(s1).unwrap()),
                (s2, volume(s2).unwrap()),
                (out, volume(out).unwrap()),
            )
            .unwrap();
            assert_eq!(walk.len(), volume(out).unwrap());
            let mut got = Vec::new();
            walk.for_each(|i, a, b| {
                assert_eq!(i, got.len());
                got.push((a, b));
            });
            assert_eq!(got, by_definition(s1, s2, out), "{s1:?} {s2:?}");
        }
    }

    #[test]
    fn shapes_that_do_not_broadcast_are_refused() {
        let e = Err(KernelError::ShapeMismatch);
        assert_eq!(Broadcast::new((&[2, 3], 6), (&[2], 2), (&[2, 3], 6)).map(|_| ()), e);
        assert_eq!(Broadcast::new((&[2, 3], 5), (&[3], 3), (&[2, 3], 6)).map(|_| ()), e);
        assert_eq!(Broadcast::new((&[1; 7], 1), (&[1], 1), (&[1; 7], 1)).map(|_| ()), e);
        let huge = [usize::MAX, 2];
        assert_eq!(Broadcast::new((&huge, 0), (&[2], 2), (&huge, 0)).map(|_| ()), e);
    }
}
