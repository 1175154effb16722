//! The int8 TFLite engine: a checked zero-copy model reader, a static memory planner and
//! bit-exact integer kernels. Implements [`Model`](crate::model::Model).

pub mod arith;
pub mod kernels;
