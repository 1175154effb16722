//! [`Interpreter`]: runs a model in a caller-provided arena, planned either on the device
//! ([`Interpreter::new`]: the model is loaded and planned into the arena) or at build time
//! ([`Interpreter::from_plan`]: a [`Prebuilt`] plan in flash, the arena holding only the
//! activations).
//!
//! All run-time state lives in the arena (see [`planner`] for its
//! layout) and on the stack: there is no global state and no allocation, so several
//! interpreters can run side by side, each with its own arena. `invoke` is integer-only (except
//! QUANTIZE/DEQUANTIZE on float tensors): every float-derived parameter was computed when the
//! operator records were written.

use crate::engine::arena::{self, Location};
use crate::engine::error::RunError;
#[cfg(feature = "in-place")]
use crate::engine::kernels::in_place::InPlace;
use crate::engine::kernels::linked::KernelUse;
use crate::engine::model::kernel::{Inputs, Kernels, Operands};
use crate::engine::model::tensor::{DType, TensorInfo};
use crate::engine::model::TfLiteModel;
use crate::engine::ops;
use crate::engine::plan::planner::{self, Layout};
use crate::engine::plan::prebuilt::{IoTensor, Prebuilt};
use crate::engine::plan::Records;
use crate::engine::record::RecordReader;
use crate::engine::run::profile::{NoProfiler, Profiler};
use crate::model::{Model, QuantParams, Shape};

/// A model ready to run in its arena.
///
/// Planned on the device:
///
/// ```
/// # use edge_reflex::engine::{Interpreter, TfLiteModel};
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// # let bytes = &include_bytes!(concat!(env!("CARGO_MANIFEST_DIR"),
/// #     "/tests/data/conformance/tflm_hello_world/model.tflite"))[..];
/// let model = TfLiteModel::load(bytes)?;
/// let mut arena = vec![0u8; model.arena_size()?];
/// let mut interpreter = Interpreter::new(&model, &mut arena)?;
/// interpreter.input_bytes(0).unwrap().fill(0);
/// interpreter.invoke()?;
/// assert_eq!(interpreter.output_bytes(0).map(|o| o.len()), Some(1));
/// # Ok(()) }
/// ```
///
/// From a prebuilt plan: see [`Interpreter::from_plan`]. The two constructors give the same
/// type over a different [`Source`] (which says where the graph's inputs and outputs are
/// described), so a firmware that only runs plans links none of the model-reading code.
#[derive(Debug)]
pub struct Interpreter<'m, 'a, S = OnDevice<'m>> {
    /// The model bytes (constant tensors are read in place).
    model: &'m [u8],
    /// Where the records came from, and the graph's inputs and outputs.
    source: S,
    /// The tensor table and the operator records (in the arena, or in the plan).
    records: Records<'a>,
    /// The activations region (the arena after its records, or the whole arena).
    act: &'a mut [u8],
}

/// Where an [`Interpreter`]'s records came from: [`OnDevice`] (loaded and planned into the
/// arena) or a [`Prebuilt`] plan. It describes the graph's inputs and outputs.
pub trait Source: Copy + core::fmt::Debug {
    /// Number of graph inputs.
    fn input_count(&self) -> usize;
    /// Number of graph outputs.
    fn output_count(&self) -> usize;
    /// Tensor index of graph input `j`.
    fn input_tensor(&self, j: usize) -> Option<u32>;
    /// Tensor index of graph output `j`.
    fn output_tensor(&self, j: usize) -> Option<u32>;
    /// Graph input `j` described.
    fn input(&self, j: usize) -> Option<IoTensor>;
    /// Graph output `j` described.
    fn output(&self, j: usize) -> Option<IoTensor>;
    /// The quantization of graph input 0 (`k = 0`) or output 0 (`k = 1`) if it is int8, else
    /// `None`: what the [`Model`] stage asks on every inference, so cheap.
    fn int8_quant(&self, k: usize) -> Option<QuantParams>;
}

