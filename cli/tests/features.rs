//! `reflex features` reproduces the micro_speech front-end fixtures (tests/data/frontend) byte for
//! byte, and refuses audio the front-end cannot take with a one-line message.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn reflex(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_reflex")).args(args).output().expect("reflex runs")
}

fn fixture(file: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/data/frontend").join(file)
}

fn scratch_dir() -> PathBuf {
    let d = std::env::temp_dir().join(format!("reflex-cli-features-{}", std::process::id()));
    std::fs::create_dir_all(&d).expect("temp dir");
    d
}

#[test]
fn features_match_every_clip() {
    let dir = scratch_dir();
    for clip in ["yes_1000ms", "no_1000ms", "silence_1000ms", "yes_30ms", "no_30ms"] {
        let u16_path = dir.join(format!("{clip}.u16"));
        let i8_path = dir.join(format!("{clip}.i8"));
        let wav = fixture(&format!("{clip}.wav"));
        let out = reflex(&[
            "features",
            wav.to_str().unwrap(),
            "--u16",
            u16_path.to_str().unwrap(),
            "--i8",
            i8_path.to_str().unwrap(),
        ]);
        assert!(out.status.success(), "{clip}: {}", String::from_utf8_lossy(&out.stderr));
        let frames = if clip.ends_with("1000ms") { 49 } else { 1 };
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(stdout.contains(&format!("{frames} frames x 40 features")), "{stdout}");
        let golden_u16 = std::fs::read(fixture(&format!("{clip}.features_u16.bin"))).unwrap();
        assert_eq!(std::fs::read(&u16_path).unwrap(), golden_u16, "{clip} u16");
        let i8_name = if frames == 49 {
            format!("{clip}.input_i8.bin")
        } else {
            format!("{clip}.features_i8.bin")
        };
        let golden_i8 = std::fs::read(fixture(&i8_name)).unwrap();
        assert_eq!(std::fs::read(&i8_path).unwrap(), golden_i8, "{clip} i8");
    }
}

/// A WAV of another rate, a non-WAV file and a directory are refused in one line, exit 1.
#[test]
fn refuses_what_it_cannot_read() {
    let dir = scratch_dir();
    let wav_8k = dir.join("8k.wav");
    let spec = hound::WavSpec {
        channels: 1,
        sample_rate: 8000,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    let mut writer = hound::WavWriter::create(&wav_8k, spec).unwrap();
    for i in 0..800 {
        writer.write_sample(i as i16).unwrap();
    }
    writer.finalize().unwrap();
    let model = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../tests/data/conformance/tflm_micro_speech/model.tflite");
    for (path, why) in [
        (wav_8k.as_path(), "8000 Hz"),
        (model.as_path(), ""),
        (dir.as_path(), "not a regular file"),
    ] {
        let out = reflex(&["features", path.to_str().unwrap()]);
        assert_eq!(out.status.code(), Some(1), "{}", path.display());
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(err.trim().lines().count(), 1, "{err}");
        assert!(err.starts_with("reflex: ") && err.contains(why), "{err}");
    }
}

/// A WAV shorter than one window gives no frame and empty files.
#[test]
fn short_audio_gives_no_frames() {
    let dir = scratch_dir();
    let wav = dir.join("short.wav");
    let spec = hound::WavSpec {
        channels: 1,
        sample_rate: 16_000,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    let mut writer = hound::WavWriter::create(&wav, spec).unwrap();
    for _ in 0..479 {
        writer.write_sample(1000i16).unwrap();
    }
    writer.finalize().unwrap();
    let u16_path = dir.join("short.u16");
    let out = reflex(&["features", wav.to_str().unwrap(), "--u16", u16_path.to_str().unwrap()]);
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).contains("0 frames"));
    assert_eq!(std::fs::read(&u16_path).unwrap().len(), 0);
}
