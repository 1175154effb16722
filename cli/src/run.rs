//! `reflex run`: inferences from raw input files, through the loader and planner or
//! (`--plan FILE`) through a prebuilt plan; reports each output (raw and dequantized values, the
//! top class of a softmax classifier) and the host time per inference, and writes the outputs'
//! raw bytes where `--output` says.

use crate::{emit, files, json, Result};
use edge_reflex::engine::{DType, Interpreter, Op, Prebuilt, Source, TensorInfo, TfLiteModel};
use serde_json::{Map, Value};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// `reflex run` arguments.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// The model (`.tflite`, at most 16 MiB).
    model: PathBuf,
    /// Raw little-endian bytes of each model input, in order (exactly the input tensor's size).
    #[arg(short, long = "input", value_name = "FILE", required = true)]
    inputs: Vec<PathBuf>,
    /// Where to write each output's raw bytes, in order (none: outputs are only reported).
    #[arg(short, long = "output", value_name = "FILE")]
    outputs: Vec<PathBuf>,
    /// Run through this prebuilt plan (from `reflex plan`), as a firmware would.
    #[arg(long, value_name = "FILE")]
    plan: Option<PathBuf>,
    /// Inferences to run (the time reported is their mean).
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..))]
    repeat: u32,
    /// Print the report as JSON (every value, raw and dequantized).
    #[arg(long)]
    json: bool,
}

/// Values printed per output in the text report (`--json` prints all).
const SHOWN_VALUES: usize = 16;

/// Reads one input file per model input, each exactly the input tensor's size.
pub fn read_inputs(
    model: &TfLiteModel<'_>,
    path: &Path,
    inputs: &[PathBuf],
) -> Result<Vec<Vec<u8>>> {
    if inputs.len() != model.input_count() {
        return Err(format!(
            "{}: the model has {} input(s), got {} --input",
            path.display(),
            model.input_count(),
            inputs.len()
        )
        .into());
    }
    inputs
        .iter()
        .enumerate()
        .map(|(j, file)| {
            let info = model.input_info(j).ok_or("model input missing")?;
            let what = format!("input {j} ({} {})", info.dtype.name(), shape(&info));
            files::read_tensor(file, info.bytes(), &what)
        })
        .collect()
}

/// Every model input at real zero: its zero point for a quantized int8 input, else zero bytes.
pub fn zero_inputs(model: &TfLiteModel<'_>) -> Vec<Vec<u8>> {
    (0..model.input_count())
        .filter_map(|j| model.input_info(j))
        .map(|info| match (info.dtype, info.quant()) {
            (DType::Int8, Some(q)) => vec![q.zero_point.clamp(-128, 127) as i8 as u8; info.bytes()],
            _ => vec![0; info.bytes()],
        })
        .collect()
}

/// Copies `inputs` into the interpreter's input tensors.
pub fn fill(interp: &mut Interpreter<'_, '_, impl Source>, inputs: &[Vec<u8>]) -> Result<()> {
    for (j, data) in inputs.iter().enumerate() {
        let dst = interp.input_bytes(j).ok_or_else(|| format!("input {j} is not writable"))?;
        if dst.len() != data.len() {
            return Err(format!("input {j}: {} bytes, needs {}", data.len(), dst.len()).into());
        }
        dst.copy_from_slice(data);
    }
    Ok(())
}

/// A shape as `[1,24]`.
pub fn shape(t: &TensorInfo<'_>) -> String {
    format!("{:?}", t.shape.dims()).replace(' ', "")
}

/// A duration in the unit that suits it.
pub fn duration(d: Duration) -> String {
    let ns = d.as_nanos();
    if ns < 10_000 {
        format!("{ns} ns")
    } else if ns < 10_000_000 {
        format!("{:.1} µs", ns as f64 / 1e3)
    } else {
        format!("{:.2} ms", ns as f64 / 1e6)
    }
}

/// What kind of build this is, for the notes beside host times.
pub fn build_kind() -> &'static str {
    if cfg!(debug_assertions) {
        "unoptimized debug build: install with `cargo install --path cli` for meaningful times"
    } else {
        "optimized build"
    }
}