/// The [`Source`] of an interpreter planned on the device: the loaded model and its layout.
#[derive(Clone, Copy, Debug)]
pub struct OnDevice<'m> {
    model: TfLiteModel<'m>,
    layout: Layout,
    /// Input 0's and output 0's quantization if int8, read once when the interpreter was built.
    int8: [Option<QuantParams>; 2],
}

/// Graph input or output `t` of a model, as a plan describes it.
fn io_of(t: Option<u32>, info: Option<TensorInfo<'_>>) -> Option<IoTensor> {
    let (tensor, info) = (t?, info?);
    let quant = info.quant().unwrap_or(QuantParams { scale: 0.0, zero_point: 0 });
    Some(IoTensor { tensor, dtype: info.dtype, quant, shape: info.shape })
}

/// The quantization of graph input 0 and output 0 of `model` where they are int8. Out of line:
/// the tensor reads' temporaries are then not in [`Interpreter::new`]'s frame, which is on the
/// stack under the whole of planning.
#[inline(never)]
fn int8_quant_of(model: &TfLiteModel<'_>) -> [Option<QuantParams>; 2] {
    let int8 = |t: Option<TensorInfo<'_>>| {
        t.filter(|t| t.dtype == DType::Int8)
            .map(|t| t.quant().unwrap_or(QuantParams { scale: 0.0, zero_point: 0 }))
    };
    [int8(model.input_info(0)), int8(model.output_info(0))]
}

impl Source for OnDevice<'_> {
    fn input_count(&self) -> usize {
        self.model.input_count()
    }
    fn output_count(&self) -> usize {
        self.model.output_count()
    }
    fn input_tensor(&self, j: usize) -> Option<u32> {
        self.model.input(j)
    }
    fn output_tensor(&self, j: usize) -> Option<u32> {
        self.model.output(j)
    }
    fn input(&self, j: usize) -> Option<IoTensor> {
        io_of(self.model.input(j), self.model.input_info(j))
    }
    fn output(&self, j: usize) -> Option<IoTensor> {
        io_of(self.model.output(j), self.model.output_info(j))
    }
    fn int8_quant(&self, k: usize) -> Option<QuantParams> {
        self.int8.get(k).copied().flatten()
    }
}

impl Source for Prebuilt<'_, '_> {
    fn input_count(&self) -> usize {
        Prebuilt::input_count(self)
    }
    fn output_count(&self) -> usize {
        Prebuilt::output_count(self)
    }
    fn input_tensor(&self, j: usize) -> Option<u32> {
        Prebuilt::input_tensor(self, j)
    }
    fn output_tensor(&self, j: usize) -> Option<u32> {
        Prebuilt::output_tensor(self, j)
    }
    fn input(&self, j: usize) -> Option<IoTensor> {
        Prebuilt::input(self, j)
    }
    fn output(&self, j: usize) -> Option<IoTensor> {
        Prebuilt::output(self, j)
    }
    fn int8_quant(&self, k: usize) -> Option<QuantParams> {
        // Decoding a plan's words is a handful of loads: no model parsing.
        let io = if k == 0 { Prebuilt::input(self, 0) } else { Prebuilt::output(self, 0) };
        io.filter(|t| t.dtype == DType::Int8).map(|t| t.quant)
    }
}

