//! Plans *your* model at build time and embeds it, its plan and its golden samples.
//!
//! - `REFLEX_MODEL`: the `.tflite` file (absolute, or relative to the repository root); default
//!   `models/bearing_classifier.tflite`, the model the physical boards run.
//! - `REFLEX_SAMPLES`: golden samples to check the model against on the target, in one of two
//!   layouts: `K/inputJ.bin` + `K/outputJ.bin` (the layout of `tests/data`, any number of inputs
//!   and outputs), or `inputs.bin` + `outputs.bin` (one input and one output: the samples one after
//!   the other). Default: `<model dir>/samples` if it exists, else `<model stem>.samples` beside the
//!   model (`models/bearing_classifier.samples`); empty: none (the firmware then invokes the model
//!   once and prints its output).
//!
//! `edge_reflex::engine::build::prebuilt_plan` loads, checks, prepares and plans the model here,
//! on the build machine: a model the engine cannot run fails this build with the engine's error,
//! and the firmware gets the plan in flash and an arena of exactly `ARENA_BYTES`. Writes
//! `$OUT_DIR/your_model.rs` (the plan's constants, `MODEL`, `CASE`) for `src/main.rs`.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

fn main() {
    let manifest = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").expect("set by cargo"));
    let repo = manifest.join("../..");
    let out = PathBuf::from(std::env::var_os("OUT_DIR").expect("set by cargo"));
    provide_memory_x(&out);

    println!("cargo:rerun-if-env-changed=REFLEX_MODEL");
    println!("cargo:rerun-if-env-changed=REFLEX_SAMPLES");
    let model = match std::env::var_os("REFLEX_MODEL") {
        // Joining an absolute path replaces the base.
        Some(path) => repo.join(path),
        None => repo.join("models/bearing_classifier.tflite"),
    };
    let model =
        model.canonicalize().unwrap_or_else(|e| panic!("REFLEX_MODEL: {}: {e}", model.display()));
    println!("cargo:rerun-if-changed={}", model.display());

    // Loads, checks, prepares and plans the model; writes the plan to $OUT_DIR/<stem>.plan.
    let consts = edge_reflex::engine::build::prebuilt_plan(&model, &out)
        .unwrap_or_else(|e| panic!("the engine cannot run this model: {e}"));
    let bytes = std::fs::read(&model).expect("the model was just read");

    let samples_dir = match std::env::var_os("REFLEX_SAMPLES") {
        Some(dir) if dir.is_empty() => None,
        Some(dir) => Some(repo.join(dir)),
        None => default_samples(&model),
    };
    let samples = match &samples_dir {
        Some(dir) => {
            println!("cargo:rerun-if-changed={}", dir.display());
            read_samples(dir, &bytes, &out)
        }
        None => Vec::new(),
    };

    let name = case_name(&model);
    let lit = |p: &Path| format!("{:?}", p.to_str().expect("UTF-8 path"));
    let mut code = consts;
    let mut sample_bytes = 0u64;
    writeln!(code, "/// The model's file.\npub const MODEL_PATH: &str = {};", lit(&model)).unwrap();
    writeln!(
        code,
        "/// The `.tflite` bytes, 16-byte aligned.\npub static MODEL: ::board_common::Aligned<[u8; {}]> = \
         ::board_common::Aligned(*include_bytes!({}));",
        bytes.len(),
        lit(&model)
    )
    .unwrap();
    writeln!(code, "/// The model, its plan and its golden samples, for the checks.").unwrap();
    writeln!(
        code,
        "pub static CASE: ::board_common::conformance::Case = ::board_common::conformance::Case {{ \
         set: {:?}, name: {name:?}, model: &MODEL.0, plan: Some(&PLAN), tolerance: 0.0, samples_in_fixture: {}, samples: &[",
        samples_dir.as_deref().map_or("no samples".into(), |d| d.display().to_string()),
        samples.len()
    )
    .unwrap();
    for (inputs, outputs) in &samples {
        let list = |files: &[PathBuf], total: &mut u64| {
            files
                .iter()
                .map(|f| {
                    *total += std::fs::metadata(f).map(|m| m.len()).unwrap_or(0);
                    format!("include_bytes!({}) as &[u8]", lit(f))
                })
                .collect::<Vec<_>>()
                .join(", ")
        };
        let inputs = list(inputs, &mut sample_bytes);
        let outputs = list(outputs, &mut sample_bytes);
        writeln!(
            code,
            "    ::board_common::conformance::Sample {{ inputs: &[{inputs}], outputs: &[{outputs}] }},"
        )
        .unwrap();
    }
    writeln!(code, "]}};").unwrap();
    writeln!(
        code,
        "/// Bytes of golden samples in flash.\npub const SAMPLE_BYTES: usize = {sample_bytes};"
    )
    .unwrap();
    std::fs::write(out.join("your_model.rs"), code).expect("OUT_DIR is writable");
}

