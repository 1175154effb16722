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
//!   trial boots that revert unless confirmed. [`AsyncUpdater`] is the same over the async
//!   flash trait ([`AsyncMappedFlash`], `embedded-storage-async`): one text, two forms.
//!
//! ```
//! use edge_reflex::engine::TfLiteModel;
//! use edge_reflex::update::{check, pack, KeyPair, Layout, Region, Seed, Updater, CRC32};
//! # use edge_reflex::update::MappedFlash;
//! # use embedded_storage::nor_flash::{ErrorType, NorFlash, NorFlashErrorKind, ReadNorFlash};
//! # struct Ram(Vec<u8>);
//! # impl ErrorType for Ram { type Error = NorFlashErrorKind; }
//! # impl ReadNorFlash for Ram {
//! #     const READ_SIZE: usize = 1;
//! #     fn read(&mut self, at: u32, b: &mut [u8]) -> Result<(), Self::Error> {
//! #         b.copy_from_slice(&self.0[at as usize..at as usize + b.len()]); Ok(())
//! #     }
//! #     fn capacity(&self) -> usize { self.0.len() }
//! # }
//! # impl NorFlash for Ram {
//! #     const WRITE_SIZE: usize = 4;
//! #     const ERASE_SIZE: usize = 1024;
//! #     fn erase(&mut self, from: u32, to: u32) -> Result<(), Self::Error> {
//! #         self.0[from as usize..to as usize].fill(0xff); Ok(())
//! #     }
//! #     fn write(&mut self, at: u32, b: &[u8]) -> Result<(), Self::Error> {
//! #         self.0[at as usize..at as usize + b.len()].copy_from_slice(b); Ok(())
//! #     }
//! # }
//! # impl MappedFlash for Ram {
//! #     fn mapped(&self, at: u32, len: usize) -> Option<&[u8]> { self.0.get(at as usize..at as usize + len) }
//! # }
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! # let model = &include_bytes!(concat!(env!("CARGO_MANIFEST_DIR"),
//! #     "/tests/data/conformance/tflm_hello_world/model.tflite"))[..];
//! // The host (what `reflex pack` does): the known answer of a zero input, signed.
//! let key = KeyPair::from_seed(Seed::new([1; 32]));
//! let loaded = TfLiteModel::load(model)?;
//! let mut arena = vec![0u8; loaded.arena_size()?];
//! let mut answer = [0u8; 1];
//! check::run_known_answer(model, None, &[0], &mut arena, &mut answer)?;
//! let parts = pack::Parts {
//!     version: 1,
//!     model,
//!     plan: None,
//!     operators: check::operators_of(&loaded)?,
//!     known_input: &[0],
//!     known_output: &answer,
//! };
//! let mut bundle = vec![0u8; pack::bundle_len(&parts)?];
//! pack::write(&parts, &key, &mut bundle)?;
//!
//! // The device: two 4 KiB slots and two state sectors in a 10 KiB flash.
//! let layout = Layout {
//!     slots: [Region { offset: 0, len: 4096 }, Region { offset: 4096, len: 4096 }],
//!     state: [8192, 9216],
//! };
//! let flash = Ram(vec![0xff; 10 * 1024]);
//! let mut updater = Updater::open(flash, layout, key.pk)?;
//! updater.begin(1, bundle.len() as u32)?;
//! for (i, chunk) in bundle.chunks(256).enumerate() {
//!     updater.write_chunk(i as u32 * 256, chunk, CRC32.checksum(chunk))?;
//! }
//! updater.finish(&mut arena)?; // verified, checked, activated as a trial
//!
//! // After the reset: boot the trial, run it from its slot, confirm it.
//! let mut updater = Updater::open(updater.release(), layout, key.pk)?;
//! let booted = updater.boot()?;
//! assert!(booted.trial);
//! let running = updater.bundle(booted.model.slot).expect("a verified bundle");
//! assert_eq!(running.model, model);
//! updater.confirm()?;
//! # Ok(()) }
//! ```
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
pub use layout::{AsyncMappedFlash, Layout, MappedFlash, Region};
pub use record::CRC32;
pub use updater::{AsyncUpdater, Booted, Download, Installed, Updater};
pub use verify::VerifyError;
