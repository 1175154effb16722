//! Operators as the model file describes them: the builtin code (resolved from the two code
//! fields), the version, the operand tensor indices and the parsed, checked options.
//!
//! [`Op`] lists every operator the engine runs, with the options it honours. An operator, version
//! or option value outside that list is refused here, at load time, with the operator's name.
//! What the operator requires of its operands (types, shapes) is checked by its preparation in
//! `ops`.

use crate::engine::arith::FusedActivation;
use crate::engine::error::LoadErrorKind;
use crate::engine::format::flatbuffer::{FbError, Table, Words};
use crate::engine::format::schema::{operator_code, operator_name, options_type, tensor_type};

/// Builtin operator codes the engine runs.
#[allow(missing_docs)]
pub mod code {
    pub const ADD: i32 = 0;
    pub const AVERAGE_POOL_2D: i32 = 1;
    pub const CONCATENATION: i32 = 2;
    pub const CONV_2D: i32 = 3;
    pub const DEPTHWISE_CONV_2D: i32 = 4;
    pub const DEQUANTIZE: i32 = 6;
    pub const FULLY_CONNECTED: i32 = 9;
    pub const LOGISTIC: i32 = 14;
    pub const MAX_POOL_2D: i32 = 17;
    pub const MUL: i32 = 18;
    pub const RESHAPE: i32 = 22;
    pub const SOFTMAX: i32 = 25;
    pub const TANH: i32 = 28;
    pub const CUSTOM: i32 = 32;
    pub const PAD: i32 = 34;
    pub const BATCH_TO_SPACE_ND: i32 = 37;
    pub const SPACE_TO_BATCH_ND: i32 = 38;
    pub const MEAN: i32 = 40;
    pub const SQUEEZE: i32 = 43;
    pub const UNIDIRECTIONAL_SEQUENCE_LSTM: i32 = 44;
    pub const STRIDED_SLICE: i32 = 45;
    pub const EXPAND_DIMS: i32 = 70;
    pub const SHAPE: i32 = 77;
    pub const PACK: i32 = 83;
    pub const QUANTIZE: i32 = 114;
}

pub use crate::engine::kernels::Padding;

/// CONV_2D options.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct ConvOptions {
    /// Border handling.
    pub padding: Padding,
    /// Horizontal stride.
    pub stride_w: i32,
    /// Vertical stride.
    pub stride_h: i32,
    /// Horizontal dilation.
    pub dilation_w: i32,
    /// Vertical dilation.
    pub dilation_h: i32,
    /// Fused activation.
    pub activation: FusedActivation,
}

/// AVERAGE_POOL_2D / MAX_POOL_2D options.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct PoolOptions {
    /// Border handling.
    pub padding: Padding,
    /// Horizontal stride.
    pub stride_w: i32,
    /// Vertical stride.
    pub stride_h: i32,
    /// Window width.
    pub filter_w: i32,
    /// Window height.
    pub filter_h: i32,
    /// Fused activation.
    pub activation: FusedActivation,
}

/// STRIDED_SLICE options (bit masks over the dimensions).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct StridedSliceOptions {
    /// Dimensions whose `begin` is ignored (start from the edge).
    pub begin_mask: i32,
    /// Dimensions whose `end` is ignored (run to the edge).
    pub end_mask: i32,
    /// Dimensions removed from the output (a single index taken).
    pub shrink_axis_mask: i32,
    /// `end` is relative to `begin`.
    pub offset: bool,
}

/// UNIDIRECTIONAL_SEQUENCE_LSTM options.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct LstmOptions {
    /// Bound on the cell state's magnitude (0: no clipping).
    pub cell_clip: f32,
    /// Bound on the projection's magnitude (0: no clipping).
    pub proj_clip: f32,
    /// Input laid out `[time, batch, features]` instead of `[batch, time, features]`.
    pub time_major: bool,
}

