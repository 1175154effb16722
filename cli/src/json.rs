//! The layout of `--json` output: one JSON document whose top-level fields are on their own
//! lines, and whose arrays of objects (operators, tensors, steps, outputs) have one object per
//! line, written `{"key": value, ...}`. Any JSON parser reads it; line tools (`grep`, `sed`, as in
//! `scripts/bench.sh`) can pick one operator's line.

use serde_json::ser::Formatter;
use serde_json::{Map, Value};
use std::io;

/// Compact JSON with a space after `:` and `,`.
struct Spaced;

impl Formatter for Spaced {
    fn begin_array_value<W: ?Sized + io::Write>(
        &mut self,
        w: &mut W,
        first: bool,
    ) -> io::Result<()> {
        if first {
            Ok(())
        } else {
            w.write_all(b", ")
        }
    }

    fn begin_object_key<W: ?Sized + io::Write>(
        &mut self,
        w: &mut W,
        first: bool,
    ) -> io::Result<()> {
        if first {
            Ok(())
        } else {
            w.write_all(b", ")
        }
    }

    fn begin_object_value<W: ?Sized + io::Write>(&mut self, w: &mut W) -> io::Result<()> {
        w.write_all(b": ")
    }
}

/// `v` on one line.
pub fn line(v: &Value) -> String {
    let mut out = Vec::new();
    let mut ser = serde_json::Serializer::with_formatter(&mut out, Spaced);
    // Serializing a `Value` into memory cannot fail, and the output is UTF-8.
    match serde::Serialize::serialize(v, &mut ser) {
        Ok(()) => String::from_utf8(out).unwrap_or_default(),
        Err(_) => "null".into(),
    }
}

/// The whole document (see the module documentation), ending with a newline.
pub fn document(fields: &Map<String, Value>) -> String {
    let mut s = String::from("{\n");
    for (i, (key, value)) in fields.iter().enumerate() {
        let key = line(&Value::String(key.clone()));
        let value = match value {
            Value::Array(items) if !items.is_empty() && items.iter().all(Value::is_object) => {
                let rows: Vec<String> = items.iter().map(|v| format!("    {}", line(v))).collect();
                format!("[\n{}\n  ]", rows.join(",\n"))
            }
            v => line(v),
        };
        let comma = if i + 1 < fields.len() { "," } else { "" };
        s.push_str(&format!("  {key}: {value}{comma}\n"));
    }
    s.push_str("}\n");
    s
}

/// A float as JSON, printed with the fewest digits that read back as the same `f32`
/// (`null` for NaN and infinities, which JSON cannot represent).
pub fn float(x: f32) -> Value {
    if !x.is_finite() {
        return Value::Null;
    }
    format!("{x}")
        .parse::<f64>()
        .ok()
        .and_then(serde_json::Number::from_f64)
        .map_or(Value::Null, Value::Number)
}
