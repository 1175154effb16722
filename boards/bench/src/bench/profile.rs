//! The per-operator profile (built with `BENCH_PROFILE=ops`): one more inference, in which the
//! engine's [`Profiler`] hook calls [`bench_op_begin`]/[`bench_op_end`] around every operator, so
//! scripts/bench-op-count.c (a QEMU plugin) records the instructions of each operator in order.
//!
//! It also measures each operator's stack: the free stack is repainted before every operator (outside
//! the marker regions) and scanned after it, so `bench-fw op=K stack=N` gives the stack high-water
//! while operator K ran (measured from the top of the stack, so it includes the frames of `main` and
//! `invoke_profiled`: a RESHAPE, which does nothing, shows that base). `bench-fw op=K name=NAME` lines
//! follow the summary line.
//!
//! The measured inferences of [`super::run`] use `invoke()` (no profiler), so the markers cost
//! nothing there; this build is only used for the per-operator table, never for the totals.

use edge_reflex::engine::{Profiler, TfLiteModel};

use super::host::{fail, Out};

/// Start of operator `index`. Kept out of line for the QEMU plugin.
#[no_mangle]
#[inline(never)]
pub extern "C" fn bench_op_begin(index: u32) {
    core::hint::black_box(index);
}

/// End of operator `index`.
#[no_mangle]
#[inline(never)]
pub extern "C" fn bench_op_end(index: u32) {
    core::hint::black_box(index);
}

/// Calls the markers around each operator and reports its stack high-water.
struct Markers;

impl Profiler for Markers {
    fn begin(&mut self, index: usize, _code: i32) {
        super::stack::paint();
        bench_op_begin(index as u32);
    }

    fn end(&mut self, index: usize, _code: i32) {
        bench_op_end(index as u32);
        // Scanned before printing (printing uses stack too; the next `begin` repaints).
        let stack = super::stack::high_water();
        let mut out = Out::open();
        out.str("bench-fw op=").num(index as u64);
        match stack {
            Some(bytes) => out.field("stack", bytes as u64),
            None => out.str(" stack=overflow"),
        };
        out.str("\n");
    }
}

/// One profiled inference on sample 0, checked like the measured ones.
#[inline(never)]
pub fn run_once(
    interpreter: &mut edge_reflex::engine::Interpreter<'_, '_, impl edge_reflex::engine::Source>,
) {
    #[cfg(bench_stateful)]
    if interpreter.reset_state().is_err() {
        fail("reset_state");
    }
    super::set_inputs(interpreter);
    if interpreter.invoke_profiled(&mut Markers).is_err() {
        fail("invoke (profiled)");
    }
    super::check_outputs(interpreter);
}

/// Prints `bench-fw op=INDEX name=NAME` per operator, in execution order (this build's flash is
/// not measured, so it may link the loader for the names).
pub fn names(model: &[u8], out: &mut Out) {
    let Ok(model) = TfLiteModel::load(model) else { fail("load (for the operator names)") };
    for op in model.operators() {
        out.str("bench-fw op=").num(op.index.into()).str(" name=").str(op.name()).str("\n");
    }
}