/// An operator the engine runs, with its options.
#[derive(Clone, Copy, Debug, PartialEq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[allow(missing_docs)]
pub enum Op {
    Add {
        activation: FusedActivation,
    },
    AveragePool2d(PoolOptions),
    BatchToSpaceNd,
    Concatenation {
        axis: i32,
        activation: FusedActivation,
    },
    Conv2d(ConvOptions),
    DepthwiseConv2d {
        conv: ConvOptions,
        depth_multiplier: i32,
    },
    Dequantize,
    ExpandDims,
    FullyConnected {
        activation: FusedActivation,
        keep_num_dims: bool,
    },
    Logistic,
    MaxPool2d(PoolOptions),
    Mean {
        keep_dims: bool,
    },
    Mul {
        activation: FusedActivation,
    },
    Pack {
        values_count: i32,
        axis: i32,
    },
    Pad,
    Quantize,
    Reshape,
    Shape,
    Softmax {
        beta: f32,
    },
    SpaceToBatchNd,
    Squeeze,
    StridedSlice(StridedSliceOptions),
    Tanh,
    UnidirectionalSequenceLstm(LstmOptions),
    /// A CUSTOM operator: its kernel is registered by the application
    /// ([`Kernels`](crate::engine::model::kernel::Kernels)), its options are raw bytes
    /// ([`TfLiteModel::custom_options`](crate::engine::TfLiteModel::custom_options)).
    Custom,
}

impl Op {
    /// True for operators that only reinterpret their input's shape: their output shares the
    /// input's memory (no copy).
    pub fn is_reshape(&self) -> bool {
        matches!(self, Op::Reshape | Op::ExpandDims | Op::Squeeze)
    }
}

/// The builtin code and version of operator code table `c`.
pub fn resolve_code(c: Table<'_>) -> Result<(i32, i32), LoadErrorKind> {
    let bad = |e: FbError| LoadErrorKind::Malformed {
        field: "operator code",
        at: u32::try_from(e.at).unwrap_or(u32::MAX),
    };
    let deprecated = c.i8(operator_code::DEPRECATED_BUILTIN_CODE, 0).map_err(bad)?;
    let builtin = c.i32(operator_code::BUILTIN_CODE, 0).map_err(bad)?;
    // Files from before the 32-bit field carry only the 8-bit one; newer files carry both (the
    // 8-bit one saturated at 127 for codes that do not fit). The larger is the real code.
    let code = builtin.max(deprecated as i32);
    let version = c.i32(operator_code::VERSION, 1).map_err(bad)?;
    Ok((code, version))
}

fn bad_options(e: FbError) -> LoadErrorKind {
    LoadErrorKind::Malformed {
        field: "operator options",
        at: u32::try_from(e.at).unwrap_or(u32::MAX),
    }
}

fn activation(code: i8) -> Result<FusedActivation, LoadErrorKind> {
    match code {
        0 => Ok(FusedActivation::None),
        1 => Ok(FusedActivation::Relu),
        2 => Ok(FusedActivation::ReluN1To1),
        3 => Ok(FusedActivation::Relu6),
        4 => Err(LoadErrorKind::UnsupportedOption("fused activation TANH")),
        5 => Err(LoadErrorKind::UnsupportedOption("fused activation SIGN_BIT")),
        _ => Err(LoadErrorKind::UnsupportedOption("unknown fused activation")),
    }
}

fn padding(code: i8) -> Result<Padding, LoadErrorKind> {
    match code {
        0 => Ok(Padding::Same),
        1 => Ok(Padding::Valid),
        _ => Err(LoadErrorKind::UnsupportedOption("unknown padding")),
    }
}

/// A bias/accumulator type override other than int32 is not supported.
fn check_bias_type(o: &Table<'_>, id: usize) -> Result<(), LoadErrorKind> {
    match o.i8(id, 0).map_err(bad_options)? {
        0 | tensor_type::INT32 => Ok(()),
        _ => Err(LoadErrorKind::UnsupportedOption("quantized_bias_type")),
    }
}

/// Whether the operator with builtin `code` is compiled in: the cargo features `op-*` select
/// operator families (all by default); a model using one left out is refused at load with
/// [`LoadErrorKind::OperatorNotBuilt`]. RESHAPE, EXPAND_DIMS and SQUEEZE (no code) are always in.
pub const fn built(code: i32) -> bool {
    use crate::engine::model::operator::code as c;
    match code {
        c::FULLY_CONNECTED => cfg!(feature = "op-fully-connected"),
        c::CONV_2D | c::DEPTHWISE_CONV_2D => cfg!(feature = "op-conv"),
        c::AVERAGE_POOL_2D | c::MAX_POOL_2D => cfg!(feature = "op-pool"),
        c::SOFTMAX => cfg!(feature = "op-softmax"),
        c::LOGISTIC | c::TANH => cfg!(feature = "op-lut"),
        c::ADD | c::MUL => cfg!(feature = "op-arith"),
        c::QUANTIZE | c::DEQUANTIZE => cfg!(feature = "op-quantize"),
        c::MEAN => cfg!(feature = "op-mean"),
        c::CONCATENATION | c::PAD | c::SPACE_TO_BATCH_ND | c::BATCH_TO_SPACE_ND => {
            cfg!(feature = "op-layout")
        }
        c::SHAPE | c::STRIDED_SLICE | c::PACK => cfg!(feature = "op-shape"),
        c::UNIDIRECTIONAL_SEQUENCE_LSTM => cfg!(feature = "op-lstm"),
        _ => true,
    }
}

