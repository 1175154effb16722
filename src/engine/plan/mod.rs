//! The memory plan: where every tensor and every operator record lives in the arena
//! ([`planner`], writing the tensor table of [`arena`](crate::engine::arena)), and the same plan written ahead of time, in `build.rs` or on the
//! device, so a firmware can run a model without loading it ([`prebuilt`]).
//!
//! It sits above the `ops` layer (each operator's prepare step writes its record
//! into the plan) and below [`run`](crate::engine::run) (the interpreter reads the plan).

pub mod planner;
pub mod prebuilt;

/// The prepared part of an arena (tensor table and operator records), wherever it lives: at the
/// start of the arena ([`Interpreter`]) or in flash
/// ([`Interpreter::from_plan`](crate::engine::Interpreter::from_plan)).
#[derive(Clone, Copy, Debug)]
pub(crate) struct Records<'r> {
    /// The tensor table.
    pub table: &'r [u8],
    /// The operator records, one after the other.
    pub records: &'r [u8],
    /// Number of operators.
    pub operators: usize,
    /// Arena offset of the activations region (the table's arena offsets count from the start
    /// of the whole arena).
    pub base: usize,
    /// The kernels registered besides the builtins, for records with a negative code.
    pub kernels: &'static crate::engine::model::kernel::Kernels,
}
