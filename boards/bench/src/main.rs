//! Benchmark firmware for the emulated boards: see `bench/mod.rs`, and `scripts/bench.sh` which
//! builds it once per model and board (`BENCH_MODEL=<case>`, `BENCH_BOARD=m4|m0|m0-an386|m33|rv32`,
//! the matching `--target`) and runs it under QEMU with the instruction-count plugin.
#![no_std]
#![no_main]

mod bench;

#[cfg(target_arch = "arm")]
use cortex_m_rt::{entry, exception, ExceptionFrame};

#[cfg(target_arch = "arm")]
#[entry]
fn main() -> ! {
    // cortex-m-rt turns this into a `&'static mut` that `main` owns.
    static mut ARENA: bench::Arena = bench::EMPTY_ARENA;
    bench::run(&mut ARENA.0)
}

#[cfg(target_arch = "arm")]
#[exception]
unsafe fn HardFault(_frame: &ExceptionFrame) -> ! {
    bench::host::fail("hardfault")
}

#[cfg(target_arch = "riscv32")]
#[riscv_rt::entry]
fn main() -> ! {
    // riscv-rt has no `static mut` hand-over as cortex-m-rt has: the arena lives in `main`'s frame,
    // which is never left, so the stack figures of this target include the arena.
    let mut arena = bench::EMPTY_ARENA;
    bench::run(&mut arena.0)
}

/// Every exception (illegal instruction, access fault) fails the run.
#[cfg(target_arch = "riscv32")]
#[export_name = "ExceptionHandler"]
fn exception_handler(_frame: &riscv_rt::TrapFrame) -> ! {
    bench::host::fail("exception")
}
