//! The bundle format: what `pack` writes `parse` reads back, and every damaged bundle is refused
//! with a typed error, never a panic.

#[path = "update_support/mod.rs"]
mod support;

use edge_reflex::update::bundle::{self, Bundle, BundleError};
use edge_reflex::update::check::{check, CheckError};
use edge_reflex::update::verify::{verify, VerifyError};
use proptest::prelude::*;
use support::*;

#[test]
fn a_packed_bundle_parses_back_to_its_parts() {
    let made = Made::new(A, 3, true);
    let bytes = made.sign(&key());
    let b = Bundle::parse(&bytes).unwrap();
    assert_eq!(b.version, 3);
    assert_eq!(b.model, &made.model[..]);
    assert_eq!(b.plan, made.plan.as_deref());
    assert_eq!(b.known_input, &made.input[..]);
    assert_eq!(b.known_output, &made.output[..]);
    assert_eq!(b.len(), bytes.len());
    // FULLY_CONNECTED is builtin code 9, the only operator of hello_world.
    assert_eq!(b.operators.codes().collect::<Vec<_>>(), vec![9]);
    assert_eq!(&bytes[..4], b"RXUB");
    assert_eq!(bytes.len() % 16, 0);
    let verified = verify(&bytes, &key().pk).unwrap();
    assert_eq!(verified, b);
    check(&b, &mut arena()).unwrap();
}

#[test]
fn a_bundle_without_a_plan_is_checked_by_planning_on_the_device() {
    let bytes = Made::new(B, 1, false).sign(&key());
    let b = verify(&bytes, &key().pk).unwrap();
    assert_eq!(b.plan, None);
    check(&b, &mut arena()).unwrap();
}

#[test]
fn packing_is_deterministic() {
    assert_eq!(bundle(A, 1), bundle(A, 1));
    assert_ne!(bundle(A, 1), bundle(A, 2));
}

#[test]
fn every_truncation_is_refused() {
    let bytes = bundle(A, 1);
    for n in 0..bytes.len() {
        assert_eq!(Bundle::parse(&bytes[..n]), Err(BundleError::Truncated), "length {n}");
        assert_eq!(
            verify(&bytes[..n], &key().pk),
            Err(VerifyError::Bundle(BundleError::Truncated))
        );
    }
    let mut longer = bytes.clone();
    longer.push(0);
    assert_eq!(Bundle::parse(&longer), Err(BundleError::TrailingBytes));
    // A slot holds the bundle and then erased flash: parse_prefix finds its end.
    longer.extend([0xff; 100]);
    assert_eq!(Bundle::parse_prefix(&longer).unwrap().len(), bytes.len());
}

#[test]
fn a_bit_flip_in_every_byte_is_refused() {
    // One bit per byte (the bit rotates with the offset), so every field and section is hit.
    let bytes = bundle(A, 1);
    for i in 0..bytes.len() {
        let mut bad = bytes.clone();
        bad[i] ^= 1 << (i % 8);
        assert!(verify(&bad, &key().pk).is_err(), "byte {i}");
    }
}

#[test]
fn header_fields_are_checked() {
    let bytes = bundle(A, 1);
    let with = |at: usize, v: &[u8]| {
        let mut b = bytes.clone();
        b[at..at + v.len()].copy_from_slice(v);
        Bundle::parse(&b).map(|_| ())
    };
    assert_eq!(with(0, b"RXUC"), Err(BundleError::NotABundle));
    assert_eq!(with(4, &2u16.to_le_bytes()), Err(BundleError::FormatVersion(2)));
    assert_eq!(with(6, &32u16.to_le_bytes()), Err(BundleError::HeaderLength(32)));
    assert_eq!(with(12, &0u32.to_le_bytes()), Err(BundleError::EmptySection));
    assert_eq!(with(12, &u32::MAX.to_le_bytes()), Err(BundleError::Truncated));
    // The known-answer input (1 byte) is followed by 15 bytes of padding.
    let b = Bundle::parse(&bytes).unwrap();
    assert_eq!(b.known_input.len(), 1);
    let pad = b.known_input.as_ptr() as usize - bytes.as_ptr() as usize + 1;
    assert_eq!(with(pad, &[1]), Err(BundleError::Padding));
}

