//! The verdict corpus (tests/corpus/, format in its README): responses from
//! the carriers' documentation, their OpenAPI specs and independent client
//! libraries, each with the verdict and the kind of hint it must get,
//! written from what the response means. Each one is replayed over loopback
//! through the real HTTP path and the built-in guide's real check: the
//! runner sends the check's request to a fake carrier that answers with the
//! recorded response (and, for a status lookup that is gone, with the
//! recorded answer of the fallback call).

use cutover::check::ratelimit::RateLimiter;
use cutover::check::reach::{Resolve, SystemResolver};
use cutover::check::runner::{RunOptions, Runner, RunnerDeps};
use cutover::check::secret::{ApiKey, SecretStore};
use cutover::clock::{Clock, ManualClock};
use cutover::config::Config;
use cutover::guide::{Catalog, CheckKind, Guide};
use cutover::progress::{CheckRecord, Verdict};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::sync::{Arc, RwLock};
use tokio_util::sync::CancellationToken;
use wiremock::matchers::path;
use wiremock::{Mock, MockServer, ResponseTemplate};

/// The key in use; its first 12 characters occur in no recorded body.
const KEY: &str = "qz7Kcorpus-Key-5e1d0b9a47c3f2";
const FALLBACK_PATH: &str = "/shipment/v2_1/locations/nearest";

#[derive(Debug, Deserialize)]
struct Corpus {
    case: Vec<Case>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Case {
    id: String,
    source: String,
    guide: String,
    step: String,
    check: String,
    #[serde(default)]
    probe: Option<String>,
    env: String,
    status: u16,
    #[serde(default)]
    headers: BTreeMap<String, String>,
    body: String,
    #[serde(default)]
    repeat: Option<usize>,
    verdict: String,
    hint: String,
    #[serde(default)]
    fallback_status: Option<u16>,
    #[serde(default)]
    fallback_headers: BTreeMap<String, String>,
    #[serde(default)]
    fallback_body: Option<String>,
    #[serde(default)]
    retry_after: Option<u64>,
    #[serde(default)]
    names_status: bool,
    #[serde(default)]
    trace_id: Option<String>,
    #[serde(default)]
    hostile: Option<String>,
    #[serde(default)]
    #[allow(dead_code)]
    unsure: Option<String>,
    why: String,
}

fn load(name: &str) -> Vec<Case> {
    let p = format!("{}/tests/corpus/{name}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{p}: {e}"));
    toml::from_str::<Corpus>(&text).unwrap_or_else(|e| panic!("{p}: {e}")).case
}

fn substitute(s: &str) -> String {
    s.replace("{{KEY12}}", &KEY[..12]).replace("{{KEY}}", KEY)
}

fn template(status: u16, headers: &BTreeMap<String, String>, body: &str, repeat: usize) -> ResponseTemplate {
    let mut t = ResponseTemplate::new(status);
    for (k, v) in headers {
        t = t.insert_header(k.as_str(), v.as_str());
    }
    t.set_body_bytes(substitute(body).repeat(repeat.max(1)).into_bytes())
}

fn verdict(s: &str) -> Verdict {
    match s {
        "pass" => Verdict::Pass,
        "fail" => Verdict::Fail,
        "indeterminate" => Verdict::Indeterminate,
        "error" => Verdict::Error,
        other => panic!("unknown verdict {other:?}"),
    }
}

/// Whether `hint` (lower case) is of the kind the corpus names: each kind
/// by the words a user needs to act on it.
fn hint_is(kind: &str, hint: &str) -> bool {
    let has = |w: &str| hint.contains(w);
    match kind {
        "none" => true,
        "copy-key" => has("copy") && has("key"),
        "enable-api" => has("linked") || has("enabled") || has("show api") || has("api management"),
        "not-invited" => has("invited"),
        "wait" => has("wait") || has("again later"),
        "retired-or-base-url" => has("base url") && (has("retired") || has("version")),
        "base-url" => has("base url"),
        "report-bug" => has("bug"),
        "config" => has("customer_code") || has("customer_number") || has("config"),
        "header-stripped" => has("did not arrive") || has("strip"),
        "not-the-api" => has("base url") && (has("browser") || has("another network") || has("proxy")),
        "gateway-blocked" => has("gateway") || has("cdn"),
        "missing-header" => has("header"),
        other => panic!("unknown hint kind {other:?}"),
    }
}

