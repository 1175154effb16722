//! Prebuilt plans: a model checked, prepared and planned before the firmware runs (in `build.rs`,
//! or once on the device after a model update), so the device runs it without the loader, the
//! validation, the float preparation or the planner.
//!
//! ```text
//! build.rs (host)                               firmware (target)
//! model.tflite ──TfLiteModel::load──▶ write() ──▶ PLAN: [u8; N] ─┐
//!                                                                  ├─▶ Prebuilt::new ──▶ Interpreter::from_plan(ARENA) ──▶ invoke()
//! model.tflite ──────────────────────include_bytes!──▶ MODEL ─────┘
//! ```
//!
//! A plan is what [`Interpreter::new`](crate::engine::Interpreter::new) writes at the start of its
//! arena — the tensor table and every operator's prepared integer parameters (multipliers, shifts,
//! clamp bounds, shapes, lookup tables, nonzero-weight lists) — behind a small header that names the
//! model it belongs to (length and FNV-1a hash) and describes the graph inputs and outputs. Stored
//! in flash, it leaves the RAM arena to the activations alone, and the firmware links none of the
//! code that made it: for a model with only FULLY_CONNECTED layers the engine's flash drops from
//! about 50 KB to a few KB (see `docs/benchmarks.md`, which measures both ways).
//!
//! The plan is checked when it is bound to its model ([`Prebuilt::new`]): its header, its own
//! checksum (FNV-1a over the plan: any damage confined to one byte is always caught, wider damage
//! with probability 1 - 2^-32), that the model bytes are the ones it was made from, that every
//! record is in bounds and that every operator it names is compiled into this build (cargo
//! features `op-*`). The records are the kernels' prepared parameters, which the kernels trust as
//! they trust the records `Interpreter::new` writes into its arena: a plan is as trusted as the
//! firmware that carries it, and the checksum is what keeps a damaged one from running. Records are
//! still read with bounds checks on every invoke, without `unsafe`.
//!
//! The plan format is private to one version of this crate ([`VERSION`]): rebuild plans when
//! upgrading (a `build.rs` does that on its own). What it does not do: compress the records, or
//! share one plan between different models.

use crate::engine::arena;
use crate::engine::error::RunError;
use crate::engine::model::kernel::Kernels;
use crate::engine::model::tensor::{DType, TensorInfo};
use crate::engine::model::TfLiteModel;
use crate::engine::ops;
use crate::engine::plan::{planner, Records};
use crate::model::{QuantParams, Shape};
use core::fmt;

/// The first four bytes of every plan.
pub const MAGIC: [u8; 4] = *b"ERPL";
/// The plan format this build reads and writes. It changes whenever an operator's record layout
/// or the meaning of a record's words changes (the history is in docs/engine.md), so a device
/// refuses a plan stored by an older engine instead of misreading it.
pub const VERSION: u32 = 8;

/// The bit a plan's version word carries on top of [`VERSION`] when the plan runs an operator in
/// place (only a build with the `in-place` feature writes such a plan; one without it refuses it
/// with [`PlanError::InPlaceNotBuilt`]). Checked once with the version, not per record: in a
/// plan known when the firmware is built, the check folds away with the version's.
pub const IN_PLACE_BIT: u32 = 1 << 31;

/// Words of the fixed header.
const HEADER_WORDS: usize = 13;
/// Words describing one graph input or output: tensor, dtype, scale bits, zero point, rank, dims.
const IO_WORDS: usize = 5 + Shape::MAX_RANK;

/// Why a plan cannot be used.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum PlanError {
    /// The bytes do not start with [`MAGIC`]: not a plan.
    NotAPlan,
    /// A plan written by another version of the engine.
    Version {
        /// The plan's format version.
        found: u32,
    },
    /// The plan was made for other model bytes (length or hash differ).
    ModelMismatch,
    /// The plan is shorter than its header says, or its records are inconsistent.
    Malformed,
    /// The plan runs an operator left out of this build (builtin code; see the `op-*` features).
    OperatorNotBuilt(i32),
    /// The plan runs operators in place (written by a build with the `in-place` feature), and
    /// this build was made without that feature.
    InPlaceNotBuilt,
}

