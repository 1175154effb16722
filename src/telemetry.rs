//! Telemetry: read the graph's [`Stats`] from anywhere, consistently, and send them compactly.
//!
//! The graph updates its statistics in its own task. [`SharedStats`] is where it publishes a copy
//! for an interrupt handler, another task or a radio stack to read: a `critical-section` mutex
//! around a [`Stats`] value, so a reader never sees half an update, on any core or executor.
//! [`SharedStats::take`] reads and resets in one critical section, for "report, then count afresh".
//!
//! With the `serde` feature, [`to_postcard`] and [`to_json`] encode a snapshot into a buffer the
//! caller lends — compact binary for a LoRa/BLE payload, JSON for an MQTT broker — and
//! [`from_postcard`]/[`from_json`] decode them (for gateways and tests). With `defmt`, `Stats`
//! logs directly: `defmt::info!("{}", stats)`.
//!
//! [`UpdateReport`] tells which model version runs and how updates went (installed, confirmed,
//! reverted, refused and why); with the `update` feature it is filled from the
//! [`Updater`](crate::update::Updater)'s results.
//!
//! This module does not transmit anything and does not decide when to report.

use crate::stats::Stats;
use core::cell::Cell;
use critical_section::Mutex;

/// Statistics shared between the graph and readers in other contexts (ISRs, tasks).
///
/// ```
/// use edge_reflex::stats::Stats;
/// use edge_reflex::telemetry::SharedStats;
///
/// static TELEMETRY: SharedStats = SharedStats::new();
///
/// let mut stats = Stats::default();
/// stats.samples = 640;
/// TELEMETRY.publish(&stats);            // the graph's task, e.g. after every window
/// let report = TELEMETRY.take();        // the reporting task: read and reset atomically
/// assert_eq!(report.samples, 640);
/// assert_eq!(TELEMETRY.snapshot().samples, 0);
/// ```
pub struct SharedStats {
    inner: Mutex<Cell<Stats>>,
}

impl SharedStats {
    /// Empty statistics (usable in a `static`).
    pub const fn new() -> Self {
        SharedStats { inner: Mutex::new(Cell::new(Stats::new())) }
    }

    /// Replaces the shared copy with `stats`.
    pub fn publish(&self, stats: &Stats) {
        critical_section::with(|cs| self.inner.borrow(cs).set(*stats));
    }

    /// A consistent copy of the shared statistics.
    pub fn snapshot(&self) -> Stats {
        critical_section::with(|cs| self.inner.borrow(cs).get())
    }

    /// A consistent copy, resetting the shared statistics to zero in the same critical section.
    pub fn take(&self) -> Stats {
        critical_section::with(|cs| self.inner.borrow(cs).replace(Stats::new()))
    }
}

impl Default for SharedStats {
    fn default() -> Self {
        Self::new()
    }
}

/// Why a snapshot could not be encoded or decoded.
#[cfg(feature = "serde")]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum ExportError {
    /// The buffer is too small for the encoding.
    BufferFull,
    /// The bytes are not a valid encoding of [`Stats`].
    Malformed,
}

/// Encodes `stats` with postcard (varints, no field names) into `buf`; returns the bytes used.
/// A full snapshot takes well under 128 bytes.
#[cfg(feature = "serde")]
pub fn to_postcard<'b>(stats: &Stats, buf: &'b mut [u8]) -> Result<&'b mut [u8], ExportError> {
    postcard::to_slice(stats, buf).map_err(|e| match e {
        postcard::Error::SerializeBufferFull => ExportError::BufferFull,
        _ => ExportError::Malformed,
    })
}

/// Decodes a postcard snapshot.
#[cfg(feature = "serde")]
pub fn from_postcard(bytes: &[u8]) -> Result<Stats, ExportError> {
    postcard::from_bytes(bytes).map_err(|_| ExportError::Malformed)
}

