//! The subset of the TFLite FlatBuffer schema (`tensorflow/lite/schema/schema.fbs`, version 3) that
//! the engine reads: field slots of each table, tensor types, builtin operator codes and their names,
//! and the `BuiltinOptions` union tags of the options we understand.
//!
//! Field slots are the fields' declaration order in the schema (a union takes two slots: its type
//! tag, then its value). Only what the loader reads is listed here.

/// `Model` table fields.
pub mod model {
    /// `version: uint`.
    pub const VERSION: usize = 0;
    /// `operator_codes: [OperatorCode]`.
    pub const OPERATOR_CODES: usize = 1;
    /// `subgraphs: [SubGraph]`.
    pub const SUBGRAPHS: usize = 2;
    /// `description: string`.
    pub const DESCRIPTION: usize = 3;
    /// `buffers: [Buffer]`.
    pub const BUFFERS: usize = 4;
}

/// `OperatorCode` table fields.
pub mod operator_code {
    /// `deprecated_builtin_code: byte` (codes below 127).
    pub const DEPRECATED_BUILTIN_CODE: usize = 0;
    /// `custom_code: string`.
    pub const CUSTOM_CODE: usize = 1;
    /// `version: int = 1`.
    pub const VERSION: usize = 2;
    /// `builtin_code: BuiltinOperator (int)`.
    pub const BUILTIN_CODE: usize = 3;
}

/// `SubGraph` table fields.
pub mod subgraph {
    /// `tensors: [Tensor]`.
    pub const TENSORS: usize = 0;
    /// `inputs: [int]`.
    pub const INPUTS: usize = 1;
    /// `outputs: [int]`.
    pub const OUTPUTS: usize = 2;
    /// `operators: [Operator]`.
    pub const OPERATORS: usize = 3;
}

/// `Buffer` table fields.
pub mod buffer {
    /// `data: [ubyte]`.
    pub const DATA: usize = 0;
    /// `offset: ulong` (data outside the FlatBuffer, for files over 2 GB; valid when > 1).
    pub const OFFSET: usize = 1;
    /// `size: ulong`.
    pub const SIZE: usize = 2;
}

/// `Tensor` table fields.
pub mod tensor {
    /// `shape: [int]`.
    pub const SHAPE: usize = 0;
    /// `type: TensorType (byte)`.
    pub const TYPE: usize = 1;
    /// `buffer: uint` (0: no data).
    pub const BUFFER: usize = 2;
    /// `name: string`.
    pub const NAME: usize = 3;
    /// `quantization: QuantizationParameters`.
    pub const QUANTIZATION: usize = 4;
    /// `is_variable: bool`.
    pub const IS_VARIABLE: usize = 5;
    /// `sparsity: SparsityParameters`.
    pub const SPARSITY: usize = 6;
}

/// `QuantizationParameters` table fields.
pub mod quantization {
    /// `scale: [float]`.
    pub const SCALE: usize = 2;
    /// `zero_point: [long]`.
    pub const ZERO_POINT: usize = 3;
    /// `details_type: QuantizationDetails` (union tag; non-zero means custom quantization).
    pub const DETAILS_TYPE: usize = 4;
    /// `quantized_dimension: int`.
    pub const QUANTIZED_DIMENSION: usize = 6;
}

/// `Operator` table fields.
pub mod operator {
    /// `opcode_index: uint`.
    pub const OPCODE_INDEX: usize = 0;
    /// `inputs: [int]` (-1: optional input absent).
    pub const INPUTS: usize = 1;
    /// `outputs: [int]`.
    pub const OUTPUTS: usize = 2;
    /// `builtin_options_type: BuiltinOptions` (union tag).
    pub const BUILTIN_OPTIONS_TYPE: usize = 3;
    /// `builtin_options: BuiltinOptions` (union value).
    pub const BUILTIN_OPTIONS: usize = 4;
    /// `custom_options: [ubyte]`.
    pub const CUSTOM_OPTIONS: usize = 5;
    /// `intermediates: [int]`.
    pub const INTERMEDIATES: usize = 8;
    /// `builtin_options_2_type` (union tag of the second options union).
    pub const BUILTIN_OPTIONS_2_TYPE: usize = 11;
}

