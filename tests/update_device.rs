//! The device side over the flash simulator: an update is installed, tried, confirmed or
//! reverted; every refused update leaves the running model active and nothing on trial. Every
//! test runs twice: with the blocking updater and with the async one.

#[path = "update_support/mod.rs"]
mod support;

use edge_reflex::update::{CheckError, Installed, UpdateError, VerifyError, CRC32};
use support::*;

/// A device running model A (version 1), confirmed.
fn device_with_a() -> Device {
    let u = open(SimFlash::new()).unwrap();
    install(u, &bundle(A, 1), 1).unwrap()
}

/// Sends `bundle` as version `version` and finishes it: the refusal, if any.
fn offer(u: &mut Device, bundle: &[u8], version: u32) -> Result<Installed, UpdateError<SimError>> {
    u.begin(version, bundle.len() as u32)?;
    send(u, bundle, 0)?;
    u.finish(&mut arena())
}

/// After a refusal: A still boots, nothing is on trial, nothing is downloading.
fn assert_still_a(u: Device) {
    assert_eq!(u.trial(), None);
    assert_eq!(u.download(), None);
    let mut u = open(u.release()).unwrap();
    let booted = u.boot().unwrap();
    assert!(!booted.trial);
    assert_eq!(booted.model.version, 1);
    let b = u.bundle(booted.model.slot).unwrap();
    assert_eq!(b.model, &model(A)[..]);
}

#[test]
fn a_blank_device_has_no_model() {
    in_both_modes(|| {
        let mut u = open(SimFlash::new()).unwrap();
        assert_eq!(u.boot(), Err(UpdateError::NoModel));
    });
}

#[test]
fn an_update_is_tried_then_confirmed() {
    in_both_modes(|| {
        let mut u = device_with_a();
        assert_eq!(u.active(), Some(Installed { slot: 0, version: 1 }));
        let b = bundle(B, 2);
        let installed = offer(&mut u, &b, 2).unwrap();
        assert_eq!(installed, Installed { slot: 1, version: 2 });
        // Activated as a trial, A still the confirmed model.
        assert_eq!(u.trial(), Some(installed));
        assert_eq!(u.active().unwrap().version, 1);
        let mut u = open(u.release()).unwrap();
        let booted = u.boot().unwrap();
        assert!(booted.trial);
        assert_eq!(u.bundle(booted.model.slot).unwrap().model, &model(B)[..]);
        u.confirm().unwrap();
        let mut u = open(u.release()).unwrap();
        let booted = u.boot().unwrap();
        assert_eq!((booted.trial, booted.model), (false, installed));
        // The next update goes to the other slot again.
        let installed = offer(&mut u, &bundle(A, 3), 3).unwrap();
        assert_eq!(installed, Installed { slot: 0, version: 3 });
    });
}

#[test]
fn an_unconfirmed_trial_reverts_on_the_next_boot() {
    in_both_modes(|| {
        let mut u = device_with_a();
        offer(&mut u, &bundle(B, 2), 2).unwrap();
        let mut u = open(u.release()).unwrap();
        assert!(u.boot().unwrap().trial);
        // Reset before the application confirmed.
        let mut u = open(u.release()).unwrap();
        let booted = u.boot().unwrap();
        assert_eq!((booted.trial, booted.model.version), (false, 1));
        assert_eq!(u.confirm(), Err(UpdateError::NoTrial));
        assert_still_a(u);
    });
}

#[test]
fn a_rejected_trial_reverts_at_once() {
    in_both_modes(|| {
        let mut u = device_with_a();
        offer(&mut u, &bundle(B, 2), 2).unwrap();
        let mut u = open(u.release()).unwrap();
        assert!(u.boot().unwrap().trial);
        u.reject().unwrap();
        assert_still_a(u);
    });
}

#[test]
fn a_second_update_waits_for_the_trial() {
    in_both_modes(|| {
        let mut u = device_with_a();
        offer(&mut u, &bundle(B, 2), 2).unwrap();
        assert_eq!(u.begin(3, 1000), Err(UpdateError::TrialPending));
    });
}

#[test]
fn older_or_equal_versions_are_refused() {
    in_both_modes(|| {
        let mut u = device_with_a();
        let b = bundle(B, 1);
        assert_eq!(
            u.begin(1, b.len() as u32),
            Err(UpdateError::Rollback { version: 1, active: 1 })
        );
        assert_eq!(u.begin(0, 1000), Err(UpdateError::Rollback { version: 0, active: 1 }));
        // Announced as 2, but the signed bundle says 1.
        assert_eq!(offer(&mut u, &b, 2), Err(UpdateError::VersionMismatch));
        assert_still_a(u);
    });
}

