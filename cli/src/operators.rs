//! `reflex operators`: the engine's operator table, as this build of the tool has it (every
//! family is built into the host tool; a firmware may leave some out with the `op-*` features).

use crate::{emit, json, Result};
use serde_json::{Map, Value};

/// `reflex operators` arguments.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// Print the table as JSON (one operator per line).
    #[arg(long)]
    json: bool,
}

pub fn main(args: &Args) -> Result<()> {
    let mut text = String::new();
    if !args.json {
        text.push_str("code  operator              versions  built\n");
    }
    for b in edge_reflex::engine::BUILTINS {
        if args.json {
            let mut o = Map::new();
            o.insert("code".into(), b.code.into());
            o.insert("name".into(), b.name().into());
            o.insert("max_version".into(), b.max_version.into());
            o.insert("built".into(), b.built().into());
            text.push_str(&json::line(&Value::Object(o)));
            text.push('\n');
        } else {
            let built = if b.built() { "yes" } else { "no" };
            let versions = format!("1-{}", b.max_version);
            text.push_str(&format!("{:>4}  {:<20}  {versions:<8}  {built}\n", b.code, b.name()));
        }
    }
    if !args.json {
        text.push_str(
            "CUSTOM operators run kernels the application registers (engine::Kernels).\n",
        );
    }
    emit(&text)
}
