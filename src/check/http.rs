//! The HTTP edge: one request, built from a check's description, sent with
//! the key of the environment whose base URL it goes to, answered within a
//! deadline and a size cap, then handed to the pure classifier.
//!
//! Rules this module keeps:
//! - redirects are never followed (the key would go along);
//! - plain `http://` only to a loopback address (the key would travel in
//!   clear text otherwise);
//! - the key goes only into headers, marked sensitive; never into the path,
//!   query or body, so the request line saved as evidence holds no key;
//! - error messages are composed here from the kind of failure, never from a
//!   library's `Display` that could quote the request.

use super::Outcome;
use super::classify::{self, Expect};
use super::reach::Resolve;
use super::secret::ApiKey;
use crate::clock::Clock;
use crate::guide::RequestSpec;
use crate::progress::Verdict;
use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use reqwest::{Method, Url};
use std::collections::BTreeMap;
use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio_util::sync::CancellationToken;

/// Most of a response body read, in bytes; the rest is never read.
pub const BODY_CAP: usize = 256 * 1024;

/// The placeholder a header value uses for the environment's key.
pub const KEY_PLACEHOLDER: &str = "{api_key}";

/// Installs the ring crypto provider for rustls once per process (reqwest is
/// built without one). Harmless if a provider is already installed.
pub fn install_crypto_provider() {
    // Err means a provider is already installed: that one is used.
    let _ = rustls::crypto::ring::default_provider().install_default();
}

/// A resolver failure, kept as its own type so that it can be told apart
/// from other connection errors.
#[derive(Debug)]
struct DnsError(String);

impl std::fmt::Display for DnsError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for DnsError {}

/// Our injectable resolver as reqwest's.
#[derive(Debug)]
struct DnsAdapter(Arc<dyn Resolve>);

impl reqwest::dns::Resolve for DnsAdapter {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let host = name.as_str().to_string();
        let fut = self.0.resolve(&host, 0);
        Box::pin(async move {
            match fut.await {
                Ok(addrs) if !addrs.is_empty() => Ok(Box::new(addrs.into_iter()) as reqwest::dns::Addrs),
                Ok(_) => {
                    Err(Box::new(DnsError(format!("{host}: no address"))) as Box<dyn std::error::Error + Send + Sync>)
                }
                Err(e) => {
                    Err(Box::new(DnsError(format!("{host}: {}", e.kind()))) as Box<dyn std::error::Error + Send + Sync>)
                }
            }
        })
    }
}

/// Two clients sharing one resolver: one that ignores proxies (for loopback)
/// and one that honours the environment's proxy settings (real hosts).
///
/// The clients are built on first use (or by [`Http::warm_up`] off the
/// start-up path): building one loads the system's root certificates, which
/// takes milliseconds that the first frame should not wait for.
#[derive(Clone)]
pub struct Http {
    clients: Arc<std::sync::OnceLock<Result<Clients, String>>>,
    resolver: Arc<dyn Resolve>,
}

struct Clients {
    direct: reqwest::Client,
    proxied: reqwest::Client,
}

impl std::fmt::Debug for Http {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Http").field("resolver", &self.resolver).finish_non_exhaustive()
    }
}

impl Http {
    pub fn new(resolver: Arc<dyn Resolve>) -> Result<Http, String> {
        Ok(Http { clients: Arc::new(std::sync::OnceLock::new()), resolver })
    }

    /// Builds the clients now (blocking: call it off the event loop).
    pub fn warm_up(&self) {
        let _ = self.clients();
    }

    fn clients(&self) -> Result<&Clients, String> {
        let built = self.clients.get_or_init(|| {
            install_crypto_provider();
            let resolver = self.resolver.clone();
            let build = |no_proxy: bool| {
                let mut b = reqwest::Client::builder()
                    .redirect(reqwest::redirect::Policy::none())
                    .referer(false)
                    .dns_resolver(Arc::new(DnsAdapter(resolver.clone())))
                    .pool_max_idle_per_host(2)
                    .user_agent(concat!("cutover/", env!("CARGO_PKG_VERSION")));
                if no_proxy {
                    b = b.no_proxy();
                }
                b.build().map_err(|e| format!("cannot set up the HTTP client: {}", error_chain(&e)))
            };
            Ok(Clients { direct: build(true)?, proxied: build(false)? })
        });
        built.as_ref().map_err(Clone::clone)
    }
}

