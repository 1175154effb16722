//! Test support for the update tests: a NOR flash simulator with power-cut injection (blocking
//! and async), bundles made from the conformance fixtures, and [`Device`], which runs the
//! blocking [`Updater`] or the [`AsyncUpdater`] (on a host executor) behind one interface, so
//! every device test runs in both modes ([`in_both_modes`]).
#![allow(dead_code)]

use edge_reflex::engine::{build, Interpreter, TfLiteModel};
use edge_reflex::update::{
    pack, AsyncMappedFlash, AsyncUpdater, Booted, Download, Installed, KeyPair, Layout,
    MappedFlash, Region, Seed, UpdateError, Updater,
};
use embassy_futures::block_on;
use embedded_storage::nor_flash::{
    ErrorType, NorFlash, NorFlashError, NorFlashErrorKind, ReadNorFlash,
};
use std::cell::Cell;

/// Write granularity of the simulated flash.
pub const WRITE: usize = 8;
/// Erase granularity of the simulated flash.
pub const ERASE: usize = 1024;
/// Bytes of one model slot.
pub const SLOT: u32 = 8 * ERASE as u32;

/// The layout the tests use: slots at 0 and 8 KiB, state sectors after them.
pub const LAYOUT: Layout = Layout {
    slots: [Region { offset: 0, len: SLOT }, Region { offset: SLOT, len: SLOT }],
    state: [2 * SLOT, 2 * SLOT + ERASE as u32],
};
/// Bytes of the simulated flash.
pub const CAPACITY: usize = 2 * SLOT as usize + 2 * ERASE;

/// Why a simulated flash operation failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SimError {
    /// Out of range.
    OutOfBounds,
    /// Not aligned to the write or erase size.
    NotAligned,
    /// A write over bytes not erased (strict flash with ECC refuses double programming).
    NotErased,
    /// The power was cut: this and every later operation fail until the "reboot".
    PowerCut,
}

impl NorFlashError for SimError {
    fn kind(&self) -> NorFlashErrorKind {
        match self {
            SimError::OutOfBounds => NorFlashErrorKind::OutOfBounds,
            SimError::NotAligned => NorFlashErrorKind::NotAligned,
            _ => NorFlashErrorKind::Other,
        }
    }
}

/// A NOR flash in memory: erase sets bytes to 0xff by sector, writes only clear bits and are
/// refused over bytes not erased. `cut_at = Some(k)` cuts the power at the k-th operation
/// (erase of one sector, or one write call): with `torn`, that operation is half done (half the
/// sector erased, half the bytes written), else not at all.
#[derive(Clone, Debug)]
pub struct SimFlash {
    /// The contents.
    pub mem: Vec<u8>,
    /// The operation at which the power is cut.
    pub cut_at: Option<u64>,
    /// Whether the cut operation is half done.
    pub torn: bool,
    /// Operations (sector erases and write calls) so far.
    pub ops: u64,
    /// Whether the power was cut.
    pub dead: bool,
}

impl SimFlash {
    /// A blank (erased) flash.
    pub fn new() -> Self {
        Self::from_mem(vec![0xff; CAPACITY])
    }

    /// A flash holding `mem`, powered (a reboot).
    pub fn from_mem(mem: Vec<u8>) -> Self {
        SimFlash { mem, cut_at: None, torn: false, ops: 0, dead: false }
    }

    /// Counts an operation; true if the power is cut now.
    fn cut(&mut self) -> bool {
        if self.dead {
            return true;
        }
        let now = self.ops;
        self.ops += 1;
        if self.cut_at == Some(now) {
            self.dead = true;
        }
        self.dead
    }
}

impl ErrorType for SimFlash {
    type Error = SimError;
}

impl ReadNorFlash for SimFlash {
    const READ_SIZE: usize = 1;

    fn read(&mut self, offset: u32, bytes: &mut [u8]) -> Result<(), SimError> {
        let at = offset as usize;
        let src = self.mem.get(at..at + bytes.len()).ok_or(SimError::OutOfBounds)?;
        bytes.copy_from_slice(src);
        Ok(())
    }

    fn capacity(&self) -> usize {
        self.mem.len()
    }
}

