//! Guides: the carriers' step-by-step instructions as data. Pure: no IO
//! beyond what `catalog` is handed.

pub mod catalog;
pub mod model;
pub mod parse;
mod request;

pub use catalog::{Catalog, GuideSource, LoadedGuide};
pub use model::*;
pub use parse::{GuideError, parse_guide, parse_guide_with_warnings};
pub use request::{CheckRequest, RunOptions};

use sha2::{Digest, Sha256};

/// A short, stable hash of a step's content (text in every language, links,
/// contacts and checks). Progress stores it when a step is ticked, so that a
/// later edit of that step, and only that step, shows as drift.
pub fn step_hash(step: &Step) -> String {
    let json = serde_json::to_string(step).unwrap_or_default();
    let digest = Sha256::digest(json.as_bytes());
    hex::encode(&digest[..8])
}

/// Parses "30m", "12h", "7d", "45s" into seconds.
pub fn parse_duration(s: &str) -> Option<u64> {
    let s = s.trim();
    let (num, unit) = s.split_at(s.len().checked_sub(1)?);
    let n: u64 = num.parse().ok()?;
    let mult = match unit {
        "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        _ => return None,
    };
    n.checked_mul(mult)
}