fn no_controls(s: &str) -> bool {
    !s.chars().any(|c| (c.is_control() && c != '\n' && c != '\t') || ('\u{80}'..='\u{9f}').contains(&c))
}

struct Replay {
    catalog: Catalog,
}

impl Replay {
    fn guide(&self, id: &str) -> &Guide {
        &self.catalog.get(id).unwrap_or_else(|| panic!("no built-in guide {id}")).guide
    }

    /// Runs the case's check against a loopback fake that answers with the
    /// recorded response; returns the record and how many calls arrived.
    async fn run(&self, c: &Case) -> (CheckRecord, usize) {
        let g = self.guide(&c.guide);
        let step = g.item(&c.step).unwrap_or_else(|| panic!("{}: no step {}", c.id, c.step));
        let index = step
            .checks
            .iter()
            .position(|k| k.label.as_ref().is_some_and(|l| l.get("en", &g.languages) == c.check))
            .unwrap_or_else(|| panic!("{}: step {} has no check {:?}", c.id, c.step, c.check));
        if let Some(p) = &c.probe {
            let spec = &step.checks[index];
            assert_eq!(spec.kind(), CheckKind::Probes, "{}", c.id);
            assert!(spec.probes.iter().any(|q| &q.group == p), "{}: no probe {p}", c.id);
        }

        let server = MockServer::start().await;
        if let Some(fs) = c.fallback_status {
            Mock::given(path(FALLBACK_PATH))
                .respond_with(template(fs, &c.fallback_headers, c.fallback_body.as_deref().unwrap_or(""), 1))
                .with_priority(1)
                .mount(&server)
                .await;
        }
        Mock::given(wiremock::matchers::any())
            .respond_with(template(c.status, &c.headers, &c.body, c.repeat.unwrap_or(1)))
            .with_priority(5)
            .mount(&server)
            .await;

        let mut config =
            String::from("[guides.postnl.vars]\ncustomer_code = \"DEVC\"\ncustomer_number = \"11223344\"\n");
        if let Some(p) = &c.probe {
            config.push_str(&format!("[guides.{}]\napi_groups = [{p:?}]\n", c.guide));
        }
        let config: Config = toml::from_str(&config).unwrap_or_else(|e| panic!("{e}"));
        let mut store = SecretStore::empty();
        store.set(&c.guide, &c.env, ApiKey::new(KEY));
        let url_var = format!("CUTOVER_{}_{}_URL", c.guide.to_uppercase(), c.env.to_uppercase());
        let uri = server.uri();
        let clock: Arc<dyn Clock> =
            Arc::new(ManualClock::new("2026-12-01T10:00:00Z".parse().unwrap_or(jiff::Timestamp::UNIX_EPOCH)));
        let deps = RunnerDeps {
            config,
            secrets: Arc::new(RwLock::new(store)),
            clock: clock.clone(),
            resolver: Arc::new(SystemResolver) as Arc<dyn Resolve>,
            rate_limiter: RateLimiter::isolated(clock),
            env_vars: Arc::new(move |n: &str| (n == url_var).then(|| uri.clone())),
            lang: "en".into(),
        };
        let runner = Runner::new(deps);
        let opts = RunOptions {
            only: Some(index),
            include_on_request: true,
            // A loopback fake: nothing reaches a carrier.
            allow_writes: true,
            lang: Some("en".into()),
            ..RunOptions::default()
        };
        let mut recs = runner.run_step(g, &c.step, &c.env, opts, "tester", CancellationToken::new()).await;
        assert_eq!(recs.len(), 1, "{}: {recs:?}", c.id);
        let calls = server.received_requests().await.unwrap_or_default().len();
        (recs.remove(0), calls)
    }
}

