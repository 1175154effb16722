//! The device side: [`Updater`] streams a bundle into the inactive slot, verifies and checks it,
//! activates it as a trial, and keeps or reverts it; every step is recorded in a write-once state
//! log, so a power cut at any point leaves exactly one complete, verified model to run.
//!
//! ```text
//! begin ─▶ write_chunk … ─▶ finish ──▶ (reset) boot: trial ──▶ confirm ─▶ active
//!   ▲  (reset) resume ─┘      │ refused: discarded         └─ (reset before confirm) ─▶ reverted
//! ```

use super::bundle::{Bundle, TRAILER_LEN};
use super::check::check;
use super::error::UpdateError;
use super::layout::{record_len, Layout, MAX_WRITE};
use super::record::{Record, CRC32};
use super::verify::verify;
use ed25519_compact::PublicKey;

/// A model installed in a slot.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Installed {
    /// The slot (0 or 1).
    pub slot: u8,
    /// Its model version.
    pub version: u32,
}

/// What [`Updater::boot`] chose to run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Booted {
    /// The model to run.
    pub model: Installed,
    /// True on a trial boot: the application must [`confirm`](Updater::confirm) it, or the next
    /// boot reverts to the previous model.
    pub trial: bool,
}

/// A download in progress, as [`Updater::download`] reports it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Download {
    /// The slot it is written to.
    pub slot: u8,
    /// The announced model version.
    pub version: u32,
    /// The bundle's length.
    pub len: u32,
    /// The bytes written so far (the next chunk's offset).
    pub written: u32,
    /// False until the slot is erased (after a reset: [`Updater::resume`]).
    erased: bool,
}

/// The state, as folded from the log.
#[derive(Clone, Copy, Debug)]
struct State {
    /// The state sector holding the log (0 or 1) and its epoch.
    sector: usize,
    /// False on a blank flash: the first update starts the log.
    started: bool,
    epoch: u32,
    /// The next free record.
    next: usize,
    active: Option<Installed>,
    /// The trial, and whether its boot started.
    trial: Option<(Installed, bool)>,
    download: Option<Download>,
}

impl State {
    fn apply(&mut self, record: Record) {
        match record {
            Record::Epoch(_) => {}
            Record::Active { slot, version } => self.active = Some(Installed { slot, version }),
            Record::Begin { slot, version, len } => {
                self.download = Some(Download { slot, version, len, written: 0, erased: false })
            }
            Record::Erased => {
                if let Some(d) = &mut self.download {
                    d.erased = true;
                    d.written = 0;
                }
            }
            Record::Progress { end } => {
                if let Some(d) = self.download.as_mut().filter(|d| d.erased && end <= d.len) {
                    d.written = end;
                }
            }
            Record::Discard => self.download = None,
            Record::Trial { slot, version } => {
                self.trial = Some((Installed { slot, version }, false));
                self.download = None;
            }
            Record::Boot => {
                if let Some((_, booted)) = &mut self.trial {
                    *booted = true;
                }
            }
            Record::Confirm => {
                if let Some((t, _)) = self.trial.take() {
                    self.active = Some(t);
                }
            }
            Record::Revert => self.trial = None,
        }
    }
}

/// Records kept free for the records that end an update (trial, boot, confirm or revert).
const RESERVED: usize = 4;
/// The fewest records a state sector must hold.
const MIN_RECORDS: usize = 16;

// The updater, written once: the text below is the async form (`AsyncUpdater` over an
// `AsyncMappedFlash`, embedded-storage-async); `maybe_async_cfg` derives the blocking form
// (`Updater` over a `MappedFlash`, embedded-storage) from it by dropping `async`/`.await` and
// renaming the names listed in `idents`. Both forms write the same bytes in the same order.
#[maybe_async_cfg::maybe(
    idents(AsyncUpdater(sync = "Updater", async), AsyncMappedFlash(sync = "MappedFlash", async),),
    sync(self = "blocking"),
    async(self = "asynch")
)]
mod form {
    use super::*;
    use crate::update::layout::AsyncMappedFlash;

