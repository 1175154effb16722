//! A NOR flash in RAM: what a microcontroller's internal flash looks like to the updater
//! (erase to 0xff by sector, writes that only clear bits, in-place reads), so the update runs on
//! QEMU exactly as on a board, without QEMU emulating a flash controller.

use edge_reflex::update::MappedFlash;
use embedded_storage::nor_flash::{
    check_erase, check_read, check_write, ErrorType, NorFlash, NorFlashErrorKind, ReadNorFlash,
};

/// Bytes of one write (as the nRF52840's NVMC: one 32-bit word).
pub const WRITE: usize = 4;
/// Bytes of one erase sector.
pub const ERASE: usize = 1024;

/// A NOR flash over a RAM buffer (16-byte aligned, so a model in a slot is read with aligned
/// loads, as from internal flash).
pub struct RamFlash {
    mem: &'static mut [u8],
    /// Erases and writes so far (the report shows the update's flash traffic).
    pub operations: u32,
}

impl RamFlash {
    /// A flash over `mem`, erased.
    pub fn new(mem: &'static mut [u8]) -> RamFlash {
        mem.fill(0xff);
        RamFlash { mem, operations: 0 }
    }
}

impl ErrorType for RamFlash {
    type Error = NorFlashErrorKind;
}

impl ReadNorFlash for RamFlash {
    const READ_SIZE: usize = 1;

    fn read(&mut self, offset: u32, bytes: &mut [u8]) -> Result<(), Self::Error> {
        check_read(self, offset, bytes.len())?;
        let at = offset as usize;
        bytes.copy_from_slice(&self.mem[at..at + bytes.len()]);
        Ok(())
    }

    fn capacity(&self) -> usize {
        self.mem.len()
    }
}

impl NorFlash for RamFlash {
    const WRITE_SIZE: usize = WRITE;
    const ERASE_SIZE: usize = ERASE;

    fn erase(&mut self, from: u32, to: u32) -> Result<(), Self::Error> {
        check_erase(self, from, to)?;
        self.mem[from as usize..to as usize].fill(0xff);
        self.operations += 1;
        Ok(())
    }

    fn write(&mut self, offset: u32, bytes: &[u8]) -> Result<(), Self::Error> {
        check_write(self, offset, bytes.len())?;
        let at = offset as usize;
        // NOR programming only clears bits.
        for (cell, &b) in self.mem[at..at + bytes.len()].iter_mut().zip(bytes) {
            *cell &= b;
        }
        self.operations += 1;
        Ok(())
    }
}

impl MappedFlash for RamFlash {
    fn mapped(&self, offset: u32, len: usize) -> Option<&[u8]> {
        let at = offset as usize;
        self.mem.get(at..at.checked_add(len)?)
    }
}
