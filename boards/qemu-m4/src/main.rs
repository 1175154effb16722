//! edge-reflex on an emulated Cortex-M4F (QEMU `mps2-an386`).
//!
//! Runs every conformance case through the TFLite engine, then the shared graph on a simulated
//! sensor, prints a line per check through semihosting and exits QEMU with a non-zero code if any
//! check failed. Run it with `cargo run --release` in this directory (see `.cargo/config.toml`).
#![no_std]
#![no_main]

use board_common::conformance;
use board_common::graph::{self, GraphCheck};
use board_common::semihosting::{exit, HostOut};
use core::fmt::Write;
use cortex_m_rt::{entry, exception, ExceptionFrame};

include!(concat!(env!("OUT_DIR"), "/conformance_cases.rs"));

/// Working memory of the engine: large enough for the largest case (person detection).
const ARENA_BYTES: usize = 1024 * 1024;

#[repr(C, align(16))]
struct Arena([u8; ARENA_BYTES]);

#[entry]
fn main() -> ! {
    // cortex-m-rt turns this into a `&'static mut Arena` that `main` owns: no `unsafe` needed.
    static mut ARENA: Arena = Arena([0; ARENA_BYTES]);

    let mut out = HostOut::open();
    let _ = writeln!(
        out,
        "qemu-m4: Cortex-M4F (mps2-an386), {} fixture bytes embedded",
        EMBEDDED_FIXTURE_BYTES
    );
    board_common::selftest::inject_early();
    let summary = conformance::run_all(CASES, &mut ARENA.0, &mut out);
    let graph = graph::run_simulated(&mut out);

    let ok = summary.success() && graph != GraphCheck::Fail;
    let _ = writeln!(out, "qemu-m4: {}", if ok { "PASS" } else { "FAIL" });
    exit(ok)
}

#[exception]
unsafe fn HardFault(frame: &ExceptionFrame) -> ! {
    board_common::semihosting::hard_fault(frame)
}
