//! Instruction-count benchmark of the micro_speech front-end (see `scripts/bench-frontend.sh`).
//!
//! Each measured piece runs between [`bench_begin`] and [`bench_end`], whose addresses the QEMU
//! counting plugin (`scripts/bench-op-count.c`, `mode=each`) takes as region markers, so region
//! `K` is the `K`-th measurement, in this order:
//!
//! * regions 0..=48: the 49 frames of `yes_1000ms`, one `MicroFrontend::push` of the frame's new
//!   samples (480 for the first, then 320: one 20 ms step) with the int8 conversion;
//! * region 49: one inference of the micro_speech model on those 49 frames;
//! * region 50: `microfft::real::rfft_256` on 256 samples;
//! * region 51 (Cortex-M4F only): the keyword-spotting graph (`Window<f32, 480, 320>` ->
//!   `MicroSpeechStage<49>` -> `EveryNth(4)` -> the model) fed, sample by sample, the 100 frames
//!   (32 000 samples) of `no_1000ms` and `silence_1000ms` that follow `yes_1000ms`, the
//!   spectrogram full from the start: 100 front-end frames and 25 inferences;
//! * region 52 (Cortex-M4F only): the same with a model that does nothing (the graph's own work).
#![no_std]
#![no_main]

use core::hint::black_box;

use cortex_m_rt::{entry, exception, ExceptionFrame};
use cortex_m_semihosting::{debug, hprintln};
use edge_reflex::engine::{Interpreter, TfLiteModel};
use edge_reflex::frontend::microfrontend::{to_model_input, MicroFrontend, NUM_CHANNELS};

/// 16-byte alignment for the model and the arena.
#[repr(C, align(16))]
pub struct Aligned<T>(pub T);

#[allow(dead_code)] // generated constants; the firmware uses those it needs
mod fixtures {
    use super::Aligned;
    include!(concat!(env!("OUT_DIR"), "/fixtures.rs"));
}

/// Frames in the model's input.
const FRAMES: usize = 49;

/// Opens a measured region (the plugin's `start` marker).
#[no_mangle]
#[inline(never)]
pub extern "C" fn bench_begin() {
    cortex_m::asm::nop();
}

/// Closes a measured region (the plugin's `stop` marker).
#[no_mangle]
#[inline(never)]
pub extern "C" fn bench_end() {
    cortex_m::asm::nop();
    cortex_m::asm::nop();
}

fn sample(pcm: &[u8], i: usize) -> i16 {
    i16::from_le_bytes([pcm[2 * i], pcm[2 * i + 1]])
}

fn fail(what: &str) -> ! {
    hprintln!("bench-frontend: {}", what);
    debug::exit(debug::EXIT_FAILURE);
    loop {
        core::hint::spin_loop();
    }
}

/// A model that does nothing, with micro_speech's input and output: region 52 measures the graph
/// around the model.
#[cfg(kws_graph)]
struct NoModel {
    input: [i8; FRAMES * NUM_CHANNELS],
    output: [i8; 4],
}

#[cfg(kws_graph)]
impl edge_reflex::model::Model for NoModel {
    type Error = core::convert::Infallible;
    fn input(&mut self) -> &mut [i8] {
        &mut self.input
    }
    fn input_quant(&self) -> edge_reflex::model::QuantParams {
        edge_reflex::model::QuantParams { scale: 1.0, zero_point: 0 }
    }
    fn input_shape(&self) -> edge_reflex::model::Shape {
        edge_reflex::model::Shape::from_dims([1, 1960])
    }
    fn invoke(&mut self) -> Result<(), Self::Error> {
        black_box(&mut self.input);
        Ok(())
    }
    fn output(&self) -> &[i8] {
        &self.output
    }
    fn output_quant(&self) -> edge_reflex::model::QuantParams {
        edge_reflex::model::QuantParams { scale: 1.0 / 256.0, zero_point: -128 }
    }
    fn output_shape(&self) -> edge_reflex::model::Shape {
        edge_reflex::model::Shape::from_dims([1, 4])
    }
}

