//! Embeds the conformance case named by BENCH_MODEL (see bench_build.rs) and provides memory.x.

include!("bench_build.rs");

fn main() {
    bench_build(Board {
        name: "m4",
        ram: 4 * 1024 * 1024,
        flash: 4 * 1024 * 1024,
        ram_reserve: 64 * 1024,
        flash_reserve: 256 * 1024,
    });
}
