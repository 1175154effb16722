//! # edge-reflex
//!
//! (crate docs: see README; the full version is written with the graph)
#![no_std]
#![deny(missing_docs)]
#![forbid(unsafe_op_in_unsafe_fn)]

#[cfg(test)]
extern crate std;

pub mod action;
pub mod drivers;
pub mod engine;
pub mod gate;
pub mod graph;
pub mod math;
pub mod model;
pub mod quantizer;
pub mod sample;
pub mod sensor;
pub mod sim;
pub mod stats;
pub mod time;
pub mod vibration;
pub mod window;
