//! `reflex inspect`: operators, tensors, totals and the memory plan of a model, as a table or
//! as JSON (`--json`).

use edge_reflex::engine::arena::Location;
use edge_reflex::engine::plan::planner::{scratch_bytes, tensor_lifetime};
use edge_reflex::engine::{Interpreter, Op, OperatorInfo, TensorInfo, TfLiteModel};
use std::fmt::Write;

/// Everything `inspect` reports about one tensor.
struct TensorRow<'m> {
    info: TensorInfo<'m>,
    location: Location,
    lifetime: Option<(u32, u32)>,
}

/// Multiply-accumulates of one operator.
fn macs(m: &TfLiteModel<'_>, op: &OperatorInfo<'_>) -> u64 {
    let shape = |j: Option<u32>| j.and_then(|t| m.tensor(t).ok());
    let out = shape(op.output(0)).map_or(0, |t| t.elements() as u64);
    let filter = shape(op.input(1));
    let dims = filter.as_ref().map(|f| f.shape.dims().to_vec()).unwrap_or_default();
    match (op.op, dims.as_slice()) {
        (Op::FullyConnected { .. }, [_, depth]) => out * *depth as u64,
        (Op::Conv2d(_), [_, kh, kw, depth]) => out * (*kh * *kw * *depth) as u64,
        (Op::DepthwiseConv2d { .. }, [_, kh, kw, _]) => out * (*kh * *kw) as u64,
        (Op::Mul { .. }, _) => out,
        _ => 0,
    }
}

fn shape_str(t: &TensorInfo<'_>) -> String {
    format!("{:?}", t.shape.dims()).replace(' ', "")
}

fn quant_str(t: &TensorInfo<'_>) -> String {
    match t.quantization {
        None => "-".into(),
        Some(q) if q.len() == 1 => format!("{:.6e}/{}", q.scale(0), q.zero_point(0)),
        Some(q) => format!("{} channels (dim {})", q.len(), q.dimension()),
    }
}

