//! ADXL345 driver against embedded-hal-mock: the exact register traffic is the spec. Each case is
//! written once and run on the blocking and on the async driver over the same expected traffic
//! (`drivers_support::both_modes`).

mod drivers_support;

use drivers_support::{assert_close, both_modes, ADXL345_INIT_WRITES, G};
use edge_reflex::drivers::adxl345::{
    ActivityInterrupt, Adxl345, Config, DataRate, FifoConfig, FifoMode, InterruptPin, PowerMode,
    Range, Resolution,
};
use edge_reflex::drivers::{Axes, ConfigError, Error, ErrorKind};
use edge_reflex::sensor::{AsyncSensor, Sensor};
use embedded_hal::i2c::{ErrorKind as I2cErrorKind, NoAcknowledgeSource};
use embedded_hal_mock::eh1::i2c::{Mock as I2cMock, Transaction as I2c};
use embedded_hal_mock::eh1::spi::{Mock as SpiMock, Transaction as Spi};

const ADDR: u8 = 0x53;

/// DEVID, standby, then the full register image for 100 Hz, ±2 g, full resolution, measuring.
fn i2c_init() -> Vec<I2c> {
    i2c_init_at(ADDR)
}

/// [`i2c_init`] for the chip at `address`.
fn i2c_init_at(address: u8) -> Vec<I2c> {
    let mut t = vec![I2c::write_read(address, vec![0x00], vec![0xE5])];
    t.extend(
        ADXL345_INIT_WRITES.map(|(register, value)| I2c::write(address, vec![register, value])),
    );
    t
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
    both_modes(&i2c_init(), init_with_defaults_sync, init_with_defaults_async);
}

#[maybe_async_cfg::maybe(idents(new_i2c_async(sync = "new_i2c", async)), sync(), async())]
async fn init_with_defaults(bus: I2cMock) -> Config {
    let mut adxl = Adxl345::new_i2c_async(bus, ADDR);
    adxl.init().await.unwrap();
    assert_eq!(adxl.config(), Config::default());
    adxl.config()
}

#[test]
fn init_with_config_encodes_rate_range_resolution_and_power() {
    let mut expected = i2c_init();
    expected[2] = I2c::write(ADDR, vec![0x31, 0x03]); // 10-bit, ±16 g
    expected[3] = I2c::write(ADDR, vec![0x2C, 0x1C]); // LOW_POWER | 400 Hz
    both_modes(&expected, init_low_power_sync, init_low_power_async);
}

#[maybe_async_cfg::maybe(idents(new_i2c_async(sync = "new_i2c", async)), sync(), async())]
async fn init_low_power(bus: I2cMock) {
    let config = Config {
        data_rate: DataRate::Hz400,
        range: Range::G16,
        resolution: Resolution::TenBit,
        power: PowerMode::LowPower,
    };
    let mut adxl = Adxl345::new_i2c_async(bus, ADDR).with_config(config);
    adxl.init().await.unwrap();
    assert_eq!(adxl.config(), config);
}

#[test]
fn wrong_devid_is_a_typed_error_and_writes_nothing() {
    let expected = [I2c::write_read(ADDR, vec![0x00], vec![0x33])];
    let error = both_modes(&expected, wrong_devid_sync, wrong_devid_async);
    assert_eq!(error, Error::WrongDevice { found: 0x33 });
}

#[maybe_async_cfg::maybe(idents(new_i2c_async(sync = "new_i2c", async)), sync(), async())]
async fn wrong_devid(bus: I2cMock) -> Error<I2cErrorKind> {
    let mut adxl = Adxl345::new_i2c_async(bus, ADDR);
    let error = adxl.init().await.unwrap_err();
    assert_eq!(error, Error::WrongDevice { found: 0x33 });
    assert_eq!(error.kind(), ErrorKind::WrongDevice);
    error
}

#[test]
fn nack_is_a_bus_error_not_a_panic() {
    let nack = I2cErrorKind::NoAcknowledge(NoAcknowledgeSource::Data);
    let expected = [
        I2c::write_read(ADDR, vec![0x00], vec![0xE5]),
        I2c::write(ADDR, vec![0x2D, 0x00]).with_error(nack),
        I2c::write_read(ADDR, vec![0x32], vec![0; 6]).with_error(nack),
    ];
    both_modes(&expected, bus_errors_sync, bus_errors_async);
}

#[maybe_async_cfg::maybe(idents(new_i2c_async(sync = "new_i2c", async)), sync(), async())]
async fn bus_errors(bus: I2cMock) {
    let nack = I2cErrorKind::NoAcknowledge(NoAcknowledgeSource::Data);
    let mut adxl = Adxl345::new_i2c_async(bus, ADDR);
    assert_eq!(adxl.init().await, Err(Error::Bus(nack)));
    assert_eq!(adxl.read().await.unwrap_err().kind(), ErrorKind::Bus);
}

