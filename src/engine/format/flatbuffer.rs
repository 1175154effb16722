//! A minimal, checked, zero-copy FlatBuffers reader: tables, vectors, strings and scalars over an
//! untrusted `&[u8]`.
//!
//! Why our own: the `flatbuffers` crate's verifier needs its `std`/alloc features, which a `no_std`,
//! allocation-free engine cannot use. This reader needs neither; it reads only what the TFLite schema
//! uses.
//!
//! What it guarantees: every read is bounds-checked (checked arithmetic, `get()`), so a hostile buffer
//! yields a [`FbError`], never a panic or an out-of-bounds read. Offsets to tables, vectors and strings
//! (`uoffset`) are unsigned and point forward, so no chain of them can form a cycle; a vtable
//! (`soffset`) is a leaf. The callers walk a fixed-depth schema, so there is no recursion at all.
//! Alignment is not required: scalars are decoded with `from_le_bytes`.
//!
//! What it does not do: it knows nothing of the TFLite schema (see `schema`), and it does not verify
//! fields nobody reads.

/// Where in the buffer a FlatBuffer structure is broken.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct FbError {
    /// Byte offset of the bad structure (or of the offset pointing to it).
    pub at: usize,
}

/// Size in bytes of a `uoffset`, `soffset` or vector length.
const WORD: usize = 4;

fn slice(buf: &[u8], at: usize, len: usize) -> Result<&[u8], FbError> {
    let end = at.checked_add(len).ok_or(FbError { at })?;
    buf.get(at..end).ok_or(FbError { at })
}

fn read_u16(buf: &[u8], at: usize) -> Result<u16, FbError> {
    let b = slice(buf, at, 2)?;
    Ok(u16::from_le_bytes([b[0], b[1]]))
}

fn read_u32(buf: &[u8], at: usize) -> Result<u32, FbError> {
    let b = slice(buf, at, 4)?;
    Ok(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
}

/// Follows the `uoffset` stored at `at`: the absolute position it points to, inside `buf`.
fn follow(buf: &[u8], at: usize) -> Result<usize, FbError> {
    let rel = read_u32(buf, at)? as usize;
    let target = at.checked_add(rel).ok_or(FbError { at })?;
    if target >= buf.len() {
        return Err(FbError { at });
    }
    Ok(target)
}

/// The root table of a buffer (the `uoffset` at byte 0).
pub fn root(buf: &[u8]) -> Result<Table<'_>, FbError> {
    Table::at(buf, follow(buf, 0)?)
}

/// A table: a vtable-described record of optional fields.
#[derive(Clone, Copy, Debug)]
pub struct Table<'a> {
    buf: &'a [u8],
    pos: usize,
    vtable: usize,
    /// Number of field slots the vtable describes.
    slots: usize,
    /// Size of the table's inline data in bytes (including the leading soffset).
    size: usize,
}

impl<'a> Table<'a> {
    /// The table at absolute position `pos`, with its vtable checked.
    pub fn at(buf: &'a [u8], pos: usize) -> Result<Table<'a>, FbError> {
        let err = FbError { at: pos };
        let soff = read_u32(buf, pos)? as i32 as i64;
        let vtable = (pos as i64).checked_sub(soff).ok_or(err)?;
        let vtable = usize::try_from(vtable).map_err(|_| err)?;
        let vt_bytes = read_u16(buf, vtable)? as usize;
        let size = read_u16(buf, vtable.checked_add(2).ok_or(err)?)? as usize;
        if vt_bytes < 4 || !vt_bytes.is_multiple_of(2) || size < WORD {
            return Err(err);
        }
        slice(buf, vtable, vt_bytes)?;
        slice(buf, pos, size)?;
        Ok(Table { buf, pos, vtable, slots: (vt_bytes - 4) / 2, size })
    }

    /// Absolute position of the table (for error reports).
    pub fn pos(&self) -> usize {
        self.pos
    }

    /// The whole buffer the table is read from.
    pub(crate) fn buffer(&self) -> &'a [u8] {
        self.buf
    }

    /// Absolute position of field `id`'s inline data of `width` bytes, `None` when absent.
    fn field(&self, id: usize, width: usize) -> Result<Option<usize>, FbError> {
        if id >= self.slots {
            return Ok(None);
        }
        let rel = read_u16(self.buf, self.vtable + 4 + 2 * id)? as usize;
        if rel == 0 {
            return Ok(None);
        }
        if rel < WORD || rel + width > self.size {
            return Err(FbError { at: self.pos });
        }
        Ok(Some(self.pos + rel))
    }

    fn scalar<const N: usize>(&self, id: usize) -> Result<Option<[u8; N]>, FbError> {
        match self.field(id, N)? {
            None => Ok(None),
            Some(at) => {
                let b = slice(self.buf, at, N)?;
                let mut out = [0u8; N];
                out.copy_from_slice(b);
                Ok(Some(out))
            }
        }
    }

