//! `reflex kmeans fit`: cluster centres for `edge_reflex::model::KMeansDetector`, fitted on the
//! host from feature vectors of the machine running normally.
//!
//! The data is a text file, one feature vector per line, values separated by commas and/or
//! spaces (`#` starts a comment, blank lines are skipped); every vector must have the same length
//! and finite values. The fit is deterministic: farthest-point initialisation (the first centre is
//! the vector nearest the mean of all, each next one the vector farthest from the centres so far,
//! the first on ties), then Lloyd's iterations (each vector to its nearest centre, the first on
//! ties; each centre to the mean of its vectors, an empty cluster keeping its centre) until no
//! vector changes cluster or `--iterations` is reached, in `f64`. The threshold it suggests is the
//! largest distance of a training vector to its nearest centre times `1 + margin`.
//!
//! The output is a Rust source file with `K`, `FEATURES`, `CENTRES: [[f32; FEATURES]; K]` and
//! `THRESHOLD`, to `include!` where the detector is built.

use crate::{emit, files, Result};
use std::path::PathBuf;

/// `reflex kmeans` arguments.
#[derive(clap::Args, Debug)]
pub struct Args {
    #[command(subcommand)]
    command: Command,
}

#[derive(clap::Subcommand, Debug)]
enum Command {
    /// Fits K centres to normal feature vectors and writes them as Rust constants.
    Fit(FitArgs),
}

/// `reflex kmeans fit` arguments.
#[derive(clap::Args, Debug)]
struct FitArgs {
    /// Feature vectors of normal operation: one per line, comma- or space-separated.
    data: PathBuf,
    /// Number of clusters.
    #[arg(long, default_value_t = 4, value_parser = clap::value_parser!(u16).range(1..=256))]
    k: u16,
    /// The most Lloyd iterations.
    #[arg(long, default_value_t = 100, value_parser = clap::value_parser!(u32).range(1..=10_000))]
    iterations: u32,
    /// The suggested threshold is the largest training distance times 1 + margin.
    #[arg(long, default_value_t = 0.5)]
    margin: f64,
    /// Where to write the Rust constants.
    #[arg(long, value_name = "FILE.rs")]
    out: PathBuf,
}

/// The largest data file read: 256 MiB.
const MAX_DATA_BYTES: u64 = 1 << 28;

/// The fitted clustering.
#[derive(Debug, PartialEq)]
struct Fit {
    centres: Vec<Vec<f64>>,
    iterations: u32,
    converged: bool,
    max_distance: f64,
    sizes: Vec<usize>,
}

/// The feature vectors of `text`.
fn parse(text: &str, name: &str) -> Result<Vec<Vec<f64>>> {
    let mut rows: Vec<Vec<f64>> = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let line = line.split('#').next().unwrap_or("").trim();
        if line.is_empty() {
            continue;
        }
        let row = line
            .split(|c: char| c == ',' || c.is_whitespace())
            .filter(|v| !v.is_empty())
            .map(|v| match v.parse::<f64>() {
                Ok(x) if x.is_finite() => Ok(x),
                _ => Err(format!("{name}:{}: {v:?} is not a finite number", n + 1)),
            })
            .collect::<std::result::Result<Vec<f64>, String>>()?;
        if let Some(first) = rows.first() {
            if first.len() != row.len() {
                return Err(format!(
                    "{name}:{}: {} values, the first vector has {}",
                    n + 1,
                    row.len(),
                    first.len()
                )
                .into());
            }
        }
        rows.push(row);
    }
    Ok(rows)
}

fn distance2(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| (x - y) * (x - y)).sum()
}

/// The index of the nearest centre (the first on ties) and the squared distance to it.
fn nearest(x: &[f64], centres: &[Vec<f64>]) -> (usize, f64) {
    let mut best = (0, f64::INFINITY);
    for (k, c) in centres.iter().enumerate() {
        let d = distance2(x, c);
        if d < best.1 {
            best = (k, d);
        }
    }
    best
}

/// Farthest-point initialisation, then Lloyd's iterations; see the module docs.
fn fit(rows: &[Vec<f64>], k: usize, max_iterations: u32) -> Fit {
    let dims = rows[0].len();
    let mut mean = vec![0.0; dims];
    for r in rows {
        for (m, x) in mean.iter_mut().zip(r) {
            *m += x / rows.len() as f64;
        }
    }
    let (first, _) = nearest(&mean, rows);
    let mut centres = vec![rows[first].clone()];
    while centres.len() < k {
        let mut far = (0, -1.0);
        for (i, r) in rows.iter().enumerate() {
            let (_, d) = nearest(r, &centres);
            if d > far.1 {
                far = (i, d);
            }
        }
        centres.push(rows[far.0].clone());
    }
    let mut assignment = vec![usize::MAX; rows.len()];
    let mut iterations = 0;
    let mut converged = false;
    while iterations < max_iterations {
        iterations += 1;
        let mut changed = false;
        for (a, r) in assignment.iter_mut().zip(rows) {
            let (c, _) = nearest(r, &centres);
            changed |= *a != c;
            *a = c;
        }
        if !changed {
            converged = true;
            break;
        }
        let mut sums = vec![vec![0.0; dims]; k];
        let mut counts = vec![0usize; k];
        for (&a, r) in assignment.iter().zip(rows) {
            counts[a] += 1;
            for (s, x) in sums[a].iter_mut().zip(r) {
                *s += x;
            }
        }
        for ((centre, sum), &count) in centres.iter_mut().zip(sums).zip(&counts) {
            if count > 0 {
                *centre = sum.into_iter().map(|s| s / count as f64).collect();
            }
        }
    }
    let mut sizes = vec![0usize; k];
    let mut max_distance: f64 = 0.0;
    for r in rows {
        let (c, d) = nearest(r, &centres);
        sizes[c] += 1;
        max_distance = max_distance.max(d.sqrt());
    }
    Fit { centres, iterations, converged, max_distance, sizes }
}

