//! Embeds every conformance case (the M4 board has room for all of them) and provides memory.x.

include!("../common/fixtures_build.rs");

fn main() {
    provide_memory_x();
    embed_fixtures(Select::All);
}
