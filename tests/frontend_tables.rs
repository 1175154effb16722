//! The microfrontend's precomputed tables equal what TensorFlow's C library computes at start-up
//! from `float` math (recomputed here with the same `f32`/`f64` operations in the same order).

#[path = "frontend/tables_gen.rs"]
mod tables_gen;

use edge_reflex::frontend::microfrontend::tables::*;

#[test]
fn window_matches_upstream_float_math() {
    assert_eq!(WINDOW.to_vec(), tables_gen::window());
    // Strict f32 differs in exactly one coefficient; the goldens need the f64 value there.
    let f32_window = tables_gen::window_f32();
    let differ: Vec<usize> = (0..WINDOW.len()).filter(|&i| WINDOW[i] != f32_window[i]).collect();
    assert_eq!(differ, [17]);
    assert_eq!((WINDOW[17], f32_window[17]), (53, 54));
}

#[test]
fn fft_twiddles_match_kissfft() {
    let pairs = |t: &[(i16, i16)]| t.to_vec();
    assert_eq!(pairs(&TWIDDLES), tables_gen::twiddles(256));
    assert_eq!(pairs(&SUPER_TWIDDLES), tables_gen::super_twiddles(256));
}

#[test]
fn filterbank_matches_upstream_float_math() {
    let fb = tables_gen::filterbank();
    assert_eq!(START_INDEX, fb.start_index);
    assert_eq!(END_INDEX, fb.end_index);
    assert_eq!(CHANNEL_STARTS.to_vec(), fb.starts);
    assert_eq!(CHANNEL_WIDTHS.to_vec(), fb.widths);
    assert_eq!(WEIGHTS.to_vec(), fb.weights);
    assert_eq!(UNWEIGHTS.to_vec(), fb.unweights);
    // The bands tile START_INDEX..END_INDEX with no gap or overlap.
    let mut next = START_INDEX;
    for (&s, &w) in CHANNEL_STARTS.iter().zip(&CHANNEL_WIDTHS) {
        assert_eq!(usize::from(s), next);
        next += usize::from(w);
    }
    assert_eq!(next, END_INDEX);
}

#[test]
fn noise_and_pcan_coefficients_match_upstream_float_math() {
    assert_eq!(
        (EVEN_SMOOTHING, ODD_SMOOTHING, MIN_SIGNAL_REMAINING),
        tables_gen::noise_coefficients()
    );
    assert_eq!(PCAN_GAIN_LUT.to_vec(), tables_gen::pcan_lut());
}

/// `cargo test --test frontend_tables -- --ignored --nocapture print_tables` prints the constants'
/// Rust source (to regenerate `src/frontend/microfrontend/tables.rs`).
#[test]
#[ignore]
fn print_tables() {
    println!("{}", tables_gen::rust_source());
}
