//! ADXL345 blocking driver against embedded-hal-mock: the exact register traffic is the spec.

mod drivers_support;

use drivers_support::{assert_close, G};
use edge_reflex::drivers::adxl345::{
    ActivityInterrupt, Adxl345, Config, DataRate, Error, FifoConfig, FifoMode, InterruptPin,
    PowerMode, Range, Resolution,
};
use edge_reflex::drivers::{Axes, ConfigError, ErrorKind};
use edge_reflex::sensor::Sensor;
use embedded_hal::i2c::{ErrorKind as I2cErrorKind, NoAcknowledgeSource};
use embedded_hal_mock::eh1::i2c::{Mock as I2cMock, Transaction as I2c};
use embedded_hal_mock::eh1::spi::{Mock as SpiMock, Transaction as Spi};

const ADDR: u8 = 0x53;

/// DEVID, standby, then the full register image for 100 Hz, ±2 g, full resolution, measuring.
fn i2c_init() -> Vec<I2c> {
    vec![
        I2c::write_read(ADDR, vec![0x00], vec![0xE5]),
        I2c::write(ADDR, vec![0x2D, 0x00]), // POWER_CTL: standby while configuring
        I2c::write(ADDR, vec![0x31, 0x08]), // DATA_FORMAT: FULL_RES, ±2 g
        I2c::write(ADDR, vec![0x2C, 0x0A]), // BW_RATE: 100 Hz
        I2c::write(ADDR, vec![0x24, 0x00]), // THRESH_ACT
        I2c::write(ADDR, vec![0x27, 0x00]), // ACT_INACT_CTL
        I2c::write(ADDR, vec![0x38, 0x00]), // FIFO_CTL: bypass
        I2c::write(ADDR, vec![0x2F, 0x00]), // INT_MAP
        I2c::write(ADDR, vec![0x2E, 0x00]), // INT_ENABLE
        I2c::write(ADDR, vec![0x2D, 0x08]), // POWER_CTL: measure
    ]
}

fn with(mut first: Vec<I2c>, rest: &[I2c]) -> Vec<I2c> {
    first.extend_from_slice(rest);
    first
}

/// Six data bytes for X = `x` counts, Y = -`x`, Z = 0 (right-justified).
fn sample_bytes(x: i16) -> Vec<u8> {
    let mut bytes = x.to_le_bytes().to_vec();
    bytes.extend_from_slice(&(-x).to_le_bytes());
    bytes.extend_from_slice(&[0, 0]);
    bytes
}

#[test]
fn init_checks_devid_and_writes_every_owned_register() {
    let mut adxl = Adxl345::new_i2c(I2cMock::new(&i2c_init()), ADDR);
    adxl.init().unwrap();
    assert_eq!(adxl.config(), Config::default());
    adxl.destroy().done();
}

#[test]
fn init_with_config_encodes_rate_range_resolution_and_power() {
    let config = Config {
        data_rate: DataRate::Hz400,
        range: Range::G16,
        resolution: Resolution::TenBit,
        power: PowerMode::LowPower,
    };
    let mut expected = i2c_init();
    expected[2] = I2c::write(ADDR, vec![0x31, 0x03]); // 10-bit, ±16 g
    expected[3] = I2c::write(ADDR, vec![0x2C, 0x1C]); // LOW_POWER | 400 Hz
    let mut adxl = Adxl345::new_i2c(I2cMock::new(&expected), ADDR).with_config(config);
    adxl.init().unwrap();
    adxl.destroy().done();
}

#[test]
fn wrong_devid_is_a_typed_error_and_writes_nothing() {
    let mut adxl =
        Adxl345::new_i2c(I2cMock::new(&[I2c::write_read(ADDR, vec![0x00], vec![0x33])]), ADDR);
    let error = adxl.init().unwrap_err();
    assert_eq!(error, Error::WrongDevice { found: 0x33 });
    assert_eq!(error.kind(), ErrorKind::WrongDevice);
    adxl.destroy().done();
}

