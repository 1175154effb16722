//! The engine's errors: [`LoadError`] (what is wrong with a model file, and where) and
//! [`RunError`] (what went wrong planning the arena or running the model).
//!
//! Every error is a plain value (no allocation, `Copy`); `Display` writes a one-line explanation,
//! which for float and dynamic-range models says how to convert them to a full-integer model.

use crate::engine::format::schema::tensor_type;
use crate::engine::kernels::KernelError;
use core::fmt;

/// Where in a model file a problem was found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Site {
    /// The file as a whole (header, root table).
    File,
    /// Entry `n` of the model's `operator_codes`.
    OperatorCode(u32),
    /// Entry `n` of the model's `buffers`.
    Buffer(u32),
    /// The main subgraph (its inputs/outputs lists).
    Subgraph,
    /// Tensor `n` of the main subgraph.
    Tensor(u32),
    /// Operator `index` of the main subgraph (in execution order), a `name` operator.
    Operator {
        /// Position in execution order.
        index: u32,
        /// Builtin operator name (`"?"` when unknown).
        name: &'static str,
    },
}

/// What is wrong (see [`LoadError`] for where).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum LoadErrorKind {
    /// The file is shorter than a FlatBuffer header.
    TooShort,
    /// The file identifier (bytes 4..8) is not `TFL3`.
    NotTfLite,
    /// The schema version is not 3.
    SchemaVersion(u32),
    /// A FlatBuffer offset or length points outside the file (byte offset `at`).
    Malformed {
        /// The field being read.
        field: &'static str,
        /// Byte offset of the broken structure.
        at: u32,
    },
    /// A required field is absent.
    Missing(&'static str),
    /// An index refers past the end of the list it indexes.
    IndexOutOfRange {
        /// The field holding the index.
        field: &'static str,
        /// The index found.
        index: i64,
        /// The length of the list.
        len: u32,
    },
    /// More dimensions than the engine supports (6).
    RankTooLarge(u32),
    /// A negative (dynamic) dimension.
    DynamicShape,
    /// The element count or byte size overflows (or exceeds 2^31 bytes).
    TooLarge,
    /// A tensor type the engine does not handle (the schema's `TensorType` code).
    UnsupportedType(i8),
    /// A constant's data does not hold `expected` bytes.
    DataSize {
        /// Bytes the shape and type call for.
        expected: u32,
        /// Bytes in the buffer.
        found: u32,
    },
    /// Quantization parameters that are malformed or not supported.
    Quantization(&'static str),
    /// Sparse tensors are not supported.
    Sparse,
    /// A variable (state) tensor used other than as the output or cell state of one
    /// UNIDIRECTIONAL_SEQUENCE_LSTM (the only operator that keeps state).
    Variable,
    /// The model has no subgraph.
    NoSubgraph,
    /// The operator is not supported (`code` is the builtin code).
    UnsupportedOperator(i32),
    /// The operator's family was left out of this build (cargo features `op-*`; `code` is the
    /// builtin code).
    OperatorNotBuilt(i32),
    /// Custom operators are not supported.
    CustomOperator,
    /// The operator's version is newer than the engine knows (or not positive).
    UnsupportedVersion(i32),
    /// An option value the engine does not support (named).
    UnsupportedOption(&'static str),
    /// The options table is of the wrong type for the operator.
    WrongOptions,
    /// The operator has the wrong number of inputs or outputs.
    Arity {
        /// Inputs found.
        inputs: u32,
        /// Outputs found.
        outputs: u32,
    },
    /// Operand types the operator does not support (named).
    Types(&'static str),
    /// Operand shapes that do not agree (named).
    Shapes(&'static str),
    /// A quantization parameter the kernels cannot represent.
    Kernel(KernelError),
    /// An operator with float32 operands this build cannot run: without the `op-float` feature
    /// (the message says to enable it), or one with no float32 kernel.
    FloatModel,
    /// An operator with int8 weights and float32 activations (dynamic-range quantization) this
    /// build cannot run: without the `op-float` feature, or other than FULLY_CONNECTED, CONV_2D
    /// and DEPTHWISE_CONV_2D.
    DynamicRangeModel,
    /// An operator reads tensor `n`, which it also writes.
    ReadsOwnOutput(u32),
    /// Tensor `n` is written by more than one operator (or is a graph input or a constant).
    WrittenTwice(u32),
    /// Tensor `n` is read before any operator writes it (and it is neither a graph input nor a
    /// constant); this also catches cycles.
    ReadBeforeWritten(u32),
    /// Graph output tensor `n` is never written (nor a graph input or constant).
    NeverWritten(u32),
    /// The graph has no input or no output.
    NoInputsOrOutputs,
    /// Tensor `n`, an operand or graph input/output that is not a constant, has no elements.
    EmptyTensor(u32),
    /// Graph input `n` is a constant (it could not be written).
    ConstantInput(u32),
}

/// Why a model was refused: [`kind`](LoadError::kind) says what, [`site`](LoadError::site) where.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct LoadError {
    /// Where the problem is.
    pub site: Site,
    /// What the problem is.
    pub kind: LoadErrorKind,
}

impl LoadError {
    /// An error of `kind` at `site`.
    pub const fn new(site: Site, kind: LoadErrorKind) -> LoadError {
        LoadError { site, kind }
    }
}

/// What to tell the user of a float model.
const CONVERT_HINT: &str = "convert it with full-integer post-training quantization: \
converter.optimizations = [tf.lite.Optimize.DEFAULT]; converter.representative_dataset = <samples>; \
converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]; \
converter.inference_input_type = converter.inference_output_type = tf.int8";

/// The message of a refused float32 (or, `hybrid`, dynamic-range) operator in a build with
/// (`float`) or without the `op-float` feature: the type, what to enable, how to convert.
fn float_refusal(f: &mut fmt::Formatter<'_>, hybrid: bool, float: bool) -> fmt::Result {
    f.write_str(if hybrid {
        "dynamic-range operator (int8 weights, float32 activations): "
    } else {
        "float32 operands: "
    })?;
    match (float, hybrid) {
        (false, _) => f.write_str(
            "this build runs int8 operators only; enable the edge-reflex feature `op-float`, or ",
        )?,
        (true, false) => f.write_str("no float32 kernel for this operator; ")?,
        (true, true) => {
            f.write_str("only FULLY_CONNECTED, CONV_2D and DEPTHWISE_CONV_2D run in this form; ")?
        }
    }
    f.write_str(CONVERT_HINT)
}

/// The schema's name of a `TensorType` code.
pub fn type_name(code: i8) -> &'static str {
    match code {
        tensor_type::FLOAT32 => "float32",
        1 => "float16",
        tensor_type::INT32 => "int32",
        3 => "uint8",
        tensor_type::INT64 => "int64",
        5 => "string",
        6 => "bool",
        7 => "int16",
        8 => "complex64",
        tensor_type::INT8 => "int8",
        10 => "float64",
        17 => "int4",
        _ => "unknown type",
    }
}

impl fmt::Display for Site {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Site::File => write!(f, "model file"),
            Site::OperatorCode(n) => write!(f, "operator code {n}"),
            Site::Buffer(n) => write!(f, "buffer {n}"),
            Site::Subgraph => write!(f, "subgraph 0"),
            Site::Tensor(n) => write!(f, "tensor {n}"),
            Site::Operator { index, name } => write!(f, "operator {index} ({name})"),
        }
    }
}

