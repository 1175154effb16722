//! The graph's snapshot hook: when the rule fires, `Graph::feed_recording` keeps the window the
//! model saw (quantized), its scores, the time and the model version, then the samples that
//! follow, in a store the application drains (postcard).

use edge_reflex::action::{NoAction, Rule};
use edge_reflex::diagnostic::{decode, SnapshotRecorder};
use edge_reflex::gate::Always;
use edge_reflex::graph::{Graph, GraphError, Stages, Step};
use edge_reflex::model::{Model, QuantParams, Shape};
use edge_reflex::quantizer::AffineQuantizer;
use edge_reflex::time::Instant;
use edge_reflex::window::Window;

/// A model whose one output is the largest input byte (scale 1, zero point 0).
#[derive(Default)]
struct MaxModel {
    input: [i8; 4],
    output: [i8; 1],
    /// What the model saw at its last invoke.
    seen: [i8; 4],
}

impl Model for MaxModel {
    type Error = ();
    fn input(&mut self) -> &mut [i8] {
        &mut self.input
    }
    fn input_quant(&self) -> QuantParams {
        QuantParams { scale: 1.0, zero_point: 0 }
    }
    fn input_shape(&self) -> Shape {
        Shape::from_dims([1, 4])
    }
    fn invoke(&mut self) -> Result<(), ()> {
        self.seen = self.input;
        self.output[0] = *self.input.iter().max().unwrap_or(&0);
        // As an engine may, the model reuses its input's memory.
        self.input = [0; 4];
        Ok(())
    }
    fn output(&self) -> &[i8] {
        &self.output
    }
    fn output_quant(&self) -> QuantParams {
        QuantParams { scale: 1.0, zero_point: 0 }
    }
    fn output_shape(&self) -> Shape {
        Shape::from_dims([1, 1])
    }
}

/// Windows of 4 samples, hop 4; fires when a sample reaches 50; the clock ticks 10 µs a read.
fn graph() -> Graph<(), f32, Always, AffineQuantizer, MaxModel, NoAction, impl FnMut() -> u32, 4, 4>
{
    let mut t = 0u32;
    let stages = Stages {
        sensor: (),
        window: Window::new(),
        gate: Always,
        quantizer: AffineQuantizer::new(QuantParams { scale: 1.0, zero_point: 0 }).unwrap(),
        model: MaxModel::default(),
        rule: Rule::ScoreAtLeast { index: 0, threshold: 50.0 },
        action: NoAction,
    };
    Graph::new(stages, move || {
        t += 10;
        t
    })
}

#[test]
fn the_window_that_fired_and_the_following_samples_are_kept() {
    let mut g = graph();
    let mut rec = SnapshotRecorder::<4, 3, 1, 4, 64>::new(7);
    // A quiet window: nothing recorded.
    for x in [0.0, 1.0, 0.0, 1.0] {
        g.feed_recording(x, &mut rec).unwrap();
    }
    assert!(!rec.is_recording() && rec.store.is_empty());
    // The window that fires (rounded as the quantizer rounds: 2.5 -> 3, 99.6 -> 100).
    let mut last = None;
    for x in [1.0, 2.5, -3.0, 99.6] {
        last = Some(g.feed_recording(x, &mut rec).unwrap());
    }
    assert!(matches!(last, Some(Step::Inferred(d)) if d.triggered));
    assert_eq!(g.model().seen, [1, 3, -3, 100]);
    assert!(rec.is_recording() && rec.store.is_empty());
    // The following samples: a NaN does not enter the window and is not kept; the third
    // completes the snapshot.
    g.feed_recording(5.0, &mut rec).unwrap();
    assert_eq!(g.feed_recording(f32::NAN, &mut rec), Err(GraphError::NonFiniteSample));
    g.feed_recording(-6.0, &mut rec).unwrap();
    assert!(rec.is_recording());
    g.feed_recording(200.0, &mut rec).unwrap();
    assert!(!rec.is_recording());
    assert_eq!(rec.store.len(), 1);
    let s = rec.store.get(0).unwrap();
    assert_eq!(s.model_version, 7);
    assert_eq!(s.window, &[1, 3, 0xfd, 100]);
    assert_eq!(s.scores, &[100]);
    assert_eq!(s.following, &[5, 0xfa, 127]); // 200 saturates
                                              // The clock is read at each inference's start and end (10, 20; 30, 40), then for the
                                              // snapshot's time, after the decision.
    assert_eq!(s.time, Instant(50));
    // What the application sends is the postcard encoding; it decodes to the same.
    assert_eq!(decode(rec.store.encoded(0).unwrap()), Ok(s));
    assert_eq!(rec.dropped(), 0);
}

#[test]
fn a_rule_that_fires_again_while_recording_is_part_of_the_following_samples() {
    let mut g = graph();
    let mut rec = SnapshotRecorder::<4, 8, 1, 4, 64>::new(1);
    for x in [60.0, 0.0, 0.0, 0.0] {
        g.feed_recording(x, &mut rec).unwrap();
    }
    assert!(rec.is_recording());
    rec.set_model_version(2);
    // The next window fires too: it is recorded as following samples, not a second snapshot.
    let mut fired = 0;
    for x in [70.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0] {
        if let Ok(Step::Inferred(d)) = g.feed_recording(x, &mut rec) {
            fired += usize::from(d.triggered);
        }
    }
    assert_eq!(fired, 1);
    assert_eq!(rec.store.len(), 1);
    let s = rec.store.get(0).unwrap();
    assert_eq!((s.window, s.model_version), (&[60, 0, 0, 0][..], 1));
    assert_eq!(s.following, &[70, 1, 2, 3, 4, 5, 6, 7]);
}

#[test]
fn without_following_samples_the_snapshot_is_stored_at_once() {
    let mut g = graph();
    let mut rec = SnapshotRecorder::<4, 0, 1, 2, 64>::new(3);
    for round in 0..3 {
        for x in [0.0, 0.0, 0.0, 50.0 + round as f32] {
            g.feed_recording(x, &mut rec).unwrap();
        }
    }
    // Three snapshots into two slots: the newest two are kept.
    assert_eq!(rec.store.len(), 2);
    assert_eq!(rec.store.get(0).unwrap().window, &[0, 0, 0, 52]);
    assert_eq!(rec.store.get(1).unwrap().window, &[0, 0, 0, 51]);
    assert!(rec.store.get(0).unwrap().following.is_empty());
}

#[test]
fn snapshots_too_large_for_the_capacities_are_dropped_and_counted() {
    let mut g = graph();
    // A window of 4 bytes does not fit 2.
    let mut small_window = SnapshotRecorder::<2, 0, 1, 2, 64>::new(1);
    for x in [0.0, 0.0, 0.0, 90.0] {
        g.feed_recording(x, &mut small_window).unwrap();
    }
    assert_eq!((small_window.store.len(), small_window.dropped()), (0, 1));
    // An encoding of more than 8 bytes does not fit a slot.
    let mut small_slot = SnapshotRecorder::<4, 0, 1, 2, 8>::new(1);
    for x in [0.0, 0.0, 0.0, 90.0] {
        g.feed_recording(x, &mut small_slot).unwrap();
    }
    assert_eq!((small_slot.store.len(), small_slot.dropped()), (0, 1));
    assert!(!small_slot.is_recording());
}