    /// Model updates over a memory-mapped NOR flash: two slots, a state log, trial boots.
    ///
    /// Call [`open`](Self::open) and then [`boot`](Self::boot) once per reset, before running the
    /// model it names; run the model from [`bundle`](Self::bundle). An update arrives as
    /// [`begin`](Self::begin), [`write_chunk`](Self::write_chunk)s and [`finish`](Self::finish); after
    /// a reset in the middle, [`download`](Self::download) tells what was being received and
    /// [`resume`](Self::resume) where to go on.
    ///
    /// [`Updater`] (over [`MappedFlash`](crate::update::MappedFlash)) and [`AsyncUpdater`] (over
    /// [`AsyncMappedFlash`](crate::update::AsyncMappedFlash)) are one text: the same steps,
    /// blocking or awaited.
    #[derive(Debug)]
    pub struct AsyncUpdater<F> {
        flash: F,
        layout: Layout,
        key: PublicKey,
        state: State,
    }

    impl<F: AsyncMappedFlash> AsyncUpdater<F> {
        /// Reads the state log (on a blank flash, the first [`begin`](Self::begin) starts it): reads
        /// only, so a reset during `open` is harmless. `key` is the trusted signing key.
        ///
        /// Errors: [`UpdateError::Layout`] if `layout` does not suit the flash.
        pub fn open(flash: F, layout: Layout, key: PublicKey) -> Result<Self, F> {
            if !layout.is_valid(flash.capacity(), F::ERASE_SIZE, F::WRITE_SIZE)
                || F::ERASE_SIZE / record_len(F::WRITE_SIZE) < MIN_RECORDS
            {
                return Err(UpdateError::Layout);
            }
            let empty = State {
                sector: 1,
                started: false,
                epoch: 0,
                next: 1,
                active: None,
                trial: None,
                download: None,
            };
            let mut updater = AsyncUpdater { flash, layout, key, state: empty };
            let epochs = [0, 1].map(|s| match updater.record(s, 0) {
                Some(Record::Epoch(e)) => Some(e),
                _ => None,
            });
            let current = match epochs {
                [Some(a), Some(b)] => Some(if b > a { (1, b) } else { (0, a) }),
                [Some(a), None] => Some((0, a)),
                [None, Some(b)] => Some((1, b)),
                [None, None] => None,
            };
            // A blank flash (no valid epoch): the first update starts the log (`open` only reads).
            if let Some((sector, epoch)) = current {
                updater.state.started = true;
                updater.state.sector = sector;
                updater.state.epoch = epoch;
                for i in 1..updater.capacity() {
                    if let Some(r) = updater.record(sector, i) {
                        updater.state.apply(r);
                    }
                    if !updater.is_free(sector, i) {
                        updater.state.next = i + 1;
                    }
                }
            }
            Ok(updater)
        }

        /// Gives the flash back.
        pub fn release(self) -> F {
            self.flash
        }

        /// The flash (to read it; writing outside the updater breaks its guarantees).
        pub fn flash(&self) -> &F {
            &self.flash
        }

        /// The confirmed model.
        pub fn active(&self) -> Option<Installed> {
            self.state.active
        }

        /// The model on trial, if an update was activated and not yet confirmed or reverted.
        pub fn trial(&self) -> Option<Installed> {
            self.state.trial.map(|(t, _)| t)
        }

        /// The download in progress.
        pub fn download(&self) -> Option<Download> {
            self.state.download
        }

        /// The bundle in `slot` (checked structure only; [`boot`](Self::boot) verified it).
        pub fn bundle(&self, slot: u8) -> Option<Bundle<'_>> {
            let region = self.layout.slots.get(usize::from(slot))?;
            let bytes = self.flash.mapped(region.offset, region.len as usize)?;
            Bundle::parse_prefix(bytes).ok()
        }

