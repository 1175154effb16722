//! The micro_speech front-end fixtures in `tests/data/frontend` (see its README): WAV clips, the
//! golden features, model inputs and outputs of TensorFlow's `audio_microfrontend`.
#![allow(dead_code)]

use std::path::{Path, PathBuf};

/// The clips of 1000 ms: (name, expected label).
pub const UTTERANCES: [(&str, &str); 3] =
    [("yes_1000ms", "yes"), ("no_1000ms", "no"), ("silence_1000ms", "silence")];
/// Every clip.
pub const CLIPS: [&str; 5] = ["yes_1000ms", "no_1000ms", "silence_1000ms", "yes_30ms", "no_30ms"];
/// The micro_speech model's labels, in output order.
pub const LABELS: [&str; 4] = ["silence", "unknown", "yes", "no"];

/// `tests/data/frontend/<file>`.
pub fn path(file: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/frontend").join(file)
}

/// The micro_speech model.
pub fn model_path() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/conformance/tflm_micro_speech/model.tflite")
}

/// The samples of `<clip>.wav` (16-bit mono 16 kHz, checked).
pub fn samples(clip: &str) -> Vec<i16> {
    let mut reader = hound::WavReader::open(path(&format!("{clip}.wav"))).expect("open wav");
    let spec = reader.spec();
    assert_eq!((spec.channels, spec.sample_rate, spec.bits_per_sample), (1, 16_000, 16));
    reader.samples::<i16>().map(|s| s.expect("sample")).collect()
}

/// A file's bytes.
pub fn bytes(file: &str) -> Vec<u8> {
    std::fs::read(path(file)).unwrap_or_else(|e| panic!("{file}: {e}"))
}

/// `<clip>.features_u16.bin`, frame by frame.
pub fn golden_u16(clip: &str) -> Vec<u16> {
    bytes(&format!("{clip}.features_u16.bin"))
        .chunks_exact(2)
        .map(|b| u16::from_le_bytes([b[0], b[1]]))
        .collect()
}

/// The golden int8 features: `input_i8` for 1000 ms clips, `features_i8` for the others.
pub fn golden_i8(clip: &str) -> Vec<i8> {
    let name = if clip.ends_with("1000ms") {
        format!("{clip}.input_i8.bin")
    } else {
        format!("{clip}.features_i8.bin")
    };
    bytes(&name).into_iter().map(|b| b as i8).collect()
}
