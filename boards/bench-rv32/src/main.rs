//! Benchmark firmware for an emulated RV32IMC core (QEMU riscv32 `virt`, the ESP32-C3's instruction
//! set; the engine's portable kernels): the same firmware as boards/bench-m4 (its `src/bench/`),
//! built for riscv32imc. `scripts/bench.sh --target rv32` builds it once per model
//! (`BENCH_MODEL=<case>`) and runs it under QEMU with the instruction-count plugin.
#![no_std]
#![no_main]

#[path = "../../bench-m4/src/bench/mod.rs"]
mod bench;

#[riscv_rt::entry]
fn main() -> ! {
    // riscv-rt has no `static mut` hand-over as cortex-m-rt has: the arena lives in `main`'s frame,
    // which is never left, so the stack figures of this target include the arena.
    let mut arena = bench::EMPTY_ARENA;
    bench::run(&mut arena.0)
}

/// Every exception (illegal instruction, access fault) fails the run.
#[export_name = "ExceptionHandler"]
fn exception_handler(_frame: &riscv_rt::TrapFrame) -> ! {
    bench::host::fail("exception")
}
