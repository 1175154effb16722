//! LIS3DH blocking driver against embedded-hal-mock: the exact register traffic is the spec.

mod drivers_support;

use drivers_support::{assert_close, G};
use edge_reflex::drivers::lis3dh::{
    Config, DataRate, Error, FifoConfig, FifoMode, Lis3dh, Mode, MotionInterrupt, Range,
};
use edge_reflex::drivers::{Axes, ConfigError, ErrorKind};
use edge_reflex::sensor::Sensor;
use embedded_hal::i2c::{ErrorKind as I2cErrorKind, NoAcknowledgeSource};
use embedded_hal_mock::eh1::i2c::{Mock as I2cMock, Transaction as I2c};
use embedded_hal_mock::eh1::spi::{Mock as SpiMock, Transaction as Spi};

const ADDR: u8 = 0x18;

/// WHO_AM_I then the full register image for 100 Hz, ±2 g, high resolution, everything else off.
fn i2c_init() -> Vec<I2c> {
    vec![
        I2c::write_read(ADDR, vec![0x0F], vec![0x33]),
        I2c::write(ADDR, vec![0x20, 0x57]), // CTRL_REG1: ODR 100 Hz, XYZ on
        I2c::write(ADDR, vec![0x21, 0x00]), // CTRL_REG2: no high-pass
        I2c::write(ADDR, vec![0x23, 0x88]), // CTRL_REG4: BDU, ±2 g, HR
        I2c::write(ADDR, vec![0x24, 0x00]), // CTRL_REG5: FIFO off
        I2c::write(ADDR, vec![0x25, 0x00]), // CTRL_REG6
        I2c::write(ADDR, vec![0x2E, 0x00]), // FIFO_CTRL_REG: bypass
        I2c::write(ADDR, vec![0x32, 0x00]), // INT1_THS
        I2c::write(ADDR, vec![0x33, 0x00]), // INT1_DURATION
        I2c::write(ADDR, vec![0x30, 0x00]), // INT1_CFG
        I2c::write(ADDR, vec![0x22, 0x00]), // CTRL_REG3: nothing on INT1
    ]
}

fn with(mut first: Vec<I2c>, rest: &[I2c]) -> Vec<I2c> {
    first.extend_from_slice(rest);
    first
}

#[test]
fn init_checks_who_am_i_and_writes_every_owned_register() {
    let mut lis = Lis3dh::new_i2c(I2cMock::new(&i2c_init()), ADDR);
    lis.init().unwrap();
    assert_eq!(lis.config(), Config::default());
    lis.destroy().done();
}

#[test]
fn init_with_config_encodes_rate_range_and_low_power() {
    let config =
        Config { data_rate: DataRate::LowPowerHz1600, range: Range::G16, mode: Mode::LowPower };
    let mut expected = i2c_init();
    expected[1] = I2c::write(ADDR, vec![0x20, 0x8F]); // ODR 1000b, LPen, XYZ
    expected[3] = I2c::write(ADDR, vec![0x23, 0xB0]); // BDU, FS=11, no HR
    let mut lis = Lis3dh::new_i2c(I2cMock::new(&expected), ADDR).with_config(config);
    lis.init().unwrap();
    lis.destroy().done();
}

#[test]
fn wrong_who_am_i_is_a_typed_error_and_writes_nothing() {
    let mut lis =
        Lis3dh::new_i2c(I2cMock::new(&[I2c::write_read(ADDR, vec![0x0F], vec![0xE5])]), ADDR);
    let error = lis.init().unwrap_err();
    assert_eq!(error, Error::WrongDevice { found: 0xE5 });
    assert_eq!(error.kind(), ErrorKind::WrongDevice);
    lis.destroy().done();
}

