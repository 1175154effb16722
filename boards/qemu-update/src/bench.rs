//! One verification of a large bundle (person_detect, ~300 KB, unless `BENCH_UPDATE_MODEL` names
//! another model), between two marker functions for the instruction-counting plugin
//! (`scripts/bench-op-count.c`): the instructions of `update::verify::verify` (parse, SHA-256 of
//! the body, Ed25519 verification of the digest) on a Cortex-M4F. Prints the result and the
//! stack it took, and exits 0 if the bundle verified. Built only with `--features bench`:
//!
//! ```text
//! cargo build --release --features bench --bin verify-bench
//! ```
#![no_std]
#![no_main]

use core::fmt::Write;

use board_common::semihosting::{exit, HostOut};
use board_common::stack::StackMeter;
use cortex_m_rt::{entry, exception, ExceptionFrame};
use edge_reflex::update::{verify::verify, PublicKey};

#[allow(dead_code)]
mod bundles {
    /// A fixture sample (unused here).
    pub struct Sample {
        pub case: &'static str,
        pub bundle: &'static [u8],
        pub input: &'static [u8],
        pub output: &'static [u8],
    }
    include!(concat!(env!("OUT_DIR"), "/bundles.rs"));
}

/// Marks the start of the measured region (the plugin's `start`).
#[inline(never)]
#[no_mangle]
pub extern "C" fn bench_begin() {
    cortex_m::asm::nop();
}

/// Marks the end of the measured region (the plugin's `stop`).
#[inline(never)]
#[no_mangle]
pub extern "C" fn bench_end() {
    cortex_m::asm::nop();
    cortex_m::asm::nop();
}

#[entry]
fn main() -> ! {
    let mut out = HostOut::open();
    let Ok(key) = PublicKey::from_slice(&bundles::PUBLIC_KEY) else { exit(false) };
    let bytes: &[u8] = core::hint::black_box(&bundles::BENCH.0);
    let stack = StackMeter::paint();
    bench_begin();
    let verified = verify(bytes, &key).map(|b| b.version);
    bench_end();
    let _ = writeln!(
        out,
        "verify-bench: {} B bundle of {}: {:?}, stack {} B",
        bytes.len(),
        bundles::BENCH_MODEL,
        verified,
        stack.high_water()
    );
    exit(verified.is_ok())
}

#[exception]
unsafe fn HardFault(frame: &ExceptionFrame) -> ! {
    board_common::semihosting::hard_fault(frame)
}
