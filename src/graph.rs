//! The graph: `Sensor -> Window -> Features -> Gate -> Quantizer -> Model -> Action`, composed
//! statically.
//!
//! [`Graph`] owns the six stages (given as [`Stages`]) and a [`Clock`]; the feature stage is the
//! window's own samples ([`Raw`]) unless [`Graph::with_features`] puts another
//! [`FeatureStage`] in (spectral features, a spectrogram: see [`feature`](crate::feature)). One call of
//! [`Graph::step`] reads one sample and pushes it through as far as it goes, reporting a [`Step`]:
//! the sample was only buffered, the window was gated out, or the model ran and an action saw the
//! [`Decision`]. [`Graph::run`] repeats that at a sampling period with an embedded-hal `DelayNs`;
//! [`Graph::step_async`]/[`Graph::run_async`] do the same over an [`AsyncSensor`] and an async delay,
//! sharing every line of stage logic through [`Graph::feed`].
//!
//! Errors never stop the graph and never corrupt the window: a failed read or a NaN sample is
//! counted and reported and the window is untouched; a failed model or action is counted and
//! reported and the next sample is processed normally. There is no dynamic dispatch and no heap.
//!
//! With a [`HealthMonitor`] ([`Graph::with_health_monitor`]) the graph also watches the sensor
//! itself: samples beyond its full scale are refused like NaN samples
//! ([`GraphError::OutOfRange`]), and a frozen sensor, a dead axis or a sensor that stopped
//! delivering samples are raised as [`HealthEvent`](crate::health::HealthEvent)s to
//! [`Action::on_health`] and counted in [`Stats::health`]. When a dropout is raised the window is
//! emptied, so no window ever joins the samples before a gap to those after it.

use crate::action::{Action, Decision, Rule, Scores};
use crate::drift::{DriftConfig, DriftMonitor, DriftStatus};
use crate::feature::{FeatureStage, Raw};
use crate::gate::{Gate, GateInput};
use crate::health::{HealthConfig, HealthEvents, HealthKind, HealthMonitor};
use crate::model::Model;
use crate::quantizer::Quantizer;
use crate::sample::Sample;
use crate::sensor::{AsyncSensor, Sensor};
use crate::stats::{bump, Stats};
use crate::time::Clock;
use crate::window::{Features, Window};
use core::convert::Infallible;

/// The six stages, named, for [`Graph::new`].
pub struct Stages<Sn, T: Sample, G, Q, M, A, const N: usize, const HOP: usize> {
    /// Where samples come from.
    pub sensor: Sn,
    /// The rolling buffer; its type fixes the window length `N` and the hop `HOP`.
    pub window: Window<T, N, HOP>,
    /// Whether a ready window goes to the model.
    pub gate: G,
    /// Window to int8 model input.
    pub quantizer: Q,
    /// The int8 model.
    pub model: M,
    /// Scores to decision.
    pub rule: Rule,
    /// What a decision does.
    pub action: A,
}

/// What one step did with its sample.
#[derive(Clone, Copy, Debug, PartialEq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Step {
    /// The sample went into the window; no window was ready, or the feature stage had no
    /// features yet (a streaming front-end still filling its history).
    Sampled,
    /// A window was ready and the gate kept it from the model.
    GatedOut,
    /// The model ran; the action saw this decision.
    Inferred(Decision),
}

/// What went wrong in a step, by stage. The graph stays usable after every one of them.
#[derive(Clone, Copy, Debug, PartialEq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum GraphError<SE, ME, AE> {
    /// The sensor read failed; nothing entered the window.
    Sensor(SE),
    /// The sample had a NaN or infinite channel; nothing entered the window.
    NonFiniteSample,
    /// A channel of the sample was beyond the sensor's full scale (see
    /// [`health`](crate::health)); nothing entered the window.
    OutOfRange,
    /// The window does not fit the model's input (a wiring mistake: check `N` × channels).
    Quantize(crate::quantizer::QuantizeError),
    /// The model failed on this window.
    Model(ME),
    /// The model ran and decided, but the action failed (the decision is in
    /// [`Graph::last_decision`]).
    Action(AE),
}

