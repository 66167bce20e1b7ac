//! `cutover mark GUIDE STEP STATUS [--note TEXT]`.

use super::common::{explain_unreadable, find_guide, find_step, known_secrets, prepare_store};
use super::exit::{CliError, CliResult};
use super::{Env, Global};
use crate::progress::store::StoreError;
use crate::progress::{Op, Status};
use clap::Args;
use std::io::Write;

/// The statuses `mark` takes (in-progress is the same as in_progress).
pub const STATUSES: [&str; 6] = ["todo", "in_progress", "in-progress", "done", "blocked", "skipped"];

#[derive(Debug, Args)]
pub struct Mark {
    /// The guide: its id (postnl, posti, or one of your own in the guides folder; `cutover guides` lists them).
    #[arg(value_name = "GUIDE")]
    pub guide: String,
    /// The step: its number (3) or its id (create-password).
    #[arg(value_name = "STEP")]
    pub step: String,
    /// The new status.
    #[arg(value_name = "STATUS", value_parser = STATUSES)]
    pub status: String,
    /// Also set the step's note.
    #[arg(long)]
    pub note: Option<String>,
}

impl Mark {
    pub fn run(&self, env: &Env, g: &Global, out: &mut dyn Write, err: &mut dyn Write) -> CliResult {
        mark(env, g, &self.guide, &self.step, &self.status, self.note.as_deref(), out, err)
    }
}

#[allow(clippy::too_many_arguments)] // the command's arguments, as the CLI gives them
fn mark(
    env: &Env,
    g: &Global,
    guide: &str,
    step: &str,
    status: &str,
    note: Option<&str>,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> CliResult {
    if g.observe {
        return Err(CliError::usage("read-only (--observe): nothing was changed"));
    }
    let catalog = env.catalog();
    let lg = find_guide(&catalog, guide)?;
    let gd = &lg.guide;
    let st = find_step(gd, step)?;
    let step = st.id();
    let status: Status = status.parse().map_err(CliError::usage)?;
    // The state is read once, by the save itself, under its lock.
    let store = prepare_store(env, g, err)?;
    let warn_requires = |progress: &crate::progress::Progress, err: &mut dyn Write| {
        if status != Status::Done {
            return;
        }
        let prefs = env.lang_pref(g);
        let lang = gd.pick_language(&prefs.iter().map(String::as_str).collect::<Vec<_>>());
        let title = |s: &crate::guide::Step| crate::sanitize::line(s.title.get(&lang, &gd.languages));
        let missing: Vec<String> = st
            .requires
            .iter()
            .map(|r| r.get_ref().as_str())
            .filter(|r| !progress.status(guide, r).is_closed())
            .map(|r| gd.item(r).map(title).unwrap_or_else(|| r.to_string()))
            .collect();
        if !missing.is_empty() {
            let _ = writeln!(
                err,
                "cutover: warning: \"{}\" needs \"{}\" first (marked anyway)",
                title(st),
                missing.join("\", \"")
            );
        }
    };
    if let Some(n) = note {
        let guard = known_secrets(env, &catalog);
        if let Some(why) = guard.guard_broken() {
            return Err(CliError::state(format!(
                "not saved: cutover cannot tell whether the note holds a key ({why})"
            )));
        }
        if guard.contains_secret(n) {
            return Err(CliError::usage("not saved: the note contains an API key; remove it first"));
        }
    }
    let mut ops =
        vec![Op::SetStatus { guide: guide.into(), step: step.into(), status, hash: Some(crate::guide::step_hash(st)) }];
    if let Some(n) = note {
        // No editor opened on an earlier text: the note given replaces
        // what is there (the text it replaces is kept in the note history
        // and `cutover log` shows it).
        ops.push(Op::SetNote { guide: guide.into(), step: step.into(), note: n.to_string(), base: None });
    }
    match store.apply_touched(&ops, &env.user(g), env.clock.now()) {
        Ok((progress, _)) => {
            warn_requires(&progress, err);
            let _ = writeln!(out, "{guide} {step}: {status}");
            Ok(())
        }
        Err(e @ (StoreError::Parse { .. } | StoreError::NewerSchema { .. })) => Err(explain_unreadable(&e, err)),
        Err(e) => Err(CliError::state(format!("not saved: {e}"))),
    }
}
