//! API keys as a type: masked in Debug and Display, not serializable, and
//! exposed only to the code that sends them.

use std::fmt;

/// An API key. Never printed, never saved.
#[derive(Clone, PartialEq, Eq)]
pub struct ApiKey(String);

impl ApiKey {
    pub fn new(value: impl Into<String>) -> Self {
        ApiKey(value.into())
    }

    /// The key itself, for the HTTP layer and the command runner only.
    pub(crate) fn expose(&self) -> &str {
        &self.0
    }

    /// `••••1a2b` (the last four characters at most, and only if the key is
    /// long enough that they do not give much away).
    pub fn masked(&self) -> String {
        let n = self.0.chars().count();
        if n >= 12 {
            let tail: String = self.0.chars().skip(n - 4).collect();
            format!("••••{tail}")
        } else {
            "••••".to_string()
        }
    }
}

impl fmt::Debug for ApiKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ApiKey({})", self.masked())
    }
}

impl fmt::Display for ApiKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.masked())
    }
}
