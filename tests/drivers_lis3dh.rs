//! LIS3DH driver against embedded-hal-mock: the exact register traffic is the spec. Each case is
//! written once and run on the blocking and on the async driver over the same expected traffic
//! (`drivers_support::both_modes`).

mod drivers_support;

use drivers_support::{assert_close, both_modes, G, LIS3DH_INIT_WRITES};
use edge_reflex::drivers::lis3dh::{
    Config, DataRate, FifoConfig, FifoMode, Lis3dh, Mode, MotionInterrupt, Range,
};
use edge_reflex::drivers::{AsyncFifo, Axes, ConfigError, Error, ErrorKind, Fifo};
use edge_reflex::sensor::{AsyncSensor, Sensor};
use embedded_hal::i2c::{ErrorKind as I2cErrorKind, NoAcknowledgeSource};
use embedded_hal_mock::eh1::i2c::{Mock as I2cMock, Transaction as I2c};
use embedded_hal_mock::eh1::spi::{Mock as SpiMock, Transaction as Spi};

const ADDR: u8 = 0x18;

/// WHO_AM_I then the full register image for 100 Hz, ±2 g, high resolution, everything else off.
fn i2c_init() -> Vec<I2c> {
    i2c_init_at(ADDR)
}

/// [`i2c_init`] for the chip at `address`.
fn i2c_init_at(address: u8) -> Vec<I2c> {
    let mut t = vec![I2c::write_read(address, vec![0x0F], vec![0x33])];
    t.extend(
        LIS3DH_INIT_WRITES.map(|(register, value)| I2c::write(address, vec![register, value])),
    );
    t
}

fn with(mut first: Vec<I2c>, rest: &[I2c]) -> Vec<I2c> {
    first.extend_from_slice(rest);
    first
}

#[test]
fn init_checks_who_am_i_and_writes_every_owned_register() {
    both_modes(&i2c_init(), init_with_defaults_sync, init_with_defaults_async);
}

#[maybe_async_cfg::maybe(idents(new_i2c_async(sync = "new_i2c", async)), sync(), async())]
async fn init_with_defaults(bus: I2cMock) -> Config {
    let mut lis = Lis3dh::new_i2c_async(bus, ADDR);
    lis.init().await.unwrap();
    assert_eq!(lis.config(), Config::default());
    lis.config()
}

#[test]
fn init_with_config_encodes_rate_range_and_low_power() {
    let mut expected = i2c_init();
    expected[1] = I2c::write(ADDR, vec![0x20, 0x8F]); // ODR 1000b, LPen, XYZ
    expected[3] = I2c::write(ADDR, vec![0x23, 0xB0]); // BDU, FS=11, no HR
    both_modes(&expected, init_low_power_sync, init_low_power_async);
}

#[maybe_async_cfg::maybe(idents(new_i2c_async(sync = "new_i2c", async)), sync(), async())]
async fn init_low_power(bus: I2cMock) {
    let config =
        Config { data_rate: DataRate::LowPowerHz1600, range: Range::G16, mode: Mode::LowPower };
    let mut lis = Lis3dh::new_i2c_async(bus, ADDR).with_config(config);
    lis.init().await.unwrap();
    assert_eq!(lis.config(), config);
}

#[test]
fn wrong_who_am_i_is_a_typed_error_and_writes_nothing() {
    let expected = [I2c::write_read(ADDR, vec![0x0F], vec![0xE5])];
    both_modes(&expected, wrong_who_am_i_sync, wrong_who_am_i_async);
}

#[maybe_async_cfg::maybe(idents(new_i2c_async(sync = "new_i2c", async)), sync(), async())]
async fn wrong_who_am_i(bus: I2cMock) -> Error<I2cErrorKind> {
    let mut lis = Lis3dh::new_i2c_async(bus, ADDR);
    let error = lis.init().await.unwrap_err();
    assert_eq!(error, Error::WrongDevice { found: 0xE5 });
    assert_eq!(error.kind(), ErrorKind::WrongDevice);
    error
}

