//! The user's config file (`config.toml` in the config dir, or `--config`):
//! base URLs, customer numbers, contracts, APIs and versions in use, named
//! commands, timeouts and rate limits. Never holds a key: keys come from the
//! environment, the secrets file or a prompt (see `check::secret`).

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::Path;

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Per guide id.
    #[serde(default)]
    pub guides: BTreeMap<String, GuideConfig>,
    /// Commands a guide's `command` check may run, by name.
    #[serde(default)]
    pub commands: BTreeMap<String, CommandConfig>,
    #[serde(default)]
    pub checks: ChecksConfig,
    /// `cutover serve`: limits and what editors may do.
    #[serde(default)]
    pub serve: ServeConfig,
}

/// Limits of `cutover serve`, and what the host lets editors do.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServeConfig {
    /// Sessions at once, the host's own not counted.
    #[serde(default = "default_max_sessions")]
    pub max_sessions: usize,
    /// Public-key attempts per connection.
    #[serde(default = "default_auth_attempts")]
    pub auth_attempts: usize,
    /// New connections per address per minute.
    #[serde(default = "default_connections_per_minute")]
    pub connections_per_minute: u32,
    /// A session with no input for this long is told so and closed.
    #[serde(default = "default_idle_minutes")]
    pub idle_minutes: u64,
    /// What editors may do beyond sandbox checks that create no data:
    /// "production" (checks in a non-sandbox environment), "command"
    /// (`command` checks), "writes" (confirming a check that creates data).
    #[serde(default)]
    pub editors_may: Vec<String>,
}

impl Default for ServeConfig {
    fn default() -> Self {
        ServeConfig {
            max_sessions: default_max_sessions(),
            auth_attempts: default_auth_attempts(),
            connections_per_minute: default_connections_per_minute(),
            idle_minutes: default_idle_minutes(),
            editors_may: Vec::new(),
        }
    }
}

fn default_max_sessions() -> usize {
    8
}
fn default_auth_attempts() -> usize {
    3
}
fn default_connections_per_minute() -> u32 {
    20
}
fn default_idle_minutes() -> u64 {
    30
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GuideConfig {
    /// Values for `{name}` placeholders in check paths and queries
    /// (`customer_code`, `customer_number`).
    #[serde(default)]
    pub vars: BTreeMap<String, String>,
    /// API groups the integration uses ("Track & Trace", "Delivery Options",
    /// "Shipping"); a probes check runs only these. Empty: all.
    #[serde(default)]
    pub api_groups: Vec<String>,
    /// API name -> version the integration uses (`shippingstatus = "v2"`).
    #[serde(default)]
    pub versions: BTreeMap<String, String>,
    /// Posti logistics service contract numbers linked to the key's user.
    #[serde(default)]
    pub logistics_contracts: Vec<String>,
    /// Posti transport ids (freight).
    #[serde(default)]
    pub transport_ids: Vec<String>,
    /// Per environment overrides.
    #[serde(default)]
    pub environments: BTreeMap<String, EnvConfig>,
    /// Override of every check's freshness window ("12h").
    #[serde(default)]
    pub fresh_for: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EnvConfig {
    #[serde(default)]
    pub base_url: Option<String>,
    #[serde(default)]
    pub rate_limit_per_minute: Option<u32>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CommandConfig {
    /// Program and arguments; no shell is involved.
    pub argv: Vec<String>,
    #[serde(default)]
    pub cwd: Option<String>,
    #[serde(default)]
    pub timeout_secs: Option<u64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChecksConfig {
    /// Default timeout of one HTTP request or connection step.
    #[serde(default = "default_timeout")]
    pub timeout_secs: u64,
    /// Host names answered with these addresses instead of DNS (as curl's
    /// `--resolve`): a split-horizon network, a proxy host, or a test that
    /// must stay on loopback. `"developer.postnl.nl" = "127.0.0.1"`.
    #[serde(default)]
    pub resolve: BTreeMap<String, std::net::IpAddr>,
}

impl Default for ChecksConfig {
    fn default() -> Self {
        ChecksConfig { timeout_secs: default_timeout(), resolve: BTreeMap::new() }
    }
}

fn default_timeout() -> u64 {
    20
}

/// A config file that cannot be used, located.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError(pub String);

impl std::fmt::Display for ConfigError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ConfigError {}

impl Config {
    /// Parses config text; errors name `file:line:col`.
    pub fn parse(src: &str, file: &str) -> Result<Config, ConfigError> {
        toml::from_str(src).map_err(|e| {
            let (line, col) = e.span().map(|s| crate::guide::parse::line_col(src, s.start)).unwrap_or((1, 1));
            ConfigError(format!("{file}:{line}:{col}: {}", e.message().trim()))
        })
    }

    /// Reads `path`; a missing file is an empty config.
    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        match crate::paths::read_regular_file(path, 1024 * 1024) {
            Ok(bytes) => match String::from_utf8(bytes) {
                Ok(s) => Config::parse(&s, &path.display().to_string()),
                Err(_) => Err(ConfigError(format!("{}: the config file is not valid UTF-8", path.display()))),
            },
            Err(crate::paths::ReadRefused::Missing) => Ok(Config::default()),
            Err(e) => Err(ConfigError(format!("{}: {e}", path.display()))),
        }
    }

    pub fn guide(&self, id: &str) -> GuideConfig {
        self.guides.get(id).cloned().unwrap_or_default()
    }

    /// The base URL for `guide`/`env`: `CUTOVER_<GUIDE>_<ENV>_URL` from
    /// `env_vars`, else the config, else the guide's own.
    pub fn base_url(
        &self,
        guide: &crate::guide::Guide,
        env: &str,
        env_vars: &dyn Fn(&str) -> Option<String>,
    ) -> Option<String> {
        let var = format!("CUTOVER_{}_{}_URL", env_key(guide.id()), env_key(env));
        if let Some(v) = env_vars(&var).filter(|v| !v.trim().is_empty()) {
            return Some(v.trim().trim_end_matches('/').to_string());
        }
        if let Some(u) =
            self.guides.get(guide.id()).and_then(|g| g.environments.get(env)).and_then(|e| e.base_url.clone())
        {
            return Some(u.trim_end_matches('/').to_string());
        }
        guide.environments.get(env).map(|e| e.base_url.trim_end_matches('/').to_string())
    }
}

/// `postnl` -> `POSTNL`, `my-guide` -> `MY_GUIDE`.
pub fn env_key(s: &str) -> String {
    s.chars().map(|c| if c.is_ascii_alphanumeric() { c.to_ascii_uppercase() } else { '_' }).collect()
}
