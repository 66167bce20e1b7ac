//! The entry point the TUI and the CLI use: runs what a step declares, in
//! order, and returns one stamped, sanitized, redacted record per check.
//!
//! A key is only ever sent to the base URL of the environment it belongs to;
//! a check that needs a key that is missing makes no network call at all.

mod call;
mod plan;
mod probes;

pub use plan::{Planned, SKIP_MANUAL, SKIP_ON_REQUEST, SKIP_WRITES};

use super::Outcome;
use super::http::Http;
use super::ratelimit::RateLimiter;
use super::reach::Resolve;
use super::secret::{ApiKey, SecretStore};
use crate::clock::Clock;
use crate::config::Config;
use crate::guide::{BudgetWait, CheckSpec, Guide, Step};
use crate::progress::{CheckRecord, Verdict};
use crate::sanitize;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};
use tokio_util::sync::CancellationToken;

/// Environment variable lookup, injectable (`CUTOVER_<GUIDE>_<ENV>_URL`).
pub type EnvVars = Arc<dyn Fn(&str) -> Option<String> + Send + Sync>;

/// What the runner needs from the outside world.
#[derive(Clone)]
pub struct RunnerDeps {
    pub config: Config,
    /// Shared so that the TUI can add a typed-in key while checks run.
    pub secrets: Arc<RwLock<SecretStore>>,
    pub clock: Arc<dyn Clock>,
    pub resolver: Arc<dyn Resolve>,
    pub rate_limiter: RateLimiter,
    pub env_vars: EnvVars,
    /// Language of the texts put in records (label, proves, rule messages).
    pub lang: String,
}

struct Inner {
    deps: RunnerDeps,
    http: Http,
}

/// Cheap to clone: one shared HTTP client pool and config.
#[derive(Clone)]
pub struct Runner {
    inner: Arc<Inner>,
    /// Where a run says that it waits for its call budget, and that the
    /// wait is over ([`Runner::reporting_waits`]).
    waits: Option<WaitReport>,
}

/// Told `Some(wait)` when a run starts waiting for its call budget (or the
/// time it waits for moves), `None` when the wait is over.
pub type WaitReport = Arc<dyn Fn(Option<BudgetWait>) + Send + Sync>;

impl std::fmt::Debug for Runner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Runner").field("lang", &self.inner.deps.lang).finish_non_exhaustive()
    }
}

pub use crate::guide::{CheckRequest, RunOptions};

pub(super) fn outcome(verdict: Verdict, message: impl Into<String>, hint: Option<String>) -> Outcome {
    Outcome { verdict: Some(verdict), message: message.into(), hint, ..Outcome::default() }
}

impl Runner {
    pub fn new(deps: RunnerDeps) -> Runner {
        let http = Http::new(deps.resolver.clone());
        Runner { inner: Arc::new(Inner { deps, http }), waits: None }
    }

    /// This runner, telling `report` whenever a run waits for its call
    /// budget ("run all" waits instead of giving up) and when it goes on.
    pub fn reporting_waits(&self, report: WaitReport) -> Runner {
        Runner { inner: self.inner.clone(), waits: Some(report) }
    }

    /// Builds the HTTP clients now, so the first check does not wait for
    /// them (blocking: call it off the event loop).
    pub fn warm_up(&self) {
        self.inner.http.warm_up();
    }

    /// The shared key store (the TUI adds typed-in keys here).
    pub fn secrets(&self) -> Arc<RwLock<SecretStore>> {
        self.inner.deps.secrets.clone()
    }

    pub fn config(&self) -> &Config {
        &self.inner.deps.config
    }

    pub(super) fn store(&self) -> std::sync::RwLockReadGuard<'_, SecretStore> {
        self.inner.deps.secrets.read().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    pub(super) fn key(&self, guide: &Guide, env: &str) -> Option<ApiKey> {
        self.store().get(guide.id(), env).cloned()
    }

    pub(super) fn redact(&self, text: &str) -> String {
        self.store().redact(text)
    }