    /// Field `id` as a `u8` (also `bool`, `ubyte` enums and union types).
    pub fn u8(&self, id: usize, default: u8) -> Result<u8, FbError> {
        Ok(self.scalar::<1>(id)?.map_or(default, |b| b[0]))
    }

    /// Field `id` as an `i8` (`byte` enums).
    pub fn i8(&self, id: usize, default: i8) -> Result<i8, FbError> {
        Ok(self.scalar::<1>(id)?.map_or(default, |b| b[0] as i8))
    }

    /// Field `id` as a `bool`.
    pub fn bool(&self, id: usize, default: bool) -> Result<bool, FbError> {
        Ok(self.scalar::<1>(id)?.map_or(default, |b| b[0] != 0))
    }

    /// Field `id` as an `i32`.
    pub fn i32(&self, id: usize, default: i32) -> Result<i32, FbError> {
        Ok(self.scalar::<4>(id)?.map_or(default, i32::from_le_bytes))
    }

    /// Field `id` as a `u32`.
    pub fn u32(&self, id: usize, default: u32) -> Result<u32, FbError> {
        Ok(self.scalar::<4>(id)?.map_or(default, u32::from_le_bytes))
    }

    /// Field `id` as a `u64`.
    pub fn u64(&self, id: usize, default: u64) -> Result<u64, FbError> {
        Ok(self.scalar::<8>(id)?.map_or(default, u64::from_le_bytes))
    }

    /// Field `id` as an `f32`.
    pub fn f32(&self, id: usize, default: f32) -> Result<f32, FbError> {
        Ok(self.scalar::<4>(id)?.map_or(default, f32::from_le_bytes))
    }

    fn target(&self, id: usize) -> Result<Option<usize>, FbError> {
        match self.field(id, WORD)? {
            None => Ok(None),
            Some(at) => follow(self.buf, at).map(Some),
        }
    }

    /// Field `id` as a sub-table.
    pub fn table(&self, id: usize) -> Result<Option<Table<'a>>, FbError> {
        match self.target(id)? {
            None => Ok(None),
            Some(at) => Table::at(self.buf, at).map(Some),
        }
    }

    /// Field `id` as a vector whose elements are `elem` bytes wide.
    pub fn vector(&self, id: usize, elem: usize) -> Result<Option<Vector<'a>>, FbError> {
        match self.target(id)? {
            None => Ok(None),
            Some(at) => Vector::at(self.buf, at, elem).map(Some),
        }
    }

    /// Field `id` as a string's bytes (UTF-8 is not checked; see [`Vector::bytes`]).
    pub fn string(&self, id: usize) -> Result<Option<&'a [u8]>, FbError> {
        Ok(self.vector(id, 1)?.map(|v| v.bytes()))
    }
}

/// A vector of fixed-size elements (scalars or `uoffset`s to tables).
#[derive(Clone, Copy, Debug)]
pub struct Vector<'a> {
    buf: &'a [u8],
    /// Absolute position of element 0.
    start: usize,
    len: usize,
    elem: usize,
}

impl<'a> Vector<'a> {
    /// The vector whose length word is at `at`, with all its elements inside the buffer.
    pub fn at(buf: &'a [u8], at: usize, elem: usize) -> Result<Vector<'a>, FbError> {
        let len = read_u32(buf, at)? as usize;
        let start = at + WORD;
        // Element sizes are at most 8 bytes, and a length word at most 2^32: the product fits a
        // u64 and is checked against the buffer below. (No `checked_mul` on usize, which
        // Cortex-M0 does with a 64-bit multiply routine call on this hot path.)
        let bytes = if elem <= 8 && len <= usize::MAX / 8 {
            len * elem
        } else {
            len.checked_mul(elem).ok_or(FbError { at })?
        };
        slice(buf, start, bytes).map_err(|_| FbError { at })?;
        Ok(Vector { buf, start, len, elem })
    }

    /// Number of elements.
    pub fn len(&self) -> usize {
        self.len
    }

    /// True when the vector has no elements.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Absolute position of the first element.
    pub fn start(&self) -> usize {
        self.start
    }

    /// The raw bytes of all elements.
    pub fn bytes(&self) -> &'a [u8] {
        self.buf.get(self.start..self.start + self.len * self.elem).unwrap_or(&[])
    }

    fn elem_bytes<const N: usize>(&self, i: usize) -> Result<[u8; N], FbError> {
        if i >= self.len || N != self.elem {
            return Err(FbError { at: self.start });
        }
        let b = slice(self.buf, self.start + i * N, N)?;
        let mut out = [0u8; N];
        out.copy_from_slice(b);
        Ok(out)
    }

    /// Element `i` of a `[int]`.
    pub fn i32(&self, i: usize) -> Result<i32, FbError> {
        self.elem_bytes::<4>(i).map(i32::from_le_bytes)
    }

