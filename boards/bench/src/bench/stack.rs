//! Stack high-water mark: paint the free stack with a pattern at start, find the deepest overwritten
//! word after the work.
//!
//! cortex-m-rt places the stack at the top of RAM (`_stack_start`, the initial stack pointer) growing
//! down to `_stack_end` (the end of `.bss`/`.uninit`, i.e. the first byte after the statics). [`paint`]
//! fills `[_stack_end, sp - MARGIN)` with [`PATTERN`]; [`high_water`] scans up from `_stack_end` for the
//! first word that is no longer the pattern. The result counts every byte of stack the firmware ever
//! used (reset handler, `main`, loading, planning and the inferences), to the word.

use core::ptr::{addr_of, read_volatile, write_volatile};

/// The paint. A stack word holding exactly this value by chance would make the result 4 bytes short,
/// never more (the scan stops at the first changed word from the bottom).
pub const PATTERN: u32 = 0xC5AC_CE55;

/// Bytes just below the current stack pointer that are left unpainted (the painting function's callees
/// could use them).
const MARGIN: usize = 64;

extern "C" {
    /// Top of the stack (initial SP), from cortex-m-rt's (or riscv-rt's) link.x.
    static _stack_start: u32;
    /// Bottom of the stack region (first byte after the statics), from cortex-m-rt's link.x
    /// (riscv-rt's `__estack`).
    #[cfg_attr(target_arch = "riscv32", link_name = "__estack")]
    static _stack_end: u32;
}

fn bounds() -> (usize, usize) {
    // Only the addresses of the two linker symbols are taken; they are never read.
    (addr_of!(_stack_end) as usize, addr_of!(_stack_start) as usize)
}

/// Paints the unused stack below the caller. Call first thing in `main` (no interrupts are enabled).
#[inline(never)]
pub fn paint() {
    let (bottom, _) = bounds();
    #[cfg(target_arch = "arm")]
    let sp = cortex_m::register::msp::read() as usize;
    // The address of a local: at or just above the stack pointer (MARGIN covers the rest).
    #[cfg(target_arch = "riscv32")]
    let here = 0u8;
    #[cfg(target_arch = "riscv32")]
    let sp = core::hint::black_box(&here) as *const u8 as usize;
    let mut p = (bottom + 3) & !3;
    while p + 4 <= sp.saturating_sub(MARGIN) {
        // SAFETY: [bottom, sp - MARGIN) is the part of the stack region below the live stack
        // (cortex-m-rt reserves it for the stack; no static lives there and nothing references it yet),
        // and no interrupt handler runs that could be using it. Word-aligned.
        unsafe { write_volatile(p as *mut u32, PATTERN) };
        p += 4;
    }
}

/// Bytes of stack used since [`paint`] (measured from the top of the stack), or `None` if the paint is
/// gone down to the bottom word (the stack overflowed into the statics, or was never painted).
#[inline(never)]
pub fn high_water() -> Option<usize> {
    let (bottom, top) = bounds();
    let mut p = (bottom + 3) & !3;
    // SAFETY: reads words of the stack region below the current stack pointer (as painted above).
    while p + 4 <= top && unsafe { read_volatile(p as *const u32) } == PATTERN {
        p += 4;
    }
    if p == (bottom + 3) & !3 {
        None
    } else {
        Some(top - p)
    }
}