pub fn main(args: &Args) -> Result<()> {
    let path = args.model.display();
    let bytes = files::read_model(&args.model)?;
    let model = TfLiteModel::load(&bytes).map_err(|e| format!("{path}: {e}"))?;
    if !args.outputs.is_empty() && args.outputs.len() != model.output_count() {
        return Err(format!(
            "{path}: the model has {} output(s), got {} --output",
            model.output_count(),
            args.outputs.len()
        )
        .into());
    }
    let inputs = read_inputs(&model, &args.model, &args.inputs)?;
    let (outputs, time) = match &args.plan {
        Some(plan_path) => {
            let plan = files::read_model(plan_path)?;
            let prebuilt = Prebuilt::new(&bytes, &plan)
                .map_err(|e| format!("{}: {e}", plan_path.display()))?;
            let mut arena = files::arena(&args.model, prebuilt.arena_size())?;
            let mut interp =
                Interpreter::from_plan(prebuilt, &mut arena).map_err(|e| format!("{path}: {e}"))?;
            infer(&mut interp, &model, &inputs, args.repeat)
        }
        None => {
            let scratch = edge_reflex::engine::plan::planner::scratch_bytes(&model);
            let size = model.arena_size_with_scratch(&mut vec![0u8; scratch]);
            let mut arena = files::arena(&args.model, size.map_err(|e| format!("{path}: {e}"))?)?;
            let mut interp =
                Interpreter::new(&model, &mut arena).map_err(|e| format!("{path}: {e}"))?;
            infer(&mut interp, &model, &inputs, args.repeat)
        }
    }
    .map_err(|e| match e {
        crate::Error::Message(m) => crate::Error::Message(format!("{path}: {m}")),
        other => other,
    })?;
    for (file, data) in args.outputs.iter().zip(&outputs) {
        files::write(file, data)?;
    }
    let reports: Vec<Output> = outputs
        .iter()
        .enumerate()
        .map(|(j, data)| Output::new(&model, j, data, args.outputs.get(j)))
        .collect::<Result<_>>()?;
    emit(&if args.json {
        render_json(args, &reports, time)
    } else {
        render_text(args, &reports, time)
    })
}

/// Runs `repeat` inferences (inputs refilled before each: the arena reuses their memory) and
/// returns the outputs' bytes and the mean time of one `invoke`.
fn infer(
    interp: &mut Interpreter<'_, '_, impl Source>,
    model: &TfLiteModel<'_>,
    inputs: &[Vec<u8>],
    repeat: u32,
) -> Result<(Vec<Vec<u8>>, Duration)> {
    let mut total = Duration::ZERO;
    for _ in 0..repeat {
        fill(interp, inputs)?;
        let start = Instant::now();
        interp.invoke().map_err(|e| e.to_string())?;
        total += start.elapsed();
    }
    let outputs = (0..model.output_count())
        .map(|j| {
            interp
                .output_bytes(j)
                .map(<[u8]>::to_vec)
                .ok_or_else(|| format!("output {j} has no data"))
        })
        .collect::<std::result::Result<Vec<_>, _>>()?;
    Ok((outputs, total / repeat))
}

/// One output, decoded.
struct Output<'m> {
    index: usize,
    tensor: u32,
    info: TensorInfo<'m>,
    /// The stored values (integers, or floats for a float32 output).
    raw: Vec<Value>,
    /// The real values: `(q - zero_point) * scale` for a quantized output.
    real: Vec<f32>,
    /// Classes by decreasing score, when the output is a softmax's.
    ranking: Option<Vec<usize>>,
    written_to: Option<PathBuf>,
}

impl<'m> Output<'m> {
    fn new(
        model: &TfLiteModel<'m>,
        j: usize,
        data: &[u8],
        written_to: Option<&PathBuf>,
    ) -> Result<Self> {
        let tensor = model.output(j).ok_or("model output missing")?;
        let info = model.output_info(j).ok_or("model output missing")?;
        let (raw, real) = decode(&info, data);
        let ranking = is_softmax(model, tensor).then(|| {
            let mut order: Vec<usize> = (0..real.len()).collect();
            // Highest score first; ties keep the lower class first.
            order.sort_by(|&a, &b| real[b].total_cmp(&real[a]).then(a.cmp(&b)));
            order
        });
        Ok(Output { index: j, tensor, info, raw, real, ranking, written_to: written_to.cloned() })
    }
}

/// Stored and real values of a tensor's bytes.
fn decode(info: &TensorInfo<'_>, data: &[u8]) -> (Vec<Value>, Vec<f32>) {
    let q = info.quant();
    let real = |v: i64| match q {
        Some(q) => (v - i64::from(q.zero_point)) as f32 * q.scale,
        None => v as f32,
    };
    let ints = |v: Vec<i64>| {
        (v.iter().map(|&x| Value::from(x)).collect(), v.into_iter().map(real).collect())
    };
    match info.dtype {
        DType::Int8 => ints(data.iter().map(|&b| i64::from(b as i8)).collect()),
        DType::Int16 => ints(
            data.chunks_exact(2).map(|c| i64::from(i16::from_le_bytes([c[0], c[1]]))).collect(),
        ),
        DType::Int32 => ints(
            data.chunks_exact(4)
                .map(|c| i64::from(i32::from_le_bytes([c[0], c[1], c[2], c[3]])))
                .collect(),
        ),
        DType::Int64 => ints(
            data.chunks_exact(8)
                .map(|c| i64::from_le_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]]))
                .collect(),
        ),
        DType::Float32 => {
            let v: Vec<f32> = data
                .chunks_exact(4)
                .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
                .collect();
            (v.iter().map(|&x| json::float(x)).collect(), v)
        }
    }
}

