//! Where the update lives in flash: two model slots and two state sectors, and the trait that
//! lets the device read flash in place.

use embedded_storage::nor_flash::NorFlash;

/// A NOR flash the CPU can also read in place (memory-mapped, as a microcontroller's internal
/// flash is): the engine runs the model from its slot without copying it to RAM.
///
/// A board implements it over its HAL's flash driver, returning a slice of the flash's address
/// range; a host simulator returns a slice of its memory.
pub trait MappedFlash: NorFlash {
    /// The `len` bytes at `offset`, or `None` if out of range.
    fn mapped(&self, offset: u32, len: usize) -> Option<&[u8]>;
}

/// [`MappedFlash`] over the async NOR flash trait (`embedded-storage-async`), for
/// [`AsyncUpdater`](super::AsyncUpdater): writes and erases are awaited, reads stay in place.
pub trait AsyncMappedFlash: embedded_storage_async::nor_flash::NorFlash {
    /// The `len` bytes at `offset`, or `None` if out of range.
    fn mapped(&self, offset: u32, len: usize) -> Option<&[u8]>;
}

/// A byte range of the flash.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Region {
    /// First byte (a multiple of the erase size).
    pub offset: u32,
    /// Bytes (a multiple of the erase size).
    pub len: u32,
}

impl Region {
    /// One past the last byte, or `None` on overflow.
    pub fn end(&self) -> Option<u32> {
        self.offset.checked_add(self.len)
    }

    fn overlaps(&self, other: &Region) -> bool {
        match (self.end(), other.end()) {
            (Some(a), Some(b)) => self.offset < b && other.offset < a,
            _ => true,
        }
    }
}

/// The update's flash: two model slots (each holds one bundle) and two state sectors (each one
/// erase sector; they take turns holding the state log).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Layout {
    /// The model slots.
    pub slots: [Region; 2],
    /// The state sectors' offsets (each one erase sector long).
    pub state: [u32; 2],
}

/// Bytes of one state record (or the write size, if larger).
pub(crate) const RECORD_LEN: usize = 16;
/// The largest write size the state log supports.
pub(crate) const MAX_WRITE: usize = 64;

impl Layout {
    /// Whether the layout suits a flash of `capacity` bytes, erase size `erase` and write size
    /// `write`: aligned, inside the flash, not overlapping, and a write size the log supports.
    pub fn is_valid(&self, capacity: usize, erase: usize, write: usize) -> bool {
        let (Ok(erase32), Ok(capacity)) = (u32::try_from(erase), u32::try_from(capacity)) else {
            return false;
        };
        if erase == 0 || write == 0 || write > MAX_WRITE || !erase.is_multiple_of(record_len(write))
        {
            return false;
        }
        if !record_len(write).is_multiple_of(write) {
            return false;
        }
        let state = self.state.map(|offset| Region { offset, len: erase32 });
        let regions = [self.slots[0], self.slots[1], state[0], state[1]];
        let fits = |r: &Region| {
            r.offset.is_multiple_of(erase32)
                && r.len.is_multiple_of(erase32)
                && r.len > 0
                && r.end().is_some_and(|e| e <= capacity)
        };
        regions.iter().all(fits)
            && (0..4).all(|i| (i + 1..4).all(|j| !regions[i].overlaps(&regions[j])))
    }
}

/// Bytes of one state record for write size `write`.
pub(crate) const fn record_len(write: usize) -> usize {
    if write > RECORD_LEN {
        write
    } else {
        RECORD_LEN
    }
}
