//! The feature stage in the graph: the micro_speech spectrogram stage gives the model TensorFlow's
//! own input and output for every clip when the audio is fed sample by sample; the spectral stage
//! hands the quantizer exactly what `Spectral` computes for each axis; `Raw` is the window.

mod frontend;

use edge_reflex::action::{NoAction, Rule};
use edge_reflex::engine::{Interpreter, TfLiteModel};
use edge_reflex::feature::FeatureStage;
use edge_reflex::frontend::microfrontend::{STEP_SAMPLES, WINDOW_SAMPLES};
use edge_reflex::frontend::spectral::{Spectral, SpectralConfig, WindowFunction};
use edge_reflex::frontend::stage::{MicroSpeechStage, SpectralStage};
use edge_reflex::gate::{Always, EveryNth};
use edge_reflex::graph::{Graph, Stages, Step};
use edge_reflex::model::{Model, QuantParams, Shape};
use edge_reflex::quantizer::AffineQuantizer;
use edge_reflex::time::NoClock;
use edge_reflex::window::Window;

#[test]
fn keyword_graph_gives_the_golden_model_input_and_output() {
    let model_bytes = std::fs::read(frontend::model_path()).unwrap();
    let model = TfLiteModel::load(&model_bytes).unwrap();
    let mut arena = vec![0u8; model.arena_size().unwrap()];
    let mut interpreter = Interpreter::new(&model, &mut arena).unwrap();
    for (clip, label) in frontend::UTTERANCES {
        let mut graph = Graph::new(
            Stages {
                sensor: (),
                window: Window::<f32, WINDOW_SAMPLES, STEP_SAMPLES>::new(),
                gate: EveryNth::new(4),
                quantizer: MicroSpeechStage::<49>::quantizer(),
                model: &mut interpreter,
                rule: Rule::ArgMaxIs { class: 2, min_score: 0.8 },
                action: NoAction,
            },
            NoClock,
        )
        .with_features(MicroSpeechStage::<49>::new());
        let samples = frontend::samples(clip);
        let mut inferred = Vec::new();
        for (i, &s) in samples.iter().enumerate() {
            match graph.feed(f32::from(s)).unwrap() {
                Step::Inferred(d) => inferred.push((i, d)),
                Step::GatedOut => panic!("{clip}: the gate only sees full spectrograms"),
                Step::Sampled => {}
            }
        }
        // 16000 samples: the spectrogram is full at the 49th frame (sample 15840), once.
        assert_eq!(inferred.len(), 1, "{clip}");
        assert_eq!(inferred[0].0 + 1, 48 * STEP_SAMPLES + WINDOW_SAMPLES, "{clip}");
        assert_eq!(graph.stats().windows, 49, "{clip}");
        let (older, newer) = graph.features().spectrogram();
        let input: Vec<i8> = older.iter().chain(newer).map(|&v| v as i8).collect();
        assert_eq!(input, frontend::golden_i8(clip), "{clip}");
        let output: Vec<u8> = graph.model().output().iter().map(|&q| q as u8).collect();
        assert_eq!(output, frontend::bytes(&format!("{clip}.output_i8.bin")), "{clip}");
        assert_eq!(frontend::LABELS[inferred[0].1.class], label, "{clip}");
    }
}

#[test]
fn keyword_stage_gives_frames_only_once_full_and_reset_forgets() {
    let samples = frontend::samples("yes_1000ms");
    let mut window = Window::<f32, WINDOW_SAMPLES, STEP_SAMPLES>::new();
    let mut stage = MicroSpeechStage::<3>::new();
    let mut ready = Vec::new();
    for &s in &samples[..480 + 4 * 320] {
        if window.push(f32::from(s)).unwrap() {
            let (older, newer) = window.as_slices();
            ready.push(stage.extract(older, newer).is_some());
        }
    }
    assert_eq!(ready, [false, false, true, true, true]);
    // The ring has wrapped twice: still the last three frames, oldest first.
    let golden = frontend::golden_i8("yes_1000ms");
    let (older, newer) = stage.spectrogram();
    let ours: Vec<i8> = older.iter().chain(newer).map(|&v| v as i8).collect();
    assert_eq!(ours, golden[2 * 40..5 * 40]);
    FeatureStage::<f32, WINDOW_SAMPLES, STEP_SAMPLES>::reset(&mut stage);
    assert_eq!(stage.frames_pushed(), 0);
    assert_eq!(stage.spectrogram(), (&[][..], &[][..]));
    // Out-of-range audio saturates to i16 and does not panic.
    let loud = [1e9f32; WINDOW_SAMPLES];
    assert!(stage.extract(&loud, &[]).is_none());
    assert_eq!(stage.frames_pushed(), 1);
}

