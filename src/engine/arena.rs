//! The arena's tensor table: where each tensor's bytes live while the interpreter runs.
//!
//! One entry of 8 bytes per tensor: a location word and a length word, little-endian. A
//! location is either an offset into the model file (constants, and reshapes of constants), an
//! offset into the arena (activations), or nothing (tensors no operator touches).

use crate::engine::error::RunError;

/// Bytes per tensor table entry.
pub const ENTRY: usize = 8;

/// Marks a location word as "unused".
const UNUSED: u32 = u32::MAX;
/// Marks a location word as an offset into the model file.
const IN_MODEL: u32 = 1 << 31;

/// Where a tensor's bytes are.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Location {
    /// Not stored (no operator uses the tensor).
    Unused,
    /// In the model file (a constant).
    Model {
        /// Byte offset from the start of the file.
        offset: usize,
        /// Size in bytes.
        len: usize,
    },
    /// In the arena.
    Arena {
        /// Byte offset from the start of the arena.
        offset: usize,
        /// Size in bytes.
        len: usize,
    },
}

fn word(table: &[u8], i: usize) -> Result<u32, RunError> {
    let start = i.checked_mul(4).ok_or(RunError::Internal)?;
    let b = table.get(start..start + 4).ok_or(RunError::Internal)?;
    Ok(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
}

/// The location of tensor `t` in `table`.
pub fn location(table: &[u8], t: usize) -> Result<Location, RunError> {
    let i = t.checked_mul(2).ok_or(RunError::Internal)?;
    let loc = word(table, i)?;
    let len = word(table, i + 1)? as usize;
    Ok(if loc == UNUSED {
        Location::Unused
    } else if loc & IN_MODEL != 0 {
        Location::Model { offset: (loc & !IN_MODEL) as usize, len }
    } else {
        Location::Arena { offset: loc as usize, len }
    })
}

/// Stores the location of tensor `t` in `table` (offsets must be below 2^31).
pub fn set_location(table: &mut [u8], t: usize, loc: Location) -> Result<(), RunError> {
    let (w0, w1) = match loc {
        Location::Unused => (UNUSED, 0),
        Location::Model { offset, len } => (
            u32::try_from(offset).ok().filter(|&o| o < IN_MODEL).ok_or(RunError::Internal)?
                | IN_MODEL,
            u32::try_from(len).map_err(|_| RunError::Internal)?,
        ),
        Location::Arena { offset, len } => (
            u32::try_from(offset).ok().filter(|&o| o < IN_MODEL).ok_or(RunError::Internal)?,
            u32::try_from(len).map_err(|_| RunError::Internal)?,
        ),
    };
    let start = t.checked_mul(ENTRY).ok_or(RunError::Internal)?;
    let e = table.get_mut(start..start + ENTRY).ok_or(RunError::Internal)?;
    e[..4].copy_from_slice(&w0.to_le_bytes());
    e[4..].copy_from_slice(&w1.to_le_bytes());
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locations_round_trip() {
        let mut t = [0u8; 3 * ENTRY];
        let locs = [
            Location::Unused,
            Location::Model { offset: 1234, len: 16 },
            Location::Arena { offset: 48, len: 7 },
        ];
        for (i, l) in locs.iter().enumerate() {
            set_location(&mut t, i, *l).unwrap();
        }
        for (i, l) in locs.iter().enumerate() {
            assert_eq!(location(&t, i).unwrap(), *l);
        }
        assert!(location(&t, 3).is_err());
        assert!(set_location(&mut t, 0, Location::Arena { offset: 1 << 31, len: 0 }).is_err());
    }
}
