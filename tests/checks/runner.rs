//! The step runner: planning, key handling across environments, probes,
//! manual evidence, rate limits, cancellation, and a scan of everything it
//! produces (records, logs) for the key.

use cutover::check::ratelimit::RateLimiter;
use cutover::check::reach::{Resolve, SystemResolver};
use cutover::check::runner::{Planned, RunOptions, Runner, RunnerDeps};
use cutover::check::secret::{ApiKey, SecretStore};
use cutover::clock::{Clock, ManualClock};
use cutover::config::Config;
use cutover::guide::{Guide, parse_guide};
use cutover::progress::{CheckRecord, Verdict};
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;
use tokio_util::sync::CancellationToken;
use wiremock::matchers::{header, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

const SANDBOX_KEY: &str = "sbx-4c1d9e2f7a3b-key-0001";
const PRODUCTION_KEY: &str = "prd-8e7f6a5b4c3d-key-0002";

const GUIDE: &str = r#"
schema = 1
id = "postnl"
version = "test"
title = { en = "Test guide" }
languages = ["en"]

[environments.sandbox]
base_url = "https://api-sandbox.postnl.nl"
sandbox = true

[environments.production]
base_url = "https://api.postnl.nl"

# Follows the active environment.
[[steps]]
id = "key-works"
number = 1
title = { en = "The key works" }

[[steps.checks]]
kind = "secret"
label = { en = "Key is set" }

[[steps.checks]]
kind = "http"
label = { en = "Key accepted" }
path = "/shipment/v2/status/barcode/3SDEVC000000000"
headers = { apikey = "{api_key}" }
timeout_secs = 5

[[steps.checks]]
kind = "manual"
label = { en = "Ticket raised" }
evidence = { en = "Ticket number" }

# Every kind of reason to skip.
[[steps]]
id = "mixed"
number = 2
title = { en = "Mixed" }

[[steps.checks]]
kind = "manual"
label = { en = "Person confirms" }

[[steps.checks]]
kind = "http"
label = { en = "Optional" }
on_request = true
path = "/x"

[[steps.checks]]
kind = "http"
label = { en = "Creates a label" }
method = "POST"
path = "/shipment/v2_2/label"
body = "{}"

[[steps.checks]]
kind = "http"
label = { en = "Barcode" }
path = "/shipment/v1_1/barcode"
writes_in = ["production"]

[[steps.checks]]
kind = "versions"
label = { en = "Production only" }
envs = ["production", "sandbox"]
current_versions = { shippingstatus = "v2" }

[[steps]]
id = "groups"
number = 3
title = { en = "API groups" }

[[steps.checks]]
kind = "probes"
label = { en = "API groups enabled" }

[[steps.checks.probes]]
group = "Track & Trace"
path = "/shipment/v2/status/barcode/3SDEVC000000000"
headers = { apikey = "{api_key}" }

[[steps.checks.probes]]
group = "Delivery Options"
path = "/shipment/v2_1/locations/nearest"
query = { CountryCode = "NL", PostalCode = "2132WT" }
headers = { apikey = "{api_key}" }

[[steps.checks.probes]]
group = "Shipping"
path = "/shipment/v1_1/barcode"
writes_in = ["production"]
headers = { apikey = "{api_key}" }

[[steps]]
id = "smoke"
number = 4
title = { en = "Smoke test" }

[[steps.checks]]
kind = "command"
command = "smoke-test"
pass_key = true
"#;

fn guide() -> Guide {
    parse_guide(GUIDE, "test.toml").unwrap_or_else(|e| panic!("test guide: {e:?}"))
}

fn clock() -> Arc<dyn Clock> {
    Arc::new(ManualClock::new(jiff::Timestamp::from_second(1_700_000_000).unwrap_or(jiff::Timestamp::UNIX_EPOCH)))
}

struct Opts<'a> {
    sandbox: Option<&'a str>,
    production: Option<&'a str>,
    keys: &'a [(&'a str, &'a str)],
    config: Config,
}

