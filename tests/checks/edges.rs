//! The checks that touch the world (network, processes, files) against
//! loopback servers, shell scripts and temp dirs.

use cutover::check::command::{self, KEY_VAR};
use cutover::check::ratelimit::RateLimiter;
use cutover::check::reach::{self, ReachSpec, StaticResolver};
use cutover::check::secret::ApiKey;
use cutover::clock::ManualClock;
use cutover::config::CommandConfig;
use cutover::progress::Verdict;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use std::collections::BTreeMap;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio_util::sync::CancellationToken;

// ---- helpers ------------------------------------------------------------

fn resolver(host: &str) -> Arc<StaticResolver> {
    let mut table = BTreeMap::new();
    table.insert(host.to_string(), vec![IpAddr::V4(Ipv4Addr::LOCALHOST)]);
    Arc::new(StaticResolver(table))
}

fn spec(host: &str, port: u16, tls: bool, timeout: Duration) -> ReachSpec {
    ReachSpec { host: host.to_string(), port, tls, timeout }
}

fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// A self-signed certificate for `localhost`.
fn self_signed() -> (CertificateDer<'static>, PrivateKeyDer<'static>) {
    let ck = rcgen::generate_simple_self_signed(vec!["localhost".to_string()]).unwrap();
    (ck.cert.der().clone(), PrivateKeyDer::Pkcs8(ck.signing_key.serialize_der().into()))
}

/// A TLS server on loopback that completes handshakes with `cert`.
async fn tls_server(cert: CertificateDer<'static>, key: PrivateKeyDer<'static>) -> SocketAddr {
    let config = rustls::ServerConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(vec![cert], key)
        .unwrap();
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let acceptor = acceptor.clone();
            tokio::spawn(async move {
                let _ = acceptor.accept(stream).await;
            });
        }
    });
    addr
}

fn client_trusting(cert: Option<CertificateDer<'static>>) -> Arc<rustls::ClientConfig> {
    let mut roots = rustls::RootCertStore::empty();
    if let Some(c) = cert {
        roots.add(c).unwrap();
    }
    Arc::new(
        rustls::ClientConfig::builder_with_provider(provider())
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_root_certificates(roots)
            .with_no_client_auth(),
    )
}

async fn wait_for_file(path: &Path) -> String {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Ok(s) = std::fs::read_to_string(path)
            && s.ends_with('\n')
        {
            return s.trim().to_string();
        }
        assert!(Instant::now() < deadline, "{} never appeared", path.display());
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// True once `pid` is gone or a zombie (killed; its reaper may not run in a
/// container).
fn is_dead(pid: &str) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Err(_) => true,
        Ok(stat) => stat.rsplit_once(')').map(|(_, rest)| rest.trim_start().starts_with(['Z', 'X'])).unwrap_or(false),
    }
}

async fn assert_dies(pid: &str) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while !is_dead(pid) {
        assert!(Instant::now() < deadline, "process {pid} is still alive");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

fn sh(script: &str, args: &[&str]) -> CommandConfig {
    let mut argv = vec!["sh".to_string(), "-c".to_string(), script.to_string(), "sh".to_string()];
    argv.extend(args.iter().map(|a| a.to_string()));
    CommandConfig { argv, cwd: None, timeout_secs: None }
}

fn ident(s: &str) -> String {
    s.to_string()
}

// ---- reachability -------------------------------------------------------

#[tokio::test]
async fn reach_unknown_host_fails_at_dns() {
    let out =
        reach::check(&spec("unknown.test", 443, true, Duration::from_secs(5)), resolver("other.test"), None).await;
    assert_eq!(out.verdict, Some(Verdict::Indeterminate));
    assert!(out.message.starts_with("DNS lookup of unknown.test failed"), "{}", out.message);
}

#[tokio::test]
async fn reach_closed_port_is_refused() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    drop(listener);
    let out =
        reach::check(&spec("closed.test", port, false, Duration::from_secs(5)), resolver("closed.test"), None).await;
    assert_eq!(out.verdict, Some(Verdict::Indeterminate));
    assert_eq!(out.message, format!("TCP connection to closed.test:{port} refused (nothing listens there)"));
    assert!(out.details[0].starts_with("DNS: closed.test -> 1 address (127.0.0.1) in "), "{:?}", out.details);
}

