//! HTTP checks against loopback servers: wiremock for ordinary answers, small
//! hand-written servers for TLS failures and slow or endless bodies. Nothing
//! here reaches the internet.

use cutover::check::ratelimit::RateLimiter;
use cutover::check::reach::{Resolve, StaticResolver, SystemResolver};
use cutover::check::runner::{RunOptions, Runner, RunnerDeps};
use cutover::check::secret::{ApiKey, SecretStore};
use cutover::clock::{Clock, ManualClock};
use cutover::config::Config;
use cutover::guide::{Guide, parse_guide};
use cutover::progress::{CheckRecord, Verdict};
use std::collections::BTreeMap;
use std::net::IpAddr;
use std::sync::{Arc, RwLock};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use wiremock::matchers::{header, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

const SANDBOX_KEY: &str = "sandbox-key-7f3a9c1e5b2d-e1a7";

/// A guide with one http check on the sandbox, written here so the test
/// does not depend on the shipped guide's content.
fn guide(extra: &str) -> Guide {
    let src = format!(
        r#"
schema = 1
id = "postnl"
version = "test"
title = {{ en = "Test guide" }}
languages = ["en"]

[environments.sandbox]
base_url = "https://api-sandbox.postnl.nl"
sandbox = true

[environments.production]
base_url = "https://api.postnl.nl"

[[steps]]
id = "sandbox-key"
number = 1
title = {{ en = "Sandbox key works" }}

[[steps.checks]]
kind = "http"
envs = ["sandbox"]
label = {{ en = "Sandbox key works" }}
path = "/shipment/v2/status/barcode/3SDEVC000000000"
headers = {{ apikey = "{{api_key}}" }}
keep = ["/Warnings/0/Message"]
timeout_secs = 1
proves = {{ en = "PostNL accepts the sandbox key." }}
does_not_prove = {{ en = "That any API group is enabled." }}
{extra}

[[steps.checks.rules]]
status = [401]
pointer = "/fault/faultstring"
contains = "invalid apikey"
verdict = "fail"
message = {{ en = "PostNL refused the sandbox key" }}
hint = {{ en = "Copy the sandbox key again from the API overview." }}
"#
    );
    match parse_guide(&src, "test.toml") {
        Ok(g) => g,
        Err(e) => panic!("test guide does not parse: {e:?}"),
    }
}

struct Setup {
    runner: Runner,
}

fn clock() -> Arc<dyn Clock> {
    Arc::new(ManualClock::new(jiff::Timestamp::from_second(1_700_000_000).unwrap_or(jiff::Timestamp::UNIX_EPOCH)))
}

fn setup(sandbox_url: &str, resolver: Arc<dyn Resolve>, key: Option<&str>) -> Setup {
    let mut store = SecretStore::empty();
    if let Some(k) = key {
        store.set("postnl", "sandbox", ApiKey::new(k));
    }
    let vars: BTreeMap<String, String> =
        BTreeMap::from([("CUTOVER_POSTNL_SANDBOX_URL".to_string(), sandbox_url.to_string())]);
    let clock = clock();
    let deps = RunnerDeps {
        config: Config::default(),
        secrets: Arc::new(RwLock::new(store)),
        clock: clock.clone(),
        resolver,
        rate_limiter: RateLimiter::isolated(clock),
        env_vars: Arc::new(move |n: &str| vars.get(n).cloned()),
        lang: "en".into(),
    };
    Setup { runner: Runner::new(deps) }
}

async fn run(s: &Setup, g: &Guide) -> CheckRecord {
    let recs = s
        .runner
        .run_step(g, "sandbox-key", "production", RunOptions::default(), "tester", CancellationToken::new())
        .await;
    assert_eq!(recs.len(), 1, "{recs:?}");
    recs.into_iter().next().unwrap_or_else(|| panic!("no record"))
}

fn assert_no_key(rec: &CheckRecord, key: &str) {
    let json = serde_json::to_string(rec).unwrap_or_default();
    let toml = toml::to_string(rec).unwrap_or_default();
    assert!(!json.contains(key) && !toml.contains(key), "key leaked into {json}");
}

fn assert_clean(rec: &CheckRecord) {
    let mut texts = vec![rec.message.clone(), rec.check.clone(), rec.by.clone()];
    texts.extend(rec.hint.clone());
    texts.extend(rec.request.clone());
    texts.extend(rec.details.clone());
    for t in &texts {
        assert!(!t.chars().any(char::is_control), "control character in {t:?}");
    }
    if let Some(e) = &rec.excerpt {
        assert!(!e.chars().any(|c| c.is_control() && c != '\n'), "control character in excerpt {e:?}");
    }
}

fn system() -> Arc<dyn Resolve> {
    Arc::new(SystemResolver)
}

#[tokio::test]
async fn valid_key_passes_with_and_without_warnings() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/shipment/v2/status/barcode/3SDEVC000000000"))
        .and(header("apikey", SANDBOX_KEY))
        .respond_with(ResponseTemplate::new(200).set_body_raw(
            r#"{"CurrentStatus":{},"Warnings":[{"Message":"No shipment found","Code":"2"}]}"#,
            "application/json",
        ))
        .up_to_n_times(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/shipment/v2/status/barcode/3SDEVC000000000"))
        .respond_with(
            ResponseTemplate::new(200).set_body_raw(
                r#"{"CurrentStatus":{"Shipment":{"Customer":{"Name":"Jan Jansen"}}}}"#,
                "application/json",
            ),
        )
        .mount(&server)
        .await;
    let s = setup(&server.uri(), system(), Some(SANDBOX_KEY));
    let g = guide("");

    let first = run(&s, &g).await;
    assert_eq!(first.verdict, Verdict::Pass, "{first:?}");
    assert_eq!(first.http_status, Some(200));
    assert_eq!(first.env.as_deref(), Some("sandbox"), "a step bound to sandbox runs there whatever the active env");
    assert_eq!(first.excerpt.as_deref(), Some("/Warnings/0/Message = No shipment found"));
    assert_eq!(first.check, "Sandbox key works");
    assert_eq!(first.by, "tester");
    assert_eq!(first.proved.as_deref(), Some("PostNL accepts the sandbox key."));
    assert_eq!(first.not_proved.as_deref(), Some("That any API group is enabled."));
    assert_eq!(
        first.request.as_deref(),
        Some(format!("GET {}/shipment/v2/status/barcode/3SDEVC000000000", server.uri()).as_str())
    );
    assert_no_key(&first, SANDBOX_KEY);

    let second = run(&s, &g).await;
    assert_eq!(second.verdict, Verdict::Pass, "{second:?}");
    // Personal data is not in the allow-list: nothing of it is kept.
    assert_eq!(second.excerpt, None);
    assert_no_key(&second, SANDBOX_KEY);
}

#[tokio::test]
async fn invalid_key_fails_with_the_guides_hint() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(401).set_body_raw(
            r#"{"fault":{"faultstring":"Invalid ApiKey","detail":{"errorcode":"oauth.v2.InvalidApiKey"}}}"#,
            "application/json",
        ))
        .mount(&server)
        .await;
    let s = setup(&server.uri(), system(), Some(SANDBOX_KEY));
    let rec = run(&s, &guide("")).await;
    assert_eq!(rec.verdict, Verdict::Fail, "{rec:?}");
    assert_eq!(rec.message, "PostNL refused the sandbox key");
    assert_eq!(rec.hint.as_deref(), Some("Copy the sandbox key again from the API overview."));
    assert_eq!(rec.http_status, Some(401));
}