fn runner(o: Opts<'_>) -> Runner {
    let mut store = SecretStore::empty();
    for (env, key) in o.keys {
        store.set("postnl", env, ApiKey::new(*key));
    }
    let mut vars = BTreeMap::new();
    if let Some(u) = o.sandbox {
        vars.insert("CUTOVER_POSTNL_SANDBOX_URL".to_string(), u.to_string());
    }
    if let Some(u) = o.production {
        vars.insert("CUTOVER_POSTNL_PRODUCTION_URL".to_string(), u.to_string());
    }
    let clock = clock();
    let deps = RunnerDeps {
        config: o.config,
        secrets: Arc::new(RwLock::new(store)),
        clock: clock.clone(),
        resolver: Arc::new(SystemResolver) as Arc<dyn Resolve>,
        rate_limiter: RateLimiter::isolated(clock),
        env_vars: Arc::new(move |n: &str| vars.get(n).cloned()),
        lang: "en".into(),
    };
    Runner::new(deps)
}

async fn ok_server() -> MockServer {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(200).set_body_raw(
            r#"{"CurrentStatus":{},"Warnings":[{"Message":"No shipment found","Code":"2"}]}"#,
            "application/json",
        ))
        .mount(&server)
        .await;
    server
}

fn apikeys_received(reqs: &[wiremock::Request]) -> Vec<String> {
    reqs.iter().filter_map(|r| r.headers.get("apikey").and_then(|v| v.to_str().ok()).map(str::to_string)).collect()
}

async fn step(r: &Runner, step: &str, env: &str, opts: RunOptions) -> Vec<CheckRecord> {
    r.run_step(&guide(), step, env, opts, "alice", CancellationToken::new()).await
}

#[tokio::test]
async fn missing_key_is_an_error_and_nothing_is_sent() {
    let server = ok_server().await;
    let r = runner(Opts { sandbox: Some(&server.uri()), production: None, keys: &[], config: Config::default() });
    let recs = step(&r, "key-works", "sandbox", RunOptions::default()).await;
    assert_eq!(recs.len(), 3, "{recs:?}");
    assert_eq!(recs[0].verdict, Verdict::Fail, "{recs:?}");
    assert_eq!(recs[1].verdict, Verdict::Error, "{recs:?}");
    assert_eq!(
        recs[1].message,
        "no key for postnl sandbox: set POSTNL_SANDBOX_API_KEY, add it to secrets.toml, or type it in with p in the checklist"
    );
    assert_eq!(recs[2].verdict, Verdict::Skipped);
    assert_eq!(recs[2].message, "manual: needs a person");
    assert!(server.received_requests().await.unwrap_or_default().is_empty(), "a request was sent without a key");
}

#[tokio::test]
async fn typed_in_key_is_used_at_once() {
    let server = ok_server().await;
    let r = runner(Opts { sandbox: Some(&server.uri()), production: None, keys: &[], config: Config::default() });
    if let Ok(mut s) = r.secrets().write() {
        s.set("postnl", "sandbox", ApiKey::new(SANDBOX_KEY));
    }
    let recs = step(&r, "key-works", "sandbox", RunOptions::default()).await;
    assert_eq!(recs[0].verdict, Verdict::Pass, "{recs:?}");
    assert!(recs[0].message.contains("typed in"), "{recs:?}");
    assert!(recs[0].message.contains("••••0001"), "{recs:?}");
    assert_eq!(recs[1].verdict, Verdict::Pass, "{recs:?}");
    assert_eq!(apikeys_received(&server.received_requests().await.unwrap_or_default()), vec![SANDBOX_KEY.to_string()]);
}

