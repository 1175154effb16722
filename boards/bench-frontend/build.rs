//! The memory map of the target (QEMU mps2-an386 for the Cortex-M4F, microbit for the
//! Cortex-M0), the micro_speech model's arena size, and the clips' PCM (from tests/data/frontend,
//! as raw little-endian `i16` in `$OUT_DIR`). On the Cortex-M4F it also sets `cfg(kws_graph)`: the
//! keyword-spotting graph (its float window and spectrogram) does not fit the microbit's 16 KiB.

use std::path::PathBuf;

const M4_MEMORY: &str = "MEMORY\n{\n  FLASH : ORIGIN = 0x00000000, LENGTH = 4M\n  RAM   : ORIGIN = 0x20000000, LENGTH = 4M\n}\n";
const M0_MEMORY: &str = "MEMORY\n{\n  FLASH : ORIGIN = 0x00000000, LENGTH = 256K\n  RAM   : ORIGIN = 0x20000000, LENGTH = 16K\n}\n";

fn main() {
    let manifest = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").expect("set by cargo"));
    let repo = manifest.join("../..").canonicalize().expect("the repository");
    let out = PathBuf::from(std::env::var_os("OUT_DIR").expect("set by cargo"));
    let target = std::env::var("TARGET").expect("set by cargo");
    let m4 = target.starts_with("thumbv7em");
    std::fs::write(out.join("memory.x"), if m4 { M4_MEMORY } else { M0_MEMORY }).unwrap();
    println!("cargo:rustc-link-search={}", out.display());
    println!("cargo::rustc-check-cfg=cfg(kws_graph)");
    if m4 {
        println!("cargo:rustc-cfg=kws_graph");
    }

    let data = repo.join("tests/data/frontend");
    let model = repo.join("tests/data/conformance/tflm_micro_speech/model.tflite");
    println!("cargo:rerun-if-changed={}", data.display());
    println!("cargo:rerun-if-changed={}", model.display());
    let mut code = edge_reflex::engine::build::model_consts(&model)
        .unwrap_or_else(|e| panic!("the engine cannot run micro_speech: {e}"));
    code += &format!(
        "/// The micro_speech model.\npub static MODEL: Aligned<[u8; {}]> = Aligned(*include_bytes!({:?}));\n",
        std::fs::metadata(&model).unwrap().len(),
        model.to_str().unwrap()
    );
    // The graph's clips only where the graph runs (the microbit's 256 KiB of flash hold one).
    let clips: &[&str] =
        if m4 { &["yes_1000ms", "no_1000ms", "silence_1000ms"] } else { &["yes_1000ms"] };
    for clip in clips {
        // A WAV file of 16-bit PCM: the samples are the `data` chunk.
        let wav = std::fs::read(data.join(format!("{clip}.wav"))).expect("wav");
        let at = wav.windows(4).position(|w| w == b"data").expect("a data chunk");
        let len = u32::from_le_bytes(wav[at + 4..at + 8].try_into().unwrap()) as usize;
        assert_eq!(len, 32_000, "{clip}: one second of 16 kHz 16-bit mono");
        let pcm = out.join(format!("{clip}.pcm"));
        std::fs::write(&pcm, &wav[at + 8..at + 8 + len]).unwrap();
        code += &format!(
            "/// {clip}: 16 kHz samples, little-endian i16.\npub static {}: &[u8] = include_bytes!({:?});\n",
            clip.to_uppercase(),
            pcm.to_str().unwrap()
        );
    }
    std::fs::write(out.join("fixtures.rs"), code).unwrap();
}
