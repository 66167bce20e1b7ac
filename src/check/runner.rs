//! The entry point the TUI and the CLI use: runs what a step declares, in
//! order, and returns one stamped, sanitized, redacted record per check.
//!
//! A key is only ever sent to the base URL of the environment it belongs to;
//! a check that needs a key that is missing makes no network call at all.

use super::Outcome;
use super::classify::Expect;
use super::http::{Http, KEY_PLACEHOLDER};
use super::ratelimit::RateLimiter;
use super::reach::{self, Resolve};
use super::secret::{ApiKey, SecretStore, env_var_names};
use super::{command, http, offline};
use crate::clock::Clock;
use crate::config::Config;
use crate::guide::{CheckKind, CheckSpec, Guide, Probe, RequestSpec, Step};
use crate::progress::{CheckRecord, Verdict};
use crate::sanitize;
use reqwest::Url;
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
}

impl std::fmt::Debug for Runner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Runner").field("lang", &self.inner.deps.lang).finish_non_exhaustive()
    }
}

#[derive(Debug, Default, Clone)]
pub struct RunOptions {
    /// Run checks marked `on_request` too.
    pub include_on_request: bool,
    /// The user confirmed checks that create data at the carrier.
    pub allow_writes: bool,
    /// Run only the check with this index (asked for by name: an
    /// `on_request` check runs).
    pub only: Option<usize>,
    /// Evidence typed by a person: runs the `manual` checks with it.
    pub evidence: Option<String>,
    /// Part of "run all": wait for the rate limit instead of giving up.
    pub run_all: bool,
    /// Language of the texts saved with the verdict (the guide's label,
    /// proves, hints); None: the runner's default.
    pub lang: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Planned {
    Run,
    /// Why not: "manual: needs a person", "on request only", "creates data:
    /// needs confirmation / --allow-writes", "not for env X".
    Skip(String),
}

pub const SKIP_MANUAL: &str = "manual: needs a person";
pub const SKIP_ON_REQUEST: &str = "on request only";
pub const SKIP_WRITES: &str = "creates data: needs confirmation / --allow-writes";

fn outcome(verdict: Verdict, message: impl Into<String>, hint: Option<String>) -> Outcome {
    Outcome { verdict: Some(verdict), message: message.into(), hint, ..Outcome::default() }
}

fn uses_key(r: &RequestSpec) -> bool {
    r.headers.values().any(|v| v.contains(KEY_PLACEHOLDER))
}

impl Runner {
    pub fn new(deps: RunnerDeps) -> Result<Runner, String> {
        let http = Http::new(deps.resolver.clone())?;
        Ok(Runner { inner: Arc::new(Inner { deps, http }) })
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

    fn store(&self) -> std::sync::RwLockReadGuard<'_, SecretStore> {
        self.inner.deps.secrets.read().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn key(&self, guide: &Guide, env: &str) -> Option<ApiKey> {
        self.store().get(guide.id(), env).cloned()
    }

    fn redact(&self, text: &str) -> String {
        self.store().redact(text)
    }

    /// The environment a step's checks run in: a step whose checks are all
    /// bound to one and the same environment always uses it; any other step
    /// follows the active one.
    pub fn env_for(&self, guide: &Guide, step: &str, active_env: &str) -> String {
        let Some(s) = guide.item(step) else {
            return active_env.to_string();
        };
        bound_env(s).unwrap_or_else(|| active_env.to_string())
    }

    /// The base URL for `env`: `CUTOVER_<GUIDE>_<ENV>_URL`, else the config,
    /// else the guide's.
    pub fn base_url(&self, guide: &Guide, env: &str) -> Option<String> {
        let vars = self.inner.deps.env_vars.clone();
        self.inner.deps.config.base_url(guide, env, &move |n: &str| vars(n))
    }

    /// `req` as a curl command against the base URL and with the config
    /// values this runner's checks use; the key stays `"$API_KEY"`.
    pub fn curl(&self, guide: &Guide, env: &str, req: &crate::guide::RequestSpec) -> Result<String, String> {
        let base = self.base_url(guide, env).ok_or_else(|| format!("{} has no base URL for {env}", guide.id()))?;
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

    /// Which of the step's checks would run now, and why the others would
    /// not. `env` is the active environment.
    pub fn plan(&self, guide: &Guide, step: &str, env: &str, opts: &RunOptions) -> Vec<(usize, Planned)> {
        let Some(s) = guide.item(step) else {
            return Vec::new();
        };
        let env = self.env_for(guide, step, env);
        s.checks
            .iter()
            .enumerate()
            .filter(|(i, _)| opts.only.is_none_or(|o| o == *i))
            .map(|(i, c)| (i, self.plan_one(guide, c, &env, opts, opts.only == Some(i))))
            .collect()
    }

    fn plan_one(&self, guide: &Guide, c: &CheckSpec, env: &str, opts: &RunOptions, asked: bool) -> Planned {
        if !c.envs.is_empty() && !c.envs.iter().any(|e| e.get_ref() == env) {
            return Planned::Skip(format!("not for env {env}"));
        }
        if c.kind() == CheckKind::Manual && opts.evidence.is_none() {
            return Planned::Skip(SKIP_MANUAL.into());
        }
        if c.on_request && !opts.include_on_request && !asked {
            return Planned::Skip(SKIP_ON_REQUEST.into());
        }
        // Creating data needs the user's say-so, in a sandbox too: the TUI's
        // typed confirmation or the command line's --allow-writes.
        if !opts.allow_writes {
            let writes = match c.kind() {
                // Probes that write are skipped one by one; the check as a
                // whole only if every probe it would run writes.
                CheckKind::Probes => {
                    let probes = self.selected_probes(guide, c);
                    c.writes == Some(true) || (!probes.is_empty() && probes.iter().all(|p| probe_writes(p, env)))
                }
                _ => c.creates_data_in(env),
            };
            if writes {
                return Planned::Skip(SKIP_WRITES.into());
            }
        }
        Planned::Run
    }

    fn selected_probes<'a>(&self, guide: &Guide, c: &'a CheckSpec) -> Vec<&'a Probe> {
        let groups = self.inner.deps.config.guide(guide.id()).api_groups;
        c.probes
            .iter()
            .filter(|p| groups.is_empty() || groups.iter().any(|g| g.trim().eq_ignore_ascii_case(p.group.trim())))
            .collect()
    }

