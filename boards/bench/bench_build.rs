// Build-script logic of the benchmark firmware (boards/bench), one crate for every emulated board:
// the board is chosen by the target cargo builds for and BENCH_BOARD (see `board`). It writes the
// board's memory.x and embeds ONE conformance case, chosen at build time:
//
//   BENCH_BOARD   `m4` (thumbv7em, QEMU mps2-an386, 4 MiB flash and RAM), `m0` (thumbv6m, QEMU
//                 microbit, 256 KiB flash and 16 KiB RAM), `m0-an386` (thumbv6m code on the
//                 mps2-an386 memory map, for models too big for the micro:bit); default: `m4` for
//                 thumbv7em, `m0` for thumbv6m
//   BENCH_MODEL   a fixture case: `set/case` (e.g. `mlperf-tiny/mlperf_kws`), or a bare case name
//                 looked up in every set of tests/data (conformance, conformance-next, mlperf-tiny;
//                 a name found in two sets must be given with its set); default tflm_hello_world
//   BENCH_RUNS    how many inferences the firmware measures (default 1)
//   BENCH_PROFILE `ops`: also run one inference with a per-operator marker pair around each operator
//                 (needs the engine's profiling hook), for scripts/bench.sh's per-operator table
//   BENCH_ENGINE  `prebuilt` (default): the model's plan is made here (engine::build) and the firmware
//                 runs it from flash with Interpreter::from_plan, as a firmware with a fixed model
//                 would; `load`: the firmware loads, checks and plans the model itself
//                 (TfLiteModel::load + Interpreter::new), as one that receives models at run time
//   EDGE_REFLEX_FIXTURES  another directory holding the fixture sets (default <repo>/tests/data)
//
// and writes `$OUT_DIR/bench_case.rs`: the case name, the run count, the exact arena size (computed
// here with the engine itself, `engine::build`), the plan (prebuilt), the model and sample 0's inputs
// and expected outputs
// as `#[no_mangle]` statics referenced by absolute path with `include_bytes!` (nothing is copied into
// the repository; scripts/bench.sh reads their sizes from the ELF to subtract them from flash). A model
// that does not fit the board fails the build with a message that starts with `bench: does not fit`.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// What the build needs to know about a board.
struct Board {
    /// Short name used in messages (`m4`, `m0`, `m0-an386`).
    name: &'static str,
    /// RAM bytes (memory.x).
    ram: usize,
    /// Flash bytes (memory.x).
    flash: usize,
    /// RAM kept free for the stack and the firmware's own statics when deciding whether a model fits.
    ram_reserve: usize,
    /// Flash kept for the code when deciding whether a model fits.
    flash_reserve: usize,
}

fn env_or(name: &str, default: &str) -> String {
    println!("cargo:rerun-if-env-changed={name}");
    std::env::var(name).unwrap_or_else(|_| default.to_string())
}

/// The fixture sets a bare BENCH_MODEL name is looked up in, in this order.
const FIXTURE_SETS: [&str; 3] = ["conformance", "conformance-next", "mlperf-tiny"];

/// `$EDGE_REFLEX_FIXTURES`, or `<repo>/tests/data`.
fn fixtures_root() -> PathBuf {
    println!("cargo:rerun-if-env-changed=EDGE_REFLEX_FIXTURES");
    match std::env::var_os("EDGE_REFLEX_FIXTURES") {
        Some(dir) => PathBuf::from(dir),
        None => PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").expect("set by cargo"))
            .join("../../tests/data"),
    }
}

/// The directory of case `name` (`set/case`, or a case name unique among the sets).
fn case_dir(name: &str) -> PathBuf {
    let root = fixtures_root();
    let found: Vec<PathBuf> = if name.contains('/') {
        vec![root.join(name)]
    } else {
        FIXTURE_SETS.iter().map(|set| root.join(set).join(name)).collect()
    };
    let found: Vec<PathBuf> =
        found.into_iter().filter(|dir| dir.join("model.tflite").is_file()).collect();
    match found.as_slice() {
        [dir] => dir.canonicalize().expect("an existing directory"),
        [] => panic!("bench: no case {name} in {} (sets: {FIXTURE_SETS:?})", root.display()),
        _ => panic!("bench: case {name} is in several sets, give it as set/{name}"),
    }
}

