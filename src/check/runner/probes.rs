//! Probes (one call per API group) and a status lookup's read-only
//! fallback (Locations) when it answers 404/410.

use super::call::uses_key;
use super::plan::{SKIP_WRITES, probe_writes};
use super::{Runner, outcome};
use crate::check::Outcome;
use crate::check::secret::ApiKey;
use crate::guide::{CheckSpec, Guide, RunOptions};
use crate::progress::Verdict;
use crate::sanitize;
use tokio_util::sync::CancellationToken;

impl Runner {
    /// The key check's own request answered 404/410: its API may be
    /// retired. Tries the check's read-only fallbacks in order; the first
    /// that passes or fails decides, and its message names the call.
    #[allow(clippy::too_many_arguments)]
    pub(super) async fn fall_back(
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

    pub(super) async fn probes(
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