impl<ME, AE> GraphError<Infallible, ME, AE> {
    fn with_sensor_error<SE>(self) -> GraphError<SE, ME, AE> {
        match self {
            GraphError::Sensor(never) => match never {},
            GraphError::NonFiniteSample => GraphError::NonFiniteSample,
            GraphError::OutOfRange => GraphError::OutOfRange,
            GraphError::Quantize(e) => GraphError::Quantize(e),
            GraphError::Model(e) => GraphError::Model(e),
            GraphError::Action(e) => GraphError::Action(e),
        }
    }
}

/// The result of feeding one sample that did not come from the graph's own sensor.
pub type FeedResult<M, A> =
    Result<Step, GraphError<Infallible, <M as Model>::Error, <A as Action>::Error>>;

/// A sensor-to-action reflex; see the [module docs](self) and the crate example. `F` is the
/// feature stage ([`Raw`]: the window's samples go to the quantizer as they are).
pub struct Graph<Sn, T: Sample, G, Q, M, A, C, const N: usize, const HOP: usize, F = Raw> {
    sensor: Sn,
    window: Window<T, N, HOP>,
    features: F,
    gate: G,
    quantizer: Q,
    model: M,
    rule: Rule,
    action: A,
    clock: C,
    stats: Stats,
    last_decision: Option<Decision>,
    drift: Option<DriftMonitor>,
    health: Option<HealthMonitor<T>>,
}

impl<Sn, T, G, Q, M, A, C, const N: usize, const HOP: usize> Graph<Sn, T, G, Q, M, A, C, N, HOP>
where
    T: Sample,
    G: Gate,
    Q: Quantizer<T>,
    M: Model,
    A: Action,
    C: Clock,
{
    /// Composes the stages; `clock` times inferences and drives rate-limiting gates. The window's
    /// samples go to the quantizer as they are ([`Raw`]); see [`with_features`](Self::with_features).
    pub fn new(stages: Stages<Sn, T, G, Q, M, A, N, HOP>, clock: C) -> Self {
        let Stages { sensor, window, gate, quantizer, model, rule, action } = stages;
        Graph {
            sensor,
            window,
            features: Raw,
            gate,
            quantizer,
            model,
            rule,
            action,
            clock,
            stats: Stats::default(),
            last_decision: None,
            drift: None,
            health: None,
        }
    }
}

impl<Sn, T, G, Q, M, A, C, F, const N: usize, const HOP: usize>
    Graph<Sn, T, G, Q, M, A, C, N, HOP, F>