/// A request ready to send. Its Debug shows no key (the header holding it is
/// marked sensitive).
#[derive(Debug, Clone)]
pub struct Prepared {
    pub method: Method,
    pub url: Url,
    headers: HeaderMap,
    body: Option<String>,
    /// "GET https://host/path?query": holds no key by construction.
    pub request_line: String,
}

fn error(message: impl Into<String>, hint: Option<String>) -> Box<Outcome> {
    Box::new(Outcome { verdict: Some(Verdict::Error), message: message.into(), hint, ..Outcome::default() })
}

fn indeterminate(message: impl Into<String>, hint: Option<&str>) -> Outcome {
    Outcome {
        verdict: Some(Verdict::Indeterminate),
        message: message.into(),
        hint: hint.map(str::to_string),
        ..Outcome::default()
    }
}

/// True for `localhost`, `127.0.0.0/8` and `::1`.
pub fn is_loopback_host(host: &str) -> bool {
    let h = host.trim_start_matches('[').trim_end_matches(']');
    h.eq_ignore_ascii_case("localhost") || h.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

/// Percent-encodes everything but unreserved characters (for a path
/// segment taken from the config).
pub(crate) fn encode_segment(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
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
            }
            Some(b)
        }
        None => None,
    };
    let request_line = format!("{} {}", method.as_str(), url);
    Ok(Prepared { method, url, headers, body, request_line })
}

/// A response as read: at most [`BODY_CAP`] bytes of body.
#[derive(Debug, Clone)]
pub struct Fetched {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    /// The body was longer than the cap; the rest was not read.
    pub truncated: bool,
}

impl Http {
    /// Whether to bypass proxies: the host is loopback, or resolves only to
    /// loopback addresses through our resolver.
    async fn is_local(&self, url: &Url, deadline: Duration) -> bool {
        let host = url.host_str().unwrap_or("");
        if is_loopback_host(host) {
            return true;
        }
        let port = url.port_or_known_default().unwrap_or(443);
        match tokio::time::timeout(deadline, self.resolver.resolve(host, port)).await {
            Ok(Ok(addrs)) => !addrs.is_empty() && addrs.iter().all(|a| a.ip().is_loopback()),
            _ => false,
        }
    }

    /// Sends `p` and reads the answer within `timeout` (connect, headers and
    /// body together), or until `cancel`.
    pub async fn fetch(&self, p: &Prepared, timeout: Duration, cancel: &CancellationToken) -> Result<Fetched, Outcome> {
        let host = p.url.host_str().unwrap_or("").to_string();
        let port = p.url.port_or_known_default().unwrap_or(443);
        let work = async {
            let clients = self.clients().map_err(|e| *error(e, None))?;
            let client = if self.is_local(&p.url, timeout).await { &clients.direct } else { &clients.proxied };
            let mut rb = client.request(p.method.clone(), p.url.clone()).headers(p.headers.clone()).timeout(timeout);
            if let Some(b) = &p.body {
                rb = rb.body(b.clone());
            }
            tracing::debug!(request = %p.request_line, "sending");
            let mut resp = rb.send().await.map_err(|e| describe(&e, &host, port, timeout))?;
            let status = resp.status().as_u16();
            let headers: Vec<(String, String)> = resp
                .headers()
                .iter()
                .map(|(k, v)| (k.as_str().to_string(), String::from_utf8_lossy(v.as_bytes()).into_owned()))
                .collect();
            let mut body = Vec::new();
            let mut truncated = false;
            loop {
                match resp.chunk().await {
                    Ok(Some(chunk)) => {
                        let room = BODY_CAP - body.len();
                        if chunk.len() > room {
                            body.extend_from_slice(&chunk[..room]);
                            truncated = true;
                            break;
                        }
                        body.extend_from_slice(&chunk);
                    }
                    Ok(None) => break,
                    Err(e) => {
                        let mut o = if e.is_timeout() {
                            indeterminate(
                                format!("the answer from {host} did not complete within {} s", timeout.as_secs_f32()),
                                Some("The server is slow; try again later."),
                            )
                        } else {
                            indeterminate(
                                format!("the connection to {host} broke while reading the answer"),
                                Some("Try again later."),
                            )
                        };
                        o.http_status = Some(status);
                        return Err(o);
                    }
                }
            }
            tracing::debug!(status, bytes = body.len(), truncated, "answer read");
            Ok(Fetched { status, headers, body, truncated })
        };
        tokio::select! {
            _ = cancel.cancelled() => Err(indeterminate("cancelled", None)),
            r = tokio::time::timeout(timeout, work) => match r {
                Ok(r) => r,
                Err(_) => Err(indeterminate(
                    format!("no complete answer from {host} within {} s", timeout.as_secs_f32()),
                    Some("The server is slow or unreachable; try again later."),
                )),
            },
        }
    }