    /// The base URL for `env`: `CUTOVER_<GUIDE>_<ENV>_URL`, else the config,
    /// else the guide's.
    pub fn base_url(&self, guide: &Guide, env: &str) -> Option<String> {
        let vars = self.inner.deps.env_vars.clone();
        self.inner.deps.config.base_url(guide, env, &move |n: &str| vars(n))
    }

    /// `req` as a curl command against the base URL and with the config
    /// values this runner's checks use; the key stays `"$API_KEY"`.
    pub fn curl(
        &self,
        guide: &Guide,
        env: &str,
        req: &crate::guide::RequestSpec,
    ) -> Result<String, super::curl::CurlError> {
        let base = self
            .base_url(guide, env)
            .ok_or_else(|| super::curl::CurlError::NoBaseUrl { guide: guide.id().to_string(), env: env.to_string() })?;
        let mut vars = self.inner.deps.config.guide(guide.id()).vars;
        vars.entry("today".to_string()).or_insert_with(|| self.inner.deps.clock.now().strftime("%Y-%m-%d").to_string());
        super::curl::curl(&base, req, &vars, guide.id())
    }

    /// Where the base URL in use comes from when it is not the guide's own:
    /// the variable that sets it, or the config file.
    pub fn url_origin(&self, guide: &Guide, env: &str) -> Option<String> {
        let var = format!("CUTOVER_{}_{}_URL", crate::config::env_key(guide.id()), crate::config::env_key(env));
        if (self.inner.deps.env_vars)(&var).is_some_and(|v| !v.trim().is_empty()) {
            return Some(var);
        }
        let in_config = self
            .inner
            .deps
            .config
            .guides
            .get(guide.id())
            .and_then(|g| g.environments.get(env))
            .is_some_and(|e| e.base_url.is_some());
        in_config.then(|| "config.toml".to_string())
    }

    /// True if the base URL in use is not the guide's own (shown, so that
    /// nobody sends a production key to a test server unknowingly).
    pub fn base_url_overridden(&self, guide: &Guide, env: &str) -> bool {
        let own = guide.environments.get(env).map(|e| e.base_url.trim_end_matches('/').to_string());
        match (self.base_url(guide, env), own) {
            (Some(u), Some(o)) => u != o,
            (Some(_), None) => true,
            _ => false,
        }
    }

    /// Runs the request's checks in order. Skipped checks get a record
    /// with verdict `Skipped` and the reason.
    pub async fn run(&self, req: &CheckRequest, by: &str, cancel: CancellationToken) -> Vec<CheckRecord> {
        match req.step() {
            Some(s) => self.run_in(&req.guide, s, &req.env, &req.opts, by, cancel).await,
            None => Vec::new(),
        }
    }

    /// [`Runner::run`] for `step` of `guide` while `active` is the
    /// environment chosen (the step's own environment wins:
    /// [`Step::check_env`]).
    pub async fn run_step(
        &self,
        guide: &Guide,
        step: &str,
        active: &str,
        opts: RunOptions,
        by: &str,
        cancel: CancellationToken,
    ) -> Vec<CheckRecord> {
        match guide.item(step) {
            Some(s) => self.run_in(guide, s, s.check_env(active), &opts, by, cancel).await,
            None => Vec::new(),
        }
    }

    pub(super) async fn run_in(
        &self,
        guide: &Guide,
        s: &Step,
        env: &str,
        opts: &RunOptions,
        by: &str,
        cancel: CancellationToken,
    ) -> Vec<CheckRecord> {
        let step = s.id();
        let plan = self.plan_in(guide, s, env, opts);
        let mut records = Vec::with_capacity(plan.len());
        for (i, planned) in plan {
            let Some(spec) = s.checks.get(i) else {
                continue;
            };
            let at = self.inner.deps.clock.now();
            let started = Instant::now();
            let out = match planned {
                Planned::Skip(why) => outcome(Verdict::Skipped, why, None),
                Planned::Run if cancel.is_cancelled() => outcome(Verdict::Indeterminate, "cancelled", None),
                Planned::Run => {
                    let c = cancel.clone();
                    tokio::select! {
                        _ = cancel.cancelled() => outcome(Verdict::Indeterminate, "cancelled", None),
                        o = self.run_check(guide, s, spec, env, opts, by, c) => o,
                    }
                }
            };
            let cancelled = out.verdict == Some(Verdict::Indeterminate) && out.message == "cancelled";
            let record = self.stamp(guide, spec, env, by, at, started.elapsed(), out, opts);
            tracing::info!(guide = guide.id(), step, env = %env, check = %record.check, verdict = %record.verdict, message = %record.message, "check finished");
            records.push(record);
            if cancelled {
                break;
            }
        }
        records
    }

