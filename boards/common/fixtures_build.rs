// Build-script helper shared by the board crates: embeds conformance fixtures into the firmware.
//
// A board's build.rs does `include!("../common/fixtures_build.rs");` and calls `embed_fixtures`
// with the fixture sets it runs, each with its cases and samples:
//
//     embed_fixtures(&[
//         FixtureSet { set: "conformance", cases: Select::All, samples: Samples::All },
//         FixtureSet { set: "mlperf-tiny", cases: Select::Only(&["mlperf_kws"]), samples: Samples::First(2) },
//     ]);
//
// A set is a directory of `tests/data/` (`conformance`, `conformance-next`, `mlperf-tiny`), one
// folder per case. `Select::All` takes every case whose outputs must be bit-exact: those without a
// `tier` in case.json, and the `core` and `extended` tiers; the `float` tier's cases (compared
// within their case.json `tolerance`) and the `stretch` LSTM cases (the runner resets their state
// before every sample) are taken by name with `Select::Only`. It writes
// `$OUT_DIR/conformance_cases.rs`, which the firmware includes with
// `include!(concat!(env!("OUT_DIR"), "/conformance_cases.rs"))` to get
// `static CASES: &[board_common::conformance::Case]`. The bytes are referenced by absolute path with
// `include_bytes!`; nothing is copied. Set EDGE_REFLEX_FIXTURES to read the sets from another
// directory than `<repo>/tests/data`.

#[allow(unused_imports)]
use std::fmt::Write as _;

/// Which cases of a set a board embeds.
#[allow(dead_code)]
enum Select<'a> {
    /// Every bit-exact case of the set (no tier, `core` or `extended`), in name order.
    All,
    /// Exactly these cases, in this order; a missing one fails the build.
    Only(&'a [&'a str]),
}

/// Which samples of each case a board embeds.
#[allow(dead_code)]
#[derive(Clone, Copy)]
enum Samples {
    /// Every sample.
    All,
    /// Samples `0..n` (in conformance-next and mlperf-tiny the first ones are the edge cases).
    First(usize),
}

/// One fixture set and what a board takes from it.
struct FixtureSet<'a> {
    /// Directory name under `tests/data`.
    set: &'a str,
    /// Its cases to embed.
    cases: Select<'a>,
    /// Their samples to embed.
    samples: Samples,
}

/// Every case of the fixture sets with every sample, for the boards with room for all of them
/// (built with the `op-float` feature): the bit-exact cases of the three sets, the `stretch` tier
/// (the LSTM models, state reset before every sample) and the `float` tier (compared within each
/// case's tolerance).
#[allow(dead_code)]
const EVERY_CASE: [FixtureSet<'static>; 5] = [
    FixtureSet { set: "conformance", cases: Select::All, samples: Samples::All },
    // The `core` and `extended` tiers (Select::All leaves out `float` and `stretch`).
    FixtureSet { set: "conformance-next", cases: Select::All, samples: Samples::All },
    FixtureSet {
        set: "conformance-next",
        cases: Select::Only(&["tflm_dtln_noise_suppression", "tflm_mnist_lstm"]),
        samples: Samples::All,
    },
    FixtureSet { set: "mlperf-tiny", cases: Select::All, samples: Samples::All },
    FixtureSet {
        set: "conformance-next",
        cases: Select::Only(&["dynamic_range_fc", "float32_cnn"]),
        samples: Samples::All,
    },
];

/// Locates a fixture set: `$EDGE_REFLEX_FIXTURES/<set>`, or `<repo>/tests/data/<set>`.
fn fixture_set_dir(set: &str) -> std::path::PathBuf {
    println!("cargo:rerun-if-env-changed=EDGE_REFLEX_FIXTURES");
    let root = match std::env::var_os("EDGE_REFLEX_FIXTURES") {
        Some(dir) => std::path::PathBuf::from(dir),
        None => {
            let manifest = std::path::PathBuf::from(
                std::env::var_os("CARGO_MANIFEST_DIR").expect("CARGO_MANIFEST_DIR is set by cargo"),
            );
            // boards/<board>/ -> repository root -> tests/data
            manifest.join("../../tests/data")
        }
    };
    let dir = root.join(set);
    dir.canonicalize().unwrap_or_else(|e| {
        panic!(
            "fixture set {set} not found at {} ({e}); the sets live in tests/data in the \
             repository, or set EDGE_REFLEX_FIXTURES",
            dir.display()
        )
    })
}

/// The `"tier"` string of a case's case.json, if it has one.
fn case_tier(case: &std::path::Path) -> Option<String> {
    let json = std::fs::read_to_string(case.join("case.json")).ok()?;
    let after_key = &json[json.find("\"tier\"")? + "\"tier\"".len()..];
    let value = after_key.trim_start().strip_prefix(':')?.trim_start().strip_prefix('"')?;
    Some(value[..value.find('"')?].to_string())
}

/// The `"tolerance"` number of a case's case.json (0 when absent: byte-exact).
fn case_tolerance(case: &std::path::Path) -> f64 {
    let Ok(json) = std::fs::read_to_string(case.join("case.json")) else { return 0.0 };
    let Some(at) = json.find("\"tolerance\"") else { return 0.0 };
    let value = json[at + "\"tolerance\"".len()..].trim_start().trim_start_matches(':').trim_start();
    let end = value.find(|c: char| !(c.is_ascii_digit() || "+-.eE".contains(c))).unwrap_or(value.len());
    value[..end].parse().unwrap_or(0.0)
}

