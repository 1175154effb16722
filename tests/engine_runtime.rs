//! The interpreter's arena and run-time contract on the conformance models: the announced arena
//! size is exactly what runs (one byte less fails cleanly), buffers that share memory never live
//! at the same time, reshapes cost nothing, several models run side by side, and the interpreter
//! serves as the graph's int8 `Model`.

use edge_reflex::engine::arena::Location;
use edge_reflex::engine::plan::planner::{scratch_bytes, tensor_lifetime};
use edge_reflex::engine::{Interpreter, Op, RunError, TfLiteModel};
use edge_reflex::model::Model;
use std::path::{Path, PathBuf};

fn case_dirs() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/conformance");
    let mut v: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("fixtures missing at {}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| p.join("model.tflite").is_file())
        .collect();
    v.sort();
    assert!(v.len() >= 25);
    v
}

fn sample(case: &Path, k: usize, name: &str) -> Vec<u8> {
    std::fs::read(case.join(format!("samples/{k}/{name}.bin"))).unwrap()
}

#[test]
fn the_announced_arena_is_exact() {
    for case in case_dirs() {
        let bytes = std::fs::read(case.join("model.tflite")).unwrap();
        let m = TfLiteModel::load(&bytes).unwrap();
        let n = m.arena_size().unwrap();
        let mut short = vec![0u8; n - 1];
        assert_eq!(
            Interpreter::new(&m, &mut short).err(),
            Some(RunError::ArenaTooSmall { needed: n, available: n - 1 }),
            "{}",
            case.display()
        );
        let mut tiny = [0u8; 3];
        assert!(
            matches!(Interpreter::new(&m, &mut tiny), Err(RunError::ArenaTooSmall { needed, .. }) if needed == n)
        );
        let mut arena = vec![0u8; n];
        let mut i = Interpreter::new(&m, &mut arena).unwrap();
        assert_eq!(i.layout().total, n);
        i.input_bytes(0).unwrap().copy_from_slice(&sample(&case, 0, "input0"));
        i.invoke().unwrap();
        assert_eq!(i.output_bytes(0).unwrap(), sample(&case, 0, "output0").as_slice());
        // A larger arena works the same.
        let mut big = vec![0u8; n + 100];
        let mut i = Interpreter::new(&m, &mut big).unwrap();
        i.input_bytes(0).unwrap().copy_from_slice(&sample(&case, 0, "input0"));
        i.invoke().unwrap();
        assert_eq!(i.output_bytes(0).unwrap(), sample(&case, 0, "output0").as_slice());
    }
}

#[test]
fn the_arena_is_no_larger_than_tflm() {
    // TFLM's arena_used_bytes on the same models (issue 6).
    for (name, tflm) in
        [("tflm_hello_world", 1068), ("tflm_micro_speech", 6800), ("tflm_person_detect", 82296)]
    {
        let path = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join(format!("tests/data/conformance/{name}/model.tflite"));
        let bytes = std::fs::read(path).unwrap();
        let n = TfLiteModel::load(&bytes).unwrap().arena_size().unwrap();
        println!("{name}: arena {n} bytes (TFLM {tflm})");
        assert!(n <= tflm, "{name}: {n} > {tflm}");
    }
}

#[test]
fn shared_memory_never_overlaps_in_time_and_reshapes_alias() {
    for case in case_dirs() {
        let bytes = std::fs::read(case.join("model.tflite")).unwrap();
        let m = TfLiteModel::load(&bytes).unwrap();
        let mut arena = vec![0u8; m.arena_size().unwrap()];
        let interp = Interpreter::new(&m, &mut arena).unwrap();
        let mut scratch = vec![0u8; scratch_bytes(&m)];
        let mut bufs = Vec::new();
        for t in 0..m.tensor_count() {
            if let Location::Arena { offset, len } = interp.location(t).unwrap() {
                let life = tensor_lifetime(&m, &mut scratch, t)
                    .unwrap()
                    .expect("arena tensors have lifetimes");
                assert_eq!(offset % 16, 0, "alignment");
                bufs.push((t, offset, len, life));
            }
        }
        for (i, a) in bufs.iter().enumerate() {
            for b in &bufs[i + 1..] {
                let same_memory = a.1 < b.1 + b.2 && b.1 < a.1 + a.2;
                let same_time = a.3 .0 <= b.3 .1 && b.3 .0 <= a.3 .1;
                let alias = a.1 == b.1 && a.3 == b.3;
                // With the `in-place` feature, an operator the planner runs in place (a CONV_2D or
                // DEPTHWISE_CONV_2D reading its input for the last time) writes its output over
                // that input, starting at or below it (either may be seen through a reshaped
                // alias; the planner's tests run such plans byte by byte).
                let in_place =
                    |x: &(usize, usize, usize, (u32, u32)),
                     y: &(usize, usize, usize, (u32, u32))| {
                        cfg!(feature = "in-place")
                            && m.operators().any(|op| {
                                let at = |t: Option<u32>| {
                                    t.map(|t| interp.location(t as usize).unwrap())
                                };
                                matches!(op.op, Op::Conv2d(_) | Op::DepthwiseConv2d { .. })
                                    && at(op.input(0))
                                        == Some(Location::Arena { offset: x.1, len: x.2 })
                                    && at(op.output(0))
                                        == Some(Location::Arena { offset: y.1, len: y.2 })
                                    && x.3 .1 == op.index
                                    && y.3 .0 == op.index
                                    && y.1 <= x.1
                            })
                    };
                assert!(
                    !(same_memory && same_time) || alias || in_place(a, b) || in_place(b, a),
                    "{}: t{} and t{} collide ({a:?} {b:?})",
                    case.display(),
                    a.0,
                    b.0
                );
            }
        }
        for op in
            m.operators().filter(|o| matches!(o.op, Op::Reshape | Op::ExpandDims | Op::Squeeze))
        {
            let (i, o) = (op.input(0).unwrap() as usize, op.output(0).unwrap() as usize);
            let (li, lo) = (interp.location(i).unwrap(), interp.location(o).unwrap());
            let start = |l: Location| match l {
                Location::Arena { offset, .. } | Location::Model { offset, .. } => offset,
                Location::Unused => usize::MAX,
            };
            assert_eq!(start(li), start(lo), "{}: reshape output is not an alias", case.display());
        }
    }
}

