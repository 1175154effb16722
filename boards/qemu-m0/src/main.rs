//! edge-reflex on an emulated Cortex-M0 (QEMU `microbit`: 16 KB RAM, the RP2040's instruction set):
//! the conformance cases that fit and the shared graph, checked by `board_common::checks` (one report
//! line per check through semihosting, a non-zero QEMU exit code if any failed). Run it with
//! `cargo run --release` in this directory.
#![no_std]
#![no_main]

use board_common::{checks, qemu_board, Aligned};
use cortex_m_rt::{entry, exception, ExceptionFrame};

/// Working memory of the engine: the largest case here (micro_speech) needs 6.4 KB; the stack
/// takes the rest of the 16 KB (the report shows its high-water mark).
const ARENA_BYTES: usize = 7 * 1024;

#[entry]
fn main() -> ! {
    // cortex-m-rt turns this into a `&'static mut` that `main` owns: no `unsafe` needed.
    static mut ARENA: Aligned<[u8; ARENA_BYTES]> = Aligned([0; ARENA_BYTES]);
    checks::run(&qemu_board!("qemu-m0", "Cortex-M0 (microbit)"), &mut ARENA.0)
}

#[exception]
unsafe fn HardFault(frame: &ExceptionFrame) -> ! {
    board_common::semihosting::fault(
        format_args!("HARDFAULT lr={:#010x}", frame.lr()),
        frame.pc() as usize,
    )
}