#[test]
fn xyz_burst_read_converts_full_resolution_counts_to_si() {
    // Full resolution: 256 LSB/g. X = 256 -> 1 g, Y = -128 -> -0.5 g, Z = 1 -> 1/256 g.
    let bytes = vec![0x00, 0x01, 0x80, 0xFF, 0x01, 0x00];
    let expected = with(i2c_init(), &[I2c::write_read(ADDR, vec![0x32], bytes)]);
    let sample = both_modes(&expected, read_one_sample_sync, read_one_sample_async);
    assert_close(sample, [G, -0.5 * G, G / 256.0]);
}

#[maybe_async_cfg::maybe(idents(new_i2c_async(sync = "new_i2c", async)), sync(), async())]
async fn read_one_sample(bus: I2cMock) -> [f32; 3] {
    let mut adxl = Adxl345::new_i2c_async(bus, ADDR);
    adxl.init().await.unwrap();
    adxl.read().await.unwrap()
}

#[test]
fn ten_bit_range_changes_the_scale_and_setters_write_only_changes() {
    let expected = with(
        i2c_init(),
        &[
            I2c::write(ADDR, vec![0x31, 0x03]), // set_config: 10-bit ±16 g
            I2c::write(ADDR, vec![0x2C, 0x0D]), // set_data_rate(800 Hz)
            // 32 LSB/g at ±16 g 10-bit: 64 counts = 2 g.
            I2c::write_read(ADDR, vec![0x32], sample_bytes(64)),
        ],
    );
    let sample = both_modes(&expected, setters_sync, setters_async);
    assert_close(sample, [2.0 * G, -2.0 * G, 0.0]);
}

#[maybe_async_cfg::maybe(idents(new_i2c_async(sync = "new_i2c", async)), sync(), async())]
async fn setters(bus: I2cMock) -> [f32; 3] {
    let mut adxl = Adxl345::new_i2c_async(bus, ADDR);
    adxl.init().await.unwrap();
    let ten_bit = Config { range: Range::G16, resolution: Resolution::TenBit, ..adxl.config() };
    adxl.set_config(ten_bit).await.unwrap();
    adxl.set_data_rate(DataRate::Hz800).await.unwrap();
    adxl.set_range(Range::G16).await.unwrap(); // unchanged: no traffic
    adxl.read_acceleration().await.unwrap()
}

#[test]
fn low_power_above_400hz_and_zero_activity_threshold_are_config_errors() {
    // An empty mock: any bus access would fail the test.
    both_modes(&[], low_power_800hz_sync, low_power_800hz_async);
    both_modes(&i2c_init(), refused_interrupts_sync, refused_interrupts_async);
}

#[maybe_async_cfg::maybe(idents(new_i2c_async(sync = "new_i2c", async)), sync(), async())]
async fn low_power_800hz(bus: I2cMock) {
    let mut adxl = Adxl345::new_i2c_async(bus, ADDR).with_config(Config {
        data_rate: DataRate::Hz800,
        power: PowerMode::LowPower,
        ..Config::default()
    });
    let error = adxl.init().await.unwrap_err();
    assert_eq!(error, Error::InvalidConfig(ConfigError::DataRateUnavailable));
    assert_eq!(error.kind(), ErrorKind::InvalidConfig);
}

#[maybe_async_cfg::maybe(idents(new_i2c_async(sync = "new_i2c", async)), sync(), async())]
async fn refused_interrupts(bus: I2cMock) {
    let mut adxl = Adxl345::new_i2c_async(bus, ADDR);
    adxl.init().await.unwrap();
    let activity = ActivityInterrupt {
        threshold: 0.0,
        axes: Axes::ALL,
        ac_coupled: false,
        pin: InterruptPin::Int1,
    };
    assert_eq!(
        adxl.enable_activity_interrupt(activity).await,
        Err(Error::InvalidConfig(ConfigError::Threshold))
    );
    let fifo = FifoConfig { mode: FifoMode::Stream, watermark: 32, interrupt: None };
    assert_eq!(adxl.enable_fifo(fifo).await, Err(Error::InvalidConfig(ConfigError::Watermark)));
    assert_eq!(adxl.activity_interrupt(), None);
    assert_eq!(adxl.fifo_config(), None);
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
    let expected = with(
        activity_and_fifo_on(),
        &[
            I2c::write(ADDR, vec![0x24, 0x00]), // disable activity
            I2c::write(ADDR, vec![0x27, 0x00]),
            I2c::write(ADDR, vec![0x2F, 0x00]),
            I2c::write(ADDR, vec![0x2E, 0x02]),
        ],
    );
    both_modes(&expected, activity_and_watermark_sync, activity_and_watermark_async);
}