#[tokio::test]
async fn reach_plain_tcp_passes_with_two_timings() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let out = reach::check(&spec("open.test", port, false, Duration::from_secs(5)), resolver("open.test"), None).await;
    assert_eq!(out.verdict, Some(Verdict::Pass), "{}", out.message);
    assert!(
        out.message.starts_with("open.test answers: DNS ")
            && out.message.contains(" ms (1 address), TCP ")
            && !out.message.contains("TLS"),
        "{}",
        out.message
    );
    assert_eq!(out.details.len(), 2, "{:?}", out.details);
    drop(listener);
}

#[tokio::test]
async fn reach_silent_server_times_out_in_tls() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    // Accepts and holds connections, never says a word.
    let holder = tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((s, _)) = listener.accept().await {
            held.push(s);
        }
    });
    let started = Instant::now();
    let out = reach::check(
        &spec("silent.test", port, true, Duration::from_millis(300)),
        resolver("silent.test"),
        Some(client_trusting(None)),
    )
    .await;
    assert_eq!(out.verdict, Some(Verdict::Indeterminate));
    assert_eq!(out.message, "TLS handshake with silent.test timed out after 300 ms");
    assert!(started.elapsed() < Duration::from_secs(10), "not bounded: {:?}", started.elapsed());
    holder.abort();
}

#[tokio::test]
async fn reach_self_signed_is_not_trusted() {
    let (cert, key) = self_signed();
    let addr = tls_server(cert, key).await;
    // Trusting a different certificate, with a different subject.
    let mut params = rcgen::CertificateParams::new(vec!["localhost".to_string()]).unwrap();
    params.distinguished_name.push(rcgen::DnType::CommonName, "some other root");
    let other = params.self_signed(&rcgen::KeyPair::generate().unwrap()).unwrap().der().clone();
    let out = reach::check(
        &spec("localhost", addr.port(), true, Duration::from_secs(10)),
        resolver("localhost"),
        Some(client_trusting(Some(other))),
    )
    .await;
    assert_eq!(out.verdict, Some(Verdict::Indeterminate));
    assert_eq!(out.message, "TLS handshake with localhost failed: certificate not trusted (self-signed?)");
    assert!(out.hint.is_some());

    // Same subject, different key: the signature does not verify.
    let (same_subject, _) = self_signed();
    let out = reach::check(
        &spec("localhost", addr.port(), true, Duration::from_secs(10)),
        resolver("localhost"),
        Some(client_trusting(Some(same_subject))),
    )
    .await;
    assert_eq!(
        out.message,
        "TLS handshake with localhost failed: certificate not trusted (its signature does not match a trusted root)"
    );

    // The platform's roots do not trust it either (or cannot be loaded on
    // this machine, which is an error of the check, not a pass).
    let out =
        reach::check(&spec("localhost", addr.port(), true, Duration::from_secs(10)), resolver("localhost"), None).await;
    assert_ne!(out.verdict, Some(Verdict::Pass), "{}", out.message);
    if out.verdict == Some(Verdict::Indeterminate) {
        assert_eq!(out.message, "TLS handshake with localhost failed: certificate not trusted (self-signed?)");
    }
}

