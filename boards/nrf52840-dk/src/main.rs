//! edge-reflex on the nRF52840-DK: wiring only; the reflex is `board_common::reflex`.
//!
//! | signal | pin | note |
//! |---|---|---|
//! | LIS3DH SDA | P0.26 | TWIM0, 400 kHz, internal pull-ups on |
//! | LIS3DH SCL | P0.27 | |
//! | LIS3DH INT1 | P0.03 | GPIOTE input, pull-down; push-pull active high from the chip |
//! | alarm | LED1, P0.13 | active low |
//!
//! Model updates: two slots and the state log in the top of the flash (`memory.x`), through the
//! NVMC; the model runs from its slot (`board_common::update`). Bundles arrive through the
//! application's transport: replace `NoTransport` with a `BundleSource` over BLE, USB or a UART.
#![no_std]
#![no_main]

use board_common::led::ActiveLow;
use board_common::reflex::ReflexConfig;
use board_common::update::{run_updatable_reflex, trusted_key, Mapped, ModelUpdates, NoTransport};
use embassy_executor::Spawner;
use embassy_nrf::gpio::{Input, Level, Output, OutputDrive, Pull};
use embassy_nrf::nvmc::Nvmc;
use embassy_nrf::{bind_interrupts, peripherals, twim};
use embassy_time::{Delay, Instant};
use {defmt_rtt as _, panic_probe as _};

mod layout {
    include!(concat!(env!("OUT_DIR"), "/update_layout.rs"));
}

bind_interrupts!(struct Irqs {
    TWISPI0 => twim::InterruptHandler<peripherals::TWISPI0>;
});

#[embassy_executor::main]
async fn main(_spawner: Spawner) {
    let p = embassy_nrf::init(Default::default());
    defmt::info!("nRF52840-DK up");

    let mut i2c_config = twim::Config::default();
    i2c_config.frequency = twim::Frequency::K400;
    i2c_config.sda_pullup = true;
    i2c_config.scl_pullup = true;
    // EasyDMA cannot read flash: writes whose bytes the compiler placed in flash go through here.
    let mut tx_buffer = [0u8; 8];
    let i2c = twim::Twim::new(p.TWISPI0, Irqs, p.P0_26, p.P0_27, i2c_config, &mut tx_buffer);
    let int1 = Input::new(p.P0_03, Pull::Down);
    let led = ActiveLow(Output::new(p.P0_13, Level::High, OutputDrive::Standard));
    let clock = || Instant::now().as_micros() as u32;

    // SAFETY: memory.x keeps the linker out of the slots and the state pages of UPDATE_LAYOUT, the
    // nRF52840 maps its flash for reading at the NVMC's offsets (FLASH_BASE 0), and only this
    // NVMC driver writes it; they lie above the firmware, so none is at address 0.
    let flash =
        unsafe { Mapped::new(Nvmc::new(p.NVMC), layout::FLASH_BASE, layout::UPDATE_LAYOUT) };
    let updates = ModelUpdates::open(flash, layout::UPDATE_LAYOUT, trusted_key());
    let config = ReflexConfig::default();
    run_updatable_reflex(i2c, int1, led, Delay, clock, &config, updates, NoTransport).await
}
