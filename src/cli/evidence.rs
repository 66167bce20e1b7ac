//! `cutover evidence add GUIDE STEP FILE...` and `cutover evidence list GUIDE`.

use super::common::{find_guide, find_step, known_secrets};
use super::{Env, Global, exit};
use clap::{Args, Subcommand};
use serde_json::json;
use std::io::Write;
use std::path::PathBuf;

#[derive(Debug, Args)]
pub struct Evidence {
    #[command(subcommand)]
    pub action: EvidenceAction,
}

#[derive(Debug, Subcommand)]
pub enum EvidenceAction {
    /// Attach files to a step.
    Add {
        /// The guide: its id (postnl, posti, or one of your own in the guides folder; `cutover guides` lists them).
        #[arg(value_name = "GUIDE")]
        guide: String,
        /// The step: its number (8) or its id (sandbox-integration).
        #[arg(value_name = "STEP")]
        step: String,
        /// The files to attach (request and response dumps, screenshots, logs).
        #[arg(value_name = "FILE", required = true, value_hint = clap::ValueHint::FilePath)]
        files: Vec<PathBuf>,
    },
    /// The files attached to a guide's steps.
    List {
        /// The guide: its id (postnl, posti, or one of your own in the guides folder; `cutover guides` lists them).
        #[arg(value_name = "GUIDE")]
        guide: String,
        /// JSON on standard output (docs/json.md).
        #[arg(long)]
        json: bool,
    },
}

impl Evidence {
    pub fn run(&self, env: &Env, g: &Global, out: &mut dyn Write, err: &mut dyn Write) -> i32 {
        evidence(env, g, &self.action, out, err)
    }
}

fn evidence(env: &Env, g: &Global, action: &EvidenceAction, out: &mut dyn Write, err: &mut dyn Write) -> i32 {
    let catalog = env.catalog();
    let state = env.state_path(g);
    match action {
        EvidenceAction::Add { guide, step, files } => {
            if g.observe {
                let _ = writeln!(err, "cutover: read-only (--observe): nothing was attached");
                return exit::USAGE;
            }
            let lg = match find_guide(&catalog, guide, err) {
                Ok(l) => l,
                Err(code) => return code,
            };
            let step = match find_step(&lg.guide, step, err) {
                Ok(s) => s.id(),
                Err(code) => return code,
            };
            if files.is_empty() {
                let _ = writeln!(err, "cutover: name at least one file");
                return exit::USAGE;
            }
            let secrets = known_secrets(env, &catalog);
            if let Some(why) = secrets.guard_broken() {
                let _ = writeln!(err, "cutover: nothing attached: cutover cannot mask every key ({why})");
                return exit::STATE;
            }
            let by = env.user(g);
            let mut code = exit::OK;
            for f in files {
                match crate::progress::evidence::add(&state, guide, step, f, &by, env.clock.now(), &|t: &str| {
                    secrets.redact(t)
                }) {
                    Ok(a) => {
                        let cut = if a.truncated { " (cut to the size limit)" } else { "" };
                        let _ = writeln!(out, "{guide} {step}: attached {}{cut}", crate::sanitize::line(&a.name));
                    }
                    Err(e) => {
                        let _ = writeln!(err, "cutover: {}: {e}", f.display());
                        code = exit::FAIL;
                    }
                }
            }
            code
        }
        EvidenceAction::List { guide, json } => {
            if let Err(code) = find_guide(&catalog, guide, err) {
                return code;
            }
            let list = match crate::progress::evidence::list(&state, guide) {
                Ok(l) => l,
                Err(e) => {
                    let _ = writeln!(err, "cutover: {e}");
                    return exit::STATE;
                }
            };
            if *json {
                let items: Vec<serde_json::Value> = list
                    .iter()
                    .map(|a| json!({"guide": guide, "step": a.step, "name": a.name, "at": a.added_at.to_string(), "by": a.added_by, "bytes": a.content.len(), "truncated": a.truncated}))
                    .collect();
                let _ = writeln!(
                    out,
                    "{}",
                    serde_json::to_string_pretty(&json!({"guide": guide, "evidence": items})).unwrap_or_default()
                );
            } else {
                for a in &list {
                    let _ = writeln!(
                        out,
                        "{:<24} {:<30} {} {}",
                        a.step,
                        crate::sanitize::line(&a.name),
                        a.added_at,
                        crate::sanitize::line(&a.added_by)
                    );
                }
            }
            exit::OK
        }
    }
}
