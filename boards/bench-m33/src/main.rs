//! Benchmark firmware for an emulated Cortex-M33 (QEMU `mps2-an505`, with the DSP extension): the
//! same firmware as boards/bench-m4 (its `src/bench/`), built for thumbv8m.main with
//! target-cpu=cortex-m33. `scripts/bench.sh --target m33` builds it once per model
//! (`BENCH_MODEL=<case>`) and runs it under QEMU with the instruction-count plugin.
#![no_std]
#![no_main]

#[path = "../../bench-m4/src/bench/mod.rs"]
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
