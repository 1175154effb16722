//! Bounded inference (issue 12): the cost a loaded model announces (`TfLiteModel::cost`), and
//! the mutated-parameter corpus: every operator option of the fixture models set to extreme
//! values is either refused at load with a typed error, or runs in time bounded by its
//! announced cost; nothing panics.

use edge_reflex::engine::format::flatbuffer::root;
use edge_reflex::engine::{Cost, Interpreter, TfLiteModel};
use std::time::{Duration, Instant};

fn fixture(path: &str) -> Vec<u8> {
    let p = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/");
    std::fs::read(format!("{p}{path}/model.tflite")).unwrap_or_else(|e| panic!("{path}: {e}"))
}

#[test]
fn fixture_costs_match_the_published_mac_counts() {
    // MACs as tests/data/mlperf-tiny/README.md and docs/benchmarks.md list them.
    for (path, macs) in [
        ("conformance/tflm_hello_world", 288),
        ("conformance/tflm_micro_speech", 336_000),
        ("conformance/tflm_person_detect", 7_157_888),
        ("mlperf-tiny/mlperf_kws", 2_656_768),
        ("mlperf-tiny/mlperf_vww", 7_489_664),
        ("mlperf-tiny/mlperf_ic_resnet8", 12_501_632),
        ("mlperf-tiny/mlperf_ad01", 264_192),
    ] {
        let b = fixture(path);
        let m = TfLiteModel::load(&b).unwrap();
        let cost = m.cost();
        assert_eq!(cost.macs, macs, "{path}");
        // Every operator reads or writes something, and the total is the operators' sum.
        let sum = m.operator_costs().fold(Cost::default(), |s, c| s + c.cost);
        assert_eq!(sum, cost, "{path}");
        assert_eq!(m.operator_costs().count(), m.operator_count(), "{path}");
        assert!(cost.elements > 0, "{path}");
    }
}

#[test]
fn operator_costs_follow_the_operands() {
    // hello_world: FULLY_CONNECTED 1 -> 16 -> 16 -> 1.
    let b = fixture("conformance/tflm_hello_world");
    let m = TfLiteModel::load(&b).unwrap();
    let costs: Vec<_> = m.operator_costs().map(|c| (c.index, c.code, c.cost)).collect();
    assert_eq!(
        costs,
        vec![
            // macs = out x depth; elements = input + weights + bias + output.
            (0, 9, Cost { macs: 16, elements: 1 + 16 + 16 + 16 }),
            (1, 9, Cost { macs: 256, elements: 16 + 256 + 16 + 16 }),
            (2, 9, Cost { macs: 16, elements: 16 + 16 + 1 + 1 }),
        ]
    );
    // pool_avg_max: the pooling windows are counted per output element.
    let b = fixture("conformance/pool_avg_max");
    let m = TfLiteModel::load(&b).unwrap();
    for c in m.operator_costs().filter(|c| c.code == 1 || c.code == 17) {
        let op = m.operator(c.index).unwrap();
        let out = m.tensor(op.output(0).unwrap()).unwrap().elements() as u64;
        let (edge_reflex::engine::Op::AveragePool2d(o) | edge_reflex::engine::Op::MaxPool2d(o)) =
            op.op
        else {
            unreachable!()
        };
        assert_eq!(c.cost.macs, 0);
        assert_eq!(c.cost.elements, out * (o.filter_h * o.filter_w) as u64 + out);
    }
}

/// Position and width of every scalar field present in every operator's options table.
fn option_fields(bytes: &[u8]) -> Vec<(usize, usize, usize)> {
    let rd16 = |at: usize| u16::from_le_bytes([bytes[at], bytes[at + 1]]) as usize;
    let model = root(bytes).unwrap();
    let subgraph = model.vector(2, 4).unwrap().unwrap().table(0).unwrap();
    let operators = subgraph.vector(3, 4).unwrap().unwrap();
    let mut fields = Vec::new();
    for op in 0..operators.len() {
        let Some(options) = operators.table(op).unwrap().table(4).unwrap() else { continue };
        let pos = options.pos();
        let soff = i32::from_le_bytes(bytes[pos..pos + 4].try_into().unwrap());
        let vtable = (pos as i64 - soff as i64) as usize;
        let (slots, size) = ((rd16(vtable) - 4) / 2, rd16(vtable + 2));
        let mut offsets: Vec<usize> =
            (0..slots).map(|i| rd16(vtable + 4 + 2 * i)).filter(|&o| o != 0).collect();
        offsets.sort_unstable();
        for (k, &o) in offsets.iter().enumerate() {
            // A field's width: up to the next field or the table's end, at most 4 bytes (the
            // options are scalars; vectors' offsets are patched like scalars, which the
            // loader must survive too).
            let end = offsets.get(k + 1).copied().unwrap_or(size);
            fields.push((op, pos + o, (end - o).min(4)));
        }
    }
    fields
}