/// The report's name of the model: its file stem, or its directory's name for `.../case/model.tflite`.
fn case_name(model: &Path) -> String {
    let stem = model.file_stem().and_then(|s| s.to_str()).unwrap_or("model");
    match model.parent().and_then(|d| d.file_name()).and_then(|d| d.to_str()) {
        Some(dir) if stem == "model" => dir.to_string(),
        _ => stem.to_string(),
    }
}

/// `<model dir>/samples`, or `<model stem>.samples` beside the model, if either is a directory.
fn default_samples(model: &Path) -> Option<PathBuf> {
    let dir = model.parent()?;
    let stem = model.file_stem()?.to_str()?;
    [dir.join("samples"), dir.join(format!("{stem}.samples"))].into_iter().find(|d| d.is_dir())
}

/// The samples of `dir` as (input files, output files), in order; concatenated samples are split
/// into `$OUT_DIR/samples/K/{input,output}0.bin`.
fn read_samples(dir: &Path, model: &[u8], out: &Path) -> Vec<(Vec<PathBuf>, Vec<PathBuf>)> {
    let numbered = |sample: &Path, stem: &str| -> Vec<PathBuf> {
        (0..).map(|j| sample.join(format!("{stem}{j}.bin"))).take_while(|p| p.is_file()).collect()
    };
    let mut indexed: Vec<(u32, PathBuf)> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("REFLEX_SAMPLES: {}: {e}", dir.display()))
        .filter_map(|e| e.ok())
        .filter_map(|e| Some((e.file_name().to_str()?.parse().ok()?, e.path())))
        .filter(|(_, p)| p.is_dir())
        .collect();
    indexed.sort();
    if !indexed.is_empty() {
        return indexed
            .into_iter()
            .map(|(_, sample)| {
                let (inputs, outputs) = (numbered(&sample, "input"), numbered(&sample, "output"));
                assert!(
                    !inputs.is_empty() && !outputs.is_empty(),
                    "REFLEX_SAMPLES: {} has no input0.bin/output0.bin",
                    sample.display()
                );
                (inputs, outputs)
            })
            .collect();
    }

    let (inputs, outputs) = (dir.join("inputs.bin"), dir.join("outputs.bin"));
    assert!(
        inputs.is_file() && outputs.is_file(),
        "REFLEX_SAMPLES: {} holds neither K/input0.bin nor inputs.bin + outputs.bin",
        dir.display()
    );
    let loaded = edge_reflex::engine::TfLiteModel::load(model).expect("planned above");
    let size = |info: Option<edge_reflex::engine::TensorInfo>| info.map_or(0, |t| t.bytes());
    let (in_size, out_size) = (size(loaded.input_info(0)), size(loaded.output_info(0)));
    let (inputs, outputs) = (std::fs::read(&inputs).unwrap(), std::fs::read(&outputs).unwrap());
    let count = inputs.len() / in_size.max(1);
    assert!(
        in_size > 0 && inputs.len() == count * in_size && outputs.len() == count * out_size,
        "REFLEX_SAMPLES: {}: inputs.bin ({} B) and outputs.bin ({} B) must hold the same number of \
         samples of {in_size} and {out_size} bytes",
        dir.display(),
        inputs.len(),
        outputs.len()
    );
    (0..count)
        .map(|k| {
            let sample = out.join("samples").join(k.to_string());
            std::fs::create_dir_all(&sample).expect("OUT_DIR is writable");
            let (i, o) = (sample.join("input0.bin"), sample.join("output0.bin"));
            std::fs::write(&i, &inputs[k * in_size..][..in_size]).expect("OUT_DIR is writable");
            std::fs::write(&o, &outputs[k * out_size..][..out_size]).expect("OUT_DIR is writable");
            (vec![i], vec![o])
        })
        .collect()
}

/// Puts memory.x where cortex-m-rt's `link.x` finds it.
fn provide_memory_x(out: &Path) {
    std::fs::copy("memory.x", out.join("memory.x")).expect("copy memory.x to OUT_DIR");
    println!("cargo:rustc-link-search={}", out.display());
    println!("cargo:rerun-if-changed=memory.x");
}
