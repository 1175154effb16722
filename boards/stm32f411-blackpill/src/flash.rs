//! The STM32F411CE's flash for the model updates: embassy-stm32's blocking driver, with the
//! chip's uneven sectors presented as the 16 KiB erase unit the update layout is written in.
//!
//! The updater erases a state sector (one 16 KiB sector, 1 or 2) or the start of a slot (a
//! 128 KiB sector, 6 or 7, from its first byte). An erase here starts at a sector boundary and
//! runs to the end of the sector its last byte falls in: for the layout of `memory.x` that is
//! exactly the state sector, or the slot (which the updater means to overwrite). An erase that
//! does not start at a sector boundary is refused.

use embassy_stm32::flash::{Blocking, Error, Flash, WRITE_SIZE};
use embedded_storage::nor_flash::{ErrorType, NorFlash, ReadNorFlash};

/// One past the last byte of each sector, as offsets from the flash start.
const SECTOR_ENDS: [u32; 8] =
    [0x4000, 0x8000, 0xC000, 0x1_0000, 0x2_0000, 0x4_0000, 0x6_0000, 0x8_0000];

/// The whole flash, in sectors (see the module documentation).
pub struct SectorFlash<'d>(pub Flash<'d, Blocking>);

impl ErrorType for SectorFlash<'_> {
    type Error = Error;
}

impl ReadNorFlash for SectorFlash<'_> {
    const READ_SIZE: usize = 1;

    fn read(&mut self, offset: u32, bytes: &mut [u8]) -> Result<(), Error> {
        self.0.blocking_read(offset, bytes)
    }

    fn capacity(&self) -> usize {
        SECTOR_ENDS[SECTOR_ENDS.len() - 1] as usize
    }
}

impl NorFlash for SectorFlash<'_> {
    const WRITE_SIZE: usize = WRITE_SIZE;
    const ERASE_SIZE: usize = 16 * 1024;

    fn erase(&mut self, from: u32, to: u32) -> Result<(), Error> {
        let starts_sector = from == 0 || SECTOR_ENDS.contains(&from);
        let end = SECTOR_ENDS.iter().copied().find(|&end| end >= to);
        match end {
            Some(end) if starts_sector && from < to => self.0.blocking_erase(from, end),
            Some(_) => Err(Error::Unaligned),
            None => Err(Error::Size),
        }
    }

    fn write(&mut self, offset: u32, bytes: &[u8]) -> Result<(), Error> {
        self.0.blocking_write(offset, bytes)
    }
}