/// `BuiltinOptions` union tags of the options tables the engine reads.
pub mod options_type {
    /// No options table.
    pub const NONE: u8 = 0;
    /// `Conv2DOptions`.
    pub const CONV_2D: u8 = 1;
    /// `DepthwiseConv2DOptions`.
    pub const DEPTHWISE_CONV_2D: u8 = 2;
    /// `Pool2DOptions`.
    pub const POOL_2D: u8 = 5;
    /// `FullyConnectedOptions`.
    pub const FULLY_CONNECTED: u8 = 8;
    /// `SoftmaxOptions`.
    pub const SOFTMAX: u8 = 9;
    /// `ConcatenationOptions`.
    pub const CONCATENATION: u8 = 10;
    /// `AddOptions`.
    pub const ADD: u8 = 11;
    /// `ReshapeOptions`.
    pub const RESHAPE: u8 = 17;
    /// `MulOptions`.
    pub const MUL: u8 = 21;
    /// `PadOptions`.
    pub const PAD: u8 = 22;
    /// `BatchToSpaceNDOptions`.
    pub const BATCH_TO_SPACE_ND: u8 = 24;
    /// `SpaceToBatchNDOptions`.
    pub const SPACE_TO_BATCH_ND: u8 = 25;
    /// `ReducerOptions`.
    pub const REDUCER: u8 = 27;
    /// `SqueezeOptions`.
    pub const SQUEEZE: u8 = 30;
    /// `StridedSliceOptions`.
    pub const STRIDED_SLICE: u8 = 32;
    /// `DequantizeOptions`.
    pub const DEQUANTIZE: u8 = 38;
    /// `ExpandDimsOptions`.
    pub const EXPAND_DIMS: u8 = 52;
    /// `ShapeOptions`.
    pub const SHAPE: u8 = 55;
    /// `PackOptions`.
    pub const PACK: u8 = 59;
    /// `QuantizeOptions`.
    pub const QUANTIZE: u8 = 89;
    /// `UnidirectionalSequenceLSTMOptions`.
    pub const UNIDIRECTIONAL_SEQUENCE_LSTM: u8 = 71;
}

/// `TensorType` values.
pub mod tensor_type {
    /// `FLOAT32`.
    pub const FLOAT32: i8 = 0;
    /// `INT32`.
    pub const INT32: i8 = 2;
    /// `INT64`.
    pub const INT64: i8 = 4;
    /// `INT16`.
    pub const INT16: i8 = 7;
    /// `INT8`.
    pub const INT8: i8 = 9;
}

/// The cargo feature that builds the operator with builtin `code` in (`"op-*"`; `"ops-all"` for
/// an operator the engine does not run at all). The families are listed in `Cargo.toml`.
pub const fn operator_feature(code: i32) -> &'static str {
    match code {
        9 => "op-fully-connected",       // FULLY_CONNECTED
        3 | 4 => "op-conv",              // CONV_2D, DEPTHWISE_CONV_2D
        1 | 17 => "op-pool",             // AVERAGE_POOL_2D, MAX_POOL_2D
        25 => "op-softmax",              // SOFTMAX
        14 | 28 => "op-lut",             // LOGISTIC, TANH
        0 | 18 => "op-arith",            // ADD, MUL
        114 | 6 => "op-quantize",        // QUANTIZE, DEQUANTIZE
        40 => "op-mean",                 // MEAN
        2 | 34 | 37 | 38 => "op-layout", // CONCATENATION, PAD, BATCH/SPACE_TO_*_ND
        77 | 45 | 83 => "op-shape",      // SHAPE, STRIDED_SLICE, PACK
        44 => "op-lstm",                 // UNIDIRECTIONAL_SEQUENCE_LSTM
        _ => "ops-all",
    }
}

