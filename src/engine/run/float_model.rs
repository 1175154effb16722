//! [`FloatModel`]: an interpreter of a float32 model (float32 input 0 and output 0) as the
//! graph's [`Model`] stage, so the same `Graph` runs float and int8 models.
//!
//! The graph's stages speak int8 (the quantizer writes `&mut [i8]`, the action reads int8
//! scores with their quantization). A float model keeps its float32 input: it lends the input
//! tensor's raw bytes (four per value) to the
//! [`PassThrough`](crate::quantizer::PassThrough) quantizer, which writes the samples' values
//! unchanged. Its float32 outputs are quantized once per inference onto a grid you choose
//! (`output_quant`, e.g. `1/256` with zero point `-128` for probabilities, TFLite's own choice
//! for a softmax), into `N` bytes kept here, so the rule and the action read scores as they
//! read an int8 model's. [`FloatModel::outputs`] gives the float32 outputs themselves.

use crate::engine::error::RunError;
use crate::engine::model::tensor::DType;
use crate::engine::run::interpreter::{Interpreter, Source};
use crate::model::{Model, QuantParams, QuantParamsError, Shape};
use crate::quantizer::AffineQuantizer;

/// Why an interpreter cannot serve as a [`FloatModel`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum FloatModelError {
    /// Input 0 or output 0 is not float32.
    NotFloat32,
    /// Output 0 has more values than the `N` scores the adapter holds.
    TooManyOutputs {
        /// Values of output 0.
        outputs: usize,
        /// `N`.
        capacity: usize,
    },
    /// The output grid cannot quantize.
    OutputQuant(QuantParamsError),
}

impl core::fmt::Display for FloatModelError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            FloatModelError::NotFloat32 => f.write_str("model input 0 or output 0 is not float32"),
            FloatModelError::TooManyOutputs { outputs, capacity } => {
                write!(f, "output 0 has {outputs} values, the adapter holds {capacity}")
            }
            FloatModelError::OutputQuant(e) => write!(f, "output grid: {e}"),
        }
    }
}

impl core::error::Error for FloatModelError {}

/// A float32 model as the graph's [`Model`]: see the [module documentation](self).
///
/// ```
/// # use edge_reflex::engine::{FloatModel, Interpreter, TfLiteModel};
/// # use edge_reflex::model::{Model, QuantParams};
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// # let bytes = std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"),
/// #     "/tests/data/conformance-next/float32_cnn/model.tflite"))?;
/// let model = TfLiteModel::load(&bytes)?;
/// let mut arena = vec![0u8; model.arena_size()?];
/// let interpreter = Interpreter::new(&model, &mut arena)?;
/// let scores = QuantParams { scale: 0.05, zero_point: 0 }; // checked by `new`
/// let mut float = FloatModel::<_, 3>::new(interpreter, scores)?;
/// assert_eq!(float.input().len(), 4 * 200); // raw f32 bytes for the PassThrough quantizer
/// float.invoke()?;
/// assert_eq!(float.output().len(), 3);
/// # Ok(()) }
/// ```
#[derive(Debug)]
pub struct FloatModel<I, const N: usize> {
    interpreter: I,
    quantizer: AffineQuantizer,
    scores: [i8; N],
    len: usize,
}

impl<'m, 'a, S: Source, const N: usize> FloatModel<Interpreter<'m, 'a, S>, N> {
    /// `interpreter` as a [`Model`] whose scores are its float32 output 0 on the grid
    /// `output_quant`.
    ///
    /// Errors: [`FloatModelError`] if input 0 or output 0 is not float32, output 0 has more
    /// than `N` values, or `output_quant` cannot quantize.
    pub fn new(
        interpreter: Interpreter<'m, 'a, S>,
        output_quant: QuantParams,
    ) -> Result<Self, FloatModelError> {
        let quantizer = AffineQuantizer::new(output_quant).map_err(FloatModelError::OutputQuant)?;
        let float = |io: Option<crate::engine::plan::prebuilt::IoTensor>| {
            io.is_some_and(|t| t.dtype == DType::Float32)
        };
        if !float(interpreter.input_info(0)) || !float(interpreter.output_info(0)) {
            return Err(FloatModelError::NotFloat32);
        }
        let len = interpreter.output_bytes(0).map_or(0, |b| b.len() / 4);
        if len > N {
            return Err(FloatModelError::TooManyOutputs { outputs: len, capacity: N });
        }
        Ok(FloatModel { interpreter, quantizer, scores: [0; N], len })
    }

    /// The float32 outputs of the last inference (output 0), in order.
    pub fn outputs(&self) -> impl Iterator<Item = f32> + '_ {
        let bytes = self.interpreter.output_bytes(0).unwrap_or(&[]);
        bytes.chunks_exact(4).map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    }

    /// The interpreter.
    pub fn interpreter(&mut self) -> &mut Interpreter<'m, 'a, S> {
        &mut self.interpreter
    }
}

impl<S: Source, const N: usize> Model for FloatModel<Interpreter<'_, '_, S>, N> {
    type Error = RunError;

    /// Input 0's raw little-endian `f32` bytes (four per value), for
    /// [`PassThrough`](crate::quantizer::PassThrough).
    fn input(&mut self) -> &mut [i8] {
        self.interpreter.input_bytes(0).map_or(&mut [], bytemuck::cast_slice_mut)
    }

    /// The identity grid (scale 1, zero point 0): the input is not quantized.
    fn input_quant(&self) -> QuantParams {
        QuantParams { scale: 1.0, zero_point: 0 }
    }

    fn input_shape(&self) -> Shape {
        self.interpreter.input_info(0).map_or(Shape::from_dims([]), |t| t.shape)
    }

    /// Runs the model, then quantizes output 0 onto the scores' grid.
    fn invoke(&mut self) -> Result<(), RunError> {
        self.interpreter.invoke()?;
        let q = self.quantizer;
        let bytes = self.interpreter.output_bytes(0).unwrap_or(&[]);
        for (s, b) in self.scores.iter_mut().zip(bytes.chunks_exact(4)) {
            *s = q.quantize_value(f32::from_le_bytes([b[0], b[1], b[2], b[3]]));
        }
        Ok(())
    }

    fn output(&self) -> &[i8] {
        self.scores.get(..self.len).unwrap_or(&[])
    }

    fn output_quant(&self) -> QuantParams {
        self.quantizer.params()
    }

    fn output_shape(&self) -> Shape {
        self.interpreter.output_info(0).map_or(Shape::from_dims([]), |t| t.shape)
    }
}