        /// Chooses the model to run on this reset, and records the choice. Call once per reset.
        ///
        /// A trial model runs once: if this boot is its first, it is returned as a trial (the
        /// application then [`confirm`](Self::confirm)s it); if it already booted without being
        /// confirmed, or no longer verifies, it is reverted and the previous model runs. The first
        /// model a device receives has no previous one: it stays on trial until confirmed.
        pub async fn boot(&mut self) -> Result<Booted, F> {
            if let Some((t, booted)) = self.state.trial {
                if self.verifies(t) {
                    if !booted {
                        self.append(Record::Boot).await?;
                        return Ok(Booted { model: t, trial: true });
                    }
                    // The first model has nothing to revert to: it stays on trial.
                    if self.state.active.is_none() {
                        return Ok(Booted { model: t, trial: true });
                    }
                }
                self.append(Record::Revert).await?;
            }
            match self.state.active {
                Some(a) if self.verifies(a) => Ok(Booted { model: a, trial: false }),
                Some(_) => Err(UpdateError::Corrupt),
                None => Err(UpdateError::NoModel),
            }
        }

        /// Keeps the trial model booted by [`boot`](Self::boot): it becomes the active model.
        pub async fn confirm(&mut self) -> Result<Installed, F> {
            match self.state.trial {
                Some((t, true)) => {
                    self.append(Record::Confirm).await?;
                    Ok(t)
                }
                _ => Err(UpdateError::NoTrial),
            }
        }

        /// Reverts the trial model now (the application found it wanting): the previous model is
        /// the one to run.
        pub async fn reject(&mut self) -> Result<(), F> {
            match self.state.trial {
                Some(_) => self.append(Record::Revert).await,
                None => Err(UpdateError::NoTrial),
            }
        }

        /// Starts receiving a bundle of `len` bytes announcing model version `version` into the slot
        /// that does not hold the active model, and erases what it needs of that slot. Restarts a
        /// download already in progress.
        pub async fn begin(&mut self, version: u32, len: u32) -> Result<(), F> {
            if self.state.trial.is_some() {
                return Err(UpdateError::TrialPending);
            }
            if let Some(a) = self.state.active.filter(|a| version <= a.version) {
                return Err(UpdateError::Rollback { version, active: a.version });
            }
            let slot = match self.state.active {
                Some(Installed { slot: 0, .. }) => 1,
                _ => 0,
            };
            let region = self.layout.slots[usize::from(slot)];
            if len > region.len || (len as usize) < TRAILER_LEN {
                return Err(UpdateError::Size);
            }
            if !self.state.started || self.capacity() - self.state.next < RESERVED + 4 {
                self.compact().await?;
            }
            self.append(Record::Begin { slot, version, len }).await?;
            self.erase_download().await
        }

        /// After a reset during a download: makes it ready to go on and returns the offset of the
        /// next chunk (0 if the slot had to be erased again: a chunk was cut while being written).
        /// `None` if no download is in progress (or the state log had no room left to restart it:
        /// then it is dropped, and the sender calls [`begin`](Self::begin) again).
        pub async fn resume(&mut self) -> Result<Option<u32>, F> {
            let Some(d) = self.state.download else { return Ok(None) };
            let region = self.layout.slots[usize::from(d.slot)];
            let end = round_up(d.len, F::WRITE_SIZE as u32).min(region.len);
            let clean = d.erased
                && self
                    .flash
                    .mapped(region.offset + d.written, (end - d.written.min(end)) as usize)
                    .is_some_and(|rest| rest.iter().all(|&b| b == 0xff));
            if !clean {
                if self.capacity() - self.state.next <= RESERVED {
                    // No room to record a restart: drop the download; the sender begins again.
                    self.compact().await?;
                    return Ok(None);
                }
                self.erase_download().await?;
            }
            Ok(self.state.download.map(|d| d.written))
        }

