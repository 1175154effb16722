//! Malformed and unsupported models: every one gives a typed error naming what and where, and
//! no input — truncated, bit-flipped, hostile — makes load, planning or invoke panic.

mod support;

use edge_reflex::engine::{Interpreter, LoadError, LoadErrorKind, Site, TfLiteModel};
use support::{ModelSpec, OpSpec, Tab, TensorSpec, F, FLOAT32, INT32, INT8};

fn fixture(name: &str) -> Vec<u8> {
    let p = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/conformance/");
    std::fs::read(format!("{p}{name}/model.tflite"))
        .unwrap_or_else(|e| panic!("fixture {name}: {e}"))
}

fn err(bytes: &[u8]) -> LoadError {
    match TfLiteModel::load(bytes) {
        Ok(_) => panic!("model unexpectedly loaded"),
        Err(e) => e,
    }
}

/// Loads, plans and runs whatever loads. Panics only if the engine does. True if it loaded.
fn exercise(bytes: &[u8]) -> bool {
    match TfLiteModel::load(bytes) {
        Err(e) => {
            assert!(!e.to_string().is_empty());
            false
        }
        Ok(m) => {
            let n = m.arena_size().expect("a loaded model has an arena size");
            let mut arena = vec![0u8; n];
            let mut i = Interpreter::new(&m, &mut arena).expect("a loaded model fits its arena");
            for j in 0..m.input_count() {
                if let Some(b) = i.input_bytes(j) {
                    b.iter_mut().enumerate().for_each(|(k, x)| *x = k as u8);
                }
            }
            i.invoke().expect("a loaded model runs");
            true
        }
    }
}

#[test]
fn the_builder_model_loads_and_computes() {
    let mut spec = ModelSpec::fully_connected();
    spec.tensors[2].data = Some([10i32, -21, 30].iter().flat_map(|v| v.to_le_bytes()).collect());
    let bytes = spec.build();
    let m = TfLiteModel::load(&bytes).unwrap();
    let mut arena = vec![0u8; m.arena_size().unwrap()];
    let mut i = Interpreter::new(&m, &mut arena).unwrap();
    i.input_bytes(0).unwrap().copy_from_slice(&[0, 1, 2, 3]);
    i.invoke().unwrap();
    // acc = bias + sum w (x + 1); out = round(acc / 8) + 3: -30 -> -1, -21 -> 0, 70 -> 12.
    assert_eq!(i.output_bytes(0).unwrap(), &[(-1i8) as u8, 0, 12]);
}

#[test]
fn every_truncation_is_refused_without_panic() {
    let mut models = vec![ModelSpec::fully_connected().build()];
    for name in [
        "tflm_hello_world",
        "dense_softmax",
        "conv2d_dilated",
        "float_io_quant_dequant",
        "reshape_flatten_cnn",
    ] {
        models.push(fixture(name));
    }
    for bytes in &models {
        for n in 0..bytes.len() {
            assert!(
                !exercise(&bytes[..n]),
                "a {n}-byte prefix of a {}-byte model loaded",
                bytes.len()
            );
        }
        assert!(exercise(bytes));
    }
}

/// Every bit of the builder model; for the fixture every bit in optimized builds and one bit
/// per byte (rotating) in debug builds, to keep `cargo test` fast.
#[test]
fn bit_flips_never_panic() {
    for (bytes, all_bits) in [
        (ModelSpec::fully_connected().build(), true),
        (fixture("tflm_hello_world"), !cfg!(debug_assertions)),
    ] {
        let (mut loaded, mut refused) = (0, 0);
        for pos in 0..bytes.len() {
            let bits = if all_bits { 0..8 } else { pos % 8..pos % 8 + 1 };
            for bit in bits {
                let mut b = bytes.clone();
                b[pos] ^= 1 << bit;
                if exercise(&b) {
                    loaded += 1
                } else {
                    refused += 1
                }
            }
        }
        println!("bit flips on {} bytes: {loaded} still load (weights, names, padding), {refused} refused", bytes.len());
        assert!(refused > 0 && loaded > 0);
    }
}

