//! A model update on an emulated Cortex-M4F (QEMU `mps2-an386`), end to end.
//!
//! The device's model store is a NOR flash in RAM ([`flash::RamFlash`]: two 16 KiB slots and two
//! state sectors). The signed bundles arrive "over the air" from this firmware's image (packed at
//! build time by `build.rs` with `reflex pack`'s library code and a public **test** key). In order:
//!
//! 1. model A (version 1) is installed into slot 0, the device reboots into its trial, runs it
//!    bit-exact on its fixture sample and confirms it;
//! 2. a bundle of B with one byte flipped, B signed with another key, and B naming the trusted
//!    key but signed with another, are each received and refused; after a reboot A still runs,
//!    bit-exact;
//! 3. B (version 2) is received in 256-byte chunks, verified and checked, the device reboots
//!    (re-opens the updater from the flash alone), boots B's trial, runs it bit-exact, confirms it,
//!    and reboots again into B;
//! 4. A's bundle (version 1, older) is offered and refused; B still runs.
//!
//! Every step prints a line through semihosting; QEMU exits 0 only if every step went as
//! expected. `BOARD_SELFTEST=mismatch` builds alter every expected output byte 0, so the runs
//! must fail (`scripts/embedded-check.sh --only selftest`).
#![no_std]
#![no_main]

mod flash;

use core::fmt::Write;

use board_common::conformance::{compare, Mismatch};
use board_common::semihosting::{exit, HostOut};
use board_common::stack::StackMeter;
use board_common::{selftest, Aligned};
use cortex_m_rt::{entry, exception, ExceptionFrame};
use edge_reflex::engine::{Interpreter, PlanError, Prebuilt, RunError};
use edge_reflex::update::{
    Bundle, Installed, Layout, PublicKey, Region, UpdateError, Updater, VerifyError, CRC32,
};
use embedded_storage::nor_flash::NorFlashErrorKind;
use flash::{RamFlash, ERASE};

/// A fixture sample: one input and the expected output.
pub struct Sample {
    /// The fixture's name.
    case: &'static str,
    /// The bundle of its model.
    bundle: &'static [u8],
    input: &'static [u8],
    output: &'static [u8],
}

/// The bundles, the public key, the samples and `ARENA_BYTES` (build.rs).
#[allow(dead_code)]
mod bundles {
    use super::Sample;
    include!(concat!(env!("OUT_DIR"), "/bundles.rs"));
}

/// Bytes of one slot.
const SLOT: u32 = 16 * ERASE as u32;
/// Two slots, then two state sectors.
const LAYOUT: Layout = Layout {
    slots: [Region { offset: 0, len: SLOT }, Region { offset: SLOT, len: SLOT }],
    state: [2 * SLOT, 2 * SLOT + ERASE as u32],
};
/// Bytes of the simulated flash.
const FLASH_BYTES: usize = 2 * SLOT as usize + 2 * ERASE;
/// Bytes per received chunk (a multiple of the flash's write size).
const CHUNK: usize = 256;

type Error = UpdateError<NorFlashErrorKind>;

/// The report, and whether everything so far went as expected.
struct Report {
    out: HostOut,
    ok: bool,
}

impl Report {
    /// Writes one line: `step <what>: ok|FAIL <detail>`.
    fn step(&mut self, what: &str, ok: bool, detail: core::fmt::Arguments<'_>) {
        let _ = writeln!(self.out, "step {what:<34} {} {detail}", if ok { "ok  " } else { "FAIL" });
        self.ok &= ok;
    }
}

/// Receives `bundle` announced as `version`: begin, 256-byte chunks with their CRC-32, finish
/// (digest, signature, version, engine check, known answer).
fn receive(
    u: &mut Updater<RamFlash>,
    bundle: &[u8],
    version: u32,
    arena: &mut [u8],
) -> Result<Installed, Error> {
    u.begin(version, bundle.len() as u32)?;
    for (i, chunk) in bundle.chunks(CHUNK).enumerate() {
        u.write_chunk((i * CHUNK) as u32, chunk, CRC32.checksum(chunk))?;
    }
    u.finish(arena)
}

/// A reset: the updater is dropped and re-opened from what the flash holds, then boots.
fn reboot(u: Updater<RamFlash>, key: PublicKey, report: &mut Report) -> Updater<RamFlash> {
    let flash = u.release();
    match Updater::open(flash, LAYOUT, key) {
        Ok(u) => u,
        Err(e) => {
            report.step("reboot", false, format_args!("open: {e}"));
            exit(false)
        }
    }
}