pub use crate::engine::format::schema::operator_feature as feature;

/// True if this build runs builtin `code` with float32 activations (feature `op-float`, and the
/// operator's family built): the arithmetic operators with float kernels, and the operators that
/// only move or reshape elements.
pub const fn float_built(code: i32) -> bool {
    cfg!(feature = "op-float") && float_kernel(code)
}

/// [`float_built`] in a build with `op-float`: the operators with float32 kernels whose family
/// is built.
pub const fn float_kernel(code: i32) -> bool {
    use crate::engine::model::operator::code as c;
    built(code)
        && matches!(
            code,
            c::CONV_2D
                | c::DEPTHWISE_CONV_2D
                | c::FULLY_CONNECTED
                | c::ADD
                | c::MUL
                | c::MEAN
                | c::AVERAGE_POOL_2D
                | c::MAX_POOL_2D
                | c::SOFTMAX
                | c::LOGISTIC
                | c::TANH
                | c::RESHAPE
                | c::EXPAND_DIMS
                | c::SQUEEZE
                | c::CONCATENATION
                | c::PAD
                | c::SPACE_TO_BATCH_ND
                | c::BATCH_TO_SPACE_ND
                | c::STRIDED_SLICE
                | c::PACK
        )
}

/// True if this build runs builtin `code` with int8 weights and float32 activations (the
/// dynamic-range, or hybrid, form): FULLY_CONNECTED, CONV_2D and DEPTHWISE_CONV_2D with
/// `op-float`.
pub const fn hybrid_built(code: i32) -> bool {
    cfg!(feature = "op-float") && hybrid_kernel(code)
}

/// [`hybrid_built`] in a build with `op-float`.
pub const fn hybrid_kernel(code: i32) -> bool {
    built(code) && matches!(code, code::FULLY_CONNECTED | code::CONV_2D | code::DEPTHWISE_CONV_2D)
}