impl<'m, 'a> Interpreter<'m, 'a, OnDevice<'m>> {
    /// Prepares `model` in `arena`: computes every operator's parameters into records at the
    /// start of the arena and plans the activations after them.
    ///
    /// Errors: [`RunError::ArenaTooSmall`] (with the size needed) if `arena` is shorter than
    /// [`TfLiteModel::arena_size`]. Nothing else can fail for a model that `load` accepted.
    // The interpreter is put together by another function: the frame on the stack under the
    // whole of planning holds the layout, not the interpreter's parts.
    pub fn new(model: &TfLiteModel<'m>, arena: &'a mut [u8]) -> Result<Self, RunError> {
        let layout = planner::build(model, arena)?;
        let interpreter = Self::assemble(model, arena, layout);
        #[cfg(feature = "op-lstm")]
        let interpreter = {
            let mut interpreter = interpreter;
            interpreter.reset_state()?;
            interpreter
        };
        Ok(interpreter)
    }

    /// The interpreter of `model` planned into `arena` as `layout` says.
    #[inline(never)]
    fn assemble(model: &TfLiteModel<'m>, arena: &'a mut [u8], layout: Layout) -> Self {
        let (meta, act) = arena.split_at_mut(layout.activations_start);
        let meta: &'a [u8] = meta;
        let (table, records) = meta.split_at(layout.table.min(meta.len()));
        let records = Records {
            table,
            records,
            operators: model.operator_count(),
            base: layout.activations_start,
            kernels: model.kernels(),
        };
        let source = OnDevice { model: *model, layout, int8: int8_quant_of(model) };
        Interpreter { model: model.file(), source, records, act }
    }

    /// The loaded model.
    pub fn model(&self) -> &TfLiteModel<'m> {
        &self.source.model
    }

    /// The arena layout (sizes of its parts).
    pub fn layout(&self) -> Layout {
        self.source.layout
    }
}

