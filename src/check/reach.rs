//! Reachability: DNS, TCP and TLS to a host, each timed. The resolver is
//! injected so that tests can make a host unresolvable or point it at
//! loopback.

use super::Outcome;
use crate::progress::Verdict;
use crate::sanitize::line;
use futures::future::BoxFuture;
use rustls::pki_types::ServerName;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Name resolution, injectable.
pub trait Resolve: Send + Sync + std::fmt::Debug {
    fn resolve(&self, host: &str, port: u16) -> BoxFuture<'static, std::io::Result<Vec<SocketAddr>>>;
}

/// Answers the names of a map with their addresses (config `[checks.resolve]`)
/// and asks `inner` for every other name.
#[derive(Debug)]
pub struct MappedResolver {
    pub map: std::collections::BTreeMap<String, std::net::IpAddr>,
    pub inner: std::sync::Arc<dyn Resolve>,
}

impl Resolve for MappedResolver {
    fn resolve(&self, host: &str, port: u16) -> BoxFuture<'static, std::io::Result<Vec<SocketAddr>>> {
        match self.map.iter().find(|(name, _)| name.eq_ignore_ascii_case(host.trim_end_matches('.'))) {
            Some((_, ip)) => {
                let addr = SocketAddr::new(*ip, port);
                Box::pin(async move { Ok(vec![addr]) })
            }
            None => self.inner.resolve(host, port),
        }
    }
}

/// The system resolver (getaddrinfo through tokio).
#[derive(Debug, Default)]
pub struct SystemResolver;

impl Resolve for SystemResolver {
    fn resolve(&self, host: &str, port: u16) -> BoxFuture<'static, std::io::Result<Vec<SocketAddr>>> {
        let target = format!("{host}:{port}");
        Box::pin(async move { Ok(tokio::net::lookup_host(target).await?.collect()) })
    }
}

/// A fixed table of host -> addresses; every other host fails to resolve.
#[derive(Debug, Default, Clone)]
pub struct StaticResolver(pub std::collections::BTreeMap<String, Vec<std::net::IpAddr>>);

impl Resolve for StaticResolver {
    fn resolve(&self, host: &str, port: u16) -> BoxFuture<'static, std::io::Result<Vec<SocketAddr>>> {
        let found = self.0.get(host).map(|ips| ips.iter().map(|ip| SocketAddr::new(*ip, port)).collect::<Vec<_>>());
        let host = host.to_string();
        Box::pin(async move {
            found.ok_or_else(|| {
                std::io::Error::new(std::io::ErrorKind::NotFound, format!("{host}: name does not resolve"))
            })
        })
    }
}

/// Options for one reachability probe.
#[derive(Debug, Clone)]
pub struct ReachSpec {
    pub host: String,
    pub port: u16,
    /// Do a TLS handshake after TCP (verifying the certificate).
    pub tls: bool,
    pub timeout: Duration,
}

