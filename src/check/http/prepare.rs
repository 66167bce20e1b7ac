//! The pure half of a check's HTTP request: the URL, headers and body built
//! from the check's description, the config's values and the key, with the
//! rules this module keeps (https only but to loopback, the key only in
//! headers and marked sensitive, config values encoded so they cannot add
//! path segments). The request sent and copy-as-curl (`check/curl.rs`) are
//! both built here.

use super::KEY_PLACEHOLDER;
use crate::check::Outcome;
use crate::check::encode::encode_segment;
use crate::check::secret::ApiKey;
use crate::guide::RequestSpec;
use crate::progress::Verdict;
use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use reqwest::{Method, Url};
use std::collections::BTreeMap;
use std::net::IpAddr;

/// A request ready to send. Its Debug shows no key (the header holding it is
/// marked sensitive).
#[derive(Debug, Clone)]
pub struct Prepared {
    pub method: Method,
    pub url: Url,
    pub(super) headers: HeaderMap,
    pub(super) body: Option<String>,
    /// "GET https://host/path?query": holds no key by construction.
    pub request_line: String,
    /// The headers as a person reads them: in the order sent, names as the
    /// guide writes them, `{api_key}` where the key goes (copy-as-curl
    /// leaves it to the shell).
    pub shown_headers: Vec<(String, String)>,
}

impl Prepared {
    /// The body as sent (it never holds the key).
    pub fn body(&self) -> Option<&str> {
        self.body.as_deref()
    }
}

pub(super) fn error(message: impl Into<String>, hint: Option<String>) -> Box<Outcome> {
    Box::new(Outcome { verdict: Some(Verdict::Error), message: message.into(), hint, ..Outcome::default() })
}