#[test]
fn nack_is_a_bus_error_not_a_panic() {
    let nack = I2cErrorKind::NoAcknowledge(NoAcknowledgeSource::Data);
    let mut adxl = Adxl345::new_i2c(
        I2cMock::new(&[
            I2c::write_read(ADDR, vec![0x00], vec![0xE5]),
            I2c::write(ADDR, vec![0x2D, 0x00]).with_error(nack),
            I2c::write_read(ADDR, vec![0x32], vec![0; 6]).with_error(nack),
        ]),
        ADDR,
    );
    assert_eq!(adxl.init(), Err(Error::Bus(nack)));
    assert_eq!(adxl.read().unwrap_err().kind(), ErrorKind::Bus);
    adxl.destroy().done();
}

#[test]
fn xyz_burst_read_converts_full_resolution_counts_to_si() {
    // Full resolution: 256 LSB/g. X = 256 -> 1 g, Y = -128 -> -0.5 g, Z = 1 -> 1/256 g.
    let bytes = vec![0x00, 0x01, 0x80, 0xFF, 0x01, 0x00];
    let mock = I2cMock::new(&with(i2c_init(), &[I2c::write_read(ADDR, vec![0x32], bytes)]));
    let mut adxl = Adxl345::new_i2c(mock, ADDR);
    adxl.init().unwrap();
    assert_close(adxl.read().unwrap(), [G, -0.5 * G, G / 256.0]);
    adxl.destroy().done();
}

#[test]
fn ten_bit_range_changes_the_scale_and_setters_write_only_changes() {
    let mock = I2cMock::new(&with(
        i2c_init(),
        &[
            I2c::write(ADDR, vec![0x31, 0x03]), // set_config: 10-bit ±16 g
            I2c::write(ADDR, vec![0x2C, 0x0D]), // set_data_rate(800 Hz)
            // 32 LSB/g at ±16 g 10-bit: 64 counts = 2 g.
            I2c::write_read(ADDR, vec![0x32], sample_bytes(64)),
        ],
    ));
    let mut adxl = Adxl345::new_i2c(mock, ADDR);
    adxl.init().unwrap();
    adxl.set_config(Config { range: Range::G16, resolution: Resolution::TenBit, ..adxl.config() })
        .unwrap();
    adxl.set_data_rate(DataRate::Hz800).unwrap();
    adxl.set_range(Range::G16).unwrap(); // unchanged: no traffic
    assert_close(adxl.read_acceleration().unwrap(), [2.0 * G, -2.0 * G, 0.0]);
    adxl.destroy().done();
}

#[test]
fn low_power_above_400hz_and_zero_activity_threshold_are_config_errors() {
    // An empty mock: any bus access would fail the test.
    let mut adxl = Adxl345::new_i2c(I2cMock::new(&[]), ADDR).with_config(Config {
        data_rate: DataRate::Hz800,
        power: PowerMode::LowPower,
        ..Config::default()
    });
    let error = adxl.init().unwrap_err();
    assert_eq!(error, Error::InvalidConfig(ConfigError::DataRateUnavailable));
    assert_eq!(error.kind(), ErrorKind::InvalidConfig);
    adxl.destroy().done();

    let mut adxl = Adxl345::new_i2c(I2cMock::new(&i2c_init()), ADDR);
    adxl.init().unwrap();
    let activity = ActivityInterrupt {
        threshold: 0.0,
        axes: Axes::ALL,
        ac_coupled: false,
        pin: InterruptPin::Int1,
    };
    assert_eq!(
        adxl.enable_activity_interrupt(activity),
        Err(Error::InvalidConfig(ConfigError::Threshold))
    );
    let fifo = FifoConfig { mode: FifoMode::Stream, watermark: 32, interrupt: None };
    assert_eq!(adxl.enable_fifo(fifo), Err(Error::InvalidConfig(ConfigError::Watermark)));
    assert_eq!(adxl.activity_interrupt(), None);
    assert_eq!(adxl.fifo_config(), None);
    adxl.destroy().done();
}

const ACTIVITY: ActivityInterrupt = ActivityInterrupt {
    threshold: 0.25 * G, // 250 mg / 62.5 mg = 4
    axes: Axes::ALL,
    ac_coupled: true,
    pin: InterruptPin::Int2,
};