impl fmt::Display for LoadErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use LoadErrorKind::*;
        match *self {
            TooShort => write!(f, "too short to be a TFLite model"),
            NotTfLite => write!(f, "not a TFLite model (file identifier is not TFL3)"),
            SchemaVersion(v) => write!(f, "schema version {v} (only version 3 is supported)"),
            Malformed { field, at } => {
                write!(f, "malformed: {field} points outside the file (byte {at})")
            }
            Missing(field) => write!(f, "missing {field}"),
            IndexOutOfRange { field, index, len } => {
                write!(f, "{field} index {index} out of range (0..{len})")
            }
            RankTooLarge(r) => write!(f, "rank {r} is more than the 6 dimensions supported"),
            DynamicShape => {
                write!(f, "dynamic (negative) dimension; only static shapes are supported")
            }
            TooLarge => write!(f, "tensor size overflows"),
            UnsupportedType(t) => write!(f, "unsupported tensor type {}", type_name(t)),
            DataSize { expected, found } => {
                write!(f, "constant data is {found} bytes, its shape needs {expected}")
            }
            Quantization(what) => write!(f, "quantization: {what}"),
            Sparse => write!(f, "sparse tensors are not supported"),
            Variable => write!(
                f,
                "a variable (state) tensor may only be the output or cell state of one \
                 UNIDIRECTIONAL_SEQUENCE_LSTM"
            ),
            NoSubgraph => write!(f, "the model has no subgraph"),
            UnsupportedOperator(code) => write!(
                f,
                "unsupported operator {} (builtin code {code})",
                crate::engine::format::schema::operator_name(code)
            ),
            OperatorNotBuilt(code) => write!(
                f,
                "operator {} (builtin code {code}) is not built in: enable the `{}` feature",
                crate::engine::format::schema::operator_name(code),
                crate::engine::format::schema::operator_feature(code)
            ),
            CustomOperator => write!(
                f,
                "custom operator with no registered kernel: load with TfLiteModel::load_with and \
                 a Kernels entry for its custom code"
            ),
            UnsupportedVersion(v) => write!(f, "unsupported operator version {v}"),
            UnsupportedOption(what) => write!(f, "unsupported option: {what}"),
            WrongOptions => write!(f, "options table of the wrong type"),
            Arity { inputs, outputs } => {
                write!(f, "unexpected number of operands ({inputs} inputs, {outputs} outputs)")
            }
            Types(what) => write!(f, "unsupported operand types: {what}"),
            Shapes(what) => write!(f, "operand shapes do not agree: {what}"),
            Kernel(e) => write!(f, "quantization parameters not representable: {e:?}"),
            FloatModel => float_refusal(f, false, cfg!(feature = "op-float")),
            DynamicRangeModel => float_refusal(f, true, cfg!(feature = "op-float")),
            ReadsOwnOutput(t) => write!(f, "reads tensor {t}, its own output"),
            WrittenTwice(t) => write!(f, "writes tensor {t}, which is already written or constant"),
            ReadBeforeWritten(t) => write!(f, "reads tensor {t} before any operator writes it"),
            NeverWritten(t) => write!(f, "graph output tensor {t} is never written"),
            NoInputsOrOutputs => write!(f, "the graph has no input or no output"),
            EmptyTensor(t) => write!(f, "tensor {t} has no elements"),
            ConstantInput(t) => write!(f, "graph input tensor {t} is a constant"),
        }
    }
}