impl fmt::Display for PlanError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            PlanError::NotAPlan => write!(f, "not an edge-reflex plan (bad magic)"),
            PlanError::Version { found } => {
                write!(f, "plan format {found}, this engine reads {VERSION}: rebuild the plan")
            }
            PlanError::ModelMismatch => write!(f, "the plan was made for other model bytes"),
            PlanError::Malformed => write!(f, "the plan is truncated or inconsistent"),
            PlanError::OperatorNotBuilt(c) => {
                write!(f, "the plan runs builtin operator {c}, which this build leaves out")
            }
            PlanError::InPlaceNotBuilt => {
                f.write_str("the plan runs operators in place: enable the `in-place` feature")
            }
        }
    }
}

impl core::error::Error for PlanError {}

/// A graph input or output as the plan describes it.
#[derive(Clone, Copy, Debug, PartialEq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct IoTensor {
    /// The tensor's index in the model.
    pub tensor: u32,
    /// Element type.
    pub dtype: DType,
    /// Per-tensor quantization (scale 0 and zero point 0 if the model gives none).
    pub quant: QuantParams,
    /// Static shape.
    pub shape: Shape,
}

/// 32-bit FNV-1a of `bytes`: identifies the model a plan belongs to and checks the plan itself
/// (not a security measure). Each step is a bijection of the 32-bit state, so a change confined to
/// one byte always changes the hash.
pub fn fnv1a(bytes: &[u8]) -> u32 {
    fnv1a_from(0x811c_9dc5, bytes)
}

fn fnv1a_from(mut h: u32, bytes: &[u8]) -> u32 {
    for &b in bytes {
        h = (h ^ b as u32).wrapping_mul(0x0100_0193);
    }
    h
}

/// Word of the header holding the plan's own checksum.
const CHECKSUM_WORD: usize = 11;

/// FNV-1a of the whole plan with its checksum word read as zero.
fn plan_checksum(plan: &[u8]) -> Option<u32> {
    let at = CHECKSUM_WORD * 4;
    let h = fnv1a_from(0x811c_9dc5, plan.get(..at)?);
    let h = fnv1a_from(h, &[0; 4]);
    Some(fnv1a_from(h, plan.get(at + 4..)?))
}

fn word(b: &[u8], i: usize) -> Result<u32, PlanError> {
    let at = i.checked_mul(4).ok_or(PlanError::Malformed)?;
    let w = b.get(at..at + 4).ok_or(PlanError::Malformed)?;
    Ok(u32::from_le_bytes([w[0], w[1], w[2], w[3]]))
}

fn dtype_code(d: DType) -> u32 {
    match d {
        DType::Int8 => 0,
        DType::Int32 => 1,
        DType::Float32 => 2,
        DType::Int64 => 3,
        DType::Int16 => 4,
    }
}

fn dtype_from(c: u32) -> Option<DType> {
    Some(match c {
        0 => DType::Int8,
        1 => DType::Int32,
        2 => DType::Float32,
        3 => DType::Int64,
        4 => DType::Int16,
        _ => return None,
    })
}

/// True if this build can run an operator record with code `c`: a builtin compiled in, or a
/// registration of `kernels`.
fn runnable(c: i32, kernels: &Kernels) -> bool {
    if c < 0 {
        return kernels.by_record_code(c).is_some();
    }
    ops::evaluates(c)
}

/// The fixed header, decoded.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Header {
    operators: usize,
    table: usize,
    records: usize,
    activations_start: usize,
    activations: usize,
    inputs: usize,
    outputs: usize,
}

impl Header {
    /// Byte offset of the tensor table in the plan.
    fn meta_start(&self) -> usize {
        (HEADER_WORDS + (self.inputs + self.outputs) * IO_WORDS) * 4
    }
}

/// A plan bound to its model, checked and ready to run in an arena.
///
/// ```
/// use edge_reflex::engine::plan::prebuilt::{self, Prebuilt};
/// use edge_reflex::engine::{Interpreter, TfLiteModel};
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// # let model_bytes = &include_bytes!(concat!(env!("CARGO_MANIFEST_DIR"),
/// #     "/tests/data/conformance/tflm_hello_world/model.tflite"))[..];
/// // What a build.rs does (engine::build::prebuilt_plan wraps it):
/// let model = TfLiteModel::load(model_bytes)?;
/// let mut work = vec![0u8; model.arena_size()?];
/// let mut plan = vec![0u8; prebuilt::plan_len(&model, &mut work)?];
/// prebuilt::write(&model, &mut work, &mut plan)?;
///
/// // What the firmware does (plan and model in flash, arena in RAM):
/// let prebuilt = Prebuilt::new(model_bytes, &plan)?;
/// let mut arena = vec![0u8; prebuilt.arena_size()];
/// let mut interpreter = Interpreter::from_plan(prebuilt, &mut arena)?;
/// interpreter.input_bytes(0).unwrap().fill(0);
/// interpreter.invoke()?;
/// assert_eq!(interpreter.output_bytes(0).map(|o| o.len()), Some(1));
/// # Ok(()) }
/// ```
#[derive(Clone, Copy, Debug)]
pub struct Prebuilt<'m, 'p> {
    model: &'m [u8],
    plan: &'p [u8],
    header: Header,
    kernels: &'static Kernels,
}

