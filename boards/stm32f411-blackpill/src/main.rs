//! edge-reflex on the WeAct STM32F411 Black Pill: wiring only; the reflex is
//! `board_common::reflex`.
//!
//! | signal | pin | note |
//! |---|---|---|
//! | LIS3DH SCL | PB6 | I2C1, 400 kHz, DMA1 stream 6 (TX) / stream 0 (RX) |
//! | LIS3DH SDA | PB7 | |
//! | LIS3DH INT1 | PB0 | EXTI0, pull-down; active high from the chip |
//! | alarm | LED, PC13 | active low |
//!
//! Clocks: 25 MHz crystal (HSE) -> PLL -> 96 MHz core (48 MHz for USB, unused), APB1 48 MHz.
//!
//! Model updates: two slots in sectors 6 and 7 and the state log in sectors 1 and 2
//! (`memory.x`), through embassy-stm32's flash driver ([`flash`]); the model runs from its slot
//! (`board_common::update`). Bundles arrive through the application's transport: replace
//! `NoTransport` with a `BundleSource` over USB, a UART or a radio.

#![no_std]
#![no_main]

use board_common::led::ActiveLow;
use board_common::reflex::ReflexConfig;
use board_common::update::{run_updatable_reflex, trusted_key, Mapped, ModelUpdates, NoTransport};
use embassy_executor::Spawner;
use embassy_stm32::exti::ExtiInput;
use embassy_stm32::flash::Flash;
use embassy_stm32::gpio::{Level, Output, Pull, Speed};
use embassy_stm32::time::Hertz;
use embassy_stm32::{bind_interrupts, i2c, peripherals, rcc};
use embassy_time::{Delay, Instant};
use {defmt_rtt as _, panic_probe as _};

mod flash;

mod layout {
    include!(concat!(env!("OUT_DIR"), "/update_layout.rs"));
}

bind_interrupts!(struct Irqs {
    I2C1_EV => i2c::EventInterruptHandler<peripherals::I2C1>;
    I2C1_ER => i2c::ErrorInterruptHandler<peripherals::I2C1>;
});

/// 25 MHz HSE / 25 * 192 = 192 MHz VCO; / 2 = 96 MHz core, / 4 = 48 MHz.
fn clocks() -> embassy_stm32::Config {
    let mut config = embassy_stm32::Config::default();
    config.rcc.hse = Some(rcc::Hse { freq: Hertz::mhz(25), mode: rcc::HseMode::Oscillator });
    config.rcc.pll_src = rcc::PllSource::HSE;
    config.rcc.pll = Some(rcc::Pll {
        prediv: rcc::PllPreDiv::DIV25,
        mul: rcc::PllMul::MUL192,
        divp: Some(rcc::PllPDiv::DIV2),
        divq: Some(rcc::PllQDiv::DIV4),
        divr: None,
    });
    config.rcc.sys = rcc::Sysclk::PLL1_P;
    config.rcc.ahb_pre = rcc::AHBPrescaler::DIV1;
    config.rcc.apb1_pre = rcc::APBPrescaler::DIV2;
    config.rcc.apb2_pre = rcc::APBPrescaler::DIV1;
    config
}

#[embassy_executor::main]
async fn main(_spawner: Spawner) {
    let p = embassy_stm32::init(clocks());
    defmt::info!("STM32F411 Black Pill up");

    let mut i2c_config = i2c::Config::default();
    i2c_config.frequency = Hertz::khz(400);
    let i2c = i2c::I2c::new(p.I2C1, p.PB6, p.PB7, Irqs, p.DMA1_CH6, p.DMA1_CH0, i2c_config);
    let int1 = ExtiInput::new(p.PB0, p.EXTI0, Pull::Down);
    let led = ActiveLow(Output::new(p.PC13, Level::High, Speed::Low));
    let clock = || Instant::now().as_micros() as u32;

    let flash = flash::SectorFlash(Flash::new_blocking(p.FLASH));
    // SAFETY: memory.x keeps the linker out of UPDATE_LAYOUT's state sectors and slots (the
    // firmware's code starts after the state sectors, at _stext), the flash is mapped for
    // reading at FLASH_BASE plus the driver's offsets, and only this driver writes it.
    let flash = unsafe { Mapped::new(flash, layout::FLASH_BASE, layout::UPDATE_LAYOUT) };
    let updates = ModelUpdates::open(flash, layout::UPDATE_LAYOUT, trusted_key());
    let config = ReflexConfig::default();
    run_updatable_reflex(i2c, int1, led, Delay, clock, &config, updates, NoTransport).await
}
