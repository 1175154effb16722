//! Embeds the conformance case named by BENCH_MODEL (see ../bench-m4/bench_build.rs) and provides
//! memory.x (QEMU riscv32 virt: 8 MiB for the image, 8 MiB of RAM).

include!("../bench-m4/bench_build.rs");

fn main() {
    bench_build(Board {
        name: "rv32",
        ram: 8 * 1024 * 1024,
        flash: 8 * 1024 * 1024,
        ram_reserve: 64 * 1024,
        flash_reserve: 256 * 1024,
    });
}
