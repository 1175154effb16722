//! `reflex features`: the micro_speech audio front-end (`edge_reflex::frontend::microfrontend`) over
//! a WAV file, so anyone can compare it with TensorFlow's `audio_microfrontend` op. The file is one
//! stream from a fresh front-end state; every complete 20 ms frame (30 ms window) gives 40
//! features, written frame after frame as little-endian `u16` (`--u16`) and as the micro_speech
//! model's `int8` input (`--i8`).

use crate::{emit, files, Result};
use edge_reflex::frontend::microfrontend::{
    frames_for, to_model_input, MicroFrontend, NUM_CHANNELS, SAMPLE_RATE,
};
use std::path::{Path, PathBuf};

/// The largest WAV file `features` reads: 1 GiB (nine hours of 16 kHz audio).
const MAX_WAV_BYTES: u64 = 1 << 30;

/// `reflex features` arguments.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// The audio: a WAV file, 16-bit PCM, mono, 16 kHz, of any length.
    wav: PathBuf,
    /// Where to write the features: frames × 40 `u16`, little-endian, frame after frame.
    #[arg(long = "u16", value_name = "FILE")]
    u16_out: Option<PathBuf>,
    /// Where to write the micro_speech model's input: frames × 40 `int8`.
    #[arg(long = "i8", value_name = "FILE")]
    i8_out: Option<PathBuf>,
}

/// The samples of `path`, which must be a regular 16-bit PCM mono 16 kHz WAV file.
fn read_wav(path: &Path) -> Result<Vec<i16>> {
    let name = path.display();
    let meta = std::fs::metadata(path).map_err(|e| format!("{name}: {e}"))?;
    if !meta.is_file() {
        return Err(format!("{name}: not a regular file: refused").into());
    }
    if meta.len() > MAX_WAV_BYTES {
        let len = meta.len();
        return Err(format!(
            "{name}: {len} bytes, more than the {MAX_WAV_BYTES} of a WAV file reflex reads"
        )
        .into());
    }
    let mut reader = hound::WavReader::open(path).map_err(|e| format!("{name}: {e}"))?;
    let spec = reader.spec();
    if spec.channels != 1
        || spec.sample_rate != SAMPLE_RATE
        || spec.bits_per_sample != 16
        || spec.sample_format != hound::SampleFormat::Int
    {
        return Err(format!(
            "{name}: {} channel(s), {} Hz, {}-bit {:?}; the micro_speech front-end needs 16-bit \
             PCM, mono, {SAMPLE_RATE} Hz",
            spec.channels, spec.sample_rate, spec.bits_per_sample, spec.sample_format
        )
        .into());
    }
    reader
        .samples::<i16>()
        .collect::<std::result::Result<Vec<_>, _>>()
        .map_err(|e| format!("{name}: {e}").into())
}

pub fn main(args: &Args) -> Result<()> {
    let samples = read_wav(&args.wav)?;
    let mut frontend = MicroFrontend::new();
    let mut u16_bytes = Vec::with_capacity(frames_for(samples.len()) * NUM_CHANNELS * 2);
    let mut i8_bytes = Vec::with_capacity(frames_for(samples.len()) * NUM_CHANNELS);
    frontend.push(&samples, |features| {
        let mut input = [0i8; NUM_CHANNELS];
        to_model_input(features, &mut input);
        u16_bytes.extend(features.iter().flat_map(|f| f.to_le_bytes()));
        i8_bytes.extend(input.iter().map(|&q| q as u8));
    });
    let frames = i8_bytes.len() / NUM_CHANNELS;
    let mut report = format!(
        "{}: {} samples ({} ms), {frames} frames x {NUM_CHANNELS} features\n",
        args.wav.display(),
        samples.len(),
        samples.len() as u64 * 1000 / u64::from(SAMPLE_RATE)
    );
    if let Some(path) = &args.u16_out {
        files::write(path, &u16_bytes)?;
        report += &format!("{}: {} bytes (u16 features)\n", path.display(), u16_bytes.len());
    }
    if let Some(path) = &args.i8_out {
        files::write(path, &i8_bytes)?;
        report += &format!("{}: {} bytes (int8 model input)\n", path.display(), i8_bytes.len());
    }
    emit(&report)
}
