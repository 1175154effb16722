//! Authenticity: the digest of a bundle's body and the Ed25519 signature of that digest, by
//! the key the device trusts.

use super::bundle::{Bundle, BundleError};
use ed25519_compact::{PublicKey, Signature};
use sha2::{Digest, Sha256};

/// Why a bundle is not authentic (or not a bundle).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum VerifyError {
    /// Not a well-formed bundle (truncated, bad magic, ...).
    Bundle(BundleError),
    /// The bundle names another signing key than the one trusted.
    WrongKey,
    /// The body's SHA-256 differs from the stated digest (corrupted bytes).
    Digest,
    /// The signature does not verify under the trusted key.
    Signature,
}

impl core::fmt::Display for VerifyError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Self::Bundle(e) => e.fmt(f),
            Self::WrongKey => f.write_str("bundle signed with another key"),
            Self::Digest => f.write_str("bundle digest mismatch (corrupted)"),
            Self::Signature => f.write_str("bad bundle signature"),
        }
    }
}

impl core::error::Error for VerifyError {}

impl From<BundleError> for VerifyError {
    fn from(e: BundleError) -> Self {
        Self::Bundle(e)
    }
}

/// The key id a bundle carries: the first 4 bytes of the SHA-256 of the public key.
pub fn key_id(key: &PublicKey) -> [u8; 4] {
    let h = Sha256::digest(key.as_ref());
    [h[0], h[1], h[2], h[3]]
}

/// Parses `bytes` and checks the digest and the signature under `key`.
pub fn verify<'b>(bytes: &'b [u8], key: &PublicKey) -> Result<Bundle<'b>, VerifyError> {
    let bundle = Bundle::parse(bytes)?;
    if bundle.key_id != key_id(key) {
        return Err(VerifyError::WrongKey);
    }
    if Sha256::digest(bundle.body).as_slice() != bundle.digest.as_slice() {
        return Err(VerifyError::Digest);
    }
    let signature = Signature::new(*bundle.signature);
    key.verify(bundle.digest, &signature).map_err(|_| VerifyError::Signature)?;
    Ok(bundle)
}
