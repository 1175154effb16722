//! Packs the bundles the firmware receives, with the library code of `reflex pack`
//! (`edge_reflex::update::{check, pack}`): each model is planned, run on a zero input for its
//! known answer, and signed.
//!
//! The signing key is a **test key**: its seed is the constant [`TEST_SEED`] below, public in
//! this repository, so anyone can sign a bundle this firmware accepts. It exists only so that the
//! emulated update runs in CI; a real device trusts the public key of a secret kept off the
//! repository (`reflex keygen`). [`OTHER_SEED`] is a second test key, for the refusal.
//!
//! Writes to `$OUT_DIR`: the bundles (`a1.rxu` model A version 1, `b2.rxu` model B version 2,
//! `b2-flipped.rxu` one byte of B's model flipped after signing, `b2-other-key.rxu` B signed with
//! the other key, `b2-impostor.rxu` B naming the trusted key but signed with the other), and `bundles.rs` (the public key, the bundles, each model's fixture sample 0,
//! the arena size) for `src/main.rs`. With the `bench` feature, also `bench.rxu`: the bundle of
//! `BENCH_UPDATE_MODEL` (default person_detect) without a plan, for `src/bench.rs`.

use edge_reflex::engine::{build, Prebuilt, TfLiteModel};
use edge_reflex::update::{check, pack, KeyPair, PublicKey, Seed};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// The test signing key's seed (public: see the module documentation).
const TEST_SEED: [u8; 32] = *b"edge-reflex qemu-update TEST key";
/// Another test key's seed: a bundle signed with it must be refused.
const OTHER_SEED: [u8; 32] = *b"edge-reflex qemu-update OTHER k!";

/// Model A (slot 0 at the start) and model B (the update), conformance fixtures.
const MODEL_A: &str = "tests/data/conformance/tflm_hello_world";
const MODEL_B: &str = "tests/data/conformance/dense_softmax";
/// The bundle of the verification benchmark, unless `BENCH_UPDATE_MODEL` names another model.
const BENCH_MODEL: &str = "tests/data/conformance/tflm_person_detect/model.tflite";

/// A packed bundle and the arena its check needs.
struct Packed {
    bytes: Vec<u8>,
    arena: usize,
}

/// What `reflex pack MODEL --version VERSION [--no-plan]` does: plan, known answer of a zero
/// input, sign.
fn pack(model: &Path, version: u32, key: &KeyPair, with_plan: bool) -> Packed {
    println!("cargo:rerun-if-changed={}", model.display());
    let bytes = std::fs::read(model).unwrap_or_else(|e| panic!("{}: {e}", model.display()));
    let loaded = TfLiteModel::load(&bytes).expect("the engine loads the model");
    let plan = with_plan.then(|| build::plan_from_bytes(&bytes).expect("the model plans"));
    let arena = match &plan {
        Some(plan) => Prebuilt::new(&bytes, plan).expect("its own plan").arena_size(),
        None => loaded.arena_size().expect("an arena size"),
    };
    let input_len: usize =
        (0..loaded.input_count()).map(|j| loaded.input_info(j).map_or(0, |t| t.bytes())).sum();
    let input = vec![0u8; input_len];
    let mut output = vec![0u8; 1 << 16];
    let mut scratch = vec![0u8; arena];
    let n = check::run_known_answer(&bytes, plan.as_deref(), &input, &mut scratch, &mut output)
        .expect("the model runs on its known-answer input");
    output.truncate(n);
    let parts = pack::Parts {
        version,
        model: &bytes,
        plan: plan.as_deref(),
        operators: check::operators_of(&loaded).expect("builtin operators"),
        known_input: &input,
        known_output: &output,
    };
    let mut out = vec![0u8; pack::bundle_len(&parts).expect("a bundle size")];
    pack::write(&parts, key, &mut out).expect("the buffer fits");
    Packed { bytes: out, arena }
}