where
    T: Sample,
    G: Gate,
    F: FeatureStage<T, N, HOP>,
    Q: Quantizer<F::Output>,
    M: Model,
    A: Action,
    C: Clock,
{
    /// Puts `features` between the window and the gate: every ready window goes through it and
    /// its output, not the window's samples, is what the quantizer writes into the model's input.
    /// The quantizer must take the stage's output (an [`AffineQuantizer`] takes any sample).
    ///
    /// [`AffineQuantizer`]: crate::quantizer::AffineQuantizer
    pub fn with_features<F2>(self, features: F2) -> Graph<Sn, T, G, Q, M, A, C, N, HOP, F2>
    where
        F2: FeatureStage<T, N, HOP>,
        Q: Quantizer<F2::Output>,
    {
        let Graph {
            sensor,
            window,
            features: _,
            gate,
            quantizer,
            model,
            rule,
            action,
            clock,
            stats,
            last_decision,
            drift,
            health,
        } = self;
        Graph {
            sensor,
            window,
            features,
            gate,
            quantizer,
            model,
            rule,
            action,
            clock,
            stats,
            last_decision,
            drift,
            health,
        }
    }

    /// The feature stage (read-only).
    pub fn features(&self) -> &F {
        &self.features
    }

    /// Adds a sensor health monitor that sees every read; see [`health`](crate::health).
    pub fn with_health_monitor(mut self, config: HealthConfig) -> Self {
        self.health = Some(HealthMonitor::new(config));
        self
    }

    /// The health monitor, `None` without one (its state: [`HealthMonitor::is_healthy`]).
    pub fn health(&self) -> Option<&HealthMonitor<T>> {
        self.health.as_ref()
    }

    /// Tells the health monitor that a sampling period passed with no sample at all (a data-ready
    /// interrupt that never came, an empty FIFO), for callers that [`feed`](Self::feed) samples
    /// themselves; [`step`](Self::step) counts its failed reads on its own. Reports the action's
    /// error if a health event was raised and the action failed.
    pub fn missed_period(&mut self) -> Result<(), A::Error> {
        let events = match self.health.as_mut() {
            Some(h) => h.missed(),
            None => return Ok(()),
        };
        self.report_health(&events)
    }

    /// Counts health events and passes them to the action; the first action error is returned
    /// (all events are delivered and counted).
    fn report_health(&mut self, events: &HealthEvents) -> Result<(), A::Error> {
        if events.is_empty() {
            return Ok(());
        }
        let mut result = Ok(());
        for event in events.iter() {
            if event.kind == HealthKind::Dropout && event.active {
                // The samples before the gap and after it are not one signal: the next window
                // is made of fresh samples only.
                self.window.clear();
                self.features.reset();
            }
            self.stats.health.record(event);
            if let Err(e) = self.action.on_health(event) {
                bump(&mut self.stats.errors.action);
                if result.is_ok() {
                    result = Err(e);
                }
            }
        }
        result
    }

    /// Adds a drift monitor that watches every ready window; its events are counted in
    /// [`Stats::drift_events`] and passed to [`Action::on_drift`].
    pub fn with_drift_monitor(mut self, config: DriftConfig) -> Self {
        self.drift = Some(DriftMonitor::new(config));
        self
    }

    /// The drift monitor's status, `None` without a monitor.
    pub fn drift_status(&self) -> Option<DriftStatus> {
        self.drift.as_ref().map(DriftMonitor::status)
    }

    fn observe_drift(&mut self, features: &Features, anomalous: bool) -> Result<(), A::Error> {
        let Some(event) = self.drift.as_mut().and_then(|m| m.observe(features, anomalous)) else {
            return Ok(());
        };
        bump(&mut self.stats.drift_events);
        self.action.on_drift(&event).inspect_err(|_| bump(&mut self.stats.errors.action))
    }

    /// Pushes one sample (from anywhere: a FIFO drain, a test vector) through window, gate,
    /// quantizer, model and action. [`step`](Self::step) is `read` + `feed`.
    pub fn feed(&mut self, sample: T) -> FeedResult<M, A> {
        let (accepted, events) = match self.health.as_mut() {
            None => (true, HealthEvents::default()),
            Some(h) if !sample.is_finite() => (true, h.missed()),
            Some(h) => {
                let checked = h.check(&sample);
                (checked.accepted, checked.events)
            }
        };
        let health = self.report_health(&events);
        if !accepted {
            self.stats.health.out_of_range = self.stats.health.out_of_range.saturating_add(1);
            return Err(GraphError::OutOfRange);
        }
        let ready = match self.window.push(sample) {
            Ok(ready) => ready,
            Err(_) => {
                bump(&mut self.stats.errors.window);
                return Err(GraphError::NonFiniteSample);
            }
        };
        let step = self.feed_window(ready)?;
        health.map_err(GraphError::Action)?;
        Ok(step)
    }

    /// The part of [`feed`](Self::feed) after the sample entered the window.
    fn feed_window(&mut self, ready: bool) -> FeedResult<M, A> {
        bump(&mut self.stats.samples);
        if !ready {
            return Ok(Step::Sampled);
        }
        bump(&mut self.stats.windows);
        let start = self.clock.now();
        let features = self.window.features();
        let (older, newer) = self.window.as_slices();
        let Some((older, newer)) = self.features.extract(older, newer) else {
            return Ok(Step::Sampled);
        };
        self.stats.input_level.record(features.mean);
        self.stats.input_energy.record(features.std_dev);
        if !self.gate.admit(&GateInput { features, now: start }) {
            bump(&mut self.stats.gated_out);
            self.observe_drift(&features, false).map_err(GraphError::Action)?;
            return Ok(Step::GatedOut);
        }
        if let Err(e) = self.quantizer.quantize(older, newer, self.model.input()) {
            bump(&mut self.stats.errors.quantizer);
            return Err(GraphError::Quantize(e));
        }
        if let Err(e) = self.model.invoke() {
            bump(&mut self.stats.errors.model);
            return Err(GraphError::Model(e));
        }
        let end = self.clock.now();
        self.stats.latency.record(end.micros_since(start));
        self.gate.on_inference(start);
        bump(&mut self.stats.inferences);
        let scores = Scores::new(self.model.output(), self.model.output_quant());
        let decision = self.rule.decide(&scores);
        if decision.triggered {
            bump(&mut self.stats.anomalies);
        }
        self.stats.score.record(decision.score);
        self.last_decision = Some(decision);
        let acted = self.action.act(&decision, &scores);
        let drift = self.observe_drift(&features, decision.triggered);
        if let Err(e) = acted {
            bump(&mut self.stats.errors.action);
            return Err(GraphError::Action(e));
        }
        drift.map_err(GraphError::Action)?;
        Ok(Step::Inferred(decision))
    }

    /// Feeds the outcome of a sensor read: the sample, or the read's error (counted).
    fn feed_read<E>(&mut self, read: Result<T, E>) -> StepResult<E, M, A> {
        match read {
            Ok(sample) => self.feed(sample).map_err(GraphError::with_sensor_error),
            Err(e) => {
                bump(&mut self.stats.errors.sensor);
                // A failed read is a period without a sample; its health event (if any) is
                // counted and delivered, and the read's own error is what the step reports.
                let _ = self.missed_period();
                Err(GraphError::Sensor(e))
            }
        }
    }

    /// The statistics so far.
    pub fn stats(&self) -> &Stats {
        &self.stats
    }

    /// Returns the statistics and starts counting afresh (after a telemetry report).
    pub fn take_stats(&mut self) -> Stats {
        core::mem::take(&mut self.stats)
    }

    /// The decision of the last inference, if any.
    pub fn last_decision(&self) -> Option<Decision> {
        self.last_decision
    }

    /// The window (read-only).
    pub fn window(&self) -> &Window<T, N, HOP> {
        &self.window
    }

    /// The model (read-only: scores, baseline).
    pub fn model(&self) -> &M {
        &self.model
    }

    /// The gate, to retune thresholds at run time.
    pub fn gate_mut(&mut self) -> &mut G {
        &mut self.gate
    }

    /// The action, e.g. to reset a latched alarm.
    pub fn action_mut(&mut self) -> &mut A {
        &mut self.action
    }

    /// The sensor, e.g. to reconfigure it.
    pub fn sensor_mut(&mut self) -> &mut Sn {
        &mut self.sensor
    }

    /// Takes the graph apart again (the feature stage is dropped).
    pub fn into_stages(self) -> (Stages<Sn, T, G, Q, M, A, N, HOP>, C) {
        let Graph { sensor, window, gate, quantizer, model, rule, action, clock, .. } = self;
        (Stages { sensor, window, gate, quantizer, model, rule, action }, clock)
    }

    fn wait_micros(&mut self, started: crate::time::Instant, period_us: u32) -> u32 {
        period_us.saturating_sub(self.clock.now().micros_since(started))
    }
}

