//! The async driver forms against embedded-hal-mock's async I2C/SPI: same traffic as blocking.

mod drivers_support;

use drivers_support::{assert_close, block_on, G};
use edge_reflex::drivers::adxl345::{self, Adxl345};
use edge_reflex::drivers::lis3dh::{self, Lis3dh};
use edge_reflex::drivers::{AsyncFifo, ErrorKind};
use edge_reflex::sensor::{AsyncSensor, Sensor};
use embedded_hal::i2c::{ErrorKind as I2cErrorKind, NoAcknowledgeSource};
use embedded_hal_mock::eh1::i2c::{Mock as I2cMock, Transaction as I2c};
use embedded_hal_mock::eh1::spi::{Mock as SpiMock, Transaction as Spi};

const LIS: u8 = 0x19;

fn lis_init() -> Vec<I2c> {
    let mut t = vec![I2c::write_read(LIS, vec![0x0F], vec![0x33])];
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
        t.push(I2c::write(LIS, vec![register, value]));
    }
    t
}

#[test]
fn async_lis3dh_init_config_and_read_match_the_blocking_traffic() {
    let mut traffic = lis_init();
    traffic.push(I2c::write(LIS, vec![0x23, 0x98])); // set_range(G4)
    traffic.push(I2c::write_read(LIS, vec![0xA8], vec![0x00, 0x40, 0, 0, 0, 0]));
    // The blocking driver on an identical bus gives the identical sample.
    let blocking_bus = I2cMock::new(&traffic);
    let async_bus = I2cMock::new(&traffic);

    let mut blocking = Lis3dh::new_i2c(blocking_bus, LIS);
    blocking.init().unwrap();
    blocking.set_range(lis3dh::Range::G4).unwrap();
    let expected = blocking.read().unwrap();
    blocking.destroy().done();

    let mut accel = Lis3dh::new_i2c_async(async_bus, LIS);
    let sample = block_on(async {
        accel.init().await.unwrap();
        accel.set_range(lis3dh::Range::G4).await.unwrap();
        AsyncSensor::read(&mut accel).await.unwrap()
    });
    // 0x4000 >> 4 = 1024 digits at 2 mg/digit (±4 g, high resolution) = 2048 mg.
    assert_close(sample, [2048.0 * G / 1000.0, 0.0, 0.0]);
    assert_eq!(sample, expected);
    accel.destroy().done();
}

#[test]
fn async_lis3dh_wrong_device_and_nack() {
    let nack = I2cErrorKind::NoAcknowledge(NoAcknowledgeSource::Address);
    let bus = I2cMock::new(&[
        I2c::write_read(LIS, vec![0x0F], vec![0x32]),
        I2c::write_read(LIS, vec![0xA8], vec![0; 6]).with_error(nack),
    ]);
    let mut accel = Lis3dh::new_i2c_async(bus, LIS);
    block_on(async {
        assert_eq!(accel.init().await, Err(lis3dh::Error::WrongDevice { found: 0x32 }));
        let error = accel.read_acceleration().await.unwrap_err();
        assert_eq!(error, lis3dh::Error::Bus(nack));
        assert_eq!(error.kind(), ErrorKind::Bus);
    });
    accel.destroy().done();
}

#[test]
fn async_lis3dh_spi_fifo_drain_is_one_burst() {
    let mut t = vec![
        Spi::transaction_start(),
        Spi::write_vec(vec![0x8F]),
        Spi::read_vec(vec![0x33]),
        Spi::transaction_end(),
    ];
    let writes = [
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
        (0x24, 0x40), // enable_fifo: FIFO_EN
        (0x2E, 0x41), // FIFO mode, FTH = 1
    ];
    for (register, value) in writes {
        t.extend([
            Spi::transaction_start(),
            Spi::write_vec(vec![register, value]),
            Spi::transaction_end(),
        ]);
    }
    t.extend([
        Spi::transaction_start(),
        Spi::write_vec(vec![0xAF]), // FIFO_SRC_REG, single byte
        Spi::read_vec(vec![0x02]),
        Spi::transaction_end(),
        Spi::transaction_start(),
        Spi::write_vec(vec![0xE8]), // OUT_X_L | read | MS
        Spi::read_vec(vec![0x00, 0x40, 0, 0, 0, 0, 0x00, 0xC0, 0, 0, 0, 0]),
        Spi::transaction_end(),
    ]);
    let mut accel = Lis3dh::new_spi_async(SpiMock::new(&t));
    let mut out = [[0.0f32; 3]; 32];
    let count = block_on(async {
        accel.init().await.unwrap();
        accel
            .enable_fifo(lis3dh::FifoConfig {
                mode: lis3dh::FifoMode::Fifo,
                watermark: 1,
                interrupt: false,
            })
            .await
            .unwrap();
        AsyncFifo::drain_fifo(&mut accel, &mut out).await.unwrap()
    });
    assert_eq!(count, 2);
    assert_close(out[0], [G * 1024.0 / 1000.0, 0.0, 0.0]);
    assert_close(out[1], [-G * 1024.0 / 1000.0, 0.0, 0.0]);
    accel.destroy().done();
}

const ADXL: u8 = 0x1D;

#[test]
fn async_adxl345_init_activity_and_drain() {
    let mut t = vec![I2c::write_read(ADXL, vec![0x00], vec![0xE5])];
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
        (0x24, 0x08), // THRESH_ACT: 0.5 g / 62.5 mg = 8
        (0x27, 0x70), // dc-coupled, X, Y, Z
        (0x2E, 0x10), // ACTIVITY on INT1 (INT_MAP stays 0)
    ] {
        t.push(I2c::write(ADXL, vec![register, value]));
    }
    // Without FIFO, a drain reads INT_SOURCE (clearing ACTIVITY) and one sample on DATA_READY.
    t.push(I2c::write_read(ADXL, vec![0x30], vec![0x90]));
    t.push(I2c::write_read(ADXL, vec![0x32], vec![0x00, 0x02, 0, 0, 0x00, 0xFF]));
    let mut accel = Adxl345::new_i2c_async(I2cMock::new(&t), ADXL);
    let mut out = [[0.0f32; 3]; 4];
    let count = block_on(async {
        accel.init().await.unwrap();
        accel
            .enable_activity_interrupt(adxl345::ActivityInterrupt {
                threshold: 0.5 * G,
                axes: edge_reflex::drivers::Axes::ALL,
                ac_coupled: false,
                pin: adxl345::InterruptPin::Int1,
            })
            .await
            .unwrap();
        accel.drain_fifo(&mut out).await.unwrap()
    });
    assert_eq!(count, 1);
    // 512 counts = 2 g; 0xFF00 = -256 counts = -1 g.
    assert_close(out[0], [2.0 * G, 0.0, -G]);
    accel.destroy().done();
}
