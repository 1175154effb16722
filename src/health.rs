//! Sensor health: is the sensor itself still telling the truth?
//!
//! A model can only judge the machine through the sensor. A [`HealthMonitor`] watches every read
//! the graph makes — before the window — for the four ways a sensor fails quietly:
//!
//! | [`HealthKind`] | seen as | raised when | ends when |
//! |---|---|---|---|
//! | `OutOfRange` | a finite channel beyond the sensor's full scale (a glitch, a corrupted read) | the first such sample | [`HealthConfig::range_recovery`] in-range samples in a row |
//! | `Stuck` | every channel repeats its previous value exactly (a frozen sensor, a stale register) | [`HealthConfig::stuck_samples`] samples in a row | the first changed sample |
//! | `DeadAxis` | one channel repeats exactly while another clearly lives (a broken axis, a cut wire) | that channel's run reaches `stuck_samples` | the channel changes again |
//! | `Dropout` | periods without an accepted sample (failed reads, NaN, out-of-range samples) | [`HealthConfig::dropout_periods`] in a row | the next accepted sample |
//!
//! Out-of-range samples are refused (the graph reports
//! [`GraphError::OutOfRange`](crate::graph::GraphError::OutOfRange) and the window never sees
//! them), like NaN samples; the other conditions do not alter the samples: they are reported.
//! Each change of state is one [`HealthEvent`]; the graph counts them in
//! [`Stats::health`](crate::stats::Stats::health) and passes them to
//! [`Action::on_health`](crate::action::Action::on_health), as it does drift events.
//!
//! Exact repetition is the test for a flat line because a live sensor's noise moves its least
//! significant bits from one sample to the next; pick `stuck_samples` so that a real quiet signal
//! cannot repeat that long (a window's length is a good start). This module does not decide what
//! to do about a failing sensor (re-initialise it, raise a maintenance flag): the action does.

use crate::sample::Sample;

/// Channels whose flat lines are told apart ([`HealthKind::DeadAxis`]); further channels only
/// count towards [`HealthKind::Stuck`] through the first ones.
pub const MAX_CHANNELS: usize = 8;

/// Settings of the health monitor.
#[derive(Clone, Copy, Debug, PartialEq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct HealthConfig {
    /// Largest magnitude a channel can report (the sensor's full scale, in its units); finite
    /// samples beyond it are refused. `f32::INFINITY` turns the check off.
    pub full_scale: f32,
    /// Samples in a row with a channel exactly unchanged before it counts as flat (0: off).
    pub stuck_samples: u32,
    /// Sampling periods in a row without an accepted sample before the sensor counts as stopped
    /// (0: off).
    pub dropout_periods: u32,
    /// In-range samples in a row that end an out-of-range episode.
    pub range_recovery: u32,
}

impl Default for HealthConfig {
    /// No range check (no full scale known), flat after 64 samples, stopped after 64 periods, an
    /// out-of-range episode ends after 1,000 good samples.
    fn default() -> Self {
        HealthConfig {
            full_scale: f32::INFINITY,
            stuck_samples: 64,
            dropout_periods: 64,
            range_recovery: 1_000,
        }
    }
}

/// What is wrong with the sensor.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum HealthKind {
    /// Samples beyond the full scale arrive (and are refused).
    OutOfRange,
    /// Every channel is frozen.
    Stuck,
    /// One channel is frozen while others live ([`HealthEvent::channel`] says which).
    DeadAxis,
    /// No sample has been accepted for a while.
    Dropout,
}

/// A change of one health condition.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct HealthEvent {
    /// The condition.
    pub kind: HealthKind,
    /// `true` when it starts, `false` when the sensor is back to normal.
    pub active: bool,
    /// The channel, for [`HealthKind::DeadAxis`] and [`HealthKind::OutOfRange`] (the first
    /// offending one when it starts); `None` otherwise.
    pub channel: Option<u8>,
    /// Samples (or periods, for a dropout) the condition had lasted when the event was raised.
    pub run: u32,
}

/// Counters of the health monitor, kept in [`Stats::health`](crate::stats::Stats::health).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct HealthCounts {
    /// Samples refused as beyond the full scale.
    pub out_of_range: u32,
    /// Frozen-sensor episodes.
    pub stuck: u32,
    /// Dead-axis episodes.
    pub dead_axis: u32,
    /// Dropout episodes.
    pub dropouts: u32,
    /// Health events reported (starts and ends).
    pub events: u32,
}