#[test]
fn hostile_offsets_are_malformed_errors() {
    let good = ModelSpec::fully_connected().build();
    // Root offset past the end.
    let mut b = good.clone();
    b[0..4].copy_from_slice(&u32::MAX.to_le_bytes());
    assert!(matches!(err(&b).kind, LoadErrorKind::Malformed { .. }));
    // Every 4-byte word replaced by a huge value: only typed errors (or a still-valid model).
    for at in (8..good.len() - 4).step_by(4) {
        for v in [u32::MAX, 0x7fff_ffff, good.len() as u32, 0xffff_fff0] {
            let mut b = good.clone();
            b[at..at + 4].copy_from_slice(&v.to_le_bytes());
            exercise(&b);
        }
    }
}

#[test]
fn header_and_version() {
    assert_eq!(err(&[0; 7]).kind, LoadErrorKind::TooShort);
    let mut b = ModelSpec::fully_connected().build();
    b[4..8].copy_from_slice(b"TFL2");
    assert_eq!(err(&b), LoadError::new(Site::File, LoadErrorKind::NotTfLite));
    let mut spec = ModelSpec::fully_connected();
    spec.version = 2;
    assert_eq!(err(&spec.build()).kind, LoadErrorKind::SchemaVersion(2));
}

fn with_tensor(t: usize, f: impl FnOnce(&mut TensorSpec)) -> LoadError {
    let mut spec = ModelSpec::fully_connected();
    f(&mut spec.tensors[t]);
    err(&spec.build())
}

#[test]
fn bad_tensors_are_named() {
    let e = with_tensor(3, |t| t.shape = vec![65536, 65536, 65536, 65536]);
    assert_eq!(e, LoadError::new(Site::Tensor(3), LoadErrorKind::TooLarge));
    let e = with_tensor(3, |t| t.shape = vec![1, -1]);
    assert_eq!(e, LoadError::new(Site::Tensor(3), LoadErrorKind::DynamicShape));
    let e = with_tensor(0, |t| t.shape = vec![1; 7]);
    assert_eq!(e, LoadError::new(Site::Tensor(0), LoadErrorKind::RankTooLarge(7)));
    let e = with_tensor(1, |t| t.data.as_mut().unwrap().pop().map(|_| ()).unwrap());
    assert_eq!(
        e,
        LoadError::new(Site::Tensor(1), LoadErrorKind::DataSize { expected: 12, found: 11 })
    );
    let e = with_tensor(0, |t| t.quant = Some((vec![0.5], vec![1, 2], 0)));
    assert!(matches!(e.kind, LoadErrorKind::Quantization(_)) && e.site == Site::Tensor(0));
    let e = with_tensor(0, |t| t.quant = Some((vec![f32::NAN], vec![0], 0)));
    assert!(matches!(e.kind, LoadErrorKind::Quantization(_)));
    let e = with_tensor(0, |t| t.dtype = 5);
    assert_eq!(e, LoadError::new(Site::Tensor(0), LoadErrorKind::UnsupportedType(5)));
    assert!(e.to_string().contains("string"));
    // Zero-size activations.
    let e = with_tensor(3, |t| t.shape = vec![1, 0]);
    assert_eq!(e.kind, LoadErrorKind::EmptyTensor(3));
}

fn with_op(f: impl FnOnce(&mut ModelSpec)) -> LoadError {
    let mut spec = ModelSpec::fully_connected();
    f(&mut spec);
    err(&spec.build())
}

const FC: Site = Site::Operator { index: 0, name: "FULLY_CONNECTED" };