#[test]
fn nack_is_a_bus_error_not_a_panic() {
    let nack = I2cErrorKind::NoAcknowledge(NoAcknowledgeSource::Address);
    let expected = [
        I2c::write_read(ADDR, vec![0x0F], vec![0]).with_error(nack),
        I2c::write_read(ADDR, vec![0xA8], vec![0; 6]).with_error(nack),
    ];
    both_modes(&expected, bus_errors_sync, bus_errors_async);
}

#[maybe_async_cfg::maybe(idents(new_i2c_async(sync = "new_i2c", async)), sync(), async())]
async fn bus_errors(bus: I2cMock) {
    let nack = I2cErrorKind::NoAcknowledge(NoAcknowledgeSource::Address);
    let mut lis = Lis3dh::new_i2c_async(bus, ADDR);
    assert_eq!(lis.init().await, Err(Error::Bus(nack)));
    let error = lis.read().await.unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Bus);
}

#[test]
fn xyz_burst_read_uses_auto_increment_and_converts_to_si() {
    // X = 0x4010 -> 12-bit 1025 digits * 1 mg; Y = 0xFFF0 -> -1 digit; Z = 0x8000 -> -2048.
    let bytes = vec![0x10, 0x40, 0xF0, 0xFF, 0x00, 0x80];
    let expected = with(i2c_init(), &[I2c::write_read(ADDR, vec![0xA8], bytes)]);
    let sample = both_modes(&expected, read_one_sample_sync, read_one_sample_async);
    assert_close(sample, [1025.0 * G / 1000.0, -G / 1000.0, -2048.0 * G / 1000.0]);
}

#[maybe_async_cfg::maybe(idents(new_i2c_async(sync = "new_i2c", async)), sync(), async())]
async fn read_one_sample(bus: I2cMock) -> [f32; 3] {
    let mut lis = Lis3dh::new_i2c_async(bus, ADDR);
    lis.init().await.unwrap();
    lis.read().await.unwrap()
}

#[test]
fn setters_write_only_the_registers_that_change_and_rescale() {
    let expected = with(
        i2c_init(),
        &[
            I2c::write(ADDR, vec![0x23, 0xA0]), // set_config(G8, Normal): BDU | FS=10, HR off
            I2c::write(ADDR, vec![0x20, 0x37]), // set_data_rate(25 Hz)
            // 0x4010 >> 6 = 256 digits at 16 mg/digit (normal mode, ±8 g).
            I2c::write_read(ADDR, vec![0xA8], vec![0x10, 0x40, 0, 0, 0, 0]),
        ],
    );
    let sample = both_modes(&expected, setters_sync, setters_async);
    assert_close(sample, [256.0 * 16.0 * G / 1000.0, 0.0, 0.0]);
}

#[maybe_async_cfg::maybe(idents(new_i2c_async(sync = "new_i2c", async)), sync(), async())]
async fn setters(bus: I2cMock) -> [f32; 3] {
    let mut lis = Lis3dh::new_i2c_async(bus, ADDR);
    lis.init().await.unwrap();
    lis.set_config(Config { range: Range::G8, mode: Mode::Normal, ..lis.config() }).await.unwrap();
    lis.set_data_rate(DataRate::Hz25).await.unwrap();
    lis.set_range(Range::G8).await.unwrap(); // unchanged: no traffic
    lis.read_acceleration().await.unwrap()
}

#[test]
fn invalid_settings_are_refused_before_any_traffic() {
    both_modes(&i2c_init(), invalid_settings_sync, invalid_settings_async);
}

