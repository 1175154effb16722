//! Interrupt-driven FIFO reads: exact bus and pin traffic, and no sample lost or read twice
//! across batches. Each case is written once and run in the async and the blocking form over the
//! same bus traffic (`drivers_support::both_modes_with_pin`); the pin traffic differs by mode (the
//! async form waits on the pin, the blocking form polls its level).

mod drivers_support;

use drivers_support::{both_modes_with_pin, ADXL345_INIT_WRITES, G, LIS3DH_INIT_WRITES};
use edge_reflex::drivers::adxl345::{self, Adxl345};
use edge_reflex::drivers::lis3dh::{FifoConfig, FifoMode, Lis3dh};
use edge_reflex::drivers::{ErrorKind, InterruptDriven, InterruptError, Trigger};
use edge_reflex::sensor::{AsyncSensor, Sensor};
use embedded_hal::i2c::{ErrorKind as I2cErrorKind, NoAcknowledgeSource};
use embedded_hal_mock::eh1::digital::{Edge, Mock as PinMock, State, Transaction as Pin};
use embedded_hal_mock::eh1::i2c::{Mock as I2cMock, Transaction as I2c};
use embedded_hal_mock::eh1::MockError;

const LIS: u8 = 0x18;

/// init (defaults) then `enable_fifo(stream, watermark 4, on INT1)`.
fn lis_fifo_setup() -> Vec<I2c> {
    let mut t = lis_init();
    for (register, value) in [
        (0x24, 0x40), // FIFO_EN
        (0x2E, 0x84), // stream, FTH = 4
        (0x22, 0x04), // I1_WTM
    ] {
        t.push(I2c::write(LIS, vec![register, value]));
    }
    t
}

/// WHO_AM_I and the default register image.
fn lis_init() -> Vec<I2c> {
    let mut t = vec![I2c::write_read(LIS, vec![0x0F], vec![0x33])];
    t.extend(LIS3DH_INIT_WRITES.map(|(register, value)| I2c::write(LIS, vec![register, value])));
    t
}

const FIFO: FifoConfig = FifoConfig { mode: FifoMode::Stream, watermark: 4, interrupt: true };

/// The sample numbered `n`: X = n digits (1 mg each at ±2 g high resolution), Y = -n, Z = 0.
fn sample(n: i16) -> [f32; 3] {
    let x = f32::from(n) * G / 1000.0;
    [x, -x, 0.0]
}

/// The LIS3DH FIFO bytes of samples `numbers`, as one burst.
fn burst(numbers: std::ops::RangeInclusive<i16>) -> Vec<u8> {
    numbers
        .flat_map(|n| {
            let mut b = (n << 4).to_le_bytes().to_vec();
            b.extend_from_slice(&((-n) << 4).to_le_bytes());
            b.extend_from_slice(&[0, 0]);
            b
        })
        .collect()
}

fn fifo_src(byte: u8) -> I2c {
    I2c::write_read(LIS, vec![0x2F], vec![byte])
}

fn out_burst(numbers: std::ops::RangeInclusive<i16>) -> I2c {
    I2c::write_read(LIS, vec![0xA8], burst(numbers))
}

fn assert_sequence(got: &[[f32; 3]], first: i16) {
    for (i, s) in got.iter().enumerate() {
        let expected = sample(first + i as i16);
        for (a, e) in s.iter().zip(expected.iter()) {
            assert!((a - e).abs() < 1e-5, "sample {i}: got {s:?}, expected {expected:?}");
        }
    }
}

/// Bus traffic for nine samples over three batches with a queue of 4:
/// wait, 6 stored -> drain 4 (queue full); drain again *without waiting*: 2;
/// wait, 3 stored -> drain 3.
fn nine_samples_traffic() -> Vec<I2c> {
    let mut t = lis_fifo_setup();
    t.extend([
        fifo_src(0x86), // WTM, 6 unread
        out_burst(1..=4),
        fifo_src(0x02),
        out_burst(5..=6),
        fifo_src(0x83),
        out_burst(7..=9),
    ]);
    t
}

/// Level waits the async form makes, `count` times.
fn waits_high(count: usize) -> Vec<Pin> {
    vec![Pin::wait_for_state(State::High); count]
}