/// `<sample>/<stem>0.bin, <stem>1.bin, ...` up to the first missing one.
fn numbered(sample: &Path, stem: &str) -> Vec<PathBuf> {
    (0..).map(|j| sample.join(format!("{stem}{j}.bin"))).take_while(|p| p.is_file()).collect()
}

fn lit(p: &Path) -> String {
    format!("{:?}", p.to_str().expect("UTF-8 fixture path"))
}

/// The board named by BENCH_BOARD, checked against the target cargo builds for.
fn board() -> Board {
    let target = std::env::var("TARGET").expect("set by cargo");
    let arch_v6m = target.starts_with("thumbv6m");
    let default = if arch_v6m { "m0" } else { "m4" };
    let name = env_or("BENCH_BOARD", default);
    const MIB: usize = 1024 * 1024;
    let board = match name.as_str() {
        "m4" => Board {
            name: "m4",
            ram: 4 * MIB,
            flash: 4 * MIB,
            ram_reserve: 64 * 1024,
            flash_reserve: 256 * 1024,
        },
        "m0" => Board {
            name: "m0",
            ram: 16 * 1024,
            flash: 256 * 1024,
            ram_reserve: 2 * 1024,
            flash_reserve: 128 * 1024,
        },
        "m0-an386" => Board {
            name: "m0-an386",
            ram: 4 * MIB,
            flash: 4 * MIB,
            ram_reserve: 64 * 1024,
            flash_reserve: 256 * 1024,
        },
        other => panic!("bench: unknown BENCH_BOARD={other} (expected m4, m0 or m0-an386)"),
    };
    let wants_v6m = board.name.starts_with("m0");
    assert!(
        wants_v6m == arch_v6m,
        "bench: BENCH_BOARD={} needs --target {}, not {target}",
        board.name,
        if wants_v6m { "thumbv6m-none-eabi" } else { "thumbv7em-none-eabihf" },
    );
    board
}

/// The board's memory map for cortex-m-rt's link.x: flash at 0, RAM at 0x2000_0000 on every
/// emulated board here (QEMU `microbit` and `mps2-an386`, whose 4 MiB SSRAM1 at 0 holds the image).
fn memory_x(board: &Board) -> String {
    format!(
        "/* {}: written by build.rs */\nMEMORY\n{{\n  FLASH : ORIGIN = 0x00000000, LENGTH = {}\n  RAM   : ORIGIN = 0x20000000, LENGTH = {}\n}}\n",
        board.name, board.flash, board.ram
    )
}

