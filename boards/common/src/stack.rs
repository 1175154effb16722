//! Stack high-water mark of a cortex-m-rt or riscv-rt firmware: how deep the stack really went.
//!
//! Both runtimes put the stack at the top of RAM, growing down towards the statics (cortex-m-rt's
//! `_stack_end`, riscv-rt's `__estack`: the end of `.bss`/`.uninit`, and of riscv-rt's empty heap). [`StackMeter::paint`] fills the free part below the current
//! stack pointer with a pattern; [`StackMeter::high_water`] later finds the lowest word that no
//! longer holds it. A stack that reached `_stack_end` has overwritten statics: the firmware must then
//! fail ([`StackMeter::overflowed`]). This module does not prevent an overflow (no MPU guard); it
//! makes one visible, and tells how much room the 16 KB board has left.

/// The paint pattern.
const PAINT: u32 = 0x57AC_CA5E;
/// Bytes below the stack pointer left unpainted for `paint`'s own frame.
const MARGIN: usize = 64;

extern "C" {
    /// Lowest address of the stack region (end of the statics), from the runtime's `link.x`.
    #[cfg_attr(target_arch = "riscv32", link_name = "__estack")]
    static _stack_end: u32;
    /// Initial stack pointer (top of the stack region), from the runtime's `link.x` (riscv-rt: of
    /// hart 0, the only one the emulated board runs).
    static _stack_start: u32;
}

/// Remembers the painted stack region.
pub struct StackMeter {
    bottom: usize,
    top: usize,
}

impl StackMeter {
    /// Paints the unused stack, from `_stack_end` up to just below the current stack pointer.
    /// Call it once, first thing in `main`, with interrupts off (the QEMU boards enable none).
    #[inline(never)]
    pub fn paint() -> StackMeter {
        // Only the addresses of the linker symbols are taken (safe); they are never read.
        let (bottom, top) =
            (core::ptr::addr_of!(_stack_end) as usize, core::ptr::addr_of!(_stack_start) as usize);
        // The address of a local is at or just above the stack pointer (MARGIN covers the rest of
        // this frame), on every architecture.
        let here = 0u8;
        let sp = core::hint::black_box(&here) as *const u8 as usize;
        let limit = sp.saturating_sub(MARGIN) & !3;
        let mut p = (bottom + 3) & !3;
        while p < limit {
            // SAFETY: [bottom, sp) is the part of the stack region below the live stack: no
            // object lives there (statics end at `bottom`, frames are above `sp`) and no interrupt
            // can push a frame meanwhile; the address is 4-aligned and in RAM (link.x asserts).
            unsafe { core::ptr::write_volatile(p as *mut u32, PAINT) };
            p += 4;
        }
        StackMeter { bottom: (bottom + 3) & !3, top }
    }

    /// Bytes of the stack region (from the top of RAM down to the statics).
    pub fn capacity(&self) -> usize {
        self.top - self.bottom
    }

    /// Deepest stack use since [`paint`](StackMeter::paint), in bytes (a lower bound: a frame that
    /// was reserved but never written is not seen).
    pub fn high_water(&self) -> usize {
        let mut p = self.bottom;
        // SAFETY: reads 4-aligned words of the stack region, below the live frames or painted;
        // volatile so the compiler does not assume what `paint` wrote.
        while p < self.top && unsafe { core::ptr::read_volatile(p as *const u32) } == PAINT {
            p += 4;
        }
        self.top - p
    }

    /// True when the stack reached the statics (its lowest word was overwritten).
    pub fn overflowed(&self) -> bool {
        self.high_water() >= self.capacity()
    }
}
