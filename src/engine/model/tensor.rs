//! Tensors as the model file describes them: element type, static shape, quantization and (for
//! constants) the data, read zero-copy from the model bytes.
//!
//! [`read_tensor`] checks one `Tensor` table completely (shape, type, buffer, quantization
//! structure); what an operator requires of its operands is checked by the operator itself.

use crate::engine::error::LoadErrorKind;
use crate::engine::format::flatbuffer::{Table, Vector, Words};
use crate::engine::format::schema::{buffer, quantization, tensor, tensor_type};
use crate::model::{QuantParams, Shape};

/// Element types the engine handles.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum DType {
    /// Signed 8-bit integers (activations and weights).
    Int8,
    /// Signed 32-bit integers (biases, shapes, indices).
    Int32,
    /// 32-bit floats (only at the edges of QUANTIZE/DEQUANTIZE).
    Float32,
    /// Signed 64-bit integers (shape/axis operands of a few operators).
    Int64,
    /// Signed 16-bit integers (the cell state of an integer LSTM).
    Int16,
}

impl DType {
    /// The type of a schema `TensorType` code, `None` if unsupported.
    pub fn from_code(code: i8) -> Option<DType> {
        match code {
            tensor_type::INT8 => Some(DType::Int8),
            tensor_type::INT32 => Some(DType::Int32),
            tensor_type::FLOAT32 => Some(DType::Float32),
            tensor_type::INT64 => Some(DType::Int64),
            tensor_type::INT16 => Some(DType::Int16),
            _ => None,
        }
    }

    /// Bytes per element.
    pub fn size(self) -> usize {
        match self {
            DType::Int8 => 1,
            DType::Int16 => 2,
            DType::Int32 | DType::Float32 => 4,
            DType::Int64 => 8,
        }
    }

    /// The schema's name of the type (`"int8"`, ...).
    pub fn name(self) -> &'static str {
        match self {
            DType::Int8 => "int8",
            DType::Int32 => "int32",
            DType::Float32 => "float32",
            DType::Int64 => "int64",
            DType::Int16 => "int16",
        }
    }
}

/// Affine quantization parameters of a tensor: one (per-tensor) or several (per-channel along
/// [`dimension`](Quantization::dimension)) scale/zero-point pairs, read from the model.
///
/// Kept small (positions into the model, not vector views): a [`TensorInfo`] carries one, and the
/// operators' preparation holds several tensors at once on the stack.
#[derive(Clone, Copy, Debug)]
pub struct Quantization<'m> {
    /// The model file (the buffer the positions below are in).
    file: &'m [u8],
    /// Position of scale 0 (`len` little-endian `f32`s, checked to be in `file` at load).
    scales: u32,
    /// Position of zero point 0 (`len` little-endian `i64`s), 0 when the model stores none.
    zero_points: u32,
    /// Number of scale/zero-point pairs (at least 1).
    len: u32,
    dimension: i32,
}

impl<'m> Quantization<'m> {
    /// Number of scale/zero-point pairs (1: per-tensor).
    pub fn len(&self) -> usize {
        self.len as usize
    }

    /// Always false: a tensor with no scale has no `Quantization`.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The axis the parameters run along (meaningful only when per-channel).
    pub fn dimension(&self) -> i32 {
        self.dimension
    }

    /// The `N` bytes of element `i` of the array at `at` (`None` past the end).
    fn element<const N: usize>(&self, at: u32, i: usize) -> Option<[u8; N]> {
        if i >= self.len() {
            return None;
        }
        let start = (at as usize).checked_add(i.checked_mul(N)?)?;
        self.file.get(start..start.checked_add(N)?)?.try_into().ok()
    }

    /// Scale `i` (0.0 past the end).
    pub fn scale(&self, i: usize) -> f32 {
        self.element::<4>(self.scales, i).map_or(0.0, f32::from_le_bytes)
    }

    /// Zero point `i` (0 when the model stores none, or past the end).
    pub fn zero_point(&self, i: usize) -> i64 {
        if self.zero_points == 0 {
            return 0;
        }
        self.element::<8>(self.zero_points, i).map_or(0, i64::from_le_bytes)
    }

    /// All scales, in order.
    pub fn scales(&self) -> impl ExactSizeIterator<Item = f32> + Clone + 'm {
        let q = *self;
        (0..q.len()).map(move |i| q.scale(i))
    }

    /// The per-tensor parameters (`None` if per-channel or the zero point is not an `i32`).
    pub fn per_tensor(&self) -> Option<QuantParams> {
        if self.len() != 1 {
            return None;
        }
        let zero_point = i32::try_from(self.zero_point(0)).ok()?;
        Some(QuantParams { scale: self.scale(0), zero_point })
    }
}