impl<'m, 'p> Prebuilt<'m, 'p> {
    /// Binds `plan` to the model bytes `model` it was written from, checking both (one pass over
    /// the model for its hash, one over the records).
    pub fn new(model: &'m [u8], plan: &'p [u8]) -> Result<Self, PlanError> {
        Self::with_kernels(model, plan, &Kernels::BUILTIN)
    }

    /// [`new`](Self::new) for a plan written from a model loaded with `kernels`
    /// ([`TfLiteModel::load_with`]): its records that name a registration run it.
    ///
    /// Errors: as [`new`](Self::new); [`PlanError::OperatorNotBuilt`] (with the negative record
    /// code) if a record names a registration `kernels` does not have.
    pub fn with_kernels(
        model: &'m [u8],
        plan: &'p [u8],
        kernels: &'static Kernels,
    ) -> Result<Self, PlanError> {
        if plan.get(..4) != Some(&MAGIC[..]) {
            return Err(PlanError::NotAPlan);
        }
        let found = word(plan, 1)?;
        // A build with the `in-place` feature runs plans with and without operators in place.
        #[cfg(feature = "in-place")]
        let found = found & !IN_PLACE_BIT;
        if found != VERSION {
            #[cfg(not(feature = "in-place"))]
            if found == VERSION | IN_PLACE_BIT {
                return Err(PlanError::InPlaceNotBuilt);
            }
            return Err(PlanError::Version { found });
        }
        if word(plan, 2)? as usize != model.len() || word(plan, 3)? != fnv1a(model) {
            return Err(PlanError::ModelMismatch);
        }
        let w = |i| word(plan, i).map(|v| v as usize);
        let header = Header {
            operators: w(4)?,
            table: w(5)?,
            records: w(6)?,
            activations_start: w(7)?,
            activations: w(8)?,
            inputs: w(9)?,
            outputs: w(10)?,
        };
        let meta_len = header.table.checked_add(header.records).ok_or(PlanError::Malformed)?;
        let io = header.inputs.checked_add(header.outputs).ok_or(PlanError::Malformed)?;
        let meta_start = io
            .checked_mul(IO_WORDS)
            .and_then(|n| n.checked_add(HEADER_WORDS))
            .and_then(|n| n.checked_mul(4))
            .ok_or(PlanError::Malformed)?;
        if meta_start.checked_add(meta_len) != Some(plan.len())
            || meta_len > header.activations_start
            || !header.table.is_multiple_of(arena::ENTRY)
            || plan_checksum(plan) != Some(word(plan, CHECKSUM_WORD)?)
        {
            return Err(PlanError::Malformed);
        }
        let prebuilt = Prebuilt { model, plan, header, kernels };
        prebuilt.check_records()?;
        for j in 0..io {
            prebuilt.io(j)?;
        }
        Ok(prebuilt)
    }

    /// Walks the records: each in bounds, each operator runnable here.
    fn check_records(&self) -> Result<(), PlanError> {
        let records = self.records().records;
        let mut pos = 0usize;
        for _ in 0..self.header.operators {
            let len = word(records.get(pos..).ok_or(PlanError::Malformed)?, 0)? as usize;
            let c = word(records.get(pos..).ok_or(PlanError::Malformed)?, 1)? as i32;
            if len < 8 {
                return Err(PlanError::Malformed);
            }
            if !runnable(c, self.kernels) {
                return Err(PlanError::OperatorNotBuilt(c));
            }
            pos =
                pos.checked_add(len).filter(|&e| e <= records.len()).ok_or(PlanError::Malformed)?;
        }
        Ok(())
    }