#[cfg(kws_graph)]
fn kws_graph<M: edge_reflex::model::Model>(interpreter: M) -> u32 {
    use edge_reflex::action::{NoAction, Rule};
    use edge_reflex::frontend::microfrontend::{STEP_SAMPLES, WINDOW_SAMPLES};
    use edge_reflex::frontend::stage::MicroSpeechStage;
    use edge_reflex::gate::EveryNth;
    use edge_reflex::graph::{Graph, Stages};
    use edge_reflex::time::NoClock;
    use edge_reflex::window::Window;

    let mut graph = Graph::new(
        Stages {
            sensor: (),
            window: Window::<f32, WINDOW_SAMPLES, STEP_SAMPLES>::new(),
            gate: EveryNth::new(4),
            quantizer: MicroSpeechStage::<FRAMES>::quantizer(),
            model: interpreter,
            rule: Rule::ArgMaxIs { class: 2, min_score: 0.8 },
            action: NoAction,
        },
        NoClock,
    )
    .with_features(MicroSpeechStage::<FRAMES>::new());
    let clips = [fixtures::YES_1000MS, fixtures::NO_1000MS, fixtures::SILENCE_1000MS];
    let samples = |n: usize| sample(clips[n / 16_000], n % 16_000);
    // The first 49 frames fill the spectrogram (and run the model once).
    let full = 480 + 48 * 320;
    for n in 0..full {
        let _ = graph.feed(f32::from(samples(n)));
    }
    bench_begin();
    for n in full..full + 100 * 320 {
        let _ = graph.feed(f32::from(samples(n)));
    }
    bench_end();
    graph.stats().inferences
}

#[entry]
fn main() -> ! {
    static mut ARENA: Aligned<[u8; fixtures::ARENA_BYTES]> = Aligned([0; fixtures::ARENA_BYTES]);
    static mut FRONTEND: MicroFrontend = MicroFrontend::new();
    static mut INPUT: [i8; FRAMES * NUM_CHANNELS] = [0; FRAMES * NUM_CHANNELS];

    // Regions 0..=48: the front-end, frame by frame.
    let mut chunk = [0i16; 480];
    let mut at = 0;
    for frame in 0..FRAMES {
        let n = if frame == 0 { 480 } else { 320 };
        for (k, c) in chunk[..n].iter_mut().enumerate() {
            *c = sample(fixtures::YES_1000MS, at + k);
        }
        at += n;
        let row = &mut INPUT[frame * NUM_CHANNELS..(frame + 1) * NUM_CHANNELS];
        bench_begin();
        FRONTEND.push(black_box(&chunk[..n]), |features| {
            let mut q = [0i8; NUM_CHANNELS];
            to_model_input(features, &mut q);
            row.copy_from_slice(&q);
        });
        bench_end();
    }

    // Region 49: the model.
    let Ok(model) = TfLiteModel::load(&fixtures::MODEL.0) else { fail("the model does not load") };
    let Ok(mut interpreter) = Interpreter::new(&model, &mut ARENA.0) else {
        fail("no interpreter in the arena")
    };
    let Some(input) = interpreter.input_bytes(0) else { fail("no input") };
    for (b, &q) in input.iter_mut().zip(INPUT.iter()) {
        *b = q as u8;
    }
    bench_begin();
    let ran = interpreter.invoke();
    bench_end();
    if ran.is_err() {
        fail("the model failed");
    }
    let yes = interpreter.output_bytes(0).and_then(|o| o.get(2).copied());

    // Region 50: microfft's 256-point real FFT.
    let mut buffer = [0.0f32; 256];
    for (n, b) in buffer.iter_mut().enumerate() {
        *b = f32::from(sample(fixtures::YES_1000MS, 8000 + n)) / 32768.0;
    }
    bench_begin();
    let spectrum = microfft::real::rfft_256(black_box(&mut buffer));
    bench_end();
    black_box(spectrum);

    // Region 51: the keyword-spotting graph.
    #[cfg(kws_graph)]
    let inferences = kws_graph(&mut interpreter);
    // Region 52: the same graph around a model that does nothing.
    #[cfg(kws_graph)]
    kws_graph(NoModel { input: [0; FRAMES * NUM_CHANNELS], output: [0; 4] });
    #[cfg(not(kws_graph))]
    let inferences = 0u32;

    hprintln!(
        "bench-frontend: {} frames, model output yes {:?}, graph inferences {}",
        FRAMES,
        yes.map(|b| b as i8),
        inferences
    );
    debug::exit(debug::EXIT_SUCCESS);
    loop {
        core::hint::spin_loop();
    }
}

#[panic_handler]
fn panic(_: &core::panic::PanicInfo) -> ! {
    fail("panic")
}

#[exception]
unsafe fn HardFault(_frame: &ExceptionFrame) -> ! {
    hprintln!("bench-frontend: HARDFAULT");
    debug::exit(debug::EXIT_FAILURE);
    loop {
        core::hint::spin_loop();
    }
}
