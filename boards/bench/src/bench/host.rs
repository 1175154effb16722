//! Report lines and the exit code, through semihosting (cortex-m-semihosting on Arm, the
//! `semihosting` crate on RISC-V), without `core::fmt`.
//!
//! The firmware's flash is a benchmark result, so this module formats numbers by hand instead of
//! pulling in `core::fmt` (several KB), and the panic handler prints a fixed line. It only works
//! under QEMU or a debugger with semihosting enabled.

#[cfg(target_arch = "arm")]
use cortex_m_semihosting::{debug, hio, hio::HostStream as Stream};
#[cfg(target_arch = "riscv32")]
use semihosting::io::{Stdout as Stream, Write as _};

/// The host's standard output; failed writes are dropped (there is nowhere to report them).
pub struct Out(Option<Stream>);

impl Out {
    /// Opens the host's standard output.
    pub fn open() -> Out {
        #[cfg(target_arch = "arm")]
        return Out(hio::hstdout().ok());
        #[cfg(target_arch = "riscv32")]
        return Out(semihosting::io::stdout().ok());
    }

    /// Writes `s`.
    pub fn str(&mut self, s: &str) -> &mut Out {
        self.bytes(s.as_bytes())
    }

    /// Writes raw bytes (the one place that talks to the host).
    #[inline(never)]
    fn bytes(&mut self, b: &[u8]) -> &mut Out {
        if let Some(stream) = &mut self.0 {
            let _ = stream.write_all(b);
        }
        self
    }

    /// Writes `v` in decimal (saturated to `u32`: every number the harness prints is a byte count or
    /// an index, and 32-bit division keeps the 64-bit division routines out of the flash).
    #[inline(never)]
    pub fn num(&mut self, v: u64) -> &mut Out {
        let mut digits = [0u8; 10];
        let mut i = digits.len();
        let mut v = u32::try_from(v).unwrap_or(u32::MAX);
        loop {
            i -= 1;
            digits[i] = b'0' + (v % 10) as u8;
            v /= 10;
            if v == 0 {
                break;
            }
        }
        self.bytes(&digits[i..])
    }

    /// Writes ` key=value`.
    pub fn field(&mut self, key: &str, v: u64) -> &mut Out {
        self.str(" ").str(key).str("=").num(v)
    }
}

/// Ends QEMU with exit code 0 when `success`, non-zero otherwise.
pub fn exit(success: bool) -> ! {
    #[cfg(target_arch = "riscv32")]
    semihosting::process::exit(if success { 0 } else { 1 });
    #[cfg(target_arch = "arm")]
    debug::exit(if success { debug::EXIT_SUCCESS } else { debug::EXIT_FAILURE });
    #[allow(unreachable_code)]
    loop {
        core::hint::spin_loop();
    }
}

/// Prints `bench-fw FAIL <why>` and exits with failure.
pub fn fail(why: &str) -> ! {
    Out::open().str("bench-fw FAIL ").str(why).str("\n");
    exit(false)
}

#[panic_handler]
fn panic(_: &core::panic::PanicInfo) -> ! {
    fail("panic")
}
