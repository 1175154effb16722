//! Embeds every bit-exact conformance case of the three fixture sets with all their samples (the M33
//! board has room for all of them), runs the graph scenario on the host (the outcome the firmware
//! must reproduce), and provides memory.x.

include!("../common/fixtures_build.rs");

#[path = "../common/src/graph/scenario.rs"]
#[allow(dead_code)]
mod scenario;
include!("../common/graph_build.rs");

fn main() {
    provide_memory_x();
    embed_host_graph_outcomes();
    embed_fixtures(&[
        FixtureSet { set: "conformance", cases: Select::All, samples: Samples::All },
        // The `core` and `extended` tiers (Select::All leaves out `float` and `stretch`).
        FixtureSet { set: "conformance-next", cases: Select::All, samples: Samples::All },
        FixtureSet { set: "mlperf-tiny", cases: Select::All, samples: Samples::All },
    ]);
}