#[test]
fn nack_is_a_bus_error_not_a_panic() {
    let nack = I2cErrorKind::NoAcknowledge(NoAcknowledgeSource::Address);
    let mut lis = Lis3dh::new_i2c(
        I2cMock::new(&[
            I2c::write_read(ADDR, vec![0x0F], vec![0]).with_error(nack),
            I2c::write_read(ADDR, vec![0xA8], vec![0; 6]).with_error(nack),
        ]),
        ADDR,
    );
    assert_eq!(lis.init(), Err(Error::Bus(nack)));
    let error = lis.read().unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Bus);
    lis.destroy().done();
}

#[test]
fn xyz_burst_read_uses_auto_increment_and_converts_to_si() {
    // X = 0x4010 -> 12-bit 1025 digits * 1 mg; Y = 0xFFF0 -> -1 digit; Z = 0x8000 -> -2048.
    let bytes = vec![0x10, 0x40, 0xF0, 0xFF, 0x00, 0x80];
    let mock = I2cMock::new(&with(i2c_init(), &[I2c::write_read(ADDR, vec![0xA8], bytes)]));
    let mut lis = Lis3dh::new_i2c(mock, ADDR);
    lis.init().unwrap();
    let sample = lis.read().unwrap();
    assert_close(sample, [1025.0 * G / 1000.0, -G / 1000.0, -2048.0 * G / 1000.0]);
    lis.destroy().done();
}

#[test]
fn setters_write_only_the_registers_that_change_and_rescale() {
    let mock = I2cMock::new(&with(
        i2c_init(),
        &[
            I2c::write(ADDR, vec![0x23, 0xA0]), // set_config(G8, Normal): BDU | FS=10, HR off
            I2c::write(ADDR, vec![0x20, 0x37]), // set_data_rate(25 Hz)
            // 0x4010 >> 6 = 256 digits at 16 mg/digit (normal mode, ±8 g).
            I2c::write_read(ADDR, vec![0xA8], vec![0x10, 0x40, 0, 0, 0, 0]),
        ],
    ));
    let mut lis = Lis3dh::new_i2c(mock, ADDR);
    lis.init().unwrap();
    lis.set_config(Config { range: Range::G8, mode: Mode::Normal, ..lis.config() }).unwrap();
    lis.set_data_rate(DataRate::Hz25).unwrap();
    lis.set_range(Range::G8).unwrap(); // unchanged: no traffic
    assert_close(lis.read_acceleration().unwrap(), [256.0 * 16.0 * G / 1000.0, 0.0, 0.0]);
    lis.destroy().done();
}

#[test]
fn invalid_settings_are_refused_before_any_traffic() {
    let mut lis = Lis3dh::new_i2c(I2cMock::new(&i2c_init()), ADDR);
    lis.init().unwrap();
    let error = lis.set_data_rate(DataRate::LowPowerHz1600).unwrap_err();
    assert_eq!(error, Error::InvalidConfig(ConfigError::DataRateUnavailable));
    assert_eq!(error.kind(), ErrorKind::InvalidConfig);
    let nan =
        MotionInterrupt { threshold: f32::NAN, duration: 0, axes: Axes::ALL, high_pass: false };
    assert_eq!(lis.enable_motion_interrupt(nan), Err(Error::InvalidConfig(ConfigError::Threshold)));
    let fifo = FifoConfig { mode: FifoMode::Stream, watermark: 0, interrupt: true };
    assert_eq!(lis.enable_fifo(fifo), Err(Error::InvalidConfig(ConfigError::Watermark)));
    assert_eq!(lis.config(), Config::default());
    assert_eq!(lis.motion_interrupt(), None);
    lis.destroy().done();
}

