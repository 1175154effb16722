//! Embeds the conformance case named by BENCH_MODEL (see bench_build.rs) and writes the memory map of
//! the emulated board the firmware is built for (see `board` in bench_build.rs).

include!("bench_build.rs");

fn main() {
    bench_build(board());
}
