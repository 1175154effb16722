//! The engine's layers import only downward: `format -> model -> check -> ops -> plan -> run`,
//! with `arith` and `kernels` as the base every layer may use, `error`, `arena` (the tensor
//! table's format) and `record` (the operator records' encoding) beside `format`, `build` (host helpers) on top, and `engine/mod.rs`
//! re-exporting. A module that names a module of a higher
//! layer in its code (not its docs) fails this test, so the layering cannot erode silently.

use std::fs;
use std::path::{Path, PathBuf};

/// The layer of an engine module, by its first path segment below `src/engine` (or of a name
/// after `crate::engine::`); `None` for names that are not engine modules.
fn layer(first: &str) -> Option<usize> {
    Some(match first {
        "arith" | "kernels" => 0,
        "format" | "error" | "arena" | "record" => 1,
        "model" => 2,
        "check" => 3,
        "ops" => 4,
        "plan" => 5,
        "run" => 6,
        "build" => 7,
        _ => return None,
    })
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in fs::read_dir(dir).expect("readable source dir") {
        let path = entry.expect("dir entry").path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// Every engine module named in `code` after `crate::engine::`, including the members of a
/// `crate::engine::{a, b::c}` group.
fn named_modules(code: &str) -> Vec<String> {
    let mut names = Vec::new();
    let mut rest = code;
    while let Some(at) = rest.find("crate::engine::") {
        rest = &rest[at + "crate::engine::".len()..];
        if let Some(group) = rest.strip_prefix('{') {
            let end = group.find('}').unwrap_or(group.len());
            for member in group[..end].split(',') {
                let name = member.trim().split("::").next().unwrap_or("").trim();
                names.push(name.to_string());
            }
        } else {
            let end = rest.find(|c: char| !(c.is_alphanumeric() || c == '_')).unwrap_or(rest.len());
            names.push(rest[..end].to_string());
        }
    }
    names
}

/// The code of a source file without comments (doc links may point anywhere).
fn code_of(source: &str) -> String {
    source.lines().map(|l| l.split("//").next().unwrap_or("")).collect::<Vec<_>>().join("\n")
}

#[test]
fn engine_modules_import_only_downward() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/engine");
    let mut files = Vec::new();
    rust_files(&root, &mut files);
    assert!(files.len() > 30, "found only {} engine files", files.len());
    let mut violations = Vec::new();
    let mut checked = 0;
    for file in &files {
        let rel = file.strip_prefix(&root).unwrap().to_string_lossy().replace('\\', "/");
        if rel == "mod.rs" {
            continue; // the root re-exports every layer
        }
        let first = rel.split('/').next().unwrap().trim_end_matches(".rs");
        let own = layer(first).unwrap_or_else(|| panic!("{rel}: not in a known layer"));
        let code = code_of(&fs::read_to_string(file).unwrap());
        for name in named_modules(&code) {
            let Some(theirs) = layer(&name) else { continue };
            checked += 1;
            if theirs > own {
                violations
                    .push(format!("{rel} (layer {own}) imports engine::{name} (layer {theirs})"));
            }
        }
    }
    assert!(checked > 100, "only {checked} imports seen: is the scan still working?");
    violations.sort();
    violations.dedup();
    assert!(violations.is_empty(), "upward imports:\n{}", violations.join("\n"));
}

#[test]
fn the_scan_sees_groups_and_paths() {
    let names =
        named_modules("use crate::engine::{plan::x, run};\nlet a = crate::engine::ops::f();");
    assert_eq!(names, ["plan", "run", "ops"]);
    assert_eq!(code_of("a(); // crate::engine::run\n//! crate::engine::run"), "a(); \n");
}
