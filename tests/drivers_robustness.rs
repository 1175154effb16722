//! Any bytes the bus returns, and any bus failure, give values or typed errors: never a panic,
//! never a non-finite sample, never more samples than the caller's buffer holds. Each property is
//! written once and checked on the blocking and on the async driver.

mod drivers_support;

use drivers_support::block_on;
use edge_reflex::drivers::adxl345::{self, Adxl345};
use edge_reflex::drivers::lis3dh::{self, Lis3dh};
use edge_reflex::drivers::{AsyncRegisterInterface, InterruptDriven, RegisterInterface};
use edge_reflex::sensor::{AsyncSensor, Sensor};
use proptest::prelude::*;
use proptest::test_runner::TestCaseError;

/// A chip that answers every read with the next bytes of `replies` (cycling), and fails every
/// `fail_every`-th access when set.
struct ArbitraryChip {
    replies: Vec<u8>,
    next: usize,
    accesses: usize,
    fail_every: Option<usize>,
}

impl ArbitraryChip {
    fn new(id: u8, mut replies: Vec<u8>, fail_every: Option<usize>) -> Self {
        replies.insert(0, id);
        ArbitraryChip { replies, next: 0, accesses: 0, fail_every }
    }

    fn access(&mut self) -> Result<(), ()> {
        self.accesses += 1;
        match self.fail_every {
            // The first access (the ID check) always succeeds, so the rest gets exercised.
            Some(n) if self.accesses > 1 && self.accesses.is_multiple_of(n) => Err(()),
            _ => Ok(()),
        }
    }
}

#[maybe_async_cfg::maybe(
    idents(AsyncRegisterInterface(sync = "RegisterInterface", async)),
    sync(keep_self),
    async(keep_self)
)]
impl AsyncRegisterInterface for ArbitraryChip {
    type Error = ();

    async fn write_register(&mut self, _: u8, _: u8) -> Result<(), ()> {
        self.access()
    }

    async fn read_registers(&mut self, _: u8, buffer: &mut [u8]) -> Result<(), ()> {
        self.access()?;
        for byte in buffer {
            *byte = self.replies[self.next % self.replies.len()];
            self.next += 1;
        }
        Ok(())
    }
}

fn all_finite(samples: &[[f32; 3]]) -> bool {
    samples.iter().flatten().all(|v| v.is_finite())
}

fn lis3dh_config(i: u8) -> lis3dh::Config {
    use lis3dh::{Mode, Range};
    let modes = [Mode::LowPower, Mode::Normal, Mode::HighResolution];
    let ranges = [Range::G2, Range::G4, Range::G8, Range::G16];
    lis3dh::Config {
        mode: modes[usize::from(i) % 3],
        range: ranges[usize::from(i / 3) % 4],
        ..lis3dh::Config::default()
    }
}

fn adxl345_config(i: u8) -> adxl345::Config {
    use adxl345::{Range, Resolution};
    let ranges = [Range::G2, Range::G4, Range::G8, Range::G16];
    adxl345::Config {
        range: ranges[usize::from(i) % 4],
        resolution: if i.is_multiple_of(2) { Resolution::Full } else { Resolution::TenBit },
        ..adxl345::Config::default()
    }
}

/// What one run of the LIS3DH property draws.
#[derive(Clone, Debug)]
struct Draw {
    replies: Vec<u8>,
    config: u8,
    fifo: bool,
    out_len: usize,
    fail_every: Option<usize>,
}

fn draws() -> impl Strategy<Value = Draw> {
    (
        proptest::collection::vec(any::<u8>(), 1..300),
        any::<u8>(),
        any::<bool>(),
        0usize..40,
        proptest::option::of(2usize..9),
    )
        .prop_map(|(replies, config, fifo, out_len, fail_every)| Draw {
            replies,
            config,
            fifo,
            out_len,
            fail_every,
        })
}

#[maybe_async_cfg::maybe(idents(new_async(sync = "new", async)), sync(), async())]
async fn lis3dh_survives(draw: Draw) -> Result<(), TestCaseError> {
    let chip = ArbitraryChip::new(0x33, draw.replies, draw.fail_every);
    let mut lis = Lis3dh::new_async(chip).with_config(lis3dh_config(draw.config));
    if lis.init().await.is_err() {
        return Ok(()); // a typed error is an acceptable outcome
    }
    if draw.fifo {
        let _ = lis
            .enable_fifo(lis3dh::FifoConfig {
                mode: lis3dh::FifoMode::Stream,
                watermark: 8,
                interrupt: true,
            })
            .await;
    }
    if let Ok(sample) = lis.read().await {
        prop_assert!(all_finite(&[sample]));
    }
    if let Ok(len) = lis.fifo_len().await {
        prop_assert!(len <= 32);
    }
    let mut out = vec![[0.0f32; 3]; draw.out_len];
    if let Ok(n) = lis.drain_fifo(&mut out).await {
        prop_assert!(n <= draw.out_len);
        prop_assert!(all_finite(&out));
    }
    Ok(())
}