#[test]
fn bad_graphs_are_named() {
    let e = with_op(|s| s.ops[0].inputs[0] = 3);
    assert_eq!(e, LoadError::new(FC, LoadErrorKind::ReadsOwnOutput(3)));
    let e = with_op(|s| s.ops[0].inputs[0] = 42);
    assert!(
        matches!(e.kind, LoadErrorKind::IndexOutOfRange { index: 42, len: 4, .. }) && e.site == FC
    );
    let e = with_op(|s| s.ops[0].opcode_index = 7);
    assert!(matches!(
        e.kind,
        LoadErrorKind::IndexOutOfRange { field: "opcode_index", index: 7, .. }
    ));
    // Writes the graph input.
    let e = with_op(|s| s.ops[0].outputs[0] = 0);
    assert!(matches!(e.kind, LoadErrorKind::ReadsOwnOutput(0) | LoadErrorKind::WrittenTwice(0)));
    // Two operators, the first reading what the second writes (a cycle through tensor 4).
    let e = with_op(|s| {
        s.tensors.push(TensorSpec::int8(&[1, 4], 0.5, -1));
        let mut first = s.ops[0].clone();
        first.inputs[0] = 4;
        s.ops = vec![
            first,
            OpSpec { opcode_index: 0, inputs: vec![3, 1, 2], outputs: vec![4], options: None },
        ];
        s.tensors[3].shape = vec![1, 3];
    });
    assert_eq!(e.kind, LoadErrorKind::ReadBeforeWritten(4));
    // A graph output nobody writes.
    let e = with_op(|s| {
        s.tensors.push(TensorSpec::int8(&[1, 3], 1.0, 0));
        s.outputs = vec![4];
    });
    assert_eq!(e, LoadError::new(Site::Subgraph, LoadErrorKind::NeverWritten(4)));
    let e = with_op(|s| s.inputs = vec![1]);
    assert_eq!(e.kind, LoadErrorKind::ConstantInput(1));
    let e = with_op(|s| s.tensors[1].data = None);
    // Weights without data are an activation nobody writes.
    assert_eq!(e.kind, LoadErrorKind::ReadBeforeWritten(1));
}

#[test]
fn unsupported_operators_versions_and_options_are_named() {
    let e = with_op(|s| s.codes[0] = (16, 16, 1));
    assert_eq!(
        e,
        LoadError::new(
            Site::Operator { index: 0, name: "LSTM" },
            LoadErrorKind::UnsupportedOperator(16)
        )
    );
    assert!(e.to_string().contains("LSTM"));
    // Codes above 127: the 8-bit field holds the placeholder 127, the 32-bit one the code.
    let e = with_op(|s| s.codes[0] = (127, 150, 1));
    assert_eq!(e.site, Site::Operator { index: 0, name: "GELU" });
    let e = with_op(|s| s.codes[0] = (32, 32, 1));
    assert_eq!(e.kind, LoadErrorKind::CustomOperator);
    let e = with_op(|s| s.codes[0].2 = 99);
    assert_eq!(e, LoadError::new(FC, LoadErrorKind::UnsupportedVersion(99)));
    let e = with_op(|s| s.ops[0].options = Some((1, Tab::default())));
    assert_eq!(e.kind, LoadErrorKind::WrongOptions);
    let e = with_op(|s| s.ops[0].options = Some((8, Tab::default().with(0, F::I8(4)))));
    assert!(matches!(e.kind, LoadErrorKind::UnsupportedOption(_)));
    assert!(e.to_string().contains("TANH"));
    let e = with_op(|s| s.ops[0].options = Some((8, Tab::default().with(1, F::I8(1)))));
    assert!(matches!(e.kind, LoadErrorKind::UnsupportedOption(_)));
    // Old files: only the 8-bit code is set.
    let mut spec = ModelSpec::fully_connected();
    spec.codes[0] = (9, 0, 1);
    assert!(TfLiteModel::load(&spec.build()).is_ok());
    // Operand types and shapes.
    let e = with_op(|s| s.tensors[1].shape = vec![3, 5]);
    assert!(matches!(e.kind, LoadErrorKind::DataSize { .. } | LoadErrorKind::Shapes(_)));
    let e = with_op(|s| s.tensors[2].dtype = INT8);
    assert!(matches!(e.kind, LoadErrorKind::DataSize { .. } | LoadErrorKind::Types(_)));
}

