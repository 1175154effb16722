//! edge-reflex on an emulated RV32IMC core (QEMU riscv32 `virt`, the ESP32-C3's instruction set):
//! every conformance case and the shared graph, checked by `board_common::checks` (one report line
//! per check through semihosting, a non-zero QEMU exit code if any failed), with the engine's
//! portable kernels. Run it with `cargo run --release` in this directory.
#![no_std]
#![no_main]

use board_common::{checks, qemu_board, Aligned};
use riscv_rt::entry;

/// Working memory of the engine: the largest case (person detection) needs 74 KB; RAM is 8 MB.
const ARENA_BYTES: usize = 256 * 1024;

#[entry]
fn main() -> ! {
    // riscv-rt has no `static mut` hand-over as cortex-m-rt has: the arena lives in `main`'s frame,
    // which is never left (so the stack report counts it too).
    let mut arena = Aligned([0u8; ARENA_BYTES]);
    checks::run(&qemu_board!("qemu-rv32", "RV32IMC (riscv32 virt)"), &mut arena.0)
}

/// Every exception (illegal instruction, access fault, misaligned access) ends the run as failed.
#[export_name = "ExceptionHandler"]
fn exception_handler(_frame: &riscv_rt::TrapFrame) -> ! {
    let cause = riscv::register::mcause::read().code();
    board_common::semihosting::fault(
        format_args!("exception {cause}"),
        riscv::register::mepc::read(),
    )
}
