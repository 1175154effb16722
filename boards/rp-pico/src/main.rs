//! edge-reflex on the Raspberry Pi Pico: wiring only; the reflex is `board_common::reflex`.
//!
//! | signal | pin | note |
//! |---|---|---|
//! | LIS3DH SDA | GP4 (pin 6) | I2C0, 400 kHz |
//! | LIS3DH SCL | GP5 (pin 7) | |
//! | LIS3DH INT1 | GP6 (pin 9) | input with edge/level IRQ, pull-down; active high from the chip |
//! | alarm | LED, GP25 | active high |
//!
//! Model updates: two slots and the state log in the upper MiB of the QSPI flash (`memory.x`),
//! through embassy-rp's flash driver; the model runs from its slot, in place over XIP
//! (`board_common::update`). Bundles arrive through the application's transport: replace
//! `NoTransport` with a `BundleSource` over USB, a UART or a radio.
#![no_std]
#![no_main]

use board_common::reflex::ReflexConfig;
use board_common::update::{run_updatable_reflex, trusted_key, Mapped, ModelUpdates, NoTransport};
use embassy_executor::Spawner;
use embassy_rp::flash::{Blocking, Flash};
use embassy_rp::gpio::{Input, Level, Output, Pull};
use embassy_rp::peripherals::I2C0;
use embassy_rp::{bind_interrupts, i2c};
use embassy_time::{Delay, Instant};
use {defmt_rtt as _, panic_probe as _};

mod layout {
    include!(concat!(env!("OUT_DIR"), "/update_layout.rs"));
}

/// The Pico's QSPI flash (W25Q16JV).
const FLASH_BYTES: usize = 2 * 1024 * 1024;

bind_interrupts!(struct Irqs {
    I2C0_IRQ => i2c::InterruptHandler<I2C0>;
});

#[embassy_executor::main]
async fn main(_spawner: Spawner) {
    let p = embassy_rp::init(Default::default());
    defmt::info!("Raspberry Pi Pico up");

    let mut i2c_config = i2c::Config::default();
    i2c_config.frequency = 400_000;
    let i2c = i2c::I2c::new_async(p.I2C0, p.PIN_5, p.PIN_4, Irqs, i2c_config);
    let int1 = Input::new(p.PIN_6, Pull::Down);
    let led = Output::new(p.PIN_25, Level::Low);
    let clock = || Instant::now().as_micros() as u32;

    let flash = Flash::<_, Blocking, FLASH_BYTES>::new_blocking(p.FLASH);
    // SAFETY: memory.x keeps the linker out of the state sectors and the slots of UPDATE_LAYOUT,
    // the flash is mapped for reading (XIP) at FLASH_BASE plus the driver's offsets, and only
    // this driver writes it (it flushes the XIP cache after every erase and program).
    let flash = unsafe { Mapped::new(flash, layout::FLASH_BASE, layout::UPDATE_LAYOUT) };
    let updates = ModelUpdates::open(flash, layout::UPDATE_LAYOUT, trusted_key());
    let config = ReflexConfig::default();
    run_updatable_reflex(i2c, int1, led, Delay, clock, &config, updates, NoTransport).await
}