    /// The tensor table and operator records, as the interpreter runs them.
    pub(in crate::engine) fn records(&self) -> Records<'p> {
        let start = self.header.meta_start();
        let meta = self.plan.get(start..).unwrap_or(&[]);
        let (table, records) = meta.split_at(self.header.table.min(meta.len()));
        Records {
            table,
            records,
            operators: self.header.operators,
            base: self.header.activations_start,
            kernels: self.kernels,
        }
    }

    /// Input (`j < inputs`) or output (`j - inputs`) number `j`, decoded.
    fn io(&self, j: usize) -> Result<IoTensor, PlanError> {
        let at = HEADER_WORDS + j * IO_WORDS;
        let w = |i: usize| word(self.plan, at + i);
        let dtype = dtype_from(w(1)?).ok_or(PlanError::Malformed)?;
        let quant = QuantParams { scale: f32::from_bits(w(2)?), zero_point: w(3)? as i32 };
        let rank = w(4)? as usize;
        if rank > Shape::MAX_RANK {
            return Err(PlanError::Malformed);
        }
        let mut dims = [0u32; Shape::MAX_RANK];
        for (k, d) in dims.iter_mut().enumerate().take(rank) {
            *d = w(5 + k)?;
        }
        let shape = Shape::new(&dims[..rank]).ok_or(PlanError::Malformed)?;
        Ok(IoTensor { tensor: w(0)?, dtype, quant, shape })
    }

    /// The tensor index of input (`j < inputs`) or output (`j - inputs`) number `j`, without
    /// decoding the rest (what finding its bytes needs).
    fn io_tensor(&self, j: usize) -> Option<u32> {
        word(self.plan, HEADER_WORDS + j * IO_WORDS).ok()
    }

    /// The tensor index of graph input `j`.
    pub(in crate::engine) fn input_tensor(&self, j: usize) -> Option<u32> {
        (j < self.header.inputs).then(|| self.io_tensor(j)).flatten()
    }

    /// The tensor index of graph output `j`.
    pub(in crate::engine) fn output_tensor(&self, j: usize) -> Option<u32> {
        (j < self.header.outputs).then(|| self.io_tensor(self.header.inputs + j)).flatten()
    }

    /// Bytes of RAM arena [`Interpreter::from_plan`](crate::engine::Interpreter::from_plan)
    /// needs: the activations alone.
    pub fn arena_size(&self) -> usize {
        self.header.activations
    }

    /// Number of operators.
    pub fn operator_count(&self) -> usize {
        self.header.operators
    }

    /// Number of graph inputs.
    pub fn input_count(&self) -> usize {
        self.header.inputs
    }

    /// Number of graph outputs.
    pub fn output_count(&self) -> usize {
        self.header.outputs
    }

    /// Graph input `j`.
    pub fn input(&self, j: usize) -> Option<IoTensor> {
        (j < self.header.inputs).then(|| self.io(j).ok()).flatten()
    }

    /// Graph output `j`.
    pub fn output(&self, j: usize) -> Option<IoTensor> {
        (j < self.header.outputs).then(|| self.io(self.header.inputs + j).ok()).flatten()
    }

    /// The model bytes.
    pub fn model(&self) -> &'m [u8] {
        self.model
    }
}

/// Bytes of the plan of `model`. `work` is scratch of at least
/// [`TfLiteModel::arena_size`] bytes (the model is planned in it).
pub fn plan_len(model: &TfLiteModel<'_>, work: &mut [u8]) -> Result<usize, RunError> {
    let layout = planner::build(model, work)?;
    let io = model.input_count() + model.output_count();
    Ok((HEADER_WORDS + io * IO_WORDS) * 4 + layout.activations_start)
}