#[test]
fn another_key_is_refused() {
    let bytes = bundle(A, 1);
    assert_eq!(verify(&bytes, &other_key().pk), Err(VerifyError::WrongKey));
    // A bundle claiming the trusted key's id but signed with another key.
    let mut forged = Made::new(A, 1, true).sign(&other_key());
    forged[28..32].copy_from_slice(&bytes[28..32]);
    let body = Bundle::parse(&forged).unwrap().body.len();
    use sha2::Digest;
    let digest = sha2::Sha256::digest(&forged[..body]);
    forged[body..body + 32].copy_from_slice(&digest);
    assert_eq!(verify(&forged, &key().pk), Err(VerifyError::Signature));
}

#[test]
fn a_wrong_known_answer_is_refused() {
    let mut made = Made::new(A, 1, true);
    made.output[0] ^= 1;
    let bytes = made.sign(&key());
    let b = verify(&bytes, &key().pk).unwrap();
    assert_eq!(check(&b, &mut arena()), Err(CheckError::KnownAnswer { at: 0 }));
    let mut made = Made::new(A, 1, true);
    made.input.push(0);
    let bytes = made.sign(&key());
    let b = verify(&bytes, &key().pk).unwrap();
    assert_eq!(check(&b, &mut arena()), Err(CheckError::KnownAnswerSize));
}

#[test]
fn a_plan_of_another_model_is_refused() {
    let mut made = Made::new(A, 1, true);
    made.plan = Made::new(B, 1, true).plan;
    let bytes = made.sign(&key());
    let b = verify(&bytes, &key().pk).unwrap();
    assert_eq!(
        check(&b, &mut arena()),
        Err(CheckError::Plan(edge_reflex::engine::PlanError::ModelMismatch))
    );
}

#[test]
fn a_model_the_engine_refuses_is_refused() {
    let mut made = Made::new(A, 1, false);
    made.model[4..8].copy_from_slice(b"XXXX"); // the FlatBuffer file identifier "TFL3"
    let bytes = made.sign(&key());
    let b = verify(&bytes, &key().pk).unwrap();
    assert!(matches!(check(&b, &mut arena()), Err(CheckError::Model(_))));
}

#[test]
fn a_false_operator_list_is_refused() {
    let made = Made::new(A, 1, true);
    let mut bytes = made.sign(&key());
    bytes[32] |= 1; // claims ADD (code 0) too; re-sign to keep it authentic
    let body = Bundle::parse(&bytes).unwrap().body.len();
    let bytes = resign(&bytes[..body]);
    let b = verify(&bytes, &key().pk).unwrap();
    assert_eq!(check(&b, &mut arena()), Err(CheckError::OperatorsMismatch));
}

#[test]
fn a_too_small_arena_is_refused_with_the_size_needed() {
    let bytes = bundle(A, 1);
    let b = verify(&bytes, &key().pk).unwrap();
    assert!(matches!(
        check(&b, &mut [0u8; 16]),
        Err(CheckError::Run(edge_reflex::engine::RunError::ArenaTooSmall { .. }))
    ));
}

/// Signs `body` again with the tests' key.
fn resign(body: &[u8]) -> Vec<u8> {
    use sha2::Digest;
    let digest = sha2::Sha256::digest(body);
    let signature = key().sk.sign(digest, None::<ed25519_compact::Noise>);
    let mut out = body.to_vec();
    out.extend_from_slice(&digest);
    out.extend_from_slice(signature.as_ref());
    out
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..400)) {
        let _ = Bundle::parse(&bytes);
        let _ = Bundle::parse_prefix(&bytes);
        prop_assert!(verify(&bytes, &key().pk).is_err());
    }

    #[test]
    fn damaged_headers_never_panic(at in 0usize..bundle::HEADER_LEN, v in any::<u8>()) {
        static BUNDLE: std::sync::LazyLock<Vec<u8>> = std::sync::LazyLock::new(|| bundle(A, 1));
        let mut bytes = BUNDLE.clone();
        let same = bytes[at] == v;
        bytes[at] = v;
        let verified = verify(&bytes, &key().pk);
        prop_assert_eq!(verified.is_ok(), same);
    }
}
