//! Embeds the conformance cases that fit the Cortex-M0 board (256 KB flash, 16 KB RAM) and provides
//! memory.x. Every listed case must load, fit the arena and match: the list is the board's promise.

include!("../common/fixtures_build.rs");

fn main() {
    provide_memory_x();
    embed_fixtures(Select::Only(&[
        "tflm_hello_world",
        "dense_logistic",
        "dense_softmax",
        "dense_tanh",
        "fc_nobias_relu6",
        "fc_relu",
    ]));
}
