//! Embeds the conformance case named by BENCH_MODEL (see ../bench-m4/bench_build.rs) and provides
//! memory.x. A model whose arena does not leave room for the stack in 16 KB, or whose weights do not
//! leave room for the code in 256 KB, fails the build with `bench: does not fit m0` (scripts/bench.sh
//! reports it as skipped).

include!("../bench-m4/bench_build.rs");

fn main() {
    bench_build(Board {
        name: "m0",
        ram: 16 * 1024,
        flash: 256 * 1024,
        ram_reserve: 2 * 1024,
        flash_reserve: 128 * 1024,
    });
}
