//! Failures injected on request, to prove that the emulated boards' checks can fail.
//!
//! A check that never fails proves nothing, so `scripts/embedded-check.sh` rebuilds each QEMU board
//! with `BOARD_SELFTEST=mismatch` and expects a non-zero exit. The value is read at build time:
//! - `mismatch`: the first output byte of the first conformance sample is altered before comparison,
//!   and the graph check's hash of the target's decisions is altered before comparison with the host's;
//! - `panic`: the firmware panics before the checks;
//! - `fault`: the firmware executes an undefined instruction (a HardFault on Cortex-M, an
//!   illegal-instruction exception on RISC-V) before the checks.
//!
//! Without `BOARD_SELFTEST` (every normal build) nothing is injected.

/// The failure to inject, from `BOARD_SELFTEST` when the firmware was built.
pub const SELFTEST: Option<&str> = option_env!("BOARD_SELFTEST");

/// True when the build asked to alter the first conformance output (`BOARD_SELFTEST=mismatch`).
pub fn corrupt_first_output() -> bool {
    matches!(SELFTEST, Some("mismatch"))
}

/// True when the build asked to report the graph check as failed (`BOARD_SELFTEST=mismatch`).
pub fn corrupt_graph() -> bool {
    matches!(SELFTEST, Some("mismatch"))
}

/// Panics or faults at once if the build asked for it (`BOARD_SELFTEST=panic` or `fault`).
pub fn inject_early() {
    match SELFTEST {
        Some("panic") => panic!("BOARD_SELFTEST=panic"),
        Some("fault") => undefined_instruction(),
        _ => {}
    }
}

/// Executes an instruction that is undefined on purpose, so the core traps.
fn undefined_instruction() -> ! {
    // SAFETY: the instruction only raises the core's undefined-instruction exception, whose
    // handler (the board's, through `semihosting::fault`) reports and exits; nothing after it runs
    // (`noreturn`), and it touches no memory. Tested by `BOARD_SELFTEST=fault` builds.
    #[cfg(target_arch = "arm")]
    unsafe {
        core::arch::asm!("udf #0", options(noreturn, nomem, nostack))
    }
    // SAFETY: as above; `unimp` is the canonical illegal instruction of RISC-V.
    #[cfg(target_arch = "riscv32")]
    unsafe {
        core::arch::asm!("unimp", options(noreturn, nomem, nostack))
    }
    #[cfg(not(any(target_arch = "arm", target_arch = "riscv32")))]
    panic!("BOARD_SELFTEST=fault: no undefined instruction known for this architecture")
}
