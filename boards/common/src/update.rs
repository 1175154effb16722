//! Model updates on the physical boards (feature `update`): the glue between a HAL's NOR flash
//! driver and `edge_reflex::update`, written once for every board.
//!
//! * [`Mapped`] turns a HAL flash driver (any blocking `NorFlash`) into the updater's
//!   [`MappedFlash`]: erases and writes go through the driver, reads are in place, over the
//!   memory-mapped flash, and only inside the slots and state sectors the board's `memory.x` reserves.
//! * [`ModelUpdates`] opens the [`Updater`] at reset, boots the active slot's model (or none: the
//!   firmware then runs its built-in model), confirms a trial after the first good inference, and
//!   takes an update in chunks.
//! * [`receive`] is the update task: it takes bundles from a [`BundleSource`], the application's
//!   transport (BLE, USB, UART: see [`BundleSource`]), into the inactive slot.
//!
//! Only the model is updated, never the firmware; the new model runs from the next reset on
//! (docs/updates.md). It does not reset the chip: the application decides when.

use core::cell::{Cell, RefCell};
use core::future::Future;

use edge_reflex::update::{Booted, Installed, MappedFlash, PublicKey, UpdateError, Updater};
pub use edge_reflex::update::{Layout, Region};
use embedded_storage::nor_flash::{
    ErrorType, NorFlash, NorFlashError, NorFlashErrorKind, ReadNorFlash,
};

use crate::reflex::model;

/// The trusted signing key of the physical boards' firmware as built in this repository: the
/// **test key** of `boards/qemu-update` (its seed is public, in that crate's `build.rs`), so that
/// CI-made bundles can be tried on a board. A product replaces `update-test.pub` with the public
/// key `reflex keygen` wrote, and keeps the secret off the repository.
pub fn trusted_key() -> PublicKey {
    PublicKey::new(*include_bytes!("../update-test.pub"))
}

/// An update step failed: the updater's error with the flash driver's error as its kind.
pub type UpdateFailed = UpdateError<NorFlashErrorKind>;

/// A HAL's NOR flash driver whose bytes the CPU also reads in place (internal flash, or XIP QSPI
/// flash), lending only the slots and state sectors.
pub struct Mapped<F> {
    flash: F,
    base: usize,
    layout: Layout,
}

impl<F: NorFlash> Mapped<F> {
    /// `flash` (offsets as the driver takes them), read in place at `base + offset`, lending
    /// slices only inside `layout`'s slots and state sectors (the update area of the board's
    /// `memory.x`).
    ///
    /// # Safety
    ///
    /// For the whole program, the bytes of `layout`'s slots and state sectors (each state sector
    /// `F::ERASE_SIZE` long), at `base` plus their offsets, must be flash memory-mapped for
    /// reading that holds no Rust object (the linker places nothing there) and that only `flash`
    /// writes; none of them may start at address 0.
    pub unsafe fn new(flash: F, base: usize, layout: Layout) -> Self {
        Mapped { flash, base, layout }
    }

    /// Whether `offset..end` lies inside one slot or state sector.
    fn lendable(&self, offset: u32, end: u32) -> bool {
        let [s0, s1] = self.layout.state.map(|at| Region { offset: at, len: F::ERASE_SIZE as u32 });
        [self.layout.slots[0], self.layout.slots[1], s0, s1]
            .iter()
            .any(|r| offset >= r.offset && r.end().is_some_and(|e| end <= e))
    }
}

impl<F: NorFlash> ErrorType for Mapped<F> {
    type Error = NorFlashErrorKind;
}

impl<F: NorFlash> ReadNorFlash for Mapped<F> {
    const READ_SIZE: usize = F::READ_SIZE;

    fn read(&mut self, offset: u32, bytes: &mut [u8]) -> Result<(), Self::Error> {
        self.flash.read(offset, bytes).map_err(|e| e.kind())
    }

    fn capacity(&self) -> usize {
        self.flash.capacity()
    }
}

impl<F: NorFlash> NorFlash for Mapped<F> {
    const WRITE_SIZE: usize = F::WRITE_SIZE;
    const ERASE_SIZE: usize = F::ERASE_SIZE;

    fn erase(&mut self, from: u32, to: u32) -> Result<(), Self::Error> {
        self.flash.erase(from, to).map_err(|e| e.kind())
    }

    fn write(&mut self, offset: u32, bytes: &[u8]) -> Result<(), Self::Error> {
        self.flash.write(offset, bytes).map_err(|e| e.kind())
    }
}

