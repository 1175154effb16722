//! Embeds every case of the fixture sets with all their samples (`EVERY_CASE`: the bit-exact cases,
//! the LSTM and the float tiers; the M4 board has room for all of them), runs the graph scenario on
//! the host (the outcome the firmware must reproduce), and provides memory.x.

include!("../common/fixtures_build.rs");

#[path = "../common/src/graph/scenario.rs"]
#[allow(dead_code)]
mod scenario;
include!("../common/graph_build.rs");

fn main() {
    provide_memory_x();
    embed_host_graph_outcomes();
    embed_fixtures(&EVERY_CASE);
}