        /// Writes the chunk `data` at `offset` of the bundle; `crc` is its CRC-32
        /// ([`CRC32`]). Chunks arrive in order; each but the last is a multiple of the
        /// flash's write size.
        pub async fn write_chunk(&mut self, offset: u32, data: &[u8], crc: u32) -> Result<(), F> {
            let Some(d) = self.state.download.filter(|d| d.erased) else {
                return Err(UpdateError::NoDownload);
            };
            if offset != d.written {
                return Err(UpdateError::ChunkOffset { expected: d.written });
            }
            if CRC32.checksum(data) != crc {
                return Err(UpdateError::ChunkCrc);
            }
            let end = u32::try_from(data.len())
                .ok()
                .and_then(|n| offset.checked_add(n))
                .filter(|&e| e <= d.len)
                .ok_or(UpdateError::ChunkLength)?;
            let write = F::WRITE_SIZE;
            let whole = data.len() / write * write;
            if whole != data.len() && end != d.len {
                return Err(UpdateError::ChunkLength);
            }
            let at = self.layout.slots[usize::from(d.slot)].offset + offset;
            if whole > 0 {
                self.flash.write(at, &data[..whole]).await.map_err(UpdateError::Flash)?;
            }
            if whole != data.len() {
                let mut tail = [0xff; MAX_WRITE];
                tail[..data.len() - whole].copy_from_slice(&data[whole..]);
                self.flash
                    .write(at + whole as u32, &tail[..write])
                    .await
                    .map_err(UpdateError::Flash)?;
            }
            if self.flash.mapped(at, data.len()) != Some(data) {
                return Err(UpdateError::Readback);
            }
            if let Some(d) = &mut self.state.download {
                d.written = end;
            }
            // Progress is best effort: without room, a reset restarts the download.
            if self.capacity() - self.state.next > RESERVED {
                self.append(Record::Progress { end }).await?;
            }
            Ok(())
        }

        /// Checks the received bundle (digest, signature under the trusted key, version, the engine
        /// loads the model, its operators are built, its plan matches, its known answer is
        /// bit-exact; `arena` is scratch for that run) and activates it as a trial: the next
        /// [`boot`](Self::boot) runs it. A refused bundle is discarded.
        pub async fn finish(&mut self, arena: &mut [u8]) -> Result<Installed, F> {
            let Some(d) = self.state.download.filter(|d| d.erased) else {
                return Err(UpdateError::NoDownload);
            };
            if d.written != d.len {
                return Err(UpdateError::Incomplete);
            }
            let outcome = self.accept(d, arena);
            match outcome {
                Ok(model) => {
                    self.append(Record::Trial { slot: model.slot, version: model.version }).await?;
                    Ok(model)
                }
                Err(e) => {
                    self.append(Record::Discard).await?;
                    Err(e)
                }
            }
        }

        /// Abandons the download in progress.
        pub async fn discard(&mut self) -> Result<(), F> {
            match self.state.download {
                Some(_) if self.state.next < self.capacity() => self.append(Record::Discard).await,
                Some(_) => self.compact().await,
                None => Err(UpdateError::NoDownload),
            }
        }

        fn accept(&self, d: Download, arena: &mut [u8]) -> Result<Installed, F> {
            let region = self.layout.slots[usize::from(d.slot)];
            let bytes =
                self.flash.mapped(region.offset, d.len as usize).ok_or(UpdateError::Incomplete)?;
            let bundle = verify(bytes, &self.key)?;
            if bundle.version != d.version {
                return Err(UpdateError::VersionMismatch);
            }
            if let Some(a) = self.state.active.filter(|a| bundle.version <= a.version) {
                return Err(UpdateError::Rollback { version: bundle.version, active: a.version });
            }
            check(&bundle, arena)?;
            Ok(Installed { slot: d.slot, version: d.version })
        }

