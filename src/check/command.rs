//! The customer's own smoke test: a command named in the user's config (a
//! guide can only refer to it by name). Runs in its own process group, killed
//! whole on timeout or cancel; output capped, redacted and sanitized; the key,
//! if passed, goes in an environment variable, never in argv.

use super::Outcome;
use super::secret::ApiKey;
use crate::config::CommandConfig;
use std::time::Duration;
use tokio_util::sync::CancellationToken;

/// Name of the environment variable that carries the key to the command.
pub const KEY_VAR: &str = "CUTOVER_API_KEY";

pub async fn run(name: &str, cfg: &CommandConfig, key: Option<&ApiKey>, default_timeout: Duration, redact: &(dyn Fn(&str) -> String + Sync), cancel: CancellationToken) -> Outcome {
    let _ = (name, cfg, key, default_timeout, redact, cancel);
    Outcome { verdict: Some(crate::progress::Verdict::Error), message: "command checks are not built yet".into(), ..Outcome::default() }
}
