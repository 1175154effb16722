//! `reflex plan`: writes a model's prebuilt plan (`edge_reflex::engine::plan::prebuilt`) to a file, for
//! a device that receives its model at run time (a model update): it stores the plan beside the
//! model and binds the two with `Prebuilt::new`, which refuses a plan made for other model bytes.

use edge_reflex::engine::{build, Prebuilt};

pub fn main(args: &[String]) -> Result<(), String> {
    let mut model_path = None;
    let mut out = None;
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--output" | "-o" => out = Some(it.next().ok_or("--output needs a file")?.clone()),
            s if s.starts_with('-') => return Err(format!("unknown option {s}")),
            s if model_path.is_none() => model_path = Some(s.to_string()),
            s => return Err(format!("unexpected argument {s}")),
        }
    }
    let path = model_path.ok_or("plan: missing MODEL")?;
    let out = out.unwrap_or_else(|| match path.strip_suffix(".tflite") {
        Some(stem) => format!("{stem}.plan"),
        None => format!("{path}.plan"),
    });
    let bytes = crate::read_model(&path)?;
    let plan = build::plan_from_bytes(&bytes).map_err(|e| format!("{path}: {e}"))?;
    let prebuilt = Prebuilt::new(&bytes, &plan).map_err(|e| format!("{path}: {e}"))?;
    std::fs::write(&out, &plan).map_err(|e| format!("{out}: {e}"))?;
    println!(
        "{out}: plan {} bytes for {path} ({} bytes, {} operators); RAM arena {} bytes",
        plan.len(),
        bytes.len(),
        prebuilt.operator_count(),
        prebuilt.arena_size()
    );
    Ok(())
}