/// Parses and checks the options of operator table `op` whose builtin code is `code`.
pub fn parse_op(code: i32, op: Table<'_>) -> Result<Op, LoadErrorKind> {
    use crate::engine::format::schema::operator as f;
    if code == code::CUSTOM {
        return Ok(Op::Custom);
    }
    // Versions are the operator table's to accept (the `ops` layer); here, only what the options
    // say.
    if op.u8(f::BUILTIN_OPTIONS_2_TYPE, 0).map_err(bad_options)? != 0 {
        return Err(LoadErrorKind::WrongOptions);
    }
    let tag = op.u8(f::BUILTIN_OPTIONS_TYPE, 0).map_err(bad_options)?;
    let table = op.table(f::BUILTIN_OPTIONS).map_err(bad_options)?;
    // The options table, if the tag names the expected type (absent: all fields default).
    let options = |expected: u8| -> Result<Option<Table<'_>>, LoadErrorKind> {
        match (tag, table) {
            (options_type::NONE, _) => Ok(None),
            (t, Some(table)) if t == expected => Ok(Some(table)),
            (t, None) if t == expected => Ok(None),
            _ => Err(LoadErrorKind::WrongOptions),
        }
    };
    // Reads field `id` of an optional table with a default.
    fn i32_of(t: &Option<Table<'_>>, id: usize, d: i32) -> Result<i32, LoadErrorKind> {
        t.map_or(Ok(d), |t| t.i32(id, d).map_err(bad_options))
    }
    fn i8_of(t: &Option<Table<'_>>, id: usize) -> Result<i8, LoadErrorKind> {
        t.map_or(Ok(0), |t| t.i8(id, 0).map_err(bad_options))
    }
    fn bool_of(t: &Option<Table<'_>>, id: usize) -> Result<bool, LoadErrorKind> {
        t.map_or(Ok(false), |t| t.bool(id, false).map_err(bad_options))
    }

    Ok(match code {
        code::ADD | code::MUL if built(code::ADD) => {
            let o = options(if code == code::ADD { options_type::ADD } else { options_type::MUL })?;
            let activation = activation(i8_of(&o, 0)?)?;
            if code == code::ADD {
                Op::Add { activation }
            } else {
                Op::Mul { activation }
            }
        }
        code::AVERAGE_POOL_2D | code::MAX_POOL_2D if built(code::AVERAGE_POOL_2D) => {
            let o = options(options_type::POOL_2D)?;
            let p = PoolOptions {
                padding: padding(i8_of(&o, 0)?)?,
                stride_w: i32_of(&o, 1, 0)?,
                stride_h: i32_of(&o, 2, 0)?,
                filter_w: i32_of(&o, 3, 0)?,
                filter_h: i32_of(&o, 4, 0)?,
                activation: activation(i8_of(&o, 5)?)?,
            };
            if p.stride_w < 1 || p.stride_h < 1 || p.filter_w < 1 || p.filter_h < 1 {
                return Err(LoadErrorKind::UnsupportedOption("stride or window below 1"));
            }
            if code == code::AVERAGE_POOL_2D {
                Op::AveragePool2d(p)
            } else {
                Op::MaxPool2d(p)
            }
        }
        code::CONV_2D if built(code::CONV_2D) => {
            let o = options(options_type::CONV_2D)?;
            check_bias_type_opt(&o, 6)?;
            Op::Conv2d(conv_options(&o, [0, 1, 2, 4, 5], activation(i8_of(&o, 3)?)?)?)
        }
        code::DEPTHWISE_CONV_2D if built(code::CONV_2D) => {
            let o = options(options_type::DEPTHWISE_CONV_2D)?;
            Op::DepthwiseConv2d {
                conv: conv_options(&o, [0, 1, 2, 5, 6], activation(i8_of(&o, 4)?)?)?,
                depth_multiplier: i32_of(&o, 3, 0)?,
            }
        }
        code::FULLY_CONNECTED if built(code::FULLY_CONNECTED) => {
            let o = options(options_type::FULLY_CONNECTED)?;
            if i8_of(&o, 1)? != 0 {
                return Err(LoadErrorKind::UnsupportedOption("shuffled weights format"));
            }
            check_bias_type_opt(&o, 4)?;
            Op::FullyConnected {
                activation: activation(i8_of(&o, 0)?)?,
                keep_num_dims: bool_of(&o, 2)?,
            }
        }
        code::SOFTMAX if built(code::SOFTMAX) => {
            let o = options(options_type::SOFTMAX)?;
            let beta = o.map_or(Ok(0.0), |t| t.f32(0, 0.0).map_err(bad_options))?;
            if !beta.is_finite() {
                return Err(LoadErrorKind::UnsupportedOption("softmax beta not finite"));
            }
            Op::Softmax { beta }
        }
        code::CONCATENATION if built(code::PAD) => {
            let o = options(options_type::CONCATENATION)?;
            Op::Concatenation { axis: i32_of(&o, 0, 0)?, activation: activation(i8_of(&o, 1)?)? }
        }
        code::MEAN if built(code::MEAN) => {
            let o = options(options_type::REDUCER)?;
            Op::Mean { keep_dims: bool_of(&o, 0)? }
        }
        code::STRIDED_SLICE if built(code::STRIDED_SLICE) => {
            let o = options(options_type::STRIDED_SLICE)?;
            if i32_of(&o, 2, 0)? != 0 || i32_of(&o, 3, 0)? != 0 {
                return Err(LoadErrorKind::UnsupportedOption(
                    "strided slice ellipsis or new-axis mask",
                ));
            }
            Op::StridedSlice(StridedSliceOptions {
                begin_mask: i32_of(&o, 0, 0)?,
                end_mask: i32_of(&o, 1, 0)?,
                shrink_axis_mask: i32_of(&o, 4, 0)?,
                offset: bool_of(&o, 5)?,
            })
        }
        code::PACK if built(code::STRIDED_SLICE) => {
            let o = options(options_type::PACK)?;
            Op::Pack { values_count: i32_of(&o, 0, 0)?, axis: i32_of(&o, 1, 0)? }
        }
        code::RESHAPE => {
            options(options_type::RESHAPE)?;
            Op::Reshape
        }
        code::SQUEEZE => {
            options(options_type::SQUEEZE)?;
            Op::Squeeze
        }
        code::EXPAND_DIMS => {
            options(options_type::EXPAND_DIMS)?;
            Op::ExpandDims
        }
        code::SHAPE if built(code::SHAPE) => {
            options(options_type::SHAPE)?;
            Op::Shape
        }
        code::PAD if built(code::PAD) => {
            options(options_type::PAD)?;
            Op::Pad
        }
        code::SPACE_TO_BATCH_ND if built(code::PAD) => {
            options(options_type::SPACE_TO_BATCH_ND)?;
            Op::SpaceToBatchNd
        }
        code::BATCH_TO_SPACE_ND if built(code::PAD) => {
            options(options_type::BATCH_TO_SPACE_ND)?;
            Op::BatchToSpaceNd
        }
        code::QUANTIZE if built(code::QUANTIZE) => {
            options(options_type::QUANTIZE)?;
            Op::Quantize
        }
        code::DEQUANTIZE if built(code::QUANTIZE) => {
            options(options_type::DEQUANTIZE)?;
            Op::Dequantize
        }
        code::UNIDIRECTIONAL_SEQUENCE_LSTM if built(code::UNIDIRECTIONAL_SEQUENCE_LSTM) => {
            let o = options(options_type::UNIDIRECTIONAL_SEQUENCE_LSTM)?;
            let f32_of = |id: usize| o.map_or(Ok(0.0), |t| t.f32(id, 0.0).map_err(bad_options));
            // The cell's activation: the integer LSTM runs TANH only.
            if i8_of(&o, 0)? != 4 {
                return Err(LoadErrorKind::UnsupportedOption("LSTM activation other than TANH"));
            }
            let options = LstmOptions {
                cell_clip: f32_of(1)?,
                proj_clip: f32_of(2)?,
                time_major: bool_of(&o, 3)?,
            };
            let valid = |c: f32| c.is_finite() && c >= 0.0;
            if !(valid(options.cell_clip) && valid(options.proj_clip)) {
                return Err(LoadErrorKind::UnsupportedOption("LSTM clip negative or not finite"));
            }
            if bool_of(&o, 5)? {
                return Err(LoadErrorKind::UnsupportedOption("LSTM diagonal recurrent tensors"));
            }
            Op::UnidirectionalSequenceLstm(options)
        }
        code::LOGISTIC if built(code::LOGISTIC) => Op::Logistic,
        code::TANH if built(code::LOGISTIC) => Op::Tanh,
        _ if !built(code) => return Err(LoadErrorKind::OperatorNotBuilt(code)),
        _ => return Err(LoadErrorKind::UnsupportedOperator(code)),
    })
}