/// Files `<sample>/<stem>0.bin, <stem>1.bin, ...` in order, stopping at the first missing one.
fn numbered_files(sample: &std::path::Path, stem: &str) -> Vec<std::path::PathBuf> {
    (0..).map(|j| sample.join(format!("{stem}{j}.bin"))).take_while(|p| p.is_file()).collect()
}

/// The case names a board takes from a set directory.
fn selected_cases(dir: &std::path::Path, select: &Select) -> Vec<String> {
    let mut available: Vec<String> = std::fs::read_dir(dir)
        .expect("read the fixture set directory")
        .filter_map(|e| e.ok())
        .filter(|e| e.path().join("model.tflite").is_file())
        .filter_map(|e| e.file_name().into_string().ok())
        .collect();
    available.sort();
    match select {
        Select::All => available
            .into_iter()
            .filter(|name| {
                matches!(case_tier(&dir.join(name)).as_deref(), None | Some("core" | "extended"))
            })
            .collect(),
        Select::Only(list) => list
            .iter()
            .map(|name| {
                assert!(
                    available.iter().any(|a| a == name),
                    "conformance case {name} not found in {}",
                    dir.display()
                );
                name.to_string()
            })
            .collect(),
    }
}

/// Writes `$OUT_DIR/conformance_cases.rs` with the selected cases of every set, set by set.
fn embed_fixtures(sets: &[FixtureSet]) {
    let lit = |p: &std::path::Path| format!("{:?}", p.to_str().expect("UTF-8 fixture path"));
    let mut models = String::new();
    let mut table = String::new();
    let mut embedded_bytes = 0u64;
    let mut count = 0usize;
    for fixture_set in sets {
        let dir = fixture_set_dir(fixture_set.set);
        println!("cargo:rerun-if-changed={}", dir.display());
        for name in selected_cases(&dir, &fixture_set.cases) {
            let i = count;
            count += 1;
            let model = dir.join(&name).join("model.tflite");
            let len = std::fs::metadata(&model).expect("model size").len();
            embedded_bytes += len;
            writeln!(
                models,
                "static MODEL_{i}: ::board_common::Aligned<[u8; {len}]> = \
                 ::board_common::Aligned(*include_bytes!({}));",
                lit(&model)
            )
            .unwrap();

            let samples_dir = dir.join(&name).join("samples");
            let mut samples: Vec<(u32, std::path::PathBuf)> = std::fs::read_dir(&samples_dir)
                .unwrap_or_else(|e| panic!("{}: {e}", samples_dir.display()))
                .filter_map(|e| e.ok())
                .filter_map(|e| Some((e.file_name().to_str()?.parse().ok()?, e.path())))
                .collect();
            samples.sort();
            let total_samples = samples.len();
            if let Samples::First(n) = fixture_set.samples {
                samples.truncate(n);
            }
            let tolerance = case_tolerance(&dir.join(&name));
            writeln!(
                table,
                "    ::board_common::conformance::Case {{ set: {:?}, name: {name:?}, model: &MODEL_{i}.0, \
                 plan: None, tolerance: {tolerance:?}, samples_in_fixture: {total_samples}, samples: &[",
                fixture_set.set
            )
            .unwrap();
            for (_, sample) in &samples {
                let list = |stem: &str, total: &mut u64| {
                    let files = numbered_files(sample, stem);
                    assert!(!files.is_empty(), "{}: no {stem}0.bin", sample.display());
                    files
                        .iter()
                        .map(|f| {
                            *total += std::fs::metadata(f).map(|m| m.len()).unwrap_or(0);
                            format!("include_bytes!({}) as &[u8]", lit(f))
                        })
                        .collect::<Vec<_>>()
                        .join(", ")
                };
                let inputs = list("input", &mut embedded_bytes);
                let outputs = list("output", &mut embedded_bytes);
                writeln!(
                    table,
                    "        ::board_common::conformance::Sample {{ inputs: &[{inputs}], outputs: &[{outputs}] }},"
                )
                .unwrap();
            }
            writeln!(table, "    ]}},").unwrap();
        }
    }

    let mut code = String::new();
    let names: Vec<&str> = sets.iter().map(|s| s.set).collect();
    writeln!(
        code,
        "// Generated by build.rs from tests/data/{{{}}}: {count} case(s).",
        names.join(",")
    )
    .unwrap();
    code.push_str(&models);
    writeln!(code, "/// The embedded conformance cases.").unwrap();
    writeln!(code, "pub static CASES: &[::board_common::conformance::Case] = &[").unwrap();
    code.push_str(&table);
    writeln!(code, "];").unwrap();
    writeln!(code, "/// Bytes of fixture data (models and samples) in flash.").unwrap();
    writeln!(code, "pub const EMBEDDED_FIXTURE_BYTES: usize = {embedded_bytes};").unwrap();

    let out =
        std::path::PathBuf::from(std::env::var_os("OUT_DIR").expect("OUT_DIR is set by cargo"));
    std::fs::write(out.join("conformance_cases.rs"), code).expect("write conformance_cases.rs");
}

/// Puts the board's `memory.x` where cortex-m-rt's `link.x` finds it.
#[allow(dead_code)]
fn provide_memory_x() {
    let out =
        std::path::PathBuf::from(std::env::var_os("OUT_DIR").expect("OUT_DIR is set by cargo"));
    std::fs::copy("memory.x", out.join("memory.x")).expect("copy memory.x to OUT_DIR");
    println!("cargo:rustc-link-search={}", out.display());
    println!("cargo:rerun-if-changed=memory.x");
}
