//! The device interrupt vectors (cortex-m-rt's `device` feature; `bench_build.rs` supplies the
//! empty `device.x`). The benchmark firmwares enable no interrupt, so the table has one entry
//! (cortex-m-rt requires at least one) instead of the 240 that cortex-m-rt reserves without a
//! device crate: 956 bytes that are no part of the engine. A real firmware's table has its chip's
//! entries (48 on the nRF52840, 86 on the STM32F411).

extern "C" {
    /// cortex-m-rt's handler for unexpected interrupts.
    fn DefaultHandler();
}

/// The interrupt vectors: one, never enabled.
#[link_section = ".vector_table.interrupts"]
#[no_mangle]
#[used]
pub static __INTERRUPTS: [unsafe extern "C" fn(); 1] = [DefaultHandler];
