//! Operator options as `inspect` shows them: what the model file sets for each operator
//! (padding, strides, dilations, fused activation, depth multiplier, axis...), the filter size of
//! a convolution, and the constant operands that act as options (axes, paddings, block shapes,
//! slice bounds). One list of `(name, value)` pairs feeds both the table and the JSON.

use crate::json;
use edge_reflex::engine::arith::FusedActivation;
use edge_reflex::engine::model::operator::{ConvOptions, Padding, PoolOptions};
use edge_reflex::engine::{DType, Op, OperatorInfo, TfLiteModel};
use serde_json::Value;

fn activation_name(a: FusedActivation) -> &'static str {
    match a {
        FusedActivation::None => "NONE",
        FusedActivation::Relu => "RELU",
        FusedActivation::ReluN1To1 => "RELU_N1_TO_1",
        FusedActivation::Relu6 => "RELU6",
    }
}

fn padding_name(p: Padding) -> &'static str {
    match p {
        Padding::Same => "SAME",
        Padding::Valid => "VALID",
    }
}

/// The integers of constant int32/int64 operand `j` of `op` (block shapes, paddings, axes...).
fn constant_ints(m: &TfLiteModel<'_>, op: &OperatorInfo<'_>, j: usize) -> Option<Value> {
    let t = m.tensor(op.input(j)?).ok()?;
    let data = t.data?;
    let v: Vec<i64> = match t.dtype {
        DType::Int32 => data
            .chunks_exact(4)
            .map(|c| i64::from(i32::from_le_bytes([c[0], c[1], c[2], c[3]])))
            .collect(),
        DType::Int64 => data
            .chunks_exact(8)
            .map(|c| i64::from_le_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]]))
            .collect(),
        _ => return None,
    };
    Some(v.into())
}

/// The options of an operator, in the order the table shows them: the file's options (padding,
/// strides, dilations, fused activation, ...), the filter size of a convolution, and the constant
/// operands that act as options (axes, paddings, block shapes, slice bounds).
pub fn options(m: &TfLiteModel<'_>, op: &OperatorInfo<'_>) -> Vec<(&'static str, Value)> {
    let mut o: Vec<(&'static str, Value)> = Vec::new();
    let conv = |o: &mut Vec<(&'static str, Value)>, c: &ConvOptions| {
        o.push(("padding", padding_name(c.padding).into()));
        o.push(("stride_h", c.stride_h.into()));
        o.push(("stride_w", c.stride_w.into()));
        o.push(("dilation_h", c.dilation_h.into()));
        o.push(("dilation_w", c.dilation_w.into()));
    };
    let filter = |o: &mut Vec<(&'static str, Value)>| {
        if let Some(f) = op.input(1).and_then(|t| m.tensor(t).ok()) {
            if let [_, kh, kw, _] = f.shape.dims() {
                o.push(("filter_h", (*kh).into()));
                o.push(("filter_w", (*kw).into()));
            }
        }
    };
    let pool = |o: &mut Vec<(&'static str, Value)>, p: &PoolOptions| {
        o.push(("padding", padding_name(p.padding).into()));
        o.push(("stride_h", p.stride_h.into()));
        o.push(("stride_w", p.stride_w.into()));
        o.push(("filter_h", p.filter_h.into()));
        o.push(("filter_w", p.filter_w.into()));
        o.push(("activation", activation_name(p.activation).into()));
    };
    let constants = |o: &mut Vec<(&'static str, Value)>, names: &[(&'static str, usize)]| {
        for &(name, j) in names {
            if let Some(v) = constant_ints(m, op, j) {
                o.push((name, v));
            }
        }
    };
    match &op.op {
        Op::Add { activation } | Op::Mul { activation } => {
            o.push(("activation", activation_name(*activation).into()));
        }
        Op::AveragePool2d(p) | Op::MaxPool2d(p) => pool(&mut o, p),
        Op::Concatenation { axis, activation } => {
            o.push(("axis", (*axis).into()));
            o.push(("activation", activation_name(*activation).into()));
        }
        Op::Conv2d(c) => {
            conv(&mut o, c);
            filter(&mut o);
            o.push(("activation", activation_name(c.activation).into()));
        }
        Op::DepthwiseConv2d { conv: c, depth_multiplier } => {
            conv(&mut o, c);
            filter(&mut o);
            o.push(("depth_multiplier", (*depth_multiplier).into()));
            o.push(("activation", activation_name(c.activation).into()));
        }
        Op::FullyConnected { activation, keep_num_dims } => {
            o.push(("activation", activation_name(*activation).into()));
            o.push(("keep_num_dims", (*keep_num_dims).into()));
        }
        Op::Mean { keep_dims } => {
            constants(&mut o, &[("axis", 1)]);
            o.push(("keep_dims", (*keep_dims).into()));
        }
        Op::Pack { values_count, axis } => {
            o.push(("values_count", (*values_count).into()));
            o.push(("axis", (*axis).into()));
        }
        Op::Softmax { beta } => o.push(("beta", json::float(*beta))),
        Op::StridedSlice(s) => {
            constants(&mut o, &[("begin", 1), ("end", 2), ("strides", 3)]);
            o.push(("begin_mask", s.begin_mask.into()));
            o.push(("end_mask", s.end_mask.into()));
            o.push(("shrink_axis_mask", s.shrink_axis_mask.into()));
            o.push(("offset", s.offset.into()));
        }
        Op::Pad => constants(&mut o, &[("paddings", 1)]),
        Op::SpaceToBatchNd => constants(&mut o, &[("block_shape", 1), ("paddings", 2)]),
        Op::BatchToSpaceNd => constants(&mut o, &[("block_shape", 1), ("crops", 2)]),
        Op::Custom => {
            let name = m.custom_code(op.index).unwrap_or(&[]);
            o.push(("custom_code", String::from_utf8_lossy(name).into_owned().into()));
            o.push(("custom_options_bytes", m.custom_options(op.index).len().into()));
        }
        Op::Dequantize
        | Op::ExpandDims
        | Op::Logistic
        | Op::Quantize
        | Op::Reshape
        | Op::Shape
        | Op::Squeeze
        | Op::Tanh => {}
    }
    o
}

/// Options as `padding=SAME stride=2x2 ...`: `X_h` and `X_w` pairs are written `X=HxW`.
pub fn options_text(options: &[(&'static str, Value)]) -> String {
    let value = |v: &Value| match v {
        Value::String(s) => s.clone(),
        v => json::line(v).replace(' ', ""),
    };
    let mut parts = Vec::new();
    let mut i = 0;
    while i < options.len() {
        let (key, v) = &options[i];
        if let (Some(stem), Some((next, w))) = (key.strip_suffix("_h"), options.get(i + 1)) {
            if next.strip_suffix("_w") == Some(stem) {
                parts.push(format!("{stem}={}x{}", value(v), value(w)));
                i += 2;
                continue;
            }
        }
        parts.push(format!("{key}={}", value(v)));
        i += 1;
    }
    if parts.is_empty() {
        "-".into()
    } else {
        parts.join(" ")
    }
}