const FIFO: FifoConfig =
    FifoConfig { mode: FifoMode::Stream, watermark: 16, interrupt: Some(InterruptPin::Int1) };

fn activity_and_fifo_on() -> Vec<I2c> {
    with(
        i2c_init(),
        &[
            I2c::write(ADDR, vec![0x24, 0x04]), // THRESH_ACT = 4
            I2c::write(ADDR, vec![0x27, 0xF0]), // ACT_INACT_CTL: ac, X, Y, Z
            I2c::write(ADDR, vec![0x2F, 0x10]), // INT_MAP: ACTIVITY -> INT2
            I2c::write(ADDR, vec![0x2E, 0x10]), // INT_ENABLE: ACTIVITY
            I2c::write(ADDR, vec![0x38, 0x90]), // FIFO_CTL: stream, 16 samples
            I2c::write(ADDR, vec![0x2E, 0x12]), // INT_ENABLE: ACTIVITY | WATERMARK (on INT1)
        ],
    )
}

#[test]
fn activity_and_watermark_interrupts_program_map_then_enable() {
    let mock = I2cMock::new(&with(
        activity_and_fifo_on(),
        &[
            I2c::write(ADDR, vec![0x24, 0x00]), // disable activity
            I2c::write(ADDR, vec![0x27, 0x00]),
            I2c::write(ADDR, vec![0x2F, 0x00]),
            I2c::write(ADDR, vec![0x2E, 0x02]),
        ],
    ));
    let mut adxl = Adxl345::new_i2c(mock, ADDR);
    adxl.init().unwrap();
    adxl.enable_activity_interrupt(ACTIVITY).unwrap();
    adxl.enable_fifo(FIFO).unwrap();
    adxl.disable_activity_interrupt().unwrap();
    assert_eq!(adxl.fifo_config(), Some(FIFO));
    adxl.destroy().done();
}

#[test]
fn fifo_drain_clears_activity_then_pops_one_entry_per_six_byte_read() {
    let mock = I2cMock::new(&with(
        activity_and_fifo_on(),
        &[
            I2c::write_read(ADDR, vec![0x30], vec![0x12]), // INT_SOURCE: activity, watermark
            I2c::write_read(ADDR, vec![0x39], vec![0x03]), // FIFO_STATUS: 3 entries
            I2c::write_read(ADDR, vec![0x32], sample_bytes(10)),
            I2c::write_read(ADDR, vec![0x32], sample_bytes(20)),
            I2c::write_read(ADDR, vec![0x32], sample_bytes(30)),
        ],
    ));
    let mut adxl = Adxl345::new_i2c(mock, ADDR);
    adxl.init().unwrap();
    adxl.enable_activity_interrupt(ACTIVITY).unwrap();
    adxl.enable_fifo(FIFO).unwrap();
    let mut out = [[0.0f32; 3]; 33];
    assert_eq!(adxl.drain_fifo(&mut out).unwrap(), 3);
    for (i, sample) in out.iter().take(3).enumerate() {
        let x = 10.0 * (i + 1) as f32 * G / 256.0;
        assert_close(*sample, [x, -x, 0.0]);
    }
    adxl.destroy().done();
}

#[test]
fn fifo_drain_keeps_popped_samples_when_the_bus_fails_midway() {
    let nack = I2cErrorKind::NoAcknowledge(NoAcknowledgeSource::Address);
    let mock = I2cMock::new(&with(
        i2c_init(),
        &[
            I2c::write(ADDR, vec![0x38, 0x90]),
            I2c::write(ADDR, vec![0x2E, 0x02]),
            I2c::write_read(ADDR, vec![0x39], vec![0x83]), // trigger bit ignored: 3 entries
            I2c::write_read(ADDR, vec![0x32], sample_bytes(5)),
            I2c::write_read(ADDR, vec![0x32], vec![0; 6]).with_error(nack),
            I2c::write_read(ADDR, vec![0x39], vec![0]).with_error(nack),
        ],
    ));
    let mut adxl = Adxl345::new_i2c(mock, ADDR);
    adxl.init().unwrap();
    adxl.enable_fifo(FIFO).unwrap();
    let mut out = [[0.0f32; 3]; 8];
    assert_eq!(adxl.drain_fifo(&mut out).unwrap(), 1);
    assert_close(out[0], [5.0 * G / 256.0, -5.0 * G / 256.0, 0.0]);
    assert_eq!(adxl.drain_fifo(&mut out), Err(Error::Bus(nack)));
    adxl.destroy().done();
}

