//! # edge-reflex
//!
//! (crate docs: see README; the full version is written with the graph)
#![no_std]
#![deny(missing_docs)]
#![forbid(unsafe_op_in_unsafe_fn)]

#[cfg(test)]
extern crate std;

pub mod drivers;
pub mod engine;
pub mod math;
pub mod model;
pub mod sample;
pub mod sensor;
pub mod time;