/// One tensor of the model: what it holds and, for a constant, its bytes.
#[derive(Clone, Copy, Debug)]
pub struct TensorInfo<'m> {
    /// Element type.
    pub dtype: DType,
    /// Static shape.
    pub shape: Shape,
    /// Name from the model (may be empty; not checked for UTF-8).
    pub name: &'m [u8],
    /// Quantization, if the model gives any scale.
    pub quantization: Option<Quantization<'m>>,
    /// Constant data (weights, biases, shape operands), `None` for activations.
    pub data: Option<&'m [u8]>,
    /// Index of the model buffer the tensor refers to.
    pub buffer: u32,
}

impl<'m> TensorInfo<'m> {
    /// Number of elements.
    pub fn elements(&self) -> usize {
        self.shape.elements().unwrap_or(0)
    }

    /// Size in bytes (elements times element size; checked not to overflow at load).
    pub fn bytes(&self) -> usize {
        self.elements().saturating_mul(self.dtype.size())
    }

    /// True for a constant (data stored in the model).
    pub fn is_constant(&self) -> bool {
        self.data.is_some()
    }

    /// The per-tensor quantization, if there is exactly one scale.
    pub fn quant(&self) -> Option<QuantParams> {
        self.quantization.and_then(|q| q.per_tensor())
    }

    /// The name as UTF-8 (`"?"` if it is not).
    pub fn name_str(&self) -> &'m str {
        core::str::from_utf8(self.name).unwrap_or("?")
    }
}

/// The largest tensor, in bytes, the engine accepts (offsets are 32-bit).
pub const MAX_TENSOR_BYTES: usize = i32::MAX as usize;

fn malformed(
    field: &'static str,
) -> impl Fn(crate::engine::format::flatbuffer::FbError) -> LoadErrorKind {
    move |e| LoadErrorKind::Malformed { field, at: u32::try_from(e.at).unwrap_or(u32::MAX) }
}

/// The data of buffer table `b` (`None` when it holds none).
pub fn buffer_data<'m>(file: &'m [u8], b: Table<'m>) -> Result<Option<&'m [u8]>, LoadErrorKind> {
    data_of(file, &b)
}

/// [`buffer_data`] of a buffer table passed by reference.
#[inline(always)]
fn data_of<'m>(file: &'m [u8], b: &Table<'m>) -> Result<Option<&'m [u8]>, LoadErrorKind> {
    let data = b.vector(buffer::DATA, 1).map_err(malformed("buffer data"))?;
    if let Some(v) = data {
        return Ok((!v.is_empty()).then(|| v.bytes()));
    }
    data_after(file, b)
}

/// Data stored after the FlatBuffer (files over 2 GB): offset counts from the file start.
#[inline(always)]
fn data_after<'m>(file: &'m [u8], b: &Table<'m>) -> Result<Option<&'m [u8]>, LoadErrorKind> {
    let offset = b.u64(buffer::OFFSET, 0).map_err(malformed("buffer offset"))?;
    let size = b.u64(buffer::SIZE, 0).map_err(malformed("buffer size"))?;
    if offset <= 1 || size == 0 {
        return Ok(None);
    }
    let bad = LoadErrorKind::Malformed {
        field: "buffer offset",
        at: u32::try_from(b.pos()).unwrap_or(u32::MAX),
    };
    let start = usize::try_from(offset).map_err(|_| bad)?;
    let len = usize::try_from(size).map_err(|_| bad)?;
    let end = start.checked_add(len).ok_or(bad)?;
    file.get(start..end).map(Some).ok_or(bad)
}

/// Reads and checks tensor table `t`; `buffers` is the model's buffer list.
pub fn read_tensor<'m>(
    file: &'m [u8],
    t: Table<'m>,
    buffers: Vector<'m>,
) -> Result<TensorInfo<'m>, LoadErrorKind> {
    let mut info = TensorInfo::EMPTY;
    read_tensor_into(file, &t, &buffers, &mut info)?;
    Ok(info)
}

impl TensorInfo<'_> {
    /// A placeholder for [`read_tensor_into`] to fill.
    pub(crate) const EMPTY: TensorInfo<'static> = TensorInfo {
        dtype: DType::Int8,
        shape: Shape::from_dims([]),
        name: &[],
        quantization: None,
        data: None,
        buffer: 0,
    };
}

