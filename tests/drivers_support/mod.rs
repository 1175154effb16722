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

/// Standard gravity, written out so expected values are computed independently of the crate.
pub const G: f32 = 9.806_65;

/// `a` and `b` equal within 1e-4 m/s², channel by channel.
pub fn assert_close(actual: [f32; 3], expected: [f32; 3]) {
    for (a, e) in actual.iter().zip(expected.iter()) {
        assert!((a - e).abs() < 1e-4, "got {actual:?}, expected {expected:?}");
    }
}
