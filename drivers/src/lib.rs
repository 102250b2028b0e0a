//! Drives the release build from the outside, as its users and operators
//! would: the load benchmark (`loadtest`, BENCHMARKS.md) and the fault drills
//! (`chaos`, the book's `docs/src/chaos.md`) start the real binaries and
//! talk HTTP to them. Process control and HTTP only: no crate of the system under test is linked here,
//! no database of it opened.

pub mod fleet;
pub mod latency;
pub mod load;
pub mod process;
pub mod setup;

pub type Error = Box<dyn std::error::Error + Send + Sync>;

/// The `p`th percentile of sorted microseconds, in milliseconds.
pub fn percentile(sorted_us: &[u64], p: f64) -> f64 {
    if sorted_us.is_empty() {
        return f64::NAN;
    }
    let rank = ((p / 100.0) * sorted_us.len() as f64).ceil() as usize;
    sorted_us[rank.clamp(1, sorted_us.len()) - 1] as f64 / 1000.0
}