fn check_bias_type_opt(o: &Option<Table<'_>>, id: usize) -> Result<(), LoadErrorKind> {
    match o {
        Some(t) => check_bias_type(t, id),
        None => Ok(()),
    }
}

/// Conv-like options from fields `[padding, stride_w, stride_h, dilation_w, dilation_h]`.
fn conv_options(
    o: &Option<Table<'_>>,
    ids: [usize; 5],
    activation: FusedActivation,
) -> Result<ConvOptions, LoadErrorKind> {
    let int = |id: usize, d: i32| o.map_or(Ok(d), |t| t.i32(id, d).map_err(bad_options));
    let pad = o.map_or(Ok(0), |t| t.i8(ids[0], 0).map_err(bad_options))?;
    let c = ConvOptions {
        padding: padding(pad)?,
        stride_w: int(ids[1], 0)?,
        stride_h: int(ids[2], 0)?,
        dilation_w: int(ids[3], 1)?,
        dilation_h: int(ids[4], 1)?,
        activation,
    };
    if c.stride_w < 1 || c.stride_h < 1 || c.dilation_w < 1 || c.dilation_h < 1 {
        return Err(LoadErrorKind::UnsupportedOption("stride or dilation below 1"));
    }
    Ok(c)
}

/// One operator of the model, as read (and checked) at load.
#[derive(Clone, Copy, Debug)]
pub struct OperatorInfo<'m> {
    /// Position in execution order.
    pub index: u32,
    /// Builtin code.
    pub code: i32,
    /// Operator version.
    pub version: i32,
    /// What it does, with its options.
    pub op: Op,
    /// The model file (the operand lists below are positions in it).
    pub(crate) file: &'m [u8],
    pub(crate) inputs: Words,
    pub(crate) outputs: Words,
}

