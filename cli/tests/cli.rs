//! The `reflex` binary: `run` reproduces the conformance fixtures byte for byte, `inspect`
//! reports the plan the library computes, and bad invocations fail with a one-line message.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn reflex(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_reflex")).args(args).output().expect("reflex runs")
}

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/data/conformance")
}

fn scratch_dir(tag: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("reflex-cli-{tag}-{}", std::process::id()));
    std::fs::create_dir_all(&d).expect("temp dir");
    d
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).trim().to_string()
}

/// Every sample of every case through `reflex run`, compared byte for byte.
#[test]
fn run_reproduces_every_conformance_case() {
    let dir = fixtures();
    let mut cases: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("fixtures missing at {}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| p.join("model.tflite").is_file())
        .collect();
    cases.sort();
    assert!(cases.len() >= 25, "found {} cases", cases.len());
    let out_dir = scratch_dir("run");
    let mut checked = 0;
    for case in &cases {
        let model = case.join("model.tflite");
        let mut samples: Vec<u32> = std::fs::read_dir(case.join("samples"))
            .unwrap()
            .filter_map(|e| e.ok()?.file_name().to_str()?.parse().ok())
            .collect();
        samples.sort();
        for &k in &samples {
            let s = case.join("samples").join(k.to_string());
            let mut args: Vec<String> = vec!["run".into(), model.display().to_string()];
            let mut j = 0;
            while s.join(format!("input{j}.bin")).exists() {
                args.push("--input".into());
                args.push(s.join(format!("input{j}.bin")).display().to_string());
                j += 1;
            }
            let mut outputs = Vec::new();
            let mut j = 0;
            while s.join(format!("output{j}.bin")).exists() {
                let o = out_dir
                    .join(format!("{}-{k}-{j}.bin", case.file_name().unwrap().to_string_lossy()));
                args.push("--output".into());
                args.push(o.display().to_string());
                outputs.push((s.join(format!("output{j}.bin")), o));
                j += 1;
            }
            let argv: Vec<&str> = args.iter().map(String::as_str).collect();
            let o = reflex(&argv);
            assert!(o.status.success(), "{}: {}", case.display(), stderr(&o));
            for (want, got) in outputs {
                assert_eq!(
                    std::fs::read(&got).unwrap(),
                    std::fs::read(&want).unwrap(),
                    "{} sample {k}",
                    case.display()
                );
            }
            checked += 1;
        }
    }
    println!("reflex run: {checked} samples bit-exact over {} cases", cases.len());
}

#[test]
fn wrong_input_length_missing_file_and_bad_model_fail_with_one_line() {
    let case = fixtures().join("tflm_hello_world");
    let model = case.join("model.tflite");
    let dir = scratch_dir("errors");
    let short = dir.join("short.bin");
    std::fs::write(&short, [1u8, 2, 3]).unwrap();
    let out = dir.join("out.bin");
    let (m, s, o) = (model.to_str().unwrap(), short.to_str().unwrap(), out.to_str().unwrap());

    let r = reflex(&["run", m, "--input", s, "--output", o]);
    assert!(!r.status.success());
    assert!(stderr(&r).contains("3 bytes") && stderr(&r).contains("needs 1"), "{}", stderr(&r));
    assert_eq!(stderr(&r).lines().count(), 1);

    let missing = dir.join("missing.bin");
    let r = reflex(&["run", m, "--input", missing.to_str().unwrap(), "--output", o]);
    assert!(!r.status.success());
    assert!(stderr(&r).contains("missing.bin"), "{}", stderr(&r));

    let r = reflex(&["run", s, "--input", s, "--output", o]);
    assert!(!r.status.success());
    assert!(
        stderr(&r).contains("not a TFLite model") || stderr(&r).contains("too short"),
        "{}",
        stderr(&r)
    );
    assert_eq!(stderr(&r).lines().count(), 1);

    let r = reflex(&["run", m, "--output", o]);
    assert!(!r.status.success());
    assert!(stderr(&r).contains("1 input(s), got 0"), "{}", stderr(&r));

    let r = reflex(&["frobnicate"]);
    assert_eq!(r.status.code(), Some(2));
}

#[test]
fn inspect_reports_the_library_plan() {
    let model = fixtures().join("tflm_person_detect/model.tflite");
    let bytes = std::fs::read(&model).unwrap();
    let m = edge_reflex::engine::TfLiteModel::load(&bytes).unwrap();
    let arena = m.arena_size().unwrap();

    let r = reflex(&["inspect", model.to_str().unwrap()]);
    assert!(r.status.success(), "{}", stderr(&r));
    let text = String::from_utf8(r.stdout).unwrap();
    assert!(text.contains(&format!("arena: {arena} bytes")), "{text}");
    assert!(text.contains("DEPTHWISE_CONV_2D") && text.contains("MACs:"));

    let r = reflex(&["inspect", "--json", model.to_str().unwrap()]);
    assert!(r.status.success(), "{}", stderr(&r));
    let json = String::from_utf8(r.stdout).unwrap();
    assert!(json.contains(&format!("\"arena_bytes\": {arena}")), "{json}");
    assert_eq!(json.matches("\"index\"").count(), m.operator_count() + m.tensor_count());
}

/// `reflex plan` writes a plan that `reflex run --plan` runs bit-exactly (sample 0 of every case),
/// and a plan is refused for another model or when damaged.
#[test]
fn plan_files_run_bit_exactly_and_are_bound_to_their_model() {
    let dir = fixtures();
    let out_dir = scratch_dir("plan");
    let mut checked = 0;
    for entry in std::fs::read_dir(&dir).expect("fixtures") {
        let case = entry.unwrap().path();
        let model = case.join("model.tflite");
        if !model.is_file() {
            continue;
        }
        let name = case.file_name().unwrap().to_string_lossy().to_string();
        let plan = out_dir.join(format!("{name}.plan"));
        let o = reflex(&["plan", model.to_str().unwrap(), "-o", plan.to_str().unwrap()]);
        assert!(o.status.success(), "{name}: {}", stderr(&o));
        let sample = case.join("samples/0");
        let mut args = vec![
            "run".to_string(),
            model.display().to_string(),
            "--plan".into(),
            plan.display().to_string(),
        ];
        let mut outs = Vec::new();
        for j in 0.. {
            let f = sample.join(format!("input{j}.bin"));
            if !f.is_file() {
                break;
            }
            args.extend(["-i".into(), f.display().to_string()]);
        }
        for j in 0.. {
            let want = sample.join(format!("output{j}.bin"));
            if !want.is_file() {
                break;
            }
            let got = out_dir.join(format!("{name}.out{j}"));
            args.extend(["-o".into(), got.display().to_string()]);
            outs.push((want, got));
        }
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let o = reflex(&args);
        assert!(o.status.success(), "{name}: {}", stderr(&o));
        for (want, got) in outs {
            assert_eq!(std::fs::read(&got).unwrap(), std::fs::read(&want).unwrap(), "{name}");
        }
        checked += 1;
    }
    assert!(checked >= 25, "checked {checked} cases");

    let hello = dir.join("tflm_hello_world/model.tflite");
    let speech_plan = out_dir.join("tflm_micro_speech.plan");
    let input = dir.join("tflm_hello_world/samples/0/input0.bin");
    let out = out_dir.join("x.bin");
    let run = |plan: &Path| {
        reflex(&[
            "run",
            hello.to_str().unwrap(),
            "--plan",
            plan.to_str().unwrap(),
            "-i",
            input.to_str().unwrap(),
            "-o",
            out.to_str().unwrap(),
        ])
    };
    let o = run(&speech_plan);
    assert!(!o.status.success());
    assert!(stderr(&o).contains("other model bytes"), "{}", stderr(&o));
    let mut damaged = std::fs::read(out_dir.join("tflm_hello_world.plan")).unwrap();
    let last = damaged.len() - 1;
    damaged[last] ^= 0x10;
    let bad = out_dir.join("damaged.plan");
    std::fs::write(&bad, damaged).unwrap();
    let o = run(&bad);
    assert!(!o.status.success());
    assert!(stderr(&o).contains("truncated or inconsistent"), "{}", stderr(&o));
}
