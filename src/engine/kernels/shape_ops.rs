//! The shape plumbing Keras' `Flatten` leaves in converted models: SHAPE, STRIDED_SLICE, PACK.
//!
//! They move elements (int32 shape vectors in practice) and never do arithmetic on them, so they
//! are generic over the element type: `[u8; 4]` for int32 tensors viewed as bytes, `i8` for int8.
//! STRIDED_SLICE follows TFLite's `strided_slice_logic.h` for `begin_mask`, `end_mask`,
//! `shrink_axis_mask`, negative indices and negative strides; `ellipsis_mask` and
//! `new_axis_mask` are not supported (the loader refuses them).

use super::elementwise::MAX_RANK;
use super::{write_i32, KernelError};

/// SHAPE: writes the dimensions of a tensor as little-endian `i32` into `output`.
///
/// Errors: [`KernelError::ShapeMismatch`] if `output` is not `4 * dims.len()` bytes or a
/// dimension exceeds `i32::MAX`.
pub fn shape(dims: &[usize], output: &mut [u8]) -> Result<(), KernelError> {
    if Some(output.len()) != dims.len().checked_mul(4) {
        return Err(KernelError::ShapeMismatch);
    }
    for (i, &d) in dims.iter().enumerate() {
        let d = i32::try_from(d).map_err(|_| KernelError::ShapeMismatch)?;
        write_i32(output, i, d).ok_or(KernelError::ShapeMismatch)?;
    }
    Ok(())
}

/// The options and index vectors of one STRIDED_SLICE (one entry per input dimension).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct StridedSlice {
    /// Number of dimensions (<= 6).
    pub rank: usize,
    /// Start index per dimension (may be negative).
    pub begin: [i32; MAX_RANK],
    /// Stop index per dimension (exclusive, may be negative).
    pub end: [i32; MAX_RANK],
    /// Step per dimension (nonzero).
    pub strides: [i32; MAX_RANK],
    /// Bit `d` set: ignore `begin[d]`, start at the first element in the stride's direction.
    pub begin_mask: u32,
    /// Bit `d` set: ignore `end[d]`, run to the end in the stride's direction.
    pub end_mask: u32,
    /// Bit `d` set: take the single element at `begin[d]` and drop the dimension.
    pub shrink_axis_mask: u32,
}

impl StridedSlice {
    /// The resolved `(start, stop, stride)` of dimension `d` of size `size`, TFLite's
    /// `StartForAxis`/`StopForAxis`, and the number of elements taken.
    fn axis(&self, d: usize, size: usize) -> Result<(i64, i64, i64, usize), KernelError> {
        let stride = *self.strides.get(d).ok_or(KernelError::ShapeMismatch)? as i64;
        if stride == 0 {
            return Err(KernelError::Unsupported);
        }
        let size = i64::try_from(size).map_err(|_| KernelError::ShapeMismatch)?;
        if size == 0 {
            return Ok((0, 0, stride, 0));
        }
        let clamp = |v: i64| if stride > 0 { v.clamp(0, size) } else { v.clamp(-1, size - 1) };
        let mut start = self.begin[d] as i64;
        if self.begin_mask & (1 << d) != 0 {
            start = if stride > 0 { i64::MIN / 4 } else { i64::MAX / 4 };
        }
        if start < 0 {
            start += size;
        }
        let start = clamp(start);
        let stop = if self.shrink_axis_mask & (1 << d) != 0 {
            start + 1
        } else {
            let mut stop = self.end[d] as i64;
            if self.end_mask & (1 << d) != 0 {
                stop = if stride > 0 { i64::MAX / 4 } else { i64::MIN / 4 };
            }
            if stop < 0 {
                stop += size;
            }
            clamp(stop)
        };
        let count = if stride > 0 {
            (stop - start + stride - 1).max(0) / stride
        } else {
            (start - stop - stride - 1).max(0) / -stride
        };
        Ok((start, stop, stride, count as usize))
    }

    /// Number of elements the slice produces from an input of shape `input_shape`.
    pub fn output_len(&self, input_shape: &[usize]) -> Result<usize, KernelError> {
        if input_shape.len() != self.rank || self.rank > MAX_RANK {
            return Err(KernelError::ShapeMismatch);
        }
        let mut n = 1usize;
        for (d, &size) in input_shape.iter().enumerate() {
            n = n.checked_mul(self.axis(d, size)?.3).ok_or(KernelError::ShapeMismatch)?;
        }
        Ok(n)
    }

    /// Copies the slice of `input` (shape `input_shape`) into `output`, row-major.
    ///
    /// Errors: [`KernelError::ShapeMismatch`] if a length disagrees (checked before writing);
    /// [`KernelError::Unsupported`] for a zero stride.
    pub fn eval<T: Copy>(
        &self,
        input: &[T],
        input_shape: &[usize],
        output: &mut [T],
    ) -> Result<(), KernelError> {
        if input_shape.iter().try_fold(1usize, |a, &d| a.checked_mul(d)) != Some(input.len())
            || self.output_len(input_shape)? != output.len()
        {
            return Err(KernelError::ShapeMismatch);
        }
        let rank = self.rank;
        let mut axes = [(0i64, 0i64, 1i64, 0usize); MAX_RANK];
        let mut strides = [0usize; MAX_RANK];
        let mut s = 1usize;
        for d in (0..rank).rev() {
            axes[d] = self.axis(d, input_shape[d])?;
            strides[d] = s;
            s *= input_shape[d];
        }
        let mut index = [0usize; MAX_RANK];
        for y in output.iter_mut() {
            let mut at = 0usize;
            for d in 0..rank {
                let (start, _, stride, _) = axes[d];
                let i = start + stride * index[d] as i64;
                at += i as usize * strides[d];
            }
            *y = *input.get(at).ok_or(KernelError::ShapeMismatch)?;
            for d in (0..rank).rev() {
                index[d] += 1;
                if index[d] < axes[d].3 {
                    break;
                }
                index[d] = 0;
            }
        }
        Ok(())
    }
}

/// PACK, one input at a time: writes input `index` of `count` stacked along an axis into
/// `output`. `outer` is the product of the input dimensions before the axis; each input is
/// `outer` blocks of `input.len() / outer` elements, and output block `o` holds the inputs'
/// block `o` one after the other.
///
/// Errors: [`KernelError::ShapeMismatch`] if the lengths do not agree (checked before writing).
pub fn pack_into<T: Copy>(
    input: &[T],
    index: usize,
    count: usize,
    outer: usize,
    output: &mut [T],
) -> Result<(), KernelError> {
    if index >= count
        || outer == 0
        || !input.len().is_multiple_of(outer)
        || input.len().checked_mul(count) != Some(output.len())
    {
        return if input.is_empty() && output.is_empty() && index < count {
            Ok(())
        } else {
            Err(KernelError::ShapeMismatch)
        };
    }
    let inner = input.len() / outer;
    if inner == 0 {
        return Ok(());
    }
    for (o, src) in input.chunks_exact(inner).enumerate() {
        let at = (o * count + index) * inner;
        if let Some(dst) = output.get_mut(at..at + inner) {
            dst.copy_from_slice(src);
        }
    }
    Ok(())
}
