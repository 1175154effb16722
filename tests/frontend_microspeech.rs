//! The micro_speech front-end against TensorFlow's `audio_microfrontend` (tests/data/frontend):
//! every clip gives the same u16 features, the same int8 model input and, through the engine, the
//! same model output, byte for byte; and the frames do not depend on how the audio is chunked.

mod frontend;

use edge_reflex::engine::{Interpreter, TfLiteModel};
use edge_reflex::frontend::microfrontend::{
    frames_for, quantize_feature, to_model_input, MicroFrontend, NUM_CHANNELS,
};

/// All frames of `samples` from a fresh state, flattened.
fn features(samples: &[i16]) -> Vec<u16> {
    let mut frontend = MicroFrontend::new();
    let mut out = Vec::new();
    frontend.push(samples, |f| out.extend_from_slice(f));
    out
}

fn model_input(features: &[u16]) -> Vec<i8> {
    let mut out = Vec::new();
    for frame in features.chunks_exact(NUM_CHANNELS) {
        let mut q = [0i8; NUM_CHANNELS];
        to_model_input(frame.try_into().unwrap(), &mut q);
        out.extend_from_slice(&q);
    }
    out
}

/// The first differing (frame, channel, ours, golden), for a readable failure.
fn first_difference<T: PartialEq + Copy + std::fmt::Debug>(ours: &[T], golden: &[T]) -> String {
    match ours.iter().zip(golden).position(|(a, b)| a != b) {
        Some(i) => format!(
            "frame {} channel {}: {:?} vs golden {:?}",
            i / NUM_CHANNELS,
            i % NUM_CHANNELS,
            ours[i],
            golden[i]
        ),
        None => format!("lengths {} vs {}", ours.len(), golden.len()),
    }
}

#[test]
fn every_clip_gives_the_golden_u16_features() {
    for clip in frontend::CLIPS {
        let samples = frontend::samples(clip);
        let ours = features(&samples);
        let golden = frontend::golden_u16(clip);
        assert_eq!(ours.len(), frames_for(samples.len()) * NUM_CHANNELS, "{clip}");
        assert!(ours == golden, "{clip}: {}", first_difference(&ours, &golden));
    }
}

#[test]
fn every_clip_gives_the_golden_int8_model_input() {
    for clip in frontend::CLIPS {
        let ours = model_input(&features(&frontend::samples(clip)));
        let golden = frontend::golden_i8(clip);
        assert!(ours == golden, "{clip}: {}", first_difference(&ours, &golden));
    }
}

#[test]
fn the_model_gives_the_golden_outputs_and_names_the_word() {
    let model_bytes = std::fs::read(frontend::model_path()).unwrap();
    let model = TfLiteModel::load(&model_bytes).unwrap();
    let mut arena = vec![0u8; model.arena_size().unwrap()];
    let mut interpreter = Interpreter::new(&model, &mut arena).unwrap();
    for (clip, label) in frontend::UTTERANCES {
        let input = model_input(&features(&frontend::samples(clip)));
        let bytes = interpreter.input_bytes(0).unwrap();
        assert_eq!(bytes.len(), input.len());
        for (b, &q) in bytes.iter_mut().zip(&input) {
            *b = q as u8;
        }
        interpreter.invoke().unwrap();
        let output = interpreter.output_bytes(0).unwrap().to_vec();
        let golden = frontend::bytes(&format!("{clip}.output_i8.bin"));
        assert_eq!(output, golden, "{clip}");
        let top = (0..4).max_by_key(|&i| output[i] as i8).unwrap();
        assert_eq!(frontend::LABELS[top], label, "{clip}");
    }
}

#[test]
fn features_do_not_depend_on_chunking() {
    let mut seed: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut next = move |bound: usize| {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        (seed % bound as u64) as usize
    };
    for clip in ["yes_1000ms", "no_1000ms"] {
        let samples = frontend::samples(clip);
        let golden = frontend::golden_u16(clip);
        for round in 0..20 {
            // Chunks of 0 to 1100 samples (a few longer than a window), some rounds all tiny.
            let max = if round % 4 == 0 { 3 } else { 1100 };
            let mut frontend = MicroFrontend::new();
            let mut out = Vec::new();
            let mut rest = &samples[..];
            while !rest.is_empty() {
                let n = next(max + 1).min(rest.len());
                frontend.push(&rest[..n], |f| out.extend_from_slice(f));
                rest = &rest[n..];
            }
            assert!(out == golden, "{clip} round {round}: {}", first_difference(&out, &golden));
            assert_eq!(frontend.buffered(), 16_000 - 49 * 320);
        }
    }
}