#[test]
fn motion_interrupt_and_fifo_watermark_program_int1() {
    let motion = MotionInterrupt {
        threshold: 0.5 * G, // 500 mg / 16 mg = 31.25 -> 31
        duration: 2,
        axes: Axes::ALL,
        high_pass: true,
    };
    let fifo = FifoConfig { mode: FifoMode::Stream, watermark: 16, interrupt: true };
    let mock = I2cMock::new(&with(
        i2c_init(),
        &[
            I2c::write(ADDR, vec![0x21, 0x01]), // CTRL_REG2: HP_IA1
            I2c::write(ADDR, vec![0x32, 0x1F]), // INT1_THS = 31
            I2c::write(ADDR, vec![0x33, 0x02]), // INT1_DURATION = 2
            I2c::write(ADDR, vec![0x30, 0x2A]), // INT1_CFG: OR of XH, YH, ZH
            I2c::write(ADDR, vec![0x22, 0x40]), // CTRL_REG3: I1_IA1
            I2c::write(ADDR, vec![0x24, 0x40]), // CTRL_REG5: FIFO_EN
            I2c::write(ADDR, vec![0x2E, 0x90]), // FIFO_CTRL_REG: stream, FTH = 16
            I2c::write(ADDR, vec![0x22, 0x44]), // CTRL_REG3: I1_IA1 | I1_WTM
            I2c::write(ADDR, vec![0x23, 0x98]), // set_range(G4): FS=01
            I2c::write(ADDR, vec![0x32, 0x10]), // threshold re-encoded: 500 mg / 32 mg = 15.6 -> 16
            I2c::write(ADDR, vec![0x21, 0x00]), // disable motion: HP off
            I2c::write(ADDR, vec![0x32, 0x00]),
            I2c::write(ADDR, vec![0x33, 0x00]),
            I2c::write(ADDR, vec![0x30, 0x00]),
            I2c::write(ADDR, vec![0x22, 0x04]), // only the watermark stays on INT1
        ],
    ));
    let mut lis = Lis3dh::new_i2c(mock, ADDR);
    lis.init().unwrap();
    lis.enable_motion_interrupt(motion).unwrap();
    lis.enable_fifo(fifo).unwrap();
    lis.set_range(Range::G4).unwrap();
    lis.disable_motion_interrupt().unwrap();
    assert_eq!(lis.fifo_config(), Some(fifo));
    lis.destroy().done();
}

fn fifo_on() -> Vec<I2c> {
    with(
        i2c_init(),
        &[
            I2c::write(ADDR, vec![0x24, 0x40]),
            I2c::write(ADDR, vec![0x2E, 0x88]), // stream, FTH = 8
            I2c::write(ADDR, vec![0x22, 0x04]),
        ],
    )
}

fn enable_fifo<I2C: embedded_hal::i2c::I2c>(
    lis: &mut Lis3dh<edge_reflex::drivers::I2cInterface<I2C>>,
) {
    lis.init().unwrap();
    lis.enable_fifo(FifoConfig { mode: FifoMode::Stream, watermark: 8, interrupt: true }).unwrap();
}

/// Six bytes of one sample whose X is `x` 12-bit digits (left-justified), Y = -x, Z = 0.
fn sample_bytes(x: i16) -> Vec<u8> {
    let raw = x << 4;
    let neg = (-x) << 4;
    let mut bytes = raw.to_le_bytes().to_vec();
    bytes.extend_from_slice(&neg.to_le_bytes());
    bytes.extend_from_slice(&[0, 0]);
    bytes
}

#[test]
fn fifo_drain_reads_status_then_all_samples_in_one_burst() {
    let burst: Vec<u8> = (1..=3).flat_map(sample_bytes).collect();
    let mock = I2cMock::new(&with(
        fifo_on(),
        &[
            I2c::write_read(ADDR, vec![0x2F], vec![0x83]), // WTM, 3 unread
            I2c::write_read(ADDR, vec![0xA8], burst),      // 18 bytes, auto-increment
            I2c::write_read(ADDR, vec![0x2F], vec![0x20]), // EMPTY
        ],
    ));
    let mut lis = Lis3dh::new_i2c(mock, ADDR);
    enable_fifo(&mut lis);
    let mut out = [[0.0f32; 3]; 8];
    assert_eq!(lis.drain_fifo(&mut out).unwrap(), 3);
    for (i, sample) in out.iter().take(3).enumerate() {
        let x = (i + 1) as f32 * G / 1000.0;
        assert_close(*sample, [x, -x, 0.0]);
    }
    assert_eq!(out[3], [0.0; 3]);
    assert_eq!(lis.drain_fifo(&mut out).unwrap(), 0);
    lis.destroy().done();
}

