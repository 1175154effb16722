//! Prebuilt plans (`engine::plan::prebuilt`): a plan written at build time runs every conformance case
//! bit-exactly from its own bytes, in an arena of the activations alone, whatever the arena held
//! before; a plan bound to other model bytes, truncated, or damaged is refused or fails with an
//! error, never a panic.

mod fixtures;

use edge_reflex::engine::build::plan_from_bytes;
use edge_reflex::engine::plan::prebuilt::{self, PlanError, Prebuilt};
use edge_reflex::engine::{Interpreter, RunError, TfLiteModel};
use edge_reflex::model::Model;
use fixtures::{numbered, samples};
use std::fs;
use std::path::PathBuf;

fn cases() -> Vec<PathBuf> {
    let cases = fixtures::cases();
    assert!(cases.len() >= 20, "expected the conformance set, found {} cases", cases.len());
    cases
}

#[test]
fn every_case_runs_bit_exactly_from_its_plan_in_a_dirty_arena() {
    for case in cases() {
        let name = case.file_name().unwrap().to_string_lossy().into_owned();
        let bytes = fs::read(case.join("model.tflite")).unwrap();
        let plan = plan_from_bytes(&bytes).unwrap_or_else(|e| panic!("{name}: {e}"));
        let prebuilt = Prebuilt::new(&bytes, &plan).unwrap_or_else(|e| panic!("{name}: {e}"));

        // The RAM arena is the activations alone: the full arena minus the table and records.
        let model = TfLiteModel::load(&bytes).unwrap();
        let full = model.arena_size().unwrap();
        let mut full_arena = vec![0u8; full];
        let layout = Interpreter::new(&model, &mut full_arena).unwrap().layout().unwrap();
        assert_eq!(prebuilt.arena_size(), layout.activations, "{name}");
        assert!(prebuilt.arena_size() < full, "{name}");
        assert_eq!(prebuilt.operator_count(), model.operator_count(), "{name}");
        assert_eq!(prebuilt.input_count(), model.input_count(), "{name}");
        assert_eq!(prebuilt.output_count(), model.output_count(), "{name}");
        let info = model.input_info(0).unwrap();
        let io = prebuilt.input(0).unwrap();
        assert_eq!(
            (io.dtype, io.shape, io.tensor),
            (info.dtype, info.shape, model.input(0).unwrap())
        );

        // Garbage in the arena must not matter: nothing of the plan lives there.
        let mut arena = vec![0xA5u8; prebuilt.arena_size()];
        let mut interp = Interpreter::from_plan(prebuilt, &mut arena).unwrap();
        for s in samples(&case) {
            for (j, data) in numbered(&s, "input").iter().enumerate() {
                interp.input_bytes(j).expect("input in the arena").copy_from_slice(data);
            }
            interp.invoke().unwrap_or_else(|e| panic!("{name}: invoke: {e}"));
            for (j, want) in numbered(&s, "output").iter().enumerate() {
                assert_eq!(
                    interp.output_bytes(j),
                    Some(&want[..]),
                    "{name} {} output {j}",
                    s.display()
                );
            }
        }
    }
}

fn hello_world() -> Vec<u8> {
    fixtures::model("tflm_hello_world")
}

#[test]
fn a_plan_is_refused_for_other_model_bytes() {
    let bytes = hello_world();
    let plan = plan_from_bytes(&bytes).unwrap();
    let mut other = bytes.clone();
    *other.last_mut().unwrap() ^= 1;
    assert_eq!(Prebuilt::new(&other, &plan).unwrap_err(), PlanError::ModelMismatch);
    assert_eq!(Prebuilt::new(&bytes[1..], &plan).unwrap_err(), PlanError::ModelMismatch);
    let micro = fixtures::model("tflm_micro_speech");
    assert_eq!(Prebuilt::new(&micro, &plan).unwrap_err(), PlanError::ModelMismatch);
}

#[test]
fn truncated_plans_are_refused() {
    let bytes = hello_world();
    let plan = plan_from_bytes(&bytes).unwrap();
    for len in 0..plan.len() {
        assert!(Prebuilt::new(&bytes, &plan[..len]).is_err(), "accepted a plan cut at {len}");
    }
    let mut longer = plan.clone();
    longer.push(0);
    assert_eq!(Prebuilt::new(&bytes, &longer).unwrap_err(), PlanError::Malformed);
}

