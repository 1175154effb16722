//! Operator records: the integer parameters each operator prepares at load time and reads back on
//! every invoke, stored in the arena (or a prebuilt plan) at any alignment, with no `unsafe`.
//!
//! Each operator's fixed parameters are one `#[repr(C)]` plain-data struct (bytemuck's `Pod`,
//! fields `u32`/`i32`, or `u8` codes grouped to whole words so there is no padding), written
//! whole with [`RecordWriter::pod`] and read whole with [`RecordReader::pod`]; what varies in
//! length (per-channel multipliers and shifts, lookup tables, listed weights) follows it as
//! slices. A strategy stored in a record is an enum's `u8` code, decoded with a checked
//! `TryFrom`: a corrupt code is [`RunError::Internal`], as is a record too short for its struct.
//!
//! A [`RecordWriter`] either writes into a byte slice or only counts (to size the arena before
//! there is one); a [`RecordReader`] reads the same sequence back. Reading past the end is an
//! error, never a panic.
//!
//! Records are little-endian: a struct's bytes are its in-memory layout, and every target this
//! crate builds for (Cortex-M, x86-64, AArch64 hosts) is little-endian, so a plan written on a host
//! runs on a device. A big-endian build is refused at compile time.

use crate::engine::error::RunError;

const _: () = assert!(
    cfg!(target_endian = "little"),
    "operator records are written as in-memory structs, which must be little-endian"
);

/// A count or index as a record stores it (saturated to `u32::MAX`, which no tensor reaches, so
/// the kernels' length checks refuse it).
#[inline]
pub fn word(v: usize) -> u32 {
    u32::try_from(v).unwrap_or(u32::MAX)
}

/// A 4-D shape as a record stores it.
#[inline]
pub fn shape_words(s: [usize; 4]) -> [u32; 4] {
    s.map(word)
}

/// A 4-D shape read from a record.
#[inline]
pub fn shape_of(s: [u32; 4]) -> [usize; 4] {
    s.map(|d| d as usize)
}

/// Checks the discipline every record struct keeps (for its tests): emitted and parsed back at
/// an odd alignment it is equal; counting gives its size; every shorter buffer is an error when
/// reading and an overflow when writing.
#[cfg(test)]
pub(crate) fn assert_round_trip<T>(record: &T)
where
    T: bytemuck::NoUninit + bytemuck::CheckedBitPattern + PartialEq + core::fmt::Debug,
{
    let n = core::mem::size_of::<T>();
    let mut counting = RecordWriter::counting();
    counting.pod(record);
    assert_eq!(counting.len(), n);
    let mut buf = [0u8; 513];
    let mut w = RecordWriter::new(&mut buf[1..=n]);
    w.pod(record);
    assert!(!w.overflowed());
    let mut r = RecordReader::new(&buf[1..=n]);
    assert_eq!(r.checked::<T>().as_ref(), Ok(record));
    assert!(r.bytes(1).is_err(), "the record is exactly its struct");
    for cut in 0..n {
        assert_eq!(RecordReader::new(&buf[1..=cut]).checked::<T>(), Err(RunError::Internal));
        let mut short = [0u8; 512];
        let mut w = RecordWriter::new(&mut short[..cut]);
        w.pod(record);
        assert!(w.overflowed());
    }
}

/// Writes words into a byte buffer, or only counts them.
#[derive(Debug)]
pub struct RecordWriter<'a> {
    buf: Option<&'a mut [u8]>,
    len: usize,
    overflow: bool,
}