/// Float32 and dynamic-range FULLY_CONNECTED load and compute (feature `op-float`, which the
/// tests turn on); their malformed forms are named. The refusal without the feature (which
/// the tests' build cannot turn off) is tested in the library (`check::data_flow`, `error`).
#[test]
fn float_and_dynamic_range_models_run_and_their_mistakes_are_named() {
    let floats = |xs: &[f32]| xs.iter().flat_map(|v| v.to_le_bytes()).collect::<Vec<u8>>();
    let run = |bytes: &[u8], input: &[f32]| -> Vec<f32> {
        let model = TfLiteModel::load(bytes).expect("loads");
        let mut arena = vec![0u8; model.arena_size().unwrap()];
        let mut interp = Interpreter::new(&model, &mut arena).unwrap();
        interp.input_bytes(0).unwrap().copy_from_slice(&floats(input));
        interp.invoke().unwrap();
        let out = interp.output_bytes(0).unwrap();
        out.chunks_exact(4).map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]])).collect()
    };
    let mut spec = ModelSpec::fully_connected();
    for t in &mut spec.tensors {
        t.dtype = FLOAT32;
        t.quant = None;
    }
    let weights: Vec<f32> = (0..12).map(|i| (i as f32 - 6.0) * 0.25).collect();
    spec.tensors[1].data = Some(floats(&weights));
    spec.tensors[2].data = Some(floats(&[1.0, -2.0, 0.5]));
    // w = [[-1.5 -1.25 -1 -0.75] [-0.5 -0.25 0 0.25] [0.5 0.75 1 1.25]].
    assert_eq!(run(&spec.build(), &[1.0, 2.0, 3.0, 4.0]), [-10.0 + 1.0, 0.0 - 2.0, 10.0 + 0.5]);

    // Dynamic range: the same weights in int8 (scale 0.25), float activations and bias; the
    // input's range is 4, so 127 / 4 per step: 1, 2, 3 do not land on steps, the result is
    // within the input's quantization error.
    let mut hybrid = spec.clone();
    hybrid.tensors[1] = ModelSpec::fully_connected().tensors[1].clone();
    let got = run(&hybrid.build(), &[1.0, 2.0, 3.0, 4.0]);
    for (g, w) in got.iter().zip([-9.0f32, -2.0, 10.5]) {
        assert!((g - w).abs() <= 0.05, "{got:?}");
    }

    // An int32 bias with float activations: a typed error.
    let mut wrong = hybrid.clone();
    wrong.tensors[2].dtype = INT32;
    assert!(matches!(err(&wrong.build()).kind, LoadErrorKind::Types(_)));
    // Per-channel hybrid weights need one scale per unit.
    let mut wrong = hybrid.clone();
    wrong.tensors[1].quant = Some((vec![0.25, 0.5], vec![0, 0], 0));
    assert!(matches!(err(&wrong.build()).kind, LoadErrorKind::Quantization(_)));
}

/// Replaces the first occurrence of `from` (little-endian i32 words) in `bytes` with `to`.
fn patch_words(bytes: &mut [u8], from: &[i32], to: &[i32]) {
    let f: Vec<u8> = from.iter().flat_map(|v| v.to_le_bytes()).collect();
    let at = bytes.windows(f.len()).position(|w| w == f.as_slice()).expect("pattern in model");
    let t: Vec<u8> = to.iter().flat_map(|v| v.to_le_bytes()).collect();
    bytes[at..at + t.len()].copy_from_slice(&t);
}

/// Models the fuzzer found that loaded but could not run; now refused at load.
#[test]
fn fuzz_findings_are_refused_at_load() {
    // STRIDED_SLICE shrinking an axis at an index past its end.
    let mut b = fixture("reshape_flatten_cnn");
    let offset = {
        let m = TfLiteModel::load(&b).unwrap();
        let data = m.tensor(1).unwrap().data.unwrap();
        data.as_ptr() as usize - b.as_ptr() as usize
    };
    b[offset..offset + 4].copy_from_slice(&16_580_608i32.to_le_bytes());
    let e = err(&b);
    assert_eq!(e.site, Site::Operator { index: 2, name: "STRIDED_SLICE" });
    assert!(matches!(e.kind, LoadErrorKind::Shapes(_)));
    // CONV_2D whose input/weights depth ratio (groups) does not divide the output channels.
    let mut b = fixture("conv2d_s2_valid");
    patch_words(&mut b, &[1, 13, 12, 4], &[1, 13, 12, 44]);
    let e = err(&b);
    assert_eq!(e.site, Site::Operator { index: 0, name: "CONV_2D" });
    assert!(matches!(e.kind, LoadErrorKind::Shapes(_)));
}