impl HealthCounts {
    /// All zero (usable in a `static`).
    pub const fn new() -> Self {
        HealthCounts { out_of_range: 0, stuck: 0, dead_axis: 0, dropouts: 0, events: 0 }
    }

    /// Counts one event.
    pub fn record(&mut self, event: &HealthEvent) {
        self.events = self.events.saturating_add(1);
        if !event.active {
            return;
        }
        let counter = match event.kind {
            HealthKind::OutOfRange => return,
            HealthKind::Stuck => &mut self.stuck,
            HealthKind::DeadAxis => &mut self.dead_axis,
            HealthKind::Dropout => &mut self.dropouts,
        };
        *counter = counter.saturating_add(1);
    }
}

/// The events one read caused (at most one per [`HealthKind`]).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct HealthEvents {
    events: [Option<HealthEvent>; 4],
}

impl HealthEvents {
    fn push(&mut self, event: HealthEvent) {
        if let Some(slot) = self.events.iter_mut().find(|e| e.is_none()) {
            *slot = Some(event);
        }
    }

    /// The events, in the order they happened.
    pub fn iter(&self) -> impl Iterator<Item = &HealthEvent> {
        self.events.iter().flatten()
    }

    /// `true` when the read changed nothing.
    pub fn is_empty(&self) -> bool {
        self.events[0].is_none()
    }
}

/// What the monitor concluded about one sample.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Checked {
    /// `false` when the sample must not enter the window (beyond the full scale).
    pub accepted: bool,
    /// The state changes it caused.
    pub events: HealthEvents,
}

/// Watches the reads of one sensor; see the [module docs](self).
///
/// ```
/// use edge_reflex::health::{HealthConfig, HealthKind, HealthMonitor};
/// let config = HealthConfig { full_scale: 20.0, stuck_samples: 4, ..HealthConfig::default() };
/// let mut health = HealthMonitor::<[f32; 2]>::new(config);
/// assert!(!health.check(&[1e20, 0.0]).accepted); // finite, but no sensor reads that
/// for i in 0..4 {
///     let checked = health.check(&[i as f32, 9.8]); // the second channel never moves
///     let dead = checked.events.iter().find(|e| e.kind == HealthKind::DeadAxis).copied();
///     assert_eq!(dead.map(|e| (e.active, e.channel)), (i == 3).then_some((true, Some(1))));
/// }
/// assert!(health.is_active(HealthKind::DeadAxis));
/// ```
#[derive(Clone, Debug)]
pub struct HealthMonitor<S: Sample> {
    config: HealthConfig,
    last: Option<S>,
    /// Per channel: samples in a row with the same value (1 = it just changed).
    runs: [u32; MAX_CHANNELS],
    missed: u32,
    in_range: u32,
    out_of_range: bool,
    stuck: bool,
    dead_axis: Option<u8>,
    dropout: bool,
}

impl<S: Sample> HealthMonitor<S> {
    /// A monitor with `config`; a NaN or negative full scale turns the range check off.
    pub fn new(config: HealthConfig) -> Self {
        let full_scale = if config.full_scale >= 0.0 { config.full_scale } else { f32::INFINITY };
        HealthMonitor {
            config: HealthConfig { full_scale, ..config },
            last: None,
            runs: [0; MAX_CHANNELS],
            missed: 0,
            in_range: 0,
            out_of_range: false,
            stuck: false,
            dead_axis: None,
            dropout: false,
        }
    }

    /// The settings.
    pub fn config(&self) -> &HealthConfig {
        &self.config
    }

    /// `true` while condition `kind` holds.
    pub fn is_active(&self, kind: HealthKind) -> bool {
        match kind {
            HealthKind::OutOfRange => self.out_of_range,
            HealthKind::Stuck => self.stuck,
            HealthKind::DeadAxis => self.dead_axis.is_some(),
            HealthKind::Dropout => self.dropout,
        }
    }

    /// `true` while no condition holds.
    pub fn is_healthy(&self) -> bool {
        !(self.out_of_range || self.stuck || self.dead_axis.is_some() || self.dropout)
    }

