//! `reflex keygen`: makes the Ed25519 key pair that signs model updates. The secret key file
//! holds the 32-byte seed, the public key file the 32-byte public key (what a firmware embeds,
//! e.g. with `include_bytes!`). Neither file is overwritten.

use crate::{emit, Result};
use ed25519_compact::{KeyPair, Seed};
use edge_reflex::update::verify::key_id;
use std::io::Write;
use std::path::{Path, PathBuf};

/// `reflex keygen` arguments.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// Where to write the secret key (32 bytes; created, never overwritten; mode 0600 on Unix).
    #[arg(long, value_name = "FILE")]
    secret: PathBuf,
    /// Where to write the public key (32 bytes; created, never overwritten).
    #[arg(long, value_name = "FILE")]
    public: PathBuf,
}

/// Creates `path` (which must not exist) holding `bytes`; `private` restricts it to its owner.
fn create(path: &Path, bytes: &[u8], private: bool) -> Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    if private {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    #[cfg(not(unix))]
    let _ = private;
    let name = path.display();
    let mut file = options.open(path).map_err(|e| format!("{name}: {e}"))?;
    file.write_all(bytes).and_then(|()| file.sync_all()).map_err(|e| format!("{name}: {e}").into())
}

pub fn main(args: &Args) -> Result<()> {
    if args.secret == args.public {
        return Err("--secret and --public name the same file".into());
    }
    for path in [&args.secret, &args.public] {
        if path.exists() {
            return Err(format!(
                "{}: exists: refused (keys are never overwritten)",
                path.display()
            )
            .into());
        }
    }
    let seed = Seed::generate();
    let pair = KeyPair::from_seed(seed);
    create(&args.secret, seed.as_ref(), true)?;
    create(&args.public, pair.pk.as_ref(), false)?;
    let id: String = key_id(&pair.pk).iter().map(|b| format!("{b:02x}")).collect();
    emit(&format!(
        "{}: secret key; {}: public key (key id {id})\n",
        args.secret.display(),
        args.public.display()
    ))
}

/// Reads the secret key (seed) at `path`.
pub fn read_secret(path: &Path) -> Result<KeyPair> {
    let seed = crate::files::read_tensor(path, Seed::BYTES, "secret key")?;
    let seed = Seed::from_slice(&seed).map_err(|e| format!("{}: {e}", path.display()))?;
    Ok(KeyPair::from_seed(seed))
}

/// Reads the public key at `path`.
pub fn read_public(path: &Path) -> Result<ed25519_compact::PublicKey> {
    let key = crate::files::read_tensor(path, ed25519_compact::PublicKey::BYTES, "public key")?;
    ed25519_compact::PublicKey::from_slice(&key)
        .map_err(|e| format!("{}: {e}", path.display()).into())
}