#[maybe_async_cfg::maybe(idents(new_i2c_async(sync = "new_i2c", async)), sync(), async())]
async fn activity_and_watermark(bus: I2cMock) {
    let mut adxl = Adxl345::new_i2c_async(bus, ADDR);
    adxl.init().await.unwrap();
    adxl.enable_activity_interrupt(ACTIVITY).await.unwrap();
    adxl.enable_fifo(FIFO).await.unwrap();
    adxl.disable_activity_interrupt().await.unwrap();
    assert_eq!(adxl.fifo_config(), Some(FIFO));
}

#[test]
fn fifo_drain_clears_activity_then_pops_one_entry_per_six_byte_read() {
    let expected = with(
        activity_and_fifo_on(),
        &[
            I2c::write_read(ADDR, vec![0x30], vec![0x12]), // INT_SOURCE: activity, watermark
            I2c::write_read(ADDR, vec![0x39], vec![0x03]), // FIFO_STATUS: 3 entries
            I2c::write_read(ADDR, vec![0x32], sample_bytes(10)),
            I2c::write_read(ADDR, vec![0x32], sample_bytes(20)),
            I2c::write_read(ADDR, vec![0x32], sample_bytes(30)),
        ],
    );
    let out = both_modes(&expected, drain_with_activity_sync, drain_with_activity_async);
    for (i, sample) in out.iter().take(3).enumerate() {
        let x = 10.0 * (i + 1) as f32 * G / 256.0;
        assert_close(*sample, [x, -x, 0.0]);
    }
}

#[maybe_async_cfg::maybe(idents(new_i2c_async(sync = "new_i2c", async)), sync(), async())]
async fn drain_with_activity(bus: I2cMock) -> [[f32; 3]; 33] {
    let mut adxl = Adxl345::new_i2c_async(bus, ADDR);
    adxl.init().await.unwrap();
    adxl.enable_activity_interrupt(ACTIVITY).await.unwrap();
    adxl.enable_fifo(FIFO).await.unwrap();
    let mut out = [[0.0f32; 3]; 33];
    assert_eq!(adxl.drain_fifo(&mut out).await.unwrap(), 3);
    out
}

#[test]
fn fifo_drain_keeps_popped_samples_when_the_bus_fails_midway() {
    let nack = I2cErrorKind::NoAcknowledge(NoAcknowledgeSource::Address);
    let expected = with(
        i2c_init(),
        &[
            I2c::write(ADDR, vec![0x38, 0x90]),
            I2c::write(ADDR, vec![0x2E, 0x02]),
            I2c::write_read(ADDR, vec![0x39], vec![0x83]), // trigger bit ignored: 3 entries
            I2c::write_read(ADDR, vec![0x32], sample_bytes(5)),
            I2c::write_read(ADDR, vec![0x32], vec![0; 6]).with_error(nack),
            I2c::write_read(ADDR, vec![0x39], vec![0]).with_error(nack),
        ],
    );
    let first = both_modes(&expected, drain_then_fail_sync, drain_then_fail_async);
    assert_close(first, [5.0 * G / 256.0, -5.0 * G / 256.0, 0.0]);
}

#[maybe_async_cfg::maybe(idents(new_i2c_async(sync = "new_i2c", async)), sync(), async())]
async fn drain_then_fail(bus: I2cMock) -> [f32; 3] {
    let nack = I2cErrorKind::NoAcknowledge(NoAcknowledgeSource::Address);
    let mut adxl = Adxl345::new_i2c_async(bus, ADDR);
    adxl.init().await.unwrap();
    adxl.enable_fifo(FIFO).await.unwrap();
    let mut out = [[0.0f32; 3]; 8];
    assert_eq!(adxl.drain_fifo(&mut out).await.unwrap(), 1);
    let first = out[0];
    assert_eq!(adxl.drain_fifo(&mut out).await, Err(Error::Bus(nack)));
    first
}

#[test]
fn drain_without_fifo_reads_a_sample_only_on_data_ready() {
    let expected = with(
        i2c_init(),
        &[
            I2c::write_read(ADDR, vec![0x30], vec![0x00]),
            I2c::write_read(ADDR, vec![0x30], vec![0x80]), // DATA_READY
            I2c::write_read(ADDR, vec![0x32], sample_bytes(-3)),
        ],
    );
    let out = both_modes(&expected, drain_without_fifo_sync, drain_without_fifo_async);
    assert_close(out[0], [-3.0 * G / 256.0, 3.0 * G / 256.0, 0.0]);
}

