//! Embeds the conformance case named by BENCH_MODEL (see ../bench-m4/bench_build.rs) and provides
//! memory.x (QEMU mps2-an505: 4 MiB for the image, 4 MiB of data RAM, as the M4 board).

include!("../bench-m4/bench_build.rs");

fn main() {
    bench_build(Board {
        name: "m33",
        ram: 4 * 1024 * 1024,
        flash: 4 * 1024 * 1024,
        ram_reserve: 64 * 1024,
        flash_reserve: 256 * 1024,
    });
}