    #[allow(clippy::too_many_arguments)]
    pub(super) fn stamp(
        &self,
        guide: &Guide,
        spec: &CheckSpec,
        env: &str,
        by: &str,
        at: jiff::Timestamp,
        took: Duration,
        o: Outcome,
        opts: &RunOptions,
    ) -> CheckRecord {
        let lang = opts.lang.as_deref().unwrap_or(self.inner.deps.lang.as_str());
        let langs = &guide.languages;
        let clean_line = |s: &str| {
            let once = self.redact(s);
            self.redact(&sanitize::line(&once))
        };
        let clean_multi = |s: &str| {
            let once = self.redact(s);
            self.redact(&sanitize::multiline(&once))
        };
        let label = spec
            .label
            .as_ref()
            .map(|t| t.get(lang, langs))
            .filter(|s| !s.trim().is_empty())
            .unwrap_or(spec.kind().as_str());
        let text = |t: &Option<crate::guide::Text>| {
            t.as_ref().map(|t| clean_multi(t.get(lang, langs))).filter(|s| !s.trim().is_empty())
        };
        let verdict = o.verdict.unwrap_or(Verdict::Error);
        let passed = verdict == Verdict::Pass;
        let proves = text(&spec.proves);
        // Every result but a pass says what to do next.
        let hint = o
            .hint
            .as_deref()
            .filter(|h| !h.trim().is_empty())
            .map(str::to_string)
            .or_else(|| (!passed).then(|| next_step(verdict, &o.message)));
        CheckRecord {
            at,
            by: clean_line(by),
            env: if env.is_empty() { None } else { Some(clean_line(env)) },
            check: clean_line(label),
            verdict,
            message: clean_line(&o.message),
            hint: hint.as_deref().map(clean_line),
            duration_ms: u64::try_from(took.as_millis()).unwrap_or(u64::MAX),
            request: o.request.as_deref().map(clean_line),
            http_status: o.http_status,
            excerpt: o.excerpt.as_deref().map(clean_multi),
            proved: if passed { proves.clone() } else { None },
            would_prove: if passed { None } else { proves },
            not_proved: text(&spec.does_not_prove),
            trace_id: o.trace_id.as_deref().map(clean_line),
            key_sent_to: o.key_sent_to.as_deref().map(clean_line),
            details: o.details.iter().map(|d| clean_line(d)).collect(),
        }
    }
}

/// The next step for a result that came without a hint of its own.
fn next_step(verdict: Verdict, message: &str) -> String {
    if verdict == Verdict::Skipped {
        return if message == SKIP_MANUAL {
            "A person confirms this one: press c on the step in the checklist and type the evidence.".into()
        } else if message == SKIP_ON_REQUEST {
            "It runs only when asked for: press c on its step (run-all skips it).".into()
        } else if message == SKIP_WRITES {
            "It creates data at the carrier: run it from the checklist and confirm, or pass --allow-writes.".into()
        } else if message.starts_with("not for env") {
            "Switch the environment (E in the checklist, --env on the command line) to run it.".into()
        } else {
            "Run the step's checks again when what they need is in place.".into()
        };
    }
    match verdict {
        Verdict::Fail => "Fix what the message names, then run the check again.".into(),
        Verdict::Error => {
            "Fix what the message names (or report it as a bug in cutover), then run the check again.".into()
        }
        _ if message == "cancelled" => "Run the check again when you are ready.".into(),
        _ => "Run the check again later; this result says nothing certain yet.".into(),
    }
}

pub(super) fn truncate_bytes(s: &str, max: usize) -> String {
    if s.len() <= max {
        return s.to_string();
    }
    let mut cut = max.saturating_sub("…".len());
    while !s.is_char_boundary(cut) {
        cut -= 1;
    }
    format!("{}…", &s[..cut])
}