    /// Takes one finite sample: refuses it when a channel is beyond the full scale, otherwise
    /// follows the flat lines. (A non-finite sample is a [`missed`](Self::missed) period.)
    pub fn check(&mut self, sample: &S) -> Checked {
        let mut events = HealthEvents::default();
        let full_scale = self.config.full_scale;
        let beyond = (0..S::CHANNELS).find(|&c| sample.channel(c).abs() > full_scale);
        if let Some(channel) = beyond {
            self.in_range = 0;
            if !self.out_of_range {
                self.out_of_range = true;
                events.push(HealthEvent {
                    kind: HealthKind::OutOfRange,
                    active: true,
                    channel: Some(channel.min(u8::MAX as usize) as u8),
                    run: 1,
                });
            }
            self.miss(&mut events);
            return Checked { accepted: false, events };
        }
        self.in_range = self.in_range.saturating_add(1);
        if self.out_of_range && self.in_range >= self.config.range_recovery {
            self.out_of_range = false;
            events.push(HealthEvent {
                kind: HealthKind::OutOfRange,
                active: false,
                channel: None,
                run: self.in_range,
            });
        }
        if self.dropout {
            self.dropout = false;
            events.push(HealthEvent {
                kind: HealthKind::Dropout,
                active: false,
                channel: None,
                run: self.missed,
            });
        }
        self.missed = 0;
        self.follow_flat_lines(sample, &mut events);
        Checked { accepted: true, events }
    }

    /// A sampling period passed without an accepted sample (a failed read, a NaN sample, an
    /// empty FIFO); reports the dropout once enough of them follow each other.
    pub fn missed(&mut self) -> HealthEvents {
        let mut events = HealthEvents::default();
        self.miss(&mut events);
        events
    }

    fn miss(&mut self, events: &mut HealthEvents) {
        self.missed = self.missed.saturating_add(1);
        let limit = self.config.dropout_periods;
        if limit > 0 && self.missed >= limit && !self.dropout {
            self.dropout = true;
            events.push(HealthEvent {
                kind: HealthKind::Dropout,
                active: true,
                channel: None,
                run: self.missed,
            });
        }
    }

