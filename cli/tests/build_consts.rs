//! `engine::build::model_consts` (feature `build`): what a board's build.rs gets for a model.

use edge_reflex::engine::build::{model_consts, model_consts_from_bytes};
use edge_reflex::engine::TfLiteModel;
use std::path::Path;

fn fixture(name: &str) -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join(format!("../tests/data/conformance/{name}/model.tflite"))
}

#[test]
fn consts_match_the_library() {
    for name in ["tflm_hello_world", "tflm_micro_speech", "tflm_person_detect", "conv2d_dilated"] {
        let path = fixture(name);
        let bytes = std::fs::read(&path).unwrap();
        let m = TfLiteModel::load(&bytes).unwrap();
        let src = model_consts(&path).unwrap();
        let input = m.input_info(0).unwrap();
        let output = m.output_info(0).unwrap();
        for line in [
            format!("pub const ARENA_BYTES: usize = {};", m.arena_size().unwrap()),
            format!("pub const INPUT_BYTES: usize = {};", input.bytes()),
            format!("pub const INPUT_LEN: usize = {};", input.elements()),
            format!("pub const OUTPUT_BYTES: usize = {};", output.bytes()),
            format!("pub const OUTPUT_LEN: usize = {};", output.elements()),
        ] {
            assert!(src.contains(&line), "{name}: missing `{line}` in\n{src}");
        }
        assert_eq!(src.matches("pub const").count(), 5);
    }
}

#[test]
fn unusable_models_fail_the_build_with_a_message() {
    let e = model_consts(fixture("no_such_model")).unwrap_err();
    assert!(e.contains("cannot read"), "{e}");
    let e = model_consts_from_bytes(b"definitely not a model").unwrap_err();
    assert!(e.contains("not a TFLite model"), "{e}");
    let mut bytes = std::fs::read(fixture("tflm_hello_world")).unwrap();
    bytes.truncate(bytes.len() / 2);
    assert!(model_consts_from_bytes(&bytes).is_err());
}