#[test]
fn reset_starts_a_fresh_stream() {
    let yes = frontend::samples("yes_1000ms");
    let no = frontend::samples("no_1000ms");
    let mut frontend = MicroFrontend::new();
    frontend.push(&yes, |_| {});
    // Without reset, the noise estimate carries over and the features differ.
    let mut carried = Vec::new();
    frontend.push(&no[..480], |f| carried.extend_from_slice(f));
    frontend.reset();
    let mut fresh = Vec::new();
    frontend.push(&no, |f| fresh.extend_from_slice(f));
    assert_eq!(fresh, frontend::golden_u16("no_1000ms"));
    assert_ne!(carried[..], fresh[..NUM_CHANNELS]);
}

#[test]
fn process_samples_yields_one_frame_per_call() {
    let samples = frontend::samples("yes_1000ms");
    let golden = frontend::golden_u16("yes_1000ms");
    let mut frontend = MicroFrontend::new();
    let (used, frame) = frontend.process_samples(&samples);
    assert_eq!(used, 480);
    assert_eq!(frame.unwrap()[..], golden[..NUM_CHANNELS]);
    let (used, frame) = frontend.process_samples(&samples[480..]);
    assert_eq!(used, 320);
    assert_eq!(frame.unwrap()[..], golden[NUM_CHANNELS..2 * NUM_CHANNELS]);
    let (used, frame) = frontend.process_samples(&samples[800..900]);
    assert_eq!((used, frame), (100, None));
}

#[test]
fn extreme_audio_does_not_panic() {
    let mut frontend = MicroFrontend::new();
    let patterns: [fn(usize) -> i16; 4] = [
        |_| i16::MIN,
        |_| i16::MAX,
        |i| if i % 2 == 0 { i16::MIN } else { i16::MAX },
        |i| ((i * 7919) % 65536) as u16 as i16,
    ];
    for pattern in patterns {
        let samples: Vec<i16> = (0..4000).map(pattern).collect();
        let mut frames = 0;
        frontend.push(&samples, |_| frames += 1);
        assert!(frames > 0);
    }
}

#[test]
fn quantize_feature_follows_the_micro_speech_formula() {
    assert_eq!(quantize_feature(0), -128);
    assert_eq!(quantize_feature(333), 0);
    // (1 * 256 + 333) / 666 = 0; (2 * 256 + 333) / 666 = 1.
    assert_eq!(quantize_feature(1), -128);
    assert_eq!(quantize_feature(2), -127);
    assert_eq!(quantize_feature(u16::MAX), 127);
    for f in 0..=u16::MAX {
        let expect = ((i32::from(f) * 256 + 333) / 666 - 128).clamp(-128, 127);
        assert_eq!(i32::from(quantize_feature(f)), expect);
    }
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(64))]

    /// Any audio, split anywhere, gives the frames of one whole push (and never panics).
    #[test]
    fn any_audio_any_split_gives_the_same_frames(
        audio in proptest::collection::vec(proptest::num::i16::ANY, 0..2500),
        cuts in proptest::collection::vec(0usize..2500, 0..8),
    ) {
        let whole = features(&audio);
        proptest::prop_assert_eq!(whole.len(), frames_for(audio.len()) * NUM_CHANNELS);
        let mut cuts: Vec<usize> = cuts.into_iter().map(|c| c.min(audio.len())).collect();
        cuts.sort_unstable();
        let mut frontend = MicroFrontend::new();
        let mut split = Vec::new();
        let mut start = 0;
        for cut in cuts.into_iter().chain([audio.len()]) {
            frontend.push(&audio[start..cut], |f| split.extend_from_slice(f));
            start = cut;
        }
        proptest::prop_assert_eq!(split, whole);
    }
}
