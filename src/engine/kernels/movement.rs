//! Data movement without arithmetic: PAD, CONCATENATION, SPACE_TO_BATCH_ND, BATCH_TO_SPACE_ND.
//!
//! These copy elements and fill padding; the int8 values are not rescaled (TFLite's reference
//! kernels require input and output quantization to agree, which the loader checks). They are
//! generic over the element type: `i8` for int8 tensors, `[u8; 4]` for int32/float32 tensors
//! viewed as bytes. The padding value of an int8 tensor is its output zero point.

use super::broadcast::{volume, MAX_RANK};
use super::KernelError;

/// PAD: `output` (shape `input_shape[d] + before[d] + after[d]`) is `input` surrounded by
/// `pad_value`. `paddings[d] = (before, after)`; rank <= 6.
///
/// Errors: [`KernelError::ShapeMismatch`] if a length disagrees with the shapes (checked before
/// writing).
pub fn pad<T: Copy>(
    input: &[T],
    input_shape: &[usize],
    paddings: &[(usize, usize)],
    pad_value: T,
    output: &mut [T],
) -> Result<(), KernelError> {
    let rank = input_shape.len();
    if rank > MAX_RANK || paddings.len() != rank || volume(input_shape) != Some(input.len()) {
        return Err(KernelError::ShapeMismatch);
    }
    let mut out_shape = [0usize; MAX_RANK];
    for d in 0..rank {
        let (b, a) = paddings[d];
        out_shape[d] = input_shape[d]
            .checked_add(b)
            .and_then(|x| x.checked_add(a))
            .ok_or(KernelError::ShapeMismatch)?;
    }
    let out_shape = &out_shape[..rank];
    if volume(out_shape) != Some(output.len()) {
        return Err(KernelError::ShapeMismatch);
    }
    if rank == 0 {
        output.copy_from_slice(input);
        return Ok(());
    }
    let row_len = out_shape[rank - 1];
    let (before, _) = paddings[rank - 1];
    let in_row_len = input_shape[rank - 1];
    if row_len == 0 {
        return Ok(());
    }
    // Walk the output row by row; `index` is the multi-index of the row (last dim excluded).
    let mut index = [0usize; MAX_RANK];
    for row in output.chunks_exact_mut(row_len) {
        let mut inside = true;
        let mut in_row = 0usize;
        for d in 0..rank - 1 {
            let (b, _) = paddings[d];
            match index[d].checked_sub(b).filter(|&i| i < input_shape[d]) {
                Some(i) => in_row = in_row * input_shape[d] + i,
                None => inside = false,
            }
        }
        row.fill(pad_value);
        if inside {
            let src = input.get(in_row * in_row_len..(in_row + 1) * in_row_len).unwrap_or(&[]);
            if let Some(dst) = row.get_mut(before..before + src.len()) {
                dst.copy_from_slice(src);
            }
        }
        for d in (0..rank - 1).rev() {
            index[d] += 1;
            if index[d] < out_shape[d] {
                break;
            }
            index[d] = 0;
        }
    }
    Ok(())
}

/// CONCATENATION, one input at a time: copies `input` into its place in `output`. With `outer`
/// the product of the dimensions before the axis, each of the `outer` blocks of the output holds
/// the inputs' blocks side by side; this input's block starts at `offset` elements into the
/// output block (the sum of the previous inputs' block sizes). Block sizes are `input.len() /
/// outer` and `output.len() / outer`.
///
/// Errors: [`KernelError::ShapeMismatch`] if the lengths are not multiples of `outer` or the
/// block does not fit (checked before writing).
pub fn concatenate_into<T: Copy>(
    input: &[T],
    outer: usize,
    offset: usize,
    output: &mut [T],
) -> Result<(), KernelError> {
    if outer == 0 {
        return if input.is_empty() && output.is_empty() {
            Ok(())
        } else {
            Err(KernelError::ShapeMismatch)
        };
    }
    let (block, out_block) = (input.len() / outer, output.len() / outer);
    if block * outer != input.len()
        || out_block * outer != output.len()
        || offset.checked_add(block).is_none_or(|end| end > out_block)
    {
        return Err(KernelError::ShapeMismatch);
    }
    if block == 0 {
        return Ok(());
    }
    for (src, dst) in input.chunks_exact(block).zip(output.chunks_exact_mut(out_block)) {
        dst[offset..offset + block].copy_from_slice(src);
    }
    Ok(())
}

/// CONCATENATION of all `inputs` (see [`concatenate_into`]) into `output`.
///
/// Errors: [`KernelError::ShapeMismatch`] if the blocks do not add up to the output's.
pub fn concatenation<T: Copy>(
    inputs: &[&[T]],
    outer: usize,
    output: &mut [T],
) -> Result<(), KernelError> {
    let total: Option<usize> = inputs.iter().try_fold(0usize, |a, x| a.checked_add(x.len()));
    if total != Some(output.len()) {
        return Err(KernelError::ShapeMismatch);
    }
    let mut offset = 0usize;
    for input in inputs {
        concatenate_into(input, outer, offset, output)?;
        offset += input.len() / outer.max(1);
    }
    Ok(())
}

