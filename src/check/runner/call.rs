//! One check run: the key for its environment, the call budget, the
//! request (or the command, the reachability probe, the offline check) and
//! its verdict.

use super::{Runner, outcome, truncate_bytes};
use crate::check::Outcome;
use crate::check::classify::Expect;
use crate::check::http::{self, KEY_PLACEHOLDER};
use crate::check::reach;
use crate::check::secret::{ApiKey, SecretStore, env_var_names};
use crate::check::{command, offline};
use crate::guide::{BudgetWait, CheckKind, CheckSpec, Guide, RequestSpec, RunOptions, Step};
use crate::progress::Verdict;
use crate::sanitize;
use reqwest::Url;
use std::time::Duration;
use tokio_util::sync::CancellationToken;

impl Runner {
    /// "no key for postnl sandbox: set POSTNL_SANDBOX_API_KEY, ..."; a guide
    /// with a single environment names the short variable (POSTI_API_KEY).
    pub(super) fn no_key(&self, guide: &Guide, env: &str, verdict: Verdict) -> Outcome {
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

    pub(super) fn timeout(&self, spec: &CheckSpec) -> Duration {
        Duration::from_secs(spec.timeout_secs.unwrap_or(self.inner.deps.config.checks.timeout_secs).max(1))
    }

    pub(super) fn per_minute(&self, guide: &Guide, env: &str) -> Option<u32> {
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
    pub(super) async fn take_budget(
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
        // The wait last reported, so that the screen hears of a change only.
        let mut reported: Option<BudgetWait> = None;
        let result = loop {
            match self.inner.deps.rate_limiter.try_acquire(&bucket, per_minute) {
                Ok(()) => break Ok(()),
                Err(wait) => {
                    let secs = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
                    // "Run all" waits out the sandbox's window, not a long
                    // hold a server asked for.
                    if !opts.run_all || wait > Duration::from_secs(65) {
                        break Err(Outcome {
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
                    if let Some(report) = &self.waits {
                        let at = self.inner.deps.clock.now();
                        let ms = i64::try_from(wait.as_millis()).unwrap_or(i64::MAX);
                        let until = at.checked_add(jiff::SignedDuration::from_millis(ms)).unwrap_or(at);
                        // Looked at again every second: said again only
                        // when the end moved by a second or more.
                        let moved = reported
                            .as_ref()
                            .is_none_or(|r| (r.until.as_millisecond() - until.as_millisecond()).abs() >= 1000);
                        if moved {
                            let held = self.inner.deps.rate_limiter.is_held(&bucket);
                            let wait = BudgetWait {
                                until,
                                env: env.to_string(),
                                per_minute: (per_minute > 0 && !held).then_some(per_minute),
                            };
                            report(Some(wait.clone()));
                            reported = Some(wait);
                        }
                    }
                    // Look again at least every second: another process may
                    // free the budget, or the clock may be moved (tests).
                    tokio::select! {
                        _ = cancel.cancelled() => break Err(outcome(Verdict::Indeterminate, "cancelled", None)),
                        _ = tokio::time::sleep(wait.clamp(Duration::from_millis(50), Duration::from_secs(1))) => {}
                    }
                }
            }
        };
        if reported.is_some()
            && let Some(report) = &self.waits
        {
            report(None);
        }
        result
    }

    #[allow(clippy::too_many_arguments)]
    pub(super) async fn run_check(
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
    pub(super) async fn one_request(
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
    pub(super) fn proxy_var(&self, url: &Url) -> Option<String> {
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
}

/// The call budget a request spends: its host and the key's fingerprint
/// (never the key).
fn budget_bucket(url: &Url, key: Option<&ApiKey>) -> String {
    let host = format!("{}:{}", url.host_str().unwrap_or(""), url.port_or_known_default().unwrap_or(0));
    format!("{host}/{}", key.map(SecretStore::fingerprint).unwrap_or_else(|| "no-key".into()))
}

pub(super) fn uses_key(r: &RequestSpec) -> bool {
    r.headers.values().any(|v| v.contains(KEY_PLACEHOLDER))
}
