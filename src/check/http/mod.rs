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

mod prepare;

pub use prepare::{Prepared, is_loopback_host, prepare};

use super::Outcome;
use super::classify::{self, Expect};
use super::reach::Resolve;
use crate::clock::Clock;
use crate::progress::Verdict;
use prepare::error;
use reqwest::Url;
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

/// The HTTP clients cannot be built (the system's root certificates, a
/// proxy setting): every check that sends a request says so.
#[derive(Debug, thiserror::Error)]
#[error("cannot set up the HTTP client: {chain}")]
pub struct SetupError {
    /// The causes, sanitized ([`error_chain`]).
    chain: String,
    #[source]
    source: reqwest::Error,
}

/// Two clients sharing one resolver: one that ignores proxies (for loopback)
/// and one that honours the environment's proxy settings (real hosts).
///
/// The clients are built on first use (or by [`Http::warm_up`] off the
/// start-up path): building one loads the system's root certificates, which
/// takes milliseconds that the first frame should not wait for.
#[derive(Clone)]
pub struct Http {
    clients: Arc<std::sync::OnceLock<Result<Clients, SetupError>>>,
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
    /// The clients are built on first use (or by [`Http::warm_up`]).
    pub fn new(resolver: Arc<dyn Resolve>) -> Http {
        Http { clients: Arc::new(std::sync::OnceLock::new()), resolver }
    }

    /// Builds the clients now (blocking: call it off the event loop).
    pub fn warm_up(&self) {
        let _ = self.clients();
    }

    fn clients(&self) -> Result<&Clients, &SetupError> {
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
                b.build().map_err(|source| SetupError { chain: error_chain(&source), source })
            };
            Ok(Clients { direct: build(true)?, proxied: build(false)? })
        });
        built.as_ref()
    }
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
            let clients = self.clients().map_err(|e| *error(e.to_string(), None))?;
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

fn indeterminate(message: impl Into<String>, hint: Option<&str>) -> Outcome {
    Outcome {
        verdict: Some(Verdict::Indeterminate),
        message: message.into(),
        hint: hint.map(str::to_string),
        ..Outcome::default()
    }
}
