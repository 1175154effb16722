//! The vibration reflex as the physical boards run it: one async task, generic over embedded-hal.
//!
//! [`run_vibration_reflex`] is the whole firmware once a board has wired its peripherals:
//!
//! 1. brings up a LIS3DH on the async I2C bus ([`bring_up`]: address probe, retries) and turns on
//!    its 32-level FIFO in stream mode with the watermark routed to INT1;
//! 2. wraps it in [`InterruptDriven`], so the task sleeps on the INT1 pin (`Wait`; WFE under
//!    embassy) until a batch is ready, then drains the FIFO in one burst read;
//! 3. builds [`vibration::graph`] — the same graph, gate and settings as the host tests and the
//!    QEMU boards — around the int8 bearing-fault classifier run by the TFLite engine in an arena
//!    sized exactly at build time ([`model`]), with the board's LED as the alarm
//!    ([`PinAlarm`]: lit while a window is classified as a fault);
//! 4. watches the input and the anomaly rate for drift against a learned baseline
//!    ([`DriftLog`] logs the events);
//! 5. logs every anomaly, and every [`ReflexConfig::telemetry_period_us`] the graph's
//!    [`Stats`](edge_reflex::stats::Stats) with the time the core was awake, measured on the
//!    device ([`MeteredPin`]), through defmt.
//!
//! Errors never stop it: a failed read is counted by the graph, logged once per run of failures,
//! and after [`ReflexConfig::recover_after`] consecutive failures the sensor is configured again.
//!
//! It does not configure clocks, pins or interrupt controllers (the board crate does), and it
//! never returns.

mod bring_up;
mod config;
pub mod model;
mod telemetry;

pub use bring_up::{bring_up, configure, Accelerometer};
pub use config::ReflexConfig;
pub use telemetry::{DriftLog, MeteredPin, Period, SleepMeter};

use edge_reflex::action::PinAlarm;
use edge_reflex::drivers::{InterruptDriven, Trigger};
use edge_reflex::graph::{GraphError, Step};
use edge_reflex::time::Clock;
use edge_reflex::vibration;
use embedded_hal::digital::OutputPin;
use embedded_hal_async::delay::DelayNs;
use embedded_hal_async::digital::Wait;
use embedded_hal_async::i2c::I2c;

/// Samples one wake-up can drain: the LIS3DH FIFO depth, so one burst empties the chip.
pub const QUEUE: usize = 32;

/// Wait after a failed read before the next one, ms (a stuck-high INT1 must not spin the core).
const READ_ERROR_BACKOFF_MS: u32 = 10;

/// Runs the vibration reflex forever: LIS3DH on `i2c` with its INT1 on `int1`, alarm on `led`
/// (high = lit; wrap active-low LEDs in [`ActiveLow`](crate::led::ActiveLow)).
///
/// `delay` paces retries; `clock` (µs, wrapping) times inferences and the telemetry period, e.g.
/// `|| embassy_time::Instant::now().as_micros() as u32`.
pub async fn run_vibration_reflex<I2C, INT, LED, D, C>(
    i2c: I2C,
    int1: INT,
    led: LED,
    delay: D,
    clock: C,
    config: &ReflexConfig,
) -> !
where
    I2C: I2c,
    INT: Wait,
    LED: OutputPin,
    D: DelayNs,
    C: Clock + Clone,
{
    run_reflex(i2c, int1, led, delay, clock, config, &BuiltIn).await
}

/// Which model the reflex runs, and what it reports back: the model-update glue
/// (`crate::update::ModelUpdates`) or only the built-in model.
pub(crate) trait Models {
    /// A model from a flash slot to run instead of the built-in one: bytes, plan, version.
    fn slot_model(&self) -> Option<(&'static [u8], &'static [u8], u32)>;
    /// The slot model cannot run in this firmware (the built-in one runs instead).
    fn refuse_slot_model(&self);
    /// An inference succeeded.
    fn inferred(&self);
}

/// Only the built-in model.
struct BuiltIn;

impl Models for BuiltIn {
    fn slot_model(&self) -> Option<(&'static [u8], &'static [u8], u32)> {
        None
    }
    fn refuse_slot_model(&self) {}
    fn inferred(&self) {}
}

