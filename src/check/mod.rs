//! The check engine: runs what a step declares and says what it proved.
//! No ratatui here. `classify` and `offline` are pure; the rest does IO.

pub mod classify;
pub mod command;
pub mod curl;
pub mod encode;
pub mod http;
pub mod offline;
pub mod ratelimit;
pub mod reach;
pub mod runner;
pub mod secret;

use crate::progress::Verdict;

/// What one check run found, before it is stamped with who, when and where.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Outcome {
    pub verdict: Option<Verdict>,
    pub message: String,
    pub hint: Option<String>,
    pub http_status: Option<u16>,
    /// Method and URL with every secret redacted.
    pub request: Option<String>,
    /// Allow-listed, sanitized, at most 2 KB.
    pub excerpt: Option<String>,
    pub details: Vec<String>,
    /// Seconds to wait before the next try (429 Retry-After).
    pub retry_after: Option<u64>,
    /// The carrier's correlation id (RFC 9457 `traceId`).
    pub trace_id: Option<String>,
    /// host:port the key went to, if the request carried it.
    pub key_sent_to: Option<String>,
}