#[tokio::test]
async fn reach_trusted_server_passes_with_three_timings() {
    let (cert, key) = self_signed();
    let addr = tls_server(cert.clone(), key).await;
    let out = reach::check(
        &spec("localhost", addr.port(), true, Duration::from_secs(10)),
        resolver("localhost"),
        Some(client_trusting(Some(cert))),
    )
    .await;
    assert_eq!(out.verdict, Some(Verdict::Pass), "{}", out.message);
    assert!(out.message.starts_with("localhost answers: DNS "), "{}", out.message);
    assert!(out.message.contains(" ms (1 address), TCP ") && out.message.ends_with(" ms (TLSv1.3)"), "{}", out.message);
    assert_eq!(out.details.len(), 3, "{:?}", out.details);
    assert!(out.details[0].starts_with("DNS: "));
    assert!(out.details[1].starts_with(&format!("TCP: connected to {addr} in ")));
    assert!(out.details[2].starts_with("TLS: TLSv1.3 handshake with localhost in "), "{:?}", out.details);
}

#[tokio::test]
async fn reach_wrong_name_is_reported() {
    let (cert, key) = self_signed();
    let addr = tls_server(cert.clone(), key).await;
    let out = reach::check(
        &spec("elsewhere.test", addr.port(), true, Duration::from_secs(10)),
        resolver("elsewhere.test"),
        Some(client_trusting(Some(cert))),
    )
    .await;
    assert_eq!(out.verdict, Some(Verdict::Indeterminate));
    assert_eq!(out.message, "TLS handshake with elsewhere.test failed: certificate is not valid for elsewhere.test");
}

// ---- command ------------------------------------------------------------

#[tokio::test]
async fn command_passes_and_fails_by_exit_code() {
    let out =
        command::run("smoke", &sh("echo hello", &[]), None, Duration::from_secs(30), &ident, CancellationToken::new())
            .await;
    assert_eq!(out.verdict, Some(Verdict::Pass));
    assert!(out.message.starts_with("`smoke` passed (exit 0) in ") && out.message.ends_with(" ms"), "{}", out.message);
    assert_eq!(out.excerpt.as_deref(), Some("hello"));

    let out = command::run(
        "smoke",
        &sh("echo boom >&2; exit 3", &[]),
        None,
        Duration::from_secs(30),
        &ident,
        CancellationToken::new(),
    )
    .await;
    assert_eq!(out.verdict, Some(Verdict::Fail));
    assert_eq!(out.message, "`smoke` failed with exit code 3");
    assert_eq!(out.excerpt.as_deref(), Some("boom"));
}

#[tokio::test]
async fn command_killed_by_signal_fails_naming_it() {
    let out = command::run(
        "smoke",
        &sh("kill -TERM $$", &[]),
        None,
        Duration::from_secs(30),
        &ident,
        CancellationToken::new(),
    )
    .await;
    assert_eq!(out.verdict, Some(Verdict::Fail));
    assert_eq!(out.message, "`smoke` was killed by signal 15 (SIGTERM)");
}

#[tokio::test]
async fn command_runs_in_cwd() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = CommandConfig { cwd: Some(dir.path().display().to_string()), ..sh("pwd -P", &[]) };
    let out = command::run("smoke", &cfg, None, Duration::from_secs(30), &ident, CancellationToken::new()).await;
    assert_eq!(out.verdict, Some(Verdict::Pass));
    assert_eq!(out.excerpt, Some(dir.path().canonicalize().unwrap().display().to_string()));
}

#[tokio::test]
async fn command_timeout_kills_the_whole_group() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().display().to_string();
    let cfg = sh(r#"sleep 1000 & echo $! > "$1/grandchild"; echo $$ > "$1/child"; sleep 1000"#, &[&d]);
    let started = Instant::now();
    let out = command::run("smoke", &cfg, None, Duration::from_secs(2), &ident, CancellationToken::new()).await;
    assert_eq!(out.verdict, Some(Verdict::Indeterminate));
    assert_eq!(out.message, "`smoke` timed out after 2 s; process group killed");
    assert!(started.elapsed() < Duration::from_secs(30));
    let child = wait_for_file(&dir.path().join("child")).await;
    let grandchild = wait_for_file(&dir.path().join("grandchild")).await;
    assert_dies(&child).await;
    assert_dies(&grandchild).await;
}