#[tokio::test]
async fn missing_key_header_body_is_an_error_not_a_refusal() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(401).set_body_raw(
            r#"{"message": "Failed to resolve API Key variable 'request.header.apikey'", "http_status_code": 401}"#,
            "application/json",
        ))
        .mount(&server)
        .await;
    let s = setup(&server.uri(), system(), Some(SANDBOX_KEY));
    let rec = run(&s, &guide("")).await;
    assert_eq!(rec.verdict, Verdict::Error, "{rec:?}");
    assert!(rec.message.contains("the key header did not reach the API (401)"), "{rec:?}");
    assert!(rec.message.contains("Failed to resolve API Key variable"), "{rec:?}");
    assert!(rec.hint.as_deref().is_some_and(|h| h.contains("did not arrive")), "{rec:?}");
}

#[tokio::test]
async fn rate_limited_by_server_is_indeterminate_with_retry_after() {
    let server = MockServer::start().await;
    let body = r#"{"message": "Too many requests. Rate limit exceeded!", "http_status_code": 429}"#;
    Mock::given(method("GET"))
        .respond_with(
            ResponseTemplate::new(429).insert_header("Retry-After", "42").set_body_raw(body, "application/json"),
        )
        .up_to_n_times(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(429).set_body_raw(body, "application/json"))
        .mount(&server)
        .await;
    let s = setup(&server.uri(), system(), Some(SANDBOX_KEY));
    let g = guide("");
    let with = run(&s, &g).await;
    assert_eq!(with.verdict, Verdict::Indeterminate, "{with:?}");
    assert!(with.message.contains("asks to wait 42 s"), "{with:?}");
    assert!(with.hint.as_deref().is_some_and(|h| h.contains("Wait 42 s")), "{with:?}");
    // The wait binds the next call: it does not go to the server at all.
    let next = run(&s, &g).await;
    assert_eq!(next.verdict, Verdict::Indeterminate, "{next:?}");
    assert!(next.message.contains("next call possible in 42 s"), "{next:?}");
    assert_eq!(server.received_requests().await.unwrap_or_default().len(), 1, "no automatic retry, no call while held");
}