#[maybe_async_cfg::maybe(idents(new_i2c_async(sync = "new_i2c", async)), sync(), async())]
async fn invalid_settings(bus: I2cMock) {
    let mut lis = Lis3dh::new_i2c_async(bus, ADDR);
    lis.init().await.unwrap();
    let error = lis.set_data_rate(DataRate::LowPowerHz1600).await.unwrap_err();
    assert_eq!(error, Error::InvalidConfig(ConfigError::DataRateUnavailable));
    assert_eq!(error.kind(), ErrorKind::InvalidConfig);
    let nan =
        MotionInterrupt { threshold: f32::NAN, duration: 0, axes: Axes::ALL, high_pass: false };
    assert_eq!(
        lis.enable_motion_interrupt(nan).await,
        Err(Error::InvalidConfig(ConfigError::Threshold))
    );
    let fifo = FifoConfig { mode: FifoMode::Stream, watermark: 0, interrupt: true };
    assert_eq!(lis.enable_fifo(fifo).await, Err(Error::InvalidConfig(ConfigError::Watermark)));
    assert_eq!(lis.config(), Config::default());
    assert_eq!(lis.motion_interrupt(), None);
}

#[test]
fn motion_interrupt_and_fifo_watermark_program_int1() {
    let expected = with(
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
    );
    both_modes(&expected, motion_and_fifo_sync, motion_and_fifo_async);
}

#[maybe_async_cfg::maybe(idents(new_i2c_async(sync = "new_i2c", async)), sync(), async())]
async fn motion_and_fifo(bus: I2cMock) {
    let motion = MotionInterrupt {
        threshold: 0.5 * G, // 500 mg / 16 mg = 31.25 -> 31
        duration: 2,
        axes: Axes::ALL,
        high_pass: true,
    };
    let fifo = FifoConfig { mode: FifoMode::Stream, watermark: 16, interrupt: true };
    let mut lis = Lis3dh::new_i2c_async(bus, ADDR);
    lis.init().await.unwrap();
    lis.enable_motion_interrupt(motion).await.unwrap();
    lis.enable_fifo(fifo).await.unwrap();
    lis.set_range(Range::G4).await.unwrap();
    lis.disable_motion_interrupt().await.unwrap();
    assert_eq!(lis.fifo_config(), Some(fifo));
}

/// init, then `enable_fifo(stream, watermark 8, on INT1)`.
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

const FIFO: FifoConfig = FifoConfig { mode: FifoMode::Stream, watermark: 8, interrupt: true };

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
    let expected = with(
        fifo_on(),
        &[
            I2c::write_read(ADDR, vec![0x2F], vec![0x83]), // WTM, 3 unread
            I2c::write_read(ADDR, vec![0xA8], burst),      // 18 bytes, auto-increment
            I2c::write_read(ADDR, vec![0x2F], vec![0x20]), // EMPTY
        ],
    );
    let out = both_modes(&expected, drain_three_sync, drain_three_async);
    for (i, sample) in out.iter().take(3).enumerate() {
        let x = (i + 1) as f32 * G / 1000.0;
        assert_close(*sample, [x, -x, 0.0]);
    }
    assert_eq!(out[3], [0.0; 3]);
}

#[maybe_async_cfg::maybe(idents(new_i2c_async(sync = "new_i2c", async)), sync(), async())]
async fn drain_three(bus: I2cMock) -> [[f32; 3]; 8] {
    let mut lis = Lis3dh::new_i2c_async(bus, ADDR);
    lis.init().await.unwrap();
    lis.enable_fifo(FIFO).await.unwrap();
    let mut out = [[0.0f32; 3]; 8];
    assert_eq!(lis.drain_fifo(&mut out).await.unwrap(), 3);
    assert_eq!(lis.drain_fifo(&mut out[3..]).await.unwrap(), 0);
    out
}

#[test]
fn fifo_drain_is_limited_by_the_callers_buffer_and_overrun_means_full() {
    let burst: Vec<u8> = (1..=2).flat_map(sample_bytes).collect();
    let expected = with(
        fifo_on(),
        &[
            I2c::write_read(ADDR, vec![0x2F], vec![0xDF]), // WTM | OVRN | FSS=31: full (32)
            I2c::write_read(ADDR, vec![0xA8], burst),      // only 2 fit the buffer
            I2c::write_read(ADDR, vec![0x2F], vec![0x1E]), // 30 left
        ],
    );
    let out = both_modes(&expected, drain_into_two_sync, drain_into_two_async);
    assert_close(out[1], [2.0 * G / 1000.0, -2.0 * G / 1000.0, 0.0]);
}