/// The result of one step of a graph whose sensor is `Sn` (blocking or async).
pub type StepResult<E, M, A> =
    Result<Step, GraphError<E, <M as Model>::Error, <A as Action>::Error>>;

impl<Sn, T, G, Q, M, A, C, F, const N: usize, const HOP: usize>
    Graph<Sn, T, G, Q, M, A, C, N, HOP, F>
where
    Sn: Sensor<Sample = T>,
    T: Sample,
    G: Gate,
    F: FeatureStage<T, N, HOP>,
    Q: Quantizer<F::Output>,
    M: Model,
    A: Action,
    C: Clock,
{
    /// Reads one sample and [`feed`](Self::feed)s it.
    pub fn step(&mut self) -> StepResult<Sn::Error, M, A> {
        let read = self.sensor.read();
        self.feed_read(read)
    }

    /// Steps every `period_us` (less the time the step took) until `on_step` returns `false`.
    pub fn run<D: embedded_hal::delay::DelayNs>(
        &mut self,
        delay: &mut D,
        period_us: u32,
        mut on_step: impl FnMut(&StepResult<Sn::Error, M, A>) -> bool,
    ) {
        loop {
            let started = self.clock.now();
            let result = self.step();
            if !on_step(&result) {
                return;
            }
            let wait = self.wait_micros(started, period_us);
            delay.delay_us(wait);
        }
    }
}