impl<F: NorFlash> MappedFlash for Mapped<F> {
    fn mapped(&self, offset: u32, len: usize) -> Option<&[u8]> {
        let end = offset.checked_add(u32::try_from(len).ok()?)?;
        if !self.lendable(offset, end) {
            return None;
        }
        let address = self.base.checked_add(offset as usize)?;
        // SAFETY: `new`'s contract: the slots and state sectors are memory-mapped flash holding
        // no Rust object, readable for the whole program, at non-null addresses; the range was
        // checked to lie inside one of them. Only `self.flash` writes it, through `&mut self`, so no write happens
        // while this slice (borrowing `&self`) lives.
        Some(unsafe { core::slice::from_raw_parts(address as *const u8, len) })
    }
}

/// The slot model this reset runs: its bytes stay in flash, read in place.
#[derive(Clone, Copy)]
pub struct SlotModel {
    /// The `.tflite` bytes.
    pub model: &'static [u8],
    /// Its prebuilt plan (the boards run only planned models: `reflex pack` without `--no-plan`).
    pub plan: &'static [u8],
    /// The model version the bundle was signed with.
    pub version: u32,
    /// True on a trial boot: confirmed after the first good inference, else reverted at the next
    /// reset.
    pub trial: bool,
}

/// Why an update step was not taken.
#[derive(Clone, Copy, Debug, defmt::Format)]
pub enum FeedError {
    /// Another update step is running (only one task may feed an update at a time).
    Busy,
    /// An update was activated: it runs after the next reset, and no other can start before.
    AwaitingReset,
    /// The updater refused the step (nothing was activated).
    Update(UpdateFailed),
}

impl From<UpdateFailed> for FeedError {
    fn from(e: UpdateFailed) -> Self {
        FeedError::Update(e)
    }
}

/// The updater of a board, shared by the reflex task (which confirms a trial model) and the
/// update task (which feeds bundles); one executor thread, steps never held across an `.await`.
pub struct ModelUpdates<F: NorFlash> {
    updater: RefCell<Updater<Mapped<F>>>,
    slot: Option<SlotModel>,
    booted: Option<Booted>,
    settled: Cell<bool>,
    finished: Cell<bool>,
}

impl<F: NorFlash> ModelUpdates<F> {
    /// Opens the updater over `flash` with the board's `layout` and trusted `key`, and chooses
    /// this reset's model ([`Updater::boot`]): [`slot_model`](Self::slot_model) is `None` when no
    /// update was ever installed (the firmware runs its built-in model).
    pub fn open(flash: Mapped<F>, layout: Layout, key: PublicKey) -> Result<Self, UpdateFailed> {
        let mut updater = Updater::open(flash, layout, key)?;
        let booted = match updater.boot() {
            Ok(booted) => Some(booted),
            Err(UpdateError::NoModel) => None,
            Err(e) => {
                defmt::warn!("no slot model to boot: {}", e);
                None
            }
        };
        let slot = booted.and_then(|b| {
            let bundle = updater.bundle(b.model.slot)?;
            let plan = bundle.plan?;
            // SAFETY: both slices lie in the booted slot, inside the update area that `Mapped`
            // lends (memory-mapped flash holding no Rust object, readable for the whole program).
            // That slot is never erased or written before the next reset: `Updater::begin`
            // downloads only into the slot that does not hold the active model and refuses while
            // a trial is pending, so the booted slot (active or trial) is never the download's,
            // and `begin` below checks it again; compaction erases only the state sectors.
            let model = unsafe { extend(bundle.model) };
            let plan = unsafe { extend(plan) };
            Some(SlotModel { model, plan, version: b.model.version, trial: b.trial })
        });
        // A trial that cannot run here (no plan) is reverted now rather than at the next reset.
        if slot.is_none() && booted.is_some_and(|b| b.trial) {
            if let Err(e) = updater.reject() {
                defmt::warn!("reverting the trial failed: {}", e);
            }
        }
        Ok(ModelUpdates {
            updater: RefCell::new(updater),
            slot,
            booted,
            settled: Cell::new(false),
            finished: Cell::new(false),
        })
    }

    /// The model this reset runs from its slot, if any.
    pub fn slot_model(&self) -> Option<SlotModel> {
        self.slot
    }

    /// The model booted at reset, if any (its version names the model in telemetry).
    pub fn booted(&self) -> Option<Booted> {
        self.booted
    }

    /// Called after every good inference: the first one confirms a trial model.
    pub fn inferred(&self) {
        if self.settled.replace(true) {
            return;
        }
        let Some(slot) = self.slot.filter(|s| s.trial) else { return };
        match self.updater.try_borrow_mut().map(|mut u| u.confirm()) {
            Ok(Ok(m)) => defmt::info!("model version {=u32} confirmed", m.version),
            Ok(Err(e)) => defmt::warn!("confirming model {=u32} failed: {}", slot.version, e),
            Err(_) => self.settled.set(false),
        }
    }

