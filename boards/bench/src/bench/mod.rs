//! The benchmark firmware of every emulated board (boards/bench; the board is chosen at build time).
//!
//! Runs ONE conformance model (chosen at build time, see `bench_build.rs`) `RUNS` times: before each
//! inference sample 0's inputs are copied in, then [`bench_begin`] and [`bench_end`] bracket exactly one
//! `invoke()`, so the instruction-count plugin (`scripts/bench-op-count.c`) sums `RUNS`
//! regions of one inference each. After every run the outputs must equal the fixture's expected bytes.
//! It then prints one line
//!
//! ```text
//! bench-fw case=tflm_hello_world runs=N arena=N stack=N stack_invoke=N ops=N
//! ```
//!
//! (arena = bytes the interpreter planned, which must be the build-time `ARENA_BYTES`; stack = stack
//! high-water of the whole firmware, see [`stack`]; stack_invoke = the same, measured from a repaint
//! after loading and planning, i.e. the deepest stack while the inferences ran) and exits 0, or prints `bench-fw FAIL <why>` and exits
//! non-zero. With `BENCH_PROFILE=ops` it also runs one more inference in which each operator is
//! bracketed by [`bench_op_begin`]/[`bench_op_end`], and prints `bench-fw op=INDEX name=NAME` lines
//! for scripts/bench.sh's per-operator table.
//!
//! By default the model's plan was made at build time (`BENCH_ENGINE=prebuilt`, see `bench_build.rs`):
//! the firmware binds it to the model ([`Prebuilt::new`]) and runs it with [`Interpreter::from_plan`]
//! in an arena of the activations alone. With `BENCH_ENGINE=load` (cfg `bench_load`) it loads, checks
//! and plans the model itself ([`TfLiteModel::load`], [`Interpreter::new`]).
//!
//! It does not format with `core::fmt` (see [`host`]), so the firmware's flash is the engine's plus a
//! few hundred bytes of harness.

pub mod host;
pub mod stack;
#[cfg(target_arch = "arm")]
pub mod vectors;

#[cfg(not(bench_load))]
use edge_reflex::engine::Prebuilt;
#[cfg(bench_load)]
use edge_reflex::engine::TfLiteModel;
use edge_reflex::engine::{Interpreter, Source};
use host::{fail, Out};

include!(concat!(env!("OUT_DIR"), "/bench_case.rs"));

/// 16-byte aligned bytes (the model is read with aligned loads).
#[repr(C, align(16))]
pub struct Aligned<T>(pub T);

/// The arena: exactly what the engine's planner computed at build time.
pub type Arena = Aligned<[u8; ARENA_BYTES]>;

/// An empty arena, for the `static mut` in `main`.
pub const EMPTY_ARENA: Arena = Aligned([0; ARENA_BYTES]);

/// Start of a measured region (one inference). Kept out of line for the QEMU plugin.
#[no_mangle]
#[inline(never)]
pub extern "C" fn bench_begin() {
    core::hint::black_box(());
}

/// End of a measured region.
#[no_mangle]
#[inline(never)]
pub extern "C" fn bench_end() {
    core::hint::black_box(());
}

/// Paints the stack, runs the benchmark in `arena`, reports and exits.
pub fn run(arena: &mut [u8]) -> ! {
    stack::paint();
    let (ops, arena_used, mut interpreter) = prepare(arena);
    // Stack of loading and planning; then repaint to measure the inferences alone.
    let stack_prepare = stack::high_water();
    stack::paint();

    measure(&mut interpreter);
    #[cfg(bench_profile)]
    profile::run_once(&mut interpreter);

    let stack_invoke = stack::high_water();
    let (Some(prepare), Some(invoke)) = (stack_prepare, stack_invoke) else {
        fail(if stack_prepare.is_none() {
            "stack overflow while loading and planning (the stack paint is gone down to the statics)"
        } else {
            "stack overflow while invoking (the stack paint is gone down to the statics)"
        });
    };
    if arena_used != ARENA_BYTES {
        fail("the interpreter planned another arena size than the build-time one");
    }
    let mut out = Out::open();
    out.str("bench-fw case=").str(CASE);
    out.field("runs", RUNS.into()).field("arena", arena_used as u64);
    out.field("stack", prepare.max(invoke) as u64).field("stack_invoke", invoke as u64);
    out.field("ops", ops as u64).str("\n");
    #[cfg(bench_profile)]
    profile::names(&BENCH_MODEL.0, &mut out);
    host::exit(true)
}

/// Loads the model and plans the arena. Out of line, so that its stack frame (the loader's and
/// planner's locals) is gone while the inferences run. Returns the operator count, the arena bytes
/// in use and the interpreter.
#[cfg(bench_load)]
#[inline(never)]
fn prepare(arena: &mut [u8]) -> (usize, usize, Interpreter<'static, '_>) {
    let model = match TfLiteModel::load(&BENCH_MODEL.0) {
        Ok(m) => m,
        Err(_) => fail("load (run `reflex inspect` on the model for details)"),
    };
    match Interpreter::new(&model, arena) {
        Ok(interpreter) => {
            let total = interpreter.layout().total;
            (model.operator_count(), total, interpreter)
        }
        Err(_) => fail("prepare: arena too small or model refused"),
    }
}

/// Binds the build-time plan to the model and sets up the arena (activations only).
#[cfg(not(bench_load))]
#[inline(never)]
fn prepare<'a>(
    arena: &'a mut [u8],
) -> (usize, usize, Interpreter<'static, 'a, Prebuilt<'static, 'a>>) {
    let prebuilt = match Prebuilt::new(&BENCH_MODEL.0, &BENCH_PLAN) {
        Ok(p) => p,
        Err(_) => fail("the build-time plan does not bind to the model"),
    };
    match Interpreter::from_plan(prebuilt, arena) {
        Ok(interpreter) => (prebuilt.operator_count(), prebuilt.arena_size(), interpreter),
        Err(_) => fail("arena too small for the plan"),
    }
}

/// The measured inferences: `RUNS` regions of one `invoke()` each, every output checked.
#[inline(never)]
fn measure(interpreter: &mut Interpreter<'_, '_, impl Source>) {
    for _ in 0..RUNS {
        #[cfg(bench_stateful)]
        if interpreter.reset_state().is_err() {
            fail("reset_state");
        }
        set_inputs(interpreter);
        bench_begin();
        let result = interpreter.invoke();
        bench_end();
        if result.is_err() {
            fail("invoke");
        }
        check_outputs(interpreter);
    }
}

fn set_inputs(interpreter: &mut Interpreter<'_, '_, impl Source>) {
    for (j, bytes) in INPUTS.iter().enumerate() {
        match interpreter.input_bytes(j) {
            Some(input) if input.len() == bytes.len() => input.copy_from_slice(bytes),
            _ => fail("input size differs from the fixture"),
        }
    }
}

fn check_outputs(interpreter: &Interpreter<'_, '_, impl Source>) {
    for (j, expected) in EXPECTEDS.iter().enumerate() {
        if interpreter.output_bytes(j) != Some(*expected) {
            if stack::high_water().is_none() {
                fail("stack overflow (the stack paint is gone down to the statics)");
            }
            fail("output differs from the fixture's expected bytes");
        }
    }
}

#[cfg(bench_profile)]
mod profile;
