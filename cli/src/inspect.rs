//! `reflex inspect`: operators (with their options), tensors, totals and the memory plan of a
//! model (arena parts, and the bytes live at each operator step), as a table or as JSON
//! (`--json`); with `--profile`, the host time of each operator.

use crate::options::{options, options_text};
use crate::run::{build_kind, duration, fill, read_inputs, shape, zero_inputs};
use crate::{emit, files, json, Result};
use edge_reflex::engine::arena::Location;
use edge_reflex::engine::plan::planner::{operator_scratch_bytes, scratch_bytes, tensor_lifetime};
use edge_reflex::engine::{Interpreter, Layout, OperatorInfo, Profiler, TensorInfo, TfLiteModel};
use serde_json::{Map, Value};
use std::collections::BTreeMap;
use std::fmt::Write;
use std::path::PathBuf;
use std::time::{Duration, Instant};

/// `reflex inspect` arguments.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// The model (`.tflite`, at most 16 MiB).
    model: PathBuf,
    /// Print everything as JSON (one operator, tensor or step per line).
    #[arg(long)]
    json: bool,
    /// Show tensor names whole (by default a name longer than 32 characters is cut, keeping
    /// its end).
    #[arg(long)]
    wide: bool,
    /// Also run the model on this computer and report each operator's time (host wall-clock,
    /// not the time on a device).
    #[arg(long)]
    profile: bool,
    /// With --profile: raw bytes of each model input, in order (default: every input at real
    /// zero).
    #[arg(short, long = "input", value_name = "FILE", requires = "profile")]
    inputs: Vec<PathBuf>,
    /// With --profile: inferences to average.
    #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u32).range(1..))]
    repeat: u32,
    /// Print only the kernel variants the model's operators use, as the line a firmware build
    /// takes (`EDGE_REFLEX_KERNELS=family:variant,...`: only those variants are linked).
    #[arg(long, conflicts_with_all = ["json", "profile", "wide"])]
    kernels: bool,
}

/// Width of the name column of the tensor table without `--wide`.
const NAME_WIDTH: usize = 32;
/// Width of the bars of the memory timeline.
const BAR_WIDTH: usize = 30;

/// Everything `inspect` reports about one tensor.
struct TensorRow<'m> {
    info: TensorInfo<'m>,
    location: Location,
    lifetime: Option<(u32, u32)>,
}

/// The memory in use while one operator runs.
struct Step {
    /// Distinct tensor buffers alive in the arena.
    tensors: usize,
    /// Their bytes.
    tensor_bytes: usize,
    /// The operator's own scratch bytes.
    scratch: usize,
}

impl Step {
    fn live(&self) -> usize {
        self.tensor_bytes + self.scratch
    }
}

/// Host time per operator, summed over the runs.
struct HostClock {
    started: Option<Instant>,
    per_op: Vec<Duration>,
}

impl Profiler for HostClock {
    fn begin(&mut self, _index: usize, _code: i32) {
        self.started = Some(Instant::now());
    }

    fn end(&mut self, index: usize, _code: i32) {
        if let (Some(t), Some(slot)) = (self.started.take(), self.per_op.get_mut(index)) {
            *slot += t.elapsed();
        }
    }
}

/// The profile: mean time of each operator over `runs` inferences.
struct Profile {
    runs: u32,
    per_op: Vec<Duration>,
    zero_input: bool,
}

/// Multiply-accumulates of one operator (the engine's own cost figure).
fn macs(m: &TfLiteModel<'_>, op: &OperatorInfo<'_>) -> u64 {
    m.operator_cost(op).macs
}

fn quant_text(t: &TensorInfo<'_>) -> String {
    match t.quantization {
        None => "-".into(),
        Some(q) if q.len() == 1 => format!("{:.6e}/{}", q.scale(0), q.zero_point(0)),
        Some(q) => format!("{} channels (dim {})", q.len(), q.dimension()),
    }
}

fn location_text(l: Location, layout_start: usize) -> String {
    match l {
        Location::Unused => "unused".into(),
        Location::Model { offset, .. } => format!("model@{offset}"),
        Location::Arena { offset, .. } => format!("arena@{}", offset - layout_start),
    }
}