impl<'a> RecordWriter<'a> {
    /// A writer that only counts bytes.
    pub fn counting() -> RecordWriter<'static> {
        RecordWriter { buf: None, len: 0, overflow: false }
    }

    /// A writer into `buf`.
    pub fn new(buf: &'a mut [u8]) -> RecordWriter<'a> {
        RecordWriter { buf: Some(buf), len: 0, overflow: false }
    }

    /// Bytes written (or counted) so far.
    pub fn len(&self) -> usize {
        self.len
    }

    /// True if nothing was written (or counted) yet.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// True if a write did not fit in the buffer.
    pub fn overflowed(&self) -> bool {
        self.overflow
    }

    /// Appends raw bytes.
    pub fn bytes(&mut self, b: &[u8]) {
        let end = self.len.saturating_add(b.len());
        if let Some(buf) = self.buf.as_deref_mut() {
            match buf.get_mut(self.len..end) {
                Some(dst) => dst.copy_from_slice(b),
                None => self.overflow = true,
            }
        }
        self.len = end;
    }

    /// Appends a word.
    pub fn i32(&mut self, v: i32) {
        self.bytes(&v.to_le_bytes());
    }

    /// Appends a count or index (must fit in an `i32`; saturates otherwise, which the reader
    /// then rejects where it matters).
    pub fn usize(&mut self, v: usize) {
        self.i32(i32::try_from(v).unwrap_or(i32::MAX));
    }

    /// Appends a flag.
    pub fn bool(&mut self, v: bool) {
        self.i32(v as i32);
    }

    /// Appends a plain-data struct whole (its bytes as laid out in memory, little-endian on
    /// every target this crate builds for): an operator's fixed parameters written in one step
    /// and read back with [`RecordReader::pod`], never field by field in two mirrored places.
    pub fn pod<T: bytemuck::NoUninit>(&mut self, v: &T) {
        self.bytes(bytemuck::bytes_of(v));
    }

    /// Reserves `n` bytes (zeroed) and returns them for the caller to fill, if writing.
    pub fn reserve(&mut self, n: usize) -> Option<&mut [u8]> {
        let start = self.len;
        let end = start.saturating_add(n);
        self.len = end;
        match self.buf.as_deref_mut() {
            Some(buf) => match buf.get_mut(start..end) {
                Some(dst) => {
                    dst.fill(0);
                    Some(dst)
                }
                None => {
                    self.overflow = true;
                    None
                }
            },
            None => None,
        }
    }
}

/// Reads words back from a record.
#[derive(Clone, Debug)]
pub struct RecordReader<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> RecordReader<'a> {
    /// A reader at the start of `buf`.
    pub fn new(buf: &'a [u8]) -> RecordReader<'a> {
        RecordReader { buf, pos: 0 }
    }

    /// The next `n` raw bytes.
    pub fn bytes(&mut self, n: usize) -> Result<&'a [u8], RunError> {
        let end = self.pos.checked_add(n).ok_or(RunError::Internal)?;
        let b = self.buf.get(self.pos..end).ok_or(RunError::Internal)?;
        self.pos = end;
        Ok(b)
    }

    /// The next `N` words, read with one bounds check (for fixed record headers).
    #[inline]
    pub fn words<const N: usize>(&mut self) -> Result<[i32; N], RunError> {
        let end = self.pos.checked_add(4 * N).ok_or(RunError::Internal)?;
        let b = self.buf.get(self.pos..end).ok_or(RunError::Internal)?;
        self.pos = end;
        let (words, _) = b.as_chunks::<4>();
        let mut out = [0i32; N];
        for (o, w) in out.iter_mut().zip(words) {
            *o = i32::from_le_bytes(*w);
        }
        Ok(out)
    }

    /// The next word.
    pub fn i32(&mut self) -> Result<i32, RunError> {
        let b = self.bytes(4)?;
        Ok(i32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    }

    /// The next word as a non-negative count.
    pub fn usize(&mut self) -> Result<usize, RunError> {
        usize::try_from(self.i32()?).map_err(|_| RunError::Internal)
    }

    /// The next flag.
    pub fn bool(&mut self) -> Result<bool, RunError> {
        Ok(self.i32()? != 0)
    }

    /// The next plain-data struct, as [`RecordWriter::pod`] wrote it (any alignment).
    #[inline]
    pub fn pod<T: bytemuck::AnyBitPattern>(&mut self) -> Result<T, RunError> {
        let b = self.bytes(core::mem::size_of::<T>())?;
        Ok(bytemuck::pod_read_unaligned(b))
    }

    /// The next struct of `N` words whose fields include enums or flags (as
    /// [`checked`](Self::checked) reads it), lent to `f` with the reader after it: in place
    /// where the record is aligned (no copy: one load per field `f` uses), else a copy made a
    /// word at a time (never a call to `memcpy`, which a whole-struct copy costs on targets
    /// without unaligned loads such as the Cortex-M0).
    #[inline(always)]
    pub fn checked_with<T: bytemuck::CheckedBitPattern, const N: usize, R>(
        &mut self,
        f: impl FnOnce(&T, &mut Self) -> Result<R, RunError>,
    ) -> Result<R, RunError> {
        const { assert!(core::mem::size_of::<T>() == 4 * N) };
        let b = self.bytes(4 * N)?;
        match bytemuck::checked::try_from_bytes::<T>(b) {
            Ok(t) => f(t, self),
            Err(bytemuck::checked::CheckedCastError::PodCastError(_)) => {
                let words: [u32; N] = words_of(b);
                let t = bytemuck::checked::try_from_bytes::<T>(bytemuck::cast_slice(&words))
                    .map_err(|_| RunError::Internal)?;
                f(t, self)
            }
            Err(_) => Err(RunError::Internal),
        }
    }

    /// The next struct whose fields include enums or flags (bytemuck's `CheckedBitPattern`),
    /// as [`RecordWriter::pod`] wrote it: an unknown enum code or a flag other than 0 or 1 is
    /// [`RunError::Internal`], as is a record too short for it.
    #[inline]
    pub fn checked<T: bytemuck::CheckedBitPattern>(&mut self) -> Result<T, RunError> {
        let b = self.bytes(core::mem::size_of::<T>())?;
        bytemuck::checked::try_pod_read_unaligned(b).map_err(|_| RunError::Internal)
    }
}

