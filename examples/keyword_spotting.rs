//! Keyword spotting on the host: audio -> the micro_speech front-end -> TFLM's micro_speech model
//! (silence, unknown, "yes", "no"), streaming as a microphone would feed it.
//!
//!     cargo run --example keyword_spotting                 # the three built-in clips
//!     cargo run --example keyword_spotting -- FILE.wav     # 16-bit PCM mono 16 kHz, any length
//!     cargo run --example keyword_spotting -- FILE.wav --expect yes
//!
//! It is a [`Graph`]: samples are fed one by one into a 30 ms window ready every 20 ms; the
//! feature stage ([`MicroSpeechStage`]) turns each window into one frame of 40 features, converted
//! to the model's int8 input and appended to a 49-frame (1 s) spectrogram; once it is full, the
//! gate ([`EveryNth`]) lets the model run every 4th frame (every 80 ms). A word is heard when "yes" or "no" tops an inference with a score of
//! at least 0.8 (the action: a line naming it and when, once per utterance); the clip's answer is the best such word,
//! else the top label of the best inference. With the built-in clips (TensorFlow's test audio) or
//! `--expect WORD`, the program exits with status 1 unless every answer is the expected one.

use edge_reflex::action::{NoAction, Rule};
use edge_reflex::engine::{Interpreter, TfLiteModel};
use edge_reflex::frontend::microfrontend::{SAMPLE_RATE, STEP_SAMPLES, WINDOW_SAMPLES};
use edge_reflex::frontend::stage::MicroSpeechStage;
use edge_reflex::gate::EveryNth;
use edge_reflex::graph::{Graph, Stages, Step};
use edge_reflex::quantizer::AffineQuantizer;
use edge_reflex::time::NoClock;
use edge_reflex::window::Window;
use std::process::ExitCode;

/// TFLM's micro_speech model (tests/data/conformance/tflm_micro_speech, Apache-2.0).
const MODEL: &[u8] = include_bytes!("../tests/data/conformance/tflm_micro_speech/model.tflite");
/// TensorFlow's micro_speech test clips (tests/data/frontend, Apache-2.0) and what they say.
const CLIPS: [(&str, &[u8], &str); 3] = [
    ("yes_1000ms", include_bytes!("../tests/data/frontend/yes_1000ms.wav"), "yes"),
    ("no_1000ms", include_bytes!("../tests/data/frontend/no_1000ms.wav"), "no"),
    ("silence_1000ms", include_bytes!("../tests/data/frontend/silence_1000ms.wav"), "silence"),
];
/// The model's outputs, in order.
const LABELS: [&str; 4] = ["silence", "unknown", "yes", "no"];
/// Frames the model sees: 49 × 20 ms.
const FRAMES: usize = 49;
/// The model runs every this many frames once the spectrogram is full.
const RUN_EVERY: u32 = 4;
/// The score a word needs to be heard.
const WORD_THRESHOLD: f32 = 0.8;

/// A word heard again within this time of its last detection is the same utterance.
const SUPPRESS_MS: u64 = 1000;

/// One inference: when (end of the last frame, ms), the top label and its score.
#[derive(Clone, Copy, Debug)]
struct Inference {
    at_ms: u64,
    label: usize,
    score: f32,
}

/// The keyword-spotting graph: 16 kHz samples -> 30 ms windows every 20 ms -> the micro_speech
/// front-end's spectrogram -> every 4th frame -> the model -> its top label.
type Spotter<'i, 'm, 'a> = Graph<
    (),
    f32,
    EveryNth,
    AffineQuantizer,
    &'i mut Interpreter<'m, 'a>,
    NoAction,
    NoClock,
    WINDOW_SAMPLES,
    STEP_SAMPLES,
    MicroSpeechStage<FRAMES>,
>;

/// A fresh graph (a new stream) around the interpreter.
fn spotter<'i, 'm, 'a>(interpreter: &'i mut Interpreter<'m, 'a>) -> Spotter<'i, 'm, 'a> {
    Graph::new(
        Stages {
            sensor: (),
            window: Window::new(),
            gate: EveryNth::new(RUN_EVERY),
            quantizer: MicroSpeechStage::<FRAMES>::quantizer(),
            model: interpreter,
            // The decision carries the top label and its score; "yes" is the rule's class only
            // so that it is a valid rule: the words are told apart below.
            rule: Rule::ArgMaxIs { class: 2, min_score: WORD_THRESHOLD },
            action: NoAction,
        },
        NoClock,
    )
    .with_features(MicroSpeechStage::new())
}