/// Boots, checks that it chose `version` (as a trial or not), and runs the model from its slot
/// on `sample`, comparing every output byte; prints a `case` line.
fn boot_and_run(
    u: &mut Updater<RamFlash>,
    version: u32,
    trial: bool,
    sample: &Sample,
    arena: &mut [u8],
    report: &mut Report,
) {
    let booted = match u.boot() {
        Ok(b) => b,
        Err(e) => return report.step("boot", false, format_args!("{e}")),
    };
    let as_expected = booted.model.version == version && booted.trial == trial;
    report.step(
        "boot",
        as_expected,
        format_args!(
            "version {} from slot {}{}",
            booted.model.version,
            booted.model.slot,
            if booted.trial { " (trial)" } else { "" }
        ),
    );
    let _ = write!(report.out, "case {:<28} v{} ", sample.case, booted.model.version);
    let Some(bundle) = u.bundle(booted.model.slot) else {
        let _ = writeln!(report.out, "FAIL  no bundle in slot {}", booted.model.slot);
        report.ok = false;
        return;
    };
    let Some(plan) = bundle.plan else {
        let _ = writeln!(report.out, "FAIL  the bundle has no plan");
        report.ok = false;
        return;
    };
    let expected_model = Bundle::parse(sample.bundle).map(|b| b.model).ok();
    if expected_model != Some(bundle.model) {
        let _ = writeln!(report.out, "FAIL  the slot holds another model");
        report.ok = false;
        return;
    }
    match run_sample(bundle.model, plan, sample, arena) {
        Ok(None) => {
            let _ = writeln!(report.out, "ok    1/1 samples bit-exact");
        }
        Ok(Some(m)) => {
            let _ = writeln!(report.out, "FAIL  0/1 samples match; first: sample 0 output 0: {m}");
            report.ok = false;
        }
        Err(e) => {
            let _ = writeln!(report.out, "FAIL  {e}");
            report.ok = false;
        }
    }
}

/// Why a model could not run.
enum Failure {
    Plan(PlanError),
    Run(RunError),
}

impl core::fmt::Display for Failure {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Failure::Plan(e) => write!(f, "bind the plan: {e}"),
            Failure::Run(e) => write!(f, "run: {e}"),
        }
    }
}

/// Runs `model` through `plan` on the sample's input; the first difference from its output.
fn run_sample(
    model: &[u8],
    plan: &[u8],
    sample: &Sample,
    arena: &mut [u8],
) -> Result<Option<Mismatch>, Failure> {
    let prebuilt = Prebuilt::new(model, plan).map_err(Failure::Plan)?;
    let mut interpreter = Interpreter::from_plan(prebuilt, arena).map_err(Failure::Run)?;
    if let Some(input) = interpreter.input_bytes(0) {
        let n = input.len().min(sample.input.len());
        input[..n].copy_from_slice(&sample.input[..n]);
    }
    interpreter.invoke().map_err(Failure::Run)?;
    let got = interpreter.output_bytes(0).unwrap_or(&[]);
    Ok(match expected_output(sample) {
        Some(altered) => compare(altered.as_slice(), got),
        None => compare(sample.output, got),
    })
}

/// The expected output as altered by a `BOARD_SELFTEST=mismatch` build (byte 0 inverted), or
/// `None` in a normal build.
fn expected_output(sample: &Sample) -> Option<Bytes> {
    if !selftest::corrupt_first_output() {
        return None;
    }
    let mut alt = Bytes::from(sample.output)?;
    if let Some(b) = alt.bytes.first_mut() {
        *b = !*b;
    }
    Some(alt)
}

/// A small owned copy of an expected output.
struct Bytes {
    bytes: [u8; 64],
    len: usize,
}

impl Bytes {
    fn from(src: &[u8]) -> Option<Bytes> {
        let mut bytes = [0; 64];
        bytes.get_mut(..src.len())?.copy_from_slice(src);
        Some(Bytes { bytes, len: src.len() })
    }

    fn as_slice(&self) -> &[u8] {
        &self.bytes[..self.len]
    }
}

/// Checks that receiving `bundle` as `version` is refused as `refused` says.
fn expect_refusal(
    u: &mut Updater<RamFlash>,
    what: &str,
    bundle: &[u8],
    version: u32,
    refused: impl Fn(&Error) -> bool,
    arena: &mut [u8],
    report: &mut Report,
) {
    match receive(u, bundle, version, arena) {
        Err(e) => {
            let nothing_pending = u.trial().is_none() && u.download().is_none();
            report.step(what, refused(&e) && nothing_pending, format_args!("refused: {e}"))
        }
        Ok(m) => report.step(what, false, format_args!("ACCEPTED into slot {}", m.slot)),
    }
}