        /// Whether `model`'s slot holds an authentic bundle of its version.
        fn verifies(&self, model: Installed) -> bool {
            let Some(region) = self.layout.slots.get(usize::from(model.slot)) else { return false };
            let Some(bytes) = self.flash.mapped(region.offset, region.len as usize) else {
                return false;
            };
            Bundle::parse_prefix(bytes)
                .ok()
                .and_then(|b| verify(&bytes[..b.len()], &self.key).ok())
                .is_some_and(|b| b.version == model.version)
        }

        /// Erases the download's slot (as far as the bundle reaches) and records it.
        async fn erase_download(&mut self) -> Result<(), F> {
            let Some(d) = self.state.download else { return Err(UpdateError::NoDownload) };
            let region = self.layout.slots[usize::from(d.slot)];
            let len = round_up(d.len, F::ERASE_SIZE as u32).min(region.len);
            self.erase(region.offset, region.offset + len).await?;
            self.append(Record::Erased).await
        }

        /// Moves the log to the other state sector with only the active model in it.
        async fn compact(&mut self) -> Result<(), F> {
            let target = 1 - self.state.sector;
            let at = self.layout.state[target];
            self.erase(at, at + F::ERASE_SIZE as u32).await?;
            let mut next = 1;
            if let Some(Installed { slot, version }) = self.state.active {
                self.write_record(target, 1, Record::Active { slot, version }).await?;
                next = 2;
            }
            let epoch = self.state.epoch.wrapping_add(1);
            self.write_record(target, 0, Record::Epoch(epoch)).await?;
            self.state = State {
                sector: target,
                started: true,
                epoch,
                next,
                active: self.state.active,
                trial: None,
                download: None,
            };
            Ok(())
        }

        fn capacity(&self) -> usize {
            F::ERASE_SIZE / record_len(F::WRITE_SIZE)
        }

        fn record_at(&self, sector: usize, i: usize) -> Option<&[u8]> {
            let len = record_len(F::WRITE_SIZE);
            let at = self.layout.state[sector] as usize + i * len;
            self.flash.mapped(u32::try_from(at).ok()?, len)
        }

        fn record(&self, sector: usize, i: usize) -> Option<Record> {
            self.record_at(sector, i).and_then(Record::decode)
        }

        fn is_free(&self, sector: usize, i: usize) -> bool {
            self.record_at(sector, i).is_some_and(|r| r.iter().all(|&b| b == 0xff))
        }

        async fn write_record(&mut self, sector: usize, i: usize, record: Record) -> Result<(), F> {
            let len = record_len(F::WRITE_SIZE);
            let mut bytes = [0xff; MAX_WRITE];
            bytes[..16].copy_from_slice(&record.encode());
            let at = self.layout.state[sector] + (i * len) as u32;
            self.flash.write(at, &bytes[..len]).await.map_err(UpdateError::Flash)
        }

        /// Appends `record` to the log and applies it. The record's place is used up even if the
        /// write fails (a torn record is skipped when the log is read).
        async fn append(&mut self, record: Record) -> Result<(), F> {
            let i = self.state.next;
            if i >= self.capacity() {
                return Err(UpdateError::StateFull);
            }
            self.state.next += 1;
            self.write_record(self.state.sector, i, record).await?;
            self.state.apply(record);
            Ok(())
        }

        async fn erase(&mut self, from: u32, to: u32) -> Result<(), F> {
            self.flash.erase(from, to).await.map_err(UpdateError::Flash)
        }
    }
}

pub use asynch::AsyncUpdater;
pub use blocking::Updater;

type Result<T, F> =
    core::result::Result<T, UpdateError<<F as embedded_storage::nor_flash::ErrorType>::Error>>;

fn round_up(n: u32, to: u32) -> u32 {
    n.div_ceil(to).saturating_mul(to)
}