/// Level reads the blocking form makes when the pin is already high, `count` times.
fn reads_high(count: usize) -> Vec<Pin> {
    vec![Pin::get(State::High); count]
}

#[test]
fn batches_hand_out_every_sample_once_in_order() {
    // The blocking form polls the level: the pin is low twice, then high.
    let polls =
        [Pin::get(State::Low), Pin::get(State::Low), Pin::get(State::High), Pin::get(State::High)];
    let got = both_modes_with_pin(
        &nine_samples_traffic(),
        &polls,
        &waits_high(2),
        nine_samples_sync,
        nine_samples_async,
    );
    assert_eq!(got.len(), 9);
    assert_sequence(&got, 1);
}

#[maybe_async_cfg::maybe(idents(new_i2c_async(sync = "new_i2c", async)), sync(), async())]
async fn nine_samples(bus: I2cMock, pin: PinMock) -> Vec<[f32; 3]> {
    let mut lis = Lis3dh::new_i2c_async(bus, LIS);
    lis.init().await.unwrap();
    lis.enable_fifo(FIFO).await.unwrap();
    let mut sensor: InterruptDriven<_, _, 4> = InterruptDriven::new(lis, pin);
    let mut got = Vec::new();
    for _ in 0..9 {
        got.push(sensor.read().await.unwrap());
    }
    assert_eq!(sensor.pending(), 0);
    got
}

#[test]
fn an_empty_redrain_after_a_full_queue_falls_back_to_waiting() {
    let mut t = lis_fifo_setup();
    t.extend([
        fifo_src(0x82),
        out_burst(1..=2), // fills the queue of 2
        fifo_src(0x20),   // re-drain without waiting: empty
        fifo_src(0x81),   // after the wait
        out_burst(3..=3),
    ]);
    let got = both_modes_with_pin(&t, &reads_high(2), &waits_high(2), redrain_sync, redrain_async);
    assert_sequence(&got, 1);
}

#[maybe_async_cfg::maybe(idents(new_i2c_async(sync = "new_i2c", async)), sync(), async())]
async fn redrain(bus: I2cMock, pin: PinMock) -> Vec<[f32; 3]> {
    let mut lis = Lis3dh::new_i2c_async(bus, LIS);
    lis.init().await.unwrap();
    lis.enable_fifo(FIFO).await.unwrap();
    let mut sensor: InterruptDriven<_, _, 2> = InterruptDriven::new(lis, pin);
    let mut got = Vec::new();
    for _ in 0..3 {
        got.push(sensor.read().await.unwrap());
    }
    got
}

#[test]
fn spurious_interrupt_pin_and_bus_errors_are_typed_and_recoverable() {
    let nack = I2cErrorKind::NoAcknowledge(NoAcknowledgeSource::Address);
    let pin_error = MockError::Io(std::io::ErrorKind::Other);
    let mut t = lis_fifo_setup();
    t.extend([
        fifo_src(0x20), // the pin fired but the FIFO is empty
        I2c::write_read(LIS, vec![0x2F], vec![0]).with_error(nack),
        fifo_src(0x01),
        out_burst(1..=1),
    ]);
    let polls = [
        Pin::get(State::High),
        Pin::get(State::High).with_error(pin_error.clone()),
        Pin::get(State::High),
        Pin::get(State::High),
    ];
    let waits = [
        Pin::wait_for_state(State::High),
        Pin::wait_for_state(State::High).with_error(pin_error),
        Pin::wait_for_state(State::High),
        Pin::wait_for_state(State::High),
    ];
    let last = both_modes_with_pin(&t, &polls, &waits, recovers_sync, recovers_async);
    assert_sequence(&[last], 1);
}