/// Encodes `stats` as JSON into `buf`; returns the number of bytes written.
#[cfg(feature = "serde")]
pub fn to_json(stats: &Stats, buf: &mut [u8]) -> Result<usize, ExportError> {
    serde_json_core::to_slice(stats, buf).map_err(|e| match e {
        serde_json_core::ser::Error::BufferFull => ExportError::BufferFull,
        _ => ExportError::Malformed,
    })
}

/// Decodes a JSON snapshot.
#[cfg(feature = "serde")]
pub fn from_json(bytes: &[u8]) -> Result<Stats, ExportError> {
    serde_json_core::from_slice(bytes).map(|(s, _)| s).map_err(|_| ExportError::Malformed)
}

/// Why an update was refused, in the few kinds a fleet dashboard counts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum Refusal {
    /// Not authentic: bad digest, bad signature, another key, not a bundle.
    Authenticity,
    /// Not newer than the running model, or not the version announced.
    Version,
    /// Authentic, but this device cannot run it as stated (engine, operators, plan, known
    /// answer).
    Check,
    /// The transfer went wrong: a chunk's CRC, offset or length, a short bundle, a read-back.
    Transfer,
    /// The flash or the state log failed.
    Storage,
    /// Asked at the wrong time (a trial pending, nothing to confirm, no download).
    Sequence,
}

#[cfg(feature = "update")]
impl Refusal {
    /// The kind of an updater error.
    pub fn of<E>(error: &crate::update::UpdateError<E>) -> Refusal {
        use crate::update::UpdateError as U;
        match error {
            U::Verify(_) => Refusal::Authenticity,
            U::Rollback { .. } | U::VersionMismatch => Refusal::Version,
            U::Check(_) => Refusal::Check,
            U::ChunkOffset { .. }
            | U::ChunkCrc
            | U::ChunkLength
            | U::Readback
            | U::Incomplete
            | U::Size => Refusal::Transfer,
            U::Flash(_) | U::Layout | U::StateFull | U::Corrupt | U::NoModel => Refusal::Storage,
            U::TrialPending | U::NoTrial | U::NoDownload => Refusal::Sequence,
        }
    }
}

/// The model and its updates, for telemetry: the running version, whether it is on trial, and
/// counts of what updates did since the reset. Fill it from the updater's results
/// ([`booted`](Self::booted), [`finished`](Self::finished), [`confirmed`](Self::confirmed),
/// [`rejected`](Self::rejected)) and send it with the statistics.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct UpdateReport {
    /// The version of the running model (0 before one runs).
    pub model_version: u32,
    /// Whether the running model is a trial the application has not confirmed yet.
    pub trial: bool,
    /// Updates received, verified and activated as a trial.
    pub installed: u32,
    /// Trials confirmed.
    pub confirmed: u32,
    /// Trials reverted (a reset before confirmation, or rejected).
    pub reverted: u32,
    /// Update steps refused.
    pub refused: u32,
    /// The kind of the last refusal.
    pub last_refusal: Option<Refusal>,
}

#[cfg(feature = "update")]
impl UpdateReport {
    /// After [`Updater::boot`](crate::update::Updater::boot): `trial_before` is what
    /// [`Updater::trial`](crate::update::Updater::trial) said before it. Records the running
    /// model, and a revert if the trial did not boot.
    pub fn booted(
        &mut self,
        trial_before: Option<crate::update::Installed>,
        booted: &crate::update::Booted,
    ) {
        self.model_version = booted.model.version;
        self.trial = booted.trial;
        if trial_before.is_some_and(|t| !booted.trial || booted.model != t) {
            self.reverted = self.reverted.saturating_add(1);
        }
    }

    /// Records an update step's refusal, if it was one (any step: `begin`, `write_chunk`,
    /// `finish`, ...).
    pub fn step<T, E>(&mut self, outcome: &Result<T, crate::update::UpdateError<E>>) {
        if let Err(e) = outcome {
            self.refused = self.refused.saturating_add(1);
            self.last_refusal = Some(Refusal::of(e));
        }
    }

