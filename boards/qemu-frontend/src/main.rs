//! The micro_speech front-end and keyword-spotting graph on an emulated Cortex-M4F (QEMU
//! `mps2-an386`), checked bit for bit against TensorFlow's goldens.
//!
//! `build.rs` embeds every clip of `tests/data/frontend` (its PCM and its golden u16 features,
//! int8 model input and model output) and the micro_speech model. For each clip this firmware
//! streams the PCM through `MicroFrontend` in 20 ms chunks and compares every u16 feature and every
//! int8 model input with the goldens (`case` lines); for the 1000 ms clips it runs the model on
//! the 49 frames and compares the output bytes. Then it runs the keyword-spotting graph
//! (`Window<f32, 480, 320>` -> `MicroSpeechStage<49>` -> every 4th frame -> the model) on the same
//! PCM, sample by sample, and prints what it heard (`graph` lines; the label must be the clip's
//! word and the output the golden one). Exits QEMU non-zero on any difference. Run it from this
//! directory:
//!
//! ```text
//! RUSTC=/usr/bin/rustc RUSTC_BOOTSTRAP=1 /usr/bin/cargo run --release
//! ```
#![no_std]
#![no_main]

use core::fmt::Write;

use board_common::semihosting::{exit, HostOut};
use board_common::{selftest, Aligned};
use cortex_m_rt::{entry, exception, ExceptionFrame};
use edge_reflex::action::{NoAction, Rule};
use edge_reflex::engine::{Interpreter, TfLiteModel};
use edge_reflex::frontend::microfrontend::{
    to_model_input, MicroFrontend, NUM_CHANNELS, STEP_SAMPLES, WINDOW_SAMPLES,
};
use edge_reflex::frontend::stage::MicroSpeechStage;
use edge_reflex::gate::EveryNth;
use edge_reflex::graph::{Graph, Stages, Step};
use edge_reflex::model::Model;
use edge_reflex::time::NoClock;
use edge_reflex::window::Window;

/// One clip of `tests/data/frontend` and its goldens.
pub struct Clip {
    /// The fixture's name.
    pub name: &'static str,
    /// The word it says (`None`: shorter than the model's 1 s window).
    pub word: Option<&'static str>,
    /// 16 kHz mono samples, little-endian `i16`.
    pub pcm: &'static [u8],
    /// Golden features, frames × 40 little-endian `u16`.
    pub u16: &'static [u8],
    /// Golden int8 features (the model's input), frames × 40.
    pub i8: &'static [u8],
    /// Golden model output (1000 ms clips).
    pub output: Option<&'static [u8]>,
}

/// `ARENA_BYTES`, `MODEL` and `CLIPS`.
#[allow(dead_code)] // every constant is generated; the firmware uses those it needs
mod fixtures {
    use super::Clip;
    include!(concat!(env!("OUT_DIR"), "/fixtures.rs"));
}

/// Frames the model sees.
const FRAMES: usize = 49;
/// The model's labels, in output order.
const LABELS: [&str; 4] = ["silence", "unknown", "yes", "no"];

/// The `i`-th sample of a clip.
fn sample(pcm: &[u8], i: usize) -> i16 {
    i16::from_le_bytes([pcm[2 * i], pcm[2 * i + 1]])
}

/// Streams a clip through the front-end in 20 ms chunks, compares every feature with the goldens
/// and leaves the int8 frames (at most `FRAMES`) in `input`; prints one `case` line.
fn check_features(
    out: &mut HostOut,
    frontend: &mut MicroFrontend,
    clip: &Clip,
    corrupt: bool,
    input: &mut [i8; FRAMES * NUM_CHANNELS],
) -> bool {
    frontend.reset();
    let mut frames = 0usize;
    // The first difference: (frame, channel, what, ours, golden).
    let mut first: Option<(usize, usize, &str, i32, i32)> = None;
    let mut chunk = [0i16; STEP_SAMPLES];
    let total = clip.pcm.len() / 2;
    let mut at = 0;
    while at < total {
        let n = (total - at).min(STEP_SAMPLES);
        for (k, c) in chunk[..n].iter_mut().enumerate() {
            *c = sample(clip.pcm, at + k);
        }
        at += n;
        frontend.push(&chunk[..n], |features| {
            let mut q = [0i8; NUM_CHANNELS];
            to_model_input(features, &mut q);
            for c in 0..NUM_CHANNELS {
                let j = frames * NUM_CHANNELS + c;
                let golden =
                    clip.u16.get(2 * j..2 * j + 2).map(|b| u16::from_le_bytes([b[0], b[1]]));
                let mut golden = golden.map_or(-1, i32::from);
                if corrupt && j == 0 {
                    golden ^= 1;
                }
                if first.is_none() && i32::from(features[c]) != golden {
                    first = Some((frames, c, "u16", i32::from(features[c]), golden));
                }
                let golden8 = clip.i8.get(j).map_or(-1000, |&b| i32::from(b as i8));
                if first.is_none() && i32::from(q[c]) != golden8 {
                    first = Some((frames, c, "int8", i32::from(q[c]), golden8));
                }
            }
            if let Some(row) = input.get_mut(frames * NUM_CHANNELS..(frames + 1) * NUM_CHANNELS) {
                row.copy_from_slice(&q);
            }
            frames += 1;
        });
    }
    let expected_frames = clip.u16.len() / (2 * NUM_CHANNELS);
    let ok = first.is_none() && frames == expected_frames;
    match first {
        Some((f, c, what, ours, golden)) => {
            let _ = writeln!(
                out,
                "case {}: FAIL sample {f} output {c}: {what} {ours}, golden {golden}",
                clip.name
            );
        }
        None => {
            let _ = writeln!(
                out,
                "case {}: {} {frames}/{expected_frames} frames x {NUM_CHANNELS}: u16 and int8 identical",
                clip.name,
                if ok { "PASS" } else { "FAIL" }
            );
        }
    }
    ok
}

