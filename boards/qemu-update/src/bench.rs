//! One verification of a large bundle (person_detect, ~300 KB, unless `BENCH_UPDATE_MODEL` names
//! another model), between two marker functions for the instruction-counting plugin
//! (`scripts/bench-op-count.c`): the instructions of `update::verify::verify` (parse, SHA-256 of
//! the body, Ed25519 verification of the digest) on a Cortex-M4F. Prints the result and the
//! stack it took, and exits 0 if the bundle verified. Built only with `--features bench`:
//!
//! ```text
//! cargo build --release --features bench --bin verify-bench
//! ```
//!
//! With `--features bench-salty`, the same steps with `salty`'s Ed25519 in place of
//! `ed25519-compact` (the comparison in docs/updates.md).
#![no_std]
#![no_main]

use core::fmt::Write;

use board_common::semihosting::{exit, HostOut};
use board_common::stack::StackMeter;
use cortex_m_rt::{entry, exception, ExceptionFrame};
use edge_reflex::update::PublicKey;

#[allow(dead_code)]
mod bundles {
    /// A fixture sample (unused here).
    pub struct Sample {
        pub case: &'static str,
        pub bundle: &'static [u8],
        pub input: &'static [u8],
        pub output: &'static [u8],
    }
    include!(concat!(env!("OUT_DIR"), "/bundles.rs"));
}

/// Marks the start of the measured region (the plugin's `start`).
#[inline(never)]
#[no_mangle]
pub extern "C" fn bench_begin() {
    cortex_m::asm::nop();
}

/// Marks the end of the measured region (the plugin's `stop`).
#[inline(never)]
#[no_mangle]
pub extern "C" fn bench_end() {
    cortex_m::asm::nop();
    cortex_m::asm::nop();
}

#[entry]
fn main() -> ! {
    let mut out = HostOut::open();
    let bytes: &[u8] = core::hint::black_box(&bundles::BENCH.0);
    let stack = StackMeter::paint();
    bench_begin();
    let verified = verify(bytes);
    bench_end();
    let _ = writeln!(
        out,
        "verify-bench ({VERIFIER}): {} B bundle of {}: {:?}, stack {} B",
        bytes.len(),
        bundles::BENCH_MODEL,
        verified,
        stack.high_water()
    );
    exit(verified.is_ok())
}

/// The Ed25519 implementation measured.
#[cfg(not(feature = "bench-salty"))]
const VERIFIER: &str = "ed25519-compact";
/// The Ed25519 implementation measured.
#[cfg(feature = "bench-salty")]
const VERIFIER: &str = "salty";

/// What the device does: `update::verify::verify` (parse, SHA-256, ed25519-compact).
#[cfg(not(feature = "bench-salty"))]
fn verify(bytes: &[u8]) -> Result<u32, &'static str> {
    let key = PublicKey::from_slice(&bundles::PUBLIC_KEY).map_err(|_| "public key")?;
    edge_reflex::update::verify::verify(bytes, &key).map(|b| b.version).map_err(|_| "refused")
}

/// The same steps with salty's Ed25519: parse, key id, SHA-256 of the body, signature of the
/// digest.
#[cfg(feature = "bench-salty")]
fn verify(bytes: &[u8]) -> Result<u32, &'static str> {
    use sha2::{Digest, Sha256};
    let bundle = edge_reflex::update::Bundle::parse(bytes).map_err(|_| "not a bundle")?;
    let trusted = PublicKey::from_slice(&bundles::PUBLIC_KEY).map_err(|_| "public key")?;
    if bundle.key_id != edge_reflex::update::verify::key_id(&trusted) {
        return Err("another key");
    }
    if Sha256::digest(bundle.body).as_slice() != bundle.digest.as_slice() {
        return Err("digest");
    }
    let key = salty::PublicKey::try_from(&bundles::PUBLIC_KEY).map_err(|_| "public key")?;
    let signature = salty::Signature::from(bundle.signature);
    key.verify(bundle.digest, &signature).map_err(|_| "signature")?;
    Ok(bundle.version)
}

#[exception]
unsafe fn HardFault(frame: &ExceptionFrame) -> ! {
    board_common::semihosting::hard_fault(frame)
}