#[tokio::test]
async fn server_error_is_indeterminate() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(500).set_body_raw(
            r#"{"fault":{"faultstring":"Unexpected EOF at target","detail":{"errorcode":"x"}}}"#,
            "application/json",
        ))
        .mount(&server)
        .await;
    let s = setup(&server.uri(), system(), Some(SANDBOX_KEY));
    let rec = run(&s, &guide("")).await;
    assert_eq!(rec.verdict, Verdict::Indeterminate, "{rec:?}");
    assert_eq!(rec.http_status, Some(500));
}

#[tokio::test]
async fn timeout_is_indeterminate() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(200).set_delay(Duration::from_secs(10)))
        .mount(&server)
        .await;
    let s = setup(&server.uri(), system(), Some(SANDBOX_KEY));
    let started = std::time::Instant::now();
    let rec = run(&s, &guide("")).await;
    assert_eq!(rec.verdict, Verdict::Indeterminate, "{rec:?}");
    assert!(rec.message.contains("within 1 s"), "{rec:?}");
    assert!(started.elapsed() < Duration::from_secs(8), "the 1 s timeout was not applied");
}

#[tokio::test]
async fn connection_refused_is_indeterminate() {
    let dead = match TcpListener::bind("127.0.0.1:0").await {
        Ok(l) => l.local_addr().map(|a| a.port()).unwrap_or(1),
        Err(e) => panic!("bind: {e}"),
    };
    // The listener is dropped here: nothing listens on `dead` any more.
    let s = setup(&format!("http://127.0.0.1:{dead}"), system(), Some(SANDBOX_KEY));
    let rec = run(&s, &guide("")).await;
    assert_eq!(rec.verdict, Verdict::Indeterminate, "{rec:?}");
    assert!(rec.message.contains("connection refused"), "{rec:?}");
}

#[tokio::test]
async fn unresolvable_host_is_indeterminate() {
    let resolver: Arc<dyn Resolve> = Arc::new(StaticResolver::default());
    let s = setup("https://api-sandbox.invalid", resolver, Some(SANDBOX_KEY));
    let rec = run(&s, &guide("")).await;
    assert_eq!(rec.verdict, Verdict::Indeterminate, "{rec:?}");
    assert!(rec.message.contains("cannot resolve api-sandbox.invalid"), "{rec:?}");
}

/// A TLS server with a self-signed certificate for `tls.test`; counts the
/// handshakes that completed (none should).
async fn self_signed_server() -> (u16, Arc<std::sync::atomic::AtomicUsize>) {
    let certified =
        rcgen::generate_simple_self_signed(vec!["tls.test".to_string()]).unwrap_or_else(|e| panic!("rcgen: {e}"));
    let cert = certified.cert.der().clone();
    let key = rustls::pki_types::PrivateKeyDer::Pkcs8(certified.signing_key.serialize_der().into());
    let config = rustls::ServerConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
        .with_safe_default_protocol_versions()
        .unwrap_or_else(|e| panic!("tls versions: {e}"))
        .with_no_client_auth()
        .with_single_cert(vec![cert], key)
        .unwrap_or_else(|e| panic!("tls cert: {e}"));
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap_or_else(|e| panic!("bind: {e}"));
    let port = listener.local_addr().map(|a| a.port()).unwrap_or(0);
    let completed = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let done = completed.clone();
    tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            let acceptor = acceptor.clone();
            let done = done.clone();
            tokio::spawn(async move {
                if let Ok(mut tls) = acceptor.accept(tcp).await {
                    done.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                    let mut buf = [0u8; 1024];
                    let _ = tls.read(&mut buf).await;
                }
            });
        }
    });
    (port, completed)
}