    /// After [`Updater::finish`](crate::update::Updater::finish): an installed trial or a
    /// refusal.
    pub fn finished<E>(
        &mut self,
        outcome: &Result<crate::update::Installed, crate::update::UpdateError<E>>,
    ) {
        match outcome {
            Ok(_) => self.installed = self.installed.saturating_add(1),
            Err(_) => self.step(outcome),
        }
    }

    /// After [`Updater::confirm`](crate::update::Updater::confirm).
    pub fn confirmed<E>(
        &mut self,
        outcome: &Result<crate::update::Installed, crate::update::UpdateError<E>>,
    ) {
        match outcome {
            Ok(model) => {
                self.confirmed = self.confirmed.saturating_add(1);
                self.model_version = model.version;
                self.trial = false;
            }
            Err(_) => self.step(outcome),
        }
    }

    /// After a successful [`Updater::reject`](crate::update::Updater::reject): the trial is
    /// reverted (the previous model runs from the next boot).
    pub fn rejected(&mut self) {
        self.reverted = self.reverted.saturating_add(1);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn take_resets_and_snapshot_does_not() {
        let shared = SharedStats::new();
        let mut s = Stats::new();
        s.inferences = 3;
        shared.publish(&s);
        assert_eq!(shared.snapshot().inferences, 3);
        assert_eq!(shared.snapshot().inferences, 3);
        assert_eq!(shared.take().inferences, 3);
        assert_eq!(shared.snapshot(), Stats::new());
    }

    fn busy_stats() -> Stats {
        let mut s = Stats::new();
        s.samples = 60_000;
        s.windows = 1_874;
        s.inferences = 148;
        s.gated_out = 1_726;
        s.anomalies = 68;
        s.errors.sensor = 2;
        s.errors.window = 1;
        for v in [3, 5, 4] {
            s.latency.record(v);
        }
        for x in [9.81f32, 9.79, 9.84] {
            s.input_level.record(x);
        }
        s.input_energy.record(0.052);
        s.score.record(-0.25);
        s.score.record(9.75);
        s.drift_events = 1;
        s.health.out_of_range = 500;
        s.health.stuck = 1;
        s.health.events = 2;
        s
    }

    #[cfg(feature = "serde")]
    #[test]
    fn postcard_round_trip_is_compact_and_exact() {
        let s = busy_stats();
        let mut buf = [0u8; 128];
        let used = to_postcard(&s, &mut buf).unwrap().len();
        assert!(used < 80, "{used} bytes");
        assert_eq!(from_postcard(&buf[..used]), Ok(s));
        let mut small = [0u8; 8];
        assert_eq!(to_postcard(&s, &mut small), Err(ExportError::BufferFull));
        assert_eq!(from_postcard(&buf[..used / 2]), Err(ExportError::Malformed));
    }

    #[cfg(feature = "serde")]
    #[test]
    fn json_round_trip_is_exact_and_readable() {
        let s = busy_stats();
        let mut buf = [0u8; 1024];
        let n = to_json(&s, &mut buf).unwrap();
        let text = core::str::from_utf8(&buf[..n]).unwrap();
        assert!(text.starts_with("{\"samples\":60000,\"windows\":1874,"), "{text}");
        assert!(text.contains("\"drift_events\":1"));
        assert!(text.contains("\"health\":{\"out_of_range\":500,\"stuck\":1,"), "{text}");
        assert_eq!(from_json(&buf[..n]), Ok(s));
        assert_eq!(to_json(&s, &mut [0u8; 16]), Err(ExportError::BufferFull));
        assert_eq!(from_json(b"{\"samples\":"), Err(ExportError::Malformed));
    }

    #[test]
    fn readers_in_other_threads_see_whole_updates() {
        // Each published Stats has samples == windows; a torn read would break that.
        static SHARED: SharedStats = SharedStats::new();
        let writer = std::thread::spawn(|| {
            for i in 0..20_000u32 {
                let mut s = Stats::new();
                s.samples = i;
                s.windows = i;
                SHARED.publish(&s);
            }
        });
        for _ in 0..20_000 {
            let s = SHARED.snapshot();
            assert_eq!(s.samples, s.windows);
        }
        writer.join().unwrap();
    }
}
