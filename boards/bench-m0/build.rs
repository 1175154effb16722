//! Embeds the conformance case named by BENCH_MODEL (see ../bench-m4/bench_build.rs) and provides
//! memory.x. A model whose arena does not leave room for the stack in 16 KB, or whose weights do not
//! leave room for the code in 256 KB, fails the build with `bench: does not fit m0` (scripts/bench.sh
//! reports it as skipped).
//!
//! `BENCH_M0_MACHINE=mps2-an386` links the same thumbv6m firmware for QEMU's mps2-an386 instead (the
//! memory of ../bench-m4/memory.x: 4 MB of flash and 4 MB of RAM at the micro:bit's addresses), for the
//! models that do not fit the micro:bit: thumbv6m code runs unchanged on that Cortex-M4 machine and
//! executes the same instructions, so the count is the Cortex-M0 count.

include!("../bench-m4/bench_build.rs");

fn main() {
    let large = match env_or("BENCH_M0_MACHINE", "microbit").as_str() {
        "microbit" => false,
        "mps2-an386" => true,
        other => panic!("bench: unknown BENCH_M0_MACHINE={other} (expected microbit or mps2-an386)"),
    };
    println!("cargo:rerun-if-changed=../bench-m4/memory.x");
    if large {
        bench_build(Board {
            name: "m0 (mps2-an386)",
            ram: 4 * 1024 * 1024,
            flash: 4 * 1024 * 1024,
            ram_reserve: 64 * 1024,
            flash_reserve: 256 * 1024,
        });
        let out = PathBuf::from(std::env::var_os("OUT_DIR").expect("set by cargo"));
        std::fs::copy("../bench-m4/memory.x", out.join("memory.x")).expect("copy memory.x to OUT_DIR");
    } else {
        bench_build(Board {
            name: "m0",
            ram: 16 * 1024,
            flash: 256 * 1024,
            ram_reserve: 2 * 1024,
            flash_reserve: 128 * 1024,
        });
    }
}
