//! One run of a step's checks, decided once: which environment the checks
//! go to and with which options. The checklist and `cutover check` build a
//! [`CheckRequest`]; the runner, the copy-as-curl command and the screen
//! read it and never decide the environment again.

use super::{Guide, Step};
use std::sync::Arc;

/// How one run of a step's checks goes.
#[derive(Debug, Default, Clone, PartialEq)]
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

/// A step's checks to run: the guide itself, the step, the environment
/// they go to ([`Step::check_env`], decided when the request is made) and
/// the options. `run_id` tells this run's result from a stale one.
#[derive(Debug, Clone)]
pub struct CheckRequest {
    pub run_id: u64,
    pub guide: Arc<Guide>,
    pub step: String,
    pub env: String,
    pub opts: RunOptions,
}

/// Two requests are the same when they ask the same of the same guide
/// (its id and version; the guide is shared, not compared field by field).
impl PartialEq for CheckRequest {
    fn eq(&self, other: &CheckRequest) -> bool {
        self.run_id == other.run_id
            && (Arc::ptr_eq(&self.guide, &other.guide)
                || (self.guide.id() == other.guide.id() && self.guide.version == other.guide.version))
            && self.step == other.step
            && self.env == other.env
            && self.opts == other.opts
    }
}

impl CheckRequest {
    /// The request for `step` of `guide` while `active` is the environment
    /// chosen (the checklist's `E`, `--env`, or the guide's default).
    pub fn new(run_id: u64, guide: Arc<Guide>, step: &Step, active: &str, opts: RunOptions) -> CheckRequest {
        let env = step.check_env(active).to_string();
        CheckRequest { run_id, step: step.id().to_string(), guide, env, opts }
    }

    /// The step asked for (None if the guide no longer has it).
    pub fn step(&self) -> Option<&Step> {
        self.guide.item(&self.step)
    }
}

/// A run waiting for its call budget before its next call ("run all"
/// waits instead of giving up): what the runner reports while it waits.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct BudgetWait {
    /// When the next call is possible, by the runner's (injected) clock.
    pub until: jiff::Timestamp,
    /// The environment whose budget is spent.
    pub env: String,
    /// Its calls a minute; None when a server asked for the pause
    /// (Retry-After).
    pub per_minute: Option<u32>,
}

impl BudgetWait {
    /// Whole seconds left at `now` (a started second counts), 0 once over.
    pub fn secs_left(&self, now: jiff::Timestamp) -> i64 {
        let ms = self.until.as_millisecond() - now.as_millisecond();
        if ms <= 0 { 0 } else { (ms + 999) / 1000 }
    }

    /// Why it waits: "sandbox allows 15 calls a minute", "the server asked
    /// for a pause".
    pub fn why(&self) -> String {
        match self.per_minute {
            Some(n) => format!("{} allows {n} calls a minute", crate::sanitize::line(&self.env)),
            None => "the server asked for a pause".to_string(),
        }
    }
}

impl Step {
    /// The environment this step's checks run in. The one rule: a step
    /// whose environment-bound checks (`envs = [...]`) together name
    /// exactly one environment runs in that one, whatever is active;
    /// any other step (no bound check, or bound checks that name more
    /// than one environment between them) runs in the active one, and its
    /// checks bound elsewhere are skipped as "not for env X".
    pub fn check_env<'a>(&'a self, active: &'a str) -> &'a str {
        let mut named: Option<&str> = None;
        for e in self.checks.iter().flat_map(|c| c.envs.iter()).map(|e| e.get_ref().as_str()) {
            match named {
                None => named = Some(e),
                Some(n) if n == e => {}
                Some(_) => return active,
            }
        }
        named.unwrap_or(active)
    }
}

impl Guide {
    /// The environment a guide starts in: its first sandbox, else its
    /// first environment ("" for a guide without any).
    pub fn default_env(&self) -> &str {
        self.environments
            .iter()
            .find(|(_, e)| e.sandbox)
            .or_else(|| self.environments.iter().next())
            .map(|(n, _)| n.as_str())
            .unwrap_or("")
    }
}

