//! Operators whose kernels are still being wired: refused at load for now.

use super::{Needs, Operands, Prep};
use crate::engine::error::{LoadError, LoadErrorKind, RunError};
use crate::engine::record::{RecordReader, RecordWriter};

pub(super) fn prepare(p: &Prep<'_, '_>, _w: &mut RecordWriter<'_>) -> Result<Needs, LoadError> {
    Err(p.err(LoadErrorKind::UnsupportedOperator(p.op.code)))
}

pub(super) fn eval(
    _code: i32,
    _r: &mut RecordReader<'_>,
    _io: Operands<'_>,
) -> Result<(), RunError> {
    Err(RunError::Internal)
}