impl<'m> OperatorInfo<'m> {
    /// Builtin operator name (`"CONV_2D"`, ...).
    pub fn name(&self) -> &'static str {
        operator_name(self.code)
    }

    /// Number of inputs (including absent optional ones).
    pub fn input_count(&self) -> usize {
        self.inputs.len()
    }

    /// Tensor index of input `j`; `None` if absent (optional input) or `j` out of range.
    pub fn input(&self, j: usize) -> Option<u32> {
        self.inputs.tensor(self.file, j)
    }

    /// Number of outputs.
    pub fn output_count(&self) -> usize {
        self.outputs.len()
    }

    /// Tensor index of output `j`.
    pub fn output(&self, j: usize) -> Option<u32> {
        self.outputs.tensor(self.file, j)
    }

    /// Input tensor indices, in order (`None` for an absent optional input).
    pub fn inputs(&self) -> impl Iterator<Item = Option<u32>> + 'm {
        let v = self.inputs.vector(self.file);
        (0..v.len()).map(move |j| v.i32(j).ok().and_then(|t| u32::try_from(t).ok()))
    }

    /// Output tensor indices, in order.
    pub fn outputs(&self) -> impl Iterator<Item = Option<u32>> + 'm {
        let v = self.outputs.vector(self.file);
        (0..v.len()).map(move |j| v.i32(j).ok().and_then(|t| u32::try_from(t).ok()))
    }
}

#[cfg(test)]
mod tests {
    use super::{built, code, feature};

    /// The refusal of an operator left out of the build names the feature that builds it.
    #[test]
    fn every_family_names_its_feature() {
        let families = [
            (code::FULLY_CONNECTED, "op-fully-connected"),
            (code::CONV_2D, "op-conv"),
            (code::DEPTHWISE_CONV_2D, "op-conv"),
            (code::AVERAGE_POOL_2D, "op-pool"),
            (code::MAX_POOL_2D, "op-pool"),
            (code::SOFTMAX, "op-softmax"),
            (code::LOGISTIC, "op-lut"),
            (code::TANH, "op-lut"),
            (code::ADD, "op-arith"),
            (code::MUL, "op-arith"),
            (code::QUANTIZE, "op-quantize"),
            (code::DEQUANTIZE, "op-quantize"),
            (code::MEAN, "op-mean"),
            (code::CONCATENATION, "op-layout"),
            (code::PAD, "op-layout"),
            (code::SPACE_TO_BATCH_ND, "op-layout"),
            (code::BATCH_TO_SPACE_ND, "op-layout"),
            (code::SHAPE, "op-shape"),
            (code::STRIDED_SLICE, "op-shape"),
            (code::PACK, "op-shape"),
            (code::UNIDIRECTIONAL_SEQUENCE_LSTM, "op-lstm"),
        ];
        for (c, f) in families {
            assert_eq!(feature(c), f, "builtin code {c}");
        }
    }

    #[test]
    fn operator_families_follow_their_features() {
        let families = [
            (code::FULLY_CONNECTED, cfg!(feature = "op-fully-connected")),
            (code::CONV_2D, cfg!(feature = "op-conv")),
            (code::DEPTHWISE_CONV_2D, cfg!(feature = "op-conv")),
            (code::AVERAGE_POOL_2D, cfg!(feature = "op-pool")),
            (code::MAX_POOL_2D, cfg!(feature = "op-pool")),
            (code::SOFTMAX, cfg!(feature = "op-softmax")),
            (code::LOGISTIC, cfg!(feature = "op-lut")),
            (code::TANH, cfg!(feature = "op-lut")),
            (code::ADD, cfg!(feature = "op-arith")),
            (code::MUL, cfg!(feature = "op-arith")),
            (code::QUANTIZE, cfg!(feature = "op-quantize")),
            (code::DEQUANTIZE, cfg!(feature = "op-quantize")),
            (code::MEAN, cfg!(feature = "op-mean")),
            (code::CONCATENATION, cfg!(feature = "op-layout")),
            (code::PAD, cfg!(feature = "op-layout")),
            (code::SPACE_TO_BATCH_ND, cfg!(feature = "op-layout")),
            (code::BATCH_TO_SPACE_ND, cfg!(feature = "op-layout")),
            (code::SHAPE, cfg!(feature = "op-shape")),
            (code::STRIDED_SLICE, cfg!(feature = "op-shape")),
            (code::PACK, cfg!(feature = "op-shape")),
            (code::RESHAPE, true),
            (code::EXPAND_DIMS, true),
            (code::SQUEEZE, true),
            (code::UNIDIRECTIONAL_SEQUENCE_LSTM, cfg!(feature = "op-lstm")),
        ];
        for (c, on) in families {
            assert_eq!(built(c), on, "builtin code {c}");
        }
    }
}