#[maybe_async_cfg::maybe(idents(new_i2c_async(sync = "new_i2c", async)), sync(), async())]
async fn drain_into_two(bus: I2cMock) -> [[f32; 3]; 2] {
    let mut lis = Lis3dh::new_i2c_async(bus, ADDR);
    lis.init().await.unwrap();
    lis.enable_fifo(FIFO).await.unwrap();
    let mut out = [[0.0f32; 3]; 2];
    assert_eq!(lis.drain_fifo(&mut out).await.unwrap(), 2);
    assert_eq!(lis.fifo_len().await.unwrap(), 30);
    out
}

#[test]
fn drain_without_fifo_reads_one_sample_only_when_new_data_is_ready() {
    let expected = with(
        i2c_init(),
        &[
            I2c::write_read(ADDR, vec![0x27], vec![0x00]), // no ZYXDA
            I2c::write_read(ADDR, vec![0x27], vec![0x0F]), // ZYXDA
            I2c::write_read(ADDR, vec![0xA8], sample_bytes(7)),
        ],
    );
    let out = both_modes(&expected, drain_without_fifo_sync, drain_without_fifo_async);
    assert_close(out[0], [7.0 * G / 1000.0, -7.0 * G / 1000.0, 0.0]);
}

#[maybe_async_cfg::maybe(idents(new_i2c_async(sync = "new_i2c", async)), sync(), async())]
async fn drain_without_fifo(bus: I2cMock) -> [[f32; 3]; 4] {
    let mut lis = Lis3dh::new_i2c_async(bus, ADDR);
    lis.init().await.unwrap();
    let mut out = [[0.0f32; 3]; 4];
    assert_eq!(lis.drain_fifo(&mut out).await.unwrap(), 0);
    assert_eq!(lis.drain_fifo(&mut out).await.unwrap(), 1);
    out
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

/// WHO_AM_I (read bit set) then the default register image, over SPI.
fn spi_init() -> Vec<Spi<u8>> {
    let mut expected = spi_read(0x8F, vec![0x33]);
    for (register, value) in LIS3DH_INIT_WRITES {
        expected.extend(spi_write(register, value));
    }
    expected
}

#[test]
fn spi_init_and_burst_read_set_read_and_ms_bits() {
    let mut expected = spi_init();
    expected.extend(spi_read(0xE8, vec![0x00, 0x40, 0x00, 0x00, 0x00, 0xC0]));
    let sample = both_modes(&expected, spi_read_one_sync, spi_read_one_async);
    assert_close(sample, [1024.0 * G / 1000.0, 0.0, -1024.0 * G / 1000.0]);
}

#[maybe_async_cfg::maybe(idents(new_spi_async(sync = "new_spi", async)), sync(), async())]
async fn spi_read_one(bus: SpiMock<u8>) -> [f32; 3] {
    let mut lis = Lis3dh::new_spi_async(bus);
    lis.init().await.unwrap();
    lis.read().await.unwrap()
}

#[test]
fn spi_wrong_device_reports_found_value() {
    let error =
        both_modes(&spi_read(0x8F, vec![0xFF]), spi_wrong_device_sync, spi_wrong_device_async);
    assert_eq!(error, Error::WrongDevice { found: 0xFF });
}

#[maybe_async_cfg::maybe(idents(new_spi_async(sync = "new_spi", async)), sync(), async())]
async fn spi_wrong_device(bus: SpiMock<u8>) -> Error<embedded_hal::spi::ErrorKind> {
    let mut lis = Lis3dh::new_spi_async(bus);
    lis.init().await.unwrap_err()
}

// ---- The other I2C address (SA0 high), and the FIFO in FIFO mode over SPI ----

const ADDR_HIGH: u8 = 0x19;

#[test]
fn sa0_high_address_range_change_and_read() {
    let mut expected = i2c_init_at(ADDR_HIGH);
    expected.push(I2c::write(ADDR_HIGH, vec![0x23, 0x98])); // set_range(G4)
    expected.push(I2c::write_read(ADDR_HIGH, vec![0xA8], vec![0x00, 0x40, 0, 0, 0, 0]));
    let sample = both_modes(&expected, sa0_high_read_sync, sa0_high_read_async);
    // 0x4000 >> 4 = 1024 digits at 2 mg/digit (±4 g, high resolution) = 2048 mg.
    assert_close(sample, [2048.0 * G / 1000.0, 0.0, 0.0]);
}

#[maybe_async_cfg::maybe(idents(new_i2c_async(sync = "new_i2c", async)), sync(), async())]
async fn sa0_high_read(bus: I2cMock) -> [f32; 3] {
    let mut lis = Lis3dh::new_i2c_async(bus, ADDR_HIGH);
    lis.init().await.unwrap();
    lis.set_range(Range::G4).await.unwrap();
    lis.read().await.unwrap()
}

#[test]
fn sa0_high_wrong_device_then_nack() {
    let nack = I2cErrorKind::NoAcknowledge(NoAcknowledgeSource::Address);
    let expected = [
        I2c::write_read(ADDR_HIGH, vec![0x0F], vec![0x32]),
        I2c::write_read(ADDR_HIGH, vec![0xA8], vec![0; 6]).with_error(nack),
    ];
    both_modes(&expected, sa0_high_errors_sync, sa0_high_errors_async);
}

#[maybe_async_cfg::maybe(idents(new_i2c_async(sync = "new_i2c", async)), sync(), async())]
async fn sa0_high_errors(bus: I2cMock) {
    let nack = I2cErrorKind::NoAcknowledge(NoAcknowledgeSource::Address);
    let mut lis = Lis3dh::new_i2c_async(bus, ADDR_HIGH);
    assert_eq!(lis.init().await, Err(Error::WrongDevice { found: 0x32 }));
    let error = lis.read_acceleration().await.unwrap_err();
    assert_eq!(error, Error::Bus(nack));
    assert_eq!(error.kind(), ErrorKind::Bus);
}

#[test]
fn spi_fifo_mode_drain_is_one_burst() {
    let mut expected = spi_init();
    expected.extend(spi_write(0x24, 0x40)); // enable_fifo: FIFO_EN
    expected.extend(spi_write(0x2E, 0x41)); // FIFO mode, FTH = 1
    expected.extend(spi_read(0xAF, vec![0x02])); // FIFO_SRC_REG, single byte
    expected.extend(spi_read(0xE8, vec![0x00, 0x40, 0, 0, 0, 0, 0x00, 0xC0, 0, 0, 0, 0]));
    let out = both_modes(&expected, spi_fifo_mode_drain_sync, spi_fifo_mode_drain_async);
    assert_close(out[0], [G * 1024.0 / 1000.0, 0.0, 0.0]);
    assert_close(out[1], [-G * 1024.0 / 1000.0, 0.0, 0.0]);
}

#[maybe_async_cfg::maybe(
    idents(new_spi_async(sync = "new_spi", async), AsyncFifo(sync = "Fifo", async)),
    sync(),
    async()
)]
async fn spi_fifo_mode_drain(bus: SpiMock<u8>) -> [[f32; 3]; 32] {
    let mut lis = Lis3dh::new_spi_async(bus);
    lis.init().await.unwrap();
    let fifo = FifoConfig { mode: FifoMode::Fifo, watermark: 1, interrupt: false };
    lis.enable_fifo(fifo).await.unwrap();
    let mut out = [[0.0f32; 3]; 32];
    // Through the trait `InterruptDriven` uses.
    assert_eq!(AsyncFifo::drain_fifo(&mut lis, &mut out).await.unwrap(), 2);
    out
}