/// True for `localhost`, `127.0.0.0/8` and `::1`.
pub fn is_loopback_host(host: &str) -> bool {
    let h = host.trim_start_matches('[').trim_end_matches(']');
    h.eq_ignore_ascii_case("localhost") || h.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

/// Replaces `{name}` placeholders with values from `vars`. The key is never
/// allowed here (paths, queries and bodies end up in evidence and logs).
fn fill(
    template: &str,
    vars: &BTreeMap<String, String>,
    guide: &str,
    where_: &str,
    encode: bool,
) -> Result<String, Box<Outcome>> {
    let mut out = String::with_capacity(template.len());
    let mut rest = template;
    while let Some(start) = rest.find('{') {
        let Some(len) = rest[start..].find('}') else {
            break;
        };
        let name = &rest[start + 1..start + len];
        let is_name = !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
        out.push_str(&rest[..start]);
        if !is_name {
            // Not a placeholder (a JSON body's own brace): keep the brace
            // and look for placeholders inside what follows it.
            out.push('{');
            rest = &rest[start + 1..];
            continue;
        } else if name == "api_key" {
            return Err(error(
                format!("the check puts the key in the {where_}; a key may only go in a header"),
                Some("Fix the guide: use {api_key} in a header value only.".into()),
            ));
        } else {
            match vars.get(name).map(|v| v.trim()).filter(|v| !v.is_empty()) {
                Some(v) => out.push_str(&if encode { encode_segment(v) } else { v.to_string() }),
                None => {
                    return Err(error(
                        format!("set {name} in config.toml [guides.{guide}.vars]"),
                        Some(format!("The check needs {name}: add it under [guides.{guide}.vars] in config.toml.")),
                    ));
                }
            }
        }
        rest = &rest[start + len + 1..];
    }
    out.push_str(rest);
    Ok(out)
}

/// Builds the request for `req` on `base_url` (the resolved base URL of the
/// environment `key` belongs to).
pub fn prepare(
    base_url: &str,
    req: &RequestSpec,
    vars: &BTreeMap<String, String>,
    key: Option<&ApiKey>,
    guide: &str,
) -> Result<Prepared, Box<Outcome>> {
    let base = Url::parse(base_url.trim())
        .map_err(|_| error(format!("the base URL {:?} is not a URL", crate::sanitize::line(base_url)), None))?;
    let host = base.host_str().unwrap_or("").to_string();
    match base.scheme() {
        "https" => {}
        "http" if is_loopback_host(&host) => {}
        "http" => {
            return Err(error(
                format!("refusing plain http:// to {host}: the key would travel unencrypted"),
                Some("Use an https:// base URL (plain http is allowed only to a loopback address).".into()),
            ));
        }
        other => {
            return Err(error(format!("the base URL uses {other}://; only https:// is supported"), None));
        }
    }
    let method_name = req.method.as_deref().unwrap_or("GET").to_ascii_uppercase();
    let method = Method::from_bytes(method_name.as_bytes())
        .map_err(|_| error(format!("method {method_name:?} is not valid"), None))?;

    let path = fill(req.path.as_deref().unwrap_or("/"), vars, guide, "path", true)?;
    let joined = format!(
        "{}{}",
        base.as_str().trim_end_matches('/'),
        if path.starts_with('/') { path.clone() } else { format!("/{path}") }
    );
    let mut url = Url::parse(&joined).map_err(|_| error("the check's path does not make a valid URL", None))?;
    if url.host_str() != base.host_str()
        || url.port_or_known_default() != base.port_or_known_default()
        || url.scheme() != base.scheme()
    {
        return Err(error("the check's path leaves the environment's host", None));
    }
    if !req.query.is_empty() {
        let mut pairs = Vec::with_capacity(req.query.len());
        for (k, v) in &req.query {
            pairs.push((fill(k, vars, guide, "query", false)?, fill(v, vars, guide, "query", false)?));
        }
        let mut q = url.query_pairs_mut();
        for (k, v) in &pairs {
            q.append_pair(k, v);
        }
    }

    let mut headers = HeaderMap::new();
    let mut shown_headers: Vec<(String, String)> = Vec::new();
    for (name, template) in &req.headers {
        let hn = HeaderName::from_bytes(name.trim().as_bytes())
            .map_err(|_| error(format!("header name {:?} is not valid", crate::sanitize::line(name)), None))?;
        let with_key = template.contains(KEY_PLACEHOLDER);
        // Placeholders first, the key last: a key that happens to hold
        // `{name}` is never read as one.
        let parts: Vec<&str> = template.split(KEY_PLACEHOLDER).collect();
        let mut filled = Vec::with_capacity(parts.len());
        for part in parts {
            filled.push(fill(part, vars, guide, "header", false)?);
        }
        shown_headers.push((name.trim().to_string(), filled.join(KEY_PLACEHOLDER)));
        let value = if with_key {
            let Some(k) = key else {
                return Err(error(format!("no key for {guide}: the header {name} needs one"), None));
            };
            filled.join(k.expose())
        } else {
            filled.concat()
        };
        // The message never quotes the value: it may hold the key.
        let mut hv = HeaderValue::from_str(&value)
            .map_err(|_| error(format!("the value of header {name} is not valid in HTTP"), None))?;
        if with_key {
            hv.set_sensitive(true);
        }
        headers.insert(hn, hv);
    }
    if !headers.contains_key(reqwest::header::ACCEPT) {
        headers.insert(reqwest::header::ACCEPT, HeaderValue::from_static("application/json"));
        shown_headers.push(("Accept".into(), "application/json".into()));
    }
    let body = match &req.body {
        Some(b) => {
            let t = b.trim_start();
            let json_body = t.starts_with('{') || t.starts_with('[');
            // In a JSON body a config value is a JSON string's content.
            let escaped: BTreeMap<String, String>;
            let vars = if json_body {
                escaped = vars
                    .iter()
                    .map(|(k, v)| {
                        let quoted = serde_json::to_string(v).unwrap_or_default();
                        (k.clone(), quoted.trim_matches('"').to_string())
                    })
                    .collect();
                &escaped
            } else {
                vars
            };
            let b = fill(b, vars, guide, "body", false)?;
            let t = b.trim_start();
            if !headers.contains_key(reqwest::header::CONTENT_TYPE) && (t.starts_with('{') || t.starts_with('[')) {
                headers.insert(reqwest::header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
                shown_headers.push(("Content-Type".into(), "application/json".into()));
            }
            Some(b)
        }
        None => None,
    };
    let request_line = format!("{} {}", method.as_str(), url);
    Ok(Prepared { method, url, headers, body, request_line, shown_headers })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    fn spec(path: &str) -> RequestSpec {
        RequestSpec { path: Some(path.into()), ..RequestSpec::default() }
    }

    #[test]
    fn loopback_hosts() {
        for h in ["localhost", "127.0.0.1", "127.9.9.9", "[::1]", "::1"] {
            assert!(is_loopback_host(h), "{h}");
        }
        for h in ["example.com", "10.0.0.1", "localhost.example.com", "[::2]"] {
            assert!(!is_loopback_host(h), "{h}");
        }
    }

    #[test]
    fn plain_http_only_to_loopback() {
        let v = vars(&[]);
        assert!(prepare("http://127.0.0.1:8080", &spec("/x"), &v, None, "g").is_ok());
        assert!(prepare("http://localhost:8080", &spec("/x"), &v, None, "g").is_ok());
        let err = prepare("http://api.example.com", &spec("/x"), &v, None, "g").err().unwrap_or_default();
        assert_eq!(err.verdict, Some(Verdict::Error));
        assert!(err.message.contains("refusing plain http://"), "{err:?}");
        assert!(prepare("ftp://x", &spec("/x"), &v, None, "g").is_err());
    }

    #[test]
    fn placeholders_from_config_and_key_only_in_headers() {
        let v = vars(&[("customer_code", "DE VC"), ("customer_number", "11223344")]);
        let mut s = spec("/shipment/{customer_code}/x");
        s.query.insert("CustomerNumber".into(), "{customer_number}".into());
        s.headers.insert("apikey".into(), "{api_key}".into());
        let key = ApiKey::new("the-secret-key-123456");
        let p = prepare("https://api.test/", &s, &v, Some(&key), "postnl").ok();
        let Some(p) = p else { panic!("prepare failed") };
        assert_eq!(p.request_line, "GET https://api.test/shipment/DE%20VC/x?CustomerNumber=11223344");
        assert!(p.headers.get("apikey").is_some_and(|h| h.is_sensitive()));
        assert!(!format!("{p:?}").contains("the-secret-key"));

        let missing = prepare("https://api.test", &spec("/x/{customer_code}"), &vars(&[]), None, "postnl")
            .err()
            .unwrap_or_default();
        assert_eq!(missing.message, "set customer_code in config.toml [guides.postnl.vars]");

        let in_path =
            prepare("https://api.test", &spec("/x/{api_key}"), &v, Some(&key), "postnl").err().unwrap_or_default();
        assert!(in_path.message.contains("only go in a header"), "{in_path:?}");
        let mut q = spec("/x");
        q.query.insert("k".into(), "{api_key}".into());
        assert!(prepare("https://api.test", &q, &v, Some(&key), "postnl").is_err());

        let mut h = spec("/x");
        h.headers.insert("apikey".into(), "{api_key}".into());
        assert!(prepare("https://api.test", &h, &v, None, "postnl").is_err());
    }

    #[test]
    fn path_cannot_leave_the_host() {
        let v = vars(&[("c", "a/../../b")]);
        // Config values are encoded, so they cannot add segments.
        let p = prepare("https://api.test", &spec("/x/{c}"), &v, None, "g").ok();
        assert_eq!(p.map(|p| p.request_line), Some("GET https://api.test/x/a%2F..%2F..%2Fb".to_string()));
        assert!(
            prepare("https://api.test", &spec("//evil.test/x"), &v, None, "g")
                .is_ok_and(|p| p.url.host_str() == Some("api.test"))
        );
    }

    #[test]
    fn invalid_header_value_is_not_echoed() {
        let mut s = spec("/x");
        s.headers.insert("apikey".into(), "{api_key}".into());
        let key = ApiKey::new("bad\u{1}key-secret-123");
        let e = prepare("https://api.test", &s, &vars(&[]), Some(&key), "g").err().unwrap_or_default();
        assert!(!e.message.contains("secret"), "{e:?}");
    }
}