fn main() {
    let manifest = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").expect("set by cargo"));
    let repo = manifest.join("../..").canonicalize().expect("the repository");
    let out = PathBuf::from(std::env::var_os("OUT_DIR").expect("set by cargo"));
    provide_memory_x(&out);

    let key = KeyPair::from_seed(Seed::new(TEST_SEED));
    let other = KeyPair::from_seed(Seed::new(OTHER_SEED));
    let (a_dir, b_dir) = (repo.join(MODEL_A), repo.join(MODEL_B));
    let a1 = pack(&a_dir.join("model.tflite"), 1, &key, true);
    let b2 = pack(&b_dir.join("model.tflite"), 2, &key, true);
    let b2_other = pack(&b_dir.join("model.tflite"), 2, &other, true);
    // One byte of the model flipped after signing (a bit error in transit, or a forgery).
    let mut b2_flipped = b2.bytes.clone();
    let flipped_at = 64 + 1000;
    b2_flipped[flipped_at] ^= 0x01;

    // An impostor: the trusted key's id in the header, a valid digest, but signed with the other
    // key (what a forger without the secret can make).
    let b2_impostor = resign(&b2_other.bytes, &key.pk, &other);

    let write = |name: &str, bytes: &[u8]| {
        std::fs::write(out.join(name), bytes).expect("OUT_DIR is writable");
        format!("{:?}", out.join(name).to_str().expect("UTF-8 path"))
    };
    let lit = |p: &Path| format!("{:?}", p.to_str().expect("UTF-8 path"));
    let bundle = |name: &str, file: &str, bytes: &[u8], doc: &str| {
        format!(
            "/// {doc}\npub static {name}: ::board_common::Aligned<[u8; {}]> = \
             ::board_common::Aligned(*include_bytes!({}));\n",
            bytes.len(),
            write(file, bytes)
        )
    };
    let mut code = String::new();
    writeln!(
        code,
        "/// The trusted public key (of the test key in build.rs).\npub const PUBLIC_KEY: [u8; 32] = {:?};",
        *key.pk
    )
    .unwrap();
    code += &bundle("A1", "a1.rxu", &a1.bytes, "Model A, version 1.");
    code += &bundle("B2", "b2.rxu", &b2.bytes, "Model B, version 2.");
    code += &bundle("B2_FLIPPED", "b2-flipped.rxu", &b2_flipped, "B with one model byte flipped.");
    code +=
        &bundle("B2_OTHER_KEY", "b2-other-key.rxu", &b2_other.bytes, "B signed with another key.");
    code += &bundle(
        "B2_IMPOSTOR",
        "b2-impostor.rxu",
        &b2_impostor,
        "B naming the trusted key, signed with another.",
    );
    writeln!(
        code,
        "/// The byte flipped in `B2_FLIPPED`.\npub const FLIPPED_AT: usize = {flipped_at};"
    )
    .unwrap();
    for (name, v, dir) in [("A", 1, &a_dir), ("B", 2, &b_dir)] {
        let sample = dir.join("samples/0");
        println!("cargo:rerun-if-changed={}", sample.display());
        let case = dir.file_name().and_then(|n| n.to_str()).expect("a case name");
        writeln!(
            code,
            "/// Model {name}'s fixture sample 0 (`{case}`).\npub const SAMPLE_{name}: Sample = Sample {{ \
             case: {case:?}, bundle: &{name}{v}.0, input: include_bytes!({}), output: include_bytes!({}) }};",
            lit(&sample.join("input0.bin")),
            lit(&sample.join("output0.bin"))
        )
        .unwrap();
    }
    writeln!(
        code,
        "/// Bytes of the arena: the larger of the two models' plans.\npub const ARENA_BYTES: usize = {};",
        a1.arena.max(b2.arena)
    )
    .unwrap();

    println!("cargo:rerun-if-env-changed=BENCH_UPDATE_MODEL");
    if std::env::var_os("CARGO_FEATURE_BENCH").is_some() {
        let model = match std::env::var_os("BENCH_UPDATE_MODEL") {
            Some(path) => repo.join(path),
            None => repo.join(BENCH_MODEL),
        };
        let bench = pack(&model, 1, &key, false);
        code += &bundle("BENCH", "bench.rxu", &bench.bytes, "The benchmark's bundle.");
        writeln!(
            code,
            "/// The benchmark's model.\npub const BENCH_MODEL: &str = {};",
            lit(&model)
        )
        .unwrap();
    }
    std::fs::write(out.join("bundles.rs"), code).expect("OUT_DIR is writable");
}

/// `bundle` with its key id replaced by `claimed`'s, its digest recomputed, and signed by
/// `signer`.
fn resign(bundle: &[u8], claimed: &PublicKey, signer: &KeyPair) -> Vec<u8> {
    use sha2::{Digest, Sha256};
    let mut out = bundle.to_vec();
    out[28..32].copy_from_slice(&edge_reflex::update::verify::key_id(claimed));
    let body = out.len() - 32 - 64;
    let digest = Sha256::digest(&out[..body]);
    out[body..body + 32].copy_from_slice(&digest);
    let signature = signer.sk.sign(digest, None);
    out[body + 32..].copy_from_slice(signature.as_ref());
    out
}

/// Puts memory.x where cortex-m-rt's `link.x` finds it: `memory-m0.x` (the micro:bit) when
/// building for a Cortex-M0 (`verify-bench` only), else `memory-m4.x` (mps2-an386). (No
/// `memory.x` in this directory: the linker would find it first.)
fn provide_memory_x(out: &Path) {
    let target = std::env::var("TARGET").unwrap_or_default();
    let memory = if target.starts_with("thumbv6m") { "memory-m0.x" } else { "memory-m4.x" };
    std::fs::copy(memory, out.join("memory.x")).expect("copy memory.x to OUT_DIR");
    println!("cargo:rustc-link-search={}", out.display());
    println!("cargo:rerun-if-changed=memory-m4.x");
    println!("cargo:rerun-if-changed=memory-m0.x");
}