#[entry]
fn main() -> ! {
    static mut FLASH: Aligned<[u8; FLASH_BYTES]> = Aligned([0; FLASH_BYTES]);
    static mut ARENA: Aligned<[u8; bundles::ARENA_BYTES]> = Aligned([0; bundles::ARENA_BYTES]);
    let stack = StackMeter::paint();
    let arena = &mut ARENA.0[..];
    let mut report = Report { out: HostOut::open(), ok: true };
    let _ = writeln!(
        report.out,
        "qemu-update: Cortex-M4F (mps2-an386), NOR flash in RAM {} KiB (slots 2 x {} KiB, write {} B, \
         erase {} B), bundles A {} B, B {} B, arena {} B, updater {} B",
        FLASH_BYTES / 1024,
        SLOT / 1024,
        flash::WRITE,
        ERASE,
        bundles::A1.0.len(),
        bundles::B2.0.len(),
        bundles::ARENA_BYTES,
        core::mem::size_of::<Updater<RamFlash>>(),
    );
    selftest::inject_early();
    let Ok(key) = PublicKey::from_slice(&bundles::PUBLIC_KEY) else {
        report.step("public key", false, format_args!("malformed"));
        exit(false)
    };
    let mut u = match Updater::open(RamFlash::new(&mut FLASH.0), LAYOUT, key) {
        Ok(u) => u,
        Err(e) => {
            report.step("open", false, format_args!("{e}"));
            exit(false)
        }
    };

    // 1. Model A, version 1, into the blank flash; reboot into its trial; confirm.
    match receive(&mut u, &bundles::A1.0, 1, arena) {
        Ok(m) => report.step(
            "receive A v1",
            m == Installed { slot: 0, version: 1 },
            format_args!("slot {}, on trial", m.slot),
        ),
        Err(e) => report.step("receive A v1", false, format_args!("{e}")),
    }
    u = reboot(u, key, &mut report);
    boot_and_run(&mut u, 1, true, &bundles::SAMPLE_A, arena, &mut report);
    let confirmed = u.confirm();
    report.step("confirm A v1", confirmed.is_ok(), format_args!("{confirmed:?}"));

    // 2. Forged bundles are refused; A keeps running.
    expect_refusal(
        &mut u,
        "receive B v2, one byte flipped",
        &bundles::B2_FLIPPED.0,
        2,
        |e| *e == UpdateError::Verify(VerifyError::Digest),
        arena,
        &mut report,
    );
    expect_refusal(
        &mut u,
        "receive B v2, another key",
        &bundles::B2_OTHER_KEY.0,
        2,
        |e| *e == UpdateError::Verify(VerifyError::WrongKey),
        arena,
        &mut report,
    );
    expect_refusal(
        &mut u,
        "receive B v2, impostor signature",
        &bundles::B2_IMPOSTOR.0,
        2,
        |e| *e == UpdateError::Verify(VerifyError::Signature),
        arena,
        &mut report,
    );
    u = reboot(u, key, &mut report);
    boot_and_run(&mut u, 1, false, &bundles::SAMPLE_A, arena, &mut report);

    // 3. Model B, version 2: received, rebooted into, run, confirmed, rebooted into again.
    let ops = u.flash().operations;
    match receive(&mut u, &bundles::B2.0, 2, arena) {
        Ok(m) => report.step(
            "receive B v2",
            m == Installed { slot: 1, version: 2 },
            format_args!(
                "slot {}, on trial, {} flash operations",
                m.slot,
                u.flash().operations - ops
            ),
        ),
        Err(e) => report.step("receive B v2", false, format_args!("{e}")),
    }
    u = reboot(u, key, &mut report);
    boot_and_run(&mut u, 2, true, &bundles::SAMPLE_B, arena, &mut report);
    let confirmed = u.confirm();
    report.step("confirm B v2", confirmed.is_ok(), format_args!("{confirmed:?}"));
    u = reboot(u, key, &mut report);
    boot_and_run(&mut u, 2, false, &bundles::SAMPLE_B, arena, &mut report);

    // 4. An older version is refused; B keeps running.
    expect_refusal(
        &mut u,
        "receive A v1 (older)",
        &bundles::A1.0,
        1,
        |e| *e == UpdateError::Rollback { version: 1, active: 2 },
        arena,
        &mut report,
    );
    // A's bundle announced as a newer version: its signed version (1) still refuses it.
    expect_refusal(
        &mut u,
        "receive A v1 announced as v3",
        &bundles::A1.0,
        3,
        |e| *e == UpdateError::VersionMismatch,
        arena,
        &mut report,
    );
    u = reboot(u, key, &mut report);
    boot_and_run(&mut u, 2, false, &bundles::SAMPLE_B, arena, &mut report);

    let _ = writeln!(
        report.out,
        "stack: {} of {} B used at the deepest",
        stack.high_water(),
        stack.capacity()
    );
    let ok = report.ok && !stack.overflowed();
    let _ = writeln!(report.out, "qemu-update: {}", if ok { "PASS" } else { "FAIL" });
    exit(ok)
}

#[exception]
unsafe fn HardFault(frame: &ExceptionFrame) -> ! {
    board_common::semihosting::fault(
        format_args!("HARDFAULT lr={:#010x}", frame.lr()),
        frame.pc() as usize,
    )
}