#[tokio::test]
async fn each_key_goes_only_to_its_own_environment() {
    let sandbox = ok_server().await;
    let production = ok_server().await;
    let r = runner(Opts {
        sandbox: Some(&sandbox.uri()),
        production: Some(&production.uri()),
        keys: &[("sandbox", SANDBOX_KEY), ("production", PRODUCTION_KEY)],
        config: Config::default(),
    });
    let recs = step(&r, "key-works", "sandbox", RunOptions::default()).await;
    assert_eq!(recs[1].verdict, Verdict::Pass, "{recs:?}");
    assert_eq!(recs[1].env.as_deref(), Some("sandbox"));
    assert!(production.received_requests().await.unwrap_or_default().is_empty());
    let recs = step(&r, "key-works", "production", RunOptions::default()).await;
    assert_eq!(recs[1].verdict, Verdict::Pass, "{recs:?}");
    assert_eq!(recs[1].env.as_deref(), Some("production"));
    assert_eq!(apikeys_received(&sandbox.received_requests().await.unwrap_or_default()), vec![SANDBOX_KEY.to_string()]);
    assert_eq!(
        apikeys_received(&production.received_requests().await.unwrap_or_default()),
        vec![PRODUCTION_KEY.to_string()]
    );

    // Only the sandbox key: production has none and gets no request.
    let r = runner(Opts {
        sandbox: Some(&sandbox.uri()),
        production: Some(&production.uri()),
        keys: &[("sandbox", SANDBOX_KEY)],
        config: Config::default(),
    });
    let recs = step(&r, "key-works", "production", RunOptions::default()).await;
    assert_eq!(recs[1].verdict, Verdict::Error, "{recs:?}");
    assert!(recs[1].message.contains("POSTNL_PRODUCTION_API_KEY"));
    assert_eq!(production.received_requests().await.unwrap_or_default().len(), 1);
}

#[test]
fn plan_skips_manual_on_request_writes_and_other_envs() {
    let r = runner(Opts { sandbox: None, production: None, keys: &[], config: Config::default() });
    let g = guide();
    let prod = r.plan(&g, "mixed", "production", &RunOptions::default());
    assert_eq!(
        prod,
        vec![
            (0, Planned::Skip("manual: needs a person".into())),
            (1, Planned::Skip("on request only".into())),
            (2, Planned::Skip("creates data: needs confirmation / --allow-writes".into())),
            (3, Planned::Skip("creates data: needs confirmation / --allow-writes".into())),
            (4, Planned::Run),
        ]
    );
    // In a sandbox a POST still creates data and needs the user's say-so;
    // a GET that reserves data only in production runs.
    let sbx = r.plan(&g, "mixed", "sandbox", &RunOptions::default());
    assert_eq!(sbx[2], (2, Planned::Skip("creates data: needs confirmation / --allow-writes".into())));
    assert_eq!(sbx[3], (3, Planned::Run));
    // Confirmed writes, on-request checks and evidence.
    let all = RunOptions {
        include_on_request: true,
        allow_writes: true,
        evidence: Some("T-1".into()),
        ..RunOptions::default()
    };
    assert!(r.plan(&g, "mixed", "production", &all).iter().all(|(_, p)| *p == Planned::Run));
    // Asking for one check by index runs it even if it is on request only.
    let only = RunOptions { only: Some(1), ..RunOptions::default() };
    assert_eq!(r.plan(&g, "mixed", "production", &only), vec![(1, Planned::Run)]);
    // A check bound to other environments.
    let test_env = r.plan(&g, "mixed", "test", &RunOptions::default());
    assert_eq!(test_env[4], (4, Planned::Skip("not for env test".into())));
    // Probes: only the writing one is left out in production, not the check.
    assert_eq!(r.plan(&g, "groups", "production", &RunOptions::default()), vec![(0, Planned::Run)]);
    assert!(r.plan(&g, "no-such-step", "production", &RunOptions::default()).is_empty());
}

