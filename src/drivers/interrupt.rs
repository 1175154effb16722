//! Wake-on-interrupt: sleep until the chip's pin fires, drain its FIFO, hand out samples one by one.
//!
//! [`InterruptDriven`] wraps a driver that can drain its FIFO ([`AsyncFifo`]/[`Fifo`]) and the GPIO
//! wired to the chip's watermark, data-ready or motion interrupt. Its [`AsyncSensor`] form awaits
//! the pin (`embedded_hal_async::digital::Wait`, so the core sleeps), drains every available
//! sample in one go into a small internal queue of capacity `N`, and returns them oldest first on
//! the following reads; it touches the bus again only when the queue is empty. The [`Sensor`] form
//! does the same but polls the pin level (`InputPin`).
//!
//! No sample is lost or read twice across batches: a drain only ever fills an empty queue, the
//! driver hands each FIFO entry out once, and when a drain fills the whole queue (the chip may hold
//! more) the next refill drains again *before* waiting, so an edge-triggered pin that stayed
//! active cannot stall the stream. Level triggers ([`Trigger::High`], the default, matching both
//! chips' active-high pins) are the robust choice. This module does not configure the chip's
//! interrupt; call the driver's `enable_fifo`/`enable_motion_interrupt` first.

use embedded_hal::digital::InputPin;
use embedded_hal_async::digital::Wait;

use super::error::{DriverError, ErrorKind};
use super::fifo::{AsyncFifo, Fifo};
use crate::sensor::{AsyncSensor, Sensor};

/// Which pin state means "samples are ready".
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum Trigger {
    /// The pin is high (active-high level; both chips' default polarity).
    #[default]
    High,
    /// The pin is low (active-low level).
    Low,
    /// A low-to-high edge (the blocking form polls for the high level instead).
    RisingEdge,
    /// A high-to-low edge (the blocking form polls for the low level instead).
    FallingEdge,
}

/// Why an interrupt-driven read failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum InterruptError<D, P> {
    /// The driver failed to drain (bus error).
    Driver(D),
    /// The pin could not be read or waited on.
    Pin(P),
    /// The pin fired but the chip had no sample (spurious or misrouted interrupt).
    NoData,
}

impl<D: DriverError, P> InterruptError<D, P> {
    /// The category of this error.
    pub fn kind(&self) -> ErrorKind {
        match self {
            InterruptError::Driver(error) => error.kind(),
            InterruptError::Pin(_) => ErrorKind::Pin,
            InterruptError::NoData => ErrorKind::NoData,
        }
    }
}

impl<D: DriverError, P> DriverError for InterruptError<D, P> {
    fn kind(&self) -> ErrorKind {
        InterruptError::kind(self)
    }
}

/// Samples already drained from the chip, handed out oldest first. Refilled only when empty.
#[derive(Debug)]
struct SampleQueue<const N: usize> {
    samples: [[f32; 3]; N],
    next: usize,
    len: usize,
}

impl<const N: usize> SampleQueue<N> {
    fn new() -> Self {
        SampleQueue { samples: [[0.0; 3]; N], next: 0, len: 0 }
    }

    fn pending(&self) -> usize {
        self.len.saturating_sub(self.next)
    }

    fn pop(&mut self) -> Option<[f32; 3]> {
        if self.next >= self.len {
            return None;
        }
        let sample = self.samples.get(self.next).copied();
        self.next += 1;
        sample
    }

    /// Empties the queue and lends all of its storage to a drain.
    fn refill(&mut self) -> &mut [[f32; 3]] {
        self.next = 0;
        self.len = 0;
        &mut self.samples
    }

    /// Records that a drain wrote `count` samples; returns whether it filled the whole queue.
    fn filled(&mut self, count: usize) -> bool {
        self.len = count.min(N);
        self.len == N
    }
}

/// A FIFO driver plus its interrupt pin, read one sample at a time; capacity `N` samples (use at
/// least the chip's FIFO depth, 32 for the LIS3DH and 33 for the ADXL345, to drain in one go).
#[derive(Debug)]
pub struct InterruptDriven<D, P, const N: usize> {
    driver: D,
    pin: P,
    trigger: Trigger,
    queue: SampleQueue<N>,
    more_pending: bool,
}

