//! Shared helpers for the driver tests: the both-modes runner, a tiny executor, expected values.
//!
//! Every bus-traffic case is written once, as an `async fn` under `maybe_async_cfg::maybe` (the
//! same mechanism the drivers use), which yields a `NAME_sync` (blocking driver) and a
//! `NAME_async` (async driver) form. [`both_modes`] runs the two over the same expected
//! transactions, so each test checks the blocking and the async driver against one specification.
#![allow(dead_code)]

use core::fmt::Debug;
use core::future::Future;
use core::pin::pin;
use core::task::{Context, Poll, Waker};

use embedded_hal_mock::common::Generic;

/// Runs `future` to completion on this thread. The mocks never return `Pending`, so a bounded
/// number of polls is enough; more means the code under test waits for something that never comes.
pub fn block_on<F: Future>(future: F) -> F::Output {
    let mut future = pin!(future);
    let mut context = Context::from_waker(Waker::noop());
    for _ in 0..10_000 {
        if let Poll::Ready(output) = future.as_mut().poll(&mut context) {
            return output;
        }
    }
    panic!("future did not complete");
}

/// Runs one case in both modes: `blocking` on a fresh mock holding `expected`, then `asynch`
/// (polled to completion) on another fresh mock holding the same `expected`. Each mock must see
/// exactly `expected`, in order and completely (`done()`); the two runs must return equal results,
/// which is returned.
pub fn both_modes<T, R, F>(
    expected: &[T],
    blocking: impl FnOnce(Generic<T>) -> R,
    asynch: impl FnOnce(Generic<T>) -> F,
) -> R
where
    T: Clone + Debug + PartialEq,
    R: Debug + PartialEq,
    F: Future<Output = R>,
{
    let mut bus = Generic::new(expected);
    let from_blocking = blocking(bus.clone());
    bus.done();
    let mut bus = Generic::new(expected);
    let from_async = block_on(asynch(bus.clone()));
    bus.done();
    assert_eq!(from_blocking, from_async, "the blocking and async drivers disagree");
    from_blocking
}

/// [`both_modes`] for cases that also drive an interrupt pin. The bus traffic is the same in both
/// modes; the pin traffic is not (the async form waits on the pin, the blocking form polls its
/// level), so each mode has its own pin expectations, also checked completely.
pub fn both_modes_with_pin<T, P, R, F>(
    expected: &[T],
    pin_blocking: &[P],
    pin_async: &[P],
    blocking: impl FnOnce(Generic<T>, Generic<P>) -> R,
    asynch: impl FnOnce(Generic<T>, Generic<P>) -> F,
) -> R
where
    T: Clone + Debug + PartialEq,
    P: Clone + Debug + PartialEq,
    R: Debug + PartialEq,
    F: Future<Output = R>,
{
    let (mut bus, mut pin) = (Generic::new(expected), Generic::new(pin_blocking));
    let from_blocking = blocking(bus.clone(), pin.clone());
    bus.done();
    pin.done();
    let (mut bus, mut pin) = (Generic::new(expected), Generic::new(pin_async));
    let from_async = block_on(asynch(bus.clone(), pin.clone()));
    bus.done();
    pin.done();
    assert_eq!(from_blocking, from_async, "the blocking and async drivers disagree");
    from_blocking
}

/// The LIS3DH register writes of `init` after WHO_AM_I, in order: 100 Hz, ±2 g, high resolution,
/// everything else off.
pub const LIS3DH_INIT_WRITES: [(u8, u8); 10] = [
    (0x20, 0x57), // CTRL_REG1: ODR 100 Hz, XYZ on
    (0x21, 0x00), // CTRL_REG2: no high-pass
    (0x23, 0x88), // CTRL_REG4: BDU, ±2 g, HR
    (0x24, 0x00), // CTRL_REG5: FIFO off
    (0x25, 0x00), // CTRL_REG6
    (0x2E, 0x00), // FIFO_CTRL_REG: bypass
    (0x32, 0x00), // INT1_THS
    (0x33, 0x00), // INT1_DURATION
    (0x30, 0x00), // INT1_CFG
    (0x22, 0x00), // CTRL_REG3: nothing on INT1
];

/// The ADXL345 register writes of `init` after DEVID, in order: standby, the image for 100 Hz,
/// ±2 g, full resolution with interrupts and FIFO off, then measuring.
pub const ADXL345_INIT_WRITES: [(u8, u8); 9] = [
    (0x2D, 0x00), // POWER_CTL: standby while configuring
    (0x31, 0x08), // DATA_FORMAT: FULL_RES, ±2 g
    (0x2C, 0x0A), // BW_RATE: 100 Hz
    (0x24, 0x00), // THRESH_ACT
    (0x27, 0x00), // ACT_INACT_CTL
    (0x38, 0x00), // FIFO_CTL: bypass
    (0x2F, 0x00), // INT_MAP
    (0x2E, 0x00), // INT_ENABLE
    (0x2D, 0x08), // POWER_CTL: measure
];

/// Standard gravity, written out so expected values are computed independently of the crate.
pub const G: f32 = 9.806_65;

/// `a` and `b` equal within 1e-4 m/s², channel by channel.
pub fn assert_close(actual: [f32; 3], expected: [f32; 3]) {
    for (a, e) in actual.iter().zip(expected.iter()) {
        assert!((a - e).abs() < 1e-4, "got {actual:?}, expected {expected:?}");
    }
}