    fn follow_flat_lines(&mut self, sample: &S, events: &mut HealthEvents) {
        let channels = S::CHANNELS.min(MAX_CHANNELS);
        let mut longest = 0;
        for (c, run) in self.runs.iter_mut().enumerate().take(channels) {
            let same = self.last.is_some_and(|last| last.channel(c) == sample.channel(c));
            *run = if same { run.saturating_add(1) } else { 1 };
            longest = longest.max(*run);
        }
        self.last = Some(*sample);
        let limit = self.config.stuck_samples;
        // The common case, a live sensor: no run is long and nothing was flat, so nothing changes.
        if limit == 0 || longest < limit && !self.stuck && self.dead_axis.is_none() {
            return;
        }
        let runs = &self.runs[..channels];
        let stuck = runs.iter().all(|&r| r >= limit);
        // A channel is dead only while another clearly lives (changed within half the limit), so
        // a freezing sensor whose channels reach the limit a sample apart is `Stuck`, not dead.
        let alive = runs.iter().any(|&r| r < limit.div_ceil(2));
        let dead = if alive { runs.iter().position(|&r| r >= limit) } else { None };
        if stuck != self.stuck {
            self.stuck = stuck;
            let run = runs.iter().copied().min().unwrap_or(0);
            events.push(HealthEvent { kind: HealthKind::Stuck, active: stuck, channel: None, run });
        }
        let dead = dead.map(|c| c as u8);
        if dead != self.dead_axis {
            // The channel that was dead recovered (or another one died): end, then start.
            if let Some(was) = self.dead_axis {
                events.push(HealthEvent {
                    kind: HealthKind::DeadAxis,
                    active: false,
                    channel: Some(was),
                    run: self.runs[was as usize],
                });
            }
            if let Some(now) = dead {
                events.push(HealthEvent {
                    kind: HealthKind::DeadAxis,
                    active: true,
                    channel: Some(now),
                    run: self.runs[now as usize],
                });
            }
            self.dead_axis = dead;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::vec::Vec;

    fn config() -> HealthConfig {
        HealthConfig { full_scale: 20.0, stuck_samples: 8, dropout_periods: 5, range_recovery: 10 }
    }

    fn all(events: &HealthEvents) -> Vec<(HealthKind, bool)> {
        events.iter().map(|e| (e.kind, e.active)).collect()
    }

    #[test]
    fn out_of_range_samples_are_refused_and_reported_once() {
        let mut h = HealthMonitor::<[f32; 3]>::new(config());
        let mut events = Vec::new();
        for i in 0..100u32 {
            let x = 0.1 * i as f32;
            let s = if i % 10 == 3 { [0.0, -1e20, 0.0] } else { [x, 0.5 - x, 9.8 + x] };
            let c = h.check(&s);
            assert_eq!(c.accepted, i % 10 != 3);
            events.extend(c.events.iter().copied());
        }
        assert_eq!(events.len(), 1, "{events:?}");
        assert_eq!((events[0].kind, events[0].channel), (HealthKind::OutOfRange, Some(1)));
        // Ten good samples in a row end the episode; the full scale itself is in range.
        let ended =
            (0..10).find_map(|i| h.check(&[20.0, -20.0, i as f32]).events.iter().next().copied());
        assert_eq!(ended.map(|e| (e.kind, e.active)), Some((HealthKind::OutOfRange, false)));
        assert!(h.is_healthy());
    }

    #[test]
    fn a_frozen_sensor_is_stuck_and_a_frozen_channel_is_a_dead_axis() {
        let mut h = HealthMonitor::<[f32; 3]>::new(config());
        let mut log = Vec::new();
        for i in 0..20 {
            let x = 0.1 * i as f32;
            log.extend(all(&h.check(&[x, 1.0 - x, 2.0 * x]).events));
        }
        assert!(log.is_empty());
        for _ in 0..20 {
            log.extend(all(&h.check(&[7.0, 8.0, 9.0]).events));
        }
        assert_eq!(log, [(HealthKind::Stuck, true)]);
        assert!(h.is_active(HealthKind::Stuck));
        log.clear();
        // The Y axis dies at 0 while X and Z live.
        for i in 0..20 {
            log.extend(all(&h.check(&[i as f32, 0.0, -(i as f32)]).events));
        }
        assert_eq!(log, [(HealthKind::Stuck, false), (HealthKind::DeadAxis, true)]);
        let c = h.check(&[1.0, 0.5, 2.0]);
        let e = c.events.iter().next().copied().unwrap();
        assert_eq!((e.kind, e.active, e.channel), (HealthKind::DeadAxis, false, Some(1)));
    }

    #[test]
    fn missed_periods_become_a_dropout_until_a_sample_arrives() {
        let mut h = HealthMonitor::<f32>::new(config());
        for _ in 0..4 {
            assert!(h.missed().is_empty());
        }
        assert_eq!(all(&h.missed()), [(HealthKind::Dropout, true)]);
        assert!(h.missed().is_empty());
        let c = h.check(&1.0);
        assert_eq!(all(&c.events), [(HealthKind::Dropout, false)]);
        assert_eq!(c.events.iter().next().map(|e| e.run), Some(6));
    }

    #[test]
    fn counts_starts_per_kind_and_every_event() {
        let mut counts = HealthCounts::new();
        let e = |kind, active| HealthEvent { kind, active, channel: None, run: 1 };
        for (kind, active) in [
            (HealthKind::Stuck, true),
            (HealthKind::Stuck, false),
            (HealthKind::DeadAxis, true),
            (HealthKind::Dropout, true),
            (HealthKind::OutOfRange, true),
        ] {
            counts.record(&e(kind, active));
        }
        assert_eq!(
            counts,
            HealthCounts { out_of_range: 0, stuck: 1, dead_axis: 1, dropouts: 1, events: 5 }
        );
    }

    #[test]
    fn absurd_configuration_does_not_panic() {
        let mut h = HealthMonitor::<[f32; 2]>::new(HealthConfig {
            full_scale: f32::NAN,
            stuck_samples: u32::MAX,
            dropout_periods: 0,
            range_recovery: 0,
        });
        assert_eq!(h.config().full_scale, f32::INFINITY);
        for _ in 0..100 {
            assert!(h.check(&[f32::MAX, f32::MIN]).accepted);
            assert!(h.missed().is_empty());
        }
    }
}