/// The bytes live at each operator step: every distinct arena buffer whose lifetime covers the
/// step (a reshape's output shares its input's buffer, counted once), plus the operator's scratch.
fn timeline(m: &TfLiteModel<'_>, rows: &[TensorRow<'_>]) -> std::result::Result<Vec<Step>, String> {
    (0..m.operator_count())
        .map(|i| {
            let step = i as u32;
            let mut buffers: BTreeMap<usize, usize> = BTreeMap::new();
            for r in rows {
                if let (Some((first, last)), Location::Arena { offset, len }) =
                    (r.lifetime, r.location)
                {
                    if (first..=last).contains(&step) {
                        let e = buffers.entry(offset).or_insert(0);
                        *e = (*e).max(len);
                    }
                }
            }
            let scratch = operator_scratch_bytes(m, i).map_err(|e| e.to_string())?;
            Ok(Step { tensors: buffers.len(), tensor_bytes: buffers.values().sum(), scratch })
        })
        .collect()
}

pub fn main(args: &Args) -> Result<()> {
    let path = args.model.display().to_string();
    let bytes = files::read_model(&args.model)?;
    let model = TfLiteModel::load(&bytes).map_err(|e| format!("{path}: {e}"))?;
    let profile_inputs = if !args.profile {
        None
    } else if args.inputs.is_empty() {
        Some(zero_inputs(&model))
    } else {
        Some(read_inputs(&model, &args.model, &args.inputs)?)
    };
    let mut scratch = vec![0u8; scratch_bytes(&model)];
    let size = model.arena_size_with_scratch(&mut scratch).map_err(|e| format!("{path}: {e}"))?;
    let mut arena = files::arena(&args.model, size)?;
    let mut interp = Interpreter::new(&model, &mut arena).map_err(|e| format!("{path}: {e}"))?;
    if args.kernels {
        return emit(&kernels_line(&interp, model.operator_count()));
    }
    let mut rows = Vec::new();
    for t in 0..model.tensor_count() {
        rows.push(TensorRow {
            info: model.tensor(t as u32).map_err(|e| format!("{path}: {e}"))?,
            location: interp.location(t).map_err(|e| format!("{path}: {e}"))?,
            lifetime: tensor_lifetime(&model, &mut scratch, t)
                .map_err(|e| format!("{path}: {e}"))?,
        });
    }
    let steps = timeline(&model, &rows).map_err(|e| format!("{path}: {e}"))?;
    let profile = match &profile_inputs {
        Some(inputs) => {
            let mut clock =
                HostClock { started: None, per_op: vec![Duration::ZERO; model.operator_count()] };
            for _ in 0..args.repeat {
                fill(&mut interp, inputs).map_err(|e| match e {
                    crate::Error::Message(m) => crate::Error::Message(format!("{path}: {m}")),
                    other => other,
                })?;
                interp.invoke_profiled(&mut clock).map_err(|e| format!("{path}: {e}"))?;
            }
            let per_op = clock.per_op.iter().map(|d| *d / args.repeat).collect();
            Some(Profile { runs: args.repeat, per_op, zero_input: args.inputs.is_empty() })
        }
        None => None,
    };
    let report = Report {
        path: &path,
        bytes: &bytes,
        model: &model,
        layout: interp.layout(),
        rows: &rows,
        steps: &steps,
        profile: profile.as_ref(),
    };
    emit(&if args.json { report.json() } else { report.table(args.wide) })
}

/// `EDGE_REFLEX_KERNELS=...`: every variant either target runs for some operator, each once, in
/// operator order; references are always linked, so not listed; `none` if nothing else is used.
fn kernels_line(interp: &Interpreter<'_, '_>, operators: usize) -> String {
    let mut used: Vec<String> = Vec::new();
    for k in (0..operators).filter_map(|i| interp.kernel_use(i)) {
        for variant in [k.dsp, k.portable] {
            let entry = format!("{}:{variant}", k.family);
            if variant != "reference" && !used.contains(&entry) {
                used.push(entry);
            }
        }
    }
    let list = if used.is_empty() { "none".to_string() } else { used.join(",") };
    format!("EDGE_REFLEX_KERNELS={list}\n")
}

