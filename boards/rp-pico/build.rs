//! Puts memory.x where the linker looks for it (cortex-m-rt's link.x includes it), and writes the
//! update layout it names (`SLOT0`, `SLOT1`, `STATE`) as consts for the firmware.

use std::path::PathBuf;

include!("../common/memory_build.rs");

fn main() {
    let out = PathBuf::from(std::env::var_os("OUT_DIR").expect("cargo sets OUT_DIR"));
    let memory_x = include_str!("memory.x");
    std::fs::write(out.join("memory.x"), memory_x).expect("OUT_DIR is writable");
    write_update_layout(memory_x, &out);
    println!("cargo:rustc-link-search={}", out.display());
    println!("cargo:rerun-if-changed=memory.x");
    println!("cargo:rerun-if-changed=../common/memory_build.rs");
}
