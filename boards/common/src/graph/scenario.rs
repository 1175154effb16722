//! The graph scenario of the emulated boards, compiled twice from this one file: into the firmware,
//! and into the board's `build.rs`, which runs it on the host to produce the expected outcome.
//!
//! A LIS3DH *driver of the crate* reads a simulated bearing (`sim::Bearing`, five injected fault
//! episodes, 60 s at 1 kHz) through a simulated I2C bus ([`SimLis3dh`]: the chip's register bytes,
//! ±2 g high-resolution counts), and `vibration::graph` — the graph every board runs — windows,
//! gates, quantizes, runs the model and drives an alarm pin. [`Outcome`] records what a person
//! would compare: the graph's counters, each detection's sample index, which faults were found, the
//! alarm's rising edges, and a hash of every decision score. Host and target must agree exactly.
//!
//! Only `core`, `edge_reflex` and `embedded_hal` may be used here (no `crate::` paths): the build
//! script includes this file with `#[path]`.

use core::convert::Infallible;

use edge_reflex::action::PinAlarm;
use edge_reflex::drivers::lis3dh::{Config, DataRate, Lis3dh, Mode, Range};
use edge_reflex::graph::Step;
use edge_reflex::model::Model;
use edge_reflex::sim::{Bearing, BearingConfig, DEMO_FAULTS};
use edge_reflex::time::NoClock;
use edge_reflex::vibration::{self, VibrationConfig, WINDOW};
use embedded_hal::i2c::{ErrorType, I2c, Operation, SevenBitAddress};

/// The LIS3DH's I2C address (SA0 low).
pub const ADDRESS: u8 = 0x18;
/// Detections kept by sample index (all of them are hashed).
pub const MAX_DETECTIONS: usize = 24;

/// What one run of the scenario did; equal on host and target, field for field.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Outcome {
    /// Samples the graph took.
    pub samples: u32,
    /// Windows that became ready.
    pub windows: u32,
    /// Windows the model ran on.
    pub inferences: u32,
    /// Windows the gate kept from the model.
    pub gated_out: u32,
    /// Inferences whose decision triggered.
    pub anomalies: u32,
    /// Errors of any stage.
    pub errors: u32,
    /// Injected fault episodes overlapped by at least one triggered window.
    pub faults_detected: u32,
    /// Triggered windows that overlap no fault episode.
    pub false_alarms: u32,
    /// Times the alarm pin went high.
    pub alarm_rises: u32,
    /// Last sample index of the first [`MAX_DETECTIONS`] triggered windows (0 = unused).
    pub detections: [u32; MAX_DETECTIONS],
    /// FNV-1a over every detection index and every decision score's bits, in order.
    pub hash: u32,
}

/// Runs `samples` samples of the demo bearing through the vibration reflex scored by `model`.
// Not inlined: its locals (graphs, interpreters) take stack only while it runs.
#[inline(never)]
pub fn run<M: Model>(model: M, config: &VibrationConfig, samples: u32) -> Outcome {
    let bus = SimLis3dh::new(Bearing::new(BearingConfig::default(), &DEMO_FAULTS));
    let mut sensor = Lis3dh::new_i2c(bus, ADDRESS).with_config(Config {
        data_rate: DataRate::Hz1344,
        range: Range::G2,
        mode: Mode::HighResolution,
    });
    let mut outcome = Outcome {
        samples: 0,
        windows: 0,
        inferences: 0,
        gated_out: 0,
        anomalies: 0,
        errors: 0,
        faults_detected: 0,
        false_alarms: 0,
        alarm_rises: 0,
        detections: [0; MAX_DETECTIONS],
        hash: FNV_OFFSET,
    };
    if sensor.init().is_err() {
        outcome.errors = u32::MAX;
        return outcome;
    }
    let alarm = PinAlarm::new(AlarmPin::default());
    let Ok(mut graph) = vibration::graph(sensor, model, alarm, NoClock, config) else {
        outcome.errors = u32::MAX;
        return outcome;
    };

    let mut found = [false; DEMO_FAULTS.len()];
    let mut kept = 0;
    for i in 0..samples {
        if let Ok(Step::Inferred(decision)) = graph.step() {
            outcome.hash = fnv(outcome.hash, decision.score.to_bits());
            if decision.triggered {
                outcome.hash = fnv(outcome.hash, i);
                if let Some(slot) = outcome.detections.get_mut(kept) {
                    *slot = i;
                    kept += 1;
                }
                let first = (i + 1).saturating_sub(WINDOW as u32);
                let mut any = false;
                for (k, fault) in DEMO_FAULTS.iter().enumerate() {
                    if fault.overlaps(first, i) {
                        any = true;
                        if let Some(f) = found.get_mut(k) {
                            *f = true;
                        }
                    }
                }
                if !any {
                    outcome.false_alarms += 1;
                }
            }
        }
    }
    let stats = *graph.stats();
    outcome.samples = stats.samples;
    outcome.windows = stats.windows;
    outcome.inferences = stats.inferences;
    outcome.gated_out = stats.gated_out;
    outcome.anomalies = stats.anomalies;
    outcome.errors = stats.errors.total();
    outcome.faults_detected = found.iter().filter(|&&f| f).count() as u32;
    let (stages, _clock) = graph.into_stages();
    outcome.alarm_rises = stages.action.release().rises;
    outcome
}