impl<D, P, const N: usize> InterruptDriven<D, P, N> {
    /// Wraps a configured `driver` and the `pin` wired to its interrupt, with [`Trigger::High`].
    pub fn new(driver: D, pin: P) -> Self {
        const { assert!(N > 0, "InterruptDriven needs room for at least one sample") };
        InterruptDriven {
            driver,
            pin,
            trigger: Trigger::High,
            queue: SampleQueue::new(),
            more_pending: false,
        }
    }

    /// Uses `trigger` instead of [`Trigger::High`].
    pub fn with_trigger(mut self, trigger: Trigger) -> Self {
        self.trigger = trigger;
        self
    }

    /// Samples drained but not yet returned by `read`.
    pub fn pending(&self) -> usize {
        self.queue.pending()
    }

    /// The driver, e.g. to reconfigure it (samples already queued stay queued).
    pub fn driver_mut(&mut self) -> &mut D {
        &mut self.driver
    }

    /// Gives the driver and pin back; samples still queued ([`pending`](Self::pending)) are
    /// dropped.
    pub fn release(self) -> (D, P) {
        (self.driver, self.pin)
    }

    /// Takes the "a full drain may have left samples in the chip" flag.
    fn take_more_pending(&mut self) -> bool {
        core::mem::replace(&mut self.more_pending, false)
    }

    /// Records a drain of `count` samples and returns the first one, if any.
    fn refilled(&mut self, count: usize) -> Option<[f32; 3]> {
        self.more_pending = self.queue.filled(count);
        self.queue.pop()
    }
}

/// Written once: the blocking [`Sensor`] form is derived from this async one (`maybe_async_cfg`);
/// they differ only in how they wait for the pin (`wait_for_trigger` / `poll_for_trigger`).
#[maybe_async_cfg::maybe(
    idents(
        AsyncSensor(sync = "Sensor", async),
        AsyncFifo(sync = "Fifo", async),
        Wait(sync = "InputPin", async),
        wait_for_trigger(sync = "poll_for_trigger", async),
    ),
    sync(keep_self),
    async(keep_self)
)]
impl<D, P, const N: usize> AsyncSensor for InterruptDriven<D, P, N>
where
    D: AsyncFifo,
    P: Wait,
{
    type Sample = [f32; 3];
    type Error = InterruptError<D::Error, P::Error>;

    /// The next queued sample; when none is queued, waits until the pin is active (the async
    /// form sleeps on it, the blocking form polls its level) and drains the FIFO.
    async fn read(&mut self) -> Result<[f32; 3], Self::Error> {
        if let Some(sample) = self.queue.pop() {
            return Ok(sample);
        }
        if self.take_more_pending() {
            let count = self
                .driver
                .drain_fifo(self.queue.refill())
                .await
                .map_err(InterruptError::Driver)?;
            if let Some(sample) = self.refilled(count) {
                return Ok(sample);
            }
        }
        // Called by path: the macro renames paths (to `poll_for_trigger`), not method-call names.
        Self::wait_for_trigger(self).await.map_err(InterruptError::Pin)?;
        let count =
            self.driver.drain_fifo(self.queue.refill()).await.map_err(InterruptError::Driver)?;
        self.refilled(count).ok_or(InterruptError::NoData)
    }
}

impl<D, P: Wait, const N: usize> InterruptDriven<D, P, N> {
    /// Sleeps until the pin shows the trigger.
    async fn wait_for_trigger(&mut self) -> Result<(), P::Error> {
        match self.trigger {
            Trigger::High => self.pin.wait_for_high().await,
            Trigger::Low => self.pin.wait_for_low().await,
            Trigger::RisingEdge => self.pin.wait_for_rising_edge().await,
            Trigger::FallingEdge => self.pin.wait_for_falling_edge().await,
        }
    }
}

impl<D, P: InputPin, const N: usize> InterruptDriven<D, P, N> {
    /// Polls the pin until it is at the trigger's active level (edges poll for the level after
    /// the edge).
    fn poll_for_trigger(&mut self) -> Result<(), P::Error> {
        loop {
            let active = match self.trigger {
                Trigger::High | Trigger::RisingEdge => self.pin.is_high(),
                Trigger::Low | Trigger::FallingEdge => self.pin.is_low(),
            };
            if active? {
                return Ok(());
            }
        }
    }
}
