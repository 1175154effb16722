//! Power cuts: the power is cut at every erase and every write of an update sequence and of a
//! revert, cleanly or half done (half a sector erased, half the bytes of a write programmed), and
//! the device reboots. After every cut exactly one complete, verified model boots (never one
//! older than the last confirmed), and the update sequence then completes (resumed, restarted or
//! tried again). Every scenario runs with the blocking updater and with the async one.

#[path = "update_support/mod.rs"]
mod support;

use edge_reflex::update::record::Record;
use edge_reflex::update::UpdateError;
use support::*;

/// The model of each version in the scenario.
fn expected(version: u32) -> &'static str {
    if version % 2 == 1 {
        A
    } else {
        B
    }
}

/// Flash with model A (version 1) installed and confirmed, and the state log as a device that
/// did it has it.
fn with_a() -> Vec<u8> {
    let u = open(SimFlash::new()).unwrap();
    install(u, &bundle(A, 1), 1).unwrap().release().mem
}

/// Checks one boot: a verified model (`boot` verifies the digest and signature) of version at
/// least `confirmed`, holding the model its version names.
fn check_boot(u: &mut Device, confirmed: u32) -> Result<(u32, bool), UpdateError<SimError>> {
    let booted = u.boot()?;
    let version = booted.model.version;
    assert!(version >= confirmed, "booted {version} after {confirmed} was confirmed");
    let b = u.bundle(booted.model.slot).expect("the booted slot holds a bundle");
    assert_eq!(b.version, version);
    assert_eq!(b.model, &model(expected(version))[..]);
    Ok((version, booted.trial))
}

/// Resets the device: the updater is reopened on the same flash (no power cut in `open` on an
/// initialized flash: it only reads).
fn reset(slot: &mut Option<Device>) {
    let flash = slot.take().expect("an updater").release();
    *slot = Some(open(flash).expect("the state log reads back"));
}

/// Boots, then takes the device through `updates` from wherever it stands: confirms a trial,
/// resumes or restarts a download, installs what is missing. `confirmed` is the newest
/// confirmed version, updated as the device confirms.
fn drive(
    slot: &mut Option<Device>,
    updates: &[(Vec<u8>, u32)],
    confirmed: &mut u32,
) -> Result<(), UpdateError<SimError>> {
    let u = slot.as_mut().expect("an updater");
    match check_boot(u, *confirmed) {
        Err(UpdateError::NoModel) if *confirmed == 0 => {}
        Err(e) => return Err(e),
        Ok((version, true)) => {
            u.confirm()?;
            *confirmed = version;
        }
        Ok(_) => {}
    }
    for (bundle, version) in updates {
        let u = slot.as_mut().expect("an updater");
        if u.active().map_or(0, |a| a.version) >= *version {
            continue;
        }
        let start = match u.download() {
            Some(d) if d.version == *version => u.resume()?.unwrap_or(0),
            _ => {
                u.begin(*version, bundle.len() as u32)?;
                0
            }
        };
        send(u, bundle, start)?;
        u.finish(&mut arena())?;
        reset(slot);
        let u = slot.as_mut().expect("an updater");
        let (booted, trial) = check_boot(u, *confirmed)?;
        assert!(trial && booted == *version);
        u.confirm()?;
        *confirmed = *version;
    }
    Ok(())
}

/// Runs `scenario` from `base` with the power cut at operation 0, 1, ... (clean and torn) until
/// it completes without reaching the cut; after each cut, reboots and checks with `recover`.
/// Returns the cuts tried.
fn cut_everywhere(
    base: &[u8],
    scenario: impl Fn(&mut Option<Device>) -> Result<(), UpdateError<SimError>>,
    recover: impl Fn(SimFlash),
) -> usize {
    let mut cuts = 0;
    for torn in [false, true] {
        for k in 0.. {
            let mut flash = SimFlash::from_mem(base.to_vec());
            flash.cut_at = Some(k);
            flash.torn = torn;
            let mut slot = Some(open(flash).unwrap());
            let outcome = scenario(&mut slot);
            let flash = slot.take().unwrap().release();
            if !flash.dead {
                outcome.unwrap();
                break;
            }
            assert_eq!(outcome, Err(UpdateError::Flash(SimError::PowerCut)), "cut {k}");
            cuts += 1;
            recover(SimFlash::from_mem(flash.mem));
        }
    }
    cuts
}

#[test]
fn a_power_cut_anywhere_in_three_updates_leaves_one_verified_model() {
    let updates: Vec<(Vec<u8>, u32)> =
        [2, 3, 4].iter().map(|&v| (bundle(expected(v), v), v)).collect();
    let base = with_a();
    let cuts = in_both_modes(|| {
        // Without a cut, the sequence moves the state log to the other sector (a compaction),
        // so the cuts below hit one too.
        let mut slot = Some(open(SimFlash::from_mem(base.clone())).unwrap());
        drive(&mut slot, &updates, &mut 1).unwrap();
        let mem = slot.unwrap().release().mem;
        let epoch = |s: usize| Record::decode(&mem[LAYOUT.state[s] as usize..]);
        assert_eq!((epoch(0), epoch(1)), (Some(Record::Epoch(1)), Some(Record::Epoch(2))));
        cut_everywhere(
            &base,
            |slot| drive(slot, &updates, &mut 1),
            |flash| {
                // The newest confirmed version before the cut is not known here: any version
                // the scenario reached is acceptable, and none older than 1.
                let mut slot = Some(open(flash).unwrap());
                let mut confirmed = 1;
                drive(&mut slot, &updates, &mut confirmed).unwrap();
                let mut u = slot.unwrap();
                assert_eq!(confirmed, 4);
                assert_eq!(check_boot(&mut u, 4).unwrap(), (4, false));
            },
        )
    });
    eprintln!("update: {cuts:?} power cuts tried (blocking, async)");
    // Both forms erase and write the same, so they meet the same cuts.
    assert_eq!(cuts[0], cuts[1]);
    // Three updates of about 20 chunks each, a state-log compaction among them.
    assert!(cuts[0] > 200, "{cuts:?} cuts");
}