/// The Rust constants of a fit (`f32` values printed so they read back exactly).
fn to_rust(fit: &Fit, threshold: f32, data: &str) -> String {
    let k = fit.centres.len();
    let dims = fit.centres[0].len();
    let mut s = format!(
        "// Written by `reflex kmeans fit` from {data}; regenerate it rather than edit it.\n\
         /// Number of centres.\n\
         pub const K: usize = {k};\n\
         /// Features per vector.\n\
         pub const FEATURES: usize = {dims};\n\
         /// The cluster centres, in feature units.\n\
         pub const CENTRES: [[f32; FEATURES]; K] = [\n"
    );
    for c in &fit.centres {
        let values: Vec<String> = c.iter().map(|&v| format!("{:?}", v as f32)).collect();
        s += &format!("    [{}],\n", values.join(", "));
    }
    s += &format!(
        "];\n\
         /// The largest distance of a training vector to its nearest centre, times 1 + margin.\n\
         pub const THRESHOLD: f32 = {threshold:?};\n"
    );
    s
}

pub fn main(args: &Args) -> Result<()> {
    let Command::Fit(args) = &args.command;
    let name = args.data.display().to_string();
    let meta = std::fs::metadata(&args.data).map_err(|e| format!("{name}: {e}"))?;
    if !meta.is_file() || meta.len() > MAX_DATA_BYTES {
        return Err(format!("{name}: not a regular file of at most {MAX_DATA_BYTES} bytes").into());
    }
    let text = std::fs::read_to_string(&args.data).map_err(|e| format!("{name}: {e}"))?;
    let rows = parse(&text, &name)?;
    let k = usize::from(args.k);
    if rows.len() < k {
        return Err(format!("{name}: {} vectors, fewer than the {k} clusters", rows.len()).into());
    }
    if rows[0].is_empty() {
        return Err(format!("{name}: the vectors have no values").into());
    }
    if !(args.margin.is_finite() && args.margin >= 0.0) {
        return Err("--margin must be a finite number >= 0".into());
    }
    let fit = fit(&rows, k, args.iterations);
    let threshold = (fit.max_distance * (1.0 + args.margin)) as f32;
    let file_name = args.data.file_name().map(|n| n.to_string_lossy().into_owned());
    files::write(
        &args.out,
        to_rust(&fit, threshold, file_name.as_deref().unwrap_or("?")).as_bytes(),
    )?;
    emit(&format!(
        "{name}: {} vectors x {} features; {k} centres after {} iteration(s){}; cluster sizes {:?}\n\
         largest training distance {:.4}, threshold {threshold:.4} (margin {})\n{}: written\n",
        rows.len(),
        rows[0].len(),
        fit.iterations,
        if fit.converged { " (converged)" } else { " (iteration limit)" },
        fit.sizes,
        fit.max_distance,
        args.margin,
        args.out.display()
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn two_clusters_give_their_means() {
        let rows = parse("0,0\n0,2\n# comment\n\n10 10\n10,12\n2,0  # tail\n", "t").unwrap();
        let f = fit(&rows, 2, 100);
        assert!(f.converged);
        let mut centres = f.centres.clone();
        centres.sort_by(|a, b| a[0].total_cmp(&b[0]));
        let low = [2.0 / 3.0, 2.0 / 3.0];
        assert!(centres[0].iter().zip(low).all(|(a, b)| (a - b).abs() < 1e-12), "{centres:?}");
        assert_eq!(centres[1], [10.0, 11.0]);
        // The farthest training vector from its centre: (0, 2) or (2, 0), √(4/9 + 16/9).
        assert!((f.max_distance - (20.0f64 / 9.0).sqrt()).abs() < 1e-12);
        assert_eq!(f, fit(&rows, 2, 100), "deterministic");
    }

    #[test]
    fn identical_vectors_and_the_iteration_limit() {
        let rows = vec![vec![1.0, 1.0]; 5];
        let f = fit(&rows, 3, 100);
        assert_eq!(f.max_distance, 0.0);
        assert_eq!(f.sizes.iter().sum::<usize>(), 5);
        let spread: Vec<Vec<f64>> = (0..50).map(|i| vec![f64::from(i * i % 17)]).collect();
        assert_eq!(fit(&spread, 4, 1).iterations, 1);
    }

    #[test]
    fn refuses_ragged_and_non_finite_data() {
        assert!(parse("1,2\n3\n", "t").is_err());
        assert!(parse("1,nan\n", "t").is_err());
        assert!(parse("1,inf\n", "t").is_err());
        assert!(parse("1,x\n", "t").is_err());
    }

    #[test]
    fn rust_output_reads_back_exactly() {
        let fit = Fit {
            centres: vec![vec![0.1, -2.5e-7], vec![1.0 / 3.0, 1e30]],
            iterations: 1,
            converged: true,
            max_distance: 1.0,
            sizes: vec![1, 1],
        };
        let text = to_rust(&fit, 1.5, "x.csv");
        assert!(text.contains("pub const CENTRES: [[f32; FEATURES]; K] = [\n    [0.1, -2.5e-7],\n"));
        assert!(text.contains(&format!("[{:?}, 1e30]", (1.0f64 / 3.0) as f32)));
        assert!(text.contains("pub const THRESHOLD: f32 = 1.5;"));
    }
}