impl NorFlash for SimFlash {
    const WRITE_SIZE: usize = WRITE;
    const ERASE_SIZE: usize = ERASE;

    fn erase(&mut self, from: u32, to: u32) -> Result<(), SimError> {
        let (from, to) = (from as usize, to as usize);
        if !from.is_multiple_of(ERASE) || !to.is_multiple_of(ERASE) || from > to {
            return Err(SimError::NotAligned);
        }
        if to > self.mem.len() {
            return Err(SimError::OutOfBounds);
        }
        for sector in (from..to).step_by(ERASE) {
            let first_cut = !self.dead;
            if self.cut() {
                if self.torn && first_cut {
                    self.mem[sector..sector + ERASE / 2].fill(0xff);
                }
                return Err(SimError::PowerCut);
            }
            self.mem[sector..sector + ERASE].fill(0xff);
        }
        Ok(())
    }

    fn write(&mut self, offset: u32, bytes: &[u8]) -> Result<(), SimError> {
        let at = offset as usize;
        if !at.is_multiple_of(WRITE) || !bytes.len().is_multiple_of(WRITE) {
            return Err(SimError::NotAligned);
        }
        let dst = self.mem.get(at..at + bytes.len()).ok_or(SimError::OutOfBounds)?;
        if dst.iter().any(|&b| b != 0xff) {
            return Err(SimError::NotErased);
        }
        let first_cut = !self.dead;
        if self.cut() {
            if self.torn && first_cut {
                let half = bytes.len() / 2;
                for (d, s) in self.mem[at..at + half].iter_mut().zip(bytes) {
                    *d &= s;
                }
            }
            return Err(SimError::PowerCut);
        }
        for (d, s) in self.mem[at..at + bytes.len()].iter_mut().zip(bytes) {
            *d &= s;
        }
        Ok(())
    }
}

impl MappedFlash for SimFlash {
    fn mapped(&self, offset: u32, len: usize) -> Option<&[u8]> {
        let at = offset as usize;
        self.mem.get(at..at.checked_add(len)?)
    }
}

// The async traits: the same simulator (each operation completes at its first poll).
impl embedded_storage_async::nor_flash::ReadNorFlash for SimFlash {
    const READ_SIZE: usize = 1;

    async fn read(&mut self, offset: u32, bytes: &mut [u8]) -> Result<(), SimError> {
        ReadNorFlash::read(self, offset, bytes)
    }

    fn capacity(&self) -> usize {
        self.mem.len()
    }
}

impl embedded_storage_async::nor_flash::NorFlash for SimFlash {
    const WRITE_SIZE: usize = WRITE;
    const ERASE_SIZE: usize = ERASE;

    async fn erase(&mut self, from: u32, to: u32) -> Result<(), SimError> {
        NorFlash::erase(self, from, to)
    }

    async fn write(&mut self, offset: u32, bytes: &[u8]) -> Result<(), SimError> {
        NorFlash::write(self, offset, bytes)
    }
}

impl AsyncMappedFlash for SimFlash {
    fn mapped(&self, offset: u32, len: usize) -> Option<&[u8]> {
        MappedFlash::mapped(self, offset, len)
    }
}

/// Which form of the updater a test drives.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// [`Updater`] over the blocking flash traits.
    Blocking,
    /// [`AsyncUpdater`] over the async flash traits, run by `embassy_futures::block_on`.
    Async,
}

thread_local! {
    /// The mode [`open`] uses on this thread (each test runs on its own thread).
    static MODE: Cell<Mode> = const { Cell::new(Mode::Blocking) };
}

/// Runs `test` twice, first with the blocking updater, then with the async one: every
/// [`open`] inside it opens a [`Device`] of that mode. Returns what each run returned.
pub fn in_both_modes<T>(test: impl Fn() -> T) -> [T; 2] {
    [Mode::Blocking, Mode::Async].map(|mode| {
        MODE.with(|m| m.set(mode));
        let out = test();
        MODE.with(|m| m.set(Mode::Blocking));
        out
    })
}

/// The mode [`open`] uses now.
pub fn mode() -> Mode {
    MODE.with(|m| m.get())
}

