//! Which kernel variants a build links: all of them, or only those its models' plans use.
//!
//! A family's `select` picks a variant per operator when the model is prepared (often on the
//! host, in a prebuilt plan), so a firmware built with every variant carries code its models
//! never run. Building with the environment variable `EDGE_REFLEX_KERNELS` set to the list
//! `reflex inspect --kernels MODEL` prints links only the variants named there (and every
//! family's reference kernel, always):
//!
//! ```text
//! $ reflex inspect --kernels model.tflite
//! EDGE_REFLEX_KERNELS=fully_connected:packed
//! $ EDGE_REFLEX_KERNELS=fully_connected:packed cargo build --release
//! ```
//!
//! The variable is read when the crate is compiled, as `defmt` reads `DEFMT_LOG` (cargo
//! rebuilds the crate when it changes); unset or empty, every variant is linked. A name that is
//! not a family's variant fails the build; `none` names no variant (a model without any of these
//! families). An operator whose record asks for a variant this
//! build does not link runs its family's reference kernel: the same bytes, more slowly, so a
//! model delivered later (an update) still runs.
//!
//! ```
//! use edge_reflex::engine::kernels::{fully_connected, KernelVariant};
//!
//! // A build without the variable links every variant.
//! # if option_env!("EDGE_REFLEX_KERNELS").map_or(true, str::is_empty) {
//! assert!(fully_connected::Variant::Packed.is_linked());
//! # }
//! assert!(fully_connected::Variant::Reference.is_linked());
//! assert_eq!(fully_connected::Variant::Packed.name(), "packed");
//! ```

use super::KernelVariant;

/// The kernel variants of one operator, by name: what its record asks each target to run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct KernelUse {
    /// The family (`"conv"`), as [`FAMILIES`] names it.
    pub family: &'static str,
    /// The variant a target with the DSP extension runs (Cortex-M4/M7/M33).
    pub dsp: &'static str,
    /// The variant a target without it runs (Cortex-M0, RISC-V).
    pub portable: &'static str,
}

impl KernelUse {
    /// The names of the variants in a record's codes ([`Choice::to_codes`](super::Choice::to_codes));
    /// `None` for an unknown code.
    pub fn of<V: KernelVariant>(codes: [u8; 2]) -> Option<KernelUse> {
        let [dsp, portable] = codes.map(|c| V::from_code(c));
        Some(KernelUse {
            family: V::FAMILY,
            dsp: dsp?.dsp().name(),
            portable: portable?.portable().name(),
        })
    }
}

/// The build's list, as given (empty when unset).
pub const LIST: &str = match option_env!("EDGE_REFLEX_KERNELS") {
    Some(list) => list,
    None => "",
};

/// The variants of `family` (named `names`, indexed by their record code) that `list` names, as
/// a bit mask; every variant when `list` is empty. Panics (a compile-time error where it is
/// evaluated in a constant) on a malformed list or an unknown variant of `family`.
pub const fn mask_of(list: &str, family: &str, names: &[&str]) -> u32 {
    let list = list.as_bytes();
    if list.is_empty() {
        return u32::MAX;
    }
    let mut mask = 0u32;
    let mut start = 0;
    while start <= list.len() {
        // One entry: list[start..end], "family:variant".
        let mut end = start;
        while end < list.len() && list[end] != b',' {
            end += 1;
        }
        if eq(list, start, end, b"none") {
            // A plan without any of these families: nothing of them is linked.
            start = end + 1;
            continue;
        }
        let mut colon = start;
        while colon < end && list[colon] != b':' {
            colon += 1;
        }
        assert!(colon < end, "EDGE_REFLEX_KERNELS: an entry is not family:variant");
        if eq(list, start, colon, family.as_bytes()) {
            let mut i = 0;
            let mut found = false;
            while i < names.len() {
                if eq(list, colon + 1, end, names[i].as_bytes()) {
                    mask |= 1 << i;
                    found = true;
                }
                i += 1;
            }
            assert!(found, "EDGE_REFLEX_KERNELS: not a variant of that family");
        } else {
            assert!(known_family(list, start, colon), "EDGE_REFLEX_KERNELS: unknown family");
        }
        start = end + 1;
    }
    mask
}

/// The families a list may name.
pub const FAMILIES: [&str; 3] = ["fully_connected", "conv", "depthwise"];

const fn known_family(list: &[u8], start: usize, end: usize) -> bool {
    let mut i = 0;
    while i < FAMILIES.len() {
        if eq(list, start, end, FAMILIES[i].as_bytes()) {
            return true;
        }
        i += 1;
    }
    false
}

/// `list[start..end] == word`, trimmed of spaces.
const fn eq(list: &[u8], mut start: usize, mut end: usize, word: &[u8]) -> bool {
    while start < end && list[start] == b' ' {
        start += 1;
    }
    while end > start && list[end - 1] == b' ' {
        end -= 1;
    }
    if end - start != word.len() {
        return false;
    }
    let mut i = 0;
    while i < word.len() {
        if list[start + i] != word[i] {
            return false;
        }
        i += 1;
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    const FC: [&str; 3] = ["reference", "packed", "sparse"];

    #[test]
    fn an_empty_list_links_everything() {
        assert_eq!(mask_of("", "fully_connected", &FC), u32::MAX);
    }

    #[test]
    fn a_list_links_what_it_names_of_each_family() {
        let list = "fully_connected:packed,conv:packed, fully_connected:sparse";
        assert_eq!(mask_of(list, "fully_connected", &FC), 0b110);
        assert_eq!(mask_of(list, "depthwise", &["reference", "packed"]), 0);
        assert_eq!(mask_of(list, "conv", &["reference", "packed"]), 0b10);
        assert_eq!(mask_of("none", "conv", &["reference", "packed"]), 0);
    }

    #[test]
    fn a_wrong_list_is_refused() {
        for bad in ["fully_connected", "fully_connected:dense", "matmul:packed", ","] {
            let r = std::panic::catch_unwind(|| mask_of(bad, "fully_connected", &FC));
            assert!(r.is_err(), "{bad:?} was accepted");
        }
    }

    /// Each family's names follow its record codes: one name per code, none past them.
    fn names_follow_the_codes<V: crate::engine::kernels::KernelVariant>() {
        for code in 0..=u8::MAX {
            let known = V::from_code(code).is_some();
            assert_eq!(known, usize::from(code) < V::NAMES.len(), "{} code {code}", V::FAMILY);
        }
        assert_eq!(V::REFERENCE.name(), "reference");
        assert!(FAMILIES.contains(&V::FAMILY));
        assert_eq!(mask_of("", V::FAMILY, V::NAMES), u32::MAX);
    }

    #[test]
    fn every_family_names_its_variants() {
        use crate::engine::kernels::{conv, depthwise, fully_connected};
        names_follow_the_codes::<fully_connected::Variant>();
        names_follow_the_codes::<conv::Variant>();
        names_follow_the_codes::<depthwise::Variant>();
    }
}