    /// The slot model could not run on this firmware: a trial is reverted now (the previous
    /// model runs from the next reset; this one runs the built-in model).
    pub fn refuse_slot_model(&self) {
        self.settled.set(true);
        if self.slot.is_some_and(|s| s.trial) {
            if let Ok(mut u) = self.updater.try_borrow_mut() {
                if let Err(e) = u.reject() {
                    defmt::warn!("reverting the trial failed: {}", e);
                }
            }
        }
    }

    /// Starts a download of a `len`-byte bundle announcing `version` ([`Updater::begin`]).
    pub fn begin(&self, version: u32, len: u32) -> Result<(), FeedError> {
        let mut u = self.step()?;
        u.begin(version, len)?;
        // The running model's slot must never be written during this boot (see `open`).
        let booted = self.booted.map(|b| b.model.slot);
        if u.download().map(|d| d.slot) == booted && booted.is_some() {
            u.discard()?;
            return Err(FeedError::AwaitingReset);
        }
        Ok(())
    }

    /// After a reset in the middle of a download: the download (announced version and length)
    /// and where it goes on, if it can ([`Updater::resume`]).
    pub fn resume(&self) -> Result<Option<(u32, u32, u32)>, FeedError> {
        let mut u = self.step()?;
        let Some(d) = u.download() else { return Ok(None) };
        Ok(u.resume()?.map(|at| (d.version, d.len, at)))
    }

    /// Writes one chunk ([`Updater::write_chunk`]).
    pub fn write_chunk(&self, offset: u32, data: &[u8], crc: u32) -> Result<(), FeedError> {
        Ok(self.step()?.write_chunk(offset, data, crc)?)
    }

    /// Verifies and checks the received bundle and activates it as a trial for the next reset
    /// ([`Updater::finish`]); `arena` is scratch for its known-answer run.
    pub fn finish(&self, arena: &mut [u8]) -> Result<Installed, FeedError> {
        let installed = self.step()?.finish(arena)?;
        self.finished.set(true);
        Ok(installed)
    }

    fn step(&self) -> Result<core::cell::RefMut<'_, Updater<Mapped<F>>>, FeedError> {
        if self.finished.get() {
            return Err(FeedError::AwaitingReset);
        }
        self.updater.try_borrow_mut().map_err(|_| FeedError::Busy)
    }
}

/// Lends `bytes` for the rest of the program.
///
/// # Safety
///
/// `bytes` must lie in memory that holds no Rust object and is neither freed nor written for
/// the rest of the program.
unsafe fn extend(bytes: &[u8]) -> &'static [u8] {
    // SAFETY: the caller's contract.
    unsafe { core::slice::from_raw_parts(bytes.as_ptr(), bytes.len()) }
}

/// A bundle announced by the transport.
#[derive(Clone, Copy, Debug, defmt::Format)]
pub struct Announce {
    /// The model version the bundle announces.
    pub version: u32,
    /// Its length in bytes.
    pub len: u32,
}

/// Where update bundles come from: the application's transport.
///
/// This is the hook for BLE (a GATT characteristic written in chunks), USB (a vendor or CDC
/// endpoint) or a UART: `announce` waits until a peer offers a bundle, `chunk` fetches the
/// bytes at an offset with their CRC-32 (`edge_reflex::update::CRC32`), which the peer computes,
/// so a corrupted transfer is caught per chunk. After a reset in the middle of a transfer,
/// [`receive`] asks for the chunk where the flash stands, not from 0.
pub trait BundleSource {
    /// The transport's error.
    type Error;
    /// Waits for a peer to offer a bundle.
    fn announce(&mut self) -> impl Future<Output = Result<Announce, Self::Error>>;
    /// Fills `buf` (at most [`CHUNK`] bytes, fewer only at the end of the bundle) with the
    /// bundle's bytes from `offset`; returns how many and their CRC-32.
    fn chunk(
        &mut self,
        offset: u32,
        buf: &mut [u8],
    ) -> impl Future<Output = Result<(usize, u32), Self::Error>>;
}

/// Bytes of one chunk: a multiple of every board's flash write size.
pub const CHUNK: usize = 256;

/// A board without a transport yet: never offers a bundle (replace it with the application's).
pub struct NoTransport;

impl BundleSource for NoTransport {
    type Error = core::convert::Infallible;

    async fn announce(&mut self) -> Result<Announce, Self::Error> {
        core::future::pending().await
    }

    async fn chunk(&mut self, _offset: u32, _buf: &mut [u8]) -> Result<(usize, u32), Self::Error> {
        core::future::pending().await
    }
}

