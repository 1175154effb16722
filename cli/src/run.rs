//! `reflex run`: one inference from raw input files to raw output files, through the loader and
//! planner or (`--plan FILE`) through a prebuilt plan.

use edge_reflex::engine::{Interpreter, Invoke, Prebuilt, PrebuiltInterpreter, TfLiteModel};

pub fn main(args: &[String]) -> Result<(), String> {
    let mut model_path = None;
    let mut plan_path = None;
    let (mut inputs, mut outputs) = (Vec::new(), Vec::new());
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--input" | "-i" => inputs.push(it.next().ok_or("--input needs a file")?.clone()),
            "--output" | "-o" => outputs.push(it.next().ok_or("--output needs a file")?.clone()),
            "--plan" => plan_path = Some(it.next().ok_or("--plan needs a file")?.clone()),
            s if s.starts_with('-') => return Err(format!("unknown option {s}")),
            s if model_path.is_none() => model_path = Some(s.to_string()),
            s => return Err(format!("unexpected argument {s}")),
        }
    }
    let path = model_path.ok_or("run: missing MODEL")?;
    let bytes = crate::read_model(&path)?;
    let model = TfLiteModel::load(&bytes).map_err(|e| format!("{path}: {e}"))?;
    if inputs.len() != model.input_count() {
        return Err(format!(
            "{path}: the model has {} input(s), got {} --input",
            model.input_count(),
            inputs.len()
        ));
    }
    if outputs.len() != model.output_count() {
        return Err(format!(
            "{path}: the model has {} output(s), got {} --output",
            model.output_count(),
            outputs.len()
        ));
    }
    match plan_path {
        Some(plan_path) => {
            let plan = std::fs::read(&plan_path).map_err(|e| format!("{plan_path}: {e}"))?;
            let prebuilt = Prebuilt::new(&bytes, &plan).map_err(|e| format!("{plan_path}: {e}"))?;
            let mut arena = vec![0u8; prebuilt.arena_size()];
            let mut interp = PrebuiltInterpreter::new(prebuilt, &mut arena)
                .map_err(|e| format!("{path}: {e}"))?;
            infer(&mut interp, &model, &path, &inputs, &outputs)
        }
        None => {
            let scratch = edge_reflex::engine::plan::planner::scratch_bytes(&model);
            let size = model.arena_size_with_scratch(&mut vec![0u8; scratch]);
            let mut arena = vec![0u8; size.map_err(|e| format!("{path}: {e}"))?];
            let mut interp =
                Interpreter::new(&model, &mut arena).map_err(|e| format!("{path}: {e}"))?;
            infer(&mut interp, &model, &path, &inputs, &outputs)
        }
    }
}

/// Fills the inputs from `inputs`, runs once, writes the outputs to `outputs`.
fn infer(
    interp: &mut impl Invoke,
    model: &TfLiteModel<'_>,
    path: &str,
    inputs: &[String],
    outputs: &[String],
) -> Result<(), String> {
    for (j, file) in inputs.iter().enumerate() {
        let data = std::fs::read(file).map_err(|e| format!("{file}: {e}"))?;
        let info = model.input_info(j).ok_or("model input missing")?;
        let dst =
            interp.input_bytes(j).ok_or_else(|| format!("{path}: input {j} is not writable"))?;
        if data.len() != dst.len() {
            return Err(format!(
                "{file}: {} bytes, input {j} ({} {:?}) needs {}",
                data.len(),
                info.dtype.name(),
                info.shape.dims(),
                dst.len()
            ));
        }
        dst.copy_from_slice(&data);
    }
    interp.invoke().map_err(|e| format!("{path}: {e}"))?;
    for (j, file) in outputs.iter().enumerate() {
        let data =
            interp.output_bytes(j).ok_or_else(|| format!("{path}: output {j} has no data"))?;
        std::fs::write(file, data).map_err(|e| format!("{file}: {e}"))?;
    }
    Ok(())
}