/// What `inspect` prints, gathered.
struct Report<'r, 'm> {
    path: &'r str,
    bytes: &'r [u8],
    model: &'r TfLiteModel<'m>,
    layout: Layout,
    rows: &'r [TensorRow<'m>],
    steps: &'r [Step],
    profile: Option<&'r Profile>,
}

impl Report<'_, '_> {
    fn weights(&self) -> usize {
        self.rows.iter().filter(|r| r.info.is_constant()).map(|r| r.info.bytes()).sum()
    }

    /// The step with the most live bytes (the first, on a tie) and its bytes.
    fn peak(&self) -> (usize, usize) {
        self.steps.iter().enumerate().fold((0, 0), |best, (i, s)| {
            if s.live() > best.1 {
                (i, s.live())
            } else {
                best
            }
        })
    }

    fn table(&self, wide: bool) -> String {
        let m = self.model;
        let mut s = String::new();
        let _ = writeln!(
            s,
            "{}: {} bytes, {} operators, {} tensors",
            self.path,
            self.bytes.len(),
            m.operator_count(),
            m.tensor_count()
        );
        let _ = writeln!(
            s,
            "\nOPERATORS\n{:>3}  {:<20} {:<40} {:<20} {:>10}  options",
            "#", "name", "inputs", "outputs", "MACs"
        );
        let mut total_macs = 0u64;
        for op in m.operators() {
            let list = |it: &mut dyn Iterator<Item = Option<u32>>| {
                it.map(|t| match t.and_then(|t| self.rows.get(t as usize).map(|r| (t, r))) {
                    Some((t, r)) => format!("t{t}{}", shape(&r.info)),
                    None => "-".into(),
                })
                .collect::<Vec<_>>()
                .join(" ")
            };
            let mac = macs(m, &op);
            total_macs += mac;
            let _ = writeln!(
                s,
                "{:>3}  {:<20} {:<40} {:<20} {:>10}  {}",
                op.index,
                op.name(),
                list(&mut op.inputs()),
                list(&mut op.outputs()),
                mac,
                options_text(&options(m, &op)),
            );
        }
        let longest = self.rows.iter().map(|r| r.info.name_str().chars().count()).max();
        let width = if wide { longest.unwrap_or(0).max(4) } else { NAME_WIDTH };
        let _ = writeln!(
            s,
            "\nTENSORS\n{:>3}  {:<width$} {:<8} {:<16} {:<26} {:>8}  {:<14} lifetime",
            "#", "name", "type", "shape", "scale/zero point", "bytes", "location"
        );
        let mut cut = 0;
        for (t, r) in self.rows.iter().enumerate() {
            let full = r.info.name_str();
            let chars = full.chars().count();
            let name = if chars > width {
                cut += 1;
                let tail: String = full.chars().skip(chars - (width - 1)).collect();
                format!("…{tail}")
            } else {
                full.to_string()
            };
            let life = match r.lifetime {
                Some((a, b)) => format!("ops {a}..={b}"),
                None if r.info.is_constant() => "constant".into(),
                None => "-".into(),
            };
            let _ = writeln!(
                s,
                "{t:>3}  {name:<width$} {:<8} {:<16} {:<26} {:>8}  {:<14} {life}",
                r.info.dtype.name(),
                shape(&r.info),
                quant_text(&r.info),
                r.info.bytes(),
                location_text(r.location, self.layout.activations_start),
            );
        }
        if cut > 0 {
            let _ = writeln!(s, "({cut} names cut to {width} characters: --wide shows them whole)");
        }
        let io = |n: usize, f: &dyn Fn(usize) -> Option<u32>| {
            (0..n).filter_map(f).map(|t| format!("t{t}")).collect::<Vec<_>>().join(", ")
        };
        let _ = writeln!(
            s,
            "\nTOTALS\ninputs: {}  outputs: {}\nMACs: {total_macs}\ncost: {} MACs, {} elements touched per inference\nweights: {} bytes",
            io(m.input_count(), &|j| m.input(j)),
            io(m.output_count(), &|j| m.output(j)),
            m.cost().macs,
            m.cost().elements,
            self.weights(),
        );
        let layout = self.layout;
        let _ = writeln!(
            s,
            "\nMEMORY PLAN\narena: {} bytes = tensor table {} + operator records {} (+ padding to {}) + activations {}{}",
            layout.total,
            layout.table,
            layout.records,
            layout.activations_start,
            layout.activations.max(layout.scratch),
            if layout.scratch > layout.activations {
                format!(" (planning scratch {} > activations {})", layout.scratch, layout.activations)
            } else {
                String::new()
            }
        );
        self.timeline_table(&mut s);
        if let Some(p) = self.profile {
            self.profile_table(&mut s, p);
        }
        s
    }

