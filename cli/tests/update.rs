//! `reflex keygen`, `pack` and `verify`: keys are made once and never overwritten, a packed
//! bundle verifies under its key only, and a damaged bundle is refused with exit 1.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn reflex(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_reflex")).args(args).output().expect("reflex runs")
}

fn scratch_dir(tag: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("reflex-update-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).expect("temp dir");
    d
}

fn fixture(case: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../tests/data/conformance")
        .join(case)
        .join("model.tflite")
        .display()
        .to_string()
}

fn s(p: &Path) -> String {
    p.display().to_string()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).trim().to_string()
}

/// Makes a key pair in `dir` named `name` and `name.pub`.
fn keygen(dir: &Path, name: &str) -> (PathBuf, PathBuf) {
    let (secret, public) = (dir.join(name), dir.join(format!("{name}.pub")));
    let o = reflex(&["keygen", "--secret", &s(&secret), "--public", &s(&public)]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    (secret, public)
}

#[test]
fn keygen_writes_two_32_byte_keys_and_never_overwrites() {
    let dir = scratch_dir("keygen");
    let (secret, public) = keygen(&dir, "k");
    assert_eq!(std::fs::read(&secret).unwrap().len(), 32);
    assert_eq!(std::fs::read(&public).unwrap().len(), 32);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&secret).unwrap().permissions().mode();
        assert_eq!(mode & 0o077, 0, "secret key readable by others: {mode:o}");
    }
    let before = std::fs::read(&secret).unwrap();
    let o = reflex(&["keygen", "--secret", &s(&secret), "--public", &s(&dir.join("other.pub"))]);
    assert_eq!(o.status.code(), Some(1));
    assert!(text(&o.stderr).contains("never overwritten"), "{}", text(&o.stderr));
    assert_eq!(std::fs::read(&secret).unwrap(), before);
    let o = reflex(&["keygen", "--secret", &s(&dir.join("x")), "--public", &s(&dir.join("x"))]);
    assert_eq!(o.status.code(), Some(1));
    // Two key pairs differ.
    let (other, _) = keygen(&dir, "k2");
    assert_ne!(std::fs::read(other).unwrap(), before);
}

#[test]
fn a_packed_bundle_verifies_under_its_key_only() {
    let dir = scratch_dir("pack");
    let (secret, public) = keygen(&dir, "k");
    let (_, other) = keygen(&dir, "other");
    let bundle = dir.join("a.rxu");
    let model = fixture("tflm_hello_world");
    let o = reflex(&["pack", &model, "--key", &s(&secret), "--version", "7", "-o", &s(&bundle)]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    let out = text(&o.stdout);
    assert!(out.contains("model version 7") && out.contains("operators [9]"), "{out}");
    let bytes = std::fs::read(&bundle).unwrap();
    assert_eq!(&bytes[..4], b"RXUB");
    assert_eq!(u32::from_le_bytes(bytes[8..12].try_into().unwrap()), 7);

    let o = reflex(&["verify", &s(&bundle), "--pubkey", &s(&public)]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    assert!(text(&o.stdout).contains("accepted: model version 7"), "{}", text(&o.stdout));

    let o = reflex(&["verify", &s(&bundle), "--pubkey", &s(&other)]);
    assert_eq!(o.status.code(), Some(1));
    assert!(text(&o.stderr).contains("another key"), "{}", text(&o.stderr));
}

#[test]
fn verify_refuses_damaged_bundles() {
    let dir = scratch_dir("damaged");
    let (secret, public) = keygen(&dir, "k");
    let bundle = dir.join("b.rxu");
    let model = fixture("dense_softmax");
    let o = reflex(&["pack", &model, "--key", &s(&secret), "--version", "1", "-o", &s(&bundle)]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    let good = std::fs::read(&bundle).unwrap();
    let damaged = dir.join("damaged.rxu");
    let cases: [(&str, Vec<u8>); 3] = [
        ("truncated", good[..good.len() - 1].to_vec()),
        ("digest", {
            let mut b = good.clone();
            b[100] ^= 0x10;
            b
        }),
        ("signature", {
            let mut b = good.clone();
            let n = b.len();
            b[n - 1] ^= 0x01;
            b
        }),
    ];
    for (what, bytes) in cases {
        std::fs::write(&damaged, bytes).unwrap();
        let o = reflex(&["verify", &s(&damaged), "--pubkey", &s(&public)]);
        assert_eq!(o.status.code(), Some(1), "{what}");
        assert!(text(&o.stderr).contains(what), "{what}: {}", text(&o.stderr));
    }
}

#[test]
fn pack_takes_a_known_answer_input_and_can_leave_the_plan_out() {
    let dir = scratch_dir("input");
    let (secret, public) = keygen(&dir, "k");
    let case =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/data/conformance/dense_softmax");
    let input = case.join("samples/0/input0.bin");
    let expected = std::fs::read(case.join("samples/0/output0.bin")).unwrap();
    let bundle = dir.join("b.rxu");
    let o = reflex(&[
        "pack",
        &fixture("dense_softmax"),
        "--key",
        &s(&secret),
        "--version",
        "2",
        "-o",
        &s(&bundle),
        "--input",
        &s(&input),
        "--no-plan",
    ]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    assert!(text(&o.stdout).contains("plan 0 bytes"), "{}", text(&o.stdout));
    // The recorded known answer is the reference output of the fixture's sample.
    let bytes = std::fs::read(&bundle).unwrap();
    let tail = &bytes[..bytes.len() - 96];
    let out_len = expected.len();
    let padded = out_len.div_ceil(16) * 16;
    assert_eq!(&tail[tail.len() - padded..][..out_len], &expected[..]);
    let o = reflex(&["verify", &s(&bundle), "--pubkey", &s(&public)]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    assert!(text(&o.stdout).contains("no plan"), "{}", text(&o.stdout));
    // An input of the wrong size is refused before anything is written.
    let o = reflex(&[
        "pack",
        &fixture("dense_softmax"),
        "--key",
        &s(&secret),
        "--version",
        "2",
        "-o",
        &s(&dir.join("c.rxu")),
        "--input",
        &s(&secret),
    ]);
    assert_eq!(o.status.code(), Some(1));
    assert!(!dir.join("c.rxu").exists());
    // A missing key is refused.
    let o = reflex(&[
        "pack",
        &fixture("dense_softmax"),
        "--key",
        &s(&dir.join("none")),
        "--version",
        "2",
        "-o",
        &s(&dir.join("d.rxu")),
    ]);
    assert_eq!(o.status.code(), Some(1));
}
