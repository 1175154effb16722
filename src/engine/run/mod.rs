//! Running a planned model: the [`Interpreter`](interpreter::Interpreter), planned on the
//! device or from a plan made at build time, runs the operator records in order; [`profile`]
//! observes each operator. The top layer of the engine.

#[cfg(feature = "op-float")]
pub mod float_model;
pub mod interpreter;
pub mod profile;