fn bench_build(board: Board) {
    // memory.x where cortex-m-rt's link.x finds it.
    let out = PathBuf::from(std::env::var_os("OUT_DIR").expect("set by cargo"));
    std::fs::write(out.join("memory.x"), memory_x(&board)).expect("write memory.x to OUT_DIR");
    // cortex-m-rt's `device` feature includes device.x (the device's interrupt handler names); the
    // harness's one-entry table (src/bench/vectors.rs) names none.
    std::fs::write(out.join("device.x"), "").expect("write device.x");
    println!("cargo:rustc-link-search={}", out.display());
    println!("cargo:rustc-check-cfg=cfg(bench_profile)");
    println!("cargo:rustc-check-cfg=cfg(bench_load)");

    let case = env_or("BENCH_MODEL", "tflm_hello_world");
    let runs: u32 = env_or("BENCH_RUNS", "1")
        .parse()
        .ok()
        .filter(|&n| n > 0)
        .expect("bench: BENCH_RUNS must be a positive integer");
    match env_or("BENCH_PROFILE", "").as_str() {
        "" => {}
        "ops" => println!("cargo:rustc-cfg=bench_profile"),
        other => panic!("bench: unknown BENCH_PROFILE={other} (expected `ops` or nothing)"),
    }

    let prebuilt = match env_or("BENCH_ENGINE", "prebuilt").as_str() {
        "prebuilt" => true,
        "load" => {
            println!("cargo:rustc-cfg=bench_load");
            false
        }
        other => panic!("bench: unknown BENCH_ENGINE={other} (expected `prebuilt` or `load`)"),
    };

    let dir = case_dir(&case);
    // The bare case name, for the report (`bench-fw case=...`).
    let case = dir.file_name().and_then(|n| n.to_str()).expect("UTF-8 case name").to_string();
    let model_path = dir.join("model.tflite");
    println!("cargo:rerun-if-changed={}", dir.display());
    let bytes = std::fs::read(&model_path)
        .unwrap_or_else(|e| panic!("bench: no case {case}: {}: {e}", model_path.display()));
    let model = edge_reflex::engine::TfLiteModel::load(&bytes)
        .unwrap_or_else(|e| panic!("bench: {case}: the engine refuses the model: {e}"));
    let mut arena =
        model.arena_size().unwrap_or_else(|e| panic!("bench: {case}: cannot plan the arena: {e}"));
    let plan = prebuilt.then(|| {
        let plan = edge_reflex::engine::build::plan_from_bytes(&bytes)
            .unwrap_or_else(|e| panic!("bench: {case}: cannot write the plan: {e}"));
        let bound = edge_reflex::engine::Prebuilt::new(&bytes, &plan)
            .unwrap_or_else(|e| panic!("bench: {case}: the plan does not bind: {e}"));
        arena = bound.arena_size();
        let path = out.join("model.plan");
        std::fs::write(&path, &plan).expect("write the plan");
        (plan.len(), path)
    });

    if arena + board.ram_reserve > board.ram || bytes.len() + board.flash_reserve > board.flash {
        panic!(
            "bench: does not fit {}: {case} needs arena {arena} B (+{} B reserved) of {} B RAM and \
             model {} B (+{} B reserved) of {} B flash",
            board.name,
            board.ram_reserve,
            board.ram,
            bytes.len(),
            board.flash_reserve,
            board.flash
        );
    }

    let sample = dir.join("samples").join("0");
    let (inputs, outputs) = (numbered(&sample, "input"), numbered(&sample, "output"));
    assert!(!inputs.is_empty() && !outputs.is_empty(), "bench: {}: no sample 0", dir.display());

    let mut code = String::new();
    let w = &mut code;
    writeln!(w, "// Generated by build.rs: conformance case {case}.").unwrap();
    writeln!(w, "/// The conformance case.\npub const CASE: &str = {case:?};").unwrap();
    writeln!(w, "/// Measured inferences.\npub const RUNS: u32 = {runs};").unwrap();
    writeln!(w, "/// Exact arena bytes (engine planner; activations alone with a plan).\npub const ARENA_BYTES: usize = {arena};")
        .unwrap();
    writeln!(
        w,
        "/// The model.\n#[no_mangle]\npub static BENCH_MODEL: Aligned<[u8; {}]> = \
         Aligned(*include_bytes!({}));",
        bytes.len(),
        lit(&model_path)
    )
    .unwrap();
    if let Some((len, path)) = &plan {
        writeln!(
            w,
            "/// The model's prebuilt plan.\n#[no_mangle]\npub static BENCH_PLAN: [u8; {len}] = \
             *include_bytes!({});",
            lit(path)
        )
        .unwrap();
    }
    for (kind, files) in [("INPUT", &inputs), ("EXPECTED", &outputs)] {
        for (j, f) in files.iter().enumerate() {
            let len = std::fs::metadata(f).expect("fixture size").len();
            writeln!(
                w,
                "#[no_mangle]\npub static BENCH_{kind}_{j}: [u8; {len}] = *include_bytes!({});",
                lit(f)
            )
            .unwrap();
        }
        let refs: Vec<String> = (0..files.len()).map(|j| format!("&BENCH_{kind}_{j}")).collect();
        writeln!(
            w,
            "/// Sample 0's {kind} tensors.\npub static {kind}S: [&[u8]; {}] = [{}];",
            files.len(),
            refs.join(", ")
        )
        .unwrap();
    }
    std::fs::write(out.join("bench_case.rs"), code).expect("write bench_case.rs");
}
