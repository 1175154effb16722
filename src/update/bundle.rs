//! The update bundle: a checked, zero-copy view over its bytes ([`Bundle::parse`]).
//!
//! The layout, byte by byte, is in `docs/updates.md`; in short (all integers little-endian):
//!
//! ```text
//! header (64 bytes): magic "RXUB", format version, header length, model version, lengths of the
//!                    model, plan, known-answer input and output, key id, builtin-operator bitmap
//! model | plan | known-answer input | known-answer output   (each zero-padded to 16 bytes)
//! SHA-256 of everything above (32 bytes)
//! Ed25519 signature of that digest (64 bytes)
//! ```
//!
//! Parsing checks the structure only (lengths, padding, reserved values): it does not compute the
//! digest nor check the signature (that is [`verify`](super::verify)), nor load the model (that
//! is [`check`](super::check)). It never panics and never reads past the slice.

use core::fmt;

/// The first four bytes of every bundle.
pub const MAGIC: [u8; 4] = *b"RXUB";
/// The format version this crate writes and reads.
pub const FORMAT_VERSION: u16 = 1;
/// Bytes of the header.
pub const HEADER_LEN: usize = 64;
/// Bytes of the digest (SHA-256) after the body.
pub const DIGEST_LEN: usize = 32;
/// Bytes of the Ed25519 signature after the digest.
pub const SIGNATURE_LEN: usize = 64;
/// Bytes of the trailer (digest and signature).
pub const TRAILER_LEN: usize = DIGEST_LEN + SIGNATURE_LEN;
/// Every section of the body starts on a multiple of this many bytes.
pub const ALIGN: usize = 16;
/// Bytes of the builtin-operator bitmap (one bit per builtin code `0..256`).
pub const OPERATORS_LEN: usize = 32;

/// Why bytes are not a well-formed bundle.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum BundleError {
    /// Shorter than a header and trailer, or shorter than its header says (a truncated bundle).
    Truncated,
    /// Longer than its header says.
    TrailingBytes,
    /// The bytes do not start with [`MAGIC`].
    NotABundle,
    /// A format version this crate does not read.
    FormatVersion(u16),
    /// A header length other than [`HEADER_LEN`].
    HeaderLength(u16),
    /// An empty model, or an empty known-answer input or output.
    EmptySection,
    /// A padding byte is not zero.
    Padding,
}

impl fmt::Display for BundleError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Truncated => f.write_str("truncated bundle"),
            Self::TrailingBytes => f.write_str("bytes after the bundle's signature"),
            Self::NotABundle => f.write_str("not an update bundle (bad magic)"),
            Self::FormatVersion(v) => write!(f, "bundle format version {v} is not supported"),
            Self::HeaderLength(n) => write!(f, "bundle header of {n} bytes is not supported"),
            Self::EmptySection => f.write_str("empty model or known-answer test"),
            Self::Padding => f.write_str("nonzero padding byte"),
        }
    }
}

impl core::error::Error for BundleError {}

/// The builtin operator codes a model uses, as a 256-bit set (bit `c % 8` of byte `c / 8` for
/// builtin code `c`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Operators(pub [u8; OPERATORS_LEN]);

impl Operators {
    /// Adds builtin code `code`; false if it is outside `0..256` (not representable).
    pub fn insert(&mut self, code: i32) -> bool {
        match usize::try_from(code) {
            Ok(c) if c < OPERATORS_LEN * 8 => {
                self.0[c / 8] |= 1 << (c % 8);
                true
            }
            _ => false,
        }
    }

    /// Whether builtin code `code` is in the set.
    pub fn contains(&self, code: i32) -> bool {
        usize::try_from(code)
            .ok()
            .and_then(|c| self.0.get(c / 8).map(|b| b & (1 << (c % 8)) != 0))
            .unwrap_or(false)
    }

    /// The codes in the set, ascending.
    pub fn codes(&self) -> impl Iterator<Item = i32> + '_ {
        (0..OPERATORS_LEN as i32 * 8).filter(|&c| self.contains(c))
    }
}

/// A well-formed bundle: its fields, and slices of its sections (zero copy).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Bundle<'b> {
    /// The model version (monotonic: a device accepts only a higher one than it runs).
    pub version: u32,
    /// The first 4 bytes of the SHA-256 of the signing public key: names the key, proves nothing.
    pub key_id: [u8; 4],
    /// The builtin operators the model uses.
    pub operators: Operators,
    /// The `.tflite` model.
    pub model: &'b [u8],
    /// Its prebuilt plan (`engine::plan::prebuilt`), if the bundle carries one.
    pub plan: Option<&'b [u8]>,
    /// The known-answer input: every model input's bytes, in order.
    pub known_input: &'b [u8],
    /// The expected output for it: every model output's bytes, in order.
    pub known_output: &'b [u8],
    /// The signed bytes (header and sections).
    pub body: &'b [u8],
    /// The SHA-256 of `body`, as the bundle states it.
    pub digest: &'b [u8; DIGEST_LEN],
    /// The Ed25519 signature of `digest`.
    pub signature: &'b [u8; SIGNATURE_LEN],
}