#[tokio::test]
async fn self_signed_certificate_is_indeterminate_and_gets_no_key() {
    let (port, completed) = self_signed_server().await;
    let resolver: Arc<dyn Resolve> =
        Arc::new(StaticResolver(BTreeMap::from([("tls.test".to_string(), vec![IpAddr::from([127, 0, 0, 1])])])));
    let s = setup(&format!("https://tls.test:{port}"), resolver, Some(SANDBOX_KEY));
    let rec = run(&s, &guide("")).await;
    assert_eq!(rec.verdict, Verdict::Indeterminate, "{rec:?}");
    assert!(rec.message.contains("TLS"), "{rec:?}");
    assert!(rec.hint.as_deref().is_some_and(|h| h.contains("the key was not sent")), "{rec:?}");
    assert_eq!(completed.load(std::sync::atomic::Ordering::SeqCst), 0, "the handshake must not complete");
    assert_no_key(&rec, SANDBOX_KEY);
}

/// A raw HTTP/1.1 server that answers every connection with `head` and then
/// calls `body` with the socket.
async fn raw_server<F, Fut>(head: &'static str, body: F) -> u16
where
    F: Fn(tokio::net::TcpStream) -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = ()> + Send + 'static,
{
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap_or_else(|e| panic!("bind: {e}"));
    let port = listener.local_addr().map(|a| a.port()).unwrap_or(0);
    let body = Arc::new(body);
    tokio::spawn(async move {
        while let Ok((mut tcp, _)) = listener.accept().await {
            let body = body.clone();
            tokio::spawn(async move {
                let mut buf = vec![0u8; 8192];
                let mut seen = Vec::new();
                while !seen.windows(4).any(|w| w == b"\r\n\r\n") {
                    match tcp.read(&mut buf).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => seen.extend_from_slice(&buf[..n]),
                    }
                }
                if tcp.write_all(head.as_bytes()).await.is_err() {
                    return;
                }
                body(tcp).await;
            });
        }
    });
    port
}

#[tokio::test]
async fn slow_body_is_bounded_by_the_deadline() {
    let port = raw_server(
        "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n",
        |mut tcp| async move {
            loop {
                if tcp.write_all(b" ").await.is_err() {
                    return;
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        },
    )
    .await;
    let s = setup(&format!("http://127.0.0.1:{port}"), system(), Some(SANDBOX_KEY));
    let started = std::time::Instant::now();
    let rec = run(&s, &guide("")).await;
    assert_eq!(rec.verdict, Verdict::Indeterminate, "{rec:?}");
    assert!(rec.message.contains("within 1 s"), "{rec:?}");
    assert!(started.elapsed() < Duration::from_secs(8));
}

#[tokio::test]
async fn endless_body_is_capped() {
    let port = raw_server(
        "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nTransfer-Encoding: chunked\r\n\r\n",
        |mut tcp| async move {
            let chunk = format!("{:x}\r\n{}\r\n", 16 * 1024, "a".repeat(16 * 1024));
            while tcp.write_all(chunk.as_bytes()).await.is_ok() {}
        },
    )
    .await;
    let s = setup(&format!("http://127.0.0.1:{port}"), system(), Some(SANDBOX_KEY));
    let rec = run(&s, &guide("")).await;
    // An endless text body is not the API's answer, and only its type, size
    // and first characters are kept.
    assert_eq!(rec.verdict, Verdict::Indeterminate, "{rec:?}");
    assert!(rec.details.iter().any(|d| d.contains("only that much was read")), "{rec:?}");
    let excerpt = rec.excerpt.clone().unwrap_or_default();
    assert!(
        excerpt.starts_with(&format!(
            "(non-JSON body: text/plain, {} bytes; starts: aaaa",
            cutover::check::http::BODY_CAP
        )),
        "{excerpt}"
    );
    assert!(excerpt.len() < 200, "{excerpt}");
}

#[tokio::test]
async fn ok_status_with_errors_member_fails() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(200).set_body_raw(
            r#"{"errors":[{"message":"Contract 612345 is not linked to this user"}]}"#,
            "application/json",
        ))
        .mount(&server)
        .await;
    let s = setup(&server.uri(), system(), Some(SANDBOX_KEY));
    let rec = run(&s, &guide("")).await;
    assert_eq!(rec.verdict, Verdict::Fail, "{rec:?}");
    assert!(rec.message.contains("Contract 612345 is not linked"), "{rec:?}");
}

#[tokio::test]
async fn redirect_is_not_followed_and_the_key_goes_nowhere() {
    let elsewhere = MockServer::start().await;
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(
            ResponseTemplate::new(302)
                .insert_header("Location", format!("{}/collect?from=cutover", elsewhere.uri()).as_str()),
        )
        .mount(&server)
        .await;
    let s = setup(&server.uri(), system(), Some(SANDBOX_KEY));
    let rec = run(&s, &guide("")).await;
    assert_eq!(rec.verdict, Verdict::Indeterminate, "{rec:?}");
    let other_host = elsewhere.address().to_string();
    assert_eq!(rec.message, format!("redirect (302) to {other_host} not followed; the key was not sent there"));
    assert!(elsewhere.received_requests().await.unwrap_or_default().is_empty(), "the redirect target got a request");
    assert_eq!(server.received_requests().await.unwrap_or_default().len(), 1);
    assert_no_key(&rec, SANDBOX_KEY);
}

