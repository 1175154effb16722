//! Embeds the micro_speech fixtures (tests/data/frontend) and model at build time.
//!
//! For every clip: its samples (read from the WAV file here, written to `$OUT_DIR` as raw
//! little-endian `i16`), the golden u16 features and int8 features / model input, and, for the
//! 1000 ms clips, the golden model output. The micro_speech model's arena is sized by the engine
//! here (`engine::build::model_consts`), so the firmware's arena is exactly what it needs. Writes
//! `$OUT_DIR/fixtures.rs` for `src/main.rs`.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// The clips and what they say (`None`: shorter than the model's window).
const CLIPS: [(&str, Option<&str>); 5] = [
    ("yes_1000ms", Some("yes")),
    ("no_1000ms", Some("no")),
    ("silence_1000ms", Some("silence")),
    ("yes_30ms", None),
    ("no_30ms", None),
];

fn main() {
    let manifest = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").expect("set by cargo"));
    let repo = manifest.join("../..").canonicalize().expect("the repository");
    let out = PathBuf::from(std::env::var_os("OUT_DIR").expect("set by cargo"));
    std::fs::copy("memory.x", out.join("memory.x")).expect("copy memory.x to OUT_DIR");
    println!("cargo:rustc-link-search={}", out.display());
    println!("cargo:rerun-if-changed=memory.x");

    let data = repo.join("tests/data/frontend");
    let model = repo.join("tests/data/conformance/tflm_micro_speech/model.tflite");
    println!("cargo:rerun-if-changed={}", data.display());
    println!("cargo:rerun-if-changed={}", model.display());
    let lit = |p: &Path| format!("{:?}", p.to_str().expect("UTF-8 path"));

    let mut code = edge_reflex::engine::build::model_consts(&model)
        .unwrap_or_else(|e| panic!("the engine cannot run micro_speech: {e}"));
    writeln!(
        code,
        "/// The micro_speech model, 16-byte aligned.\npub static MODEL: ::board_common::Aligned<[u8; {}]> = \
         ::board_common::Aligned(*include_bytes!({}));",
        std::fs::metadata(&model).expect("model").len(),
        lit(&model)
    )
    .unwrap();
    writeln!(
        code,
        "/// Every clip of tests/data/frontend with its goldens.\npub static CLIPS: [Clip; {}] = [",
        CLIPS.len()
    )
    .unwrap();
    for (name, word) in CLIPS {
        let wav = data.join(format!("{name}.wav"));
        let mut reader = hound::WavReader::open(&wav).unwrap_or_else(|e| panic!("{name}: {e}"));
        let spec = reader.spec();
        assert_eq!((spec.channels, spec.sample_rate, spec.bits_per_sample), (1, 16_000, 16));
        let pcm: Vec<u8> =
            reader.samples::<i16>().flat_map(|s| s.expect("sample").to_le_bytes()).collect();
        let pcm_path = out.join(format!("{name}.pcm"));
        std::fs::write(&pcm_path, &pcm).expect("write pcm");
        let long = name.ends_with("1000ms");
        let i8_file =
            if long { format!("{name}.input_i8.bin") } else { format!("{name}.features_i8.bin") };
        let output = if long {
            format!("Some(include_bytes!({}))", lit(&data.join(format!("{name}.output_i8.bin"))))
        } else {
            "None".into()
        };
        writeln!(
            code,
            "    Clip {{ name: {name:?}, word: {word:?}, pcm: include_bytes!({}), u16: include_bytes!({}), \
             i8: include_bytes!({}), output: {output} }},",
            lit(&pcm_path),
            lit(&data.join(format!("{name}.features_u16.bin"))),
            lit(&data.join(i8_file)),
        )
        .unwrap();
    }
    code += "];\n";
    std::fs::write(out.join("fixtures.rs"), code).expect("write fixtures.rs");
}
