// Build-script logic of the benchmark firmware (boards/bench), one crate for every emulated board:
// the board is chosen by the target cargo builds for and BENCH_BOARD (see `board`). It writes the
// board's memory.x and embeds ONE conformance case, chosen at build time:
//
//   BENCH_BOARD   `m4` (thumbv7em, QEMU mps2-an386, 4 MiB flash and RAM), `m0` (thumbv6m, QEMU
//                 microbit, 256 KiB flash and 16 KiB RAM), `m0-an386` (thumbv6m code on the
//                 mps2-an386 memory map, for models too big for the micro:bit), `m33`
//                 (thumbv8m.main with target-cpu=cortex-m33, QEMU mps2-an505, 4 MiB each), `rv32`
//                 (riscv32imc, QEMU riscv32 virt, 8 MiB each); default: the one board of the target
//                 (`m4` for thumbv7em, `m0` for thumbv6m)
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
    let default = match target.split('-').next().unwrap_or("") {
        "thumbv6m" => "m0",
        "thumbv8m.main" => "m33",
        "riscv32imc" => "rv32",
        _ => "m4",
    };
    let name = env_or("BENCH_BOARD", default);
    const MIB: usize = 1024 * 1024;
    let (board, needs) = match name.as_str() {
        "m4" => (
            Board {
                name: "m4",
                ram: 4 * MIB,
                flash: 4 * MIB,
                ram_reserve: 64 * 1024,
                flash_reserve: 256 * 1024,
            },
            "thumbv7em-none-eabihf",
        ),
        "m0" => (
            Board {
                name: "m0",
                ram: 16 * 1024,
                flash: 256 * 1024,
                ram_reserve: 2 * 1024,
                flash_reserve: 128 * 1024,
            },
            "thumbv6m-none-eabi",
        ),
        "m0-an386" => (
            Board {
                name: "m0-an386",
                ram: 4 * MIB,
                flash: 4 * MIB,
                ram_reserve: 64 * 1024,
                flash_reserve: 256 * 1024,
            },
            "thumbv6m-none-eabi",
        ),
        "m33" => (
            Board {
                name: "m33",
                ram: 4 * MIB,
                flash: 4 * MIB,
                ram_reserve: 64 * 1024,
                flash_reserve: 256 * 1024,
            },
            "thumbv8m.main-none-eabihf",
        ),
        "rv32" => (
            Board {
                name: "rv32",
                ram: 8 * MIB,
                flash: 8 * MIB,
                ram_reserve: 64 * 1024,
                flash_reserve: 256 * 1024,
            },
            "riscv32imc-unknown-none-elf",
        ),
        other => {
            panic!("bench: unknown BENCH_BOARD={other} (expected m4, m0, m0-an386, m33 or rv32)")
        }
    };
    assert!(
        target == needs,
        "bench: BENCH_BOARD={} needs --target {needs}, not {target}",
        board.name
    );
    board
}

/// The board's memory map for the runtime's link.x. cortex-m-rt: flash at 0 and RAM at 0x2000_0000
/// on QEMU `microbit` and `mps2-an386` (whose 4 MiB SSRAM1 at 0 holds the image); `mps2-an505`
/// starts in the secure state, so its image goes to SSRAM1's secure alias 0x1000_0000 and its data
/// to SSRAM2/3's, 0x3800_0000. riscv-rt (`virt`): DRAM at 0x8000_0000, image first, then the data,
/// with the region aliases riscv-rt's link.x asks for.
fn memory_x(board: &Board) -> String {
    let (flash_origin, ram_origin) = match board.name {
        "m33" => (0x1000_0000u32, 0x3800_0000u32),
        "rv32" => (0x8000_0000, 0x8000_0000 + board.flash as u32),
        _ => (0, 0x2000_0000),
    };
    let mut x = format!(
        "/* {}: written by build.rs */\nMEMORY\n{{\n  FLASH : ORIGIN = {flash_origin:#010x}, LENGTH = {}\n  RAM   : ORIGIN = {ram_origin:#010x}, LENGTH = {}\n}}\n",
        board.name, board.flash, board.ram
    );
    if board.name == "rv32" {
        for (alias, region) in [
            ("REGION_TEXT", "FLASH"),
            ("REGION_RODATA", "FLASH"),
            ("REGION_DATA", "RAM"),
            ("REGION_BSS", "RAM"),
            ("REGION_HEAP", "RAM"),
            ("REGION_STACK", "RAM"),
        ] {
            writeln!(x, "REGION_ALIAS(\"{alias}\", {region});").expect("write to a String");
        }
    }
    x
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
    println!("cargo:rustc-check-cfg=cfg(bench_stateful)");

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
    // A model with state (an LSTM's variable tensors) is reset before every measured inference,
    // outside the markers, so each run starts as the fixture's sample does.
    if model.operators().any(|op| op.code == edge_reflex::engine::model::operator::code::UNIDIRECTIONAL_SEQUENCE_LSTM) {
        println!("cargo:rustc-cfg=bench_stateful");
    }
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