/// True if tensor `t` is a SOFTMAX's output (through reshapes and (de)quantizations): the
/// output of a classifier, whose top class is worth naming.
fn is_softmax(model: &TfLiteModel<'_>, mut t: u32) -> bool {
    for _ in 0..model.operator_count() {
        let Some(op) = model.operators().find(|op| op.output(0) == Some(t)) else {
            return false;
        };
        match op.op {
            Op::Softmax { .. } => return true,
            Op::Reshape | Op::Squeeze | Op::ExpandDims | Op::Quantize | Op::Dequantize => {
                match op.input(0) {
                    Some(input) => t = input,
                    None => return false,
                }
            }
            _ => return false,
        }
    }
    false
}

/// Numbers as `[a, b, ...]`, at most [`SHOWN_VALUES`] of them.
fn list<T: std::fmt::Display>(values: &[T]) -> String {
    let shown: Vec<String> = values.iter().take(SHOWN_VALUES).map(|v| format!("{v}")).collect();
    let more = values.len().saturating_sub(SHOWN_VALUES);
    if more > 0 {
        format!("[{}, … {more} more]", shown.join(", "))
    } else {
        format!("[{}]", shown.join(", "))
    }
}

fn render_text(args: &Args, outputs: &[Output<'_>], time: Duration) -> String {
    let via = match &args.plan {
        Some(p) => format!("through the prebuilt plan {}", p.display()),
        None => "through the loader and planner".into(),
    };
    let mut s = format!(
        "{}: {} inference(s) {via}, {} per inference (host wall-clock, mean; {})\n",
        args.model.display(),
        args.repeat,
        duration(time),
        build_kind()
    );
    for o in outputs {
        let quant = match o.info.quant() {
            Some(q) => format!(", scale {}, zero point {}", q.scale, q.zero_point),
            None => String::new(),
        };
        s.push_str(&format!(
            "output {} (t{} {} {}{quant}):\n  raw:         {}\n  dequantized: {}\n",
            o.index,
            o.tensor,
            o.info.dtype.name(),
            shape(&o.info),
            list(&o.raw),
            list(&o.real),
        ));
        if let Some(ranking) = &o.ranking {
            if let Some(&top) = ranking.first() {
                let next: Vec<String> = ranking
                    .iter()
                    .skip(1)
                    .take(2)
                    .map(|&k| format!("{k} ({})", o.real[k]))
                    .collect();
                s.push_str(&format!("  top class:   {top} ({})", o.real[top]));
                if !next.is_empty() {
                    s.push_str(&format!("; next {}", next.join(", ")));
                }
                s.push('\n');
            }
        }
        if let Some(file) = &o.written_to {
            s.push_str(&format!("  written to:  {} ({} bytes)\n", file.display(), o.info.bytes()));
        }
    }
    s
}

fn render_json(args: &Args, outputs: &[Output<'_>], time: Duration) -> String {
    let path = |p: &Path| Value::from(p.display().to_string());
    let mut doc = Map::new();
    doc.insert("model".into(), path(&args.model));
    doc.insert("plan".into(), args.plan.as_deref().map_or(Value::Null, path));
    doc.insert("inputs".into(), args.inputs.iter().map(|p| path(p)).collect());
    doc.insert("runs".into(), args.repeat.into());
    doc.insert("clock".into(), "host wall-clock".into());
    doc.insert("build".into(), build_kind().into());
    doc.insert(
        "ns_per_inference".into(),
        u64::try_from(time.as_nanos()).unwrap_or(u64::MAX).into(),
    );
    let outs = outputs
        .iter()
        .map(|o| {
            let q = o.info.quant();
            let mut m = Map::new();
            m.insert("index".into(), o.index.into());
            m.insert("tensor".into(), o.tensor.into());
            m.insert("name".into(), o.info.name_str().into());
            m.insert("dtype".into(), o.info.dtype.name().into());
            m.insert("shape".into(), o.info.shape.dims().iter().copied().collect());
            m.insert("scale".into(), q.map_or(Value::Null, |q| json::float(q.scale)));
            m.insert("zero_point".into(), q.map_or(Value::Null, |q| q.zero_point.into()));
            m.insert("raw".into(), Value::Array(o.raw.clone()));
            m.insert("dequantized".into(), o.real.iter().map(|&x| json::float(x)).collect());
            m.insert(
                "top_class".into(),
                o.ranking.as_ref().and_then(|r| r.first()).map_or(Value::Null, |&k| k.into()),
            );
            m.insert("written_to".into(), o.written_to.as_deref().map_or(Value::Null, path));
            Value::Object(m)
        })
        .collect();
    doc.insert("outputs".into(), Value::Array(outs));
    json::document(&doc)
}