/// [`run_vibration_reflex`] with the model chosen by `models`.
pub(crate) async fn run_reflex<I2C, INT, LED, D, C, M>(
    i2c: I2C,
    int1: INT,
    led: LED,
    mut delay: D,
    clock: C,
    config: &ReflexConfig,
    models: &M,
) -> !
where
    I2C: I2c,
    INT: Wait,
    LED: OutputPin,
    D: DelayNs,
    C: Clock + Clone,
    M: Models,
{
    defmt::info!("edge-reflex vibration reflex: {}", config);
    let mut slot = models.slot_model();
    if let Some((bytes, plan, version)) = slot {
        if model::fits(bytes, plan) {
            defmt::info!("model version {=u32} from its flash slot", version);
        } else {
            defmt::warn!("the slot model (version {=u32}) does not fit this firmware", version);
            models.refuse_slot_model();
            slot = None;
        }
    }
    let (bytes, plan): (&'static [u8], &'static [u8]) = match slot {
        Some((bytes, plan, _)) => (bytes, plan),
        None => (&model::MODEL.0, &model::PLAN),
    };
    // A local of the task: it lives in the task's static storage as long as the interpreter.
    let mut arena = model::arena();
    let model = match model::interpreter_for(bytes, plan, &mut arena) {
        Ok(model) => model,
        Err(error) => {
            defmt::error!("model refused ({}); the reflex cannot run", error);
            loop {
                delay.delay_ms(config.retry_ms).await;
            }
        }
    };
    defmt::info!("model: {=usize} bytes, arena {=usize} bytes", bytes.len(), model::ARENA_BYTES);
    let accelerometer = bring_up(i2c, &mut delay, config).await;
    let sleep = SleepMeter::new();
    let int1 = MeteredPin::new(int1, clock.clone(), &sleep);
    let sensor =
        InterruptDriven::<_, _, QUEUE>::new(accelerometer, int1).with_trigger(Trigger::High);
    let actions = (PinAlarm::new(led), DriftLog);
    let mut graph = match vibration::graph(sensor, model, actions, clock.clone(), &config.vibration)
    {
        Ok(graph) => graph.with_drift_monitor(config.drift),
        Err(error) => {
            defmt::error!("model quantization refused ({}); the reflex cannot run", error);
            loop {
                delay.delay_ms(config.retry_ms).await;
            }
        }
    };
    let mut telemetry = Period::new(clock, config.telemetry_period_us);
    let mut failed_reads: u32 = 0;
    loop {
        match graph.step_async().await {
            Ok(step) => {
                failed_reads = 0;
                if let Step::Inferred(decision) = step {
                    models.inferred();
                    if decision.triggered {
                        defmt::info!("anomaly: score {=f32}", decision.score);
                    }
                }
            }
            Err(GraphError::Sensor(error)) => {
                failed_reads = failed_reads.saturating_add(1);
                if failed_reads == 1 {
                    defmt::warn!("sensor read failed: {}", error.kind());
                }
                if failed_reads >= config.recover_after {
                    defmt::warn!(
                        "{=u32} reads failed in a row: configuring the sensor again",
                        failed_reads
                    );
                    recover(graph.sensor_mut().driver_mut(), &mut delay, config).await;
                    failed_reads = 0;
                } else {
                    delay.delay_ms(READ_ERROR_BACKOFF_MS).await;
                }
            }
            Err(GraphError::NonFiniteSample) => defmt::warn!("non-finite sample dropped"),
            Err(GraphError::OutOfRange) => defmt::warn!("out-of-range sample dropped"),
            Err(GraphError::Quantize(error)) => defmt::error!("quantizer: {}", error),
            Err(GraphError::Model(_)) => defmt::warn!("inference failed"),
            Err(GraphError::Action(_)) => defmt::warn!("alarm LED write failed"),
        }
        if let Some(period_us) = telemetry.elapsed() {
            let (waited_us, wakes) = sleep.take();
            let awake_us = u64::from(period_us).saturating_sub(waited_us);
            let stats = graph.take_stats();
            defmt::info!(
                "telemetry: {=u32} ms, awake {=u64} us ({=f32} %), {=u32} wake-ups, {=f32} % of windows gated out, drift {}; {}",
                period_us / 1000,
                awake_us,
                100.0 * awake_us as f32 / period_us.max(1) as f32,
                wakes,
                100.0 * stats.gated_fraction(),
                graph.drift_status(),
                stats
            );
        }
    }
}

/// Configures the sensor again until it accepts (same retry policy as [`bring_up`]).
async fn recover<I2C: I2c, D: DelayNs>(
    sensor: &mut Accelerometer<I2C>,
    delay: &mut D,
    config: &ReflexConfig,
) {
    loop {
        match configure(sensor, config).await {
            Ok(()) => return,
            Err(error) => {
                defmt::warn!("configuring the LIS3DH failed: {}", error.kind());
                delay.delay_ms(config.retry_ms).await;
            }
        }
    }
}