/// A model that keeps what the quantizer wrote, to look at the graph's model input.
struct Capture<const LEN: usize> {
    input: [i8; LEN],
    seen: Vec<Vec<i8>>,
}

impl<const LEN: usize> Model for Capture<LEN> {
    type Error = core::convert::Infallible;
    fn input(&mut self) -> &mut [i8] {
        &mut self.input
    }
    fn input_quant(&self) -> QuantParams {
        QuantParams { scale: 0.5, zero_point: -10 }
    }
    fn input_shape(&self) -> Shape {
        Shape::from_dims([1, LEN as u32])
    }
    fn invoke(&mut self) -> Result<(), Self::Error> {
        self.seen.push(self.input.to_vec());
        Ok(())
    }
    fn output(&self) -> &[i8] {
        &[0]
    }
    fn output_quant(&self) -> QuantParams {
        QuantParams { scale: 1.0, zero_point: 0 }
    }
    fn output_shape(&self) -> Shape {
        Shape::from_dims([1])
    }
}

const BANDS: [(f32, f32); 3] = [(0.0, 60.0), (60.0, 200.0), (200.0, 501.0)];

fn config() -> SpectralConfig<3> {
    SpectralConfig { sample_rate_hz: 1000.0, window: WindowFunction::Hann, bands: BANDS, log: true }
}

#[test]
fn spectral_graph_quantizes_each_axis_rms_and_bands() {
    let sample = |i: usize| {
        let t = i as f32 / 1000.0;
        let tau = core::f32::consts::TAU;
        [
            (tau * 25.0 * t).sin() * 0.3,
            (tau * 230.0 * t).sin() * 2.0 + 0.1,
            9.81 + (tau * 120.0 * t).cos() * 0.05,
        ]
    };
    let model = Capture::<12> { input: [0; 12], seen: Vec::new() };
    let quantizer = AffineQuantizer::for_input_of(&model).unwrap();
    let mut graph = Graph::new(
        Stages {
            sensor: (),
            window: Window::<[f32; 3], 64, 32>::new(),
            gate: Always,
            quantizer,
            model,
            rule: Rule::ScoreAtLeast { index: 0, threshold: 1.0 },
            action: NoAction,
        },
        NoClock,
    )
    .with_features(SpectralStage::<64, 3, 12>::new(config()));
    let mut reference = Window::<[f32; 3], 64, 32>::new();
    let mut spectral = Spectral::<64, 1, 3>::new(config());
    let mut expected = Vec::new();
    for i in 0..64 + 3 * 32 {
        let s = sample(i);
        graph.feed(s).unwrap();
        if reference.push(s).unwrap() {
            let (older, newer) = reference.as_slices();
            let window: [[f32; 3]; 64] = [older, newer].concat().try_into().unwrap();
            let mut q = Vec::new();
            for axis in 0..3 {
                let f = spectral.analyze_axis(&window, axis);
                q.push(quantizer.quantize_value(20.0 * f.rms.max(1e-10).log10()));
                q.extend(f.bands.iter().map(|&b| quantizer.quantize_value(b)));
            }
            expected.push(q);
        }
    }
    let (stages, _) = graph.into_stages();
    assert_eq!(stages.model.seen.len(), 4);
    assert_eq!(stages.model.seen, expected);
    // The Y axis rings at 230 Hz: its top band is its loudest, well above X's.
    let last = &expected[3];
    assert!(last[7] > last[5] && last[7] > last[3], "{last:?}");
}

#[test]
fn raw_graph_is_unchanged() {
    let model = Capture::<4> { input: [0; 4], seen: Vec::new() };
    let quantizer = AffineQuantizer::for_input_of(&model).unwrap();
    let mut graph = Graph::new(
        Stages {
            sensor: (),
            window: Window::<f32, 4, 2>::new(),
            gate: Always,
            quantizer,
            model,
            rule: Rule::ScoreAtLeast { index: 0, threshold: 1.0 },
            action: NoAction,
        },
        NoClock,
    );
    for x in [1.0, 2.0, 3.0, 4.0, 5.0, 6.0] {
        graph.feed(x).unwrap();
    }
    let (stages, _) = graph.into_stages();
    let q = |x: f32| quantizer.quantize_value(x);
    assert_eq!(
        stages.model.seen,
        [vec![q(1.0), q(2.0), q(3.0), q(4.0)], vec![q(3.0), q(4.0), q(5.0), q(6.0)]]
    );
}
