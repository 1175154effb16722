//! Zero-weight skipping for pruned models: a compact list of each output unit's nonzero
//! weights, built once at load time, that FULLY_CONNECTED runs instead of the dense rows.
//!
//! A pruned model arrives dense (most weights exactly 0, as TensorFlow's model-optimization
//! toolkit leaves them). With `w' = w - weights_zero_point`, a unit's accumulator is
//! `sum_d w'_d (x_d - zp_in) = sum_{d: w'_d != 0} w'_d x_d - zp_in * sum_d w'_d`, so only the
//! nonzero `w'` need to be visited, and the zero-point term is one product per unit with the
//! row sum stored alongside. Integer arithmetic wraps exactly like the dense kernel's, so the
//! results are bit-identical.
//!
//! Layout (little-endian bytes, in the operator's record in the arena, sized by
//! [`table_bytes`]): per unit, `count: u16`, `sum: i32`, then `count` entries of
//! `(index: u8, weight: i8)`. Rows longer than 256 values are not listed (the index is one
//! byte); [`worth_it`] decides from the density whether listing pays off.
//!
//! What it does not do: convolutions (their windows clip at the borders, so a tap list per
//! channel needs per-pixel validity; the dense packed kernels are used there).

/// Bytes of one unit's header (`count: u16`, `sum: i32`).
const HEADER: usize = 6;

/// True if rows of `depth` weights with `nonzero` of `total` weights not zero are worth
/// listing: rows of at most 256 values and at most half of the weights nonzero.
pub fn worth_it(depth: usize, nonzero: usize, total: usize) -> bool {
    (1..=256).contains(&depth) && nonzero.saturating_mul(2) <= total
}

/// The number of nonzero weights (after subtracting the weights' zero point,
/// `-filter_offset`) of `filter` (`units x depth`, row-major); `None` if an offset weight does
/// not fit in an `i8` (then the table cannot hold it).
pub fn nonzero(filter: &[i8], filter_offset: i32) -> Option<usize> {
    let mut n = 0;
    for &w in filter {
        let w = (w as i32).wrapping_add(filter_offset);
        if i8::try_from(w).is_err() {
            return None;
        }
        n += (w != 0) as usize;
    }
    Some(n)
}

/// Bytes of the table for `units` rows with `nonzero` listed weights in all.
pub fn table_bytes(units: usize, nonzero: usize) -> usize {
    units.saturating_mul(HEADER).saturating_add(nonzero.saturating_mul(2))
}

/// Writes the table of `filter` (`units x depth`) into `out` ([`table_bytes`] long); `false`
/// (and `out` unspecified) if `out` is too short, a row is longer than 256 values or an
/// offset weight does not fit in an `i8`.
pub fn write_table(filter: &[i8], depth: usize, filter_offset: i32, out: &mut [u8]) -> bool {
    if depth == 0 || depth > 256 {
        return false;
    }
    let mut at = 0;
    for row in filter.chunks_exact(depth) {
        let (mut count, mut sum) = (0u16, 0i32);
        let head_at = at;
        at += HEADER;
        for (d, &w) in row.iter().enumerate() {
            let w = (w as i32).wrapping_add(filter_offset);
            if w == 0 {
                continue;
            }
            let (Ok(w), Some(entry)) = (i8::try_from(w), out.get_mut(at..at + 2)) else {
                return false;
            };
            entry[0] = d as u8;
            entry[1] = w as u8;
            at += 2;
            count += 1;
            sum = sum.wrapping_add(w as i32);
        }
        let Some(head) = out.get_mut(head_at..head_at + HEADER) else {
            return false;
        };
        head[..2].copy_from_slice(&count.to_le_bytes());
        head[2..].copy_from_slice(&sum.to_le_bytes());
    }
    true
}

/// The rows of a table, in order: each unit's listed `(index, weight)` entries (2 bytes each)
/// and the sum of its offset weights.
pub fn rows(table: &[u8]) -> impl Iterator<Item = (&[u8], i32)> + '_ {
    let mut rest = table;
    core::iter::from_fn(move || {
        let head = rest.get(..HEADER)?;
        let count = u16::from_le_bytes([head[0], head[1]]) as usize;
        let sum = i32::from_le_bytes([head[2], head[3], head[4], head[5]]);
        let entries = rest.get(HEADER..HEADER + 2 * count)?;
        rest = rest.get(HEADER + 2 * count..).unwrap_or(&[]);
        Some((entries, sum))
    })
}

/// `sum w' * x[index]` over a row's entries, plus `input_offset * sum`: the row's accumulator
/// (without bias), in wrapping `i32` like the dense kernel. `x` is the input row copied into
/// 256 values (indices are bytes, so no index can miss).
#[inline]
pub fn dot(entries: &[u8], sum: i32, x: &[i8; 256], input_offset: i32) -> i32 {
    let (pairs, _) = entries.as_chunks::<2>();
    let mut acc = input_offset.wrapping_mul(sum);
    for &[d, w] in pairs {
        acc = acc.wrapping_add((w as i8 as i32).wrapping_mul(x[d as usize] as i32));
    }
    acc
}

/// An input row (at most 256 values) padded into the array [`dot`] reads.
#[inline]
pub fn padded_row(x: &[i8]) -> [i8; 256] {
    let mut row = [0i8; 256];
    let n = x.len().min(256);
    row[..n].copy_from_slice(&x[..n]);
    row
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_lists_nonzero_weights_and_row_sums() {
        // Weights zero point 2 (filter_offset -2): the 2s are the zeros.
        let filter = [2i8, 5, 2, -1, 2, 2, 2, 2];
        let n = nonzero(&filter, -2).unwrap();
        assert_eq!(n, 2);
        assert_eq!(nonzero(&[127], 1), None);
        let mut table = [0u8; 16];
        assert_eq!(table_bytes(2, n), 16);
        assert!(write_table(&filter, 4, -2, &mut table));
        let mut listed = rows(&table);
        let rows = [listed.next().unwrap(), listed.next().unwrap()];
        assert!(listed.next().is_none());
        assert_eq!(rows[0], (&[1u8, 3, 3, (-3i8) as u8][..], 0));
        assert_eq!(rows[1], (&[][..], 0));
        // acc = 3 * (x1 + io) + (-3) * (x3 + io) with x = [9, 4, 7, -6], io = 5.
        let x = padded_row(&[9i8, 4, 7, -6]);
        assert_eq!(dot(rows[0].0, rows[0].1, &x, 5), 3 * (4 + 5) - 3 * (-6 + 5));
        assert!(worth_it(96, 1536, 6144));
        assert!(!worth_it(96, 4000, 6144));
        assert!(!worth_it(300, 10, 6000));
    }
}