/// Resolves, connects and (if asked) shakes hands; details carry the timing
/// of each phase. `tls_config` None means the platform's trust roots.
pub async fn check(
    spec: &ReachSpec,
    resolver: Arc<dyn Resolve>,
    tls_config: Option<Arc<rustls::ClientConfig>>,
) -> Outcome {
    let host = line(&spec.host);
    let port = spec.port;
    let secs = timeout_text(spec.timeout);
    let mut details = Vec::new();

    // DNS.
    let started = Instant::now();
    let addrs = match tokio::time::timeout(spec.timeout, resolver.resolve(&spec.host, port)).await {
        Ok(Ok(addrs)) if !addrs.is_empty() => addrs,
        Ok(Ok(_)) => {
            return indeterminate(format!("DNS lookup of {host} returned no addresses"), DNS_HINT, details);
        }
        Ok(Err(e)) => {
            return indeterminate(format!("DNS lookup of {host} failed: {}", line(&e.to_string())), DNS_HINT, details);
        }
        Err(_) => {
            return indeterminate(format!("DNS lookup of {host} timed out after {secs}"), DNS_HINT, details);
        }
    };
    let dns_ms = started.elapsed().as_millis();
    let count = addrs.len();
    let listed: Vec<String> = addrs.iter().take(4).map(|a| a.ip().to_string()).collect();
    let more = if count > listed.len() { format!(", +{} more", count - listed.len()) } else { String::new() };
    details.push(format!(
        "DNS: {host} -> {} ({}{more}) in {dns_ms} ms",
        plural(count, "address", "addresses"),
        listed.join(", ")
    ));

    // TCP: the first address that answers, all within one timeout.
    let started = Instant::now();
    let now = tokio::time::Instant::now();
    // A timeout too large to add is as good as none.
    let deadline = now.checked_add(spec.timeout).unwrap_or_else(|| now + Duration::from_secs(365 * 86_400));
    let mut stream = None;
    let mut failures: Vec<String> = Vec::new();
    let mut refused = 0usize;
    let mut timed_out = false;
    for addr in &addrs {
        match tokio::time::timeout_at(deadline, tokio::net::TcpStream::connect(addr)).await {
            Ok(Ok(s)) => {
                stream = Some((s, *addr));
                break;
            }
            Ok(Err(e)) => {
                if e.kind() == std::io::ErrorKind::ConnectionRefused {
                    refused += 1;
                }
                failures.push(format!("{addr}: {}", line(&e.to_string())));
            }
            Err(_) => {
                timed_out = true;
                failures.push(format!("{addr}: no answer"));
                break;
            }
        }
    }
    let Some((stream, addr)) = stream else {
        for f in &failures {
            details.push(format!("TCP: {f}"));
        }
        let message = if timed_out {
            format!("TCP connection to {host}:{port} timed out after {secs}")
        } else if refused == failures.len() {
            format!("TCP connection to {host}:{port} refused (nothing listens there)")
        } else {
            format!(
                "TCP connection to {host}:{port} failed: {}",
                failures.last().map(String::as_str).unwrap_or("no address answered")
            )
        };
        let hint = if timed_out { TCP_TIMEOUT_HINT } else { TCP_REFUSED_HINT };
        return indeterminate(message, hint, details);
    };
    let tcp_ms = started.elapsed().as_millis();
    details.push(format!("TCP: connected to {addr} in {tcp_ms} ms"));

    if !spec.tls {
        return Outcome {
            verdict: Some(Verdict::Pass),
            message: format!(
                "{host} answers: DNS {dns_ms} ms ({}), TCP {tcp_ms} ms",
                plural(count, "address", "addresses")
            ),
            details,
            ..Outcome::default()
        };
    }

    // TLS.
    let config = match tls_config {
        Some(c) => c,
        None => match platform_config() {
            Ok(c) => c,
            Err(e) => {
                return Outcome {
                    verdict: Some(Verdict::Error),
                    message: format!("cannot load the platform's trust roots: {}", line(&e.to_string())),
                    details,
                    ..Outcome::default()
                };
            }
        },
    };
    let server_name = match ServerName::try_from(spec.host.clone()) {
        Ok(n) => n,
        Err(_) => {
            return Outcome {
                verdict: Some(Verdict::Error),
                message: format!("{host} is not a valid TLS server name"),
                details,
                ..Outcome::default()
            };
        }
    };
    let started = Instant::now();
    let connector = tokio_rustls::TlsConnector::from(config);
    match tokio::time::timeout(spec.timeout, connector.connect(server_name, stream)).await {
        Ok(Ok(tls)) => {
            let tls_ms = started.elapsed().as_millis();
            let version = tls.get_ref().1.protocol_version().map(version_name).unwrap_or_else(|| "TLS".to_string());
            details.push(format!("TLS: {version} handshake with {host} in {tls_ms} ms; certificate verified"));
            Outcome {
                verdict: Some(Verdict::Pass),
                message: format!(
                    "{host} answers: DNS {dns_ms} ms ({}), TCP {tcp_ms} ms, TLS {tls_ms} ms ({version})",
                    plural(count, "address", "addresses")
                ),
                details,
                ..Outcome::default()
            }
        }
        Ok(Err(e)) => {
            let (why, hint) = tls_failure(&e, &host);
            details.push(format!("TLS: failed after {} ms", started.elapsed().as_millis()));
            indeterminate(format!("TLS handshake with {host} failed: {why}"), hint, details)
        }
        Err(_) => indeterminate(format!("TLS handshake with {host} timed out after {secs}"), TLS_TIMEOUT_HINT, details),
    }
}

const DNS_HINT: &str = "Check the host name, and that this machine can resolve it (VPN, proxy, DNS settings).";
const TCP_REFUSED_HINT: &str =
    "Nothing accepts connections on that port: check the host and port, or a firewall that rejects the connection.";
const TCP_TIMEOUT_HINT: &str = "No answer: a firewall may drop outbound connections to this host and port.";
const TLS_TIMEOUT_HINT: &str = "The server accepted the connection but did not complete a TLS handshake: is this the right port, and does it speak TLS?";
const TLS_TRUST_HINT: &str =
    "A TLS-intercepting proxy, a wrong host, or a test server with its own certificate can cause this.";
const TLS_OTHER_HINT: &str = "The server and this machine could not agree on a secure connection.";

fn indeterminate(message: String, hint: &str, details: Vec<String>) -> Outcome {
    Outcome {
        verdict: Some(Verdict::Indeterminate),
        message,
        hint: Some(hint.to_string()),
        details,
        ..Outcome::default()
    }
}

