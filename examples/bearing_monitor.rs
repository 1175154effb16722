//! The main job: a vibration reflex on a simulated bearing, end to end on the host.
//!
//! A LIS3DH accelerometer *driver of this crate* reads X/Y/Z over an embedded-hal-mock I2C bus whose
//! expected transactions carry the register bytes of a simulated bearing (1 kHz, 60 s, five injected
//! fault episodes). The graph windows the samples (64, every 32), gates out quiet windows, quantizes
//! the rest, scores them with the streaming z-score model and drives an alarm pin. One line per
//! detection, then a summary: compute saved by the gate, hits/misses/false alarms, latency.
//!
//!     cargo run --release --example bearing_monitor
//!
//! Deterministic: the bearing's noise is seeded, so every run detects the same windows (only the
//! latency figures, measured with the host's clock, vary). Exits non-zero if a fault is missed or
//! an alarm is false.

use edge_reflex::action::{Decision, FnAction, PinAlarm, Scores};
use edge_reflex::drivers::lis3dh::{Config, DataRate, Lis3dh, Mode, Range};
use edge_reflex::graph::Step;
use edge_reflex::sim::{Bearing, BearingConfig, FaultEpisode, DEMO_FAULTS, DEMO_SAMPLES};
use edge_reflex::vibration::{self, VibrationConfig, WINDOW};
use embedded_hal_mock::eh1::i2c::{Mock as I2cMock, Transaction as I2c};
use std::cell::Cell;
use std::convert::Infallible;
use std::rc::Rc;
use std::time::Instant as HostInstant;

const ADDRESS: u8 = 0x18;
const SAMPLE_RATE_HZ: f32 = 1000.0;

/// What the LIS3DH holds for an acceleration in high-resolution ±2 g mode: 12-bit counts of
/// 1 mg, left-justified in a little-endian i16 per axis (datasheet table 4 and §3.2.1).
fn lis3dh_bytes(sample: [f32; 3]) -> Vec<u8> {
    sample
        .iter()
        .flat_map(|&a| {
            let counts = (a / 9.806_65 * 1000.0).round().clamp(-2048.0, 2047.0) as i16;
            (counts << 4).to_le_bytes()
        })
        .collect()
}

/// The bus traffic of the whole run: the driver's init (from the datasheet), then one 6-byte
/// burst read from OUT_X_L (0x28, auto-increment bit 0x80) per sample.
fn bus_traffic(bearing: &mut Bearing<'_>) -> Vec<I2c> {
    let mut t = vec![
        I2c::write_read(ADDRESS, vec![0x0F], vec![0x33]), // WHO_AM_I
        I2c::write(ADDRESS, vec![0x20, 0x97]),            // CTRL_REG1: 1.344 kHz, XYZ on
        I2c::write(ADDRESS, vec![0x21, 0x00]),            // CTRL_REG2
        I2c::write(ADDRESS, vec![0x23, 0x88]),            // CTRL_REG4: BDU, ±2 g, HR
        I2c::write(ADDRESS, vec![0x24, 0x00]),            // CTRL_REG5: FIFO off
        I2c::write(ADDRESS, vec![0x25, 0x00]),            // CTRL_REG6
        I2c::write(ADDRESS, vec![0x2E, 0x00]),            // FIFO_CTRL_REG: bypass
        I2c::write(ADDRESS, vec![0x32, 0x00]),            // INT1_THS
        I2c::write(ADDRESS, vec![0x33, 0x00]),            // INT1_DURATION
        I2c::write(ADDRESS, vec![0x30, 0x00]),            // INT1_CFG
        I2c::write(ADDRESS, vec![0x22, 0x00]),            // CTRL_REG3
    ];
    for _ in 0..DEMO_SAMPLES {
        t.push(I2c::write_read(ADDRESS, vec![0xA8], lis3dh_bytes(bearing.next_sample())));
    }
    t
}

/// The board's alarm LED, as a mock GPIO that remembers its level.
#[derive(Clone, Default)]
struct AlarmLed(Rc<Cell<bool>>);

impl embedded_hal::digital::ErrorType for AlarmLed {
    type Error = Infallible;
}