/// Streams a clip's samples through a fresh graph (as a microphone would deliver them); returns
/// the inferences.
fn stream(interpreter: &mut Interpreter, samples: &[i16]) -> Result<Vec<Inference>, String> {
    let mut graph = spotter(interpreter);
    let mut inferences = Vec::new();
    for (i, &s) in samples.iter().enumerate() {
        match graph.feed(f32::from(s)) {
            Ok(Step::Inferred(d)) => {
                let at_ms = (i as u64 + 1) * 1000 / u64::from(SAMPLE_RATE);
                inferences.push(Inference { at_ms, label: d.class, score: d.score });
            }
            Ok(_) => {}
            Err(e) => return Err(format!("graph: {e:?}")),
        }
    }
    Ok(inferences)
}

/// Samples of a 16-bit PCM mono 16 kHz WAV.
fn read_wav<R: std::io::Read>(reader: R, name: &str) -> Result<Vec<i16>, String> {
    let reader = hound::WavReader::new(reader).map_err(|e| format!("{name}: {e}"))?;
    let spec = reader.spec();
    if spec.channels != 1 || spec.sample_rate != SAMPLE_RATE || spec.bits_per_sample != 16 {
        return Err(format!(
            "{name}: {} channel(s), {} Hz, {} bits; need mono 16 kHz 16-bit PCM",
            spec.channels, spec.sample_rate, spec.bits_per_sample
        ));
    }
    reader.into_samples::<i16>().collect::<Result<_, _>>().map_err(|e| format!("{name}: {e}"))
}

/// Runs one clip through the spotter, prints what it hears, returns its answer.
fn listen(
    interpreter: &mut Interpreter,
    name: &str,
    samples: &[i16],
) -> Result<&'static str, String> {
    let inferences = stream(interpreter, samples)?;
    let mut best_word: Option<Inference> = None;
    let mut best: Option<Inference> = None;
    let mut last_heard: Option<Inference> = None;
    for inference in inferences {
        let is_word = LABELS[inference.label] == "yes" || LABELS[inference.label] == "no";
        if is_word && inference.score >= WORD_THRESHOLD {
            // One report per utterance: the same word again within a second is the same word.
            let repeat = last_heard.is_some_and(|l| {
                l.label == inference.label && inference.at_ms - l.at_ms < SUPPRESS_MS
            });
            if !repeat {
                println!(
                    "{name}: heard \"{}\" at {} ms (score {:.3})",
                    LABELS[inference.label], inference.at_ms, inference.score
                );
            }
            last_heard = Some(inference);
            if best_word.is_none_or(|b| inference.score > b.score) {
                best_word = Some(inference);
            }
        }
        if best.is_none_or(|b| inference.score > b.score) {
            best = Some(inference);
        }
    }
    let answer = match (best_word, best) {
        (Some(word), _) => word,
        (None, Some(top)) => top,
        (None, None) => {
            println!("{name}: shorter than the model's 1 s window, nothing to hear");
            return Ok("nothing");
        }
    };
    let label = LABELS[answer.label];
    println!("{name}: answer \"{label}\" (score {:.3} at {} ms)", answer.score, answer.at_ms);
    Ok(label)
}

fn run() -> Result<bool, String> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let model = TfLiteModel::load(MODEL).map_err(|e| format!("model: {e}"))?;
    let mut arena = vec![0u8; model.arena_size().map_err(|e| format!("model: {e}"))?];
    let mut interpreter =
        Interpreter::new(&model, &mut arena).map_err(|e| format!("model: {e}"))?;

    let mut all_expected = true;
    match args.as_slice() {
        [] => {
            for (name, wav, expected) in CLIPS {
                let samples = read_wav(wav, name)?;
                let answer = listen(&mut interpreter, name, &samples)?;
                if answer != expected {
                    println!("{name}: expected \"{expected}\"");
                    all_expected = false;
                }
            }
        }
        [path, rest @ ..] => {
            let expected = match rest {
                [] => None,
                [flag, word] if flag == "--expect" => Some(word.as_str()),
                _ => return Err("usage: keyword_spotting [FILE.wav [--expect WORD]]".into()),
            };
            let file = std::fs::File::open(path).map_err(|e| format!("{path}: {e}"))?;
            let samples = read_wav(std::io::BufReader::new(file), path)?;
            let answer = listen(&mut interpreter, path, &samples)?;
            if let Some(expected) = expected {
                if answer != expected {
                    println!("{path}: expected \"{expected}\"");
                    all_expected = false;
                }
            }
        }
    }
    Ok(all_expected)
}

fn main() -> ExitCode {
    match run() {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(e) => {
            eprintln!("keyword_spotting: {e}");
            ExitCode::from(2)
        }
    }
}
