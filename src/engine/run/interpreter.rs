//! [`Interpreter`]: runs a loaded model in a caller-provided arena.
//!
//! All run-time state lives in the arena (see [`crate::engine::plan::planner`] for its
//! layout) and on the stack: there is no global state and no allocation, so several
//! interpreters can run side by side, each with its own arena. `invoke` is integer-only (except
//! QUANTIZE/DEQUANTIZE on float tensors): every float-derived parameter was computed in
//! [`Interpreter::new`].

use crate::engine::arena::{self, Location};
use crate::engine::error::RunError;
use crate::engine::model::kernel::Kernels;
use crate::engine::model::tensor::{DType, TensorInfo};
use crate::engine::model::TfLiteModel;
use crate::engine::ops::{self, Inputs, Operands};
use crate::engine::plan::planner::{self, Layout};
use crate::engine::plan::prebuilt::{IoTensor, Prebuilt};
use crate::engine::plan::Records;
use crate::engine::record::RecordReader;
use crate::engine::run::profile::{NoProfiler, Profiler};
use crate::model::{Model, QuantParams, Shape};

/// A model ready to run in its arena.
///
/// ```
/// # use edge_reflex::engine::{Interpreter, TfLiteModel};
/// # fn demo(bytes: &[u8]) -> Result<(), Box<dyn std::error::Error>> {
/// let model = TfLiteModel::load(bytes).map_err(|e| e.to_string())?;
/// let mut arena = vec![0u8; model.arena_size().map_err(|e| e.to_string())?];
/// let mut interpreter = Interpreter::new(&model, &mut arena).map_err(|e| e.to_string())?;
/// interpreter.input_bytes(0).unwrap().fill(0);
/// interpreter.invoke().map_err(|e| e.to_string())?;
/// let scores = interpreter.output_bytes(0).unwrap();
/// # let _ = scores; Ok(()) }
/// ```
#[derive(Debug)]
pub struct Interpreter<'m, 'a> {
    model: TfLiteModel<'m>,
    arena: &'a mut [u8],
    layout: Layout,
}

impl<'m, 'a> Interpreter<'m, 'a> {
    /// Prepares `model` in `arena`: computes every operator's parameters and plans the memory.
    ///
    /// Errors: [`RunError::ArenaTooSmall`] (with the size needed) if `arena` is shorter than
    /// [`TfLiteModel::arena_size`]. Nothing else can fail for a model that `load` accepted.
    pub fn new(model: &TfLiteModel<'m>, arena: &'a mut [u8]) -> Result<Self, RunError> {
        let layout = planner::build(model, arena)?;
        Ok(Interpreter { model: *model, arena, layout })
    }

    /// The model.
    pub fn model(&self) -> &TfLiteModel<'m> {
        &self.model
    }

    /// The arena layout (sizes of its parts).
    pub fn layout(&self) -> Layout {
        self.layout
    }

    /// Where tensor `t`'s bytes are while the interpreter runs.
    pub fn location(&self, t: usize) -> Result<Location, RunError> {
        arena::location(self.table(), t)
    }

    fn table(&self) -> &[u8] {
        self.arena.get(..self.layout.table).unwrap_or(&[])
    }

    /// Bytes of tensor `t` (arena or model), read-only.
    pub fn tensor_bytes(&self, t: usize) -> Option<&[u8]> {
        match self.location(t).ok()? {
            Location::Arena { offset, len } => self.arena.get(offset..offset.checked_add(len)?),
            Location::Model { offset, len } => {
                self.model.file().get(offset..offset.checked_add(len)?)
            }
            Location::Unused => None,
        }
    }

    /// Bytes of graph input `j`, to be filled before [`invoke`](Interpreter::invoke)
    /// (raw little-endian elements of the input's type).
    pub fn input_bytes(&mut self, j: usize) -> Option<&mut [u8]> {
        let t = self.model.input(j)? as usize;
        match arena::location(self.table(), t).ok()? {
            Location::Arena { offset, len } => self.arena.get_mut(offset..offset.checked_add(len)?),
            _ => None,
        }
    }

    /// Bytes of graph output `j` (valid after a successful [`invoke`](Interpreter::invoke)).
    pub fn output_bytes(&self, j: usize) -> Option<&[u8]> {
        self.tensor_bytes(self.model.output(j)? as usize)
    }

    /// Type, shape and quantization of graph input `j`.
    pub fn input_info(&self, j: usize) -> Option<TensorInfo<'m>> {
        self.model.input_info(j)
    }

    /// Type, shape and quantization of graph output `j`.
    pub fn output_info(&self, j: usize) -> Option<TensorInfo<'m>> {
        self.model.output_info(j)
    }

    /// Runs every operator once, in order.
    ///
    /// Errors: [`RunError::Kernel`] / [`RunError::Internal`] only if the arena's records were
    /// corrupted, which safe code cannot do; a model accepted by `load` always runs.
    pub fn invoke(&mut self) -> Result<(), RunError> {
        self.invoke_profiled(&mut NoProfiler)
    }

    /// [`invoke`](Interpreter::invoke), calling `profiler` around every operator (RESHAPE,
    /// EXPAND_DIMS and SQUEEZE included, though they do nothing).
    pub fn invoke_profiled<P: Profiler>(&mut self, profiler: &mut P) -> Result<(), RunError> {
        let layout = self.layout;
        let (meta, act) = self.arena.split_at_mut(layout.activations_start);
        let plan = Records {
            table: meta.get(..layout.table).ok_or(RunError::Internal)?,
            records: meta.get(layout.table..).ok_or(RunError::Internal)?,
            operators: self.model.operator_count(),
            base: layout.activations_start,
            kernels: self.model.kernels(),
        };
        plan.run(self.model.file(), act, profiler)
    }
}