/// An updater of either form over the simulator: the same calls, blocking.
#[derive(Debug)]
pub enum Device {
    /// The blocking form.
    Blocking(Updater<SimFlash>),
    /// The async form.
    Async(AsyncUpdater<SimFlash>),
}

/// Calls `$method` on either form (awaited to completion for the async one).
macro_rules! both {
    ($self:ident, $method:ident ( $($arg:expr),* )) => {
        match $self {
            Device::Blocking(u) => u.$method($($arg),*),
            Device::Async(u) => block_on(u.$method($($arg),*)),
        }
    };
}

/// Calls a non-async `$method` on either form.
macro_rules! either {
    ($self:ident, $method:ident ( $($arg:expr),* )) => {
        match $self {
            Device::Blocking(u) => u.$method($($arg),*),
            Device::Async(u) => u.$method($($arg),*),
        }
    };
}

/// What the updater's steps return.
pub type Outcome<T> = Result<T, UpdateError<SimError>>;

impl Device {
    /// Opens the updater of mode `mode` on `flash` with `layout` and the trusted key `key`.
    pub fn open_with(
        mode: Mode,
        flash: SimFlash,
        layout: Layout,
        key: edge_reflex::update::PublicKey,
    ) -> Outcome<Device> {
        Ok(match mode {
            Mode::Blocking => Device::Blocking(Updater::open(flash, layout, key)?),
            Mode::Async => Device::Async(AsyncUpdater::open(flash, layout, key)?),
        })
    }

    /// [`Updater::release`].
    pub fn release(self) -> SimFlash {
        either!(self, release())
    }
    /// [`Updater::flash`].
    pub fn flash(&self) -> &SimFlash {
        either!(self, flash())
    }
    /// [`Updater::active`].
    pub fn active(&self) -> Option<Installed> {
        either!(self, active())
    }
    /// [`Updater::trial`].
    pub fn trial(&self) -> Option<Installed> {
        either!(self, trial())
    }
    /// [`Updater::download`].
    pub fn download(&self) -> Option<Download> {
        either!(self, download())
    }
    /// [`Updater::bundle`].
    pub fn bundle(&self, slot: u8) -> Option<edge_reflex::update::Bundle<'_>> {
        either!(self, bundle(slot))
    }
    /// [`Updater::boot`].
    pub fn boot(&mut self) -> Outcome<Booted> {
        both!(self, boot())
    }
    /// [`Updater::confirm`].
    pub fn confirm(&mut self) -> Outcome<Installed> {
        both!(self, confirm())
    }
    /// [`Updater::reject`].
    pub fn reject(&mut self) -> Outcome<()> {
        both!(self, reject())
    }
    /// [`Updater::begin`].
    pub fn begin(&mut self, version: u32, len: u32) -> Outcome<()> {
        both!(self, begin(version, len))
    }
    /// [`Updater::resume`].
    pub fn resume(&mut self) -> Outcome<Option<u32>> {
        both!(self, resume())
    }
    /// [`Updater::write_chunk`].
    pub fn write_chunk(&mut self, offset: u32, data: &[u8], crc: u32) -> Outcome<()> {
        both!(self, write_chunk(offset, data, crc))
    }
    /// [`Updater::finish`].
    pub fn finish(&mut self, arena: &mut [u8]) -> Outcome<Installed> {
        both!(self, finish(arena))
    }
    /// [`Updater::discard`].
    pub fn discard(&mut self) -> Outcome<()> {
        both!(self, discard())
    }
}

/// The signing key of the tests (a fixed seed).
pub fn key() -> KeyPair {
    KeyPair::from_seed(Seed::new([7; 32]))
}

/// Another key.
pub fn other_key() -> KeyPair {
    KeyPair::from_seed(Seed::new([9; 32]))
}

