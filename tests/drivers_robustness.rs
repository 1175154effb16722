//! Any bytes the bus returns, and any bus failure, give values or typed errors: never a panic,
//! never a non-finite sample, never more samples than the caller's buffer holds.

use edge_reflex::drivers::adxl345::{self, Adxl345};
use edge_reflex::drivers::lis3dh::{self, Lis3dh};
use edge_reflex::drivers::{InterruptDriven, RegisterInterface};
use edge_reflex::sensor::Sensor;
use proptest::prelude::*;

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

impl RegisterInterface for ArbitraryChip {
    type Error = ();

    fn write_register(&mut self, _: u8, _: u8) -> Result<(), ()> {
        self.access()
    }

    fn read_registers(&mut self, _: u8, buffer: &mut [u8]) -> Result<(), ()> {
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

proptest! {
    #[test]
    fn lis3dh_survives_arbitrary_bus_bytes(
        replies in proptest::collection::vec(any::<u8>(), 1..300),
        config in any::<u8>(),
        fifo in any::<bool>(),
        out_len in 0usize..40,
        fail_every in proptest::option::of(2usize..9),
    ) {
        let chip = ArbitraryChip::new(0x33, replies, fail_every);
        let mut lis = Lis3dh::new(chip).with_config(lis3dh_config(config));
        if lis.init().is_err() {
            return Ok(()); // a typed error is an acceptable outcome
        }
        if fifo {
            let _ = lis.enable_fifo(lis3dh::FifoConfig {
                mode: lis3dh::FifoMode::Stream,
                watermark: 8,
                interrupt: true,
            });
        }
        if let Ok(sample) = lis.read() {
            prop_assert!(all_finite(&[sample]));
        }
        if let Ok(len) = lis.fifo_len() {
            prop_assert!(len <= 32);
        }
        let mut out = vec![[0.0f32; 3]; out_len];
        if let Ok(n) = lis.drain_fifo(&mut out) {
            prop_assert!(n <= out_len);
            prop_assert!(all_finite(&out));
        }
    }

    #[test]
    fn adxl345_survives_arbitrary_bus_bytes(
        replies in proptest::collection::vec(any::<u8>(), 1..300),
        config in any::<u8>(),
        fifo in any::<bool>(),
        out_len in 0usize..40,
        fail_every in proptest::option::of(2usize..9),
    ) {
        let chip = ArbitraryChip::new(0xE5, replies, fail_every);
        let mut adxl = Adxl345::new(chip).with_config(adxl345_config(config));
        if adxl.init().is_err() {
            return Ok(());
        }
        if fifo {
            let _ = adxl.enable_fifo(adxl345::FifoConfig {
                mode: adxl345::FifoMode::Stream,
                watermark: 8,
                interrupt: None,
            });
        }
        if let Ok(sample) = adxl.read() {
            prop_assert!(all_finite(&[sample]));
        }
        if let Ok(len) = adxl.fifo_len() {
            prop_assert!(len <= 33);
        }
        let mut out = vec![[0.0f32; 3]; out_len];
        if let Ok(n) = adxl.drain_fifo(&mut out) {
            prop_assert!(n <= out_len);
            prop_assert!(all_finite(&out));
        }
    }

    /// Through the interrupt wrapper with an always-high pin: every read is a finite sample or a
    /// typed error, and the queue never claims more than its capacity.
    #[test]
    fn interrupt_driven_survives_arbitrary_bus_bytes(
        replies in proptest::collection::vec(any::<u8>(), 1..300),
        fail_every in proptest::option::of(2usize..9),
    ) {
        let chip = ArbitraryChip::new(0x33, replies, fail_every);
        let mut lis = Lis3dh::new(chip);
        if lis.init().is_err() {
            return Ok(());
        }
        let _ = lis.enable_fifo(lis3dh::FifoConfig {
            mode: lis3dh::FifoMode::Stream,
            watermark: 4,
            interrupt: true,
        });
        let mut sensor: InterruptDriven<_, _, 5> = InterruptDriven::new(lis, AlwaysHigh);
        for _ in 0..20 {
            if let Ok(sample) = sensor.read() {
                prop_assert!(all_finite(&[sample]));
            }
            prop_assert!(sensor.pending() <= 5);
        }
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