/// A client config that trusts what the operating system trusts. Loading
/// the system's roots takes a while, so a loaded config is kept for the
/// life of the process; a failure is not kept, so the next check retries.
fn platform_config() -> Result<Arc<rustls::ClientConfig>, rustls::Error> {
    use rustls_platform_verifier::BuilderVerifierExt;
    static LOADED: std::sync::OnceLock<Arc<rustls::ClientConfig>> = std::sync::OnceLock::new();
    if let Some(c) = LOADED.get() {
        return Ok(c.clone());
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = Arc::new(
        rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()?
            .with_platform_verifier()?
            .with_no_client_auth(),
    );
    Ok(LOADED.get_or_init(|| config).clone())
}

/// Why a handshake failed, in words, with a hint.
fn tls_failure(e: &std::io::Error, host: &str) -> (String, &'static str) {
    use rustls::{CertificateError, Error as TlsError};
    let inner = e.get_ref().and_then(|i| i.downcast_ref::<TlsError>());
    match inner {
        Some(TlsError::InvalidCertificate(cert)) => {
            let why = match cert {
                CertificateError::UnknownIssuer => "certificate not trusted (self-signed?)".to_string(),
                CertificateError::BadSignature => {
                    "certificate not trusted (its signature does not match a trusted root)".to_string()
                }
                CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. } => {
                    format!("certificate is not valid for {host}")
                }
                CertificateError::Expired | CertificateError::ExpiredContext { .. } => {
                    "certificate has expired".to_string()
                }
                CertificateError::NotValidYet | CertificateError::NotValidYetContext { .. } => {
                    "certificate is not valid yet (check this machine's clock)".to_string()
                }
                CertificateError::Revoked => "certificate has been revoked".to_string(),
                other => format!("certificate rejected: {}", line(&format!("{other:?}"))),
            };
            (why, TLS_TRUST_HINT)
        }
        Some(TlsError::AlertReceived(alert)) => {
            (format!("the server sent a TLS alert ({})", line(&format!("{alert:?}"))), TLS_OTHER_HINT)
        }
        Some(other) => (line(&other.to_string()), TLS_OTHER_HINT),
        None if e.kind() == std::io::ErrorKind::UnexpectedEof => {
            ("the server closed the connection during the handshake".to_string(), TLS_OTHER_HINT)
        }
        None => (line(&e.to_string()), TLS_OTHER_HINT),
    }
}

fn version_name(v: rustls::ProtocolVersion) -> String {
    match v {
        rustls::ProtocolVersion::TLSv1_3 => "TLSv1.3".to_string(),
        rustls::ProtocolVersion::TLSv1_2 => "TLSv1.2".to_string(),
        other => line(&format!("{other:?}")),
    }
}

fn plural(n: usize, one: &str, many: &str) -> String {
    if n == 1 { format!("1 {one}") } else { format!("{n} {many}") }
}

/// "5 s", "1.5 s", "300 ms".
fn timeout_text(d: Duration) -> String {
    let ms = d.as_millis();
    if ms < 1000 {
        format!("{ms} ms")
    } else if ms.is_multiple_of(1000) {
        format!("{} s", ms / 1000)
    } else {
        format!("{:.1} s", d.as_secs_f64())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timeout_text_reads_well() {
        assert_eq!(timeout_text(Duration::from_millis(300)), "300 ms");
        assert_eq!(timeout_text(Duration::from_secs(20)), "20 s");
        assert_eq!(timeout_text(Duration::from_millis(1500)), "1.5 s");
    }

    #[test]
    fn plural_counts() {
        assert_eq!(plural(1, "address", "addresses"), "1 address");
        assert_eq!(plural(2, "address", "addresses"), "2 addresses");
    }

    #[tokio::test]
    async fn unknown_host_is_indeterminate_at_dns() {
        let spec = ReachSpec { host: "nowhere.invalid".into(), port: 443, tls: true, timeout: Duration::from_secs(5) };
        let out = check(&spec, Arc::new(StaticResolver::default()), None).await;
        assert_eq!(out.verdict, Some(Verdict::Indeterminate));
        assert!(out.message.starts_with("DNS lookup of nowhere.invalid failed"), "{}", out.message);
        assert!(out.details.is_empty());
    }

    #[tokio::test]
    async fn empty_resolution_is_indeterminate() {
        let mut table = std::collections::BTreeMap::new();
        table.insert("empty.test".to_string(), vec![]);
        let spec = ReachSpec { host: "empty.test".into(), port: 443, tls: false, timeout: Duration::from_secs(5) };
        let out = check(&spec, Arc::new(StaticResolver(table)), None).await;
        assert_eq!(out.verdict, Some(Verdict::Indeterminate));
        assert!(out.message.contains("no addresses"), "{}", out.message);
    }

    #[tokio::test]
    async fn hostile_host_name_is_sanitized() {
        let spec =
            ReachSpec { host: "evil\u{1b}[2J.invalid".into(), port: 443, tls: false, timeout: Duration::from_secs(5) };
        let out = check(&spec, Arc::new(StaticResolver::default()), None).await;
        assert!(!out.message.contains('\u{1b}'), "{}", out.message);
    }
}
