//! The operators' wiring between the model and the kernels: for each supported operator, a
//! *prepare* step (run at load to check operand types, shapes and quantization, and again when an
//! interpreter is built to write the operator's integer parameters into its arena record) and an
//! *eval* step (run on every invoke: read the record back, call the kernel).
//!
//! For int8 operators all float arithmetic (multipliers, activation ranges, lookup tables)
//! happens in prepare; their eval is integer-only (except inside QUANTIZE/DEQUANTIZE, whose
//! tensors are float). Float32 and dynamic-range operators (feature `op-float`) are prepared and
//! run by `float`, whose records carry a flag in their code. The kernels themselves live in
//! [`kernels`](crate::engine::kernels).

mod activation;
mod bounds;
mod conv;
mod elementwise;
#[cfg(feature = "op-float")]
mod float;
mod fully_connected;
mod layout;
mod lstm;
mod movement;
mod pool;

pub mod table;

use crate::engine::error::{LoadError, LoadErrorKind, RunError};
use crate::engine::kernels::linked::KernelUse;
use crate::engine::kernels::KernelError;
pub(crate) use crate::engine::model::kernel::{Kernels, Needs, Operands, Prep};
pub(crate) use crate::engine::model::operator::built;
use crate::engine::model::operator::{Op, OperatorInfo};
use crate::engine::model::TfLiteModel;
use crate::engine::record::{RecordReader, RecordWriter};

impl<'m> TfLiteModel<'m> {
    /// Checks `file` completely and returns the view: [`parse`](TfLiteModel::parse) (the
    /// [`model`](crate::engine::model) layer), the whole-graph checks (the
    /// [`check`](crate::engine::check) layer), then every operator's preparation in counting mode
    /// (this layer): after it succeeds, nothing about the model can fail except the arena size.
    ///
    /// Errors name what is wrong and where (tensor or operator index). Float32 and
    /// dynamic-range operators run with the `op-float` feature; without it (or where there is
    /// no float kernel) they are refused with [`LoadErrorKind::FloatModel`] /
    /// [`LoadErrorKind::DynamicRangeModel`], whose message names the feature and how to convert
    /// the model.
    #[inline]
    pub fn load(file: &'m [u8]) -> Result<TfLiteModel<'m>, LoadError> {
        Self::load_with(file, &Kernels::BUILTIN)
    }

    /// [`load`](TfLiteModel::load) with `kernels` registered besides the builtins: a CUSTOM
    /// operator runs the registration with its custom code, a builtin one the registration with
    /// its code if there is one (see [`kernel`](crate::engine::model::kernel)). The model keeps
    /// `kernels`: planning and running it use them too.
    ///
    /// Errors: as [`load`](TfLiteModel::load); a CUSTOM operator with no registration is
    /// [`LoadErrorKind::CustomOperator`].
    #[inline(never)]
    pub fn load_with(
        file: &'m [u8],
        kernels: &'static Kernels,
    ) -> Result<TfLiteModel<'m>, LoadError> {
        // Each stage is its own function, so that the deepest one (the operators' checks, which
        // read tensors) runs under a small frame here.
        let mut r = TfLiteModel::parse(file);
        if let Ok(m) = &mut r {
            m.kernels = kernels;
            if let Err(e) = m.check(check_operator) {
                r = Err(e);
            }
        }
        r
    }
}

/// [`check`] as the check layer calls it.
fn check_operator<'m>(m: &TfLiteModel<'m>, op: &OperatorInfo<'m>) -> Result<(), LoadError> {
    check(m, op).map(|_| ())
}

/// Checks operator `op` of `m` (types, shapes, quantization) without writing anything.
pub fn check(m: &TfLiteModel<'_>, op: &OperatorInfo<'_>) -> Result<Needs, LoadError> {
    prepare(m, op, &mut RecordWriter::counting())
}

/// The code operator `op`'s record is written with: its builtin code, or the (negative)
/// [`Kernels::record_code`] of the registration that runs it.
pub fn record_code(m: &TfLiteModel<'_>, op: &OperatorInfo<'_>) -> i32 {
    if let Some((index, _)) = m.kernels.find(m, op) {
        return Kernels::record_code(index);
    }
    #[cfg(feature = "op-float")]
    if float::runs(m, op) {
        return op.code | float::RECORD_FLAG;
    }
    op.code
}

