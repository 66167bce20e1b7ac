//! Percent-encoding of a URL path segment: one encoder for the HTTP layer
//! (config values put in a path) and the key guard (the encoded form a key
//! may travel in).

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};

/// Everything but the unreserved characters of RFC 3986 (ALPHA, DIGIT,
/// `-`, `.`, `_`, `~`).
const NOT_UNRESERVED: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'.').remove(b'_').remove(b'~');

/// Percent-encodes everything but unreserved characters.
pub fn encode_segment(s: &str) -> String {
    utf8_percent_encode(s, NOT_UNRESERVED).to_string()
}