#[test]
fn fifo_drain_is_limited_by_the_callers_buffer_and_overrun_means_full() {
    let burst: Vec<u8> = (1..=2).flat_map(sample_bytes).collect();
    let mock = I2cMock::new(&with(
        fifo_on(),
        &[
            I2c::write_read(ADDR, vec![0x2F], vec![0xDF]), // WTM | OVRN | FSS=31: full (32)
            I2c::write_read(ADDR, vec![0xA8], burst),      // only 2 fit the buffer
            I2c::write_read(ADDR, vec![0x2F], vec![0x1E]), // 30 left
        ],
    ));
    let mut lis = Lis3dh::new_i2c(mock, ADDR);
    enable_fifo(&mut lis);
    let mut out = [[0.0f32; 3]; 2];
    assert_eq!(lis.drain_fifo(&mut out).unwrap(), 2);
    assert_close(out[1], [2.0 * G / 1000.0, -2.0 * G / 1000.0, 0.0]);
    assert_eq!(lis.fifo_len().unwrap(), 30);
    lis.destroy().done();
}

#[test]
fn drain_without_fifo_reads_one_sample_only_when_new_data_is_ready() {
    let mock = I2cMock::new(&with(
        i2c_init(),
        &[
            I2c::write_read(ADDR, vec![0x27], vec![0x00]), // no ZYXDA
            I2c::write_read(ADDR, vec![0x27], vec![0x0F]), // ZYXDA
            I2c::write_read(ADDR, vec![0xA8], sample_bytes(7)),
        ],
    ));
    let mut lis = Lis3dh::new_i2c(mock, ADDR);
    lis.init().unwrap();
    let mut out = [[0.0f32; 3]; 4];
    assert_eq!(lis.drain_fifo(&mut out).unwrap(), 0);
    assert_eq!(lis.drain_fifo(&mut out).unwrap(), 1);
    assert_close(out[0], [7.0 * G / 1000.0, -7.0 * G / 1000.0, 0.0]);
    lis.destroy().done();
}

// ---- SPI: read bit 0x80, auto-increment (MS) bit 0x40, one transaction per access ----

fn spi_write(register: u8, value: u8) -> Vec<Spi<u8>> {
    vec![Spi::transaction_start(), Spi::write_vec(vec![register, value]), Spi::transaction_end()]
}

fn spi_read(sub_address: u8, response: Vec<u8>) -> Vec<Spi<u8>> {
    vec![
        Spi::transaction_start(),
        Spi::write_vec(vec![sub_address]),
        Spi::read_vec(response),
        Spi::transaction_end(),
    ]
}

#[test]
fn spi_init_and_burst_read_set_read_and_ms_bits() {
    let mut expected = spi_read(0x8F, vec![0x33]);
    for (register, value) in [
        (0x20, 0x57),
        (0x21, 0),
        (0x23, 0x88),
        (0x24, 0),
        (0x25, 0),
        (0x2E, 0),
        (0x32, 0),
        (0x33, 0),
        (0x30, 0),
        (0x22, 0),
    ] {
        expected.extend(spi_write(register, value));
    }
    expected.extend(spi_read(0xE8, vec![0x00, 0x40, 0x00, 0x00, 0x00, 0xC0]));
    let mut lis = Lis3dh::new_spi(SpiMock::new(&expected));
    lis.init().unwrap();
    assert_close(lis.read().unwrap(), [1024.0 * G / 1000.0, 0.0, -1024.0 * G / 1000.0]);
    lis.destroy().done();
}

#[test]
fn spi_wrong_device_reports_found_value() {
    let mut lis = Lis3dh::new_spi(SpiMock::new(&spi_read(0x8F, vec![0xFF])));
    assert_eq!(lis.init(), Err(Error::WrongDevice { found: 0xFF }));
    lis.destroy().done();
}