#[tokio::test]
async fn skipped_checks_are_listed_with_their_reason() {
    let r = runner(Opts { sandbox: None, production: None, keys: &[], config: Config::default() });
    let recs = step(&r, "mixed", "production", RunOptions::default()).await;
    let got: Vec<(Verdict, &str)> = recs.iter().map(|r| (r.verdict, r.check.as_str())).collect();
    assert_eq!(
        got[..4],
        [
            (Verdict::Skipped, "Person confirms"),
            (Verdict::Skipped, "Optional"),
            (Verdict::Skipped, "Creates a label"),
            (Verdict::Skipped, "Barcode")
        ]
    );
    assert_eq!(recs[1].message, "on request only");
    assert_eq!(recs[4].check, "Production only");
    assert_ne!(recs[4].verdict, Verdict::Skipped);
}

#[test]
fn base_url_sources() {
    let g = guide();
    let r =
        runner(Opts { sandbox: Some("http://127.0.0.1:9/"), production: None, keys: &[], config: Config::default() });
    assert_eq!(r.base_url(&g, "sandbox").as_deref(), Some("http://127.0.0.1:9"));
    assert!(r.base_url_overridden(&g, "sandbox"));
    assert_eq!(r.base_url(&g, "production").as_deref(), Some("https://api.postnl.nl"));
    assert!(!r.base_url_overridden(&g, "production"));
    assert_eq!(g.item("key-works").map(|s| s.check_env("production")), Some("production"));
}

#[tokio::test]
async fn manual_evidence_is_kept_but_never_a_key() {
    let r =
        runner(Opts { sandbox: None, production: None, keys: &[("sandbox", SANDBOX_KEY)], config: Config::default() });
    let opts =
        RunOptions { only: Some(2), evidence: Some("ticket CIT-1234\u{1b}[31m".into()), ..RunOptions::default() };
    let recs = step(&r, "key-works", "sandbox", opts).await;
    assert_eq!(recs.len(), 1);
    assert_eq!(recs[0].verdict, Verdict::Pass, "{recs:?}");
    assert_eq!(recs[0].message, "confirmed by alice");
    assert_eq!(recs[0].excerpt.as_deref(), Some("ticket CIT-1234"));

    let opts =
        RunOptions { only: Some(2), evidence: Some(format!("my key is {SANDBOX_KEY}")), ..RunOptions::default() };
    let recs = step(&r, "key-works", "sandbox", opts).await;
    assert_eq!(recs[0].verdict, Verdict::Error, "{recs:?}");
    assert_eq!(recs[0].excerpt, None);
    assert!(!serde_json::to_string(&recs).unwrap_or_default().contains(SANDBOX_KEY));
}