/// Tensor `i` of the list `tensors` (a model's), with `buffers` the model's buffer list, read
/// into `out` by [`read_tensor_into`].
///
/// Takes the lists by position so that the table and vector views live in this frame, not the
/// caller's.
#[inline(always)]
pub(crate) fn read_listed_tensor<'m>(
    file: &'m [u8],
    tensors: Words,
    buffers: Words,
    i: u32,
    out: &mut TensorInfo<'m>,
) -> Result<(), LoadErrorKind> {
    let t = match tensors.vector(file).table(i as usize) {
        Ok(t) => t,
        Err(e) => return Err(tensor_table_error(tensors, i, e)),
    };
    read_tensor_into(file, &t, &buffers.vector(file), out)
}

/// Why tensor `i`'s table cannot be read.
#[cold]
#[inline(never)]
fn tensor_table_error(
    tensors: Words,
    i: u32,
    e: crate::engine::format::flatbuffer::FbError,
) -> LoadErrorKind {
    if (i as usize) < tensors.len() {
        LoadErrorKind::Malformed { field: "tensor", at: u32::try_from(e.at).unwrap_or(u32::MAX) }
    } else {
        LoadErrorKind::IndexOutOfRange {
            field: "tensor",
            index: i as i64,
            len: u32::try_from(tensors.len()).unwrap_or(u32::MAX),
        }
    }
}

/// [`read_tensor`] into `out`, field by field (on an error `out` is partly written).
///
/// Every operator's preparation reads several tensors, at the bottom of the deepest stack of
/// loading; written in place, the tensor is never copied between frames, and each part is read by
/// its own out-of-line function so that their temporaries do not add up here.
#[inline(always)]
pub(crate) fn read_tensor_into<'m>(
    file: &'m [u8],
    t: &Table<'m>,
    buffers: &Vector<'m>,
    out: &mut TensorInfo<'m>,
) -> Result<(), LoadErrorKind> {
    let code = t.i8(tensor::TYPE, 0).map_err(malformed("tensor type"))?;
    out.dtype = DType::from_code(code).ok_or(LoadErrorKind::UnsupportedType(code))?;
    read_shape(t, &mut out.shape)?;
    let bytes = out
        .shape
        .elements()
        .and_then(|n| n.checked_mul(out.dtype.size()))
        .filter(|&b| b <= MAX_TENSOR_BYTES)
        .ok_or(LoadErrorKind::TooLarge)?;
    check_plain(t)?;
    read_data_into(file, t, buffers, bytes, out)?;
    read_name(t, &mut out.name)?;
    read_quantization_into(t, &mut out.quantization)
}

/// The tensor's buffer index and constant data into `out` (the parts below each write their
/// field and return only the error, so this frame holds no copies of them).
#[inline(never)]
fn read_data_into<'m>(
    file: &'m [u8],
    t: &Table<'m>,
    buffers: &Vector<'m>,
    bytes: usize,
    out: &mut TensorInfo<'m>,
) -> Result<(), LoadErrorKind> {
    out.buffer = t.u32(tensor::BUFFER, 0).map_err(malformed("tensor buffer"))?;
    out.data = read_data(file, out.buffer, buffers, bytes)?;
    Ok(())
}

/// The tensor's name (empty when absent) into `name`.
#[inline(never)]
fn read_name<'m>(t: &Table<'m>, name: &mut &'m [u8]) -> Result<(), LoadErrorKind> {
    *name = t.string(tensor::NAME).map_err(malformed("tensor name"))?.unwrap_or(&[]);
    Ok(())
}

/// The tensor's quantization into `q`.
#[inline(never)]
fn read_quantization_into<'m>(
    t: &Table<'m>,
    q: &mut Option<Quantization<'m>>,
) -> Result<(), LoadErrorKind> {
    *q = read_quantization(t)?;
    Ok(())
}

/// The tensor's static shape (every dimension known, at most [`Shape::MAX_RANK`]) into `shape`.
#[inline(never)]
fn read_shape(t: &Table<'_>, shape: &mut Shape) -> Result<(), LoadErrorKind> {
    let mut dims = [0u32; Shape::MAX_RANK];
    let rank = match t.vector(tensor::SHAPE, 4).map_err(malformed("tensor shape"))? {
        None => 0,
        Some(v) => {
            if v.len() > Shape::MAX_RANK {
                return Err(LoadErrorKind::RankTooLarge(
                    u32::try_from(v.len()).unwrap_or(u32::MAX),
                ));
            }
            for (i, d) in dims.iter_mut().enumerate().take(v.len()) {
                let x = v.i32(i).map_err(malformed("tensor shape"))?;
                *d = u32::try_from(x).map_err(|_| LoadErrorKind::DynamicShape)?;
            }
            v.len()
        }
    };
    *shape = Shape::new(&dims[..rank]).ok_or(LoadErrorKind::RankTooLarge(rank as u32))?;
    Ok(())
}