/// The extreme values each option is set to.
const EXTREMES: [i64; 10] =
    [0, 1, 2, -1, 3, 127, -128, 268_435_458, i32::MAX as i64, i32::MIN as i64];

/// Wall-clock allowance per unit of announced cost, and a floor, for an unoptimized test build
/// on a loaded machine: generous, yet minutes below what a loop over an unchecked 2^31 window
/// takes.
const PER_UNIT: Duration = Duration::from_micros(2);
const FLOOR: Duration = Duration::from_millis(200);

#[test]
fn mutated_parameter_corpus_is_refused_or_bounded() {
    let cases = [
        "conformance/pool_avg_max",
        "conformance/global_mean",
        "conformance/small_cnn_kws",
        "conformance/dwconv_m1",
        "conformance/dwconv_m2_s2",
        "conformance/conv2d_dilated",
        "conformance/conv2d_s2_valid",
        "conformance/conv1d_window",
        "conformance/concat_pad",
        "conformance/reshape_flatten_cnn",
        "conformance/per_tensor_conv",
        "conformance/pruned75_conv",
        "conformance/dense_softmax",
        "conformance/fc_relu",
        "conformance/add_mul",
        "conformance/tflm_micro_speech",
        "conformance/tflm_hello_world",
        "conformance-next/avg_pool",
        "conformance-next/max_pool",
        "conformance-next/small_cnn",
        "conformance-next/per_channel_conv_dw",
        "conformance-next/conv1d_vibration",
    ];
    let (mut mutants, mut refused, mut ran) = (0, 0, 0);
    let mut slowest = (Duration::ZERO, String::new());
    for case in cases {
        let original = fixture(case);
        let base = TfLiteModel::load(&original).unwrap().cost();
        for (op, at, width) in option_fields(&original) {
            for v in EXTREMES {
                let mut b = original.clone();
                b[at..at + width].copy_from_slice(&v.to_le_bytes()[..width]);
                if b == original {
                    continue;
                }
                mutants += 1;
                let m = match TfLiteModel::load(&b) {
                    Err(e) => {
                        assert!(!e.to_string().is_empty());
                        refused += 1;
                        continue;
                    }
                    Ok(m) => m,
                };
                // Options do not change the tensors, and the cost follows the tensors (a
                // pooling window only up to its input's size).
                let cost = m.cost();
                assert_eq!(cost.macs, base.macs, "{case} op {op} @{at} = {v}");
                assert!(cost.elements <= base.elements * 64, "{case} op {op} @{at} = {v}");
                let mut arena = vec![0u8; m.arena_size().expect("a loaded model plans")];
                let mut i = Interpreter::new(&m, &mut arena).expect("a loaded model fits");
                for j in 0..m.input_count() {
                    if let Some(x) = i.input_bytes(j) {
                        x.iter_mut().enumerate().for_each(|(k, x)| *x = (k * 37) as u8);
                    }
                }
                let t = Instant::now();
                let r = i.invoke();
                let took = t.elapsed();
                assert!(r.is_ok(), "{case} op {op} @{at} = {v}: {r:?}");
                let budget = FLOOR + PER_UNIT * (cost.macs + cost.elements) as u32;
                assert!(took <= budget, "{case} op {op} @{at} = {v}: {took:?} > {budget:?}");
                if took > slowest.0 {
                    slowest = (took, format!("{case} op {op} @{at} = {v}"));
                }
                ran += 1;
            }
        }
    }
    eprintln!("{mutants} mutants: {refused} refused at load, {ran} ran; slowest {slowest:?}");
    assert!(refused > 0 && ran > 0 && mutants == refused + ran);
}