    fn timeline_table(&self, s: &mut String) {
        let (peak_step, peak) = self.peak();
        let _ = writeln!(
            s,
            "\nMEMORY TIMELINE (bytes live in the activations region while each operator runs)\n{:>4}  {:<20} {:>7} {:>10} {:>10}",
            "step", "operator", "tensors", "scratch", "live"
        );
        for (op, step) in self.model.operators().zip(self.steps) {
            let bar = (step.live() * BAR_WIDTH).checked_div(peak).unwrap_or(0);
            let _ = writeln!(
                s,
                "{:>4}  {:<20} {:>7} {:>10} {:>10}  {}",
                op.index,
                op.name(),
                step.tensors,
                step.scratch,
                step.live(),
                "#".repeat(bar)
            );
        }
        let name = self.model.operators().nth(peak_step).map_or("-", |op| op.name());
        let _ = writeln!(
            s,
            "peak: {peak} bytes live at step {peak_step} ({name}); the planner's activations region is {} bytes ({} bytes of alignment and fragmentation)",
            self.layout.activations,
            self.layout.activations.saturating_sub(peak)
        );
    }

    fn profile_table(&self, s: &mut String, p: &Profile) {
        let total: Duration = p.per_op.iter().sum();
        let _ = writeln!(
            s,
            "\nPROFILE (host wall-clock on this computer, not device time; mean of {} run(s) on {}; {})\n{:>3}  {:<20} {:>12} {:>6}",
            p.runs,
            if p.zero_input { "inputs at real zero" } else { "the given inputs" },
            build_kind(),
            "#",
            "operator",
            "time",
            "share"
        );
        for (op, d) in self.model.operators().zip(&p.per_op) {
            let share =
                if total.is_zero() { 0.0 } else { d.as_secs_f64() * 100.0 / total.as_secs_f64() };
            let _ = writeln!(
                s,
                "{:>3}  {:<20} {:>12} {:>5.1}%",
                op.index,
                op.name(),
                duration(*d),
                share
            );
        }
        let _ = writeln!(
            s,
            "total: {} per inference (device cost: instructions per operator in docs/benchmarks.md)",
            duration(total)
        );
    }

