//! `cutover log GUIDE [--json]`: who changed what, when.

use super::common::{find_guide, open_store, print_json};
use super::exit::{CliError, CliResult};
use super::{Env, Global};
use crate::progress::{CheckRecord, Event};
use clap::Args;
use serde::Serialize;
use std::io::Write;

#[derive(Debug, Args)]
pub struct Log {
    /// The guide: its id (postnl, posti, or one of your own in the guides folder; `cutover guides` lists them).
    #[arg(value_name = "GUIDE")]
    pub guide: String,
    /// JSON on standard output (docs/json.md).
    #[arg(long)]
    pub json: bool,
}

/// `cutover log GUIDE --json` (docs/json.md).
#[derive(Serialize)]
struct LogJson<'a> {
    guide: &'a str,
    events: Vec<EventJson<'a>>,
    checks: Vec<CheckJson<'a>>,
    serve: &'a [crate::serve::log::Entry],
}

#[derive(Serialize)]
struct EventJson<'a> {
    at: String,
    by: &'a str,
    guide: &'a str,
    step: &'a str,
    what: &'a str,
    detail: &'a str,
    /// What the note said before this change (note events whose earlier
    /// text the note history keeps).
    #[serde(skip_serializing_if = "Option::is_none")]
    before: Option<&'a str>,
}

impl<'a> EventJson<'a> {
    fn of(e: &'a Event, before: Option<&'a str>) -> EventJson<'a> {
        EventJson {
            at: e.at.to_string(),
            by: &e.by,
            guide: &e.guide,
            step: &e.step,
            what: &e.what,
            detail: &e.detail,
            before,
        }
    }
}

/// A check run in full, from the check archive.
#[derive(Serialize)]
struct CheckJson<'a> {
    step: &'a str,
    record: &'a CheckRecord,
}

impl Log {
    pub fn run(&self, env: &Env, g: &Global, out: &mut dyn Write, err: &mut dyn Write) -> CliResult {
        log(env, g, &self.guide, self.json, out, err)
    }
}

/// `cutover log <guide>`: every event of a guide, archived ones included,
/// oldest first.
fn log(env: &Env, g: &Global, guide: &str, json_out: bool, out: &mut dyn Write, err: &mut dyn Write) -> CliResult {
    let catalog = env.catalog();
    find_guide(&catalog, guide)?;
    let (store, state) = open_store(env, g, err)?;
    // The archive's entries of other guides are skipped unread.
    let events =
        store.guide_events_of(&state, guide).map_err(|e| CliError::state(format!("cannot read the event log: {e}")))?;
    // Who joined `cutover serve` on this state, and how they left: the
    // server log, never the state.
    let served = crate::serve::log::read(&crate::serve::state_dir(&env.paths.data_dir.join("serve"), store.path()));
    // What each note said before a change, from the note history.
    let history = crate::progress::store::notes::read(store.path()).unwrap_or_else(|e| {
        let _ = writeln!(err, "cutover: warning: earlier note texts not shown: {e}");
        Vec::new()
    });
    let mut used = Vec::new();
    let before: Vec<Option<&str>> =
        events.iter().map(|e| crate::progress::store::notes::before_of(&history, &mut used, e)).collect();
    if json_out {
        // Every check run in full, from the check archive.
        let archived = store.guide_checks_of(Some(state), guide).unwrap_or_default();
        let checks = archived.iter().map(|a| CheckJson { step: &a.step, record: &a.record }).collect();
        let events = events.iter().zip(&before).map(|(e, before)| EventJson::of(e, *before)).collect();
        print_json(out, &LogJson { guide, events, checks, serve: &served });
    } else {
        let mut served = served.iter().peekable();
        for (e, before) in events.iter().zip(&before) {
            while let Some(s) = served.next_if(|s| s.at <= e.at) {
                let _ = writeln!(out, "{}  {}", s.at.strftime("%Y-%m-%d %H:%M:%S"), s.describe());
            }
            let line = format!(
                "{}  {:<12} {:<24} {:<7} {}",
                e.at.strftime("%Y-%m-%d %H:%M:%S"),
                e.by,
                e.step,
                e.what,
                e.detail
            );
            let _ = writeln!(out, "{}", crate::sanitize::line(&line));
            if let Some(b) = before {
                // One line per event: line breaks shown as ⏎.
                let shown = if b.is_empty() { "(empty)".to_string() } else { b.replace('\n', " ⏎ ") };
                let _ = writeln!(out, "{:<21}before: {}", "", crate::sanitize::line(&shown));
            }
        }
        for s in served {
            let _ = writeln!(out, "{}  {}", s.at.strftime("%Y-%m-%d %H:%M:%S"), s.describe());
        }
        if events.is_empty() {
            let _ = writeln!(out, "no events yet for {guide}");
        }
    }
    Ok(())
}