impl Records<'_> {
    /// Runs every operator once, in order, with `act` as the activations region.
    #[inline]
    pub fn run<P: Profiler>(
        &self,
        model: &[u8],
        act: &mut [u8],
        profiler: &mut P,
    ) -> Result<(), RunError> {
        let mut pos = 0;
        for index in 0..self.operators {
            let head = self.records.get(pos..pos + 4).ok_or(RunError::Internal)?;
            let len = u32::from_le_bytes([head[0], head[1], head[2], head[3]]) as usize;
            let end = pos.checked_add(len).ok_or(RunError::Internal)?;
            let record = self.records.get(pos..end).ok_or(RunError::Internal)?;
            pos = end;
            let code = record_code(record)?;
            profiler.begin(index, code);
            let result =
                run_operator(record, model, self.table, &mut *act, self.base, self.kernels);
            profiler.end(index, code);
            result.map_err(|e| match e {
                RunError::Kernel { error, .. } => {
                    RunError::Kernel { operator: index as u32, error }
                }
                other => other,
            })?;
        }
        Ok(())
    }
}

impl crate::engine::run::profile::Invoke for Interpreter<'_, '_> {
    fn input_bytes(&mut self, j: usize) -> Option<&mut [u8]> {
        Interpreter::input_bytes(self, j)
    }

    fn output_bytes(&self, j: usize) -> Option<&[u8]> {
        Interpreter::output_bytes(self, j)
    }

    fn invoke_profiled<P: Profiler>(&mut self, profiler: &mut P) -> Result<(), RunError> {
        Interpreter::invoke_profiled(self, profiler)
    }
}

/// The builtin code of an operator record (its second word).
fn record_code(record: &[u8]) -> Result<i32, RunError> {
    let b = record.get(4..8).ok_or(RunError::Internal)?;
    Ok(i32::from_le_bytes([b[0], b[1], b[2], b[3]]))
}

/// Runs one operator from its record.
fn run_operator(
    record: &[u8],
    model: &[u8],
    table: &[u8],
    act: &mut [u8],
    base: usize,
    kernels: &Kernels,
) -> Result<(), RunError> {
    let mut r = RecordReader::new(record);
    let [_len, code, scratch_offset, scratch_len, n_in] = r.words::<5>()?;
    let count = |v: i32| usize::try_from(v).map_err(|_| RunError::Internal);
    let (scratch_offset, scratch_len) = (count(scratch_offset)?, count(scratch_len)?);
    let indices = r.bytes(count(n_in)?.checked_mul(4).ok_or(RunError::Internal)?)?;
    let out = r.usize()?;
    if matches!(
        code,
        crate::engine::model::operator::code::RESHAPE
            | crate::engine::model::operator::code::EXPAND_DIMS
            | crate::engine::model::operator::code::SQUEEZE
    ) {
        return Ok(());
    }
    let Location::Arena { offset, len } = arena::location(table, out)? else {
        return Err(RunError::Internal);
    };
    let out_start = offset.checked_sub(base).ok_or(RunError::Internal)?;
    let (pieces, output, scratch) = if scratch_len == 0 {
        split_output(act, base, out_start, len)?
    } else {
        let scratch_start = scratch_offset.checked_sub(base).ok_or(RunError::Internal)?;
        split(act, base, (out_start, len), (scratch_start, scratch_len))?
    };
    let io = Operands { inputs: Inputs { model, table, pieces, indices }, output, scratch };
    if code < 0 {
        let registration = kernels.by_record_code(code).ok_or(RunError::UnknownOperator(code))?;
        return (registration.eval)(&mut r, io);
    }
    ops::eval(code, &mut r, io)
}

