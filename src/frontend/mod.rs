//! Signal front-ends: turn raw sensor samples into the features a model eats.
//!
//! * [`microfrontend`]: TensorFlow's micro_speech audio front-end, bit-exact with the
//!   `audio_microfrontend` op (16 kHz audio to 40 log mel energies per 20 ms), and the `int8`
//!   conversion of the micro_speech keyword model.
//! * [`spectral`]: RMS, peaks and band powers of a vibration window; [`mfcc`]: MFE and MFCC.
//! * [`stage`]: the front-ends as the graph's [feature stage](crate::feature).
//!
//! Every front-end here is `no_std`, allocation-free and streaming: its state is one struct, samples
//! are pushed in chunks of any size and frames come out as they complete. The arithmetic and how
//! it is tested are in `docs/frontend.md`.

pub mod history;
pub mod mfcc;
pub mod microfrontend;
mod real_fft;
pub mod spectral;
pub mod stage;