/// Everything wrong with one replayed case, or nothing.
fn judge(c: &Case, rec: &CheckRecord, calls: usize) -> Vec<String> {
    let mut wrong = Vec::new();
    let want = verdict(&c.verdict);
    if rec.verdict != want {
        wrong.push(format!("verdict {} (want {})", rec.verdict, c.verdict));
    }
    let hint = rec.hint.clone().unwrap_or_default().to_lowercase();
    if rec.verdict != Verdict::Pass && hint.trim().is_empty() {
        wrong.push("a result that is not a pass has no hint".into());
    }
    if !hint_is(&c.hint, &hint) {
        wrong.push(format!("hint is not of kind {}: {:?}", c.hint, rec.hint));
    }
    let text = format!("{} {}", rec.message, rec.details.join(" "));
    match c.retry_after {
        Some(s) if s > 0 && !text.contains(&format!("wait {s} s")) => {
            wrong.push(format!("the wait of {s} s is not said: {}", rec.message))
        }
        None if text.contains("asks to wait") => wrong.push(format!("a wait is said: {}", rec.message)),
        _ => {}
    }
    if c.names_status && !text.contains(&c.status.to_string()) {
        wrong.push(format!("the message does not name {}: {}", c.status, rec.message));
    }
    if let Some(t) = &c.trace_id {
        let kept = rec.trace_id.as_deref() == Some(t.as_str()) || rec.excerpt.as_deref().is_some_and(|e| e.contains(t));
        if !kept {
            wrong.push(format!("traceId {t} is not kept: {:?} / {:?}", rec.trace_id, rec.excerpt));
        }
    }
    // Nothing of the key, and no control character, in anything kept.
    let all = serde_json::to_string(rec).unwrap_or_default();
    if all.contains(KEY) || all.contains(&KEY[..12]) {
        wrong.push("the record holds (part of) the key".into());
    }
    for (what, s) in [
        ("message", Some(rec.message.as_str())),
        ("hint", rec.hint.as_deref()),
        ("excerpt", rec.excerpt.as_deref()),
        ("trace_id", rec.trace_id.as_deref()),
    ] {
        if let Some(s) = s
            && !no_controls(s)
        {
            wrong.push(format!("control characters in the {what}: {s:?}"));
        }
    }
    if rec.details.iter().any(|d| !no_controls(d)) {
        wrong.push("control characters in the details".into());
    }
    if rec.excerpt.as_deref().is_some_and(|e| e.len() > cutover::check::classify::EXCERPT_MAX + 16) {
        wrong.push("the kept excerpt is not bounded".into());
    }
    // What a run proved is claimed only for a pass.
    if rec.verdict != Verdict::Pass && rec.proved.is_some() {
        wrong.push("a result that is not a pass claims what it proved".into());
    }
    if c.fallback_status.is_none() && calls > 1 && c.probe.is_none() {
        wrong.push(format!("{calls} calls for a case without a fallback"));
    }
    wrong
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_corpus_response_gets_its_verdict_and_hint() {
    let replay = Replay { catalog: Catalog::built_in() };
    let mut cases = load("postnl.toml");
    cases.extend(load("posti.toml"));
    assert!(cases.len() >= 60, "the corpus holds {} responses, fewer than 60", cases.len());
    let mut ids = std::collections::BTreeSet::new();
    let mut failures = Vec::new();
    for c in &cases {
        assert!(ids.insert(c.id.clone()), "duplicate id {}", c.id);
        assert!(!c.source.trim().is_empty() && !c.why.trim().is_empty(), "{}: source and why", c.id);
        let (rec, calls) = replay.run(c).await;
        let wrong = judge(c, &rec, calls);
        if !wrong.is_empty() {
            failures.push(format!(
                "{} ({} {} {}{}): {}\n    got: {} | {} | hint {:?}",
                c.id,
                c.guide,
                c.step,
                c.status,
                c.hostile.as_deref().map(|h| format!(", hostile {h}")).unwrap_or_default(),
                wrong.join("; "),
                rec.verdict,
                rec.message,
                rec.hint
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} corpus cases are judged wrongly:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
}