#[maybe_async_cfg::maybe(idents(new_async(sync = "new", async)), sync(), async())]
async fn adxl345_survives(draw: Draw) -> Result<(), TestCaseError> {
    let chip = ArbitraryChip::new(0xE5, draw.replies, draw.fail_every);
    let mut adxl = Adxl345::new_async(chip).with_config(adxl345_config(draw.config));
    if adxl.init().await.is_err() {
        return Ok(());
    }
    if draw.fifo {
        let _ = adxl
            .enable_fifo(adxl345::FifoConfig {
                mode: adxl345::FifoMode::Stream,
                watermark: 8,
                interrupt: None,
            })
            .await;
    }
    if let Ok(sample) = adxl.read().await {
        prop_assert!(all_finite(&[sample]));
    }
    if let Ok(len) = adxl.fifo_len().await {
        prop_assert!(len <= 33);
    }
    let mut out = vec![[0.0f32; 3]; draw.out_len];
    if let Ok(n) = adxl.drain_fifo(&mut out).await {
        prop_assert!(n <= draw.out_len);
        prop_assert!(all_finite(&out));
    }
    Ok(())
}

/// Through the interrupt wrapper with an always-high pin: every read is a finite sample or a
/// typed error, and the queue never claims more than its capacity.
#[maybe_async_cfg::maybe(idents(new_async(sync = "new", async)), sync(), async())]
async fn interrupt_driven_survives(draw: Draw) -> Result<(), TestCaseError> {
    let chip = ArbitraryChip::new(0x33, draw.replies, draw.fail_every);
    let mut lis = Lis3dh::new_async(chip);
    if lis.init().await.is_err() {
        return Ok(());
    }
    let _ = lis
        .enable_fifo(lis3dh::FifoConfig {
            mode: lis3dh::FifoMode::Stream,
            watermark: 4,
            interrupt: true,
        })
        .await;
    let mut sensor: InterruptDriven<_, _, 5> = InterruptDriven::new(lis, AlwaysHigh);
    for _ in 0..20 {
        if let Ok(sample) = sensor.read().await {
            prop_assert!(all_finite(&[sample]));
        }
        prop_assert!(sensor.pending() <= 5);
    }
    Ok(())
}

proptest! {
    #[test]
    fn lis3dh_survives_arbitrary_bus_bytes(draw in draws()) {
        lis3dh_survives_sync(draw.clone())?;
        block_on(lis3dh_survives_async(draw))?;
    }

    #[test]
    fn adxl345_survives_arbitrary_bus_bytes(draw in draws()) {
        adxl345_survives_sync(draw.clone())?;
        block_on(adxl345_survives_async(draw))?;
    }

    #[test]
    fn interrupt_driven_survives_arbitrary_bus_bytes(draw in draws()) {
        interrupt_driven_survives_sync(draw.clone())?;
        block_on(interrupt_driven_survives_async(draw))?;
    }
}

/// An interrupt pin that is always active.
struct AlwaysHigh;

impl embedded_hal::digital::ErrorType for AlwaysHigh {
    type Error = core::convert::Infallible;
}

impl embedded_hal::digital::InputPin for AlwaysHigh {
    fn is_high(&mut self) -> Result<bool, Self::Error> {
        Ok(true)
    }
    fn is_low(&mut self) -> Result<bool, Self::Error> {
        Ok(false)
    }
}

/// Every wait for the active level or edge returns at once; waits for the inactive ones fail the
/// test (the wrapper never makes them with the default trigger).
impl embedded_hal_async::digital::Wait for AlwaysHigh {
    async fn wait_for_high(&mut self) -> Result<(), Self::Error> {
        Ok(())
    }
    async fn wait_for_low(&mut self) -> Result<(), Self::Error> {
        unreachable!("an always-high pin is never waited low")
    }
    async fn wait_for_rising_edge(&mut self) -> Result<(), Self::Error> {
        unreachable!("the default trigger is the level")
    }
    async fn wait_for_falling_edge(&mut self) -> Result<(), Self::Error> {
        unreachable!("the default trigger is the level")
    }
    async fn wait_for_any_edge(&mut self) -> Result<(), Self::Error> {
        unreachable!("the default trigger is the level")
    }
}
