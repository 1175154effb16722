//! `reflex verify`: checks a bundle as a device would before activating it (structure, digest,
//! signature under `--pubkey`, the engine loads the model, its operators are built in, its plan
//! matches, its known answer is bit-exact), whatever its version. Exit 0 only for a bundle a
//! device with this key would accept.

use crate::{emit, files, keygen, Result};
use edge_reflex::engine::{Prebuilt, TfLiteModel};
use edge_reflex::update::check::check;
use edge_reflex::update::verify::verify;
use std::path::PathBuf;

/// `reflex verify` arguments.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// The bundle (`reflex pack`).
    bundle: PathBuf,
    /// The public key the device trusts (`reflex keygen`).
    #[arg(long, value_name = "FILE")]
    pubkey: PathBuf,
}

pub fn main(args: &Args) -> Result<()> {
    let path = args.bundle.display();
    let key = keygen::read_public(&args.pubkey)?;
    let bytes = files::read_model(&args.bundle)?;
    let bundle = verify(&bytes, &key).map_err(|e| format!("{path}: refused: {e}"))?;
    let refused = |e: &dyn std::fmt::Display| format!("{path}: refused: {e}");
    let model = TfLiteModel::load(bundle.model).map_err(|e| refused(&e))?;
    let mut arena_size = model.arena_size().map_err(|e| refused(&e))?;
    if let Some(plan) = bundle.plan {
        let prebuilt = Prebuilt::new(bundle.model, plan).map_err(|e| refused(&e))?;
        arena_size = arena_size.max(prebuilt.arena_size());
    }
    let mut arena = files::arena(&args.bundle, arena_size)?;
    check(&bundle, &mut arena).map_err(|e| refused(&e))?;
    emit(&format!(
        "{path}: accepted: model version {}, model {} bytes, {}, known answer bit-exact\n",
        bundle.version,
        bundle.model.len(),
        bundle.plan.map_or("no plan".to_string(), |p| format!("plan {} bytes", p.len())),
    ))
}