type Pieces<'x> = [(&'x [u8], usize); 3];

/// [`split`] for an operator without scratch: the output range and the pieces before and after
/// it (the middle piece is empty).
#[inline]
fn split_output(
    act: &mut [u8],
    base: usize,
    start: usize,
    len: usize,
) -> Result<(Pieces<'_>, &mut [u8], &mut [u8]), RunError> {
    let end = start.checked_add(len).filter(|&e| e <= act.len()).ok_or(RunError::Internal)?;
    let (before, rest) = act.split_at_mut(start);
    let (output, after) = rest.split_at_mut(len);
    let pieces = [(&*before, base), (&[][..], base + end), (&*after, base + end)];
    Ok((pieces, output, &mut []))
}

/// Splits the activations region into the output range, the scratch range (both mutable) and
/// the three read-only pieces around them (with their absolute offsets).
fn split(
    act: &mut [u8],
    base: usize,
    out: (usize, usize),
    scratch: (usize, usize),
) -> Result<(Pieces<'_>, &mut [u8], &mut [u8]), RunError> {
    let swapped = scratch.0 < out.0;
    let (a, b) = if swapped { (scratch, out) } else { (out, scratch) };
    let a_end = a.0.checked_add(a.1).ok_or(RunError::Internal)?;
    let b_end = b.0.checked_add(b.1).ok_or(RunError::Internal)?;
    if a_end > b.0 || b_end > act.len() {
        return Err(RunError::Internal);
    }
    let (p0, rest) = act.split_at_mut(a.0);
    let (ma, rest) = rest.split_at_mut(a.1);
    let (p1, rest) = rest.split_at_mut(b.0 - a_end);
    let (mb, p2) = rest.split_at_mut(b.1);
    let pieces = [(&*p0, base), (&*p1, base + a_end), (&*p2, base + b_end)];
    Ok(if swapped { (pieces, mb, ma) } else { (pieces, ma, mb) })
}

fn int8_quant(info: Option<TensorInfo<'_>>) -> QuantParams {
    info.and_then(|t| t.quant()).unwrap_or(QuantParams { scale: 0.0, zero_point: 0 })
}

fn int8_shape(info: Option<TensorInfo<'_>>) -> Shape {
    info.map_or(Shape::from_dims([]), |t| t.shape)
}

/// The interpreter as the graph's int8 [`Model`]: input 0 and output 0. A model whose input 0
/// or output 0 is not int8 reports [`RunError::NotInt8`] from `invoke` (its `input` is empty).
impl Model for Interpreter<'_, '_> {
    type Error = RunError;

    fn input(&mut self) -> &mut [i8] {
        let is_int8 = self.input_info(0).is_some_and(|t| t.dtype == DType::Int8);
        match self.input_bytes(0) {
            Some(b) if is_int8 => bytemuck::cast_slice_mut(b),
            _ => &mut [],
        }
    }

    fn input_quant(&self) -> QuantParams {
        int8_quant(self.input_info(0))
    }

    fn input_shape(&self) -> Shape {
        int8_shape(self.input_info(0))
    }

    fn invoke(&mut self) -> Result<(), RunError> {
        let int8 = |t: Option<TensorInfo<'_>>| t.is_some_and(|t| t.dtype == DType::Int8);
        if !int8(self.input_info(0)) || !int8(self.output_info(0)) {
            return Err(RunError::NotInt8);
        }
        Interpreter::invoke(self)
    }

    fn output(&self) -> &[i8] {
        let is_int8 = self.output_info(0).is_some_and(|t| t.dtype == DType::Int8);
        match self.output_bytes(0) {
            Some(b) if is_int8 => bytemuck::cast_slice(b),
            _ => &[],
        }
    }

    fn output_quant(&self) -> QuantParams {
        int8_quant(self.output_info(0))
    }

    fn output_shape(&self) -> Shape {
        int8_shape(self.output_info(0))
    }
}

/// A [`Prebuilt`] plan running in a RAM arena of [`Prebuilt::arena_size`] bytes: the same
/// operators and results as [`Interpreter`], bit for bit.
#[derive(Debug)]
pub struct PrebuiltInterpreter<'m, 'p, 'a> {
    prebuilt: Prebuilt<'m, 'p>,
    arena: &'a mut [u8],
}

impl<'m, 'p, 'a> PrebuiltInterpreter<'m, 'p, 'a> {
    /// Runs `prebuilt` in `arena`. Errors: [`RunError::ArenaTooSmall`] if `arena` is shorter than
    /// [`Prebuilt::arena_size`]. Nothing is written to the arena until the first invoke.
    pub fn new(prebuilt: Prebuilt<'m, 'p>, arena: &'a mut [u8]) -> Result<Self, RunError> {
        let needed = prebuilt.arena_size();
        if arena.len() < needed {
            return Err(RunError::ArenaTooSmall { needed, available: arena.len() });
        }
        Ok(PrebuiltInterpreter { prebuilt, arena })
    }

