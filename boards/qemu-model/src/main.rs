//! Your own `.tflite` on an emulated Cortex-M4F (QEMU `mps2-an386`).
//!
//! `build.rs` plans the model named by `REFLEX_MODEL` (default `models/bearing_classifier.tflite`)
//! on the build machine and embeds the model, its plan and its golden samples; this firmware binds
//! the plan to the model, runs every sample in an arena of exactly the size the plan needs, compares
//! every output byte, prints a report through semihosting and exits QEMU with a non-zero code if a
//! sample differs. A firmware of your own does the same with its sensor's data instead of the golden
//! samples (see `docs/your-model.md`). Run it from this directory:
//!
//! ```text
//! REFLEX_MODEL=path/to/model.tflite cargo run --release
//! ```
#![no_std]
#![no_main]

use core::fmt::Write;

use board_common::checks::{self, Board};
use board_common::semihosting::HostOut;
use board_common::Aligned;
use cortex_m_rt::{entry, exception, ExceptionFrame};

/// The model's constants (`ARENA_BYTES`, `PLAN`, input/output sizes), `MODEL` and `CASE`.
#[allow(dead_code)] // every constant is generated; a firmware uses those it needs
mod model {
    include!(concat!(env!("OUT_DIR"), "/your_model.rs"));
}

#[entry]
fn main() -> ! {
    // Exactly the RAM the plan needs; cortex-m-rt turns this into a `&'static mut` that `main` owns.
    static mut ARENA: Aligned<[u8; model::ARENA_BYTES]> = Aligned([0; model::ARENA_BYTES]);

    let _ = writeln!(
        HostOut::open(),
        "model {}: {} B model + {} B plan in flash, {} B arena, input {} B, output {} B",
        model::MODEL_PATH,
        model::MODEL.0.len(),
        model::PLAN.len(),
        model::ARENA_BYTES,
        model::INPUT_BYTES,
        model::OUTPUT_BYTES,
    );
    let board = Board {
        name: "qemu-model",
        machine: "Cortex-M4F (mps2-an386)",
        cases: core::slice::from_ref(&model::CASE),
        fixture_bytes: model::SAMPLE_BYTES,
        // No graph here: the model alone is checked.
        graph_expected: &[],
    };
    checks::run(&board, &mut ARENA.0)
}

#[exception]
unsafe fn HardFault(frame: &ExceptionFrame) -> ! {
    board_common::semihosting::fault(
        format_args!("HARDFAULT lr={:#010x}", frame.lr()),
        frame.pc() as usize,
    )
}