/// The bytes of conformance fixture `case`'s model.
pub fn model(case: &str) -> Vec<u8> {
    let path = format!("{}/tests/data/conformance/{case}/model.tflite", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// Model A of the tests.
pub const A: &str = "tflm_hello_world";
/// Model B of the tests.
pub const B: &str = "dense_softmax";

/// The known answer of `model_bytes` for `input`: every output's bytes.
pub fn known_output(model_bytes: &[u8], input: &[u8]) -> Vec<u8> {
    let model = TfLiteModel::load(model_bytes).unwrap();
    let mut arena = vec![0u8; model.arena_size().unwrap()];
    let mut out = vec![0u8; 4096];
    let n = edge_reflex::update::check::run_known_answer(
        model_bytes,
        None,
        input,
        &mut arena,
        &mut out,
    )
    .unwrap();
    out.truncate(n);
    out
}

/// The zero-point input of `model_bytes` (every input byte 0... as raw zeros).
pub fn zero_input(model_bytes: &[u8]) -> Vec<u8> {
    let model = TfLiteModel::load(model_bytes).unwrap();
    let mut arena = vec![0u8; model.arena_size().unwrap()];
    let mut interpreter = Interpreter::new(&model, &mut arena).unwrap();
    let n: usize =
        (0..interpreter.input_count()).map(|j| interpreter.input_bytes(j).unwrap().len()).sum();
    vec![0; n]
}

/// The parts of a bundle of fixture `case` at `version`, with its plan if `plan`.
pub struct Made {
    /// The model bytes.
    pub model: Vec<u8>,
    /// The plan, if any.
    pub plan: Option<Vec<u8>>,
    /// The known-answer input.
    pub input: Vec<u8>,
    /// The known-answer output.
    pub output: Vec<u8>,
    /// The version.
    pub version: u32,
}

impl Made {
    /// The parts of fixture `case`'s bundle.
    pub fn new(case: &str, version: u32, plan: bool) -> Made {
        let model = model(case);
        let input = zero_input(&model);
        let output = known_output(&model, &input);
        let plan = plan.then(|| build::plan_from_bytes(&model).unwrap());
        Made { model, plan, input, output, version }
    }

    /// The bundle, signed with `key`.
    pub fn sign(&self, key: &KeyPair) -> Vec<u8> {
        // A model the engine refuses (a test of refusals) lists no operators.
        let operators = TfLiteModel::load(&self.model)
            .map(|m| edge_reflex::update::check::operators_of(&m).unwrap())
            .unwrap_or_default();
        let parts = pack::Parts {
            version: self.version,
            model: &self.model,
            plan: self.plan.as_deref(),
            operators,
            known_input: &self.input,
            known_output: &self.output,
        };
        let mut out = vec![0u8; pack::bundle_len(&parts).unwrap()];
        let n = pack::write(&parts, key, &mut out).unwrap();
        assert_eq!(n, out.len());
        out
    }
}

/// The bundle of fixture `case` at `version` (with a plan), signed with the tests' key.
pub fn bundle(case: &str, version: u32) -> Vec<u8> {
    Made::new(case, version, true).sign(&key())
}

/// A scratch arena large enough for the fixtures.
pub fn arena() -> Vec<u8> {
    vec![0u8; 64 * 1024]
}

/// Bytes per chunk the tests send.
pub const CHUNK: usize = 256;

/// Sends `bundle` from `offset` on, in [`CHUNK`]-byte chunks with their CRC.
pub fn send(
    updater: &mut Device,
    bundle: &[u8],
    offset: u32,
) -> Result<(), edge_reflex::update::UpdateError<SimError>> {
    for (i, chunk) in bundle[offset as usize..].chunks(CHUNK).enumerate() {
        let at = offset + (i * CHUNK) as u32;
        updater.write_chunk(at, chunk, edge_reflex::update::CRC32.checksum(chunk))?;
    }
    Ok(())
}

/// Opens the updater on `flash` with the tests' layout and key, in the current [`mode`].
pub fn open(flash: SimFlash) -> Outcome<Device> {
    Device::open_with(mode(), flash, LAYOUT, key().pk)
}

/// A full update to `bundle` (version `version`): begin, chunks, finish, reboot into the trial,
/// confirm. Returns the updater after the confirmation.
pub fn install(updater: Device, bundle: &[u8], version: u32) -> Outcome<Device> {
    let mut u = updater;
    u.begin(version, bundle.len() as u32)?;
    send(&mut u, bundle, 0)?;
    u.finish(&mut arena())?;
    let mut u = open(u.release())?;
    let booted = u.boot()?;
    assert!(booted.trial);
    u.confirm()?;
    Ok(u)
}
