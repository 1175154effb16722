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

/// What a firmware or tool needs of a ready model, whichever way it was prepared: raw graph
/// inputs and outputs, and one inference (with or without a [`Profiler`]). Implemented by
/// [`Interpreter`](crate::engine::Interpreter) (planned on the device) and
/// [`PrebuiltInterpreter`](crate::engine::PrebuiltInterpreter) (planned at build time), so code
/// written against it runs either. (The graph's int8 stage is the [`Model`](crate::model::Model)
/// trait, which both also implement.)
pub trait Invoke {
    /// Bytes of graph input `j`, to be filled before [`invoke`](Invoke::invoke).
    fn input_bytes(&mut self, j: usize) -> Option<&mut [u8]>;

    /// Bytes of graph output `j` (valid after a successful [`invoke`](Invoke::invoke)).
    fn output_bytes(&self, j: usize) -> Option<&[u8]>;

    /// Runs every operator once, calling `profiler` around each.
    fn invoke_profiled<P: Profiler>(
        &mut self,
        profiler: &mut P,
    ) -> Result<(), crate::engine::RunError>;

    /// Runs every operator once.
    fn invoke(&mut self) -> Result<(), crate::engine::RunError> {
        self.invoke_profiled(&mut NoProfiler)
    }
}