/// One pooling operator (`code`: 1 average, 17 max) over an int8 `[1, 4, 4, 2]` input with
/// SAME padding, output `out` rows and columns: options `(stride_h, stride_w, filter_h,
/// filter_w)`.
fn pool_model(code: i32, out: i32, (sh, sw, fh, fw): (i32, i32, i32, i32)) -> Vec<u8> {
    let options = Tab::default()
        .with(0, F::I8(0))
        .with(1, F::I32(sw))
        .with(2, F::I32(sh))
        .with(3, F::I32(fw))
        .with(4, F::I32(fh));
    ModelSpec {
        version: 3,
        codes: vec![(code as i8, code, 1)],
        tensors: vec![
            TensorSpec::int8(&[1, 4, 4, 2], 0.5, -1),
            TensorSpec::int8(&[1, out, out, 2], 0.5, -1),
        ],
        ops: vec![OpSpec {
            opcode_index: 0,
            inputs: vec![0],
            outputs: vec![1],
            options: Some((5, options)),
        }],
        inputs: vec![0],
        outputs: vec![1],
    }
    .build()
}

/// Runs a model built by `pool_model`/`conv_model` on an input of distinct values and returns its
/// output bytes; also asserts that it stayed within a small time budget (its work is bounded by
/// its tensors, whatever its window says).
fn output_of(bytes: &[u8]) -> Vec<u8> {
    let model = TfLiteModel::load(bytes).expect("loads");
    let mut arena = vec![0u8; model.arena_size().unwrap()];
    let mut interp = Interpreter::new(&model, &mut arena).unwrap();
    let input = interp.input_bytes(0).unwrap();
    for (i, b) in input.iter_mut().enumerate() {
        *b = (i as u8).wrapping_mul(37).wrapping_add(5);
    }
    let start = std::time::Instant::now();
    interp.invoke().unwrap();
    assert!(start.elapsed() < std::time::Duration::from_secs(2), "took {:?}", start.elapsed());
    interp.output_bytes(0).unwrap().to_vec()
}

/// Issue 12: the fuzzer's find, a 268,435,458-row pooling window over a 4-row input (SAME
/// padding, so the output size is consistent). TFLite's reference kernel visits only the part of
/// a window that covers the input, and so does ours: the model loads (TFLite loads it), runs in
/// time bounded by its tensors, and every window that covers the whole input gives the whole
/// input's result, the same as the smallest such window.
#[test]
fn windows_larger_than_their_input_run_in_bounded_time() {
    for code in [1, 17] {
        assert!(exercise(&pool_model(code, 4, (1, 1, 2, 2))), "the sane model runs");
        assert!(exercise(&pool_model(code, 2, (2, 2, 4, 4))), "a global window runs");
        // Over 4 rows with SAME padding, a 7-row window already covers every row at every
        // output position; any larger one must give the same bytes.
        let covering = output_of(&pool_model(code, 4, (1, 1, 7, 2)));
        for fh in [8, 1 << 20, 268_435_458] {
            assert_eq!(output_of(&pool_model(code, 4, (1, 1, fh, 2))), covering, "{fh} rows");
        }
        // A stride past the padded input: one output position (TFLite accepts it).
        for stride in [5, 1 << 20] {
            assert!(exercise(&pool_model(code, 1, (stride, stride, 2, 2))), "stride {stride}");
        }
        // Positions beyond i32 (TFLite's own position type) are refused with a typed error.
        for params in [(1, 1, i32::MAX, 2), (1, 1, 2, i32::MAX), (i32::MAX, 1, 2, 2)] {
            let e = err(&pool_model(code, if params.0 > 1 { 1 } else { 4 }, params));
            assert_eq!(e.kind, LoadErrorKind::Shapes("window parameters overflow"), "{params:?}");
        }
        // Zero and negative sizes are refused with the options.
        for params in [(0, 1, 2, 2), (1, 1, 0, 2), (1, 1, 2, -1), (i32::MIN, 1, 2, 2)] {
            let e = err(&pool_model(code, 4, params));
            assert!(matches!(e.kind, LoadErrorKind::UnsupportedOption(_)), "{params:?}: {e}");
        }
    }
}

