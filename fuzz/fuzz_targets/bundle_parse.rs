//! Fuzz target: any bytes through the update bundle's parser, and what a device does next.
//!
//! `Bundle::parse` must return a typed error or a view whose sections lie inside the input and
//! add up to it; `verify` must never accept bytes not signed by the key; `check` (run here even
//! without a valid signature, to reach the engine and the known-answer test) must return a
//! typed error or succeed, never panic.
#![no_main]

use edge_reflex::update::bundle::{self, Bundle};
use edge_reflex::update::check::check;
use edge_reflex::update::verify::verify;
use edge_reflex::update::{KeyPair, Seed};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let prefix = Bundle::parse_prefix(data);
    let Ok(b) = Bundle::parse(data) else { return };
    assert_eq!(prefix, Ok(b));
    assert_eq!(b.len(), data.len());
    assert_eq!(b.body.len() + bundle::TRAILER_LEN, data.len());
    let inside = |s: &[u8]| {
        let (start, end) = (data.as_ptr() as usize, data.as_ptr() as usize + data.len());
        let at = s.as_ptr() as usize;
        at >= start && at + s.len() <= end
    };
    assert!(inside(b.model) && inside(b.known_input) && inside(b.known_output));
    assert!(b.plan.is_none_or(inside));
    let key = KeyPair::from_seed(Seed::new([0x5a; 32]));
    assert!(verify(data, &key.pk).is_err(), "accepted bytes the key never signed");
    let mut arena = vec![0u8; 1 << 16];
    let _ = check(&b, &mut arena);
});
