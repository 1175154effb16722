//! Fuzz target: any bytes through load -> arena size -> interpreter -> invoke.
//!
//! The engine must return typed errors for anything malformed and, for anything it accepts,
//! announce its cost, plan an arena of exactly the size it announced and run without panicking,
//! in time bounded by that cost: run it with a per-input time limit (`-timeout=1`, see
//! docs/reliability.md, "Bounded inference"), under which any input that loads and then runs
//! long is reported as a finding.
#![no_main]

use edge_reflex::engine::{Interpreter, RunError, TfLiteModel};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(model) = TfLiteModel::load(data) else { return };
    let _ = model.cost();
    assert_eq!(model.operator_costs().count(), model.operator_count());
    let size = match model.arena_size() {
        Ok(n) => n,
        Err(RunError::TooManyTensors(_)) => return,
        Err(e) => panic!("a loaded model must have an arena size: {e}"),
    };
    // Keep runs short: skip models whose arena is huge.
    if size > 1 << 22 {
        return;
    }
    let mut arena = vec![0u8; size];
    if size > 0 {
        let mut short = vec![0u8; size - 1];
        assert!(matches!(
            Interpreter::new(&model, &mut short),
            Err(RunError::ArenaTooSmall { .. })
        ));
    }
    let mut interp = Interpreter::new(&model, &mut arena).expect("the announced arena fits");
    for j in 0..model.input_count() {
        if let Some(b) = interp.input_bytes(j) {
            for (k, x) in b.iter_mut().enumerate() {
                *x = data.get(k % data.len().max(1)).copied().unwrap_or(0);
            }
        }
    }
    interp.invoke().expect("a loaded model runs");
});