    /// Runs the step's checks in order. Skipped checks get a record with
    /// verdict `Skipped` and the reason.
    pub async fn run_step(
        &self,
        guide: &Guide,
        step: &str,
        active_env: &str,
        opts: RunOptions,
        by: &str,
        cancel: CancellationToken,
    ) -> Vec<CheckRecord> {
        let Some(s) = guide.item(step) else {
            return Vec::new();
        };
        let env = self.env_for(guide, step, active_env);
        let plan = self.plan(guide, step, active_env, &opts);
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
                        o = self.run_check(guide, s, spec, &env, &opts, by, c) => o,
                    }
                }
            };
            let cancelled = out.verdict == Some(Verdict::Indeterminate) && out.message == "cancelled";
            let record = self.stamp(guide, spec, &env, by, at, started.elapsed(), out, &opts);
            tracing::info!(guide = guide.id(), step, env = %env, check = %record.check, verdict = %record.verdict, message = %record.message, "check finished");
            records.push(record);
            if cancelled {
                break;
            }
        }
        records
    }

    #[allow(clippy::too_many_arguments)]
    fn stamp(
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

    /// "no key for postnl sandbox: set POSTNL_SANDBOX_API_KEY, ..."; a guide
    /// with a single environment names the short variable (POSTI_API_KEY).
    fn no_key(&self, guide: &Guide, env: &str, verdict: Verdict) -> Outcome {
        let gid = guide.id();
        let names = env_var_names(gid, env, guide.environments.len() == 1);
        let var = names.last().cloned().unwrap_or_default();
        let msg =
            format!("no key for {gid} {env}: set {var}, add it to secrets.toml, or type it in with p in the checklist");
        let hint = format!(
            "cutover looks for the key in {}, then in secrets.toml [{gid}] {env}; a key typed in (p) wins over both.",
            names.join(" or ")
        );
        outcome(verdict, msg, Some(hint))
    }

    fn timeout(&self, spec: &CheckSpec) -> Duration {
        Duration::from_secs(spec.timeout_secs.unwrap_or(self.inner.deps.config.checks.timeout_secs).max(1))
    }

    fn per_minute(&self, guide: &Guide, env: &str) -> Option<u32> {
        self.inner
            .deps
            .config
            .guides
            .get(guide.id())
            .and_then(|g| g.environments.get(env))
            .and_then(|e| e.rate_limit_per_minute)
            .or_else(|| guide.environments.get(env).and_then(|e| e.rate_limit_per_minute))
    }

    /// Takes one call from the budget of `host` and `key`; waits (cancellably)
    /// in "run all", else says when the next call is possible.
    async fn take_budget(
        &self,
        guide: &Guide,
        env: &str,
        url: &Url,
        key: Option<&ApiKey>,
        opts: &RunOptions,
        cancel: &CancellationToken,
    ) -> Result<(), Outcome> {
        let per_minute = self.per_minute(guide, env).unwrap_or(0);
        let bucket = budget_bucket(url, key);
        loop {
            match self.inner.deps.rate_limiter.try_acquire(&bucket, per_minute) {
                Ok(()) => return Ok(()),
                Err(wait) => {
                    let secs = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
                    // "Run all" waits out the sandbox's window, not a long
                    // hold a server asked for.
                    if !opts.run_all || wait > Duration::from_secs(65) {
                        return Err(Outcome {
                            verdict: Some(Verdict::Indeterminate),
                            message: if self.inner.deps.rate_limiter.is_held(&bucket) {
                                format!("the server asked to wait: next call possible in {secs} s")
                            } else {
                                format!("rate limit: next call possible in {secs} s")
                            },
                            hint: Some(if per_minute > 0 && !self.inner.deps.rate_limiter.is_held(&bucket) {
                                format!("Wait {secs} s: {env} allows {per_minute} calls a minute per key.")
                            } else {
                                format!("Wait {secs} s: the server asked for a pause before the next call.")
                            }),
                            retry_after: Some(secs),
                            ..Outcome::default()
                        });
                    }
                    tracing::debug!(secs, "waiting for the call budget");
                    // Look again at least every second: another process may
                    // free the budget, or the clock may be moved (tests).
                    tokio::select! {
                        _ = cancel.cancelled() => return Err(outcome(Verdict::Indeterminate, "cancelled", None)),
                        _ = tokio::time::sleep(wait.clamp(Duration::from_millis(50), Duration::from_secs(1))) => {}
                    }
                }
            }
        }
    }

    #[allow(clippy::too_many_arguments)]
    async fn run_check(
        &self,
        guide: &Guide,
        _step: &Step,
        spec: &CheckSpec,
        env: &str,
        opts: &RunOptions,
        by: &str,
        cancel: CancellationToken,
    ) -> Outcome {
        let gid = guide.id();
        match spec.kind() {
            CheckKind::Manual => {
                let evidence = opts.evidence.clone().unwrap_or_default();
                if self.store().contains_secret(&evidence) {
                    return outcome(
                        Verdict::Error,
                        "the evidence contains an API key; it was not saved",
                        Some("Type a ticket number or a note, never the key.".into()),
                    );
                }
                let text = sanitize::multiline(evidence.trim());
                let text = truncate_bytes(&text, crate::check::classify::EXCERPT_MAX);
                Outcome {
                    verdict: Some(Verdict::Pass),
                    message: format!("confirmed by {}", sanitize::line(by)),
                    excerpt: if text.is_empty() { None } else { Some(text) },
                    ..Outcome::default()
                }
            }
            CheckKind::Secret => {
                let Some(key) = self.key(guide, env) else {
                    return self.no_key(guide, env, Verdict::Fail);
                };
                if let Err(why) = SecretStore::plausible(key.expose()) {
                    return outcome(Verdict::Fail, format!("the key for {gid} {env} cannot be right: {why}"), None);
                }
                let source = self.store().source(gid, env).unwrap_or("unknown source").to_string();
                outcome(Verdict::Pass, format!("a key for {gid} {env} is set ({source}): {}", key.masked()), None)
            }
            CheckKind::Http => {
                let req = spec.request();
                let key = self.key(guide, env);
                if uses_key(&req) && key.is_none() {
                    return self.no_key(guide, env, Verdict::Error);
                }
                let Some(base) = self.base_url(guide, env) else {
                    return outcome(Verdict::Error, format!("guide {gid} has no environment {env:?}"), None);
                };
                let first =
                    self.one_request(guide, env, &base, &req, key.as_ref(), self.timeout(spec), opts, &cancel).await;
                let gone = matches!(first.http_status, Some(404 | 410)) && first.verdict != Some(Verdict::Pass);
                if gone && !spec.fallback.is_empty() {
                    return self.fall_back(guide, env, &base, spec, first, key.as_ref(), opts, &cancel).await;
                }
                first
            }
            CheckKind::Probes => self.probes(guide, spec, env, opts, &cancel).await,
            CheckKind::Reachability => {
                let target = match &spec.host {
                    Some(h) => {
                        let port = spec.port.unwrap_or(443);
                        Some((h.clone(), port, port != 80))
                    }
                    None => self.base_url(guide, env).and_then(|b| Url::parse(&b).ok()).and_then(|u| {
                        let host = u.host_str()?.trim_start_matches('[').trim_end_matches(']').to_string();
                        let port = spec.port.or(u.port_or_known_default())?;
                        Some((host, port, u.scheme() == "https"))
                    }),
                };
                let Some((host, port, tls)) = target else {
                    return outcome(
                        Verdict::Error,
                        format!("no host to reach: the check names none and {gid} has no base URL for {env:?}"),
                        None,
                    );
                };
                let rs = reach::ReachSpec { host, port, tls, timeout: self.timeout(spec) };
                reach::check(&rs, self.inner.deps.resolver.clone(), None).await
            }
            CheckKind::Command => {
                let name = spec.command.as_ref().map(|c| c.get_ref().clone()).unwrap_or_default();
                let Some(cfg) = self.inner.deps.config.commands.get(&name) else {
                    return outcome(
                        Verdict::Error,
                        format!("config.toml has no [commands.{name}]"),
                        Some(format!("Add [commands.{name}] with argv = [\"program\", \"arg\"] to config.toml.")),
                    );
                };
                let key = if spec.pass_key {
                    match self.key(guide, env) {
                        Some(k) => Some(k),
                        None => return self.no_key(guide, env, Verdict::Error),
                    }
                } else {
                    None
                };
                let snapshot = self.store().clone();
                let redact = move |s: &str| snapshot.redact(s);
                command::run(&name, cfg, key.as_ref(), self.timeout(spec), &redact, cancel).await
            }
            CheckKind::Versions => {
                offline::versions(&spec.current_versions, &self.inner.deps.config.guide(gid).versions)
            }
            CheckKind::Contracts => {
                let g = self.inner.deps.config.guide(gid);
                offline::contracts(&g.logistics_contracts, &g.transport_ids)
            }
        }
    }

    #[allow(clippy::too_many_arguments)]
    async fn one_request(
        &self,
        guide: &Guide,
        env: &str,
        base: &str,
        req: &RequestSpec,
        key: Option<&ApiKey>,
        timeout: Duration,
        opts: &RunOptions,
        cancel: &CancellationToken,
    ) -> Outcome {
        let mut vars = self.inner.deps.config.guide(guide.id()).vars;
        vars.entry("today".to_string()).or_insert_with(|| self.inner.deps.clock.now().strftime("%Y-%m-%d").to_string());
        let prepared = match http::prepare(base, req, &vars, key, guide.id()) {
            Ok(p) => p,
            Err(o) => return *o,
        };
        if let Err(mut o) = self.take_budget(guide, env, &prepared.url, key, opts, cancel).await {
            o.request = Some(prepared.request_line.clone());
            return o;
        }
        let fallbacks = guide.languages.clone();
        let proxy = self.proxy_var(&prepared.url);
        let expect = Expect {
            status: &req.expect_status,
            rules: &req.rules,
            keep: &req.keep,
            success: req.success.as_ref(),
            lang: opts.lang.as_deref().unwrap_or(self.inner.deps.lang.as_str()),
            fallbacks: &fallbacks,
            carrier: guide.carrier.as_deref(),
            proxy: proxy.as_deref(),
        };
        let mut out = self.inner.http.run(&prepared, &expect, timeout, self.inner.deps.clock.as_ref(), cancel).await;
        if uses_key(req) && key.is_some() {
            let url = &prepared.url;
            out.key_sent_to =
                Some(format!("{}:{}", url.host_str().unwrap_or(""), url.port_or_known_default().unwrap_or(0)));
        }
        // The server's own word on waiting binds every later call with this
        // key, from every process sharing the budget; a 429 without one
        // counts the window as full.
        let bucket = budget_bucket(&prepared.url, key);
        // A budget that cannot be shared with the others on this state is
        // said with the result, not only in the log.
        if self.per_minute(guide, env).is_some()
            && let Some(problem) = self.inner.deps.rate_limiter.sharing_problem()
        {
            out.details.push(format!("call budget not shared with others on this state: {problem}"));
        }
        match (out.http_status, out.retry_after) {
            (_, Some(secs)) if secs > 0 => self.inner.deps.rate_limiter.hold(&bucket, secs),
            (Some(429), _) => self.inner.deps.rate_limiter.exhaust(&bucket, self.per_minute(guide, env).unwrap_or(0)),
            _ => {}
        }
        out
    }

    /// The proxy variable that applies to `url`, if one is set (loopback
    /// never goes through a proxy).
    fn proxy_var(&self, url: &Url) -> Option<String> {
        if http::is_loopback_host(url.host_str().unwrap_or("")) {
            return None;
        }
        let names: &[&str] = if url.scheme() == "https" {
            &["HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy"]
        } else {
            &["HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy"]
        };
        names
            .iter()
            .find(|n| (self.inner.deps.env_vars)(n).is_some_and(|v| !v.trim().is_empty()))
            .map(|n| n.to_string())
    }

    /// The key check's own request answered 404/410: its API may be
    /// retired. Tries the check's read-only fallbacks in order; the first
    /// that passes or fails decides, and its message names the call.
    #[allow(clippy::too_many_arguments)]
    async fn fall_back(
        &self,
        guide: &Guide,
        env: &str,
        base: &str,
        spec: &CheckSpec,
        first: Outcome,
        key: Option<&ApiKey>,
        opts: &RunOptions,
        cancel: &CancellationToken,
    ) -> Outcome {
        let lang = opts.lang.as_deref().unwrap_or(self.inner.deps.lang.as_str());
        let first_status = first.http_status.map(|s| s.to_string()).unwrap_or_default();
        let first_call = first.request.clone().unwrap_or_default();
        let mut details = vec![format!("{first_call} -> {first_status}: {}", first.message)];
        let mut last: Option<(String, Outcome)> = None;
        for fb in &spec.fallback {
            let req = fb.request();
            let read_only =
                req.method.as_deref().is_none_or(|m| m.eq_ignore_ascii_case("GET") || m.eq_ignore_ascii_case("HEAD"));
            if !read_only {
                continue;
            }
            let label = sanitize::line(fb.label.get(lang, &guide.languages));
            let o = self.one_request(guide, env, base, &req, key, self.timeout(spec), opts, cancel).await;
            let call = o.request.clone().unwrap_or_default();
            let status = o.http_status.map(|s| format!(" -> {s}")).unwrap_or_default();
            details.push(format!("{call}{status}: {}", o.message));
            match o.verdict {
                Some(Verdict::Pass) => {
                    return Outcome {
                        message: format!(
                            "key proved by {label} ({call}): {}; the first call answered {first_status} (its API may be retired)",
                            o.message.trim_end_matches('.')
                        ),
                        details,
                        ..o
                    };
                }
                Some(Verdict::Fail) => {
                    return Outcome {
                        message: format!("{label} ({call}) refused the key: {}", o.message),
                        details,
                        ..o
                    };
                }
                _ if cancel.is_cancelled() => return outcome(Verdict::Indeterminate, "cancelled", None),
                _ => last = Some((label, o)),
            }
        }
        // No fallback concluded: say what the last one found, and its next
        // step when it has one.
        let (message, hint) = match last {
            Some((label, o)) => (
                format!("{}; then {label}: {}", first.message.trim_end_matches('.'), o.message),
                // Both next steps: the first call's (its path is gone) and
                // what the fallback found.
                match (first.hint.clone(), o.hint) {
                    (Some(a), Some(b)) if a != b => Some(format!("{a} {b}")),
                    (a, b) => a.or(b),
                },
            ),
            None => (format!("{}; no fallback call concluded either", first.message), first.hint.clone()),
        };
        Outcome { message, hint, details, ..first }
    }

    async fn probes(
        &self,
        guide: &Guide,
        spec: &CheckSpec,
        env: &str,
        opts: &RunOptions,
        cancel: &CancellationToken,
    ) -> Outcome {
        let gid = guide.id();
        let probes = self.selected_probes(guide, spec);
        if probes.is_empty() {
            return outcome(
                Verdict::Skipped,
                "no probe for the API groups in config.toml",
                Some(format!("[guides.{gid}] api_groups lists the groups to probe.")),
            );
        }
        let key = self.key(guide, env);
        if probes.iter().any(|p| uses_key(&p.request())) && key.is_none() {
            return self.no_key(guide, env, Verdict::Error);
        }
        let Some(base) = self.base_url(guide, env) else {
            return outcome(Verdict::Error, format!("guide {gid} has no environment {env:?}"), None);
        };
        let may_write = opts.allow_writes;
        let width = probes.iter().map(|p| p.group.chars().count()).max().unwrap_or(0) + 2;
        let mut rows = Vec::new();
        let mut worst: Option<Outcome> = None;
        let (mut ran, mut passed) = (0usize, 0usize);
        let mut not_enabled: Vec<String> = Vec::new();
        let mut unknown: Vec<String> = Vec::new();
        let mut errors: Vec<String> = Vec::new();
        for p in probes {
            let group = sanitize::line(&p.group);
            let pad = " ".repeat(width.saturating_sub(group.chars().count()));
            if probe_writes(p, env) && !may_write {
                rows.push(format!("{group}{pad}skipped (creates data)"));
                continue;
            }
            let o =
                self.one_request(guide, env, &base, &p.request(), key.as_ref(), self.timeout(spec), opts, cancel).await;
            ran += 1;
            let v = o.verdict.unwrap_or(Verdict::Error);
            let status = o.http_status.map(|s| format!(" ({s})")).unwrap_or_default();
            let cell = match v {
                Verdict::Pass => format!("enabled{status}"),
                Verdict::Fail => format!("not enabled{status}"),
                Verdict::Indeterminate => format!("could not tell{status}: {}", o.message),
                Verdict::Error => format!("error: {}", o.message),
                Verdict::Skipped => format!("skipped: {}", o.message),
            };
            rows.push(format!("{group}{pad}{cell}"));
            match v {
                Verdict::Pass => passed += 1,
                Verdict::Fail => not_enabled.push(group.clone()),
                Verdict::Error => errors.push(group.clone()),
                Verdict::Indeterminate | Verdict::Skipped => unknown.push(group.clone()),
            }
            if worst.as_ref().is_none_or(|w| v.rank() > w.verdict.unwrap_or(Verdict::Error).rank()) {
                worst = Some(o);
            }
            if cancel.is_cancelled() {
                return outcome(Verdict::Indeterminate, "cancelled", None);
            }
        }
        if ran == 0 {
            return Outcome {
                verdict: Some(Verdict::Skipped),
                message: SKIP_WRITES.into(),
                details: rows,
                ..Outcome::default()
            };
        }
        let worst = worst.unwrap_or_default();
        let verdict = if passed == ran { Verdict::Pass } else { worst.verdict.unwrap_or(Verdict::Error) };
        // The summary says of each group what its row says.
        let mut message = format!("{passed} of {ran} API groups enabled");
        for (what, groups) in [("not enabled", &not_enabled), ("could not tell", &unknown), ("check error", &errors)] {
            if !groups.is_empty() {
                message.push_str(&format!("; {what}: {}", groups.join(", ")));
            }
        }
        Outcome {
            verdict: Some(verdict),
            message,
            hint: if verdict == Verdict::Pass { None } else { worst.hint },
            retry_after: worst.retry_after,
            trace_id: worst.trace_id,
            details: rows,
            ..Outcome::default()
        }
    }
}