/// The convolutions' siblings: dilations and strides past the input are valid (each tap is
/// visited once, so the work is the weights' taps per output), overflowing ones are refused, and
/// depth multipliers that disagree with the weights are refused at load.
#[test]
fn convolution_parameters_past_the_input_run_and_overflow_is_refused() {
    for (params, out) in [
        ((1, 1, 1, 1), (4, 4)),
        ((1, 1, 3, 2), (4, 4)),
        ((1, 1, 5, 1), (4, 4)),
        ((1, 1, 1, 1 << 20), (4, 4)),
        ((5, 1, 1, 1), (1, 4)),
        ((1 << 20, 1 << 20, 1, 1), (1, 1)),
    ] {
        assert!(exercise(&conv_model(out.0, out.1, params)), "{params:?}");
    }
    for (params, out) in [((1, 1, 1, i32::MAX), (4, 4)), ((i32::MAX, i32::MAX, 1, 1), (1, 1))] {
        let e = err(&conv_model(out.0, out.1, params));
        assert_eq!(e.site, Site::Operator { index: 0, name: "CONV_2D" });
        assert_eq!(e.kind, LoadErrorKind::Shapes("window parameters overflow"), "{params:?}");
    }
    // dwconv_m2_s2: DEPTHWISE_CONV_2D with depth multiplier 2 (field 3).
    let b = fixture("dwconv_m2_s2");
    for m in [1, 3, -1, i32::MAX, i32::MIN] {
        let mut patched = b.clone();
        set_option(&mut patched, 0, 3, m);
        let e = err(&patched);
        assert_eq!(e.kind, LoadErrorKind::Shapes("depth multiplier disagrees with the weights"));
    }
    let mut patched = b.clone();
    set_option(&mut patched, 0, 3, 2);
    assert!(exercise(&patched));
}

/// One CONV_2D over an int8 `[1, 4, 4, 1]` input with a 3x3 window and SAME padding, output
/// `[1, out_h, out_w, 1]`: options `(stride_h, stride_w, dilation_h, dilation_w)`.
fn conv_model(out_h: i32, out_w: i32, (sh, sw, dh, dw): (i32, i32, i32, i32)) -> Vec<u8> {
    let options = Tab::default()
        .with(0, F::I8(0))
        .with(1, F::I32(sw))
        .with(2, F::I32(sh))
        .with(4, F::I32(dw))
        .with(5, F::I32(dh));
    let weights: Vec<u8> = (0..9).map(|i| (i as i8 - 4) as u8).collect();
    ModelSpec {
        version: 3,
        codes: vec![(3, 3, 1)],
        tensors: vec![
            TensorSpec::int8(&[1, 4, 4, 1], 0.5, -1),
            TensorSpec::int8(&[1, 3, 3, 1], 0.25, 0).constant(weights),
            TensorSpec::int8(&[1, out_h, out_w, 1], 1.0, 0),
        ],
        ops: vec![OpSpec {
            opcode_index: 0,
            inputs: vec![0, 1],
            outputs: vec![2],
            options: Some((1, options)),
        }],
        inputs: vec![0],
        outputs: vec![2],
    }
    .build()
}

/// Sets 4-byte field `field` of operator `op`'s options table in place (the field must be
/// present in the file).
fn set_option(bytes: &mut [u8], op: usize, field: usize, value: i32) {
    use edge_reflex::engine::format::flatbuffer::root;
    let at = {
        let model = root(bytes).unwrap();
        let subgraph = model.vector(2, 4).unwrap().unwrap().table(0).unwrap();
        let operator = subgraph.vector(3, 4).unwrap().unwrap().table(op).unwrap();
        let options = operator.table(4).unwrap().expect("options table");
        let pos = options.pos();
        let soff = i32::from_le_bytes(bytes[pos..pos + 4].try_into().unwrap());
        let vtable = (pos as i64 - soff as i64) as usize;
        let rel = u16::from_le_bytes(bytes[vtable + 4 + 2 * field..][..2].try_into().unwrap());
        assert_ne!(rel, 0, "field {field} absent");
        pos + rel as usize
    };
    bytes[at..at + 4].copy_from_slice(&value.to_le_bytes());
}
