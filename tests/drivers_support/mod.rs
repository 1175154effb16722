//! Shared helpers for the driver tests: a tiny executor and expected-traffic builders.
#![allow(dead_code)]

use core::future::Future;
use core::pin::pin;
use core::task::{Context, Poll, Waker};

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

/// Standard gravity, written out so expected values are computed independently of the crate.
pub const G: f32 = 9.806_65;

/// `a` and `b` equal within 1e-4 m/s², channel by channel.
pub fn assert_close(actual: [f32; 3], expected: [f32; 3]) {
    for (a, e) in actual.iter().zip(expected.iter()) {
        assert!((a - e).abs() < 1e-4, "got {actual:?}, expected {expected:?}");
    }
}
