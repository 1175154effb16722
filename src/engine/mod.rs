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
//!   [`LoadError`] naming what and where. Float32 models and dynamic-range (int8 weights, float32
//!   activations) FULLY_CONNECTED run with the feature `op-float` (not in the default `ops-all`;
//!   `docs/engine.md`, "Float and hybrid arithmetic"); without it they are refused with an
//!   error naming the feature and how to convert them. Weights are read in place (zero copy).
//! * [`TfLiteModel::cost`] is the work of one inference (multiply-accumulates and elements
//!   touched, per operator with [`TfLiteModel::operator_costs`]): loading refuses operator
//!   parameters whose work would not be bounded by the tensors' sizes (see [`check::cost`]), so
//!   a firmware can bound its inference time before it runs.
//! * [`TfLiteModel::arena_size`] is the exact arena size; [`Interpreter::new`] plans tensor
//!   lifetimes into that arena (see [`plan::planner`]) and precomputes every operator's integer
//!   parameters, so [`Interpreter::invoke`] does integer arithmetic only for int8 operators.
//! * With the `build` feature, `engine::build::model_consts` lets a `build.rs` compute the arena size
//!   at compile time (and fail the build on an unsupported model), and `engine::build::prebuilt_plan`
//!   does all of the above at compile time: the firmware then runs a [`Prebuilt`] plan from flash
//!   with [`Interpreter::from_plan`], linking neither the loader nor the planner (see [`plan::prebuilt`]).
//!
//! The code is in layers, each a folder, each importing only from the ones before it (checked by
//! `tests/engine_layers.rs`): [`format`] (the FlatBuffer reader and TFLite's schema) ->
//! [`model`] (a zero-copy view: tensors, operators) -> [`check`] (whole-graph checks) -> `ops`
//! (each operator's prepare and eval, over the [`kernels`]) -> [`plan`] (memory planner,
//! prebuilt plans) -> [`run`] (the interpreters). [`arith`] and [`kernels`] are the base;
//! [`error`] and [`arena`] (the tensor table's format) sit beside `format`.
//!
//! What it does not do: hybrid convolutions, dynamic shapes, control flow, variable tensors. The supported operators are listed in `docs/engine.md` and
//! [`model::operator::Op`].

// The layers, bottom to top; each imports only from the layers listed before it (checked by
// tests/engine_layers.rs). `arith` and `kernels` are the base every layer may use; `error`,
// `arena` (the tensor table's format, written by the planner and read by the operators) and
// `record` (the operator records' encoding) sit beside `format`.
pub mod arena;
pub mod arith;
pub mod error;
pub mod kernels;
pub mod record;

pub mod check;
pub mod format;
pub mod model;
mod ops;
pub mod plan;
pub mod run;

#[cfg(feature = "build")]
pub mod build;

pub use check::cost::{Cost, OperatorCost};
pub use error::{LoadError, LoadErrorKind, RunError, Site};
pub use model::kernel::{Kernels, OperatorCode, Registration};
pub use model::operator::{Op, OperatorInfo};
pub use model::tensor::{DType, TensorInfo};
pub use model::TfLiteModel;
pub use ops::table::{builtin, Builtin, BUILTINS};
pub use plan::planner::Layout;
pub use plan::prebuilt::{PlanError, Prebuilt};
#[cfg(feature = "op-float")]
pub use run::float_model::{FloatModel, FloatModelError};
pub use run::interpreter::{Interpreter, OnDevice, Source};
pub use run::profile::{NoProfiler, Profiler};
