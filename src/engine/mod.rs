//! The int8 TFLite engine: runs the `.tflite` files of TensorFlow's full-integer post-training
//! quantization on a microcontroller, bit-exact with TFLite's reference kernels, in one static
//! arena. Implements [`Model`](crate::model::Model).
//!
//! ```text
//! &[u8] ──TfLiteModel::load──▶ TfLiteModel ──arena_size()──▶ N bytes
//!                                  │
//!            &mut [u8; N] ──Interpreter::new──▶ Interpreter ──invoke()──▶ outputs
//! ```
//!
//! * [`TfLiteModel::load`] checks the whole file up front (header, schema version, every
//!   FlatBuffer offset, tensors, operators, options, data flow) with its own checked reader (the
//!   `flatbuffers` crate's verifier needs `std`/alloc). Anything malformed or unsupported is a
//!   [`LoadError`] naming what and where; float32 and dynamic-range models are refused with an
//!   explanation of how to convert them. Weights are read in place (zero copy).
//! * [`TfLiteModel::arena_size`] is the exact arena size; [`Interpreter::new`] plans tensor
//!   lifetimes into that arena (see [`planner`]) and precomputes every operator's integer
//!   parameters, so [`Interpreter::invoke`] does integer arithmetic only.
//! * With the `build` feature, `engine::build::model_consts` lets a `build.rs` compute the arena size
//!   at compile time (and fail the build on an unsupported model), and `engine::build::prebuilt_plan`
//!   does all of the above at compile time: the firmware then runs a [`Prebuilt`] plan from flash
//!   with a [`PrebuiltInterpreter`], linking neither the loader nor the planner (see [`prebuilt`]).
//!
//! What it does not do: float kernels, dynamic shapes, control flow, custom operators,
//! variable tensors. The supported operators are listed in `docs/engine.md` and
//! [`operator::Op`].

pub mod arena;
pub mod arith;
mod batch;
#[cfg(feature = "build")]
pub mod build;
pub mod error;
pub mod flatbuffer;
mod graph;
pub mod interpreter;
pub mod kernels;
pub mod loader;
pub mod operator;
mod ops;
pub mod planner;
pub mod prebuilt;
pub mod profile;
mod record;
pub mod schema;
pub mod tensor;

pub use error::{LoadError, LoadErrorKind, RunError, Site};
pub use interpreter::Interpreter;
pub use loader::TfLiteModel;
pub use operator::{Op, OperatorInfo};
pub use planner::Layout;
pub use prebuilt::{PlanError, Prebuilt, PrebuiltInterpreter};
pub use profile::{Invoke, NoProfiler, Profiler};
pub use tensor::{DType, TensorInfo};
