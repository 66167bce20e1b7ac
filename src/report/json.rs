//! The report as JSON: the [`Report`] itself, documented in docs/json.md.

use super::Report;

pub(super) fn render(r: &Report) -> String {
    match serde_json::to_string_pretty(r) {
        Ok(mut s) => {
            s.push('\n');
            s
        }
        // Serializing plain strings, numbers and timestamps cannot fail;
        // should it ever, say so in JSON rather than print nothing.
        Err(e) => format!("{{\"error\": {}}}\n", serde_json::Value::String(format!("cannot render the report: {e}"))),
    }
}
