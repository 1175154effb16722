//! Report lines and exit codes of the emulated (QEMU) boards, through ARM semihosting.
//!
//! [`HostOut`] writes to QEMU's standard output, [`exit`] ends QEMU with a zero or non-zero exit code,
//! and the panic handler prints the panic and exits with failure, so a panic can never look like a
//! pass. Only for firmware that runs under a debugger or QEMU with semihosting enabled: on a bare
//! board a semihosting call halts the core.

use core::fmt;

use cortex_m_semihosting::{debug, hio};

/// The host's standard output; writes that fail are dropped.
pub struct HostOut(Option<hio::HostStream>);

impl HostOut {
    /// Opens the host's standard output.
    pub fn open() -> HostOut {
        HostOut(hio::hstdout().ok())
    }
}

impl fmt::Write for HostOut {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        match &mut self.0 {
            Some(stream) => stream.write_all(s.as_bytes()).map_err(|()| fmt::Error),
            None => Err(fmt::Error),
        }
    }
}

/// Ends the emulator: exit code 0 when `success`, non-zero otherwise.
pub fn exit(success: bool) -> ! {
    debug::exit(if success { debug::EXIT_SUCCESS } else { debug::EXIT_FAILURE });
    // Only reached when no debugger/emulator handled the call.
    loop {
        core::hint::spin_loop();
    }
}

/// Reports a HardFault (bad memory access, stack overflow into a fault, undefined instruction) and
/// exits with failure, instead of the default handler's endless loop that only a timeout would end.
///
/// Call it from the board's `#[exception] unsafe fn HardFault(frame: &ExceptionFrame) -> !`.
pub fn hard_fault(frame: &cortex_m_rt::ExceptionFrame) -> ! {
    use core::fmt::Write;
    let mut out = HostOut::open();
    let _ = writeln!(out, "HARDFAULT: pc={:#010x} lr={:#010x}", frame.pc(), frame.lr());
    exit(false)
}

#[panic_handler]
fn panic(info: &core::panic::PanicInfo) -> ! {
    use core::fmt::Write;
    let mut out = HostOut::open();
    let _ = writeln!(out, "PANIC: {}", info);
    exit(false)
}
