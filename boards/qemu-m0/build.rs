//! Embeds the conformance cases that fit the Cortex-M0 board (256 KB flash, 16 KB RAM), runs the
//! graph scenario on the host (the outcome the firmware must reproduce), and provides memory.x.
//! Every listed case must load, fit the arena and match: the list is the board's promise. All
//! cases and samples of every set run on qemu-m4.

include!("../common/fixtures_build.rs");

#[path = "../common/src/graph/scenario.rs"]
#[allow(dead_code)]
mod scenario;
include!("../common/graph_build.rs");

fn main() {
    provide_memory_x();
    embed_host_graph_outcomes();
    // The firmware's code leaves about 110 KB of the 256 KB flash to fixtures, so every case embeds
    // its first 3 samples (in conformance-next those are the edges: all -128, all 127, all zero
    // point; all samples run on qemu-m4 and on the host). Every case here fits the 7 KB
    // arena this board lends (the largest, micro_speech, needs 6.4 KB).
    const SAMPLES: Samples = Samples::First(3);
    // conformance: left out for flash are dwconv_m1, pruned75_conv, conv2d_*, pool_avg_max,
    // concat_pad, autoencoder, pruned75_fc; tflm_person_detect needs a 300 KB model and a 74 KB arena.
    embed_fixtures(&[
        FixtureSet {
            set: "conformance",
            cases: Select::Only(&[
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
            ]),
            samples: SAMPLES,
        },
        // conformance-next, core tier: one case per operator family the list above does not
        // already cover, as long as some flash stays free for the code to grow (the board builds
        // without `op-lstm`). Left out for flash (model + 4 samples, measured when this board
        // embedded four): fc_bias_relu 3.3 KB and conv2d_s2_same 3.2 KB (their
        // operators run above), avg_pool 6.3 KB, conv1d_vibration 5.8 KB, conv2d_s1_same_relu
        // 6.2 KB, conv2d_s2_valid_relu6 5.0 KB, per_channel_conv_dw 4.7 KB, per_tensor_conv_dw
        // 4.4 KB, small_cnn 7.4 KB, autoencoder_vibration 11.7 KB, dynamic_batch_flatten
        // (extended) 9.4 KB;
        // tflm_simple_add needs a 48 KB arena (16 KB of RAM) and 192 KB of samples. mlperf-tiny:
        // none fits (models 53-333 KB, arenas 27-133 KB).
        FixtureSet {
            set: "conformance-next",
            cases: Select::Only(&[
                "logistic_exhaustive",
                "tanh_exhaustive",
                "mul_add_broadcast",
                "quant_dequant_float_io",
                "fc_act_concat",
                "max_pool",
            ]),
            samples: SAMPLES,
        },
    ]);
}
