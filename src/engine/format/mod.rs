//! The file format layer: a checked, zero-copy reader of FlatBuffers ([`flatbuffer`]) and the
//! slots and enums of TFLite's schema ([`schema`]).
//!
//! It knows nothing of tensors, operators or models: the [`model`](crate::engine::model) layer
//! reads those through it. It imports nothing else of the engine.

pub mod flatbuffer;
pub mod schema;