/// `n` rounded up to [`ALIGN`], or `None` on overflow.
pub(crate) fn padded(n: usize) -> Option<usize> {
    n.checked_add(ALIGN - 1).map(|n| n & !(ALIGN - 1))
}

fn u16_at(b: &[u8], at: usize) -> u16 {
    u16::from_le_bytes([b[at], b[at + 1]])
}

fn u32_at(b: &[u8], at: usize) -> u32 {
    u32::from_le_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]])
}

/// The fixed header fields that give lengths.
#[derive(Clone, Copy)]
pub(crate) struct Lengths {
    pub model: usize,
    pub plan: usize,
    pub known_input: usize,
    pub known_output: usize,
}

impl Lengths {
    /// Bytes of the body (header and padded sections), or `None` on overflow.
    pub(crate) fn body(&self) -> Option<usize> {
        [self.model, self.plan, self.known_input, self.known_output]
            .iter()
            .try_fold(HEADER_LEN, |at, &n| at.checked_add(padded(n)?))
    }
}

impl<'b> Bundle<'b> {
    /// Checks the structure of `bytes` (exactly one bundle) and returns the view. Does not check
    /// the digest or signature: see [`verify`](super::verify::verify).
    pub fn parse(bytes: &'b [u8]) -> Result<Bundle<'b>, BundleError> {
        let header = bytes.get(..HEADER_LEN).ok_or(BundleError::Truncated)?;
        if header[..4] != MAGIC {
            return Err(BundleError::NotABundle);
        }
        let format = u16_at(header, 4);
        if format != FORMAT_VERSION {
            return Err(BundleError::FormatVersion(format));
        }
        let header_len = u16_at(header, 6);
        if usize::from(header_len) != HEADER_LEN {
            return Err(BundleError::HeaderLength(header_len));
        }
        let len =
            |at: usize| usize::try_from(u32_at(header, at)).map_err(|_| BundleError::Truncated);
        let lengths = Lengths {
            model: len(12)?,
            plan: len(16)?,
            known_input: len(20)?,
            known_output: len(24)?,
        };
        if lengths.model == 0 || lengths.known_input == 0 || lengths.known_output == 0 {
            return Err(BundleError::EmptySection);
        }
        let body_len = lengths.body().ok_or(BundleError::Truncated)?;
        let total = body_len.checked_add(TRAILER_LEN).ok_or(BundleError::Truncated)?;
        if bytes.len() < total {
            return Err(BundleError::Truncated);
        }
        if bytes.len() > total {
            return Err(BundleError::TrailingBytes);
        }
        let mut at = HEADER_LEN;
        let mut section = |n: usize| -> Result<&'b [u8], BundleError> {
            let end = at + padded(n).ok_or(BundleError::Truncated)?;
            let all = bytes.get(at..end).ok_or(BundleError::Truncated)?;
            let (data, pad) = all.split_at(n);
            if pad.iter().any(|&b| b != 0) {
                return Err(BundleError::Padding);
            }
            at = end;
            Ok(data)
        };
        let model = section(lengths.model)?;
        let plan = section(lengths.plan)?;
        let known_input = section(lengths.known_input)?;
        let known_output = section(lengths.known_output)?;
        let (body, trailer) = bytes.split_at(body_len);
        let (digest, signature) = trailer.split_at(DIGEST_LEN);
        let mut operators = Operators::default();
        operators.0.copy_from_slice(&header[32..32 + OPERATORS_LEN]);
        Ok(Bundle {
            version: u32_at(header, 8),
            key_id: [header[28], header[29], header[30], header[31]],
            operators,
            model,
            plan: (!plan.is_empty()).then_some(plan),
            known_input,
            known_output,
            body,
            digest: digest.try_into().map_err(|_| BundleError::Truncated)?,
            signature: signature.try_into().map_err(|_| BundleError::Truncated)?,
        })
    }

    /// Parses the bundle at the start of `bytes` (a slot holding a bundle and then erased
    /// flash): its length is read from its header.
    pub fn parse_prefix(bytes: &'b [u8]) -> Result<Bundle<'b>, BundleError> {
        let header = bytes.get(..HEADER_LEN).ok_or(BundleError::Truncated)?;
        let len =
            |at: usize| usize::try_from(u32_at(header, at)).map_err(|_| BundleError::Truncated);
        let lengths = Lengths {
            model: len(12)?,
            plan: len(16)?,
            known_input: len(20)?,
            known_output: len(24)?,
        };
        let total = lengths
            .body()
            .and_then(|n| n.checked_add(TRAILER_LEN))
            .ok_or(BundleError::Truncated)?;
        Bundle::parse(bytes.get(..total).ok_or(BundleError::Truncated)?)
    }

    /// Total bytes of the bundle.
    pub fn len(&self) -> usize {
        self.body.len() + TRAILER_LEN
    }

    /// Always false: a bundle has at least a header and a trailer.
    pub fn is_empty(&self) -> bool {
        false
    }
}