/// Runs the model on the 49 frames of a 1000 ms clip and compares its output bytes.
fn check_model(
    out: &mut HostOut,
    interpreter: &mut Interpreter,
    clip: &Clip,
    golden: &[u8],
    input: &[i8; FRAMES * NUM_CHANNELS],
) -> bool {
    interpreter.input().copy_from_slice(input);
    let ran = interpreter.invoke().is_ok();
    let output = interpreter.output();
    let same = ran
        && output.len() == golden.len()
        && output.iter().zip(golden).all(|(&o, &g)| o as u8 == g);
    let _ = writeln!(
        out,
        "case {} model: {} output {:?}",
        clip.name,
        if same { "PASS" } else { "FAIL" },
        output
    );
    same
}

/// The keyword-spotting graph on a clip's PCM, sample by sample: one `graph` line.
fn check_graph(
    out: &mut HostOut,
    interpreter: &mut Interpreter,
    clip: &Clip,
    word: &str,
    golden: &[u8],
) -> bool {
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
    let mut best: Option<(usize, f32, usize)> = None;
    let mut errors = 0u32;
    for i in 0..clip.pcm.len() / 2 {
        match graph.feed(f32::from(sample(clip.pcm, i))) {
            Ok(Step::Inferred(d)) if best.is_none_or(|(_, s, _)| d.score > s) => {
                best = Some((d.class, d.score, i + 1));
            }
            Ok(_) => {}
            Err(_) => errors += 1,
        }
    }
    let output = graph.model().output();
    let mut same =
        output.len() == golden.len() && output.iter().zip(golden).all(|(&o, &g)| o as u8 == g);
    if selftest::corrupt_graph() {
        same = false;
    }
    let heard = best.map_or("nothing", |(class, _, _)| LABELS.get(class).copied().unwrap_or("?"));
    let ok = same && errors == 0 && heard == word;
    let (score, at) = best.map_or((0.0, 0), |(_, s, at)| (s, at));
    let _ = writeln!(
        out,
        "graph {}: heard \"{heard}\" (score {score:.3}) at {} ms, {} inference(s), output {}: {}",
        clip.name,
        at * 1000 / 16_000,
        graph.stats().inferences,
        if same { "golden" } else { "DIFFERS" },
        if ok { "PASS" } else { "FAIL" }
    );
    ok
}

#[entry]
fn main() -> ! {
    // Exactly the RAM the model needs; cortex-m-rt turns these into `&'static mut` that `main` owns.
    static mut ARENA: Aligned<[u8; fixtures::ARENA_BYTES]> = Aligned([0; fixtures::ARENA_BYTES]);
    static mut FRONTEND: MicroFrontend = MicroFrontend::new();
    static mut INPUT: [i8; FRAMES * NUM_CHANNELS] = [0; FRAMES * NUM_CHANNELS];

    selftest::inject_early();
    let mut out = HostOut::open();
    let _ = writeln!(
        out,
        "qemu-frontend: micro_speech front-end and model on a Cortex-M4F (mps2-an386); {} B model, {} B arena",
        fixtures::MODEL.0.len(),
        fixtures::ARENA_BYTES
    );
    let Ok(model) = TfLiteModel::load(&fixtures::MODEL.0) else {
        let _ = writeln!(out, "micro_speech: the model does not load");
        exit(false)
    };
    let Ok(mut interpreter) = Interpreter::new(&model, &mut ARENA.0) else {
        let _ = writeln!(out, "micro_speech: no interpreter in {} B", fixtures::ARENA_BYTES);
        exit(false)
    };
    let mut ok = true;
    for (n, clip) in fixtures::CLIPS.iter().enumerate() {
        let corrupt = n == 0 && selftest::corrupt_first_output();
        ok &= check_features(&mut out, FRONTEND, clip, corrupt, INPUT);
        if let Some(golden) = clip.output {
            ok &= check_model(&mut out, &mut interpreter, clip, golden, INPUT);
        }
    }
    for clip in &fixtures::CLIPS {
        if let (Some(word), Some(golden)) = (clip.word, clip.output) {
            ok &= check_graph(&mut out, &mut interpreter, clip, word, golden);
        }
    }
    let _ = writeln!(out, "qemu-frontend: {}", if ok { "PASS" } else { "FAIL" });
    exit(ok)
}

#[exception]
unsafe fn HardFault(frame: &ExceptionFrame) -> ! {
    board_common::semihosting::fault(
        format_args!("HARDFAULT lr={:#010x}", frame.lr()),
        frame.pc() as usize,
    )
}
