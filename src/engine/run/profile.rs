//! Observing an inference operator by operator: the [`Profiler`] hook of
//! [`Interpreter::invoke_profiled`](crate::engine::Interpreter::invoke_profiled).
//!
//! A profiler is told when each operator starts and ends, e.g. to count cycles or instructions
//! per layer. [`Interpreter::invoke`](crate::engine::Interpreter::invoke) uses [`NoProfiler`],
//! whose empty inlined methods compile away.

/// Observes an invoke operator by operator.
pub trait Profiler {
    /// Called just before operator `index` (builtin `code`, see
    /// [`operator::code`](crate::engine::model::operator::code)) runs.
    #[inline(always)]
    fn begin(&mut self, index: usize, code: i32) {
        let _ = (index, code);
    }

    /// Called just after operator `index` ran (also when it failed).
    #[inline(always)]
    fn end(&mut self, index: usize, code: i32) {
        let _ = (index, code);
    }
}

/// A profiler that does nothing (what `invoke` uses).
#[derive(Clone, Copy, Debug, Default)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct NoProfiler;

impl Profiler for NoProfiler {}