/// The rows operator `op` of `m` would run in place over, if the planner may place its output
/// over its own input ([`in_place`](crate::engine::kernels::in_place)); `None` for an operator
/// that cannot run in place.
#[cfg(feature = "in-place")]
pub(crate) fn in_place_rows(
    m: &TfLiteModel<'_>,
    op: &OperatorInfo<'_>,
) -> Option<crate::engine::kernels::in_place::Rows> {
    if !cfg!(feature = "op-conv") {
        return None;
    }
    conv::in_place_rows(m, op)
}

/// Runs an operator the planner placed in place ([`in_place_rows`]): `io.output` is the one
/// region holding its input 0 and its output as `at` says, computed in bands of `band` output
/// rows.
///
/// Errors: [`RunError::Internal`] for an operator that has no in-place form (a corrupted record);
/// as [`eval`] otherwise.
#[cfg(feature = "in-place")]
pub(crate) fn eval_in_place(
    code: i32,
    r: &mut RecordReader<'_>,
    io: Operands<'_>,
    at: crate::engine::kernels::in_place::InPlace,
    band: usize,
) -> Result<(), RunError> {
    use crate::engine::model::operator::code;
    match code {
        code::CONV_2D | code::DEPTHWISE_CONV_2D if built(code::CONV_2D) => {
            conv::eval_in_place(code, r, io, at, band)
        }
        _ => Err(RunError::Internal),
    }
}

/// Checks operator `op` and writes its parameters with `w`: through the registration that runs
/// it, if `m` was loaded with one, else through its [`table`] entry.
pub fn prepare(
    m: &TfLiteModel<'_>,
    op: &OperatorInfo<'_>,
    w: &mut RecordWriter<'_>,
) -> Result<Needs, LoadError> {
    let p = Prep { m, op };
    let step = prepare_step(&p)?;
    step(&p, w)
}

/// The prepare step that runs `p`'s operator, or why there is none. Out of line: its errors and
/// lookups are not in the frame that stays on the stack while the operator prepares.
#[inline(never)]
fn prepare_step(p: &Prep<'_, '_>) -> Result<table::PrepareFn, LoadError> {
    let (m, op) = (p.m, p.op);
    if let Some((_, registration)) = m.kernels.find(m, op) {
        return Ok(registration.prepare);
    }
    if op.op == Op::Custom {
        return Err(p.err(LoadErrorKind::CustomOperator));
    }
    let Some(entry) = table::builtin(op.code) else {
        return Err(p.err(LoadErrorKind::UnsupportedOperator(op.code)));
    };
    if !entry.built() {
        return Err(p.err(LoadErrorKind::OperatorNotBuilt(op.code)));
    }
    if !(1..=entry.max_version).contains(&op.version) {
        return Err(p.err(LoadErrorKind::UnsupportedVersion(op.version)));
    }
    #[cfg(feature = "op-float")]
    if float::runs(m, op) {
        return Ok(float::prepare);
    }
    Ok(entry.prepare)
}

/// Runs the operator whose builtin `code` and record body `r` were written by [`prepare`].
pub fn eval(code: i32, r: &mut RecordReader<'_>, io: Operands<'_>) -> Result<(), RunError> {
    use crate::engine::model::operator::code;
    match code {
        #[cfg(feature = "op-float")]
        c if c >= 0 && c & float::RECORD_FLAG != 0 => float::eval(c & !float::RECORD_FLAG, r, io),
        code::FULLY_CONNECTED if built(code::FULLY_CONNECTED) => fully_connected::eval(r, io),
        code::CONV_2D | code::DEPTHWISE_CONV_2D if built(code::CONV_2D) => conv::eval(code, r, io),
        code::AVERAGE_POOL_2D | code::MAX_POOL_2D if built(code::AVERAGE_POOL_2D) => {
            pool::eval(r, io)
        }
        code::SOFTMAX if built(code::SOFTMAX) => activation::eval(code, r, io),
        code::LOGISTIC | code::TANH if built(code::LOGISTIC) => activation::eval(code, r, io),
        code::SHAPE if built(code::SHAPE) => layout::eval_shape(r, io),
        code::RESHAPE | code::EXPAND_DIMS | code::SQUEEZE => Ok(()),
        code::ADD | code::MUL if built(code::ADD) => elementwise::eval(code, r, io),
        code::QUANTIZE | code::DEQUANTIZE if built(code::QUANTIZE) => {
            elementwise::eval(code, r, io)
        }
        code::MEAN if built(code::MEAN) => elementwise::eval(code, r, io),
        code::CONCATENATION | code::PAD | code::SPACE_TO_BATCH_ND | code::BATCH_TO_SPACE_ND
            if built(code::PAD) =>
        {
            elementwise::eval(code, r, io)
        }
        code::STRIDED_SLICE | code::PACK if built(code::STRIDED_SLICE) => {
            elementwise::eval(code, r, io)
        }
        code::UNIDIRECTIONAL_SEQUENCE_LSTM if built(code::UNIDIRECTIONAL_SEQUENCE_LSTM) => {
            lstm::eval(r, io)
        }
        _ => Err(RunError::UnknownOperator(code)),
    }
}

