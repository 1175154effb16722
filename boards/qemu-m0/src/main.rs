//! edge-reflex on an emulated Cortex-M0 (QEMU `microbit`: 16 KB RAM, the RP2040's instruction set).
//!
//! Runs the conformance cases that fit through the TFLite engine, then the shared graph on a simulated
//! sensor (see `board_common::checks`), prints a line per check through semihosting and exits QEMU
//! with a non-zero code if any check failed. Run it with `cargo run --release` in this directory
//! (see `.cargo/config.toml`).
#![no_std]
#![no_main]

use board_common::checks::{self, Board};
use cortex_m_rt::{entry, exception, ExceptionFrame};

include!(concat!(env!("OUT_DIR"), "/conformance_cases.rs"));
include!(concat!(env!("OUT_DIR"), "/graph_expected.rs"));

/// Working memory of the engine: the largest case here (micro_speech) needs 6.4 KB; the stack
/// takes the rest of the 16 KB (the report shows its high-water mark).
const ARENA_BYTES: usize = 7 * 1024;

#[repr(C, align(16))]
struct Arena([u8; ARENA_BYTES]);

#[entry]
fn main() -> ! {
    // cortex-m-rt turns this into a `&'static mut Arena` that `main` owns: no `unsafe` needed.
    static mut ARENA: Arena = Arena([0; ARENA_BYTES]);

    let board = Board {
        name: "qemu-m0",
        machine: "Cortex-M0 (microbit)",
        cases: CASES,
        fixture_bytes: EMBEDDED_FIXTURE_BYTES,
        graph_expected: GRAPH_EXPECTED,
    };
    checks::run(&board, &mut ARENA.0)
}

#[exception]
unsafe fn HardFault(frame: &ExceptionFrame) -> ! {
    board_common::semihosting::hard_fault(frame)
}
