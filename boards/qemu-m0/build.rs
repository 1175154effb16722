//! Embeds the conformance cases that fit the Cortex-M0 board (256 KB flash, 16 KB RAM), runs the
//! graph scenario on the host (the outcome the firmware must reproduce), and provides memory.x.
//! Every listed case must load, fit the arena and match: the list is the board's promise.

include!("../common/fixtures_build.rs");

#[path = "../common/src/graph/scenario.rs"]
#[allow(dead_code)]
mod scenario;
include!("../common/graph_build.rs");

fn main() {
    provide_memory_x();
    embed_host_graph_outcomes();
    // Every case whose arena fits the 10 KB this board lends (the largest, micro_speech, needs
    // 6.4 KB) and whose model and samples fit the flash left by the firmware, smallest first.
    // Left out: dwconv_m1, pruned75_conv, conv2d_*, pool_avg_max, concat_pad, autoencoder,
    // pruned75_fc (flash), tflm_person_detect (300 KB model, 74 KB arena). All run on qemu-m4.
    embed_fixtures(Select::Only(&[
        "tflm_hello_world",
        "fc_nobias_relu6",
        "dense_logistic",
        "dense_tanh",
        "float_io_quant_dequant",
        "dense_softmax",
        "fc_relu",
        "add_mul",
        "reshape_flatten_cnn",
        "per_tensor_conv",
        "global_mean",
        "dwconv_m2_s2",
        "conv1d_window",
        "small_cnn_kws",
        "tflm_micro_speech",
    ]));
}
