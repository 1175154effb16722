//! Report lines and exit codes of the emulated (QEMU) boards, through semihosting.
//!
//! [`HostOut`] writes to QEMU's standard output, [`exit`] ends QEMU with a zero or non-zero exit code,
//! and the panic handler prints the panic and exits with failure, so a panic can never look like a
//! pass. The `semihosting` crate issues the call for the architecture built for (Arm M-profile or
//! RISC-V), so this module assumes no particular core. Only for firmware that runs under a debugger
//! or QEMU with semihosting enabled: on a bare board a semihosting call halts or traps the core.

use core::fmt;

use semihosting::io::{self, Write as _};

/// The host's standard output; writes that fail are dropped.
pub struct HostOut(Option<io::Stdout>);

impl HostOut {
    /// Opens the host's standard output.
    pub fn open() -> HostOut {
        HostOut(io::stdout().ok())
    }
}

impl fmt::Write for HostOut {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        match &mut self.0 {
            Some(stream) => stream.write_all(s.as_bytes()).map_err(|_| fmt::Error),
            None => Err(fmt::Error),
        }
    }
}

/// Ends the emulator: exit code 0 when `success`, non-zero otherwise.
pub fn exit(success: bool) -> ! {
    semihosting::process::exit(if success { 0 } else { 1 })
}

/// Reports a fault of the core (`kind`, e.g. `HARDFAULT` on Cortex-M or the exception cause on
/// RISC-V: bad memory access, undefined instruction) at program counter `pc`, and exits with failure,
/// instead of the runtime's default endless loop that only a timeout would end.
///
/// Call it from the board's fault handler (cortex-m-rt's `HardFault`, riscv-rt's
/// `ExceptionHandler`).
pub fn fault(kind: fmt::Arguments<'_>, pc: usize) -> ! {
    use core::fmt::Write;
    let mut out = HostOut::open();
    let _ = writeln!(out, "FAULT: {kind} at pc={pc:#010x}");
    exit(false)
}

#[panic_handler]
fn panic(info: &core::panic::PanicInfo) -> ! {
    use core::fmt::Write;
    let mut out = HostOut::open();
    let _ = writeln!(out, "PANIC: {}", info);
    exit(false)
}
