//! Running a planned model: the [`Interpreter`](interpreter::Interpreter) (planned on the
//! device) and the [`PrebuiltInterpreter`](crate::engine::PrebuiltInterpreter) (planned at build
//! time) run the operator records in order; [`profile`] measures each operator. The top layer
//! of the engine.

pub mod interpreter;
pub mod profile;