#[test]
fn models_run_side_by_side() {
    let cases: Vec<PathBuf> = ["tflm_micro_speech", "dense_softmax", "conv2d_dilated"]
        .iter()
        .map(|n| Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("tests/data/conformance/{n}")))
        .collect();
    let files: Vec<Vec<u8>> =
        cases.iter().map(|c| std::fs::read(c.join("model.tflite")).unwrap()).collect();
    let models: Vec<TfLiteModel<'_>> =
        files.iter().map(|b| TfLiteModel::load(b).unwrap()).collect();
    let mut arenas: Vec<Vec<u8>> =
        models.iter().map(|m| vec![0u8; m.arena_size().unwrap()]).collect();
    let mut interps: Vec<Interpreter<'_, '_>> = models
        .iter()
        .zip(arenas.iter_mut())
        .map(|(m, a)| Interpreter::new(m, a).unwrap())
        .collect();
    // Interleave: fill all inputs, run all, check all, for several samples.
    for k in 0..4 {
        for (i, c) in interps.iter_mut().zip(&cases) {
            i.input_bytes(0).unwrap().copy_from_slice(&sample(c, k, "input0"));
        }
        for i in interps.iter_mut().rev() {
            i.invoke().unwrap();
        }
        for (i, c) in interps.iter().zip(&cases) {
            assert_eq!(i.output_bytes(0).unwrap(), sample(c, k, "output0").as_slice());
        }
    }
}

#[test]
fn the_interpreter_is_an_int8_model() {
    let case =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/conformance/tflm_micro_speech");
    let bytes = std::fs::read(case.join("model.tflite")).unwrap();
    let m = TfLiteModel::load(&bytes).unwrap();
    let mut arena = vec![0u8; m.arena_size().unwrap()];
    let mut interp = Interpreter::new(&m, &mut arena).unwrap();
    fn run<M: Model>(model: &mut M, input: &[u8]) -> Vec<i8> {
        for (d, s) in model.input().iter_mut().zip(input) {
            *d = *s as i8;
        }
        model.invoke().unwrap();
        model.output().to_vec()
    }
    assert_eq!(interp.input_shape().dims(), &[1, 1960]);
    assert_eq!(interp.output_shape().dims(), &[1, 4]);
    assert_eq!(interp.output_quant().scale, 1.0 / 256.0);
    assert_eq!(interp.output_quant().zero_point, -128);
    assert!((interp.input_quant().scale - 0.101_715_68).abs() < 1e-6);
    let out = run(&mut interp, &sample(&case, 0, "input0"));
    let want: Vec<i8> = sample(&case, 0, "output0").iter().map(|&b| b as i8).collect();
    assert_eq!(out, want);

    // Float input/output: usable through the byte API, refused as an int8 Model.
    let case =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/conformance/float_io_quant_dequant");
    let bytes = std::fs::read(case.join("model.tflite")).unwrap();
    let m = TfLiteModel::load(&bytes).unwrap();
    assert!(!m.has_int8_io());
    let mut arena = vec![0u8; m.arena_size().unwrap()];
    let mut interp = Interpreter::new(&m, &mut arena).unwrap();
    assert!(Model::input(&mut interp).is_empty());
    assert_eq!(Model::invoke(&mut interp), Err(RunError::NotInt8));
}

#[test]
fn the_profiler_sees_every_operator_in_order() {
    use edge_reflex::engine::Profiler;
    #[derive(Default)]
    struct Log(Vec<(char, usize, i32)>);
    impl Profiler for Log {
        fn begin(&mut self, index: usize, code: i32) {
            self.0.push(('b', index, code));
        }
        fn end(&mut self, index: usize, code: i32) {
            self.0.push(('e', index, code));
        }
    }
    let case = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/conformance/conv1d_window");
    let bytes = std::fs::read(case.join("model.tflite")).unwrap();
    let m = TfLiteModel::load(&bytes).unwrap();
    let mut arena = vec![0u8; m.arena_size().unwrap()];
    let mut interp = Interpreter::new(&m, &mut arena).unwrap();
    interp.input_bytes(0).unwrap().copy_from_slice(&sample(&case, 0, "input0"));
    let mut log = Log::default();
    interp.invoke_profiled(&mut log).unwrap();
    let want: Vec<(char, usize, i32)> = m
        .operators()
        .flat_map(|o| [('b', o.index as usize, o.code), ('e', o.index as usize, o.code)])
        .collect();
    assert_eq!(log.0, want);
    assert_eq!(interp.output_bytes(0).unwrap(), sample(&case, 0, "output0").as_slice());
}
