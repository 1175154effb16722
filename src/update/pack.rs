//! Writing a bundle: the host side (`reflex pack`), and tests. No allocation: the caller lends
//! the output buffer, sized with [`bundle_len`].

use super::bundle::{self, Lengths, Operators, DIGEST_LEN, HEADER_LEN};
use super::verify::key_id;
use ed25519_compact::{KeyPair, Noise};
use sha2::{Digest, Sha256};

/// What goes into a bundle.
#[derive(Clone, Copy, Debug)]
pub struct Parts<'a> {
    /// The model version (must be higher than the device's).
    pub version: u32,
    /// The `.tflite` model.
    pub model: &'a [u8],
    /// Its prebuilt plan, if any.
    pub plan: Option<&'a [u8]>,
    /// The builtin operators the model uses (see [`operators_of`](super::check::operators_of)).
    pub operators: Operators,
    /// The known-answer input (every model input's bytes, in order).
    pub known_input: &'a [u8],
    /// The model's output for it (every output's bytes, in order).
    pub known_output: &'a [u8],
}

/// Why a bundle could not be written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum PackError {
    /// A section is longer than 4 GiB, or the bundle longer than memory.
    TooLarge,
    /// The output buffer is shorter than [`bundle_len`] (the bytes needed).
    BufferTooSmall(usize),
}

impl core::fmt::Display for PackError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Self::TooLarge => f.write_str("a bundle section is too large"),
            Self::BufferTooSmall(n) => write!(f, "the bundle needs {n} bytes"),
        }
    }
}

impl core::error::Error for PackError {}

fn lengths(parts: &Parts<'_>) -> Lengths {
    Lengths {
        model: parts.model.len(),
        plan: parts.plan.map_or(0, <[u8]>::len),
        known_input: parts.known_input.len(),
        known_output: parts.known_output.len(),
    }
}

/// Bytes of the bundle of `parts`.
pub fn bundle_len(parts: &Parts<'_>) -> Result<usize, PackError> {
    lengths(parts)
        .body()
        .and_then(|n| n.checked_add(bundle::TRAILER_LEN))
        .ok_or(PackError::TooLarge)
}

fn le32(n: usize) -> Result<[u8; 4], PackError> {
    u32::try_from(n).map(u32::to_le_bytes).map_err(|_| PackError::TooLarge)
}

/// Writes the bundle of `parts` signed with `key` into `out` and returns its length. The
/// signature is deterministic (no noise), so the same parts and key give the same bytes.
pub fn write(parts: &Parts<'_>, key: &KeyPair, out: &mut [u8]) -> Result<usize, PackError> {
    let total = bundle_len(parts)?;
    let out = out.get_mut(..total).ok_or(PackError::BufferTooSmall(total))?;
    out.fill(0);
    let l = lengths(parts);
    out[..4].copy_from_slice(&bundle::MAGIC);
    out[4..6].copy_from_slice(&bundle::FORMAT_VERSION.to_le_bytes());
    out[6..8].copy_from_slice(&(HEADER_LEN as u16).to_le_bytes());
    out[8..12].copy_from_slice(&parts.version.to_le_bytes());
    out[12..16].copy_from_slice(&le32(l.model)?);
    out[16..20].copy_from_slice(&le32(l.plan)?);
    out[20..24].copy_from_slice(&le32(l.known_input)?);
    out[24..28].copy_from_slice(&le32(l.known_output)?);
    out[28..32].copy_from_slice(&key_id(&key.pk));
    out[32..64].copy_from_slice(&parts.operators.0);
    let mut at = HEADER_LEN;
    let sections = [parts.model, parts.plan.unwrap_or(&[]), parts.known_input, parts.known_output];
    for s in sections {
        out[at..at + s.len()].copy_from_slice(s);
        at += bundle::padded(s.len()).ok_or(PackError::TooLarge)?;
    }
    let digest = Sha256::digest(&out[..at]);
    out[at..at + DIGEST_LEN].copy_from_slice(&digest);
    let signature = key.sk.sign(digest, None::<Noise>);
    out[at + DIGEST_LEN..total].copy_from_slice(signature.as_ref());
    Ok(total)
}