impl<'m, 'a> Interpreter<'m, 'a, Prebuilt<'m, 'a>> {
    /// Runs `prebuilt` (plan and model in flash) in `arena`, which holds only the activations.
    ///
    /// ```
    /// use edge_reflex::engine::plan::prebuilt::{self, Prebuilt};
    /// use edge_reflex::engine::{Interpreter, TfLiteModel};
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let model_bytes = &include_bytes!(concat!(env!("CARGO_MANIFEST_DIR"),
    /// #     "/tests/data/conformance/tflm_hello_world/model.tflite"))[..];
    /// // What a build.rs does (engine::build::prebuilt_plan wraps it):
    /// let model = TfLiteModel::load(model_bytes)?;
    /// let mut work = vec![0u8; model.arena_size()?];
    /// let mut plan = vec![0u8; prebuilt::plan_len(&model, &mut work)?];
    /// prebuilt::write(&model, &mut work, &mut plan)?;
    ///
    /// // What the firmware does (plan and model in flash, arena in RAM):
    /// let prebuilt = Prebuilt::new(model_bytes, &plan)?;
    /// let mut arena = vec![0u8; prebuilt.arena_size()];
    /// let mut interpreter = Interpreter::from_plan(prebuilt, &mut arena)?;
    /// interpreter.input_bytes(0).unwrap().fill(0);
    /// interpreter.invoke()?;
    /// assert_eq!(interpreter.output_bytes(0).map(|o| o.len()), Some(1));
    /// # Ok(()) }
    /// ```
    ///
    /// Errors: [`RunError::ArenaTooSmall`] if `arena` is shorter than
    /// [`Prebuilt::arena_size`]. Nothing is written to the arena until the first invoke, except
    /// the state of stateful operators (LSTM), reset as by
    /// [`reset_state`](Interpreter::reset_state).
    pub fn from_plan(prebuilt: Prebuilt<'m, 'a>, arena: &'a mut [u8]) -> Result<Self, RunError> {
        let needed = prebuilt.arena_size();
        let available = arena.len();
        let act = arena.get_mut(..needed).ok_or(RunError::ArenaTooSmall { needed, available })?;
        let interpreter = Interpreter {
            model: prebuilt.model(),
            records: prebuilt.records(),
            source: prebuilt,
            act,
        };
        #[cfg(feature = "op-lstm")]
        let interpreter = {
            let mut interpreter = interpreter;
            interpreter.reset_state()?;
            interpreter
        };
        Ok(interpreter)
    }

    /// The plan.
    pub fn prebuilt(&self) -> &Prebuilt<'m, 'a> {
        &self.source
    }
}

impl<S: Source> Interpreter<'_, '_, S> {
    /// Number of operators.
    pub fn operator_count(&self) -> usize {
        self.records.operators
    }

    /// Where tensor `t`'s bytes are while the interpreter runs (arena offsets count from the
    /// start of the whole arena as planned).
    pub fn location(&self, t: usize) -> Result<Location, RunError> {
        arena::location(self.records.table, t)
    }

    /// Bytes of tensor `t` (arena or model), read-only.
    pub fn tensor_bytes(&self, t: usize) -> Option<&[u8]> {
        match self.location(t).ok()? {
            Location::Arena { offset, len } => {
                let start = offset.checked_sub(self.records.base)?;
                self.act.get(start..start.checked_add(len)?)
            }
            Location::Model { offset, len } => self.model.get(offset..offset.checked_add(len)?),
            Location::Unused => None,
        }
    }

    /// Number of graph inputs.
    pub fn input_count(&self) -> usize {
        self.source.input_count()
    }

    /// Number of graph outputs.
    pub fn output_count(&self) -> usize {
        self.source.output_count()
    }

    /// Type, shape and quantization of graph input `j`.
    pub fn input_info(&self, j: usize) -> Option<IoTensor> {
        self.source.input(j)
    }

    /// Type, shape and quantization of graph output `j`.
    pub fn output_info(&self, j: usize) -> Option<IoTensor> {
        self.source.output(j)
    }

    /// Bytes of graph input `j`, to be filled before [`invoke`](Interpreter::invoke)
    /// (raw little-endian elements of the input's type).
    pub fn input_bytes(&mut self, j: usize) -> Option<&mut [u8]> {
        let t = self.source.input_tensor(j)? as usize;
        match arena::location(self.records.table, t).ok()? {
            Location::Arena { offset, len } => {
                let start = offset.checked_sub(self.records.base)?;
                self.act.get_mut(start..start.checked_add(len)?)
            }
            _ => None,
        }
    }

    /// Bytes of graph output `j` (valid after a successful [`invoke`](Interpreter::invoke)).
    pub fn output_bytes(&self, j: usize) -> Option<&[u8]> {
        self.tensor_bytes(self.source.output_tensor(j)? as usize)
    }

    /// Runs every operator once, in order.
    ///
    /// Errors: [`RunError::Kernel`] / [`RunError::Internal`] only if the records were
    /// corrupted, which safe code cannot do; a model accepted by `load` always runs.
    pub fn invoke(&mut self) -> Result<(), RunError> {
        self.invoke_profiled(&mut NoProfiler)
    }

    /// [`invoke`](Interpreter::invoke), calling `profiler` around every operator (RESHAPE,
    /// EXPAND_DIMS and SQUEEZE included, though they do nothing).
    pub fn invoke_profiled<P: Profiler>(&mut self, profiler: &mut P) -> Result<(), RunError> {
        self.records.run(self.model, self.act, profiler)
    }

    /// Resets every variable (state) tensor, as TFLite's `ResetVariableTensors`: an int8 state
    /// (an LSTM's output state) to its zero point, an int16 cell state to 0. The state
    /// otherwise persists from one [`invoke`](Interpreter::invoke) to the next (an LSTM run one
    /// time step per invoke continues the sequence); building the interpreter resets it.
    ///
    /// Errors: [`RunError::Internal`] only if the records were corrupted. A model without
    /// stateful operators has nothing to reset.
    pub fn reset_state(&mut self) -> Result<(), RunError> {
        self.records.reset(self.act)
    }

    /// The kernel variants operator `index`'s record asks each target to run, by name (what a
    /// firmware that runs only this model needs linked: [`linked`](crate::engine::kernels::linked));
    /// `None` for an operator of a family without variants, or past the last operator.
    ///
    /// ```
    /// use edge_reflex::engine::{Interpreter, TfLiteModel};
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let bytes = &include_bytes!(concat!(env!("CARGO_MANIFEST_DIR"),
    /// #     "/tests/data/conformance/tflm_hello_world/model.tflite"))[..];
    /// let model = TfLiteModel::load(bytes)?;
    /// let mut arena = vec![0u8; model.arena_size()?];
    /// let interp = Interpreter::new(&model, &mut arena)?;
    /// let first = interp.kernel_use(0).expect("a FULLY_CONNECTED");
    /// assert_eq!((first.family, first.portable), ("fully_connected", "reference"));
    /// # Ok(())
    /// # }
    /// ```
    pub fn kernel_use(&self, index: usize) -> Option<KernelUse> {
        self.records.kernel_use(index)
    }

    /// Graph input 0's or output 0's quantization if it is int8 (what the [`Model`] stage
    /// serves).
    fn int8(&self, k: usize) -> Option<QuantParams> {
        self.source.int8_quant(k)
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
            profiler.begin(index, ops::builtin_of(code));
            let result =
                run_operator(record, model, self.table, &mut *act, self.base, self.kernels);
            profiler.end(index, ops::builtin_of(code));
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

impl Records<'_> {
    /// See [`Interpreter::kernel_use`].
    fn kernel_use(&self, index: usize) -> Option<KernelUse> {
        let mut pos = 0usize;
        for i in 0..self.operators.min(index.checked_add(1)?) {
            let head = self.records.get(pos..pos.checked_add(4)?)?;
            let len = u32::from_le_bytes([head[0], head[1], head[2], head[3]]) as usize;
            let end = pos.checked_add(len)?;
            let record = self.records.get(pos..end)?;
            pos = end;
            if i < index {
                continue;
            }
            let mut r = RecordReader::new(record);
            let [_len, code, _, _, n_in] = r.words::<5>().ok()?;
            // An operator run in place: its input count in the low 16 bits.
            #[cfg(feature = "in-place")]
            let n_in = if n_in < 0 { n_in & 0xFFFF } else { n_in };
            r.bytes(usize::try_from(n_in).ok()?.checked_mul(4)?).ok()?;
            r.usize().ok()?;
            return ops::kernel_use(code, &mut r);
        }
        None
    }

    /// Resets the state of every stateful operator (see [`Interpreter::reset_state`]); `act`
    /// is the activations region.
    pub fn reset(&self, act: &mut [u8]) -> Result<(), RunError> {
        if !cfg!(feature = "op-lstm") {
            return Ok(());
        }
        let mut pos = 0;
        for _ in 0..self.operators {
            let head = self.records.get(pos..pos + 4).ok_or(RunError::Internal)?;
            let len = u32::from_le_bytes([head[0], head[1], head[2], head[3]]) as usize;
            let end = pos.checked_add(len).ok_or(RunError::Internal)?;
            let record = self.records.get(pos..end).ok_or(RunError::Internal)?;
            pos = end;
            let mut r = RecordReader::new(record);
            let [_len, code, scratch_offset, scratch_len, n_in] = r.words::<5>()?;
            if !ops::keeps_state(code) {
                continue;
            }
            let count = |v: i32| usize::try_from(v).map_err(|_| RunError::Internal);
            r.bytes(count(n_in)?.checked_mul(4).ok_or(RunError::Internal)?)?;
            r.usize()?;
            let start = count(scratch_offset)?.checked_sub(self.base).ok_or(RunError::Internal)?;
            let end = start.checked_add(count(scratch_len)?).ok_or(RunError::Internal)?;
            let scratch = act.get_mut(start..end).ok_or(RunError::Internal)?;
            ops::reset(code, &mut r, scratch)?;
        }
        Ok(())
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
    #[cfg(feature = "in-place")]
    if n_in < 0 {
        return run_in_place(
            &mut r,
            [code, scratch_offset, scratch_len, n_in],
            model,
            table,
            act,
            base,
        );
    }
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

/// Runs an operator the planner placed in place (its inputs word `n_in` negative: the input
/// count in its low 16 bits, the band in bits 16-30): hands it the one region holding its
/// input 0 and its output. Out of line: an operator run whole never pays for it.
#[cfg(feature = "in-place")]
#[inline(never)]
fn run_in_place(
    r: &mut RecordReader<'_>,
    [code, scratch_offset, scratch_len, n_in]: [i32; 4],
    model: &[u8],
    table: &[u8],
    act: &mut [u8],
    base: usize,
) -> Result<(), RunError> {
    let count = |v: i32| usize::try_from(v).map_err(|_| RunError::Internal);
    let (scratch_offset, scratch_len) = (count(scratch_offset)?, count(scratch_len)?);
    let (n_in, band) = ((n_in & 0xFFFF) as usize, ((n_in >> 16) & 0x7FFF) as usize);
    let indices = r.bytes(n_in.checked_mul(4).ok_or(RunError::Internal)?)?;
    let out = r.usize()?;
    let Location::Arena { offset, len } = arena::location(table, out)? else {
        return Err(RunError::Internal);
    };
    let out_start = offset.checked_sub(base).ok_or(RunError::Internal)?;
    let (start, len, at) = in_place_region(table, indices, base, out_start, len)?;
    let scratch_start = scratch_offset.checked_sub(base).ok_or(RunError::Internal)?;
    let (pieces, output, scratch) = split(act, base, (start, len), (scratch_start, scratch_len))?;
    let io = Operands { inputs: Inputs { model, table, pieces, indices }, output, scratch };
    ops::eval_in_place(code, r, io, at, band)
}

/// For an operator the plan runs in place: the region holding its input 0 and its output
/// (`out_start`, `out_len`), as `(start, len)` in the activations region, and where the two
/// lie in it.
#[cfg(feature = "in-place")]
fn in_place_region(
    table: &[u8],
    indices: &[u8],
    base: usize,
    out_start: usize,
    out_len: usize,
) -> Result<(usize, usize, InPlace), RunError> {
    let input = crate::engine::kernels::read_i32(indices, 0).ok_or(RunError::Internal)?;
    let input = usize::try_from(input).map_err(|_| RunError::Internal)?;
    let Location::Arena { offset, len } = arena::location(table, input)? else {
        return Err(RunError::Internal);
    };
    let in_start = offset.checked_sub(base).ok_or(RunError::Internal)?;
    let end = |start: usize, len: usize| start.checked_add(len).ok_or(RunError::Internal);
    let start = in_start.min(out_start);
    let stop = end(in_start, len)?.max(end(out_start, out_len)?);
    let at = InPlace { input: in_start - start, output: out_start - start };
    Ok((start, stop - start, at))
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

fn quant_of(q: Option<QuantParams>) -> QuantParams {
    q.unwrap_or(QuantParams { scale: 0.0, zero_point: 0 })
}

/// The shape of an int8 graph input or output (empty otherwise): read when asked (the graph
/// asks once, when it is built), not cached.
fn shape_of(io: Option<IoTensor>) -> Shape {
    io.filter(|t| t.dtype == DType::Int8).map_or(Shape::from_dims([]), |t| t.shape)
}

/// The interpreter as the graph's int8 [`Model`]: input 0 and output 0, whose types and
/// quantization are read once when the interpreter is built (no model parsing per inference). A
/// model whose input 0 or output 0 is not int8 reports [`RunError::NotInt8`] from `invoke` (its
/// `input` is empty).
impl<S: Source> Model for Interpreter<'_, '_, S> {
    type Error = RunError;

    fn input(&mut self) -> &mut [i8] {
        if self.int8(0).is_none() {
            return &mut [];
        }
        self.input_bytes(0).map_or(&mut [], bytemuck::cast_slice_mut)
    }

    fn input_quant(&self) -> QuantParams {
        quant_of(self.int8(0))
    }

    fn input_shape(&self) -> Shape {
        shape_of(self.source.input(0))
    }

    fn invoke(&mut self) -> Result<(), RunError> {
        if self.int8(0).is_none() || self.int8(1).is_none() {
            return Err(RunError::NotInt8);
        }
        Interpreter::invoke(self)
    }

    fn output(&self) -> &[i8] {
        if self.int8(1).is_none() {
            return &[];
        }
        self.output_bytes(0).map_or(&[], bytemuck::cast_slice)
    }

    fn output_quant(&self) -> QuantParams {
        quant_of(self.int8(1))
    }

    fn output_shape(&self) -> Shape {
        shape_of(self.source.output(0))
    }
}
