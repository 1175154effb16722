//! Model updates (the `update` feature): a signed bundle format, and the device side that
//! installs a bundle into NOR flash without ever leaving the device without a working model.
//!
//! * [`bundle`]: the format (documented byte by byte in `docs/updates.md`) and its checked,
//!   zero-copy parser [`Bundle::parse`].
//! * [`verify`]: SHA-256 digest and Ed25519 signature (`ed25519-compact`, `sha2`).
//! * [`check`]: the engine loads the model, its operators are built in, its plan matches, and its
//!   known-answer test is bit-exact.
//! * [`pack`]: writes a bundle (the host's `reflex pack`, and tests).
//! * [`Updater`]: on the device, over a memory-mapped [`NorFlash`](embedded_storage::nor_flash::NorFlash)
//!   ([`MappedFlash`]): two slots, a write-once state log ([`record`]), chunks with a CRC-32,
//!   trial boots that revert unless confirmed.
//!
//! It does not receive bytes (the application's transport calls [`Updater::write_chunk`]), nor
//! jump between firmware images: only the model is updated, and the firmware runs it from its
//! slot. No allocation, no panics on any input.

pub mod bundle;
pub mod check;
pub mod error;
pub mod layout;
pub mod pack;
pub mod record;
pub mod updater;
pub mod verify;

pub use bundle::{Bundle, BundleError, Operators};
pub use check::CheckError;
pub use ed25519_compact::{KeyPair, PublicKey, Seed};
pub use error::UpdateError;
pub use layout::{Layout, MappedFlash, Region};
pub use record::CRC32;
pub use updater::{Booted, Download, Installed, Updater};
pub use verify::VerifyError;