/// The name of builtin operator `code` (`"?"` for codes this schema version does not know).
pub fn operator_name(code: i32) -> &'static str {
    usize::try_from(code).ok().and_then(|i| OPERATOR_NAMES.get(i)).copied().unwrap_or("?")
}

/// `BuiltinOperator` names, indexed by code (0 ..= 205).
const OPERATOR_NAMES: [&str; 206] = [
    "ADD",
    "AVERAGE_POOL_2D",
    "CONCATENATION",
    "CONV_2D",
    "DEPTHWISE_CONV_2D",
    "DEPTH_TO_SPACE",
    "DEQUANTIZE",
    "EMBEDDING_LOOKUP",
    "FLOOR",
    "FULLY_CONNECTED",
    "HASHTABLE_LOOKUP",
    "L2_NORMALIZATION",
    "L2_POOL_2D",
    "LOCAL_RESPONSE_NORMALIZATION",
    "LOGISTIC",
    "LSH_PROJECTION",
    "LSTM",
    "MAX_POOL_2D",
    "MUL",
    "RELU",
    "RELU_N1_TO_1",
    "RELU6",
    "RESHAPE",
    "RESIZE_BILINEAR",
    "RNN",
    "SOFTMAX",
    "SPACE_TO_DEPTH",
    "SVDF",
    "TANH",
    "CONCAT_EMBEDDINGS",
    "SKIP_GRAM",
    "CALL",
    "CUSTOM",
    "EMBEDDING_LOOKUP_SPARSE",
    "PAD",
    "UNIDIRECTIONAL_SEQUENCE_RNN",
    "GATHER",
    "BATCH_TO_SPACE_ND",
    "SPACE_TO_BATCH_ND",
    "TRANSPOSE",
    "MEAN",
    "SUB",
    "DIV",
    "SQUEEZE",
    "UNIDIRECTIONAL_SEQUENCE_LSTM",
    "STRIDED_SLICE",
    "BIDIRECTIONAL_SEQUENCE_RNN",
    "EXP",
    "TOPK_V2",
    "SPLIT",
    "LOG_SOFTMAX",
    "DELEGATE",
    "BIDIRECTIONAL_SEQUENCE_LSTM",
    "CAST",
    "PRELU",
    "MAXIMUM",
    "ARG_MAX",
    "MINIMUM",
    "LESS",
    "NEG",
    "PADV2",
    "GREATER",
    "GREATER_EQUAL",
    "LESS_EQUAL",
    "SELECT",
    "SLICE",
    "SIN",
    "TRANSPOSE_CONV",
    "SPARSE_TO_DENSE",
    "TILE",
    "EXPAND_DIMS",
    "EQUAL",
    "NOT_EQUAL",
    "LOG",
    "SUM",
    "SQRT",
    "RSQRT",
    "SHAPE",
    "POW",
    "ARG_MIN",
    "FAKE_QUANT",
    "REDUCE_PROD",
    "REDUCE_MAX",
    "PACK",
    "LOGICAL_OR",
    "ONE_HOT",
    "LOGICAL_AND",
    "LOGICAL_NOT",
    "UNPACK",
    "REDUCE_MIN",
    "FLOOR_DIV",
    "REDUCE_ANY",
    "SQUARE",
    "ZEROS_LIKE",
    "FILL",
    "FLOOR_MOD",
    "RANGE",
    "RESIZE_NEAREST_NEIGHBOR",
    "LEAKY_RELU",
    "SQUARED_DIFFERENCE",
    "MIRROR_PAD",
    "ABS",
    "SPLIT_V",
    "UNIQUE",
    "CEIL",
    "REVERSE_V2",
    "ADD_N",
    "GATHER_ND",
    "COS",
    "WHERE",
    "RANK",
    "ELU",
    "REVERSE_SEQUENCE",
    "MATRIX_DIAG",
    "QUANTIZE",
    "MATRIX_SET_DIAG",
    "ROUND",
    "HARD_SWISH",
    "IF",
    "WHILE",
    "NON_MAX_SUPPRESSION_V4",
    "NON_MAX_SUPPRESSION_V5",
    "SCATTER_ND",
    "SELECT_V2",
    "DENSIFY",
    "SEGMENT_SUM",
    "BATCH_MATMUL",
    "PLACEHOLDER_FOR_GREATER_OP_CODES",
    "CUMSUM",
    "CALL_ONCE",
    "BROADCAST_TO",
    "RFFT2D",
    "CONV_3D",
    "IMAG",
    "REAL",
    "COMPLEX_ABS",
    "HASHTABLE",
    "HASHTABLE_FIND",
    "HASHTABLE_IMPORT",
    "HASHTABLE_SIZE",
    "REDUCE_ALL",
    "CONV_3D_TRANSPOSE",
    "VAR_HANDLE",
    "READ_VARIABLE",
    "ASSIGN_VARIABLE",
    "BROADCAST_ARGS",
    "RANDOM_STANDARD_NORMAL",
    "BUCKETIZE",
    "RANDOM_UNIFORM",
    "MULTINOMIAL",
    "GELU",
    "DYNAMIC_UPDATE_SLICE",
    "RELU_0_TO_1",
    "UNSORTED_SEGMENT_PROD",
    "UNSORTED_SEGMENT_MAX",
    "UNSORTED_SEGMENT_SUM",
    "ATAN2",
    "UNSORTED_SEGMENT_MIN",
    "SIGN",
    "BITCAST",
    "BITWISE_XOR",
    "RIGHT_SHIFT",
    "STABLEHLO_LOGISTIC",
    "STABLEHLO_ADD",
    "STABLEHLO_DIVIDE",
    "STABLEHLO_MULTIPLY",
    "STABLEHLO_MAXIMUM",
    "STABLEHLO_RESHAPE",
    "STABLEHLO_CLAMP",
    "STABLEHLO_CONCATENATE",
    "STABLEHLO_BROADCAST_IN_DIM",
    "STABLEHLO_CONVOLUTION",
    "STABLEHLO_SLICE",
    "STABLEHLO_CUSTOM_CALL",
    "STABLEHLO_REDUCE",
    "STABLEHLO_ABS",
    "STABLEHLO_AND",
    "STABLEHLO_COSINE",
    "STABLEHLO_EXPONENTIAL",
    "STABLEHLO_FLOOR",
    "STABLEHLO_LOG",
    "STABLEHLO_MINIMUM",
    "STABLEHLO_NEGATE",
    "STABLEHLO_OR",
    "STABLEHLO_POWER",
    "STABLEHLO_REMAINDER",
    "STABLEHLO_RSQRT",
    "STABLEHLO_SELECT",
    "STABLEHLO_SUBTRACT",
    "STABLEHLO_TANH",
    "STABLEHLO_SCATTER",
    "STABLEHLO_COMPARE",
    "STABLEHLO_CONVERT",
    "STABLEHLO_DYNAMIC_SLICE",
    "STABLEHLO_DYNAMIC_UPDATE_SLICE",
    "STABLEHLO_PAD",
    "STABLEHLO_IOTA",
    "STABLEHLO_DOT_GENERAL",
    "STABLEHLO_REDUCE_WINDOW",
    "STABLEHLO_SORT",
    "STABLEHLO_WHILE",
    "STABLEHLO_GATHER",
    "STABLEHLO_TRANSPOSE",
    "DILATE",
    "STABLEHLO_RNG_BIT_GENERATOR",
    "REDUCE_WINDOW",
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_follow_the_schema_numbering() {
        assert_eq!(operator_name(0), "ADD");
        assert_eq!(operator_name(9), "FULLY_CONNECTED");
        assert_eq!(operator_name(77), "SHAPE");
        assert_eq!(operator_name(114), "QUANTIZE");
        assert_eq!(operator_name(150), "GELU");
        assert_eq!(operator_name(205), "REDUCE_WINDOW");
        assert_eq!(operator_name(206), "?");
        assert_eq!(operator_name(-1), "?");
    }
}
