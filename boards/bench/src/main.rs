//! Benchmark firmware for the emulated Cortex-M boards: see `bench/mod.rs`, and `scripts/bench.sh`
//! which builds it once per model and board (`BENCH_MODEL=<case>`, `BENCH_BOARD=m4|m0|m0-an386`, the
//! matching `--target`) and runs it under QEMU with the instruction-count plugin.
#![no_std]
#![no_main]

mod bench;

use cortex_m_rt::{entry, exception, ExceptionFrame};

#[entry]
fn main() -> ! {
    // cortex-m-rt turns this into a `&'static mut` that `main` owns.
    static mut ARENA: bench::Arena = bench::EMPTY_ARENA;
    bench::run(&mut ARENA.0)
}

#[exception]
unsafe fn HardFault(_frame: &ExceptionFrame) -> ! {
    bench::host::fail("hardfault")
}