async fn probe_server() -> MockServer {
    let server = MockServer::start().await;
    Mock::given(path("/shipment/v2/status/barcode/3SDEVC000000000"))
        .respond_with(ResponseTemplate::new(200).set_body_raw(r#"{"CurrentStatus":{}}"#, "application/json"))
        .mount(&server)
        .await;
    Mock::given(path("/shipment/v2_1/locations/nearest"))
        .respond_with(
            ResponseTemplate::new(403)
                .set_body_raw(r#"{"fault":{"faultstring":"Invalid ApiKey for given resource"}}"#, "application/json"),
        )
        .mount(&server)
        .await;
    Mock::given(path("/shipment/v1_1/barcode"))
        .respond_with(ResponseTemplate::new(200).set_body_raw(r#"{"Barcode":"3SDEVC903942795"}"#, "application/json"))
        .mount(&server)
        .await;
    server
}

#[tokio::test]
async fn probes_make_a_table_and_respect_groups_and_writes() {
    let server = probe_server().await;
    let r = runner(Opts {
        sandbox: Some(&server.uri()),
        production: Some(&server.uri()),
        keys: &[("sandbox", SANDBOX_KEY), ("production", PRODUCTION_KEY)],
        config: Config::default(),
    });
    let recs = step(&r, "groups", "sandbox", RunOptions::default()).await;
    assert_eq!(recs[0].verdict, Verdict::Fail, "{recs:?}");
    assert_eq!(recs[0].message, "2 of 3 API groups enabled; not enabled: Delivery Options");
    assert_eq!(
        recs[0].details,
        vec![
            "Track & Trace     enabled (200)",
            "Delivery Options  not enabled (403)",
            "Shipping          enabled (200)"
        ]
    );

    // In production the barcode probe would reserve a real barcode: skipped.
    let before = server.received_requests().await.unwrap_or_default().len();
    let recs = step(&r, "groups", "production", RunOptions::default()).await;
    assert_eq!(recs[0].details[2], "Shipping          skipped (creates data)");
    assert_eq!(server.received_requests().await.unwrap_or_default().len(), before + 2);

    // Only the groups the config names.
    let config: Config = toml::from_str("[guides.postnl]\napi_groups = [\"track & trace\"]\n").unwrap_or_default();
    let r = runner(Opts { sandbox: Some(&server.uri()), production: None, keys: &[("sandbox", SANDBOX_KEY)], config });
    let recs = step(&r, "groups", "sandbox", RunOptions::default()).await;
    assert_eq!(recs[0].verdict, Verdict::Pass, "{recs:?}");
    assert_eq!(recs[0].message, "1 of 1 API groups enabled");
}

#[tokio::test]
async fn command_missing_from_config_is_an_error() {
    let r =
        runner(Opts { sandbox: None, production: None, keys: &[("sandbox", SANDBOX_KEY)], config: Config::default() });
    let recs = step(&r, "smoke", "sandbox", RunOptions::default()).await;
    assert_eq!(recs[0].verdict, Verdict::Error);
    assert_eq!(recs[0].message, "config.toml has no [commands.smoke-test]");
}

#[tokio::test]
async fn own_rate_limit_gives_indeterminate_with_the_wait() {
    let server = ok_server().await;
    let config: Config =
        toml::from_str("[guides.postnl.environments.sandbox]\nrate_limit_per_minute = 1\n").unwrap_or_default();
    let r = runner(Opts { sandbox: Some(&server.uri()), production: None, keys: &[("sandbox", SANDBOX_KEY)], config });
    let only_http = RunOptions { only: Some(1), ..RunOptions::default() };
    let first = step(&r, "key-works", "sandbox", only_http.clone()).await;
    assert_eq!(first[0].verdict, Verdict::Pass, "{first:?}");
    let second = step(&r, "key-works", "sandbox", only_http).await;
    assert_eq!(second[0].verdict, Verdict::Indeterminate, "{second:?}");
    assert!(second[0].message.starts_with("rate limit: next call possible in "), "{second:?}");
    let secs: u64 = second[0]
        .message
        .trim_start_matches("rate limit: next call possible in ")
        .trim_end_matches(" s")
        .parse()
        .unwrap_or(0);
    assert!((1..=60).contains(&secs), "{second:?}");
    assert_eq!(server.received_requests().await.unwrap_or_default().len(), 1, "the limited call must not be sent");
}

#[tokio::test]
async fn cancel_stops_a_running_check() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(200).set_delay(Duration::from_secs(30)))
        .mount(&server)
        .await;
    let r = runner(Opts {
        sandbox: Some(&server.uri()),
        production: None,
        keys: &[("sandbox", SANDBOX_KEY)],
        config: Config::default(),
    });
    let cancel = CancellationToken::new();
    let task = {
        let r = r.clone();
        let cancel = cancel.clone();
        tokio::spawn(async move {
            r.run_step(&guide(), "key-works", "sandbox", RunOptions::default(), "alice", cancel).await
        })
    };
    // Wait until the request has arrived, then cancel.
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while server.received_requests().await.unwrap_or_default().is_empty() {
        assert!(std::time::Instant::now() < deadline, "the request never arrived");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    cancel.cancel();
    let recs = tokio::time::timeout(Duration::from_secs(10), task)
        .await
        .unwrap_or_else(|_| panic!("cancel did not stop the run"))
        .unwrap_or_default();
    assert_eq!(recs.len(), 2, "{recs:?}");
    assert_eq!(recs[1].verdict, Verdict::Indeterminate);
    assert_eq!(recs[1].message, "cancelled");
}

/// A writer into a shared buffer, for the log scan.
#[derive(Clone, Default)]
struct Buffer(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Buffer {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if let Ok(mut b) = self.0.lock() {
            b.extend_from_slice(buf);
        }
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test]
async fn the_key_appears_nowhere() {
    const LEAK_KEY: &str = "leak-canary-5d2e8b1f9a7c-zz";
    let logs = Buffer::default();
    let writer = logs.clone();
    // TRACE for everything (also the `log` records of reqwest, through the
    // subscriber's log bridge).
    let _ = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .try_init();

    let elsewhere = MockServer::start().await;
    let server = MockServer::start().await;
    Mock::given(path("/shipment/v2/status/barcode/3SDEVC000000000"))
        .and(header("apikey", LEAK_KEY))
        .respond_with(
            ResponseTemplate::new(401).set_body_raw(
                format!(r#"{{"fault":{{"faultstring":"Invalid ApiKey {LEAK_KEY}"}}}}"#),
                "application/json",
            ),
        )
        .mount(&server)
        .await;
    Mock::given(path("/shipment/v2_1/locations/nearest"))
        .respond_with(ResponseTemplate::new(302).insert_header("Location", format!("{}/x", elsewhere.uri()).as_str()))
        .mount(&server)
        .await;
    Mock::given(path("/shipment/v1_1/barcode"))
        .respond_with(
            ResponseTemplate::new(200).set_body_raw(
                format!(r#"{{"errors":[{{"message":"key {LEAK_KEY} not allowed"}}]}}"#),
                "application/json",
            ),
        )
        .mount(&server)
        .await;
    let r = runner(Opts {
        sandbox: Some(&server.uri()),
        production: None,
        keys: &[("sandbox", LEAK_KEY)],
        config: Config::default(),
    });

    let mut records = Vec::new();
    records.extend(step(&r, "key-works", "sandbox", RunOptions::default()).await);
    records.extend(step(&r, "groups", "sandbox", RunOptions::default()).await);
    records.extend(step(&r, "smoke", "sandbox", RunOptions::default()).await);
    records.extend(
        step(
            &r,
            "key-works",
            "sandbox",
            RunOptions { only: Some(2), evidence: Some(LEAK_KEY.into()), ..RunOptions::default() },
        )
        .await,
    );
    assert!(records.len() >= 6, "{records:?}");
    assert!(server.received_requests().await.unwrap_or_default().len() >= 4, "the checks did not run");
    assert!(elsewhere.received_requests().await.unwrap_or_default().is_empty());
    // The server echoed the key in its answers; the records must not.
    assert!(
        records.iter().any(|r| r.message.contains("••••9a7c-zz") || r.message.contains("Invalid ApiKey")),
        "{records:?}"
    );

    let mut haystack = String::new();
    for rec in &records {
        haystack.push_str(&toml::to_string(rec).unwrap_or_default());
        haystack.push_str(&serde_json::to_string(rec).unwrap_or_default());
        haystack.push_str(&format!("{rec:?}"));
    }
    haystack.push_str(&format!("{:?}", r.secrets()));
    let log_text = logs.0.lock().map(|b| String::from_utf8_lossy(&b).into_owned()).unwrap_or_default();
    assert!(log_text.contains("check finished"), "the log scan saw no log at all");
    assert_eq!(haystack.matches(LEAK_KEY).count(), 0, "key in records: {haystack}");
    assert_eq!(log_text.matches(LEAK_KEY).count(), 0, "key in logs");
}

#[tokio::test]
async fn single_environment_guide_names_the_short_variable() {
    let src = r#"
schema = 1
id = "posti"
version = "test"
title = { en = "Posti" }
languages = ["en"]

[environments.production]
base_url = "https://gateway.posti.fi/shippingapi/api"

[[steps]]
id = "key"
number = 1
title = { en = "Key" }

[[steps.checks]]
kind = "http"
method = "GET"
path = "/v1/ping"
headers = { Authorization = "{api_key}" }
"#;
    let g = parse_guide(src, "posti.toml").unwrap_or_else(|e| panic!("{e:?}"));
    let env = |n: &str| (n == "POSTI_API_KEY").then(|| "posti-env-key-123456".to_string());
    let targets = vec![("posti".to_string(), vec!["production".to_string()])];
    let loaded = SecretStore::load_for(&env, None, &targets);
    assert_eq!(loaded.source("posti", "production"), Some("environment variable POSTI_API_KEY"));

    let r = runner(Opts { sandbox: None, production: None, keys: &[], config: Config::default() });
    let recs = r.run_step(&g, "key", "production", RunOptions::default(), "alice", CancellationToken::new()).await;
    assert_eq!(recs[0].verdict, Verdict::Error, "{recs:?}");
    assert_eq!(
        recs[0].message,
        "no key for posti production: set POSTI_API_KEY, add it to secrets.toml, or type it in with p in the checklist"
    );
}

/// A runner's world for the budget tests: the sandbox at `server`, one
/// call a minute, `key` as its key, the budget on `clock` alone.
fn one_call_a_minute(server: &MockServer, clock: &ManualClock, key: &str) -> RunnerDeps {
    let clock: Arc<dyn Clock> = Arc::new(clock.clone());
    let mut store = SecretStore::empty();
    store.set("postnl", "sandbox", ApiKey::new(key));
    let uri = server.uri();
    let config: Config =
        toml::from_str("[guides.postnl.environments.sandbox]\nrate_limit_per_minute = 1\n").unwrap_or_default();
    RunnerDeps {
        config,
        secrets: Arc::new(RwLock::new(store)),
        clock: clock.clone(),
        resolver: Arc::new(SystemResolver) as Arc<dyn Resolve>,
        rate_limiter: RateLimiter::isolated(clock),
        env_vars: Arc::new(move |n: &str| (n == "CUTOVER_POSTNL_SANDBOX_URL").then(|| uri.clone())),
        lang: "en".into(),
    }
}

#[tokio::test]
async fn run_all_waits_for_the_budget_instead_of_giving_up() {
    let server = ok_server().await;
    let manual = ManualClock::new(jiff::Timestamp::from_second(1_800_000_000).unwrap_or(jiff::Timestamp::UNIX_EPOCH));
    let deps = one_call_a_minute(&server, &manual, "run-all-key-3b7e9d1c");
    let r = Runner::new(deps);
    let only_http = RunOptions { only: Some(1), ..RunOptions::default() };
    let first =
        r.run_step(&guide(), "key-works", "sandbox", only_http.clone(), "alice", CancellationToken::new()).await;
    assert_eq!(first[0].verdict, Verdict::Pass, "{first:?}");
    let limited =
        r.run_step(&guide(), "key-works", "sandbox", only_http.clone(), "alice", CancellationToken::new()).await;
    assert_eq!(limited[0].verdict, Verdict::Indeterminate, "{limited:?}");

    let task = {
        let r = r.clone();
        tokio::spawn(async move {
            let opts = RunOptions { run_all: true, ..only_http };
            r.run_step(&guide(), "key-works", "sandbox", opts, "alice", CancellationToken::new()).await
        })
    };
    // A minute later the budget is free again; the waiting run goes ahead.
    manual.advance_secs(61);
    let recs = tokio::time::timeout(Duration::from_secs(20), task)
        .await
        .unwrap_or_else(|_| panic!("run all did not go ahead"))
        .unwrap_or_default();
    assert_eq!(recs[0].verdict, Verdict::Pass, "{recs:?}");
    assert_eq!(server.received_requests().await.unwrap_or_default().len(), 2);
}

/// A call budget that cannot be shared with the others on the state file
/// (its lock is not a file this user can use) is said with the result, not
/// only in the log; the check still runs on this process's own budget.
#[tokio::test]
async fn a_budget_that_cannot_be_shared_is_said_with_the_result() {
    let server = ok_server().await;
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let budget = dir.path().join("ratelimit.toml");
    std::fs::create_dir_all(dir.path().join("ratelimit.toml.lock")).unwrap_or_else(|e| panic!("{e}"));
    let clock = clock();
    let mut store = SecretStore::empty();
    store.set("postnl", "sandbox", ApiKey::new("budget-key-9c8b7a6d5e"));
    let uri = server.uri();
    let config: Config =
        toml::from_str("[guides.postnl.environments.sandbox]\nrate_limit_per_minute = 10\n").unwrap_or_default();
    let deps = RunnerDeps {
        config,
        secrets: Arc::new(RwLock::new(store)),
        clock: clock.clone(),
        resolver: Arc::new(SystemResolver) as Arc<dyn Resolve>,
        rate_limiter: RateLimiter::new(Some(budget), clock),
        env_vars: Arc::new(move |n: &str| (n == "CUTOVER_POSTNL_SANDBOX_URL").then(|| uri.clone())),
        lang: "en".into(),
    };
    let r = Runner::new(deps);
    let opts = RunOptions { only: Some(1), ..RunOptions::default() };
    let recs = r.run_step(&guide(), "key-works", "sandbox", opts, "alice", CancellationToken::new()).await;
    assert_eq!(recs[0].verdict, Verdict::Pass, "{recs:?}");
    assert!(
        recs[0].details.iter().any(|d| d.starts_with("call budget not shared with others on this state")),
        "{recs:?}"
    );
}

/// While run all waits for the budget, the runner says until when (on its
/// clock) and why, once; and when the wait is over, that too.
#[tokio::test]
async fn run_all_reports_its_wait_for_the_budget_and_its_end() {
    let server = ok_server().await;
    let start = jiff::Timestamp::from_second(1_800_000_000).unwrap_or(jiff::Timestamp::UNIX_EPOCH);
    let manual = ManualClock::new(start);
    let deps = one_call_a_minute(&server, &manual, "run-all-key-5d2c8e1f");
    let heard: Arc<Mutex<Vec<Option<cutover::guide::BudgetWait>>>> = Arc::default();
    let r = {
        let heard = heard.clone();
        Runner::new(deps).reporting_waits(Arc::new(move |w| heard.lock().unwrap_or_else(|p| p.into_inner()).push(w)))
    };
    let opts = RunOptions { only: Some(1), run_all: true, ..RunOptions::default() };
    let first = r.run_step(&guide(), "key-works", "sandbox", opts.clone(), "alice", CancellationToken::new()).await;
    assert_eq!(first[0].verdict, Verdict::Pass, "{first:?}");
    assert!(heard.lock().unwrap_or_else(|p| p.into_inner()).is_empty(), "a call within the budget reported a wait");

    let task = {
        let r = r.clone();
        tokio::spawn(async move {
            r.run_step(&guide(), "key-works", "sandbox", opts, "alice", CancellationToken::new()).await
        })
    };
    let said = || heard.lock().unwrap_or_else(|p| p.into_inner()).clone();
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while said().is_empty() && std::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // The budget frees a minute after the first call; said once, although
    // the runner looks again every second.
    let want = cutover::guide::BudgetWait {
        until: start.checked_add(jiff::SignedDuration::from_secs(60)).unwrap_or(start),
        env: "sandbox".into(),
        per_minute: Some(1),
    };
    tokio::time::sleep(Duration::from_millis(2500)).await;
    assert_eq!(said(), vec![Some(want.clone())]);

    manual.advance_secs(61);
    let recs = tokio::time::timeout(Duration::from_secs(20), task)
        .await
        .unwrap_or_else(|_| panic!("run all did not go ahead"))
        .unwrap_or_default();
    assert_eq!(recs[0].verdict, Verdict::Pass, "{recs:?}");
    assert_eq!(said(), vec![Some(want), None]);
}
