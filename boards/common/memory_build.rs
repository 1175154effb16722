// The update area of a physical board, read from its `memory.x` at build time (included by the
// board's build.rs), so the firmware's `Layout` and the linker's regions are one text.
//
// The regions `SLOT0`, `SLOT1` and `STATE` (two erase sectors) of `memory.x`, and the flash
// base `FLASH_BASE` (the address the flash driver's offset 0 is mapped at, given as a comment
// line `/* FLASH_BASE = 0x... */`) become consts of `$OUT_DIR/update_layout.rs`: offsets for the
// flash driver.

/// A number of memory.x: `0x...`, decimal, with an optional `K` or `M` suffix.
fn memory_number(text: &str) -> u64 {
    let t = text.trim();
    let (digits, scale) = match t.strip_suffix('K') {
        Some(d) => (d, 1024),
        None => match t.strip_suffix('M') {
            Some(d) => (d, 1024 * 1024),
            None => (t, 1),
        },
    };
    let value = match digits.strip_prefix("0x").or_else(|| digits.strip_prefix("0X")) {
        Some(hex) => u64::from_str_radix(&hex.replace('_', ""), 16),
        None => digits.replace('_', "").parse(),
    };
    value.unwrap_or_else(|_| panic!("memory.x: `{t}` is not a number")) * scale
}

/// ORIGIN and LENGTH of the region `name` in memory.x.
fn memory_region(memory_x: &str, name: &str) -> (u64, u64) {
    let line = memory_x
        .lines()
        .find(|l| l.split(':').next().is_some_and(|n| n.trim() == name))
        .unwrap_or_else(|| panic!("memory.x has no region {name}"));
    let field = |key: &str| {
        let at = line.find(key).unwrap_or_else(|| panic!("memory.x: {name} has no {key}"));
        let rest = line[at + key.len()..].trim_start().trim_start_matches('=');
        memory_number(rest.split(',').next().unwrap_or(rest))
    };
    (field("ORIGIN"), field("LENGTH"))
}

/// Writes `$OUT_DIR/update_layout.rs` from `memory_x`.
fn write_update_layout(memory_x: &str, out: &std::path::Path) {
    let base = memory_x
        .lines()
        .find_map(|l| {
            l.trim().strip_prefix("/* FLASH_BASE =")?.strip_suffix("*/").map(memory_number)
        })
        .expect("memory.x names FLASH_BASE in a comment");
    let [slot0, slot1, state] = ["SLOT0", "SLOT1", "STATE"].map(|n| memory_region(memory_x, n));
    assert!(state.1 % 2 == 0, "STATE holds two erase sectors");
    let sector = state.1 / 2;
    let text = format!(
        "/// Address of the flash driver's offset 0.\n\
         pub const FLASH_BASE: usize = {base:#x};\n\
         /// The update's slots and state sectors, as flash driver offsets (from memory.x).\n\
         pub const UPDATE_LAYOUT: board_common::update::Layout = board_common::update::Layout {{\n\
         \x20   slots: [\n\
         \x20       board_common::update::Region {{ offset: {s0:#x}, len: {l0:#x} }},\n\
         \x20       board_common::update::Region {{ offset: {s1:#x}, len: {l1:#x} }},\n\
         \x20   ],\n\
         \x20   state: [{t0:#x}, {t1:#x}],\n\
         }};\n",
        s0 = slot0.0 - base,
        l0 = slot0.1,
        s1 = slot1.0 - base,
        l1 = slot1.1,
        t0 = state.0 - base,
        t1 = state.0 - base + sector,
    );
    std::fs::write(out.join("update_layout.rs"), text).expect("OUT_DIR is writable");
}