#[maybe_async_cfg::maybe(idents(new_i2c_async(sync = "new_i2c", async)), sync(), async())]
async fn recovers(bus: I2cMock, pin: PinMock) -> [f32; 3] {
    let pin_error = MockError::Io(std::io::ErrorKind::Other);
    let mut lis = Lis3dh::new_i2c_async(bus, LIS);
    lis.init().await.unwrap();
    lis.enable_fifo(FIFO).await.unwrap();
    let mut sensor: InterruptDriven<_, _, 8> = InterruptDriven::new(lis, pin);

    let error = sensor.read().await.unwrap_err();
    assert_eq!(error, InterruptError::NoData);
    assert_eq!(error.kind(), ErrorKind::NoData);

    let error = sensor.read().await.unwrap_err();
    assert_eq!(error, InterruptError::Pin(pin_error));
    assert_eq!(error.kind(), ErrorKind::Pin);

    let error = sensor.read().await.unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Bus);

    sensor.read().await.unwrap()
}

const ADXL: u8 = 0x53;

#[test]
fn adxl345_rising_edge_wakes_and_drains_entry_by_entry() {
    let mut t = vec![I2c::write_read(ADXL, vec![0x00], vec![0xE5])];
    let fifo_on = [
        (0x38, 0x42), // FIFO mode, 2 samples
        (0x2F, 0x02), // WATERMARK -> INT2
        (0x2E, 0x02),
    ];
    for (register, value) in ADXL345_INIT_WRITES.into_iter().chain(fifo_on) {
        t.push(I2c::write(ADXL, vec![register, value]));
    }
    t.push(I2c::write_read(ADXL, vec![0x39], vec![0x02]));
    t.push(I2c::write_read(ADXL, vec![0x32], vec![0x00, 0x01, 0, 0, 0, 0]));
    t.push(I2c::write_read(ADXL, vec![0x32], vec![0x80, 0x00, 0, 0, 0, 0]));
    // The blocking form polls for the level after the edge.
    let edge = [Pin::wait_for_edge(Edge::Rising)];
    both_modes_with_pin(&t, &reads_high(1), &edge, adxl_rising_edge_sync, adxl_rising_edge_async);
}

#[maybe_async_cfg::maybe(idents(new_i2c_async(sync = "new_i2c", async)), sync(), async())]
async fn adxl_rising_edge(bus: I2cMock, pin: PinMock) {
    let mut adxl = Adxl345::new_i2c_async(bus, ADXL);
    adxl.init().await.unwrap();
    adxl.enable_fifo(adxl345::FifoConfig {
        mode: adxl345::FifoMode::Fifo,
        watermark: 2,
        interrupt: Some(adxl345::InterruptPin::Int2),
    })
    .await
    .unwrap();
    let mut sensor: InterruptDriven<_, _, 33> =
        InterruptDriven::new(adxl, pin).with_trigger(Trigger::RisingEdge);
    assert_eq!(sensor.read().await.unwrap(), [G, 0.0, 0.0]);
    assert_eq!(sensor.pending(), 1);
    assert_eq!(sensor.read().await.unwrap(), [0.5 * G, 0.0, 0.0]);
}

#[test]
fn lis3dh_data_ready_pin_wakes_once_per_sample_without_fifo() {
    let mut t = lis_init();
    t.extend([
        I2c::write(LIS, vec![0x22, 0x10]),            // CTRL_REG3: I1_ZYXDA
        I2c::write_read(LIS, vec![0x27], vec![0x08]), // STATUS_REG: ZYXDA
        out_burst(1..=1),
        I2c::write_read(LIS, vec![0x27], vec![0x00]), // queue was full: re-check, nothing new
        I2c::write_read(LIS, vec![0x27], vec![0x0F]), // after the second wake-up
        out_burst(2..=2),
    ]);
    let got = both_modes_with_pin(
        &t,
        &reads_high(2),
        &waits_high(2),
        data_ready_wakes_sync,
        data_ready_wakes_async,
    );
    assert_sequence(&got, 1);
}

#[maybe_async_cfg::maybe(idents(new_i2c_async(sync = "new_i2c", async)), sync(), async())]
async fn data_ready_wakes(bus: I2cMock, pin: PinMock) -> [[f32; 3]; 2] {
    let mut lis = Lis3dh::new_i2c_async(bus, LIS);
    lis.init().await.unwrap();
    lis.enable_data_ready_interrupt().await.unwrap();
    let mut sensor: InterruptDriven<_, _, 1> = InterruptDriven::new(lis, pin);
    [sensor.read().await.unwrap(), sensor.read().await.unwrap()]
}
