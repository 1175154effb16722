//! Telemetry of updates: the running model version and what updates did, filled from the
//! updater's results, in both modes, and encoded like the statistics.

#[path = "update_support/mod.rs"]
mod support;

use edge_reflex::telemetry::{Refusal, UpdateReport};
use edge_reflex::update::UpdateError;
use support::*;

/// Sends `bundle` announced as `version`, recording every step into `report`.
fn offer(u: &mut Device, bundle: &[u8], version: u32, report: &mut UpdateReport) {
    let begun = u.begin(version, bundle.len() as u32);
    report.step(&begun);
    if begun.is_err() {
        return;
    }
    let sent = send(u, bundle, 0);
    report.step(&sent);
    let finished = u.finish(&mut arena());
    report.finished(&finished);
}

/// A reset: reopen, boot, record.
fn reboot(u: Device, report: &mut UpdateReport) -> Device {
    let mut u = open(u.release()).unwrap();
    let trial = u.trial();
    let booted = u.boot().unwrap();
    report.booted(trial, &booted);
    u
}

#[test]
fn the_report_follows_installs_refusals_and_reverts() {
    let reports = in_both_modes(|| {
        let mut report = UpdateReport::default();
        let mut u = open(SimFlash::new()).unwrap();
        offer(&mut u, &bundle(A, 1), 1, &mut report);
        u = reboot(u, &mut report);
        assert_eq!((report.model_version, report.trial), (1, true));
        report.confirmed(&u.confirm());
        assert_eq!((report.model_version, report.trial, report.confirmed), (1, false, 1));

        // Refusals, each of its kind; version 1 keeps running.
        let mut forged = bundle(B, 2);
        forged[600] ^= 4;
        offer(&mut u, &forged, 2, &mut report);
        assert_eq!(report.last_refusal, Some(Refusal::Authenticity));
        offer(&mut u, &bundle(B, 1), 1, &mut report);
        assert_eq!(report.last_refusal, Some(Refusal::Version));
        let mut wrong_answer = Made::new(B, 2, true);
        wrong_answer.output[0] ^= 1;
        offer(&mut u, &wrong_answer.sign(&key()), 2, &mut report);
        assert_eq!(report.last_refusal, Some(Refusal::Check));
        report.step(&u.write_chunk(0, &[0; 8], 0));
        assert_eq!(report.last_refusal, Some(Refusal::Sequence));
        assert_eq!((report.refused, report.installed), (4, 1));

        // B installed, its trial not confirmed before the next reset: reverted.
        offer(&mut u, &bundle(B, 2), 2, &mut report);
        u = reboot(u, &mut report);
        assert_eq!((report.model_version, report.trial), (2, true));
        u = reboot(u, &mut report);
        assert_eq!((report.model_version, report.trial, report.reverted), (1, false, 1));

        // B again (version 3), rejected by the application.
        offer(&mut u, &bundle(B, 3), 3, &mut report);
        u = reboot(u, &mut report);
        u.reject().unwrap();
        report.rejected();
        u = reboot(u, &mut report);
        assert_eq!(report.model_version, 1);
        assert_eq!(u.active().map(|a| a.version), Some(1));
        report
    });
    assert_eq!(reports[0], reports[1]);
    let r = reports[0];
    assert_eq!(
        (r.installed, r.confirmed, r.reverted, r.refused, r.last_refusal),
        (3, 1, 2, 4, Some(Refusal::Sequence))
    );
    // Sent like the statistics: postcard for a radio, JSON for a broker.
    let mut buf = [0u8; 64];
    let used = postcard::to_slice(&r, &mut buf).unwrap().len();
    assert!(used <= 12, "{used} bytes");
    assert_eq!(postcard::from_bytes::<UpdateReport>(&buf[..used]).unwrap(), r);
    let mut json = [0u8; 256];
    let n = serde_json_core::to_slice(&r, &mut json).unwrap();
    let text = core::str::from_utf8(&json[..n]).unwrap();
    assert!(text.starts_with("{\"model_version\":1,\"trial\":false,"), "{text}");
    assert!(text.contains("\"last_refusal\":\"Sequence\""), "{text}");
}

#[test]
fn every_updater_error_has_a_kind() {
    use edge_reflex::update::{CheckError, VerifyError};
    let cases: [(UpdateError<SimError>, Refusal); 8] = [
        (UpdateError::Verify(VerifyError::WrongKey), Refusal::Authenticity),
        (UpdateError::Rollback { version: 1, active: 2 }, Refusal::Version),
        (UpdateError::VersionMismatch, Refusal::Version),
        (UpdateError::Check(CheckError::KnownAnswer { at: 0 }), Refusal::Check),
        (UpdateError::ChunkCrc, Refusal::Transfer),
        (UpdateError::Flash(SimError::PowerCut), Refusal::Storage),
        (UpdateError::StateFull, Refusal::Storage),
        (UpdateError::TrialPending, Refusal::Sequence),
    ];
    for (e, kind) in cases {
        assert_eq!(Refusal::of(&e), kind, "{e:?}");
    }
}
