//! Runs the conformance fixtures on target and reports one line per case.
//!
//! The fixtures (a `.tflite` model plus input/expected-output byte files per sample) are embedded by
//! the board's `build.rs` into a static [`Case`] table; this module walks the table, lets
//! [`engine`] run every sample through the TFLite engine in the arena the board lends, and compares
//! the output bytes exactly (tolerance 0), or float32 outputs within the case's tolerance. It does not choose which cases fit a
//! board (the board's `build.rs` does) and it does not exit: the caller turns the [`Summary`] into
//! an exit code.

mod engine;

use core::fmt::{self, Write};

/// One input/expected-output pair of a case.
pub struct Sample {
    /// Raw little-endian bytes of each input tensor, in the model's input order.
    pub inputs: &'static [&'static [u8]],
    /// The expected bytes of each output tensor, in the model's output order.
    pub outputs: &'static [&'static [u8]],
}

/// One conformance case: a model and its samples.
pub struct Case {
    /// The fixture set it comes from, e.g. `conformance-next` (a directory of `tests/data`).
    pub set: &'static str,
    /// The fixture's directory name, e.g. `tflm_hello_world`.
    pub name: &'static str,
    /// The `.tflite` bytes.
    pub model: &'static [u8],
    /// The model's plan made at build time (`engine::build`), if the board runs it prebuilt; without
    /// one the firmware loads, checks and plans the model itself.
    pub plan: Option<&'static [u8]>,
    /// 0: outputs must match byte for byte; above 0, outputs are float32 and each value must be
    /// within this absolute distance of the golden one (the case's `tolerance`).
    pub tolerance: f32,
    /// How many samples the fixture has (a board may embed only the first ones).
    pub samples_in_fixture: usize,
    /// The embedded samples, in the fixture's order.
    pub samples: &'static [Sample],
}

/// The outcome of one case.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// Every sample's outputs matched byte for byte.
    Pass,
    /// Something went wrong; the details were already written to the report.
    Fail,
    /// Not run, for the reason given.
    Skip(&'static str),
}

/// Counts over all cases.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Summary {
    /// Cases whose every sample matched.
    pub passed: u32,
    /// Cases that failed to load, to run, or to match.
    pub failed: u32,
    /// Cases that were not run.
    pub skipped: u32,
}

impl Summary {
    /// True when no case failed and at least one passed.
    pub fn success(&self) -> bool {
        self.failed == 0 && self.passed > 0
    }
}

/// Where two byte strings first differ.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Mismatch {
    /// Number of positions that differ (a length difference counts every missing/extra byte).
    pub differing: usize,
    /// Index of the first difference.
    pub first: usize,
    /// Expected byte there, if the expected data is that long.
    pub expected: Option<u8>,
    /// Actual byte there, if the actual data is that long.
    pub actual: Option<u8>,
}

/// Compares `actual` with `expected` exactly; `None` when they are equal.
pub fn compare(expected: &[u8], actual: &[u8]) -> Option<Mismatch> {
    compare_altered(expected, actual, false)
}

/// Where float32 outputs first differ by more than a tolerance.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct OutOfTolerance {
    /// Number of values beyond the tolerance (a length difference counts every missing value).
    pub differing: usize,
    /// Index of the first.
    pub first: usize,
    /// Expected value there.
    pub expected: f32,
    /// Actual value there (NaN if missing).
    pub actual: f32,
}

/// Compares little-endian float32 `actual` with `expected` within `tolerance`; `None` when every
/// value is within it. With `alter`, the first expected value is moved by `1 + 2 * tolerance`
/// (the `mismatch` self-test).
pub(crate) fn compare_within(
    expected: &[u8],
    actual: &[u8],
    tolerance: f32,
    alter: bool,
) -> Option<OutOfTolerance> {
    let value = |b: &[u8], i: usize| {
        b.get(4 * i..4 * i + 4).map(|v| f32::from_le_bytes([v[0], v[1], v[2], v[3]]))
    };
    let longest = expected.len().max(actual.len()).div_ceil(4);
    let mut first = None;
    let mut differing = 0;
    for i in 0..longest {
        let e = value(expected, i).map(|e| if alter && i == 0 { e + 1.0 + 2.0 * tolerance } else { e });
        let a = value(actual, i);
        let within = matches!((e, a), (Some(e), Some(a)) if (e - a).abs() <= tolerance);
        if !within {
            differing += 1;
            first.get_or_insert((i, e.unwrap_or(f32::NAN), a.unwrap_or(f32::NAN)));
        }
    }
    first.map(|(first, expected, actual)| OutOfTolerance { differing, first, expected, actual })
}

impl fmt::Display for OutOfTolerance {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} value(s) beyond the tolerance, first at [{}]: expected {}, got {}",
            self.differing, self.first, self.expected, self.actual
        )
    }
}

/// [`compare`], with the first expected byte inverted when `alter` (the `mismatch` self-test).
fn compare_altered(expected: &[u8], actual: &[u8], alter: bool) -> Option<Mismatch> {
    let expected_at = |i: usize| expected.get(i).map(|&b| if alter && i == 0 { !b } else { b });
    let longest = expected.len().max(actual.len());
    let mut first = None;
    let mut differing = 0;
    for i in 0..longest {
        let (e, a) = (expected_at(i), actual.get(i).copied());
        if e != a {
            differing += 1;
            first.get_or_insert(i);
        }
    }
    first.map(|first| Mismatch {
        differing,
        first,
        expected: expected_at(first),
        actual: actual.get(first).copied(),
    })
}

impl fmt::Display for Mismatch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Bytes are shown as i8, the dtype of nearly every output (float outputs still show which
        // byte differs).
        write!(f, "{} byte(s) differ, first at [{}]: expected ", self.differing, self.first)?;
        show_byte(f, self.expected)?;
        f.write_str(", got ")?;
        show_byte(f, self.actual)
    }
}

fn show_byte(f: &mut fmt::Formatter<'_>, b: Option<u8>) -> fmt::Result {
    match b {
        Some(b) => write!(f, "{}", b as i8),
        None => f.write_str("nothing (length differs)"),
    }
}

/// Runs every case in `cases` with `arena` as the engine's working memory, writing a header line
/// per fixture set, one report line per case (and the reason of any failure) to `out`, then a
/// closing `N passed, N failed` line.
// Not inlined: its locals (graphs, interpreters) take stack only while it runs.
#[inline(never)]
pub fn run_all<W: Write>(cases: &[Case], arena: &mut [u8], out: &mut W) -> Summary {
    let mut summary = Summary::default();
    let _ = writeln!(out, "conformance: {} case(s), arena {} B", cases.len(), arena.len());
    let mut set = "";
    for case in cases {
        if case.set != set {
            set = case.set;
            let in_set = cases.iter().filter(|c| c.set == set).count();
            let _ = writeln!(out, "set {set}: {in_set} case(s)");
        }
        let _ = write!(out, "case {:<28} ", case.name);
        match engine::run_case(case, arena, out) {
            Verdict::Pass => summary.passed += 1,
            Verdict::Fail => summary.failed += 1,
            Verdict::Skip(why) => {
                let _ = writeln!(out, "SKIP  {}", why);
                summary.skipped += 1;
            }
        }
    }
    let _ = writeln!(
        out,
        "conformance: {} passed, {} failed, {} skipped",
        summary.passed, summary.failed, summary.skipped
    );
    summary
}