#[test]
fn a_too_small_arena_is_a_typed_error() {
    let bytes = hello_world();
    let plan = plan_from_bytes(&bytes).unwrap();
    let prebuilt = Prebuilt::new(&bytes, &plan).unwrap();
    let mut arena = vec![0u8; prebuilt.arena_size() - 1];
    match Interpreter::from_plan(prebuilt, &mut arena) {
        Err(RunError::ArenaTooSmall { needed, available }) => {
            assert_eq!((needed, available), (prebuilt.arena_size(), prebuilt.arena_size() - 1))
        }
        other => panic!("expected ArenaTooSmall, got {other:?}"),
    }
}

/// Every single-bit flip anywhere in a plan is refused when it is bound (the checksum catches
/// any change confined to one byte), so a damaged plan never reaches the kernels.
#[test]
fn every_damaged_byte_is_refused() {
    for case in ["tflm_hello_world", "conv2d_s1_same_relu6", "add_mul", "dense_softmax"] {
        let bytes = fixtures::model(case);
        let plan = plan_from_bytes(&bytes).unwrap();
        assert!(Prebuilt::new(&bytes, &plan).is_ok());
        for bit in 0..plan.len() * 8 {
            let mut bad = plan.clone();
            bad[bit / 8] ^= 1 << (bit % 8);
            assert!(Prebuilt::new(&bytes, &bad).is_err(), "{case}: flipped bit {bit} accepted");
        }
        for at in (0..plan.len()).step_by(7) {
            let mut bad = plan.clone();
            bad[at] = bad[at].wrapping_add(0x5b);
            assert!(Prebuilt::new(&bytes, &bad).is_err(), "{case}: changed byte {at} accepted");
        }
    }
}

#[test]
fn the_plan_serves_as_the_graphs_model() {
    let bytes = hello_world();
    let plan = plan_from_bytes(&bytes).unwrap();
    let prebuilt = Prebuilt::new(&bytes, &plan).unwrap();
    let mut arena = vec![0u8; prebuilt.arena_size()];
    let mut p = Interpreter::from_plan(prebuilt, &mut arena).unwrap();

    let model = TfLiteModel::load(&bytes).unwrap();
    let mut full = vec![0u8; model.arena_size().unwrap()];
    let mut i = Interpreter::new(&model, &mut full).unwrap();
    assert_eq!(Model::input_quant(&p), Model::input_quant(&i));
    assert_eq!(Model::output_quant(&p), Model::output_quant(&i));
    assert_eq!(Model::input_shape(&p), Model::input_shape(&i));
    assert_eq!(Model::output_shape(&p), Model::output_shape(&i));
    for x in [-128i8, -40, 0, 17, 127] {
        Model::input(&mut p).copy_from_slice(&[x]);
        Model::input(&mut i).copy_from_slice(&[x]);
        Model::invoke(&mut p).unwrap();
        Model::invoke(&mut i).unwrap();
        assert_eq!(Model::output(&p), Model::output(&i), "input {x}");
    }
}

/// A device can write the plan itself (e.g. once after a model update) into fixed buffers.
#[test]
fn plans_can_be_written_without_allocation_sized_by_plan_len() {
    let bytes = hello_world();
    let model = TfLiteModel::load(&bytes).unwrap();
    let mut work = [0u8; 4096];
    let len = prebuilt::plan_len(&model, &mut work).unwrap();
    let mut out = [0u8; 4096];
    assert_eq!(prebuilt::write(&model, &mut work, &mut out).unwrap(), len);
    assert_eq!(&out[..len], &plan_from_bytes(&bytes).unwrap()[..]);
    assert!(matches!(
        prebuilt::write(&model, &mut work, &mut out[..len - 1]),
        Err(RunError::ArenaTooSmall { needed, available }) if needed == len && available == len - 1
    ));
    assert!(matches!(
        prebuilt::write(&model, &mut work[..10], &mut out),
        Err(RunError::ArenaTooSmall { .. })
    ));
}