    /// The plan.
    pub fn prebuilt(&self) -> &Prebuilt<'m, 'p> {
        &self.prebuilt
    }

    fn range(&self, t: u32) -> Option<(bool, usize, usize)> {
        let table = self.prebuilt.records().table;
        match arena::location(table, t as usize).ok()? {
            Location::Arena { offset, len } => {
                Some((true, offset.checked_sub(self.prebuilt.activations_start())?, len))
            }
            Location::Model { offset, len } => Some((false, offset, len)),
            Location::Unused => None,
        }
    }

    /// Bytes of graph input `j`, to be filled before [`invoke`](Self::invoke).
    pub fn input_bytes(&mut self, j: usize) -> Option<&mut [u8]> {
        let (true, offset, len) = self.range(self.prebuilt.input_tensor(j)?)? else {
            return None;
        };
        self.arena.get_mut(offset..offset.checked_add(len)?)
    }

    /// Bytes of graph output `j` (valid after a successful [`invoke`](Self::invoke)).
    pub fn output_bytes(&self, j: usize) -> Option<&[u8]> {
        let (in_arena, offset, len) = self.range(self.prebuilt.output_tensor(j)?)?;
        let bytes: &[u8] = if in_arena { self.arena } else { self.prebuilt.model() };
        bytes.get(offset..offset.checked_add(len)?)
    }

    /// Runs every operator once, in order.
    pub fn invoke(&mut self) -> Result<(), RunError> {
        self.invoke_profiled(&mut NoProfiler)
    }

    /// [`invoke`](Self::invoke), calling `profiler` around every operator.
    pub fn invoke_profiled<P: Profiler>(&mut self, profiler: &mut P) -> Result<(), RunError> {
        let records = self.prebuilt.records();
        let act = self.arena.get_mut(..self.prebuilt.arena_size()).ok_or(RunError::Internal)?;
        records.run(self.prebuilt.model(), act, profiler)
    }

    fn int8_io(&self, io: Option<IoTensor>) -> Option<IoTensor> {
        io.filter(|t| t.dtype == DType::Int8)
    }
}

impl crate::engine::run::profile::Invoke for PrebuiltInterpreter<'_, '_, '_> {
    fn input_bytes(&mut self, j: usize) -> Option<&mut [u8]> {
        PrebuiltInterpreter::input_bytes(self, j)
    }

    fn output_bytes(&self, j: usize) -> Option<&[u8]> {
        PrebuiltInterpreter::output_bytes(self, j)
    }

    fn invoke_profiled<P: Profiler>(&mut self, profiler: &mut P) -> Result<(), RunError> {
        PrebuiltInterpreter::invoke_profiled(self, profiler)
    }
}

fn quant_of(io: Option<IoTensor>) -> QuantParams {
    io.map_or(QuantParams { scale: 0.0, zero_point: 0 }, |t| t.quant)
}

/// The plan as the graph's int8 [`Model`]: input 0 and output 0, like
/// [`Interpreter`]'s.
impl Model for PrebuiltInterpreter<'_, '_, '_> {
    type Error = RunError;

    fn input(&mut self) -> &mut [i8] {
        if self.int8_io(self.prebuilt.input(0)).is_none() {
            return &mut [];
        }
        self.input_bytes(0).map_or(&mut [], bytemuck::cast_slice_mut)
    }

    fn input_quant(&self) -> QuantParams {
        quant_of(self.prebuilt.input(0))
    }

    fn input_shape(&self) -> Shape {
        self.prebuilt.input(0).map_or(Shape::from_dims([]), |t| t.shape)
    }

    fn invoke(&mut self) -> Result<(), RunError> {
        if self.int8_io(self.prebuilt.input(0)).is_none()
            || self.int8_io(self.prebuilt.output(0)).is_none()
        {
            return Err(RunError::NotInt8);
        }
        PrebuiltInterpreter::invoke(self)
    }

    fn output(&self) -> &[i8] {
        if self.int8_io(self.prebuilt.output(0)).is_none() {
            return &[];
        }
        self.output_bytes(0).map_or(&[], bytemuck::cast_slice)
    }

    fn output_quant(&self) -> QuantParams {
        quant_of(self.prebuilt.output(0))
    }

    fn output_shape(&self) -> Shape {
        self.prebuilt.output(0).map_or(Shape::from_dims([]), |t| t.shape)
    }
}
