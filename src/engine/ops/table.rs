//! The builtin operator table: one entry per TFLite builtin the engine runs, with the versions it
//! accepts and its prepare step. It is what loading consults (is the operator known, is its
//! version accepted, is its family compiled in) and what `reflex inspect` reads; adding an
//! operator is one entry here, its prepare and eval functions, and its options in
//! [`Op`](crate::engine::model::operator::Op).
//!
//! The run-time half, the `ops` layer's `eval`, dispatches on the same codes with a `match`
//! instead of reading this table: a firmware that runs a prebuilt plan then links the operators'
//! eval steps and none of their prepare steps (a table holding both would link both). A test
//! checks that the two agree.

use super::{activation, conv, elementwise, fully_connected, layout, lstm, pool, Needs, Prep};
use crate::engine::error::LoadError;
pub use crate::engine::model::kernel::PrepareFn;
use crate::engine::model::operator::{built, code};
use crate::engine::record::RecordWriter;

/// One builtin operator the engine runs.
#[derive(Clone, Copy, Debug)]
pub struct Builtin {
    /// TFLite's builtin code ([`code`]).
    pub code: i32,
    /// The newest operator version accepted (versions `1..=max_version`).
    pub max_version: i32,
    /// Its prepare step.
    pub prepare: PrepareFn,
}

impl Builtin {
    /// TFLite's name of the operator (`"CONV_2D"`, ...).
    pub fn name(&self) -> &'static str {
        crate::engine::format::schema::operator_name(self.code)
    }

    /// Whether this build compiled the operator's family in (the `op-*` features).
    pub const fn built(&self) -> bool {
        built(self.code)
    }
}

fn reshape(p: &Prep<'_, '_>, _: &mut RecordWriter<'_>) -> Result<Needs, LoadError> {
    layout::prepare_reshape(p)
}

/// Stands in for the prepare step of a family left out of the build (never called: loading
/// checks [`Builtin::built`] first).
fn not_built(p: &Prep<'_, '_>, _: &mut RecordWriter<'_>) -> Result<Needs, LoadError> {
    Err(p.err(crate::engine::error::LoadErrorKind::OperatorNotBuilt(p.op.code)))
}

/// A table entry; a family left out of the build gets [`not_built`] as its prepare step, decided
/// at compile time, so its real prepare code is not referenced and not linked.
const fn entry(code: i32, max_version: i32, prepare: PrepareFn) -> Builtin {
    let prepare: PrepareFn = if built(code) { prepare } else { not_built as PrepareFn };
    Builtin { code, max_version, prepare }
}

/// Every builtin operator, by code. Families left out of the build (`op-*` features) stay
/// listed (so a model that uses one gets [`OperatorNotBuilt`](crate::engine::LoadErrorKind::OperatorNotBuilt),
/// not "unsupported"), with a stand-in prepare step, so their code is not linked.
pub static BUILTINS: &[Builtin] = &[
    entry(code::ADD, 5, elementwise::prepare),
    entry(code::AVERAGE_POOL_2D, 3, pool::prepare),
    entry(code::BATCH_TO_SPACE_ND, 4, elementwise::prepare),
    entry(code::CONCATENATION, 4, elementwise::prepare),
    entry(code::CONV_2D, 8, conv::prepare),
    entry(code::DEPTHWISE_CONV_2D, 7, conv::prepare),
    entry(code::DEQUANTIZE, 5, elementwise::prepare),
    entry(code::EXPAND_DIMS, 1, reshape),
    entry(code::FULLY_CONNECTED, 12, fully_connected::prepare),
    entry(code::LOGISTIC, 3, activation::prepare),
    entry(code::MAX_POOL_2D, 3, pool::prepare),
    entry(code::MEAN, 3, elementwise::prepare),
    entry(code::MUL, 7, elementwise::prepare),
    entry(code::PACK, 4, elementwise::prepare),
    entry(code::PAD, 4, elementwise::prepare),
    entry(code::QUANTIZE, 3, elementwise::prepare),
    entry(code::RESHAPE, 1, reshape),
    entry(code::SHAPE, 1, layout::prepare_shape),
    entry(code::SOFTMAX, 3, activation::prepare),
    entry(code::SPACE_TO_BATCH_ND, 4, elementwise::prepare),
    entry(code::SQUEEZE, 2, reshape),
    entry(code::STRIDED_SLICE, 8, elementwise::prepare),
    entry(code::TANH, 3, activation::prepare),
    entry(code::UNIDIRECTIONAL_SEQUENCE_LSTM, 4, lstm::prepare),
];

/// The table entry of builtin `code`, if the engine knows it.
pub fn builtin(code: i32) -> Option<&'static Builtin> {
    BUILTINS.iter().find(|b| b.code == code)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::error::RunError;
    use crate::engine::model::kernel::{Inputs, Operands};
    use crate::engine::record::RecordReader;

    #[test]
    fn codes_are_unique_and_named() {
        for (i, b) in BUILTINS.iter().enumerate() {
            assert!(BUILTINS[..i].iter().all(|o| o.code != b.code), "{} twice", b.name());
            assert!(!b.name().is_empty() && b.name() != "?", "code {}", b.code);
            assert!(b.max_version >= 1);
            assert!(core::ptr::eq(builtin(b.code).unwrap(), b));
        }
        assert!(builtin(code::CUSTOM).is_none());
        // The eval side's list (what prebuilt plans are checked against) is the same set.
        for c in -1..=255 {
            assert_eq!(super::super::evaluates(c), builtin(c).is_some_and(|b| b.built()), "{c}");
        }
    }

    /// Every entry of the table has an eval arm: run with an empty record, each one fails on
    /// the record (or succeeds, for the operators that do nothing), never as an unknown code.
    #[test]
    fn every_builtin_has_an_eval_step() {
        for b in BUILTINS {
            let mut r = RecordReader::new(&[]);
            let io = Operands {
                inputs: Inputs {
                    model: &[],
                    table: &[],
                    pieces: [(&[], 0), (&[], 0), (&[], 0)],
                    indices: &[],
                },
                output: &mut [],
                scratch: &mut [],
            };
            let result = super::super::eval(b.code, &mut r, io);
            assert_ne!(result, Err(RunError::UnknownOperator(b.code)), "{}", b.name());
        }
        let mut r = RecordReader::new(&[]);
        let io = Operands {
            inputs: Inputs { model: &[], table: &[], pieces: [(&[], 0); 3], indices: &[] },
            output: &mut [],
            scratch: &mut [],
        };
        assert_eq!(
            super::super::eval(code::CUSTOM, &mut r, io),
            Err(RunError::UnknownOperator(code::CUSTOM))
        );
    }
}