/// The first `4 * N` bytes of `b` (`b` holds them) as `N` little-endian words, each assembled
/// on its own: one unaligned load where the target has them, four byte loads where it does not
/// (the Cortex-M0), never a call to `memcpy` (which a block copy becomes there, and whose
/// unaligned path costs more than the bytes it copies).
#[inline(always)]
fn words_of<const N: usize>(b: &[u8]) -> [u32; N] {
    let words = b.as_chunks::<4>().0;
    core::array::from_fn(|i| words.get(i).map_or(0, |w| u32::from_le_bytes(*w)))
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    #[test]
    fn round_trip_and_counting_agree() {
        let mut c = RecordWriter::counting();
        let mut buf = [0u8; 16];
        let mut w = RecordWriter::new(&mut buf);
        for w in [&mut c, &mut w] {
            w.i32(-5);
            w.usize(7);
            w.bytes(&[1, 2, 3]);
        }
        assert_eq!(c.len(), 11);
        assert!(!w.overflowed());
        let mut r = RecordReader::new(&buf);
        assert_eq!(r.i32().unwrap(), -5);
        assert_eq!(r.usize().unwrap(), 7);
        assert_eq!(r.bytes(3).unwrap(), &[1, 2, 3]);
        assert!(r.bytes(6).is_err());
        let mut r = RecordReader::new(&buf);
        assert_eq!(r.words::<2>().unwrap(), [-5, 7]);
        assert!(r.words::<5>().is_err());
    }

    #[test]
    fn plain_data_round_trips_at_any_alignment() {
        let params: [i32; 3] = [-1, 0x1234_5678, i32::MIN];
        let mut buf = [0u8; 17];
        let mut w = RecordWriter::new(&mut buf[1..]);
        w.pod(&params);
        w.pod(&7u8);
        assert_eq!(w.len(), 13);
        let mut r = RecordReader::new(&buf[1..]);
        assert_eq!(r.pod::<[i32; 3]>().unwrap(), params);
        assert_eq!(r.pod::<u8>().unwrap(), 7);
        assert!(r.pod::<[i32; 1]>().is_err());
    }

    #[test]
    fn flags_and_enum_codes_are_checked() {
        use crate::engine::kernels::pooling::PoolKind;
        let mut r = RecordReader::new(&[0, 1, 2, 1, 2]);
        assert_eq!(r.checked::<bool>(), Ok(false));
        assert_eq!(r.checked::<bool>(), Ok(true));
        assert_eq!(r.checked::<bool>(), Err(RunError::Internal));
        assert_eq!(r.checked::<PoolKind>(), Ok(PoolKind::Max));
        assert_eq!(r.checked::<PoolKind>(), Err(RunError::Internal));
        assert_eq!(r.checked::<PoolKind>(), Err(RunError::Internal));
        assert_eq!(word(usize::MAX), u32::MAX);
        assert_eq!(shape_of(shape_words([1, 2, 3, 4])), [1, 2, 3, 4]);
    }

    /// A corrupt code in a record of several fields: the bytes of a valid one with its enum
    /// byte changed.
    pub(crate) fn assert_code_checked<T>(record: &T, at: usize, bad: u8)
    where
        T: bytemuck::NoUninit + bytemuck::CheckedBitPattern + PartialEq + core::fmt::Debug,
    {
        let mut bytes = [0u8; 512];
        let n = core::mem::size_of::<T>();
        bytes[..n].copy_from_slice(bytemuck::bytes_of(record));
        assert_eq!(RecordReader::new(&bytes[..n]).checked::<T>().as_ref(), Ok(record));
        bytes[at] = bad;
        assert_eq!(RecordReader::new(&bytes[..n]).checked::<T>(), Err(RunError::Internal));
    }

    #[test]
    fn writing_past_the_end_flags_overflow() {
        let mut buf = [0u8; 3];
        let mut w = RecordWriter::new(&mut buf);
        w.i32(1);
        assert!(w.overflowed());
    }
}