#[tokio::test]
async fn command_cancel_kills_the_group() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().display().to_string();
    let cancel = CancellationToken::new();
    let token = cancel.clone();
    let task = tokio::spawn(async move {
        let cfg = sh(r#"sleep 1000 & echo $! > "$1/grandchild"; sleep 1000"#, &[&d]);
        command::run("smoke", &cfg, None, Duration::from_secs(600), &ident, token).await
    });
    let grandchild = wait_for_file(&dir.path().join("grandchild")).await;
    cancel.cancel();
    let out = tokio::time::timeout(Duration::from_secs(30), task).await.unwrap().unwrap();
    assert_eq!(out.verdict, Some(Verdict::Indeterminate));
    assert_eq!(out.message, "`smoke` cancelled; process group killed");
    assert_dies(&grandchild).await;
}

#[tokio::test]
async fn command_aborted_task_still_kills_the_group() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().display().to_string();
    let task = tokio::spawn(async move {
        let cfg = sh(r#"sleep 1000 & echo $! > "$1/grandchild"; echo $$ > "$1/child"; sleep 1000"#, &[&d]);
        command::run("smoke", &cfg, None, Duration::from_secs(600), &ident, CancellationToken::new()).await
    });
    let grandchild = wait_for_file(&dir.path().join("grandchild")).await;
    let child = wait_for_file(&dir.path().join("child")).await;
    task.abort();
    assert!(task.await.is_err());
    assert_dies(&child).await;
    assert_dies(&grandchild).await;
}

#[tokio::test]
async fn command_leftover_background_process_does_not_hang_the_check() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().display().to_string();
    let cfg = sh(r#"sleep 1000 & echo $! > "$1/background"; echo started"#, &[&d]);
    let started = Instant::now();
    let out = command::run("smoke", &cfg, None, Duration::from_secs(600), &ident, CancellationToken::new()).await;
    assert!(started.elapsed() < Duration::from_secs(60));
    assert_eq!(out.verdict, Some(Verdict::Pass), "{}", out.message);
    assert_eq!(out.excerpt.as_deref(), Some("started"));
    assert!(out.details.iter().any(|d| d.contains("background process")), "{:?}", out.details);
    assert_dies(&wait_for_file(&dir.path().join("background")).await).await;
}

#[tokio::test]
async fn command_gets_the_key_by_env_never_argv_and_never_shows_it() {
    const KEY: &str = "live-key-0123456789abcdef";
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().display().to_string();
    let script = r#"echo $$ > "$1/pid"
while [ ! -e "$1/go" ]; do sleep 0.05; done
printf 'len=%s\n' "$(printf %s "$CUTOVER_API_KEY" | wc -c | tr -d ' ')"
echo "the key is $CUTOVER_API_KEY""#;
    let cfg = sh(script, &[&d]);
    let task = tokio::spawn(async move {
        let key = ApiKey::new(KEY);
        let redact = |s: &str| s.replace(KEY, "[redacted]");
        command::run("smoke", &cfg, Some(&key), Duration::from_secs(60), &redact, CancellationToken::new()).await
    });
    let pid = wait_for_file(&dir.path().join("pid")).await;
    let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap();
    assert!(!String::from_utf8_lossy(&cmdline).contains(KEY));
    let environ = std::fs::read(format!("/proc/{pid}/environ")).unwrap();
    assert!(String::from_utf8_lossy(&environ).split('\0').any(|kv| kv == format!("{KEY_VAR}={KEY}")));
    std::fs::write(dir.path().join("go"), "").unwrap();

    let out = tokio::time::timeout(Duration::from_secs(60), task).await.unwrap().unwrap();
    assert_eq!(out.verdict, Some(Verdict::Pass), "{}", out.message);
    let excerpt = out.excerpt.unwrap_or_default();
    assert!(excerpt.contains(&format!("len={}", KEY.len())), "{excerpt}");
    assert!(excerpt.contains("the key is [redacted]"), "{excerpt}");
    assert!(!format!("{:?}", out.details).contains(KEY));
}