/// Writes the plan of `model` into `out` ([`plan_len`] bytes) and returns its length; `work` is
/// scratch of at least [`TfLiteModel::arena_size`] bytes. Runs on the host (see
/// `engine::build::prebuilt_plan`) or on the device, e.g. once after a model update, with the plan
/// then stored in flash.
///
/// Errors: [`RunError::ArenaTooSmall`] if `work` is too small (`needed` is the arena size) or
/// `out` is (`needed` is the plan's length).
pub fn write(model: &TfLiteModel<'_>, work: &mut [u8], out: &mut [u8]) -> Result<usize, RunError> {
    let layout = planner::build(model, work)?;
    let io_count = model.input_count() + model.output_count();
    let meta_start = (HEADER_WORDS + io_count * IO_WORDS) * 4;
    let len = meta_start + layout.activations_start;
    let available = out.len();
    let out = out.get_mut(..len).ok_or(RunError::ArenaTooSmall { needed: len, available })?;
    out.fill(0);
    let mut words = [0u32; HEADER_WORDS];
    words[0] = u32::from_le_bytes(MAGIC);
    words[1] = VERSION;
    #[cfg(feature = "in-place")]
    if runs_in_place(&work[layout.table..layout.activations_start], model.operator_count())? {
        words[1] |= IN_PLACE_BIT;
    }
    let fit = |v: usize| u32::try_from(v).map_err(|_| RunError::Internal);
    words[2] = fit(model.file().len())?;
    words[3] = fnv1a(model.file());
    words[4] = fit(model.operator_count())?;
    words[5] = fit(layout.table)?;
    words[6] = fit(layout.activations_start - layout.table)?;
    words[7] = fit(layout.activations_start)?;
    words[8] = fit(layout.activations)?;
    words[9] = fit(model.input_count())?;
    words[10] = fit(model.output_count())?;
    let mut at = 0;
    let mut put = |out: &mut [u8], v: u32| {
        out[at..at + 4].copy_from_slice(&v.to_le_bytes());
        at += 4;
    };
    for w in words {
        put(out, w);
    }
    let ios = (0..model.input_count())
        .map(|j| (model.input(j), model.input_info(j)))
        .chain((0..model.output_count()).map(|j| (model.output(j), model.output_info(j))));
    for (t, info) in ios {
        let (Some(t), Some(info)) = (t, info) else { return Err(RunError::Internal) };
        write_io(&mut put, out, t, &info);
    }
    out[meta_start..].copy_from_slice(&work[..layout.activations_start]);
    let checksum = plan_checksum(out).ok_or(RunError::Internal)?;
    out[CHECKSUM_WORD * 4..CHECKSUM_WORD * 4 + 4].copy_from_slice(&checksum.to_le_bytes());
    Ok(len)
}

/// True if one of the `operators` records in `records` runs its operator in place (the sign bit
/// of its inputs word, the fifth).
#[cfg(feature = "in-place")]
fn runs_in_place(records: &[u8], operators: usize) -> Result<bool, RunError> {
    let mut pos = 0usize;
    for _ in 0..operators {
        let at = |i: usize| records.get(pos + 4 * i..pos + 4 * i + 4).ok_or(RunError::Internal);
        let word = |i: usize| at(i).map(|b| i32::from_le_bytes([b[0], b[1], b[2], b[3]]));
        if word(4)? < 0 {
            return Ok(true);
        }
        pos += usize::try_from(word(0)?).map_err(|_| RunError::Internal)?;
    }
    Ok(false)
}