const FNV_OFFSET: u32 = 0x811c_9dc5;

fn fnv(mut hash: u32, word: u32) -> u32 {
    for byte in word.to_le_bytes() {
        hash ^= u32::from(byte);
        hash = hash.wrapping_mul(0x0100_0193);
    }
    hash
}

/// The alarm LED: counts its rising edges.
#[derive(Default)]
pub struct AlarmPin {
    high: bool,
    /// Low-to-high transitions so far.
    pub rises: u32,
}

impl embedded_hal::digital::ErrorType for AlarmPin {
    type Error = Infallible;
}

impl embedded_hal::digital::OutputPin for AlarmPin {
    fn set_low(&mut self) -> Result<(), Infallible> {
        self.high = false;
        Ok(())
    }
    fn set_high(&mut self) -> Result<(), Infallible> {
        if !self.high {
            self.rises += 1;
        }
        self.high = true;
        Ok(())
    }
}

/// A LIS3DH on an I2C bus, as far as the driver can tell: WHO_AM_I answers 0x33, register writes
/// are kept, and every read of OUT_X_L..OUT_Z_H returns the next bearing sample in ±2 g
/// high-resolution counts (1 mg per count, 12 bits left-justified, little-endian).
pub struct SimLis3dh<'a> {
    bearing: Bearing<'a>,
    registers: [u8; 0x40],
    pointer: u8,
}

impl<'a> SimLis3dh<'a> {
    const WHO_AM_I: u8 = 0x0F;
    const OUT_X_L: u8 = 0x28;
    /// Sub-address bit asking for auto-increment.
    const AUTO_INCREMENT: u8 = 0x80;

    /// A chip whose accelerations come from `bearing`.
    pub fn new(bearing: Bearing<'a>) -> Self {
        let mut registers = [0; 0x40];
        registers[Self::WHO_AM_I as usize] = 0x33;
        SimLis3dh { bearing, registers, pointer: 0 }
    }

    fn read(&mut self, buffer: &mut [u8]) {
        if self.pointer == Self::OUT_X_L && buffer.len() == 6 {
            let sample = self.bearing.next_sample();
            for (axis, bytes) in sample.iter().zip(buffer.chunks_exact_mut(2)) {
                let mg = edge_reflex::math::round(axis / 9.806_65 * 1000.0).clamp(-2048.0, 2047.0);
                bytes.copy_from_slice(&((mg as i16) << 4).to_le_bytes());
            }
            return;
        }
        for byte in buffer.iter_mut() {
            *byte = self.registers.get(usize::from(self.pointer)).copied().unwrap_or(0);
            self.pointer = self.pointer.wrapping_add(1);
        }
    }

    fn write(&mut self, bytes: &[u8]) {
        let Some((&sub_address, values)) = bytes.split_first() else { return };
        self.pointer = sub_address & !Self::AUTO_INCREMENT;
        for &value in values {
            if let Some(register) = self.registers.get_mut(usize::from(self.pointer)) {
                *register = value;
            }
            self.pointer = self.pointer.wrapping_add(1);
        }
    }
}

impl ErrorType for SimLis3dh<'_> {
    type Error = Infallible;
}

impl I2c<SevenBitAddress> for SimLis3dh<'_> {
    fn transaction(
        &mut self,
        _address: u8,
        operations: &mut [Operation<'_>],
    ) -> Result<(), Infallible> {
        for operation in operations {
            match operation {
                Operation::Write(bytes) => self.write(bytes),
                Operation::Read(buffer) => self.read(buffer),
            }
        }
        Ok(())
    }
}