    /// Element `i` of a `[float]`.
    pub fn f32(&self, i: usize) -> Result<f32, FbError> {
        self.elem_bytes::<4>(i).map(f32::from_le_bytes)
    }

    /// Element `i` of a `[long]`.
    pub fn i64(&self, i: usize) -> Result<i64, FbError> {
        self.elem_bytes::<8>(i).map(i64::from_le_bytes)
    }

    /// Element `i` of a vector of tables.
    pub fn table(&self, i: usize) -> Result<Table<'a>, FbError> {
        if i >= self.len || self.elem != WORD {
            return Err(FbError { at: self.start });
        }
        let at = self.start + i * WORD;
        Table::at(self.buf, follow(self.buf, at)?)
    }
}

/// A vector of 4-byte elements (`uoffset`s to tables, or `int`s) remembered by position and
/// length only, for a holder that keeps the buffer itself: 8 bytes instead of a [`Vector`]'s 20
/// (the model and operator views are copied through the stack of loading and planning).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Words {
    start: u32,
    len: u32,
}

impl Words {
    /// The position and length of `v` (`None` if its elements are not 4 bytes wide, or its
    /// position does not fit in 32 bits).
    pub(crate) fn of(v: &Vector<'_>) -> Option<Words> {
        if v.elem != WORD {
            return None;
        }
        Some(Words { start: u32::try_from(v.start).ok()?, len: u32::try_from(v.len).ok()? })
    }

    /// Number of elements.
    pub(crate) fn len(self) -> usize {
        self.len as usize
    }

    /// True when there is no element.
    pub(crate) fn is_empty(self) -> bool {
        self.len == 0
    }

    /// The vector again, in `buf` (every read through it is still bounds-checked).
    #[inline]
    pub(crate) fn vector(self, buf: &[u8]) -> Vector<'_> {
        Vector { buf, start: self.start as usize, len: self.len as usize, elem: WORD }
    }

    /// Element `j` in `buf` as a tensor index: `None` if it is negative (an absent optional
    /// operand), out of range or unreadable.
    #[inline]
    pub(crate) fn tensor(self, buf: &[u8], j: usize) -> Option<u32> {
        self.vector(buf).i32(j).ok().and_then(|t| u32::try_from(t).ok())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A hand-built buffer: root table with an i32 field 0 = 7 and a vector field 1 = [1, 2].
    fn tiny() -> [u8; 40] {
        let mut b = [0u8; 40];
        // root uoffset -> table at 16
        b[0..4].copy_from_slice(&16u32.to_le_bytes());
        // vtable at 8: size 8, table size 12, field0 at +4, field1 at +8
        b[8..10].copy_from_slice(&8u16.to_le_bytes());
        b[10..12].copy_from_slice(&12u16.to_le_bytes());
        b[12..14].copy_from_slice(&4u16.to_le_bytes());
        b[14..16].copy_from_slice(&8u16.to_le_bytes());
        // table at 16: soffset = 16 - 8 = 8
        b[16..20].copy_from_slice(&8i32.to_le_bytes());
        b[20..24].copy_from_slice(&7i32.to_le_bytes());
        // field1 uoffset at 24 -> vector at 28
        b[24..28].copy_from_slice(&4u32.to_le_bytes());
        b[28..32].copy_from_slice(&2u32.to_le_bytes());
        b[32..36].copy_from_slice(&1i32.to_le_bytes());
        b[36..40].copy_from_slice(&2i32.to_le_bytes());
        b
    }

    #[test]
    fn reads_fields_and_defaults() {
        let b = tiny();
        let t = root(&b).unwrap();
        assert_eq!(t.i32(0, 0).unwrap(), 7);
        assert_eq!(t.i32(5, 42).unwrap(), 42);
        let v = t.vector(1, 4).unwrap().unwrap();
        assert_eq!((v.len(), v.i32(0).unwrap(), v.i32(1).unwrap()), (2, 1, 2));
        assert!(v.i32(2).is_err());
    }

    #[test]
    fn every_truncation_is_an_error_not_a_panic() {
        let b = tiny();
        for n in 0..b.len() {
            let r = root(&b[..n]).and_then(|t| {
                t.i32(0, 0)?;
                t.vector(1, 4)?.map(|v| v.i32(1)).transpose()
            });
            assert!(r.is_err(), "length {n}");
        }
    }

    #[test]
    fn oversized_vector_length_is_rejected() {
        let mut b = tiny();
        b[28..32].copy_from_slice(&u32::MAX.to_le_bytes());
        assert!(root(&b).unwrap().vector(1, 4).is_err());
    }

    #[test]
    fn field_beyond_table_size_is_rejected() {
        let mut b = tiny();
        b[12..14].copy_from_slice(&200u16.to_le_bytes());
        assert!(root(&b).unwrap().i32(0, 0).is_err());
    }
}