#[cfg(test)]
mod tests {
    use crate::guide::{Guide, parse_guide};

    fn guide(steps: &str) -> Guide {
        let text = format!(
            r#"
schema = 1
id = "g"
version = "1"
title = {{ en = "G" }}
languages = ["en"]

[environments.sandbox]
base_url = "https://sandbox.example"
sandbox = true

[environments.production]
base_url = "https://api.example"

{steps}
"#
        );
        match parse_guide(&text, "g.toml") {
            Ok(g) => g,
            Err(e) => panic!("test guide does not parse: {e:?}"),
        }
    }

    fn env_of(g: &Guide, step: &str, active: &str) -> String {
        match g.item(step) {
            Some(s) => s.check_env(active).to_string(),
            None => panic!("no step {step}"),
        }
    }

    const STEPS: &str = r#"
[[steps]]
id = "free"
title = { en = "Free" }
[[steps.checks]]
kind = "http"
path = "/a"

[[steps]]
id = "prod-only"
title = { en = "Production only" }
[[steps.checks]]
kind = "http"
path = "/a"
envs = ["production"]
[[steps.checks]]
kind = "http"
path = "/b"

[[steps]]
id = "both-bound"
title = { en = "Bound to both" }
[[steps.checks]]
kind = "http"
path = "/a"
envs = ["sandbox", "production"]

[[steps]]
id = "split"
title = { en = "One check each" }
[[steps.checks]]
kind = "http"
path = "/a"
envs = ["sandbox"]
[[steps.checks]]
kind = "http"
path = "/b"
envs = ["production"]

[[steps]]
id = "named-twice"
title = { en = "Production named twice" }
[[steps.checks]]
kind = "http"
path = "/a"
envs = ["production", "production"]

[[steps]]
id = "agree"
title = { en = "Two checks, one environment" }
[[steps.checks]]
kind = "http"
path = "/a"
envs = ["production"]
[[steps.checks]]
kind = "http"
path = "/b"
envs = ["production"]
"#;

    #[test]
    fn a_step_bound_to_one_environment_runs_there_whatever_is_active() {
        let g = guide(STEPS);
        for active in ["sandbox", "production"] {
            assert_eq!(env_of(&g, "prod-only", active), "production");
            assert_eq!(env_of(&g, "agree", active), "production");
        }
    }

    #[test]
    fn any_other_step_follows_the_active_environment() {
        let g = guide(STEPS);
        for active in ["sandbox", "production"] {
            assert_eq!(env_of(&g, "free", active), active);
            assert_eq!(env_of(&g, "both-bound", active), active);
            assert_eq!(env_of(&g, "split", active), active);
        }
    }

    /// Where the two old rules differed: the checklist took the set of
    /// environments named (one: production), the runner wanted every bound
    /// check to name exactly one (this one names two entries, so: the
    /// active one, and the check was skipped in the sandbox). The set wins.
    #[test]
    fn an_environment_named_twice_is_one_environment() {
        let g = guide(STEPS);
        assert_eq!(env_of(&g, "named-twice", "sandbox"), "production");
    }

    #[test]
    fn a_request_carries_the_environment_decided_once() {
        let g = std::sync::Arc::new(guide(STEPS));
        let Some(step) = g.item("prod-only") else { panic!("no step") };
        let req = super::CheckRequest::new(7, g.clone(), step, "sandbox", Default::default());
        assert_eq!((req.run_id, req.step.as_str(), req.env.as_str()), (7, "prod-only", "production"));
        assert_eq!(req.step().map(|s| s.id()), Some("prod-only"));
    }

    #[test]
    fn a_guide_starts_in_its_first_sandbox() {
        assert_eq!(guide(STEPS).default_env(), "sandbox");
        let no_sandbox = guide(STEPS).environments.into_iter().filter(|(n, _)| n != "sandbox").collect();
        let g = Guide { environments: no_sandbox, ..guide(STEPS) };
        assert_eq!(g.default_env(), "production");
    }
}