    /// Sends, reads and classifies: the whole of one HTTP check or probe.
    pub async fn run(
        &self,
        p: &Prepared,
        expect: &Expect<'_>,
        timeout: Duration,
        clock: &dyn Clock,
        cancel: &CancellationToken,
    ) -> Outcome {
        let mut out = match self.fetch(p, timeout, cancel).await {
            Ok(f) => {
                let resp = classify::Response {
                    status: f.status,
                    headers: &f.headers,
                    body: &f.body,
                    received_at: clock.now(),
                };
                let c = classify::classify(&resp, expect);
                let mut details = Vec::new();
                if f.truncated {
                    details.push(format!("the body was longer than {} KB; only that much was read", BODY_CAP / 1024));
                }
                Outcome {
                    verdict: Some(c.verdict),
                    message: c.message,
                    hint: c.hint,
                    http_status: Some(f.status),
                    request: None,
                    excerpt: c.excerpt,
                    details,
                    retry_after: c.retry_after,
                    trace_id: c.trace_id,
                    key_sent_to: None,
                }
            }
            Err(o) => o,
        };
        out.request = Some(p.request_line.clone());
        out
    }
}

/// Every error in the chain, including what an `io::Error` wraps.
fn walk<'a>(e: &'a (dyn std::error::Error + 'static), f: &mut dyn FnMut(&'a (dyn std::error::Error + 'static))) {
    let mut cur: Option<&(dyn std::error::Error + 'static)> = Some(e);
    let mut depth = 0;
    while let Some(err) = cur {
        f(err);
        if let Some(io) = err.downcast_ref::<std::io::Error>()
            && let Some(inner) = io.get_ref()
        {
            walk(inner, f);
        }
        depth += 1;
        if depth > 16 {
            break;
        }
        cur = err.source();
    }
}

/// The messages of an error chain (for client set-up errors, which carry
/// no request), sanitized.
fn error_chain(e: &reqwest::Error) -> String {
    let mut parts: Vec<String> = Vec::new();
    walk(e, &mut |err| parts.push(crate::sanitize::line(&err.to_string())));
    parts.dedup();
    parts.join(": ")
}

/// Maps a transport error to an indeterminate outcome with a message of our
/// own: a transport failure says nothing about the key.
fn describe(e: &reqwest::Error, host: &str, port: u16, timeout: Duration) -> Outcome {
    let mut dns = false;
    let mut refused = false;
    let mut timed_out = e.is_timeout();
    let mut tls: Option<String> = None;
    walk(e, &mut |err| {
        if err.downcast_ref::<DnsError>().is_some() {
            dns = true;
        }
        if let Some(t) = err.downcast_ref::<rustls::Error>() {
            tls.get_or_insert_with(|| crate::sanitize::line(&t.to_string()));
        }
        if let Some(io) = err.downcast_ref::<std::io::Error>() {
            match io.kind() {
                std::io::ErrorKind::ConnectionRefused => refused = true,
                std::io::ErrorKind::TimedOut => timed_out = true,
                _ => {}
            }
        }
    });
    if dns {
        indeterminate(
            format!("cannot resolve {host}: the name does not resolve"),
            Some("Check the host name and this machine's DNS or network."),
        )
    } else if let Some(t) = tls {
        indeterminate(
            format!("TLS handshake with {host}:{port} failed: {t}"),
            Some(
                "The server's certificate is not trusted here (self-signed, expired or for another name); the key was not sent.",
            ),
        )
    } else if refused {
        indeterminate(
            format!("connection refused by {host}:{port}"),
            Some("Nothing listens there: check the base URL and port, or try again later."),
        )
    } else if timed_out {
        indeterminate(
            format!("no answer from {host} within {} s", timeout.as_secs_f32()),
            Some("The server is slow or unreachable; try again later."),
        )
    } else if e.is_connect() {
        indeterminate(
            format!("could not connect to {host}:{port}"),
            Some("Check the network, proxy settings and base URL."),
        )
    } else {
        indeterminate(format!("the request to {host} failed before an answer came"), Some("Try again later."))
    }
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
