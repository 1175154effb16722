//! edge-reflex on an ESP32-C3 board (RV32IMC, e.g. the ESP32-C3 SuperMini): wiring only; the reflex
//! is `board_common::reflex`. esp-hal drives the peripherals, esp-rtos runs the async `main` on its
//! embassy executor with a time driver on timer group 0, defmt goes out through esp-println.
//!
//! | signal | pin | note |
//! |---|---|---|
//! | LIS3DH SDA | GPIO4 | I2C0, 400 kHz |
//! | LIS3DH SCL | GPIO5 | |
//! | LIS3DH INT1 | GPIO6 | input, pull-down; active high from the chip |
//! | alarm | LED, GPIO8 | active low (the SuperMini's blue LED) |
#![no_std]
#![no_main]

use board_common::led::ActiveLow;
use board_common::reflex::{run_vibration_reflex, ReflexConfig};
use embassy_executor::Spawner;
use embassy_time::{Delay, Instant};
use esp_hal::gpio::{Input, InputConfig, Level, Output, OutputConfig, Pull};
use esp_hal::i2c::master::{Config as I2cConfig, I2c};
use esp_hal::time::Rate;
use esp_hal::timer::timg::TimerGroup;
use {esp_backtrace as _, esp_println as _};

// The application descriptor the ESP-IDF bootloader checks before it starts the image.
esp_bootloader_esp_idf::esp_app_desc!();

#[esp_rtos::main]
async fn main(_spawner: Spawner) -> ! {
    let p = esp_hal::init(esp_hal::Config::default());
    esp_rtos::start(TimerGroup::new(p.TIMG0).timer0, p.FROM_CPU_INTR0);
    defmt::info!("ESP32-C3 up");

    let i2c_config = I2cConfig::default().with_frequency(Rate::from_khz(400));
    let i2c = match I2c::new(p.I2C0, i2c_config) {
        Ok(i2c) => i2c.with_sda(p.GPIO4).with_scl(p.GPIO5).into_async(),
        Err(error) => defmt::panic!("I2C0 configuration refused: {}", error),
    };
    let int1 = Input::new(p.GPIO6, InputConfig::default().with_pull(Pull::Down));
    // High = off for the active-low LED.
    let led = ActiveLow(Output::new(p.GPIO8, Level::High, OutputConfig::default()));
    let clock = || Instant::now().as_micros() as u32;

    run_vibration_reflex(i2c, int1, led, Delay, clock, &ReflexConfig::default()).await
}
