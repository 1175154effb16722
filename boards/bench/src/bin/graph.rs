//! The graph's own CPU cost on a Cortex-M4F, for docs/power.md: the whole 60 s demo run of
//! `edge_reflex::vibration` (60,000 samples of the simulated bearing) fed through `Graph::feed`, once
//! with the streaming z-score model and once with `models/bearing_classifier.tflite` through the
//! engine. Each `feed` call sits between `zscore_begin`/`zscore_end` or `int8_begin`/`int8_end`, so the
//! QEMU instruction-count plugin run with one pair of markers sums exactly the instructions the graph
//! executes (generating the simulated samples is outside the markers). The run also checks the
//! counters against the host's (`tests/graph_bearing.rs`, `tests/bearing_model.rs`) and exits non-zero
//! through semihosting on any difference. Run by `scripts/power.sh`.
#![no_std]
#![no_main]

use core::hint::black_box;
use cortex_m as _; // its critical-section implementation (single core) links in
use cortex_m_rt::{entry, exception, ExceptionFrame};
use cortex_m_semihosting::{debug, hprintln};
use edge_reflex::action::NoAction;
use edge_reflex::engine::{Interpreter, TfLiteModel};
use edge_reflex::model::Model;
use edge_reflex::sim::{Bearing, BearingConfig, DEMO_FAULTS, DEMO_SAMPLES};
use edge_reflex::stats::Stats;
use edge_reflex::time::NoClock;

#[path = "../bench/vectors.rs"]
mod vectors;
use edge_reflex::vibration::{self, VibrationConfig};

static MODEL: &[u8] = include_bytes!("../../../../models/bearing_classifier.tflite");

// Markers for the instruction-count plugin: never inlined, never folded.
#[unsafe(no_mangle)]
#[inline(never)]
pub extern "C" fn zscore_begin() {
    black_box(1u32); // a distinct body per marker, so the linker cannot fold them
}

#[unsafe(no_mangle)]
#[inline(never)]
pub extern "C" fn zscore_end() {
    black_box(2u32); // a distinct body per marker, so the linker cannot fold them
}

#[unsafe(no_mangle)]
#[inline(never)]
pub extern "C" fn int8_begin() {
    black_box(3u32); // a distinct body per marker, so the linker cannot fold them
}

#[unsafe(no_mangle)]
#[inline(never)]
pub extern "C" fn int8_end() {
    black_box(4u32); // a distinct body per marker, so the linker cannot fold them
}

/// A sensor that is never read: samples are fed directly.
struct Fed;

impl edge_reflex::sensor::Sensor for Fed {
    type Sample = [f32; 3];
    type Error = ();
    fn read(&mut self) -> Result<[f32; 3], ()> {
        Err(())
    }
}

fn run<M: Model>(
    model: M,
    config: &VibrationConfig,
    begin: extern "C" fn(),
    end: extern "C" fn(),
) -> Stats {
    let mut bearing = Bearing::new(BearingConfig::default(), &DEMO_FAULTS);
    let Ok(mut graph) = vibration::graph(Fed, model, NoAction, NoClock, config) else {
        return Stats::default();
    };
    for _ in 0..DEMO_SAMPLES {
        let sample = bearing.next_sample();
        begin();
        let _ = black_box(graph.feed(sample));
        end();
    }
    *graph.stats()
}

fn check(name: &str, s: &Stats, inferences: u32, anomalies: u32) -> bool {
    hprintln!(
        "graph {}: samples={} windows={} inferences={} gated_out={} anomalies={}",
        name,
        s.samples,
        s.windows,
        s.inferences,
        s.gated_out,
        s.anomalies
    );
    s.samples == DEMO_SAMPLES
        && s.windows == 1874
        && s.inferences == inferences
        && s.anomalies == anomalies
}

#[repr(align(16))]
struct Arena([u8; 4096]);

#[entry]
fn main() -> ! {
    static mut ARENA: Arena = Arena([0; 4096]);
    let zscore_cfg = VibrationConfig::default();
    let zscore = match vibration::zscore_model(&zscore_cfg) {
        Ok(model) => run(model, &zscore_cfg, zscore_begin, zscore_end),
        Err(_) => Stats::default(),
    };
    let mut ok = check("zscore", &zscore, 148, 68);
    let int8 = TfLiteModel::load(MODEL).ok().and_then(|model| {
        let interpreter = Interpreter::new(&model, &mut ARENA.0).ok()?;
        Some(run(interpreter, &VibrationConfig::classifier(), int8_begin, int8_end))
    });
    match int8 {
        Some(int8) => ok &= check("int8", &int8, 148, 71),
        None => {
            hprintln!("graph int8: the model did not load or plan");
            ok = false;
        }
    }
    debug::exit(if ok { debug::EXIT_SUCCESS } else { debug::EXIT_FAILURE });
    loop {}
}

#[exception]
unsafe fn HardFault(_frame: &ExceptionFrame) -> ! {
    debug::exit(debug::EXIT_FAILURE);
    loop {}
}

#[panic_handler]
fn panic(_: &core::panic::PanicInfo) -> ! {
    debug::exit(debug::EXIT_FAILURE);
    loop {}
}
