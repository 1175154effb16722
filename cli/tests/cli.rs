//! The `reflex` binary: `run` reproduces the conformance fixtures byte for byte and reports
//! dequantized outputs, `inspect` reports the plan and options the library computes, and every
//! bad invocation, unreadable file or failed write ends with a one-line message (never a panic,
//! never a hang).

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

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

/// The bit-exact cases of a fixture set: those with a model, and (conformance-next) of the `core`,
/// `extended` or `stretch` tier (every `reflex run` starts from a reset state).
fn exact_cases(set: &str) -> Vec<PathBuf> {
    let dir = fixtures().join("..").join(set);
    let mut cases: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("fixtures missing at {}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| p.join("model.tflite").is_file())
        .filter(|p| {
            let json = std::fs::read_to_string(p.join("case.json")).unwrap_or_default();
            !json.contains("\"tier\": \"float\"")
        })
        .collect();
    cases.sort();
    cases
}

/// Every sample of every bit-exact case of the three fixture sets through `reflex run`,
/// compared byte for byte.
#[test]
fn run_reproduces_every_conformance_case() {
    let mut cases = exact_cases("conformance");
    assert_eq!(cases.len(), 25, "conformance");
    let next = exact_cases("conformance-next");
    assert_eq!(next.len(), 20, "conformance-next core, extended and stretch");
    cases.extend(next);
    let mlperf = exact_cases("mlperf-tiny");
    assert_eq!(mlperf.len(), 4, "mlperf-tiny");
    cases.extend(mlperf);
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

/// The `float` tier of conformance-next (float32 and dynamic-range models) through `reflex run`:
/// every float32 output within the case's absolute tolerance.
#[test]
fn run_reproduces_the_float_cases_within_their_tolerance() {
    let dir = fixtures().join("..").join("conformance-next");
    let out_dir = scratch_dir("run-float");
    let mut checked = 0;
    for case in ["float32_cnn", "dynamic_range_fc"] {
        let case = dir.join(case);
        let json = std::fs::read_to_string(case.join("case.json")).unwrap();
        let tolerance: f32 = json
            .split("\"tolerance\":")
            .nth(1)
            .and_then(|t| t.split([',', '}']).next())
            .and_then(|t| t.trim().parse().ok())
            .expect("case.json has a tolerance");
        for entry in std::fs::read_dir(case.join("samples")).unwrap() {
            let s = entry.unwrap().path();
            let got = out_dir.join(format!(
                "{}-{}.bin",
                case.file_name().unwrap().to_string_lossy(),
                s.file_name().unwrap().to_string_lossy()
            ));
            let (model, input) = (case.join("model.tflite"), s.join("input0.bin"));
            let o = reflex(&[
                "run",
                model.to_str().unwrap(),
                "--input",
                input.to_str().unwrap(),
                "--output",
                got.to_str().unwrap(),
            ]);
            assert!(o.status.success(), "{}: {}", case.display(), stderr(&o));
            let floats = |b: Vec<u8>| -> Vec<f32> {
                b.chunks_exact(4).map(|c| f32::from_le_bytes(c.try_into().unwrap())).collect()
            };
            let (got, want) = (
                floats(std::fs::read(&got).unwrap()),
                floats(std::fs::read(s.join("output0.bin")).unwrap()),
            );
            assert_eq!(got.len(), want.len());
            for (g, w) in got.iter().zip(&want) {
                assert!((g - w).abs() <= tolerance, "{}: {g} vs {w}", s.display());
            }
            checked += 1;
        }
    }
    assert_eq!(checked, 22, "11 samples each");
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
    assert!(
        stderr(&r).contains("3 bytes") && stderr(&r).contains("needs exactly 1"),
        "{}",
        stderr(&r)
    );
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

    let i = case.join("samples/0/input0.bin");
    let i = i.to_str().unwrap();
    let r = reflex(&["run", m, "--input", i, "--input", i, "--output", o]);
    assert_eq!(r.status.code(), Some(1));
    assert!(stderr(&r).contains("1 input(s), got 2"), "{}", stderr(&r));

    let r = reflex(&["run", m, "--input", i, "--output", o, "--output", o]);
    assert_eq!(r.status.code(), Some(1));
    assert!(stderr(&r).contains("1 output(s), got 2"), "{}", stderr(&r));

    // No input at all is a usage error, named.
    let r = reflex(&["run", m, "--output", o]);
    assert_eq!(r.status.code(), Some(2));
    assert!(stderr(&r).contains("--input"), "{}", stderr(&r));
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
    let cost = m.cost();
    let line =
        format!("cost: {} MACs, {} elements touched per inference", cost.macs, cost.elements);
    assert!(cost.macs == 7_157_888 && text.contains(&line), "{text}");

    let r = reflex(&["inspect", "--json", model.to_str().unwrap()]);
    assert!(r.status.success(), "{}", stderr(&r));
    let json = String::from_utf8(r.stdout).unwrap();
    assert!(json.contains(&format!("\"arena_bytes\": {arena}")), "{json}");
    assert!(json.contains(&format!("\"elements\": {}", cost.elements)), "{json}");
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

/// `reflex` with `args`, killed (and the test failed) if it runs longer than 20 s: what a hang
/// on a FIFO or an endless file would do.
fn reflex_within(args: &[&str]) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_reflex"))
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("reflex starts");
    let start = Instant::now();
    while child.try_wait().expect("wait").is_none() {
        if start.elapsed() > Duration::from_secs(20) {
            let _ = child.kill();
            let _ = child.wait();
            panic!("reflex {args:?} still running after 20 s");
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    child.wait_with_output().expect("output")
}

fn stdout(o: &Output) -> String {
    String::from_utf8(o.stdout.clone()).expect("UTF-8 output")
}

fn json(o: &Output) -> serde_json::Value {
    assert!(o.status.success(), "{}", stderr(o));
    serde_json::from_slice(&o.stdout).unwrap_or_else(|e| panic!("{e}: {}", stdout(o)))
}

/// A failure the user can read: status 1, exactly one line on stderr, containing `needle`, and
/// nothing of a panic.
fn assert_one_line_error(o: &Output, needle: &str) {
    let e = stderr(o);
    assert_eq!(o.status.code(), Some(1), "{e}");
    assert_eq!(e.lines().count(), 1, "{e}");
    assert!(e.starts_with("reflex: ") && e.contains(needle), "wanted `{needle}` in: {e}");
    assert!(!e.contains("panicked"), "{e}");
}

fn model(case: &str) -> String {
    fixtures().join(case).join("model.tflite").display().to_string()
}

fn sample(case: &str, file: &str) -> String {
    fixtures().join(case).join("samples/0").join(file).display().to_string()
}

#[test]
fn every_subcommand_has_help_and_the_version_is_printed() {
    for sub in ["inspect", "run", "plan"] {
        for args in [vec![sub, "--help"], vec![sub, "-h"], vec!["help", sub]] {
            let o = reflex(&args);
            assert!(o.status.success(), "{args:?}: {}", stderr(&o));
            let text = stdout(&o);
            assert!(text.contains(&format!("Usage: reflex {sub}")), "{args:?}: {text}");
            assert!(text.contains("<MODEL>"), "{args:?}: {text}");
        }
    }
    let o = reflex(&["run", "--help"]);
    assert!(stdout(&o).contains("--json") && stdout(&o).contains("--repeat"));
    let o = reflex(&["inspect", "--help"]);
    assert!(stdout(&o).contains("--profile") && stdout(&o).contains("--wide"));

    for flag in ["--version", "-V"] {
        let o = reflex(&[flag]);
        assert!(o.status.success());
        assert_eq!(stdout(&o).trim(), format!("reflex {}", env!("CARGO_PKG_VERSION")));
    }
    let o = reflex(&[]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("Usage: reflex <COMMAND>"), "{}", stderr(&o));
}

#[test]
fn unknown_commands_and_options_are_named() {
    let o = reflex(&["frobnicate"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("unrecognized subcommand 'frobnicate'"), "{}", stderr(&o));
    let m = model("dense_softmax");
    let o = reflex(&["inspect", "--bogus", &m]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("--bogus"), "{}", stderr(&o));
    // --input belongs to --profile.
    let o = reflex(&["inspect", &m, "--input", &sample("dense_softmax", "input0.bin")]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("--profile"), "{}", stderr(&o));
    let o = reflex(&["run", &m, "-i", &sample("dense_softmax", "input0.bin"), "--repeat", "0"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("--repeat"), "{}", stderr(&o));
}

#[test]
fn plan_writes_only_where_told() {
    let dir = scratch_dir("plan-output");
    let copy = dir.join("model.tflite");
    std::fs::copy(model("dense_softmax"), &copy).unwrap();
    let o = reflex(&["plan", copy.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("--output"), "{}", stderr(&o));
    let left: Vec<_> = std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().file_name()).collect();
    assert_eq!(left, ["model.tflite"], "plan without --output wrote something");

    let plan = dir.join("chosen.plan");
    let o = reflex(&["plan", copy.to_str().unwrap(), "--output", plan.to_str().unwrap()]);
    assert!(o.status.success(), "{}", stderr(&o));
    let size = std::fs::metadata(&plan).unwrap().len();
    assert!(stdout(&o).contains(&format!("plan {size} bytes")), "{}", stdout(&o));
}

/// `run` reports what it computed: the raw output equals the fixture's, the dequantized values
/// are `(q - zero_point) * scale` with the model's parameters, the top class is the largest.
#[test]
fn run_reports_dequantized_outputs_and_the_top_class() {
    let case: serde_json::Value =
        serde_json::from_slice(&std::fs::read(fixtures().join("dense_softmax/case.json")).unwrap())
            .unwrap();
    let scale = case["outputs"][0]["scale"].as_f64().unwrap() as f32;
    let zero_point = case["outputs"][0]["zero_point"].as_i64().unwrap();
    let want: Vec<i64> = std::fs::read(sample("dense_softmax", "output0.bin"))
        .unwrap()
        .iter()
        .map(|&b| i64::from(b as i8))
        .collect();
    let real: Vec<f32> = want.iter().map(|&q| (q - zero_point) as f32 * scale).collect();
    let top = (0..want.len()).max_by_key(|&k| (want[k], std::cmp::Reverse(k))).unwrap();

    let (m, i) = (model("dense_softmax"), sample("dense_softmax", "input0.bin"));
    let o = reflex(&["run", &m, "-i", &i, "--json", "--repeat", "3"]);
    let doc = json(&o);
    assert_eq!(doc["runs"], 3);
    assert!(doc["ns_per_inference"].as_u64().unwrap() > 0);
    assert_eq!(doc["clock"], "host wall-clock");
    let out = &doc["outputs"][0];
    let raw: Vec<i64> =
        out["raw"].as_array().unwrap().iter().map(|v| v.as_i64().unwrap()).collect();
    assert_eq!(raw, want);
    let got: Vec<f32> =
        out["dequantized"].as_array().unwrap().iter().map(|v| v.as_f64().unwrap() as f32).collect();
    assert_eq!(got, real);
    assert_eq!(out["top_class"], top);
    assert_eq!(out["written_to"], serde_json::Value::Null);

    let text = reflex(&["run", &m, "-i", &i]);
    assert!(text.status.success(), "{}", stderr(&text));
    let text = stdout(&text);
    let list = real.iter().map(|x| x.to_string()).collect::<Vec<_>>().join(", ");
    assert!(text.contains(&format!("dequantized: [{list}]")), "{text}");
    assert!(text.contains(&format!("top class:   {top} ({})", real[top])), "{text}");
    assert!(text.contains("per inference (host wall-clock"), "{text}");

    // A model that is not a classifier names no class.
    let (m, i) = (model("tflm_hello_world"), sample("tflm_hello_world", "input0.bin"));
    let doc = json(&reflex(&["run", &m, "-i", &i, "--json"]));
    assert_eq!(doc["outputs"][0]["top_class"], serde_json::Value::Null);

    // --output writes the raw bytes and says so.
    let dir = scratch_dir("run-report");
    let file = dir.join("out.bin");
    let (m, i) = (model("dense_softmax"), sample("dense_softmax", "input0.bin"));
    let o = reflex(&["run", &m, "-i", &i, "-o", file.to_str().unwrap()]);
    assert!(stdout(&o).contains(&format!("written to:  {} (6 bytes)", file.display())));
    assert_eq!(
        std::fs::read(&file).unwrap(),
        std::fs::read(sample("dense_softmax", "output0.bin")).unwrap()
    );
}

/// `inspect` shows each operator's options, whole names on request, and a memory timeline whose
/// steps add up.
#[test]
fn inspect_kernels_lists_the_variants_each_target_runs() {
    // FULLY_CONNECTED only: the packed kernel on a DSP core; the portable reference is always
    // linked, so not listed.
    let text = stdout(&reflex(&["inspect", "--kernels", &model("tflm_hello_world")]));
    assert_eq!(text, "EDGE_REFLEX_KERNELS=fully_connected:packed\n");
    // Each variant once, whatever the number of operators that use it; CONV_2D and
    // DEPTHWISE_CONV_2D run the packed kernel on a DSP core and the folded one on a portable core.
    let text = stdout(&reflex(&["inspect", "--kernels", &model("tflm_person_detect")]));
    assert_eq!(
        text,
        "EDGE_REFLEX_KERNELS=depthwise:packed,depthwise:folded,conv:packed,conv:folded\n"
    );
    // A pruned model's sparse variants, for both targets.
    let text = stdout(&reflex(&["inspect", "--kernels", &model("pruned75_conv")]));
    let list = text.trim().strip_prefix("EDGE_REFLEX_KERNELS=").unwrap();
    let mut entries: Vec<&str> = list.split(',').collect();
    entries.sort();
    assert_eq!(entries, ["conv:packed", "conv:sparse", "conv:sparse_packed_bounded"], "{text}");
    // No family with variants: nothing to link beyond the references.
    let add = fixtures().join("../conformance-next/tflm_simple_add/model.tflite");
    let text = stdout(&reflex(&["inspect", "--kernels", add.to_str().unwrap()]));
    assert_eq!(text, "EDGE_REFLEX_KERNELS=none\n");
    // Not with the other outputs.
    let r = reflex(&["inspect", "--kernels", "--json", &model("add_mul")]);
    assert!(!r.status.success());
}

#[test]
fn inspect_shows_options_names_and_the_memory_timeline() {
    let m = model("dwconv_m2_s2");
    let doc = json(&reflex(&["inspect", "--json", &m]));
    let op = &doc["operators"][0];
    assert_eq!(op["name"], "DEPTHWISE_CONV_2D");
    let o = &op["options"];
    assert_eq!((o["stride_h"].as_i64(), o["stride_w"].as_i64()), (Some(2), Some(2)));
    assert_eq!((o["filter_h"].as_i64(), o["filter_w"].as_i64()), (Some(3), Some(3)));
    assert_eq!(o["depth_multiplier"], 2);
    assert_eq!(o["padding"], "VALID");
    assert_eq!(o["activation"], "NONE");
    let text = stdout(&reflex(&["inspect", &m]));
    assert!(
        text.contains("padding=VALID stride=2x2 dilation=1x1 filter=3x3 depth_multiplier=2"),
        "{text}"
    );

    // Names longer than the column are cut by default (and the table says so), whole with --wide.
    let long = doc["tensors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap().to_string())
        .find(|n| n.chars().count() > 32)
        .expect("a long tensor name");
    assert!(!text.contains(&long) && text.contains("--wide shows them whole"), "{text}");
    let wide = stdout(&reflex(&["inspect", "--wide", &m]));
    assert!(wide.contains(&long) && !wide.contains("--wide"), "{wide}");

    let conv = json(&reflex(&["inspect", "--json", &model("conv2d_dilated")]));
    // The converter wrote this dilated convolution as SPACE_TO_BATCH_ND, CONV_2D,
    // BATCH_TO_SPACE_ND: their constant operands are shown as options.
    let ops = conv["operators"].as_array().unwrap();
    assert_eq!(ops[0]["name"], "SPACE_TO_BATCH_ND");
    assert_eq!(ops[0]["options"]["block_shape"], serde_json::json!([3, 3]));
    assert_eq!(ops[0]["options"]["paddings"].as_array().unwrap().len(), 4);
    assert_eq!(ops[2]["options"]["block_shape"], serde_json::json!([3, 3]));
    assert!(ops[2]["options"]["crops"].is_array(), "{}", ops[2]);
    let mean = json(&reflex(&["inspect", "--json", &model("global_mean")]));
    let mean_op = mean["operators"]
        .as_array()
        .unwrap()
        .iter()
        .find(|op| op["name"] == "MEAN")
        .expect("a MEAN");
    assert!(mean_op["options"]["axis"].is_array(), "{mean_op}");

    // dense_softmax is a chain (FC, FC, SOFTMAX): while operator i runs, exactly its input and
    // its output are live (and its scratch).
    let doc = json(&reflex(&["inspect", "--json", &model("dense_softmax")]));
    let tensors = doc["tensors"].as_array().unwrap();
    let bytes =
        |t: &serde_json::Value| tensors[t.as_u64().unwrap() as usize]["bytes"].as_u64().unwrap();
    let steps = doc["memory_timeline"].as_array().unwrap();
    let ops = doc["operators"].as_array().unwrap();
    assert_eq!(steps.len(), ops.len());
    for (op, step) in ops.iter().zip(steps) {
        let want = bytes(&op["inputs"][0])
            + bytes(&op["outputs"][0])
            + step["scratch_bytes"].as_u64().unwrap();
        assert_eq!(step["live_bytes"].as_u64().unwrap(), want, "{op} {step}");
        assert_eq!(step["tensors"], 2);
    }
    let plan = &doc["memory_plan"];
    let peak = steps.iter().map(|s| s["live_bytes"].as_u64().unwrap()).max().unwrap();
    assert_eq!(plan["peak_live_bytes"].as_u64().unwrap(), peak);
    assert!(peak <= plan["activations_bytes"].as_u64().unwrap());
    let text = stdout(&reflex(&["inspect", &model("dense_softmax")]));
    assert!(
        text.contains("MEMORY TIMELINE") && text.contains(&format!("peak: {peak} bytes live")),
        "{text}"
    );
}

#[test]
fn inspect_profile_times_every_operator_on_the_host() {
    let m = model("dense_softmax");
    let doc = json(&reflex(&["inspect", "--json", "--profile", "--repeat", "3", &m]));
    let p = &doc["profile"];
    assert!(p["clock"].as_str().unwrap().contains("host wall-clock"), "{p}");
    assert_eq!(p["runs"], 3);
    assert_eq!(p["inputs"], "real zero");
    let per_op: Vec<u64> =
        p["operator_ns"].as_array().unwrap().iter().map(|v| v.as_u64().unwrap()).collect();
    assert_eq!(per_op.len(), doc["operators"].as_array().unwrap().len());
    assert!(per_op.iter().all(|&ns| ns > 0), "{per_op:?}");
    assert_eq!(p["total_ns"].as_u64().unwrap(), per_op.iter().sum::<u64>());

    let i = sample("dense_softmax", "input0.bin");
    let o = reflex(&["inspect", "--profile", "-i", &i, &m]);
    assert!(o.status.success(), "{}", stderr(&o));
    let text = stdout(&o);
    assert!(text.contains("PROFILE (host wall-clock on this computer, not device time"), "{text}");
    assert!(text.contains("the given inputs") && text.contains("SOFTMAX"), "{text}");
    assert!(reflex(&["inspect", &m]).stdout.windows(7).all(|w| w != b"PROFILE"));

    let o = reflex(&["inspect", "--profile", "-i", &model("dense_softmax"), &m]);
    assert_one_line_error(&o, "needs exactly 24");
}

/// A reader that stops early (`reflex inspect ... | head`) ends `reflex` quietly.
#[test]
fn a_closed_pipe_ends_quietly() {
    let m = model("tflm_person_detect");
    for args in [vec!["inspect", "--json", m.as_str()], vec!["inspect", "--wide", m.as_str()]] {
        let mut child = Command::new(env!("CARGO_BIN_EXE_reflex"))
            .args(&args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut head = [0u8; 16];
        child.stdout.take().unwrap().read_exact(&mut head).unwrap();
        // The reader is dropped here: the rest of the output meets a closed pipe.
        let o = child.wait_with_output().unwrap();
        assert_ne!(o.status.code(), Some(101), "{}", stderr(&o));
        assert!(o.status.success(), "{args:?}: {:?} {}", o.status, stderr(&o));
        assert_eq!(stderr(&o), "", "{args:?}");
    }
}

/// A full disk, on standard output or on a file written, is a one-line error.
#[test]
fn a_full_disk_is_a_one_line_error() {
    if !Path::new("/dev/full").exists() {
        println!("no /dev/full here: skipped");
        return;
    }
    let m = model("tflm_person_detect");
    for args in [vec!["inspect", m.as_str()], vec!["inspect", "--json", m.as_str()], vec!["--help"]]
    {
        let full = std::fs::OpenOptions::new().write(true).open("/dev/full").unwrap();
        let o =
            Command::new(env!("CARGO_BIN_EXE_reflex")).args(&args).stdout(full).output().unwrap();
        assert_one_line_error(&o, "standard output: No space left on device");
    }
    let (m, i) = (model("dense_softmax"), sample("dense_softmax", "input0.bin"));
    assert_one_line_error(
        &reflex(&["run", &m, "-i", &i, "-o", "/dev/full"]),
        "/dev/full: No space left",
    );
    assert_one_line_error(&reflex(&["plan", &m, "-o", "/dev/full"]), "/dev/full: No space left");
}

/// Files are read only if regular and of a size the command can use: nothing past
/// `MAX_MODEL_BYTES` for a model, exactly the tensor's bytes for an input.
#[test]
fn oversized_and_wrong_sized_files_are_refused() {
    let dir = scratch_dir("sizes");
    let big = dir.join("big.tflite");
    let limit = 16 * 1024 * 1024u64;
    // Sparse: no disk is used, and the command must refuse it without reading it.
    std::fs::File::create(&big).unwrap().set_len(limit + 1).unwrap();
    let start = Instant::now();
    let o = reflex_within(&["inspect", big.to_str().unwrap()]);
    assert_one_line_error(&o, &format!("{} bytes, larger than the {limit} bytes", limit + 1));
    assert!(start.elapsed() < Duration::from_secs(10));
    let i = sample("dense_softmax", "input0.bin");
    assert_one_line_error(
        &reflex_within(&["run", big.to_str().unwrap(), "-i", &i]),
        "larger than the 16777216 bytes",
    );
    // A plan file has the same bound.
    let m = model("dense_softmax");
    assert_one_line_error(
        &reflex_within(&["run", &m, "-i", &i, "--plan", big.to_str().unwrap()]),
        "larger than",
    );

    let input = std::fs::read(&i).unwrap();
    for len in [0, input.len() - 1, input.len() + 1, 1 << 20] {
        let f = dir.join(format!("input-{len}.bin"));
        let mut bytes = input.clone();
        bytes.resize(len, 0);
        std::fs::write(&f, bytes).unwrap();
        let o = reflex_within(&["run", &m, "-i", f.to_str().unwrap()]);
        assert_one_line_error(&o, &format!("{len} bytes, input 0 (int8 [1,24]) needs exactly 24"));
    }
}

/// A FIFO, `/dev/zero` or a directory would hang or never end: refused at once.
#[test]
fn fifos_devices_and_directories_are_refused_without_hanging() {
    let dir = scratch_dir("special");
    let fifo = dir.join("fifo");
    let _ = std::fs::remove_file(&fifo);
    let made = Command::new("mkfifo").arg(&fifo).status().map(|s| s.success()).unwrap_or(false);
    let (m, i) = (model("dense_softmax"), sample("dense_softmax", "input0.bin"));
    let mut specials = vec![(dir.to_str().unwrap().to_string(), "a directory")];
    if made {
        specials.push((fifo.to_str().unwrap().to_string(), "a FIFO"));
    }
    if Path::new("/dev/zero").exists() {
        specials.push(("/dev/zero".into(), "a character device"));
    }
    for (path, kind) in &specials {
        let start = Instant::now();
        let want = format!("{path}: {kind}, not a regular file");
        assert_one_line_error(&reflex_within(&["inspect", path]), &want);
        assert_one_line_error(&reflex_within(&["plan", path, "-o", "x.plan"]), &want);
        assert_one_line_error(&reflex_within(&["run", &m, "-i", path]), &want);
        assert_one_line_error(&reflex_within(&["run", &m, "-i", &i, "--plan", path]), &want);
        assert!(start.elapsed() < Duration::from_secs(10), "{path}");
    }
    assert!(specials.len() >= 2 || !cfg!(unix), "{specials:?}");
}

#[test]
fn operators_lists_the_engine_table() {
    let out = reflex(&["operators"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("FULLY_CONNECTED") && text.contains("1-12"), "{text}");
    let json = reflex(&["operators", "--json"]);
    let lines: Vec<serde_json::Value> = String::from_utf8(json.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).expect("one JSON object per line"))
        .collect();
    assert_eq!(lines.len(), edge_reflex::engine::BUILTINS.len());
    assert!(lines.iter().any(|o| o["name"] == "CONV_2D" && o["max_version"] == 8));
}