#[test]
fn a_power_cut_never_loses_a_confirmed_model() {
    // As above, tracking the newest confirmed version through the cut.
    let updates: Vec<(Vec<u8>, u32)> =
        [2, 3].iter().map(|&v| (bundle(expected(v), v), v)).collect();
    let base = with_a();
    let cuts = in_both_modes(|| {
        let mut cuts = 0;
        for torn in [false, true] {
            for k in 0.. {
                let mut flash = SimFlash::from_mem(base.clone());
                flash.cut_at = Some(k);
                flash.torn = torn;
                let mut slot = Some(open(flash).unwrap());
                let mut confirmed = 1;
                let outcome = drive(&mut slot, &updates, &mut confirmed);
                let flash = slot.take().unwrap().release();
                if !flash.dead {
                    outcome.unwrap();
                    break;
                }
                cuts += 1;
                let mut u = open(SimFlash::from_mem(flash.mem)).unwrap();
                check_boot(&mut u, confirmed).unwrap();
            }
        }
        cuts
    });
    eprintln!("confirmed: {cuts:?} power cuts tried (blocking, async)");
    assert_eq!(cuts[0], cuts[1]);
    assert!(cuts[0] > 100, "{cuts:?} cuts");
}

#[test]
fn both_forms_write_the_same_flash() {
    // The same updates through the blocking and the async updater leave the same bytes.
    let [blocking, asynchronous] = in_both_modes(|| {
        let mut slot = Some(open(SimFlash::from_mem(with_a())).unwrap());
        let updates: Vec<(Vec<u8>, u32)> =
            [2, 3].iter().map(|&v| (bundle(expected(v), v), v)).collect();
        drive(&mut slot, &updates, &mut 1).unwrap();
        let flash = slot.unwrap().release();
        (flash.ops, flash.mem)
    });
    assert_eq!(blocking.0, asynchronous.0, "flash operations");
    assert!(blocking.1 == asynchronous.1, "flash contents differ");
}

/// Flash with A (1) confirmed and B (2) on trial, its boot started and not confirmed.
fn with_b_on_trial() -> Vec<u8> {
    let mut u = open(SimFlash::from_mem(with_a())).unwrap();
    let b = bundle(B, 2);
    u.begin(2, b.len() as u32).unwrap();
    send(&mut u, &b, 0).unwrap();
    u.finish(&mut arena()).unwrap();
    let mut u = open(u.release()).unwrap();
    assert!(u.boot().unwrap().trial);
    u.release().mem
}

/// After a cut in a revert: A boots, confirmed, and B is no longer on trial.
fn reverted_to_a(flash: SimFlash) {
    let mut u = open(flash).unwrap();
    assert_eq!(check_boot(&mut u, 1).unwrap(), (1, false));
    assert_eq!(u.trial(), None);
    let mut u = open(u.release()).unwrap();
    assert_eq!(check_boot(&mut u, 1).unwrap(), (1, false));
}

#[test]
fn a_power_cut_in_a_revert_leaves_the_previous_model() {
    let cuts = in_both_modes(|| {
        let base = with_b_on_trial();
        // The reset before confirmation: boot reverts.
        let on_boot = cut_everywhere(
            &base,
            |slot| {
                let (version, trial) = check_boot(slot.as_mut().unwrap(), 1)?;
                assert_eq!((version, trial), (1, false));
                Ok(())
            },
            reverted_to_a,
        );
        // The application rejects the trial.
        let on_reject =
            cut_everywhere(&base, |slot| slot.as_mut().unwrap().reject(), reverted_to_a);
        (on_boot, on_reject)
    });
    eprintln!("revert: {cuts:?} power cuts tried (boot, reject; blocking, async)");
    assert_eq!(cuts, [(2, 2); 2]);
}

#[test]
fn a_power_cut_in_the_first_install_on_a_blank_flash() {
    let updates = [(bundle(A, 1), 1)];
    let blank = SimFlash::new().mem;
    let cuts = in_both_modes(|| {
        cut_everywhere(
            &blank,
            |slot| drive(slot, &updates, &mut 0),
            |flash| {
                let mut slot = Some(open(flash).unwrap());
                let mut confirmed = 0;
                drive(&mut slot, &updates, &mut confirmed).unwrap();
                assert_eq!(check_boot(&mut slot.unwrap(), 1).unwrap(), (1, false));
            },
        )
    });
    eprintln!("first install: {cuts:?} power cuts tried (blocking, async)");
    assert_eq!(cuts[0], cuts[1]);
    assert!(cuts[0] > 40, "{cuts:?} cuts");
}