/// Refuses sparse tensors. Variable (state) tensors pass: where one may be used is the data-flow
/// check's business ([`is_variable`]).
#[inline(never)]
fn check_plain(t: &Table<'_>) -> Result<(), LoadErrorKind> {
    if t.table(tensor::SPARSITY).map_err(malformed("tensor sparsity"))?.is_some() {
        return Err(LoadErrorKind::Sparse);
    }
    Ok(())
}

/// Whether tensor table `t` is a variable (state) tensor (false if unreadable: `load` has read
/// every tensor table already).
pub(crate) fn is_variable(t: &Table<'_>) -> bool {
    t.bool(tensor::IS_VARIABLE, false).unwrap_or(false)
}

/// The constant data of a tensor of `bytes` bytes in buffer `buffer` (`None`: an activation).
#[inline]
fn read_data<'m>(
    file: &'m [u8],
    buffer: u32,
    buffers: &Vector<'m>,
    bytes: usize,
) -> Result<Option<&'m [u8]>, LoadErrorKind> {
    if buffer == 0 {
        return Ok(None);
    }
    let b = buffers.table(buffer as usize).map_err(|_| LoadErrorKind::IndexOutOfRange {
        field: "tensor buffer",
        index: buffer as i64,
        len: u32::try_from(buffers.len()).unwrap_or(u32::MAX),
    })?;
    let data = data_of(file, &b)?;
    if let Some(d) = data {
        if d.len() != bytes {
            return Err(LoadErrorKind::DataSize {
                expected: bytes as u32,
                found: u32::try_from(d.len()).unwrap_or(u32::MAX),
            });
        }
    }
    Ok(data)
}

#[inline]
fn read_quantization<'m>(t: &Table<'m>) -> Result<Option<Quantization<'m>>, LoadErrorKind> {
    let Some(q) = t.table(tensor::QUANTIZATION).map_err(malformed("tensor quantization"))? else {
        return Ok(None);
    };
    if q.u8(quantization::DETAILS_TYPE, 0).map_err(malformed("quantization details"))? != 0 {
        return Err(LoadErrorKind::Quantization("custom quantization details"));
    }
    let scales = match q.vector(quantization::SCALE, 4).map_err(malformed("quantization scale"))? {
        Some(v) if !v.is_empty() => v,
        _ => return Ok(None),
    };
    // Positions as `u32` (a vector's elements start after its length word, so never at 0).
    let bad = || LoadErrorKind::Malformed {
        field: "quantization",
        at: u32::try_from(q.pos()).unwrap_or(u32::MAX),
    };
    let zero_points = zero_points(&q, scales.len())?;
    check_scales(&scales)?;
    let dimension =
        q.i32(quantization::QUANTIZED_DIMENSION, 0).map_err(malformed("quantized_dimension"))?;
    Ok(Some(Quantization {
        file: q.buffer(),
        scales: u32::try_from(scales.start()).map_err(|_| bad())?,
        zero_points: u32::try_from(zero_points).map_err(|_| bad())?,
        len: u32::try_from(scales.len()).map_err(|_| LoadErrorKind::TooLarge)?,
        dimension,
    }))
}

/// The position of the zero points of quantization table `q` (0 when it stores none), which
/// must be as many as the `scales`.
#[inline(always)]
fn zero_points(q: &Table<'_>, scales: usize) -> Result<usize, LoadErrorKind> {
    let zero_points = q
        .vector(quantization::ZERO_POINT, 8)
        .map_err(malformed("quantization zero_point"))?
        .filter(|z| !z.is_empty());
    match zero_points {
        None => Ok(0),
        Some(z) if z.len() == scales => Ok(z.start()),
        Some(_) => Err(LoadErrorKind::Quantization("zero_point and scale counts differ")),
    }
}

/// Every scale must be finite and not negative.
#[inline(never)]
fn check_scales(scales: &Vector<'_>) -> Result<(), LoadErrorKind> {
    for i in 0..scales.len() {
        let s = scales.f32(i).map_err(malformed("quantization scale"))?;
        if !s.is_finite() || s < 0.0 {
            return Err(LoadErrorKind::Quantization("scale is negative or not finite"));
        }
    }
    Ok(())
}