fn write_io(put: &mut impl FnMut(&mut [u8], u32), out: &mut [u8], t: u32, info: &TensorInfo<'_>) {
    let q = info.quant().unwrap_or(QuantParams { scale: 0.0, zero_point: 0 });
    let dims = info.shape.dims();
    put(out, t);
    put(out, dtype_code(info.dtype));
    put(out, q.scale.to_bits());
    put(out, q.zero_point as u32);
    put(out, dims.len() as u32);
    for k in 0..Shape::MAX_RANK {
        put(out, dims.get(k).copied().unwrap_or(0));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fnv1a_matches_the_published_test_vectors() {
        assert_eq!(fnv1a(b""), 0x811c_9dc5);
        assert_eq!(fnv1a(b"a"), 0xe40c_292c);
        assert_eq!(fnv1a(b"foobar"), 0xbf9c_f968);
    }

    #[test]
    fn dtype_codes_round_trip() {
        for d in [DType::Int8, DType::Int32, DType::Float32, DType::Int64, DType::Int16] {
            assert_eq!(dtype_from(dtype_code(d)), Some(d));
        }
        assert_eq!(dtype_from(5), None);
    }

    #[test]
    fn not_a_plan_and_other_versions_are_refused() {
        assert_eq!(Prebuilt::new(&[], b"XXXX").unwrap_err(), PlanError::NotAPlan);
        assert_eq!(Prebuilt::new(&[], b"ER").unwrap_err(), PlanError::NotAPlan);
        let mut p = [0u8; 16];
        p[..4].copy_from_slice(&MAGIC);
        p[4..8].copy_from_slice(&(VERSION + 1).to_le_bytes());
        assert_eq!(Prebuilt::new(&[], &p).unwrap_err(), PlanError::Version { found: VERSION + 1 });
        p[4..8].copy_from_slice(&VERSION.to_le_bytes());
        assert_eq!(Prebuilt::new(&[], &p).unwrap_err(), PlanError::ModelMismatch);
        p[12..16].copy_from_slice(&fnv1a(&[]).to_le_bytes());
        assert_eq!(Prebuilt::new(&[], &p).unwrap_err(), PlanError::Malformed);
    }

    /// A plan that runs an operator in place (as a build with the `in-place` feature writes it:
    /// the record's flag, the version word's bit) is refused by a build without the feature with
    /// an error naming the feature; a build with it takes the plan.
    #[test]
    fn a_plan_running_an_operator_in_place_needs_the_feature() {
        use crate::engine::model::operator::code;
        use std::{string::ToString, vec};
        let bytes = std::fs::read(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/data/conformance/tflm_micro_speech/model.tflite"
        ))
        .unwrap();
        let model = TfLiteModel::load(&bytes).unwrap();
        let mut work = vec![0u8; model.arena_size().unwrap()];
        let mut plan = vec![0u8; plan_len(&model, &mut work).unwrap()];
        write(&model, &mut work, &mut plan).unwrap();
        let header = Prebuilt::new(&bytes, &plan).unwrap().header;
        // The first CONV_2D or DEPTHWISE_CONV_2D record: flag it, and the version word.
        let mut at = header.meta_start() + header.table;
        loop {
            let w = |i: usize| word(&plan[at..], i).unwrap();
            if [code::CONV_2D, code::DEPTHWISE_CONV_2D].contains(&(w(1) as i32)) {
                break;
            }
            at += w(0) as usize;
        }
        plan[at + 19] |= 0x80;
        plan[4..8].copy_from_slice(&(VERSION | IN_PLACE_BIT).to_le_bytes());
        plan[CHECKSUM_WORD * 4..CHECKSUM_WORD * 4 + 4].fill(0);
        let checksum = fnv1a(&plan);
        plan[CHECKSUM_WORD * 4..CHECKSUM_WORD * 4 + 4].copy_from_slice(&checksum.to_le_bytes());
        let loaded = Prebuilt::new(&bytes, &plan);
        if cfg!(feature = "in-place") {
            assert!(loaded.is_ok());
        } else {
            let e = loaded.unwrap_err();
            assert_eq!(e, PlanError::InPlaceNotBuilt);
            assert!(e.to_string().contains("enable the `in-place` feature"), "{e}");
        }
    }

    /// The version word carries the in-place bit exactly when a record runs its operator in place:
    /// never without the feature; with it, on the models whose peak the planner lowers that way.
    #[test]
    fn the_version_word_says_whether_the_plan_runs_operators_in_place() {
        use std::vec;
        for (case, in_place) in [("tflm_hello_world", false), ("tflm_person_detect", true)] {
            let path = std::format!(
                "{}/tests/data/conformance/{case}/model.tflite",
                env!("CARGO_MANIFEST_DIR")
            );
            let bytes = std::fs::read(path).unwrap();
            let model = TfLiteModel::load(&bytes).unwrap();
            let mut work = vec![0u8; model.arena_size().unwrap()];
            let mut plan = vec![0u8; plan_len(&model, &mut work).unwrap()];
            write(&model, &mut work, &mut plan).unwrap();
            let expected =
                VERSION | if in_place && cfg!(feature = "in-place") { IN_PLACE_BIT } else { 0 };
            assert_eq!(word(&plan, 1).unwrap(), expected, "{case}");
            let p = Prebuilt::new(&bytes, &plan).unwrap();
            let records = p.records();
            let flagged = runs_in_place_for_tests(records.records, p.operator_count());
            assert_eq!(flagged, expected & IN_PLACE_BIT != 0, "{case}");
        }
    }

    /// Whether a record's inputs word has its sign bit (what `runs_in_place` finds), in any build.
    fn runs_in_place_for_tests(records: &[u8], operators: usize) -> bool {
        let mut pos = 0usize;
        (0..operators).any(|_| {
            let w = |i: usize| word(&records[pos..], i).unwrap();
            let flagged = (w(4) as i32) < 0;
            pos += w(0) as usize;
            flagged
        })
    }
}
