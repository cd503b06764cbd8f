//! Percentiles and the printed table: each figure beside the baseline's, as a ratio, and the
//! targets it is held to.

use std::time::Duration;

/// The `p`-th percentile (0–100) of `samples`, which it sorts.
pub fn percentile(samples: &mut [Duration], p: usize) -> Duration {
    if samples.is_empty() {
        return Duration::ZERO;
    }
    samples.sort_unstable();
    let index = (samples.len() * p).div_ceil(100).saturating_sub(1).min(samples.len() - 1);
    samples[index]
}

pub fn ms(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1000.0
}

/// One row: what, Tandem's figure, the baseline's (if any), and the target (if any) with
/// whether it is met.
pub struct Row {
    pub what: String,
    pub tandem: f64,
    pub baseline: Option<f64>,
    pub target: Option<(String, bool)>,
}

pub fn print(rows: &[Row]) -> Vec<String> {
    println!("{:<52} {:>12} {:>12} {:>8}  target", "figure", "tandem", "baseline", "ratio");
    let mut missed = Vec::new();
    for row in rows {
        let baseline = row.baseline.map_or_else(|| "-".to_owned(), |b| format!("{b:.2}"));
        let ratio = match row.baseline {
            Some(b) if b > 0.0 => format!("{:.2}x", row.tandem / b),
            _ => "-".to_owned(),
        };
        let target = match &row.target {
            Some((text, true)) => format!("{text}: met"),
            Some((text, false)) => {
                missed.push(format!("{}: {text}", row.what));
                format!("{text}: MISSED")
            }
            None => String::new(),
        };
        println!("{:<52} {:>12.2} {:>12} {:>8}  {target}", row.what, row.tandem, baseline, ratio);
    }
    missed
}
