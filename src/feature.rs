//! The feature stage, between [`Window`](crate::window::Window) and
//! [`Quantizer`](crate::quantizer::Quantizer): a ready window becomes the values the model eats.
//!
//! ```text
//! Sensor -> Window -> Features -> Gate -> Quantizer -> Model -> Action
//! ```
//!
//! A [`FeatureStage<S, N, HOP>`] sees every ready window of `N` samples of type `S`, `HOP` of them
//! new since the last one (oldest first, as
//! the two slices of [`Window::as_slices`](crate::window::Window::as_slices)) and returns the
//! features as two slices of its [`Output`](FeatureStage::Output) samples, which the quantizer
//! writes into the model's input, or `None` while it has none yet (a streaming front-end that is
//! still filling its history). The window's length and hop are part of the trait, so a stage built
//! for 64-sample windows cannot be put behind a window of another length, nor a streaming
//! front-end behind a window that overlaps differently: the capacities are checked by the
//! compiler. A stage runs on every ready window, before the gate, so a stateful front-end
//! (the micro_speech noise estimate, a spectrogram history) sees the whole stream; the gate then
//! decides whether the model runs on the features.
//!
//! [`Raw`] is the stage of a graph built with [`Graph::new`](crate::graph::Graph::new): the
//! window's own samples, no copy. [`Graph::with_features`](crate::graph::Graph::with_features)
//! puts another stage in; the ones the crate ships are in
//! [`frontend::stage`](crate::frontend::stage): spectral features of a vibration window and the
//! micro_speech spectrogram.

use crate::sample::Sample;

/// What [`FeatureStage::extract`] returns: the features as two slices, quantized one after the
/// other, or `None` when there are none yet.
pub type Extracted<'a, O> = Option<(&'a [O], &'a [O])>;

/// Turns a ready window of `N` samples (`HOP` of them new) into the model's features; see the
/// [module docs](self).
pub trait FeatureStage<S: Sample, const N: usize, const HOP: usize> {
    /// One feature value (or several channels of one, like a sample).
    type Output: Sample;

    /// The features of the window `older ++ newer` (`N` samples, oldest first), as two slices to
    /// be quantized one after the other; `None` when there are no features yet.
    fn extract<'a>(&'a mut self, older: &'a [S], newer: &'a [S]) -> Extracted<'a, Self::Output>;

    /// Forgets the stream: called when the graph empties its window (a sensor dropout), so no
    /// feature joins the samples before a gap to those after it.
    fn reset(&mut self) {}
}

/// The window's samples themselves, unchanged and not copied: the stage of every graph built
/// with [`Graph::new`](crate::graph::Graph::new).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Raw;

impl<S: Sample, const N: usize, const HOP: usize> FeatureStage<S, N, HOP> for Raw {
    type Output = S;

    fn extract<'a>(&'a mut self, older: &'a [S], newer: &'a [S]) -> Extracted<'a, S> {
        Some((older, newer))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn raw_hands_the_window_through() {
        let older = [[1.0f32, 2.0], [3.0, 4.0]];
        let newer = [[5.0f32, 6.0]];
        let mut raw = Raw;
        let (a, b) = FeatureStage::<[f32; 2], 3, 1>::extract(&mut raw, &older, &newer).unwrap();
        assert_eq!((a, b), (&older[..], &newer[..]));
        FeatureStage::<[f32; 2], 3, 1>::reset(&mut raw);
    }
}
