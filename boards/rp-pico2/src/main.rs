//! edge-reflex on the Raspberry Pi Pico 2 (RP2350): wiring only; the reflex is `board_common::reflex`.
//!
//! | signal | pin | note |
//! |---|---|---|
//! | LIS3DH SDA | GP4 (pin 6) | I2C0, 400 kHz |
//! | LIS3DH SCL | GP5 (pin 7) | |
//! | LIS3DH INT1 | GP6 (pin 9) | input with edge/level IRQ, pull-down; active high from the chip |
//! | alarm | LED, GP25 | active high |
#![no_std]
#![no_main]

use board_common::reflex::{run_vibration_reflex, ReflexConfig};
use embassy_executor::Spawner;
use embassy_rp::gpio::{Input, Level, Output, Pull};
use embassy_rp::peripherals::I2C0;
use embassy_rp::{bind_interrupts, i2c};
use embassy_time::{Delay, Instant};
use {defmt_rtt as _, panic_probe as _};

bind_interrupts!(struct Irqs {
    I2C0_IRQ => i2c::InterruptHandler<I2C0>;
});

#[embassy_executor::main]
async fn main(_spawner: Spawner) {
    let p = embassy_rp::init(Default::default());
    defmt::info!("Raspberry Pi Pico 2 up");

    let mut i2c_config = i2c::Config::default();
    i2c_config.frequency = 400_000;
    let i2c = i2c::I2c::new_async(p.I2C0, p.PIN_5, p.PIN_4, Irqs, i2c_config);
    let int1 = Input::new(p.PIN_6, Pull::Down);
    let led = Output::new(p.PIN_25, Level::Low);
    let clock = || Instant::now().as_micros() as u32;

    run_vibration_reflex(i2c, int1, led, Delay, clock, &ReflexConfig::default()).await
}