    fn json(&self) -> String {
        let m = self.model;
        let layout = self.layout;
        let ids = |it: &mut dyn Iterator<Item = Option<u32>>| -> Value {
            it.map(|t| t.map_or(Value::Null, Value::from)).collect()
        };
        let mut doc = Map::new();
        doc.insert("model".into(), self.path.into());
        doc.insert("model_bytes".into(), self.bytes.len().into());
        let mut total_macs = 0u64;
        let mut ops = Vec::new();
        for op in m.operators() {
            let mac = macs(m, &op);
            total_macs += mac;
            let mut o = Map::new();
            o.insert("index".into(), op.index.into());
            o.insert("name".into(), op.name().into());
            o.insert("version".into(), op.version.into());
            o.insert("inputs".into(), ids(&mut op.inputs()));
            o.insert("outputs".into(), ids(&mut op.outputs()));
            let opts: Map<String, Value> =
                options(m, &op).into_iter().map(|(k, v)| (k.to_string(), v)).collect();
            o.insert("options".into(), Value::Object(opts));
            o.insert("elements".into(), m.operator_cost(&op).elements.into());
            // Last, so line tools can read it at the end of the line (scripts/bench.sh).
            o.insert("macs".into(), mac.into());
            ops.push(Value::Object(o));
        }
        doc.insert("operators".into(), ops.into());
        let tensors: Vec<Value> = self
            .rows
            .iter()
            .enumerate()
            .map(|(t, r)| {
                let (scales, zps): (Vec<Value>, Vec<Value>) = match r.info.quantization {
                    None => (Vec::new(), Vec::new()),
                    Some(q) => (0..q.len())
                        .map(|i| (json::float(q.scale(i)), q.zero_point(i).into()))
                        .unzip(),
                };
                let (kind, offset) = match r.location {
                    Location::Unused => ("unused", Value::Null),
                    Location::Model { offset, .. } => ("model", offset.into()),
                    Location::Arena { offset, .. } => {
                        ("arena", (offset - layout.activations_start).into())
                    }
                };
                let mut o = Map::new();
                o.insert("index".into(), t.into());
                o.insert("name".into(), r.info.name_str().into());
                o.insert("dtype".into(), r.info.dtype.name().into());
                o.insert("shape".into(), r.info.shape.dims().iter().copied().collect());
                o.insert("scale".into(), scales.into());
                o.insert("zero_point".into(), zps.into());
                o.insert("bytes".into(), r.info.bytes().into());
                o.insert("constant".into(), r.info.is_constant().into());
                o.insert("location".into(), kind.into());
                o.insert("offset".into(), offset);
                o.insert(
                    "lifetime".into(),
                    r.lifetime.map_or(Value::Null, |(a, b)| vec![a, b].into()),
                );
                Value::Object(o)
            })
            .collect();
        doc.insert("tensors".into(), tensors.into());
        let list = |n: usize, f: &dyn Fn(usize) -> Option<u32>| -> Value {
            (0..n).filter_map(f).collect()
        };
        doc.insert("inputs".into(), list(m.input_count(), &|j| m.input(j)));
        doc.insert("outputs".into(), list(m.output_count(), &|j| m.output(j)));
        let mut totals = Map::new();
        totals.insert("macs".into(), total_macs.into());
        totals.insert("elements".into(), m.cost().elements.into());
        totals.insert("weights_bytes".into(), self.weights().into());
        doc.insert("totals".into(), totals.into());
        let mut plan = Map::new();
        plan.insert("arena_bytes".into(), layout.total.into());
        plan.insert("tensor_table_bytes".into(), layout.table.into());
        plan.insert("operator_record_bytes".into(), layout.records.into());
        plan.insert("activations_offset".into(), layout.activations_start.into());
        plan.insert("activations_bytes".into(), layout.activations.into());
        plan.insert("planning_scratch_bytes".into(), layout.scratch.into());
        let (peak_step, peak) = self.peak();
        plan.insert("peak_live_bytes".into(), peak.into());
        plan.insert("peak_step".into(), peak_step.into());
        doc.insert("memory_plan".into(), plan.into());
        let steps: Vec<Value> = self
            .steps
            .iter()
            .enumerate()
            .map(|(i, st)| {
                let mut o = Map::new();
                o.insert("step".into(), i.into());
                o.insert("tensors".into(), st.tensors.into());
                o.insert("tensor_bytes".into(), st.tensor_bytes.into());
                o.insert("scratch_bytes".into(), st.scratch.into());
                o.insert("live_bytes".into(), st.live().into());
                Value::Object(o)
            })
            .collect();
        doc.insert("memory_timeline".into(), steps.into());
        if let Some(p) = self.profile {
            let mut o = Map::new();
            o.insert("clock".into(), "host wall-clock (not device time)".into());
            o.insert("build".into(), build_kind().into());
            o.insert("runs".into(), p.runs.into());
            o.insert("inputs".into(), if p.zero_input { "real zero" } else { "given" }.into());
            let ns = |d: &Duration| u64::try_from(d.as_nanos()).unwrap_or(u64::MAX);
            o.insert("total_ns".into(), ns(&p.per_op.iter().sum()).into());
            o.insert("operator_ns".into(), p.per_op.iter().map(ns).collect());
            doc.insert("profile".into(), o.into());
        }
        json::document(&doc)
    }
}