/// True if [`eval`] runs builtin `code` in this build: what a prebuilt plan is checked against
/// (reading the operator [`table`] instead would link every prepare step into a firmware that
/// only runs plans). The table's tests check that the two agree.
pub const fn evaluates(code: i32) -> bool {
    use crate::engine::model::operator::code::*;
    #[cfg(feature = "op-float")]
    if code >= 0 && code & float::RECORD_FLAG != 0 {
        return float::evaluates(code & !float::RECORD_FLAG);
    }
    let known = matches!(
        code,
        FULLY_CONNECTED
            | CONV_2D
            | DEPTHWISE_CONV_2D
            | AVERAGE_POOL_2D
            | MAX_POOL_2D
            | SOFTMAX
            | LOGISTIC
            | TANH
            | SHAPE
            | RESHAPE
            | EXPAND_DIMS
            | SQUEEZE
            | ADD
            | MUL
            | QUANTIZE
            | DEQUANTIZE
            | MEAN
            | CONCATENATION
            | PAD
            | SPACE_TO_BATCH_ND
            | BATCH_TO_SPACE_ND
            | STRIDED_SLICE
            | PACK
            | UNIDIRECTIONAL_SEQUENCE_LSTM
    );
    known && built(code)
}

/// True if the operator with builtin `code` keeps state in its scratch memory between invokes
/// (variable tensors), which [`reset`] resets.
pub const fn keeps_state(code: i32) -> bool {
    code == crate::engine::model::operator::code::UNIDIRECTIONAL_SEQUENCE_LSTM && built(code)
}

/// The builtin code of record code `code` (what a [`Profiler`](crate::engine::Profiler) is
/// told): the flag of a float operator's record removed.
#[inline(always)]
pub const fn builtin_of(code: i32) -> i32 {
    #[cfg(feature = "op-float")]
    if code >= 0 {
        return code & !float::RECORD_FLAG;
    }
    code
}

/// Resets the state of an operator that [`keeps_state`]: its record body `r` (as [`prepare`]
/// wrote it) says where in its `scratch` the state is and what to reset it to.
pub fn reset(code: i32, r: &mut RecordReader<'_>, scratch: &mut [u8]) -> Result<(), RunError> {
    if keeps_state(code) {
        lstm::reset(r, scratch)
    } else {
        Ok(())
    }
}

/// The kernel variants the record body `r` of builtin `code` (as [`prepare`] wrote it) asks
/// each target to run; `None` for an operator of a family without variants, or a record that
/// does not read as one.
pub fn kernel_use(code: i32, r: &mut RecordReader<'_>) -> Option<KernelUse> {
    use crate::engine::model::operator::code::*;
    match code {
        FULLY_CONNECTED => fully_connected::kernel_use(r),
        CONV_2D | DEPTHWISE_CONV_2D => conv::kernel_use(code, r),
        _ => None,
    }
}

/// Bytes viewed as `i8`.
pub(crate) fn as_i8(b: &[u8]) -> &[i8] {
    bytemuck::cast_slice(b)
}

/// Mutable bytes viewed as `i8`.
pub(crate) fn as_i8_mut(b: &mut [u8]) -> &mut [i8] {
    bytemuck::cast_slice_mut(b)
}

/// Maps a kernel error at run time.
pub(crate) fn kernel_err(e: KernelError) -> RunError {
    RunError::Kernel { operator: u32::MAX, error: e }
}