fn json_str(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

fn json_f32(x: f32) -> String {
    if x.is_finite() {
        format!("{x:e}")
    } else {
        "null".into()
    }
}

pub fn main(args: &[String]) -> Result<(), String> {
    let mut json = false;
    let mut path = None;
    for a in args {
        match a.as_str() {
            "--json" => json = true,
            s if s.starts_with('-') => return Err(format!("unknown option {s}")),
            s if path.is_none() => path = Some(s.to_string()),
            s => return Err(format!("unexpected argument {s}")),
        }
    }
    let path = path.ok_or("inspect: missing MODEL")?;
    let bytes = crate::read_model(&path)?;
    let model = TfLiteModel::load(&bytes).map_err(|e| format!("{path}: {e}"))?;
    let mut scratch = vec![0u8; scratch_bytes(&model)];
    let size = model.arena_size_with_scratch(&mut scratch).map_err(|e| format!("{path}: {e}"))?;
    let mut arena = vec![0u8; size];
    let interp = Interpreter::new(&model, &mut arena).map_err(|e| format!("{path}: {e}"))?;
    let mut rows = Vec::new();
    for t in 0..model.tensor_count() {
        rows.push(TensorRow {
            info: model.tensor(t as u32).map_err(|e| format!("{path}: {e}"))?,
            location: interp.location(t).map_err(|e| format!("{path}: {e}"))?,
            lifetime: tensor_lifetime(&model, &mut scratch, t)
                .map_err(|e| format!("{path}: {e}"))?,
        });
    }
    let text = if json {
        render_json(&path, &bytes, &model, &interp, &rows)
    } else {
        render_table(&path, &bytes, &model, &interp, &rows)
    };
    print!("{text}");
    Ok(())
}

fn location_str(l: Location, layout_start: usize) -> String {
    match l {
        Location::Unused => "unused".into(),
        Location::Model { offset, .. } => format!("model@{offset}"),
        Location::Arena { offset, .. } => format!("arena@{}", offset - layout_start),
    }
}

fn render_table(
    path: &str,
    bytes: &[u8],
    m: &TfLiteModel<'_>,
    interp: &Interpreter<'_, '_>,
    rows: &[TensorRow<'_>],
) -> String {
    let mut s = String::new();
    let layout = interp.layout();
    let _ = writeln!(
        s,
        "{path}: {} bytes, {} operators, {} tensors",
        bytes.len(),
        m.operator_count(),
        m.tensor_count()
    );
    let _ = writeln!(
        s,
        "\nOPERATORS\n{:>3}  {:<20} {:<40} {:<20} {:>10}",
        "#", "name", "inputs", "outputs", "MACs"
    );
    let mut total_macs = 0u64;
    for op in m.operators() {
        let list = |it: &mut dyn Iterator<Item = Option<u32>>| {
            it.map(|t| match t.and_then(|t| rows.get(t as usize).map(|r| (t, r))) {
                Some((t, r)) => format!("t{t}{}", shape_str(&r.info)),
                None => "-".into(),
            })
            .collect::<Vec<_>>()
            .join(" ")
        };
        let mac = macs(m, &op);
        total_macs += mac;
        let _ = writeln!(
            s,
            "{:>3}  {:<20} {:<40} {:<20} {:>10}",
            op.index,
            op.name(),
            list(&mut op.inputs()),
            list(&mut op.outputs()),
            mac
        );
    }
    let _ = writeln!(
        s,
        "\nTENSORS\n{:>3}  {:<32} {:<8} {:<16} {:<26} {:>8}  {:<14} lifetime",
        "#", "name", "type", "shape", "scale/zero point", "bytes", "location"
    );
    let mut weights = 0usize;
    for (t, r) in rows.iter().enumerate() {
        if r.info.is_constant() {
            weights += r.info.bytes();
        }
        let mut name = r.info.name_str().to_string();
        if name.len() > 32 {
            name = format!("…{}", &name[name.len() - 31..]);
        }
        let life = match r.lifetime {
            Some((a, b)) => format!("ops {a}..={b}"),
            None if r.info.is_constant() => "constant".into(),
            None => "-".into(),
        };
        let _ = writeln!(
            s,
            "{t:>3}  {name:<32} {:<8} {:<16} {:<26} {:>8}  {:<14} {life}",
            r.info.dtype.name(),
            shape_str(&r.info),
            quant_str(&r.info),
            r.info.bytes(),
            location_str(r.location, layout.activations_start),
        );
    }
    let io = |n: usize, f: &dyn Fn(usize) -> Option<u32>| {
        (0..n).filter_map(f).map(|t| format!("t{t}")).collect::<Vec<_>>().join(", ")
    };
    let _ = writeln!(
        s,
        "\nTOTALS\ninputs: {}  outputs: {}\nMACs: {total_macs}\nweights: {weights} bytes",
        io(m.input_count(), &|j| m.input(j)),
        io(m.output_count(), &|j| m.output(j)),
    );
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
    s
}

fn render_json(
    path: &str,
    bytes: &[u8],
    m: &TfLiteModel<'_>,
    interp: &Interpreter<'_, '_>,
    rows: &[TensorRow<'_>],
) -> String {
    let layout = interp.layout();
    let mut s = String::from("{\n");
    let _ = writeln!(s, "  \"model\": {},\n  \"model_bytes\": {},", json_str(path), bytes.len());
    let ids = |it: &mut dyn Iterator<Item = Option<u32>>| {
        it.map(|t| t.map_or("null".to_string(), |t| t.to_string())).collect::<Vec<_>>().join(", ")
    };
    let mut ops = Vec::new();
    let mut total_macs = 0u64;
    for op in m.operators() {
        let mac = macs(m, &op);
        total_macs += mac;
        ops.push(format!(
            "    {{\"index\": {}, \"name\": {}, \"version\": {}, \"inputs\": [{}], \"outputs\": [{}], \"macs\": {mac}}}",
            op.index,
            json_str(op.name()),
            op.version,
            ids(&mut op.inputs()),
            ids(&mut op.outputs()),
        ));
    }
    let _ = writeln!(s, "  \"operators\": [\n{}\n  ],", ops.join(",\n"));
    let mut tensors = Vec::new();
    let mut weights = 0usize;
    for (t, r) in rows.iter().enumerate() {
        if r.info.is_constant() {
            weights += r.info.bytes();
        }
        let (scales, zps) = match r.info.quantization {
            None => (String::new(), String::new()),
            Some(q) => (
                (0..q.len()).map(|i| json_f32(q.scale(i))).collect::<Vec<_>>().join(", "),
                (0..q.len()).map(|i| q.zero_point(i).to_string()).collect::<Vec<_>>().join(", "),
            ),
        };
        let (kind, offset) = match r.location {
            Location::Unused => ("unused", "null".to_string()),
            Location::Model { offset, .. } => ("model", offset.to_string()),
            Location::Arena { offset, .. } => {
                ("arena", (offset - layout.activations_start).to_string())
            }
        };
        let life = r.lifetime.map_or("null".into(), |(a, b)| format!("[{a}, {b}]"));
        tensors.push(format!(
            "    {{\"index\": {t}, \"name\": {}, \"dtype\": \"{}\", \"shape\": {}, \"scale\": [{scales}], \"zero_point\": [{zps}], \"bytes\": {}, \"constant\": {}, \"location\": \"{kind}\", \"offset\": {offset}, \"lifetime\": {life}}}",
            json_str(r.info.name_str()),
            r.info.dtype.name(),
            shape_str(&r.info),
            r.info.bytes(),
            r.info.is_constant(),
        ));
    }
    let _ = writeln!(s, "  \"tensors\": [\n{}\n  ],", tensors.join(",\n"));
    let list = |n: usize, f: &dyn Fn(usize) -> Option<u32>| {
        (0..n).filter_map(f).map(|t| t.to_string()).collect::<Vec<_>>().join(", ")
    };
    let _ = writeln!(
        s,
        "  \"inputs\": [{}],\n  \"outputs\": [{}],\n  \"totals\": {{\"macs\": {total_macs}, \"weights_bytes\": {weights}}},",
        list(m.input_count(), &|j| m.input(j)),
        list(m.output_count(), &|j| m.output(j)),
    );
    let _ = writeln!(
        s,
        "  \"memory_plan\": {{\"arena_bytes\": {}, \"tensor_table_bytes\": {}, \"operator_record_bytes\": {}, \"activations_offset\": {}, \"activations_bytes\": {}, \"planning_scratch_bytes\": {}}}\n}}",
        layout.total, layout.table, layout.records, layout.activations_start, layout.activations, layout.scratch
    );
    s
}
