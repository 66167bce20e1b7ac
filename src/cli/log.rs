//! `cutover log GUIDE [--json]`: who changed what, when.

use super::common::{find_guide, open_store};
use super::{Env, Global, exit};
use clap::Args;
use serde_json::json;
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

impl Log {
    pub fn run(&self, env: &Env, g: &Global, out: &mut dyn Write, err: &mut dyn Write) -> i32 {
        log(env, g, &self.guide, self.json, out, err)
    }
}

/// `cutover log <guide>`: every event of a guide, archived ones included,
/// oldest first.
fn log(env: &Env, g: &Global, guide: &str, json_out: bool, out: &mut dyn Write, err: &mut dyn Write) -> i32 {
    let catalog = env.catalog();
    if let Err(code) = find_guide(&catalog, guide, err) {
        return code;
    }
    let (store, _) = match open_store(env, g, err) {
        Ok(x) => x,
        Err(code) => return code,
    };
    let mut events = match store.all_events() {
        Ok(e) => e,
        Err(e) => {
            let _ = writeln!(err, "cutover: cannot read the event log: {e}");
            return exit::STATE;
        }
    };
    events.retain(|e| e.guide == guide);
    // Who joined `cutover serve` on this state, and how they left: the
    // server log, never the state.
    let served = crate::serve::log::read(&crate::serve::state_dir(&env.paths.data_dir.join("serve"), store.path()));
    // What each note said before a change, from the note history.
    let history = crate::progress::notes::read(store.path()).unwrap_or_else(|e| {
        let _ = writeln!(err, "cutover: warning: earlier note texts not shown: {e}");
        Vec::new()
    });
    let mut used = Vec::new();
    let before: Vec<Option<&str>> =
        events.iter().map(|e| crate::progress::notes::before_of(&history, &mut used, e)).collect();
    if json_out {
        // Every check run in full, from the check archive.
        let checks: Vec<serde_json::Value> = store
            .archived_checks()
            .unwrap_or_default()
            .into_iter()
            .filter(|a| a.guide == guide)
            .map(|a| json!({"step": a.step, "record": a.record}))
            .collect();
        let list: Vec<serde_json::Value> = events
            .iter()
            .zip(&before)
            .map(|(e, before)| {
                let mut v = json!({"at": e.at.to_string(), "by": e.by, "guide": e.guide, "step": e.step, "what": e.what, "detail": e.detail});
                if let Some(b) = before {
                    v["before"] = json!(b);
                }
                v
            })
            .collect();
        let _ = writeln!(
            out,
            "{}",
            serde_json::to_string_pretty(&json!({"guide": guide, "events": list, "checks": checks, "serve": served}))
                .unwrap_or_default()
        );
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
    exit::OK
}