#[tokio::test]
async fn escape_sequences_in_the_body_never_reach_the_record() {
    let server = MockServer::start().await;
    let hostile = "{\"fault\":{\"faultstring\":\"nope\\u001b]0;owned\\u0007\\u001b[2J\\u009b31m\\r\\nX\"},\"Warnings\":[{\"Message\":\"\\u001b[5mblink\\u001b[0m\\u0000\"}]}";
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(400).set_body_raw(hostile, "application/json"))
        .mount(&server)
        .await;
    let s = setup(&server.uri(), system(), Some(SANDBOX_KEY));
    let rec = run(&s, &guide("")).await;
    assert_eq!(rec.verdict, Verdict::Error, "a 400 refuses cutover's own request: {rec:?}");
    assert_clean(&rec);
    assert!(rec.message.contains("nope"), "{rec:?}");
    assert_eq!(rec.excerpt.as_deref(), Some("/Warnings/0/Message = blink"));
}

#[tokio::test]
async fn plain_http_to_a_real_host_is_refused_without_a_call() {
    let s = setup("http://api-sandbox.postnl.nl", system(), Some(SANDBOX_KEY));
    let rec = run(&s, &guide("")).await;
    assert_eq!(rec.verdict, Verdict::Error, "{rec:?}");
    assert!(rec.message.contains("refusing plain http:// to api-sandbox.postnl.nl"), "{rec:?}");
}

#[tokio::test]
async fn missing_config_var_is_an_error_naming_the_fix() {
    let server = MockServer::start().await;
    let s = setup(&server.uri(), system(), Some(SANDBOX_KEY));
    let g = guide(r#"query = { CustomerCode = "{customer_code}" }"#);
    let rec = run(&s, &g).await;
    assert_eq!(rec.verdict, Verdict::Error, "{rec:?}");
    assert_eq!(rec.message, "set customer_code in config.toml [guides.postnl.vars]");
    assert!(server.received_requests().await.unwrap_or_default().is_empty());
}

/// The content type is not trusted either way: a JSON body labelled as a
/// web page is read as JSON; a web page labelled as JSON (or not labelled)
/// never passes, since a proxy's or a network's login page can answer 200
/// where the API should; a binary body is not kept.
#[tokio::test]
async fn wrong_content_types_are_judged_by_the_body() {
    // (what, status, body, content type, verdict, words in the message)
    type Case = (&'static str, u16, Vec<u8>, &'static str, Verdict, &'static str);
    let cases: Vec<Case> = vec![
        (
            "JSON labelled as HTML",
            200,
            br#"{"Warnings":[{"Message":"No shipment found"}]}"#.to_vec(),
            "text/html",
            Verdict::Pass,
            "accepted",
        ),
        (
            "login page labelled as JSON",
            200,
            b"<!DOCTYPE html><html><body>Sign in to the guest network</body></html>".to_vec(),
            "application/json",
            Verdict::Indeterminate,
            "web page",
        ),
        (
            "login page, no type",
            200,
            b"\n  <html><title>Proxy</title></html>".to_vec(),
            "",
            Verdict::Indeterminate,
            "web page",
        ),
        (
            "binary 401",
            401,
            vec![0, 159, 146, 150, 0xff, 0x1b, b'[', b'2', b'J'],
            "application/octet-stream",
            Verdict::Fail,
            "refused",
        ),
        ("empty 200 labelled as HTML", 200, Vec::new(), "text/html", Verdict::Indeterminate, "web page"),
    ];
    for (what, status, body, ctype, verdict, needle) in cases {
        let server = MockServer::start().await;
        let mut resp = ResponseTemplate::new(status).set_body_bytes(body.clone());
        if !ctype.is_empty() {
            resp = resp.insert_header("content-type", ctype);
        }
        Mock::given(method("GET")).respond_with(resp).mount(&server).await;
        let s = setup(&server.uri(), system(), Some(SANDBOX_KEY));
        let rec = run(&s, &guide("")).await;
        assert_eq!(rec.verdict, verdict, "{what}: {rec:?}");
        assert!(rec.message.contains(needle), "{what}: {needle:?} in {:?}", rec.message);
        assert_clean(&rec);
        assert_no_key(&rec, SANDBOX_KEY);
    }
}
