//! Custom operators and replaced builtins through the public API: a model with a CUSTOM
//! operator is refused with a typed error until its kernel is registered, then runs (planned on
//! the device and from a prebuilt plan); a registration for a builtin code runs instead of the
//! engine's kernel.

mod support;

use edge_reflex::engine::model::kernel::{Needs, Operands, Prep};
use edge_reflex::engine::plan::prebuilt::{self, Prebuilt};
use edge_reflex::engine::record::{RecordReader, RecordWriter};
use edge_reflex::engine::{
    Interpreter, Kernels, LoadError, LoadErrorKind, OperatorCode, PlanError, Registration,
    RunError, TfLiteModel,
};
use std::sync::atomic::{AtomicUsize, Ordering};
use support::{ModelSpec, OpSpec, TensorSpec, F};

/// DOUBLE: int8 in, int8 out of the same shape, `out = saturate(2 * in)`; its custom options
/// (one byte) are added after doubling, to show they reach the kernel.
fn double_prepare(p: &Prep<'_, '_>, w: &mut RecordWriter<'_>) -> Result<Needs, LoadError> {
    p.arity(1, 1)?;
    let (input, output) = (p.input(0)?, p.output()?);
    if input.elements() != output.elements() {
        return Err(p.shapes("DOUBLE keeps the shape"));
    }
    let bias = p.m.custom_options(p.op.index).first().copied().unwrap_or(0) as i8;
    w.usize(input.elements());
    w.i32(bias as i32);
    Ok(Needs::default())
}

fn double_eval(r: &mut RecordReader<'_>, io: Operands<'_>) -> Result<(), RunError> {
    let (n, bias) = (r.usize()?, r.i32()?);
    let input = io.inputs.i8(0)?;
    for (o, &i) in io.output.iter_mut().zip(input).take(n) {
        *o = (i as i32 * 2 + bias).clamp(-128, 127) as i8 as u8;
    }
    Ok(())
}

static DOUBLE: Kernels = Kernels::new(&[Registration {
    operator: OperatorCode::Custom("DOUBLE"),
    prepare: double_prepare,
    eval: double_eval,
}]);

/// input [1,4] -> DOUBLE (custom options [3]) -> FULLY_CONNECTED -> output [1,3].
fn custom_then_fc() -> Vec<u8> {
    let mut spec = ModelSpec::fully_connected();
    // Tensor 4: DOUBLE's output, same quantization as the input.
    spec.tensors.push(TensorSpec::int8(&[1, 4], 0.5, -1));
    spec.codes.push((32, 32, 1));
    spec.ops[0].inputs[0] = 4;
    spec.ops
        .insert(0, OpSpec { opcode_index: 1, inputs: vec![0], outputs: vec![4], options: None });
    let mut root = spec.to_table();
    // The CUSTOM code's name, and the operator's custom options.
    for (id, field) in root.0.iter_mut() {
        match (id, field) {
            (1, F::VecTab(codes)) => codes[1] = codes[1].clone().with(1, F::Str("DOUBLE".into())),
            (2, F::VecTab(subgraphs)) => {
                for (sid, sf) in subgraphs[0].0.iter_mut() {
                    if let (3, F::VecTab(ops)) = (sid, sf) {
                        ops[0] = ops[0].clone().with(5, F::VecU8(vec![3]));
                    }
                }
            }
            _ => {}
        }
    }
    support::finish(&root)
}

fn run(model: &TfLiteModel<'_>, input: &[i8]) -> Vec<u8> {
    let mut arena = vec![0u8; model.arena_size().unwrap()];
    let mut interp = Interpreter::new(model, &mut arena).unwrap();
    interp.input_bytes(0).unwrap().copy_from_slice(bytemuck::cast_slice(input));
    interp.invoke().unwrap();
    interp.output_bytes(0).unwrap().to_vec()
}