/// Why [`receive`] stopped.
#[derive(Clone, Copy, Debug)]
pub enum ReceiveError<E> {
    /// The transport failed.
    Transport(E),
    /// The transport returned an empty chunk before the end of the bundle.
    EmptyChunk,
    /// The updater refused a step (nothing was activated).
    Feed(FeedError),
}

impl<E> From<FeedError> for ReceiveError<E> {
    fn from(e: FeedError) -> Self {
        ReceiveError::Feed(e)
    }
}

/// Receives one bundle from `source` into the inactive slot and activates it as a trial for the
/// next reset (the application resets when it likes). A transfer cut by a reset goes on where
/// the flash stands when the same bundle is announced again. `arena` is the known-answer run's
/// scratch: a model that needs more than it is refused, so pass the reflex's arena size.
pub async fn receive<F: NorFlash, S: BundleSource>(
    updates: &ModelUpdates<F>,
    source: &mut S,
    arena: &mut [u8],
) -> Result<Installed, ReceiveError<S::Error>> {
    let offer = source.announce().await.map_err(ReceiveError::Transport)?;
    let mut at = match updates.resume()? {
        Some((version, len, at)) if version == offer.version && len == offer.len => at,
        _ => {
            updates.begin(offer.version, offer.len)?;
            0
        }
    };
    let mut buf = [0u8; CHUNK];
    while at < offer.len {
        let want = CHUNK.min((offer.len - at) as usize);
        let (n, crc) = source.chunk(at, &mut buf[..want]).await.map_err(ReceiveError::Transport)?;
        let data = buf.get(..n).filter(|d| !d.is_empty()).ok_or(ReceiveError::EmptyChunk)?;
        updates.write_chunk(at, data, crc)?;
        at += n as u32;
    }
    Ok(updates.finish(arena)?)
}

/// The update task of the boards: takes bundles from `source` forever, logging each outcome;
/// after an activated one it waits for the application's reset (the next `announce` is refused).
pub async fn update_task<F: NorFlash, S: BundleSource>(
    updates: &ModelUpdates<F>,
    mut source: S,
) -> ! {
    // Scratch as large as the reflex's arena: a model that would not run here is refused.
    let mut arena = model::arena();
    loop {
        match receive(updates, &mut source, &mut arena.0).await {
            Ok(m) => defmt::info!(
                "model version {=u32} installed in slot {=u8}: it runs (on trial) after the next reset",
                m.version,
                m.slot
            ),
            Err(ReceiveError::Feed(e)) => defmt::warn!("update refused: {}", e),
            Err(ReceiveError::EmptyChunk) => defmt::warn!("update: empty chunk"),
            Err(ReceiveError::Transport(_)) => defmt::warn!("update: transport failed"),
        }
    }
}

impl<F: NorFlash> crate::reflex::Models for ModelUpdates<F> {
    fn slot_model(&self) -> Option<(&'static [u8], &'static [u8], u32)> {
        self.slot.map(|s| (s.model, s.plan, s.version))
    }
    fn refuse_slot_model(&self) {
        ModelUpdates::refuse_slot_model(self)
    }
    fn inferred(&self) {
        ModelUpdates::inferred(self)
    }
}

/// The physical boards' firmware with model updates: the vibration reflex
/// ([`run_vibration_reflex`](crate::reflex::run_vibration_reflex)) on the model `updates` booted
/// (the built-in one if none, or if `updates` is an error: the update area could not be opened),
/// confirming a trial model after its first good inference, beside [`update_task`] taking
/// bundles from `source`, the application's transport ([`NoTransport`] until there is one).
#[allow(clippy::too_many_arguments)]
pub async fn run_updatable_reflex<I2C, INT, LED, D, C, F, S>(
    i2c: I2C,
    int1: INT,
    led: LED,
    delay: D,
    clock: C,
    config: &crate::reflex::ReflexConfig,
    updates: Result<ModelUpdates<F>, UpdateFailed>,
    source: S,
) -> !
where
    I2C: embedded_hal_async::i2c::I2c,
    INT: embedded_hal_async::digital::Wait,
    LED: embedded_hal::digital::OutputPin,
    D: embedded_hal_async::delay::DelayNs,
    C: edge_reflex::time::Clock + Clone,
    F: NorFlash,
    S: BundleSource,
{
    use crate::reflex::run_reflex;
    match updates {
        Ok(updates) => {
            let reflex = run_reflex(i2c, int1, led, delay, clock, config, &updates);
            let updating = update_task(&updates, source);
            match embassy_futures::select::select(reflex, updating).await {
                embassy_futures::select::Either::First(never)
                | embassy_futures::select::Either::Second(never) => never,
            }
        }
        Err(e) => {
            defmt::error!("model updates unavailable ({}): the built-in model runs", e);
            crate::reflex::run_vibration_reflex(i2c, int1, led, delay, clock, config).await
        }
    }
}
