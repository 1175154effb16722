//! AVERAGE_POOL_2D and MAX_POOL_2D: int8 NHWC in and out with the same quantization.

use super::bounds::{check_window, Axis};
use super::{as_i8_mut, kernel_err, Needs, Operands, Prep};
use crate::engine::error::{LoadError, LoadErrorKind, RunError};
use crate::engine::kernels::geometry::Geometry;
use crate::engine::kernels::padding;
use crate::engine::kernels::pooling::{Pool, PoolKind};
use crate::engine::model::operator::Op;
use crate::engine::record::{shape_of, shape_words, word, RecordReader, RecordWriter};
use bytemuck::{CheckedBitPattern, NoUninit};

#[inline(never)]
pub(super) fn prepare(p: &Prep<'_, '_>, w: &mut RecordWriter<'_>) -> Result<Needs, LoadError> {
    let (o, kind) = match p.op.op {
        Op::AveragePool2d(o) => (o, PoolKind::Average),
        Op::MaxPool2d(o) => (o, PoolKind::Max),
        _ => return Err(p.shapes("not a pooling")),
    };
    p.arity(1, 1)?;
    let (input, output) = (p.input(0)?, p.output()?);
    let qi = p.int8(&input, "input must be int8, per-tensor quantized")?;
    let qo = p.int8(&output, "output must be int8, per-tensor quantized")?;
    if qi != qo {
        return Err(p.err(LoadErrorKind::Quantization("input and output quantization differ")));
    }
    if input.shape.dims().len() != 4 || output.shape.dims().len() != 4 {
        return Err(p.shapes("operands must be 4-D"));
    }
    let (in_shape, out_shape) = (p.shape4(&input, "input")?, p.shape4(&output, "output")?);
    let (fh, fw) = (o.filter_h as usize, o.filter_w as usize);
    let (sh, sw) = (o.stride_h as usize, o.stride_w as usize);
    let axis = |input, window, stride| Axis { input, window, stride, dilation: 1 };
    check_window(p, o.padding, [axis(in_shape[1], fh, sh), axis(in_shape[2], fw, sw)])?;
    let (oh, pad_h) =
        padding(o.padding, in_shape[1], fh, sh, 1).ok_or(p.shapes("window does not fit"))?;
    let (ow, pad_w) =
        padding(o.padding, in_shape[2], fw, sw, 1).ok_or(p.shapes("window does not fit"))?;
    if [in_shape[0], oh, ow, in_shape[3]] != out_shape {
        return Err(p.shapes("output size does not follow from padding and strides"));
    }
    if !super::conv::window_fits(oh, sh, fh, 1) || !super::conv::window_fits(ow, sw, fw, 1) {
        return Err(p.shapes("window positions overflow"));
    }
    let geometry =
        Geometry { stride_h: sh, stride_w: sw, dilation_h: 1, dilation_w: 1, pad_h, pad_w };
    let k = Pool::new(kind, geometry, fh, fw, qo.scale, qo.zero_point, o.activation)
        .map_err(|e| p.kernel(e))?;
    w.pod(&PoolRecord {
        kind,
        reserved: [0; 3],
        stride: [sh, sw].map(word),
        pad: [pad_h, pad_w].map(word),
        filter: [fh, fw].map(word),
        activation_min: k.activation_min,
        activation_max: k.activation_max,
        input: shape_words(in_shape),
        output: shape_words(out_shape),
    });
    Ok(Needs::default())
}

/// AVERAGE_POOL_2D's and MAX_POOL_2D's parameters (the whole record).
#[derive(Clone, Copy, Debug, PartialEq, Eq, NoUninit, CheckedBitPattern)]
#[repr(C)]
pub(super) struct PoolRecord {
    /// The reduction.
    pub kind: PoolKind,
    /// Zeros.
    pub reserved: [u8; 3],
    /// Vertical and horizontal stride.
    pub stride: [u32; 2],
    /// Rows and columns of padding before the input.
    pub pad: [u32; 2],
    /// Window height and width.
    pub filter: [u32; 2],
    /// Lower clamp bound.
    pub activation_min: i32,
    /// Upper clamp bound.
    pub activation_max: i32,
    /// Input shape (NHWC).
    pub input: [u32; 4],
    /// Output shape (NHWC).
    pub output: [u32; 4],
}

#[inline(never)]
pub(super) fn eval(r: &mut RecordReader<'_>, io: Operands<'_>) -> Result<(), RunError> {
    let rec: PoolRecord = r.checked()?;
    let [stride_h, stride_w] = rec.stride.map(|v| v as usize);
    let [pad_h, pad_w] = rec.pad.map(|v| v as usize);
    let k = Pool {
        kind: rec.kind,
        geometry: Geometry { stride_h, stride_w, dilation_h: 1, dilation_w: 1, pad_h, pad_w },
        filter_h: rec.filter[0] as usize,
        filter_w: rec.filter[1] as usize,
        activation_min: rec.activation_min,
        activation_max: rec.activation_max,
    };
    let (in_shape, out_shape) = (shape_of(rec.input), shape_of(rec.output));
    k.eval(io.inputs.i8(0)?, in_shape, as_i8_mut(io.output), out_shape).map_err(kernel_err)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::record::assert_round_trip;
    use crate::engine::record::tests::assert_code_checked;

    #[test]
    fn the_record_round_trips_and_checks_its_kind() {
        let rec = PoolRecord {
            kind: PoolKind::Max,
            reserved: [0; 3],
            stride: [2, 2],
            pad: [0, 1],
            filter: [3, 3],
            activation_min: -128,
            activation_max: 127,
            input: [1, 8, 8, 4],
            output: [1, 4, 4, 4],
        };
        assert_round_trip(&rec);
        assert_round_trip(&PoolRecord { kind: PoolKind::Average, ..rec });
        assert_code_checked(&rec, 0, 2);
    }
}