impl<Sn, T, G, Q, M, A, C, F, const N: usize, const HOP: usize>
    Graph<Sn, T, G, Q, M, A, C, N, HOP, F>
where
    Sn: AsyncSensor<Sample = T>,
    T: Sample,
    G: Gate,
    F: FeatureStage<T, N, HOP>,
    Q: Quantizer<F::Output>,
    M: Model,
    A: Action,
    C: Clock,
{
    /// Awaits one sample and [`feed`](Self::feed)s it: the async mirror of [`step`](Self::step).
    pub async fn step_async(&mut self) -> StepResult<Sn::Error, M, A> {
        let read = self.sensor.read().await;
        self.feed_read(read)
    }

    /// The async mirror of [`run`](Self::run): sleeps in the async delay between steps.
    pub async fn run_async<D: embedded_hal_async::delay::DelayNs>(
        &mut self,
        delay: &mut D,
        period_us: u32,
        mut on_step: impl FnMut(&StepResult<Sn::Error, M, A>) -> bool,
    ) {
        loop {
            let started = self.clock.now();
            let result = self.step_async().await;
            if !on_step(&result) {
                return;
            }
            let wait = self.wait_micros(started, period_us);
            delay.delay_us(wait).await;
        }
    }
}

/// Diagnostic snapshots (feature `serde`): an optional hook, [`Graph::feed_recording`].
#[cfg(feature = "serde")]
impl<Sn, T, G, Q, M, A, C, const N: usize, const HOP: usize> Graph<Sn, T, G, Q, M, A, C, N, HOP>
where
    T: Sample,
    G: Gate,
    Q: Quantizer<T>,
    M: Model,
    A: Action,
    C: Clock,
{
    /// [`feed`](Self::feed), and a diagnostic snapshot into `recorder` when the rule fires: the
    /// window that fired, quantized as the model saw it (the quantizer is re-applied to the
    /// window, which the model does not change), the model's output, the clock's time after the
    /// decision, then each following sample that enters the window, quantized alone, until the
    /// recorder has its `FOLLOW` bytes (see [`SnapshotRecorder`](crate::diagnostic::SnapshotRecorder)).
    /// Only a decision returned as [`Step::Inferred`] starts a snapshot.
    pub fn feed_recording<
        const WINDOW: usize,
        const FOLLOW: usize,
        const SCORES: usize,
        const SLOTS: usize,
        const BYTES: usize,
    >(
        &mut self,
        sample: T,
        recorder: &mut crate::diagnostic::SnapshotRecorder<WINDOW, FOLLOW, SCORES, SLOTS, BYTES>,
    ) -> FeedResult<M, A> {
        let following = recorder.is_recording();
        let result = self.feed(sample);
        let entered = !matches!(result, Err(GraphError::NonFiniteSample | GraphError::OutOfRange));
        if following && entered {
            let quantizer = &self.quantizer;
            recorder.follow(T::CHANNELS, |out| {
                quantizer.quantize(&[], core::slice::from_ref(&sample), out).is_ok()
            });
        } else if matches!(result, Ok(Step::Inferred(d)) if d.triggered) {
            let time = self.clock.now();
            let (older, newer) = self.window.as_slices();
            let quantizer = &self.quantizer;
            recorder.start(
                time,
                (older.len() + newer.len()) * T::CHANNELS,
                |out| quantizer.quantize(older, newer, out).is_ok(),
                self.model.output(),
            );
        }
        result
    }
}