#[maybe_async_cfg::maybe(idents(new_i2c_async(sync = "new_i2c", async)), sync(), async())]
async fn drain_without_fifo(bus: I2cMock) -> [[f32; 3]; 2] {
    let mut adxl = Adxl345::new_i2c_async(bus, ADDR);
    adxl.init().await.unwrap();
    let mut out = [[0.0f32; 3]; 2];
    assert_eq!(adxl.drain_fifo(&mut out).await.unwrap(), 0);
    assert_eq!(adxl.drain_fifo(&mut out).await.unwrap(), 1);
    out
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
    let fifo_on = [(0x38, 0x90), (0x2E, 0x02)]; // stream, 16 samples; WATERMARK on INT1
    for (register, value) in ADXL345_INIT_WRITES.into_iter().chain(fifo_on) {
        expected.extend([
            Spi::transaction_start(),
            Spi::write_vec(vec![register, value]),
            Spi::transaction_end(),
        ]);
    }
    expected.extend(spi_read(0xB9, vec![2])); // FIFO_STATUS, single byte: no MB bit
    expected.extend(spi_read(0xF2, sample_bytes(256)));
    expected.extend(spi_read(0xF2, sample_bytes(-256)));
    let out = both_modes(&expected, spi_fifo_drain_sync, spi_fifo_drain_async);
    assert_close(out[0], [G, -G, 0.0]);
    assert_close(out[1], [-G, G, 0.0]);
}

#[maybe_async_cfg::maybe(idents(new_spi_async(sync = "new_spi", async)), sync(), async())]
async fn spi_fifo_drain(bus: SpiMock<u8>) -> [[f32; 3]; 4] {
    let mut adxl = Adxl345::new_spi_async(bus);
    adxl.init().await.unwrap();
    adxl.enable_fifo(FIFO).await.unwrap();
    let mut out = [[0.0f32; 3]; 4];
    assert_eq!(adxl.drain_fifo(&mut out).await.unwrap(), 2);
    out
}

#[test]
fn data_ready_interrupt_maps_then_enables() {
    let expected = with(
        i2c_init(),
        &[
            I2c::write(ADDR, vec![0x2F, 0x80]), // INT_MAP: DATA_READY -> INT2
            I2c::write(ADDR, vec![0x2E, 0x80]), // INT_ENABLE: DATA_READY
            I2c::write(ADDR, vec![0x2F, 0x00]),
            I2c::write(ADDR, vec![0x2E, 0x00]),
        ],
    );
    both_modes(&expected, data_ready_on_off_sync, data_ready_on_off_async);
}

#[maybe_async_cfg::maybe(idents(new_i2c_async(sync = "new_i2c", async)), sync(), async())]
async fn data_ready_on_off(bus: I2cMock) {
    let mut adxl = Adxl345::new_i2c_async(bus, ADDR);
    adxl.init().await.unwrap();
    adxl.enable_data_ready_interrupt(InterruptPin::Int2).await.unwrap();
    adxl.disable_data_ready_interrupt().await.unwrap();
}

// ---- The other I2C address (ALT ADDRESS high) ----

const ADDR_HIGH: u8 = 0x1D;

#[test]
fn alt_high_address_activity_then_drain_without_fifo() {
    let mut expected = i2c_init_at(ADDR_HIGH);
    for (register, value) in [
        (0x24, 0x08), // THRESH_ACT: 0.5 g / 62.5 mg = 8
        (0x27, 0x70), // dc-coupled, X, Y, Z
        (0x2E, 0x10), // ACTIVITY on INT1 (INT_MAP stays 0)
    ] {
        expected.push(I2c::write(ADDR_HIGH, vec![register, value]));
    }
    // Without FIFO, a drain reads INT_SOURCE (clearing ACTIVITY) and one sample on DATA_READY.
    expected.push(I2c::write_read(ADDR_HIGH, vec![0x30], vec![0x90]));
    expected.push(I2c::write_read(ADDR_HIGH, vec![0x32], vec![0x00, 0x02, 0, 0, 0x00, 0xFF]));
    let out = both_modes(&expected, alt_high_activity_sync, alt_high_activity_async);
    // 512 counts = 2 g; 0xFF00 = -256 counts = -1 g.
    assert_close(out[0], [2.0 * G, 0.0, -G]);
}

#[maybe_async_cfg::maybe(idents(new_i2c_async(sync = "new_i2c", async)), sync(), async())]
async fn alt_high_activity(bus: I2cMock) -> [[f32; 3]; 4] {
    let mut adxl = Adxl345::new_i2c_async(bus, ADDR_HIGH);
    adxl.init().await.unwrap();
    let activity = ActivityInterrupt {
        threshold: 0.5 * G,
        axes: Axes::ALL,
        ac_coupled: false,
        pin: InterruptPin::Int1,
    };
    adxl.enable_activity_interrupt(activity).await.unwrap();
    let mut out = [[0.0f32; 3]; 4];
    assert_eq!(adxl.drain_fifo(&mut out).await.unwrap(), 1);
    out
}