#[test]
fn a_bundle_signed_with_another_key_is_refused() {
    in_both_modes(|| {
        let mut u = device_with_a();
        let b = Made::new(B, 2, true).sign(&other_key());
        assert_eq!(offer(&mut u, &b, 2), Err(UpdateError::Verify(VerifyError::WrongKey)));
        assert_still_a(u);
    });
}

#[test]
fn a_bad_signature_is_refused() {
    in_both_modes(|| {
        let mut u = device_with_a();
        let mut b = bundle(B, 2);
        let last = b.len() - 1;
        b[last] ^= 0x40;
        assert_eq!(offer(&mut u, &b, 2), Err(UpdateError::Verify(VerifyError::Signature)));
        assert_still_a(u);
    });
}

#[test]
fn a_bit_flipped_bundle_is_refused() {
    in_both_modes(|| {
        let mut u = device_with_a();
        let mut b = bundle(B, 2);
        b[500] ^= 1;
        assert_eq!(offer(&mut u, &b, 2), Err(UpdateError::Verify(VerifyError::Digest)));
        assert_still_a(u);
    });
}

#[test]
fn a_truncated_bundle_is_refused() {
    in_both_modes(|| {
        let mut u = device_with_a();
        let b = bundle(B, 2);
        let short = &b[..b.len() - 16];
        assert_eq!(
            offer(&mut u, short, 2),
            Err(UpdateError::Verify(VerifyError::Bundle(
                edge_reflex::update::BundleError::Truncated
            )))
        );
        // Finishing before every byte arrived.
        u.begin(2, b.len() as u32).unwrap();
        send(&mut u, &b[..512], 0).unwrap();
        assert_eq!(u.finish(&mut arena()), Err(UpdateError::Incomplete));
        u.discard().unwrap();
        assert_still_a(u);
    });
}

#[test]
fn a_model_the_engine_cannot_run_is_refused() {
    in_both_modes(|| {
        let mut u = device_with_a();
        let mut made = Made::new(B, 2, false);
        made.model[4..8].copy_from_slice(b"XXXX");
        let b = made.sign(&key());
        assert!(matches!(offer(&mut u, &b, 2), Err(UpdateError::Check(CheckError::Model(_)))));
        assert_still_a(u);
    });
}

#[test]
fn a_failed_known_answer_test_is_refused() {
    in_both_modes(|| {
        let mut u = device_with_a();
        let mut made = Made::new(B, 2, true);
        let last = made.output.len() - 1;
        made.output[last] = made.output[last].wrapping_add(1);
        let b = made.sign(&key());
        assert_eq!(
            offer(&mut u, &b, 2),
            Err(UpdateError::Check(CheckError::KnownAnswer { at: last }))
        );
        assert_still_a(u);
    });
}

#[test]
fn a_plan_that_does_not_match_is_refused() {
    in_both_modes(|| {
        let mut u = device_with_a();
        let mut made = Made::new(B, 2, true);
        made.plan = Made::new(A, 2, true).plan;
        let b = made.sign(&key());
        assert_eq!(
            offer(&mut u, &b, 2),
            Err(UpdateError::Check(CheckError::Plan(
                edge_reflex::engine::PlanError::ModelMismatch
            )))
        );
        assert_still_a(u);
    });
}

#[test]
fn bad_chunks_are_refused_and_the_download_goes_on() {
    in_both_modes(|| {
        let mut u = device_with_a();
        let b = bundle(B, 2);
        u.begin(2, b.len() as u32).unwrap();
        let chunk = &b[..256];
        assert_eq!(u.write_chunk(0, chunk, CRC32.checksum(chunk) ^ 1), Err(UpdateError::ChunkCrc));
        assert_eq!(
            u.write_chunk(256, chunk, CRC32.checksum(chunk)),
            Err(UpdateError::ChunkOffset { expected: 0 })
        );
        assert_eq!(
            u.write_chunk(0, &b[..5], CRC32.checksum(&b[..5])),
            Err(UpdateError::ChunkLength)
        );
        let too_far = vec![0u8; b.len() + 8];
        assert_eq!(
            u.write_chunk(0, &too_far, CRC32.checksum(&too_far)),
            Err(UpdateError::ChunkLength)
        );
        send(&mut u, &b, 0).unwrap();
        assert_eq!(u.finish(&mut arena()).unwrap().version, 2);
    });
}

