//! A check's request as a curl command that works as pasted: the URL the
//! check really builds (base URL overrides and the demo included, the same
//! path, query and encoding), every piece quoted for a POSIX shell, and the
//! key left to the shell as `"$API_KEY"`, never written out.

use super::http::{KEY_PLACEHOLDER, prepare};
use super::secret::ApiKey;
use crate::guide::RequestSpec;
use std::collections::BTreeMap;

/// Why a check's request cannot be given as a curl command.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CurlError {
    /// The environment has no base URL to send it to.
    #[error("{guide} has no base URL for {env}")]
    NoBaseUrl { guide: String, env: String },
    /// The check itself would not send it (a missing config value, a URL it
    /// refuses): the check's own words.
    #[error("{0}")]
    Refused(String),
}

/// Quotes `s` as one word for a POSIX shell: inside single quotes nothing
/// is special, and a single quote is closed, escaped and reopened.
pub fn quote(s: &str) -> String {
    if !s.is_empty() && s.bytes().all(|b| b.is_ascii_alphanumeric() || b"-_./:=@%+,".contains(&b)) {
        return s.to_string();
    }
    format!("'{}'", s.replace('\'', r"'\''"))
}

/// The curl command for `req` against `base_url`: the request the check
/// sends ([`prepare`]: the same URL, headers and body), the key left to the
/// shell. Err: why it cannot be built (a missing config value, a URL the
/// check itself would refuse).
pub fn curl(
    base_url: &str,
    req: &RequestSpec,
    vars: &BTreeMap<String, String>,
    guide: &str,
) -> Result<String, CurlError> {
    // A stand-in key that never leaves this function: the shown headers
    // say where the key goes without it.
    let stand_in = ApiKey::new("cutover-curl-stand-in".to_string());
    let prepared =
        prepare(base_url, req, vars, Some(&stand_in), guide).map_err(|o| CurlError::Refused(o.message.clone()))?;
    let mut words: Vec<String> = vec!["curl".into(), "-sS".into()];
    let method = prepared.method.as_str().to_string();
    if method != "GET" || prepared.body().is_some() {
        words.push("-X".into());
        words.push(quote(&method));
    }
    for (name, value) in &prepared.shown_headers {
        let word = match value.split_once(KEY_PLACEHOLDER) {
            // 'apikey: '"$API_KEY"'...': the shell expands only the key.
            Some((before, after)) => {
                let mut w = format!("{}\"$API_KEY\"", quote(&format!("{name}: {before}")));
                if !after.is_empty() {
                    w.push_str(&quote(&after.replace(KEY_PLACEHOLDER, "")));
                }
                w
            }
            None => quote(&format!("{name}: {value}")),
        };
        words.push("-H".into());
        words.push(word);
    }
    if let Some(b) = prepared.body() {
        words.push("--data-raw".into());
        words.push(quote(b));
    }
    words.push(quote(prepared.url.as_str()));
    Ok(words.join(" "))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(path: &str) -> RequestSpec {
        let mut s = RequestSpec { path: Some(path.into()), ..RequestSpec::default() };
        s.headers.insert("apikey".into(), "{api_key}".into());
        s
    }

    #[test]
    fn the_key_is_left_to_the_shell_in_double_quotes() {
        let c = curl("https://api.example.com", &spec("/a/b"), &BTreeMap::new(), "g").unwrap();
        assert_eq!(c, "curl -sS -H 'apikey: '\"$API_KEY\" -H 'Accept: application/json' https://api.example.com/a/b");
    }

    #[test]
    fn hostile_pieces_are_quoted() {
        assert_eq!(quote("it's $(rm -rf) `x`"), r"'it'\''s $(rm -rf) `x`'");
        let mut s = spec("/x");
        s.query.insert("q".into(), "a b&c'd".into());
        let c = curl("https://api.example.com/", &s, &BTreeMap::new(), "g").unwrap();
        assert!(c.ends_with("'https://api.example.com/x?q=a+b%26c%27d'"), "{c}");
    }

    #[test]
    fn a_missing_config_value_says_which() {
        let err = curl("https://api.example.com", &spec("/x/{customer_code}"), &BTreeMap::new(), "postnl")
            .unwrap_err()
            .to_string();
        assert!(err.contains("customer_code"), "{err}");
    }

    /// The command is the request the check sends: a config value in a JSON
    /// body is escaped as the check escapes it, and the Content-Type the
    /// check adds is there.
    #[test]
    fn the_body_is_the_one_the_check_sends() {
        let mut s = spec("/x");
        s.method = Some("POST".into());
        s.body = Some(r#"{"name":"{name}"}"#.into());
        let vars: BTreeMap<String, String> = [("name".to_string(), r#"a"b"#.to_string())].into();
        let sent = prepare("https://api.example.com", &s, &vars, Some(&ApiKey::new("k".to_string())), "g").ok();
        assert_eq!(sent.as_ref().and_then(|p| p.body()), Some(r#"{"name":"a\"b"}"#));
        let c = curl("https://api.example.com", &s, &vars, "g").unwrap();
        assert!(c.contains(r#"-H 'Content-Type: application/json' --data-raw '{"name":"a\"b"}'"#), "{c}");
    }
}
