//! What a build links follows `EDGE_REFLEX_KERNELS` (src/engine/kernels/linked.rs). CI runs this
//! file twice: in the default build (every variant) and built with `EDGE_REFLEX_KERNELS=none`
//! (references only), where every model must still give TFLite's bytes (`tests/conformance.rs`
//! runs in that build too).

use edge_reflex::engine::kernels::linked::LIST;
use edge_reflex::engine::kernels::{conv, depthwise, fully_connected, KernelVariant};
use edge_reflex::engine::{Interpreter, TfLiteModel};

fn all_linked<V: KernelVariant>(codes: core::ops::Range<u8>) -> Vec<bool> {
    codes.filter_map(|c| V::from_code(c)).map(|v| v.is_linked()).collect()
}

#[test]
fn the_build_links_what_the_list_names() {
    let fc = all_linked::<fully_connected::Variant>(0..5);
    let cv = all_linked::<conv::Variant>(0..5);
    let dw = all_linked::<depthwise::Variant>(0..3);
    match LIST {
        "" => {
            assert!(fc.iter().chain(&cv).chain(&dw).all(|&l| l), "every variant by default");
        }
        "none" => {
            // Only each family's reference (code 0).
            for family in [&fc, &cv, &dw] {
                assert!(family[0] && family[1..].iter().all(|&l| !l), "{family:?}");
            }
        }
        other => panic!("this test knows the default and `none`, not {other:?}"),
    }
}

#[test]
fn a_model_runs_whatever_its_records_ask_for() {
    // person_detect's records ask for the packed CONV_2D and DEPTHWISE_CONV_2D; in a build
    // without them the references run, with the same bytes (the goldens).
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/conformance/tflm_person_detect");
    let bytes = std::fs::read(format!("{dir}/model.tflite")).unwrap();
    let model = TfLiteModel::load(&bytes).unwrap();
    let mut arena = vec![0u8; model.arena_size().unwrap()];
    let mut interp = Interpreter::new(&model, &mut arena).unwrap();
    let used: Vec<_> = (0..model.operator_count()).filter_map(|i| interp.kernel_use(i)).collect();
    assert!(used.iter().any(|k| k.family == "depthwise" && k.dsp == "packed"), "{used:?}");
    let input = std::fs::read(format!("{dir}/samples/0/input0.bin")).unwrap();
    let expected = std::fs::read(format!("{dir}/samples/0/output0.bin")).unwrap();
    interp.input_bytes(0).unwrap().copy_from_slice(&input);
    interp.invoke().unwrap();
    assert_eq!(interp.output_bytes(0).unwrap(), &expected[..]);
}