#[tokio::test]
async fn command_masks_the_key_even_if_the_caller_does_not() {
    const KEY: &str = "live-key-0123456789abcdef";
    let key = ApiKey::new(KEY);
    let out = command::run(
        "smoke",
        &sh(r#"echo "key: $CUTOVER_API_KEY""#, &[]),
        Some(&key),
        Duration::from_secs(30),
        &ident,
        CancellationToken::new(),
    )
    .await;
    assert_eq!(out.verdict, Some(Verdict::Pass));
    assert_eq!(out.excerpt.as_deref(), Some("key: ••••cdef"));
}

#[tokio::test]
async fn command_without_key_gets_no_key_var() {
    let out = command::run(
        "smoke",
        &sh(r#"echo "[${CUTOVER_API_KEY-unset}]""#, &[]),
        None,
        Duration::from_secs(30),
        &ident,
        CancellationToken::new(),
    )
    .await;
    assert_eq!(out.excerpt.as_deref(), Some("[unset]"));
}

#[tokio::test]
async fn command_output_is_sanitized() {
    let out = command::run(
        "smoke",
        &sh(r#"printf '\033[2J\033]0;pwned\007ok\033[31m red\n'"#, &[]),
        None,
        Duration::from_secs(30),
        &ident,
        CancellationToken::new(),
    )
    .await;
    assert_eq!(out.verdict, Some(Verdict::Pass));
    assert_eq!(out.excerpt.as_deref(), Some("ok red"));
}

#[tokio::test]
async fn command_huge_output_is_capped_and_does_not_block() {
    let script =
        r#"head -c 5242880 /dev/zero | tr '\0' e >&2; head -c 5242880 /dev/zero | tr '\0' o; echo; echo tail-marker"#;
    let started = Instant::now();
    let out =
        command::run("smoke", &sh(script, &[]), None, Duration::from_secs(120), &ident, CancellationToken::new()).await;
    assert_eq!(out.verdict, Some(Verdict::Pass), "{} after {:?}", out.message, started.elapsed());
    let excerpt = out.excerpt.unwrap_or_default();
    assert!(excerpt.len() <= command::EXCERPT_BYTES + 8, "{}", excerpt.len());
    assert!(excerpt.ends_with("tail-marker"), "{}", &excerpt[excerpt.len().saturating_sub(40)..]);
    let total = 2 * 5_242_880 + "\ntail-marker\n".len();
    assert!(out.details.iter().any(|d| d.starts_with(&format!("output: {total} bytes (last "))), "{:?}", out.details);
}

// ---- rate limit ---------------------------------------------------------

fn clock() -> ManualClock {
    ManualClock::new(jiff::Timestamp::from_second(1_700_000_000).unwrap())
}

fn budget_path(dir: &tempfile::TempDir) -> PathBuf {
    dir.path().join("budget.toml")
}

#[test]
fn ratelimit_fifteen_a_minute_then_wait() {
    let dir = tempfile::tempdir().unwrap();
    let clock = clock();
    let limiter = RateLimiter::new(Some(budget_path(&dir)), Arc::new(clock.clone()));
    for i in 0..15 {
        assert_eq!(limiter.try_acquire("api-sandbox.postnl.nl#1a2b", 15), Ok(()), "call {i}");
    }
    assert_eq!(limiter.try_acquire("api-sandbox.postnl.nl#1a2b", 15), Err(Duration::from_secs(60)));
    // Another bucket has its own budget.
    assert_eq!(limiter.try_acquire("api.postnl.nl#1a2b", 15), Ok(()));
    clock.advance_secs(30);
    assert_eq!(limiter.try_acquire("api-sandbox.postnl.nl#1a2b", 15), Err(Duration::from_secs(30)));
    clock.advance_secs(30);
    assert_eq!(limiter.try_acquire("api-sandbox.postnl.nl#1a2b", 15), Ok(()));
}

#[test]
fn ratelimit_in_process_budget() {
    let clock = clock();
    let limiter = RateLimiter::new(None, Arc::new(clock.clone()));
    let bucket = format!("in-process-test-{}", std::process::id());
    assert_eq!(limiter.try_acquire(&bucket, 2), Ok(()));
    assert_eq!(limiter.try_acquire(&bucket, 2), Ok(()));
    assert_eq!(limiter.try_acquire(&bucket, 2), Err(Duration::from_secs(60)));
    // A second limiter in the same process shares it.
    let other = RateLimiter::new(None, Arc::new(clock.clone()));
    assert!(other.try_acquire(&bucket, 2).is_err());
    clock.advance_secs(60);
    assert_eq!(limiter.try_acquire(&bucket, 2), Ok(()));
}

#[test]
fn ratelimit_two_limiters_share_one_file() {
    let dir = tempfile::tempdir().unwrap();
    let clock = clock();
    let a = RateLimiter::new(Some(budget_path(&dir)), Arc::new(clock.clone()));
    let b = RateLimiter::new(Some(budget_path(&dir)), Arc::new(clock.clone()));
    for _ in 0..10 {
        assert_eq!(a.try_acquire("host#k", 15), Ok(()));
    }
    for _ in 0..5 {
        assert_eq!(b.try_acquire("host#k", 15), Ok(()));
    }
    assert!(a.try_acquire("host#k", 15).is_err());
    assert!(b.try_acquire("host#k", 15).is_err());
}

#[test]
fn ratelimit_threads_never_overspend() {
    let dir = tempfile::tempdir().unwrap();
    let clock = clock();
    let path = budget_path(&dir);
    let granted: usize = std::thread::scope(|s| {
        let handles: Vec<_> = (0..6)
            .map(|_| {
                let limiter = RateLimiter::new(Some(path.clone()), Arc::new(clock.clone()));
                s.spawn(move || (0..10).filter(|_| limiter.try_acquire("host#k", 15).is_ok()).count())
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).sum()
    });
    assert_eq!(granted, 15);
}

#[test]
fn ratelimit_replaces_a_corrupt_file_and_keeps_it_private() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let path = budget_path(&dir);
    std::fs::write(&path, "this is [not toml").unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
    let limiter = RateLimiter::new(Some(path.clone()), Arc::new(clock()));
    assert_eq!(limiter.try_acquire("host#k", 1), Ok(()));
    let text = std::fs::read_to_string(&path).unwrap();
    let parsed: toml::Table = toml::from_str(&text).unwrap();
    assert_eq!(parsed["buckets"]["host#k"].as_array().map(|a| a.len()), Some(1), "{text}");
    assert_eq!(std::fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
    assert!(limiter.try_acquire("host#k", 1).is_err());

    // A new file is created 0600; an existing file's mode is kept.
    let fresh = dir.path().join("fresh.toml");
    RateLimiter::new(Some(fresh.clone()), Arc::new(clock())).try_acquire("b", 1).unwrap();
    assert_eq!(std::fs::metadata(&fresh).unwrap().permissions().mode() & 0o777, 0o600);
    assert_eq!(std::fs::metadata(dir.path().join("fresh.toml.lock")).unwrap().permissions().mode() & 0o777, 0o600);
    std::fs::set_permissions(&fresh, std::fs::Permissions::from_mode(0o640)).unwrap();
    RateLimiter::new(Some(fresh.clone()), Arc::new(clock())).try_acquire("c", 1).unwrap();
    assert_eq!(std::fs::metadata(&fresh).unwrap().permissions().mode() & 0o777, 0o640);
}
