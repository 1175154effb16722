//! edge-reflex on an emulated Cortex-M33 (QEMU `mps2-an505`, ARMv8-M Mainline with the DSP extension,
//! as in the RP2350, nRF5340 and STM32U5): every conformance case and the shared graph, checked by
//! `board_common::checks` (one report line per check through semihosting, a non-zero QEMU exit code
//! if any failed). Run it with `cargo run --release` in this directory.
#![no_std]
#![no_main]

use board_common::{checks, qemu_board, Aligned};
use cortex_m_rt::{entry, exception, ExceptionFrame};

/// Working memory of the engine: the largest case (person detection) needs 74 KB; RAM is 4 MB.
const ARENA_BYTES: usize = 256 * 1024;

#[entry]
fn main() -> ! {
    // cortex-m-rt turns this into a `&'static mut` that `main` owns: no `unsafe` needed.
    static mut ARENA: Aligned<[u8; ARENA_BYTES]> = Aligned([0; ARENA_BYTES]);
    checks::run(&qemu_board!("qemu-m33", "Cortex-M33 (mps2-an505)"), &mut ARENA.0)
}

#[exception]
unsafe fn HardFault(frame: &ExceptionFrame) -> ! {
    board_common::semihosting::fault(
        format_args!("HARDFAULT lr={:#010x}", frame.lr()),
        frame.pc() as usize,
    )
}