impl embedded_hal::digital::OutputPin for AlarmLed {
    fn set_low(&mut self) -> Result<(), Infallible> {
        self.0.set(false);
        Ok(())
    }
    fn set_high(&mut self) -> Result<(), Infallible> {
        self.0.set(true);
        Ok(())
    }
}

fn seconds(sample: u32) -> f32 {
    sample as f32 / SAMPLE_RATE_HZ
}

fn main() {
    let faults: &[FaultEpisode] = &DEMO_FAULTS;
    let mut bearing = Bearing::new(BearingConfig::default(), faults);
    let bus = I2cMock::new(&bus_traffic(&mut bearing));

    let mut sensor = Lis3dh::new_i2c(bus, ADDRESS).with_config(Config {
        data_rate: DataRate::Hz1344,
        range: Range::G2,
        mode: Mode::HighResolution,
    });
    sensor.init().expect("LIS3DH init");

    let led = AlarmLed::default();
    let triggered_windows = Rc::new(Cell::new(0u32));
    let counter = triggered_windows.clone();
    let count = FnAction::new(move |d: &Decision, _: &Scores<'_>| {
        counter.set(counter.get() + d.triggered as u32);
        Ok::<(), Infallible>(())
    });

    let start = HostInstant::now();
    let clock = move || start.elapsed().as_micros() as u32;
    let config = VibrationConfig::default();
    let model = vibration::zscore_model(&config);
    let mut graph =
        vibration::graph(sensor, model, (PinAlarm::new(led.clone()), count), clock, &config);

    println!(
        "edge-reflex bearing monitor: {} samples at {} Hz, window {} every {}, {} injected faults",
        DEMO_SAMPLES,
        SAMPLE_RATE_HZ,
        WINDOW,
        vibration::HOP,
        faults.len()
    );
    let mut hits = vec![false; faults.len()];
    let mut false_alarms = 0u32;
    let mut alarm_on = false;
    for i in 0..DEMO_SAMPLES {
        let step = match graph.step() {
            Ok(step) => step,
            Err(e) => {
                println!("t={:7.3}s  error: {e:?}", seconds(i));
                continue;
            }
        };
        if let Step::Inferred(d) = step {
            let first = (i + 1).saturating_sub(WINDOW as u32);
            let episode = faults.iter().position(|f| f.overlaps(first, i));
            if d.triggered {
                match episode {
                    Some(k) if !hits[k] => {
                        hits[k] = true;
                        println!(
                            "t={:7.3}s  DETECTED  z={:5.1}  window {}..={}  (fault #{} injected at t={:.3}s)",
                            seconds(i),
                            d.score,
                            first,
                            i,
                            k + 1,
                            seconds(faults[k].start)
                        );
                    }
                    Some(_) => {}
                    None => {
                        false_alarms += 1;
                        println!("t={:7.3}s  FALSE ALARM  z={:5.1}", seconds(i), d.score);
                    }
                }
            }
        }
        let led_on = led.0.get();
        if led_on != alarm_on {
            alarm_on = led_on;
            println!("t={:7.3}s  alarm LED {}", seconds(i), if led_on { "on" } else { "off" });
        }
    }

    let s = *graph.stats();
    let detected = hits.iter().filter(|&&h| h).count();
    let misses = faults.len() - detected;
    println!();
    println!("samples            {}", s.samples);
    println!("windows            {}", s.windows);
    println!(
        "inferences         {} run, {} gated out: the gate saved {:.1}% of model runs",
        s.inferences,
        s.gated_out,
        100.0 * s.gated_fraction()
    );
    println!(
        "detections         {detected}/{} faults detected, {misses} missed, {false_alarms} false alarms ({} anomalous windows)",
        faults.len(),
        triggered_windows.get()
    );
    println!(
        "inference latency  mean {} µs, max {} µs (host clock, z-score model)",
        s.latency.mean().unwrap_or(0),
        s.latency.max
    );
    println!("errors             {:?}", s.errors);

    let (sensor, _) = graph.into_stages();
    sensor.sensor.destroy().done(); // every expected bus transaction happened
    if misses > 0 || false_alarms > 0 || s.gated_fraction() < 0.9 {
        eprintln!("bearing_monitor: FAILED (missed {misses}, false alarms {false_alarms})");
        std::process::exit(1);
    }
}