#[test]
fn a_bundle_larger_than_a_slot_is_refused() {
    in_both_modes(|| {
        let mut u = device_with_a();
        assert_eq!(u.begin(2, SLOT + 1), Err(UpdateError::Size));
        assert_eq!(u.begin(2, 10), Err(UpdateError::Size));
    });
}

#[test]
fn a_download_resumes_after_a_reset() {
    in_both_modes(|| {
        let mut u = device_with_a();
        let b = bundle(B, 2);
        u.begin(2, b.len() as u32).unwrap();
        send(&mut u, &b[..1024], 0).unwrap();
        let mut u = open(u.release()).unwrap();
        assert_eq!(u.boot().unwrap().model.version, 1);
        let d = u.download().unwrap();
        assert_eq!((d.version, d.written), (2, 1024));
        assert_eq!(u.resume().unwrap(), Some(1024));
        send(&mut u, &b, 1024).unwrap();
        assert_eq!(u.finish(&mut arena()).unwrap().version, 2);
    });
}

#[test]
fn many_updates_compact_the_state_log() {
    in_both_modes(|| {
        // Each update takes about 25 records of a 64-record state sector: ten need the log to move
        // between the two sectors several times.
        let mut u = device_with_a();
        for version in 2..12 {
            let case = if version % 2 == 0 { B } else { A };
            u = install(u, &bundle(case, version), version).unwrap();
            let mut rebooted = open(u.release()).unwrap();
            let booted = rebooted.boot().unwrap();
            assert_eq!((booted.trial, booted.model.version), (false, version));
            assert_eq!(rebooted.bundle(booted.model.slot).unwrap().model, &model(case)[..]);
            u = rebooted;
        }
    });
}

#[test]
fn a_layout_that_does_not_fit_is_refused() {
    in_both_modes(|| {
        let mut layout = LAYOUT;
        layout.state[1] = layout.state[0];
        assert!(matches!(
            Device::open_with(mode(), SimFlash::new(), layout, key().pk),
            Err(UpdateError::Layout)
        ));
        let mut layout = LAYOUT;
        layout.slots[1].offset += 8;
        assert!(!layout.is_valid(CAPACITY, ERASE, WRITE));
        assert!(LAYOUT.is_valid(CAPACITY, ERASE, WRITE));
        assert!(!LAYOUT.is_valid(CAPACITY - 1024, ERASE, WRITE));
    });
}

#[test]
fn the_first_model_stays_on_trial_until_confirmed() {
    in_both_modes(|| {
        let mut u = open(SimFlash::new()).unwrap();
        offer(&mut u, &bundle(A, 1), 1).unwrap();
        for _ in 0..3 {
            // Resets before confirmation: nothing to revert to, so it boots again as a trial.
            u = open(u.release()).unwrap();
            let booted = u.boot().unwrap();
            assert_eq!((booted.trial, booted.model.version), (true, 1));
        }
        u.confirm().unwrap();
        let mut u = open(u.release()).unwrap();
        assert!(!u.boot().unwrap().trial);
    });
}

#[test]
fn a_download_too_long_for_the_log_completes_or_restarts() {
    in_both_modes(|| {
        // 8-byte chunks: far more chunks than the 64-record state sector can record.
        let mut u = device_with_a();
        let b = bundle(B, 2);
        u.begin(2, b.len() as u32).unwrap();
        for (i, chunk) in b.chunks(8).enumerate() {
            u.write_chunk(i as u32 * 8, chunk, CRC32.checksum(chunk)).unwrap();
        }
        // Progress stopped being recorded, but the download completes in one go.
        let d = u.download().unwrap();
        assert_eq!(d.written, b.len() as u32);
        let mut twin = open(SimFlash::from_mem(u.flash().mem.clone())).unwrap();
        assert_eq!(u.finish(&mut arena()).unwrap().version, 2);
        // The same flash reset before `finish`: the unrecorded bytes cannot be trusted and the log
        // has no room to restart, so the download is dropped and begun again.
        assert!(twin.download().unwrap().written < b.len() as u32);
        assert_eq!(twin.resume().unwrap(), None);
        assert_eq!(twin.download(), None);
        assert_eq!(offer(&mut twin, &b, 2).unwrap().version, 2);
    });
}