/// Block sizes and leading padding/crops of SPACE_TO_BATCH_ND / BATCH_TO_SPACE_ND on NHWC
/// tensors (a 3-D `[n, h, c]` tensor is viewed as `[n, h, 1, c]` with `block_w = 1`,
/// `left = 0`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct SpaceBatch {
    /// Block height (> 0).
    pub block_h: usize,
    /// Block width (> 0).
    pub block_w: usize,
    /// Padding (SPACE_TO_BATCH) or crop (BATCH_TO_SPACE) before the first row.
    pub top: usize,
    /// Padding or crop before the first column.
    pub left: usize,
}

/// The checks both directions share, on the space-side tensor (`space`, SPACE_TO_BATCH's input,
/// BATCH_TO_SPACE's output) and the batch-side one: lengths match the shapes, depths agree, the
/// batch side has `block_h * block_w` times the batches, and block positions do not overflow.
/// `Ok(false)` if there is nothing to move.
fn check_space_batch(
    geometry: SpaceBatch,
    (space_shape, space_len): ([usize; 4], usize),
    (batch_shape, batch_len): ([usize; 4], usize),
) -> Result<bool, KernelError> {
    let SpaceBatch { block_h, block_w, .. } = geometry;
    let [space_b, _, _, depth] = space_shape;
    let [batch_b, batch_h, batch_w, batch_d] = batch_shape;
    if block_h == 0 || block_w == 0 {
        return Err(KernelError::Unsupported);
    }
    if volume(&space_shape) != Some(space_len)
        || volume(&batch_shape) != Some(batch_len)
        || batch_d != depth
        || space_b.checked_mul(block_h).and_then(|x| x.checked_mul(block_w)) != Some(batch_b)
        || batch_h.checked_mul(block_h).is_none()
        || batch_w.checked_mul(block_w).is_none()
    {
        return Err(KernelError::ShapeMismatch);
    }
    Ok(depth != 0 && space_b != 0)
}

/// Where pixel `pixel` of the batch-side tensor lies in the space-side one (the element offset
/// of its first channel), `None` in the padding (SPACE_TO_BATCH) or crop (BATCH_TO_SPACE): batch
/// `ob` holds block position `(s / bw, s % bw)` with `s = ob / space_batches`, and its pixel
/// `(y, x)` is `(ob % space_batches, y * bh + s / bw - top, x * bw + s % bw - left)`.
#[inline(always)]
fn space_offset(
    geometry: SpaceBatch,
    space_shape: [usize; 4],
    batch_shape: [usize; 4],
    pixel: usize,
) -> Option<usize> {
    let SpaceBatch { block_h, block_w, top, left } = geometry;
    let [space_b, space_h, space_w, depth] = space_shape;
    let [_, batch_h, batch_w, _] = batch_shape;
    let x = pixel % batch_w;
    let y = (pixel / batch_w) % batch_h;
    let ob = pixel / (batch_w * batch_h);
    let (b, s) = (ob % space_b, ob / space_b);
    let sy = (y * block_h + s / block_w).checked_sub(top).filter(|&v| v < space_h)?;
    let sx = (x * block_w + s % block_w).checked_sub(left).filter(|&v| v < space_w)?;
    Some(((b * space_h + sy) * space_w + sx) * depth)
}

/// SPACE_TO_BATCH_ND: `output[(sh * bw + sw) * n + b][y][x]` is the padded input at
/// `(b, y * bh + sh - top, x * bw + sw - left)`, or `pad_value` in the padding.
///
/// Errors: [`KernelError::ShapeMismatch`] if a length or dimension disagrees (checked before
/// writing); [`KernelError::Unsupported`] for a zero block size.
pub fn space_to_batch<T: Copy>(
    geometry: SpaceBatch,
    input: &[T],
    input_shape: [usize; 4],
    pad_value: T,
    output: &mut [T],
    output_shape: [usize; 4],
) -> Result<(), KernelError> {
    if !check_space_batch(geometry, (input_shape, input.len()), (output_shape, output.len()))? {
        return Ok(());
    }
    let depth = input_shape[3];
    for (pixel, out) in output.chunks_exact_mut(depth).enumerate() {
        match space_offset(geometry, input_shape, output_shape, pixel)
            .and_then(|at| input.get(at..at + depth))
        {
            Some(src) => out.copy_from_slice(src),
            None => out.fill(pad_value),
        }
    }
    Ok(())
}

/// BATCH_TO_SPACE_ND: input batch `ib` holds the block offset `(s / bw, s % bw)` with
/// `s = ib / out_n`; its pixel `(y, x)` goes to `(ib % out_n, y * bh + s / bw - top,
/// x * bw + s % bw - left)` when that lies inside the output (crops drop the rest).
///
/// Errors: [`KernelError::ShapeMismatch`] if a length or dimension disagrees (checked before
/// writing); [`KernelError::Unsupported`] for a zero block size.
pub fn batch_to_space<T: Copy>(
    geometry: SpaceBatch,
    input: &[T],
    input_shape: [usize; 4],
    output: &mut [T],
    output_shape: [usize; 4],
) -> Result<(), KernelError> {
    if !check_space_batch(geometry, (output_shape, output.len()), (input_shape, input.len()))? {
        return Ok(());
    }
    let depth = output_shape[3];
    for (pixel, src) in input.chunks_exact(depth).enumerate() {
        let dst = space_offset(geometry, output_shape, input_shape, pixel)
            .and_then(|at| output.get_mut(at..at + depth));
        if let Some(dst) = dst {
            dst.copy_from_slice(src);
        }
    }
    Ok(())
}