#[test]
fn a_custom_operator_is_refused_until_registered_then_runs() {
    let bytes = custom_then_fc();
    let err = TfLiteModel::load(&bytes).unwrap_err();
    assert_eq!(err.kind, LoadErrorKind::CustomOperator, "{err}");
    assert!(err.to_string().contains("load_with"), "{err}");

    let model = TfLiteModel::load_with(&bytes, &DOUBLE).unwrap();
    let reference_bytes = ModelSpec::fully_connected().build();
    let reference = TfLiteModel::load(&reference_bytes).unwrap();
    for input in [[1i8, -2, 3, 4], [100, -100, 0, 60], [-128, 127, 5, -7]] {
        let doubled: Vec<i8> =
            input.iter().map(|&x| (x as i32 * 2 + 3).clamp(-128, 127) as i8).collect();
        assert_eq!(run(&model, &input), run(&reference, &doubled), "input {input:?}");
    }
}

#[test]
fn a_custom_operator_runs_from_a_prebuilt_plan_with_its_kernels() {
    let bytes = custom_then_fc();
    let model = TfLiteModel::load_with(&bytes, &DOUBLE).unwrap();
    let mut work = vec![0u8; model.arena_size().unwrap()];
    let mut plan = vec![0u8; prebuilt::plan_len(&model, &mut work).unwrap()];
    prebuilt::write(&model, &mut work, &mut plan).unwrap();
    assert_eq!(Prebuilt::new(&bytes, &plan).unwrap_err(), PlanError::OperatorNotBuilt(-1));
    let bound = Prebuilt::with_kernels(&bytes, &plan, &DOUBLE).unwrap();
    let mut arena = vec![0u8; bound.arena_size()];
    let mut interp = Interpreter::from_plan(bound, &mut arena).unwrap();
    let input = [9i8, -20, 33, 1];
    interp.input_bytes(0).unwrap().copy_from_slice(bytemuck::cast_slice(&input));
    interp.invoke().unwrap();
    assert_eq!(interp.output_bytes(0).unwrap(), run(&model, &input).as_slice());
}

static FC_CALLS: AtomicUsize = AtomicUsize::new(0);

/// An "accelerator" FULLY_CONNECTED: checks its operands through the builtin's own prepare
/// step (so the record it reads is the builtin's), counts its calls and writes a marker.
fn accel_prepare(p: &Prep<'_, '_>, w: &mut RecordWriter<'_>) -> Result<Needs, LoadError> {
    let fc = edge_reflex::engine::builtin(9).expect("FULLY_CONNECTED is a builtin");
    (fc.prepare)(p, w)
}

fn accel_eval(_: &mut RecordReader<'_>, io: Operands<'_>) -> Result<(), RunError> {
    FC_CALLS.fetch_add(1, Ordering::SeqCst);
    io.output.fill(0x5A);
    Ok(())
}

static ACCELERATOR: Kernels = Kernels::new(&[Registration {
    operator: OperatorCode::Builtin(9),
    prepare: accel_prepare,
    eval: accel_eval,
}]);

#[test]
fn a_registered_builtin_replaces_the_engines_kernel() {
    let bytes = ModelSpec::fully_connected().build();
    let model = TfLiteModel::load_with(&bytes, &ACCELERATOR).unwrap();
    let before = FC_CALLS.load(Ordering::SeqCst);
    assert_eq!(run(&model, &[1, 2, 3, 4]), vec![0x5A; 3]);
    assert_eq!(FC_CALLS.load(Ordering::SeqCst), before + 1);
    // Without the registration, the engine's own kernel runs.
    let builtin = TfLiteModel::load(&bytes).unwrap();
    assert_ne!(run(&builtin, &[1, 2, 3, 4]), vec![0x5A; 3]);
    assert_eq!(FC_CALLS.load(Ordering::SeqCst), before + 1);
}

#[test]
fn the_operator_table_knows_every_builtin_once() {
    let table = edge_reflex::engine::BUILTINS;
    assert!(table.len() >= 23);
    let fc = edge_reflex::engine::builtin(9).unwrap();
    assert_eq!((fc.name(), fc.max_version, fc.built()), ("FULLY_CONNECTED", 12, true));
    assert!(edge_reflex::engine::builtin(32).is_none(), "CUSTOM is not a builtin");
}
