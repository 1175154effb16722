//! A streaming statistical anomaly detector (placeholder, being written).
/// Placeholder.
pub struct ZScoreDetector;
