//! Pure planning: which of a step's checks run, and why the others do not
//! (manual without evidence, on request, creating data without consent,
//! bound to another environment).

use super::Runner;
use crate::guide::CheckRequest;
use crate::guide::{CheckKind, CheckSpec, Guide, Probe, RunOptions, Step};

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

impl Runner {
    /// Which of the request's checks would run now, and why the others
    /// would not.
    pub fn plan_request(&self, req: &CheckRequest) -> Vec<(usize, Planned)> {
        match req.step() {
            Some(s) => self.plan_in(&req.guide, s, &req.env, &req.opts),
            None => Vec::new(),
        }
    }

    /// [`Runner::plan_request`] for `step` of `guide` while `active` is the
    /// environment chosen (the step's own environment wins:
    /// [`Step::check_env`]).
    pub fn plan(&self, guide: &Guide, step: &str, active: &str, opts: &RunOptions) -> Vec<(usize, Planned)> {
        match guide.item(step) {
            Some(s) => self.plan_in(guide, s, s.check_env(active), opts),
            None => Vec::new(),
        }
    }

    /// The plan of `s`, its checks going to `env` (already decided).
    pub(super) fn plan_in(&self, guide: &Guide, s: &Step, env: &str, opts: &RunOptions) -> Vec<(usize, Planned)> {
        s.checks
            .iter()
            .enumerate()
            .filter(|(i, _)| opts.only.is_none_or(|o| o == *i))
            .map(|(i, c)| (i, self.plan_one(guide, c, env, opts, opts.only == Some(i))))
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

    pub(super) fn selected_probes<'a>(&self, guide: &Guide, c: &'a CheckSpec) -> Vec<&'a Probe> {
        let groups = self.inner.deps.config.guide(guide.id()).api_groups;
        c.probes
            .iter()
            .filter(|p| groups.is_empty() || groups.iter().any(|g| g.trim().eq_ignore_ascii_case(p.group.trim())))
            .collect()
    }
}

pub(super) fn probe_writes(p: &Probe, env: &str) -> bool {
    let m = p.method.as_deref().unwrap_or("GET");
    !(m.eq_ignore_ascii_case("GET") || m.eq_ignore_ascii_case("HEAD")) || p.writes_in.iter().any(|e| e == env)
}
