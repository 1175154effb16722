//! The state log's records: write-once words, each checked by a CRC-32, so a record cut while
//! being written reads as garbage and is skipped, never as a wrong fact.

use crc::{Crc, CRC_32_ISO_HDLC};

/// The CRC of records and of update chunks (CRC-32/ISO-HDLC, as zlib's `crc32`).
pub const CRC32: Crc<u32> = Crc::<u32>::new(&CRC_32_ISO_HDLC);

/// One fact of the state log.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Record {
    /// First record of a state sector: the sector with the higher epoch holds the state.
    Epoch(u32),
    /// Slot `slot` holds the confirmed model, version `version` (the start of a compacted log).
    Active {
        /// The slot.
        slot: u8,
        /// Its model version.
        version: u32,
    },
    /// A download of `len` bytes of version `version` into `slot` started.
    Begin {
        /// The slot.
        slot: u8,
        /// The bundle's model version.
        version: u32,
        /// The bundle's length.
        len: u32,
    },
    /// The download's slot is erased: bytes can be written from offset 0.
    Erased,
    /// The download's bytes up to `end` are written.
    Progress {
        /// End of the written bytes.
        end: u32,
    },
    /// The download is abandoned.
    Discard,
    /// The downloaded bundle in `slot` passed every check: the next boot tries it.
    Trial {
        /// The slot.
        slot: u8,
        /// Its model version.
        version: u32,
    },
    /// The trial's first boot started.
    Boot,
    /// The application confirmed the trial: it is the active model.
    Confirm,
    /// The trial was reverted (not confirmed before a reboot, or rejected).
    Revert,
}

impl Record {
    /// The 16 bytes of the record: tag, slot, two zero bytes, two words, CRC-32 of the first 12.
    pub fn encode(&self) -> [u8; 16] {
        let (tag, slot, a, b) = match *self {
            Record::Epoch(e) => (1, 0, e, 0),
            Record::Active { slot, version } => (2, slot, version, 0),
            Record::Begin { slot, version, len } => (3, slot, version, len),
            Record::Erased => (4, 0, 0, 0),
            Record::Progress { end } => (5, 0, end, 0),
            Record::Discard => (6, 0, 0, 0),
            Record::Trial { slot, version } => (7, slot, version, 0),
            Record::Boot => (8, 0, 0, 0),
            Record::Confirm => (9, 0, 0, 0),
            Record::Revert => (10, 0, 0, 0),
        };
        let mut out = [0u8; 16];
        out[0] = tag;
        out[1] = slot;
        out[4..8].copy_from_slice(&a.to_le_bytes());
        out[8..12].copy_from_slice(&b.to_le_bytes());
        let crc = CRC32.checksum(&out[..12]);
        out[12..].copy_from_slice(&crc.to_le_bytes());
        out
    }

    /// The record in `bytes` (at least 16), or `None` if it is erased, torn or unknown.
    pub fn decode(bytes: &[u8]) -> Option<Record> {
        let b = bytes.get(..16)?;
        let word = |at: usize| u32::from_le_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]]);
        if CRC32.checksum(&b[..12]) != word(12) || b[2] != 0 || b[3] != 0 {
            return None;
        }
        let (slot, a, b2) = (b[1], word(4), word(8));
        if slot > 1 {
            return None;
        }
        Some(match b[0] {
            1 => Record::Epoch(a),
            2 => Record::Active { slot, version: a },
            3 => Record::Begin { slot, version: a, len: b2 },
            4 => Record::Erased,
            5 => Record::Progress { end: a },
            6 => Record::Discard,
            7 => Record::Trial { slot, version: a },
            8 => Record::Boot,
            9 => Record::Confirm,
            10 => Record::Revert,
            _ => return None,
        })
    }
}