impl fmt::Display for LoadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.site, self.kind)
    }
}

/// Why an interpreter could not be built or could not run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum RunError {
    /// The arena is smaller than the model's plan needs.
    ArenaTooSmall {
        /// Bytes the plan needs ([`TfLiteModel::arena_size`](crate::engine::TfLiteModel::arena_size));
        /// `usize::MAX` if the arena cannot even hold the records and the model is too large to
        /// plan on the stack (see `TfLiteModel::arena_size_with_scratch`).
        needed: usize,
        /// Bytes provided.
        available: usize,
    },
    /// The model has more tensors than the stack-based planner of
    /// [`TfLiteModel::arena_size`](crate::engine::TfLiteModel::arena_size) handles.
    TooManyTensors(usize),
    /// Preparing an operator failed (only for models not checked by `load`).
    Load(LoadError),
    /// A kernel refused its operands while running operator `operator`.
    Kernel {
        /// Operator index.
        operator: u32,
        /// The kernel's error.
        error: KernelError,
    },
    /// The interpreter's own records are inconsistent (a bug; never expected).
    Internal,
    /// The model's input 0 or output 0 is not int8, so it cannot serve as a
    /// [`Model`](crate::model::Model).
    NotInt8,
    /// A record names an operator this build cannot run: a builtin code left out of the build,
    /// or (negative) a registered kernel the interpreter was not given.
    UnknownOperator(i32),
}

impl From<LoadError> for RunError {
    fn from(e: LoadError) -> Self {
        RunError::Load(e)
    }
}

impl fmt::Display for RunError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            RunError::ArenaTooSmall { needed, available } => {
                write!(f, "arena too small: the model needs {needed} bytes, got {available}")
            }
            RunError::TooManyTensors(n) => {
                write!(f, "{n} tensors: too many for the stack planner, plan with an arena")
            }
            RunError::Load(e) => write!(f, "{e}"),
            RunError::Kernel { operator, error } => {
                write!(f, "operator {operator}: kernel error {error:?}")
            }
            RunError::Internal => write!(f, "internal error: inconsistent interpreter records"),
            RunError::NotInt8 => write!(f, "model input 0 or output 0 is not int8"),
            RunError::UnknownOperator(code) if code < 0 => {
                write!(f, "the plan needs registered kernel {} (load with its Kernels)", -1 - code)
            }
            RunError::UnknownOperator(code) => {
                write!(f, "operator code {code} is not built into this firmware")
            }
        }
    }
}

impl core::error::Error for LoadError {}

impl core::error::Error for RunError {}

#[cfg(test)]
mod tests {
    use super::*;
    use std::string::{String, ToString};

    /// [`float_refusal`] as a string.
    fn message(hybrid: bool, float: bool) -> String {
        struct M(bool, bool);
        impl fmt::Display for M {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                float_refusal(f, self.0, self.1)
            }
        }
        M(hybrid, float).to_string()
    }

    /// Without `op-float` the refusal names the type and the feature to enable; with it, what
    /// has no kernel; always how to convert.
    #[test]
    fn float_refusals_name_the_type_the_feature_and_the_conversion() {
        for hybrid in [false, true] {
            let off = message(hybrid, false);
            assert!(off.contains("enable the edge-reflex feature `op-float`"), "{off}");
            let on = message(hybrid, true);
            assert!(!on.contains("op-float"), "{on}");
            for m in [&off, &on] {
                assert!(m.contains("float32") && m.contains("TFLITE_BUILTINS_INT8"), "{m}");
                assert_eq!(m.contains("int8 weights"), hybrid, "{m}");
            }
        }
        assert!(message(true, true).contains("only FULLY_CONNECTED"));
        assert!(message(false, true).contains("no float32 kernel"));
        // The build's own message is one of the two.
        let site = Site::Operator { index: 0, name: "CONV_2D" };
        let e = LoadError::new(site, LoadErrorKind::FloatModel).to_string();
        assert!(e.contains("CONV_2D") && e.ends_with(&message(false, cfg!(feature = "op-float"))));
    }
}