#[test]
fn drain_without_fifo_reads_a_sample_only_on_data_ready() {
    let mock = I2cMock::new(&with(
        i2c_init(),
        &[
            I2c::write_read(ADDR, vec![0x30], vec![0x00]),
            I2c::write_read(ADDR, vec![0x30], vec![0x80]), // DATA_READY
            I2c::write_read(ADDR, vec![0x32], sample_bytes(-3)),
        ],
    ));
    let mut adxl = Adxl345::new_i2c(mock, ADDR);
    adxl.init().unwrap();
    let mut out = [[0.0f32; 3]; 2];
    assert_eq!(adxl.drain_fifo(&mut out).unwrap(), 0);
    assert_eq!(adxl.drain_fifo(&mut out).unwrap(), 1);
    assert_close(out[0], [-3.0 * G / 256.0, 3.0 * G / 256.0, 0.0]);
    adxl.destroy().done();
}

// ---- SPI: read bit 0x80, multi-byte bit 0x40, 5 µs gap before every read ----

fn spi_read(sub_address: u8, response: Vec<u8>) -> Vec<Spi<u8>> {
    vec![
        Spi::transaction_start(),
        Spi::delay(5_000),
        Spi::write_vec(vec![sub_address]),
        Spi::read_vec(response),
        Spi::transaction_end(),
    ]
}

#[test]
fn spi_init_fifo_drain_sets_read_and_multibyte_bits_with_pop_delay() {
    let mut expected = spi_read(0x80, vec![0xE5]);
    for (register, value) in [
        (0x2D, 0x00),
        (0x31, 0x08),
        (0x2C, 0x0A),
        (0x24, 0),
        (0x27, 0),
        (0x38, 0),
        (0x2F, 0),
        (0x2E, 0),
        (0x2D, 0x08),
        (0x38, 0x90),
        (0x2E, 0x02),
    ] {
        expected.extend([
            Spi::transaction_start(),
            Spi::write_vec(vec![register, value]),
            Spi::transaction_end(),
        ]);
    }
    expected.extend(spi_read(0xB9, vec![2])); // FIFO_STATUS, single byte: no MB bit
    expected.extend(spi_read(0xF2, sample_bytes(256)));
    expected.extend(spi_read(0xF2, sample_bytes(-256)));
    let mut adxl = Adxl345::new_spi(SpiMock::new(&expected));
    adxl.init().unwrap();
    adxl.enable_fifo(FIFO).unwrap();
    let mut out = [[0.0f32; 3]; 4];
    assert_eq!(adxl.drain_fifo(&mut out).unwrap(), 2);
    assert_close(out[0], [G, -G, 0.0]);
    assert_close(out[1], [-G, G, 0.0]);
    adxl.destroy().done();
}

#[test]
fn data_ready_interrupt_maps_then_enables() {
    let mock = I2cMock::new(&with(
        i2c_init(),
        &[
            I2c::write(ADDR, vec![0x2F, 0x80]), // INT_MAP: DATA_READY -> INT2
            I2c::write(ADDR, vec![0x2E, 0x80]), // INT_ENABLE: DATA_READY
            I2c::write(ADDR, vec![0x2F, 0x00]),
            I2c::write(ADDR, vec![0x2E, 0x00]),
        ],
    ));
    let mut adxl = Adxl345::new_i2c(mock, ADDR);
    adxl.init().unwrap();
    adxl.enable_data_ready_interrupt(InterruptPin::Int2).unwrap();
    adxl.disable_data_ready_interrupt().unwrap();
    adxl.destroy().done();
}
