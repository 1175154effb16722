//! Why the device refused an update step.

use super::check::CheckError;
use super::verify::VerifyError;
use core::fmt;

/// Why an [`Updater`](super::Updater) step failed. Nothing is activated by a failed step: the
/// model that ran before still runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum UpdateError<E> {
    /// The flash driver failed.
    Flash(E),
    /// The [`Layout`](super::Layout) does not suit this flash (alignment, overlap, range).
    Layout,
    /// The state sector is full even after compaction (a layout with too small a sector).
    StateFull,
    /// No model is installed (a device that never completed an update).
    NoModel,
    /// The installed model no longer verifies (flash corrupted outside the updater).
    Corrupt,
    /// A trial model awaits confirmation: confirm or reject it before the next update.
    TrialPending,
    /// No trial model was booted: nothing to confirm or reject.
    NoTrial,
    /// No download is in progress (or it must be [`resume`](super::Updater::resume)d first).
    NoDownload,
    /// The bundle's model version is not higher than the active model's.
    Rollback {
        /// The offered version.
        version: u32,
        /// The active model's version.
        active: u32,
    },
    /// The bundle is larger than a slot (or smaller than any bundle).
    Size,
    /// A chunk does not start where the download stands.
    ChunkOffset {
        /// The offset the next chunk must start at.
        expected: u32,
    },
    /// A chunk's CRC-32 does not match its bytes.
    ChunkCrc,
    /// A chunk runs past the bundle's length, or is not a multiple of the flash's write size
    /// without being the last one.
    ChunkLength,
    /// A chunk's bytes did not read back from flash as written.
    Readback,
    /// Not every byte of the bundle was received.
    Incomplete,
    /// The bundle's version differs from the one announced at [`begin`](super::Updater::begin).
    VersionMismatch,
    /// The bundle is not authentic (or not a bundle).
    Verify(VerifyError),
    /// The bundle is authentic but this device cannot run it as stated.
    Check(CheckError),
}

impl<E: fmt::Debug> fmt::Display for UpdateError<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Verify(e) => e.fmt(f),
            Self::Check(e) => e.fmt(f),
            Self::Rollback { version, active } => {
                write!(f, "version {version} is not newer than the active {active}")
            }
            other => write!(f, "update refused: {other:?}"),
        }
    }
}

impl<E: fmt::Debug> core::error::Error for UpdateError<E> {}

impl<E> From<VerifyError> for UpdateError<E> {
    fn from(e: VerifyError) -> Self {
        Self::Verify(e)
    }
}

impl<E> From<CheckError> for UpdateError<E> {
    fn from(e: CheckError) -> Self {
        Self::Check(e)
    }
}