/// The call budget a request spends: its host and the key's fingerprint
/// (never the key).
fn budget_bucket(url: &Url, key: Option<&ApiKey>) -> String {
    let host = format!("{}:{}", url.host_str().unwrap_or(""), url.port_or_known_default().unwrap_or(0));
    format!("{host}/{}", key.map(SecretStore::fingerprint).unwrap_or_else(|| "no-key".into()))
}

fn probe_writes(p: &Probe, env: &str) -> bool {
    let m = p.method.as_deref().unwrap_or("GET");
    !(m.eq_ignore_ascii_case("GET") || m.eq_ignore_ascii_case("HEAD")) || p.writes_in.iter().any(|e| e == env)
}

/// The one environment every environment-bound check of `s` names, if they
/// agree and at least one names exactly one.
fn bound_env(s: &Step) -> Option<String> {
    let mut found: Option<&str> = None;
    for c in &s.checks {
        let e = match c.envs.as_slice() {
            [] => continue,
            [only] => only.get_ref().as_str(),
            _ => return None,
        };
        match found {
            None => found = Some(e),
            Some(f) if f == e => {}
            Some(_) => return None,
        }
    }
    found.map(str::to_string)
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

fn truncate_bytes(s: &str, max: usize) -> String {
    if s.len() <= max {
        return s.to_string();
    }
    let mut cut = max.saturating_sub("…".len());
    while !s.is_char_boundary(cut) {
        cut -= 1;
    }
    format!("{}…", &s[..cut])
}
