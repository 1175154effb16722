//! A k-means anomaly detector: the distance from a feature vector to the nearest of `K` cluster
//! centres learned from normal data (Edge Impulse's classic pairing with spectral features).
//!
//! [`KMeansDetector`] holds the centres (in the features' real units) and nothing else: the
//! clustering is done on the host, from recordings of the machine running normally
//! (`reflex kmeans fit`, see `docs/frontend.md`), and the centres are compiled in as a constant.
//! Each inference dequantizes its int8 input `x`, finds `d = min_k ‖x − c_k‖` (Euclidean) and
//! writes `d` as its one int8 output, quantized with the output parameters it was built with
//! (saturating at the top of their range). Features far from every normal cluster score high; a
//! [`Rule`](crate::action::Rule) such as `ScoreAtLeast { index: 0, threshold }` with the threshold
//! the fit suggests decides. It does not learn on the device and keeps no history.

use crate::model::{Model, QuantParams, QuantParamsError, Shape};
use crate::quantizer::AffineQuantizer;

/// Why a [`KMeansDetector`] could not be built.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum KMeansError {
    /// There are no centres (`K == 0`) or no features (`LEN == 0`).
    Empty,
    /// A centre has a NaN or infinite coordinate.
    NonFiniteCentre,
    /// The input or output quantization cannot quantize.
    BadQuant(QuantParamsError),
}

impl From<QuantParamsError> for KMeansError {
    fn from(e: QuantParamsError) -> Self {
        KMeansError::BadQuant(e)
    }
}

/// Distance to the nearest of `K` centres of `LEN` features; see the [module docs](self).
///
/// ```
/// use edge_reflex::model::{KMeansDetector, Model, QuantParams};
/// let input = QuantParams { scale: 0.5, zero_point: 0 };
/// let output = QuantParams { scale: 0.25, zero_point: -128 };
/// let mut det = KMeansDetector::new(input, [[0.0, 0.0], [10.0, 10.0]], output).unwrap();
/// det.input().copy_from_slice(&[20, 26]); // (10, 13): 3 from the second centre
/// det.invoke().unwrap();
/// assert_eq!((det.nearest(), det.distance()), (1, 3.0));
/// assert_eq!(det.output(), &[-128 + 12]); // 3.0 / 0.25
/// ```
#[derive(Clone, Debug)]
pub struct KMeansDetector<const LEN: usize, const K: usize> {
    input: [i8; LEN],
    output: [i8; 1],
    input_quant: QuantParams,
    output_quant: QuantParams,
    centres: [[f32; LEN]; K],
    distance: f32,
    nearest: usize,
}

impl<const LEN: usize, const K: usize> KMeansDetector<LEN, K> {
    /// A detector scoring against `centres` (real feature units), reading its input with
    /// `input_quant` and writing the distance with `output_quant`. Refused when there is nothing
    /// to compare, a centre is not finite, or either quantization cannot quantize.
    pub fn new(
        input_quant: QuantParams,
        centres: [[f32; LEN]; K],
        output_quant: QuantParams,
    ) -> Result<Self, KMeansError> {
        input_quant.check()?;
        output_quant.check()?;
        if LEN == 0 || K == 0 {
            return Err(KMeansError::Empty);
        }
        if centres.iter().flatten().any(|c| !c.is_finite()) {
            return Err(KMeansError::NonFiniteCentre);
        }
        Ok(KMeansDetector {
            input: [0; LEN],
            output: [0],
            input_quant,
            output_quant,
            centres,
            distance: 0.0,
            nearest: 0,
        })
    }

    /// The centres.
    pub fn centres(&self) -> &[[f32; LEN]; K] {
        &self.centres
    }

    /// The last inference's distance to the nearest centre, in feature units (not quantized).
    pub fn distance(&self) -> f32 {
        self.distance
    }

    /// The index of the last inference's nearest centre.
    pub fn nearest(&self) -> usize {
        self.nearest
    }
}

impl<const LEN: usize, const K: usize> Model for KMeansDetector<LEN, K> {
    type Error = core::convert::Infallible;

    fn input(&mut self) -> &mut [i8] {
        &mut self.input
    }

    fn input_quant(&self) -> QuantParams {
        self.input_quant
    }

    fn input_shape(&self) -> Shape {
        Shape::from_dims([1, LEN as u32])
    }

    fn invoke(&mut self) -> Result<(), Self::Error> {
        let input = AffineQuantizer::unchecked(self.input_quant);
        let mut x = [0.0f32; LEN];
        for (v, &q) in x.iter_mut().zip(&self.input) {
            *v = input.dequantize(q);
        }
        let mut best = f32::INFINITY;
        let mut nearest = 0;
        for (k, centre) in self.centres.iter().enumerate() {
            let d2: f32 = x.iter().zip(centre).map(|(a, c)| (a - c) * (a - c)).sum();
            if d2 < best {
                best = d2;
                nearest = k;
            }
        }
        self.distance = crate::math::sqrt(best);
        self.nearest = nearest;
        self.output = [AffineQuantizer::unchecked(self.output_quant).quantize_value(self.distance)];
        Ok(())
    }

    fn output(&self) -> &[i8] {
        &self.output
    }

    fn output_quant(&self) -> QuantParams {
        self.output_quant
    }

    fn output_shape(&self) -> Shape {
        Shape::from_dims([1, 1])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const IN: QuantParams = QuantParams { scale: 1.0, zero_point: 0 };
    const OUT: QuantParams = QuantParams { scale: 0.5, zero_point: -128 };

    #[test]
    fn refuses_what_cannot_score() {
        let nan = QuantParams { scale: f32::NAN, zero_point: 0 };
        assert!(matches!(
            KMeansDetector::new(nan, [[0.0]], OUT),
            Err(KMeansError::BadQuant(QuantParamsError::ScaleNotFinite))
        ));
        assert!(matches!(KMeansDetector::new(IN, [[0.0]], nan), Err(KMeansError::BadQuant(_))));
        assert!(matches!(KMeansDetector::<1, 0>::new(IN, [], OUT), Err(KMeansError::Empty)));
        assert!(matches!(
            KMeansDetector::new(IN, [[0.0, f32::INFINITY]], OUT),
            Err(KMeansError::NonFiniteCentre)
        ));
    }

    #[test]
    fn nearest_centre_ties_and_saturation() {
        let mut det = KMeansDetector::new(IN, [[-2.0, 0.0], [2.0, 0.0]], OUT).unwrap();
        // Equidistant from both: the first centre wins, distance 2.
        det.input().copy_from_slice(&[0, 0]);
        det.invoke().unwrap();
        assert_eq!((det.nearest(), det.distance(), det.output()), (0, 2.0, &[-124][..]));
        // On a centre: distance 0, the lowest output.
        det.input().copy_from_slice(&[2, 0]);
        det.invoke().unwrap();
        assert_eq!((det.nearest(), det.output()), (1, &[-128][..]));
        // The farthest input the int8 range allows saturates the output at 127.
        det.input().copy_from_slice(&[-128, 127]);
        det.invoke().unwrap();
        assert!(det.distance() > 170.0);
        assert_eq!(det.output(), &[127]);
        assert_eq!(det.output_shape().dims(), &[1, 1]);
        assert_eq!(det.input_shape().dims(), &[1, 2]);
    }
}
