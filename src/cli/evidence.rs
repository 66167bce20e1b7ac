//! `cutover evidence add GUIDE STEP FILE...` and `cutover evidence list GUIDE`.

use super::common::{find_guide, find_step, known_secrets, print_json};
use super::exit::{CliError, CliResult, Exit};
use super::{Env, Global};
use clap::{Args, Subcommand};
use serde::Serialize;
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

/// `cutover evidence list GUIDE --json` (docs/json.md).
#[derive(Serialize)]
struct ListJson<'a> {
    guide: &'a str,
    evidence: Vec<AttachmentJson<'a>>,
}

#[derive(Serialize)]
struct AttachmentJson<'a> {
    guide: &'a str,
    step: &'a str,
    name: &'a str,
    at: String,
    by: &'a str,
    bytes: usize,
    truncated: bool,
}

impl Evidence {
    pub fn run(&self, env: &Env, g: &Global, out: &mut dyn Write, err: &mut dyn Write) -> CliResult {
        evidence(env, g, &self.action, out, err)
    }
}

fn evidence(env: &Env, g: &Global, action: &EvidenceAction, out: &mut dyn Write, err: &mut dyn Write) -> CliResult {
    let catalog = env.catalog();
    let state = env.state_path(g);
    match action {
        EvidenceAction::Add { guide, step, files } => {
            if g.observe {
                return Err(CliError::usage("read-only (--observe): nothing was attached"));
            }
            let lg = find_guide(&catalog, guide)?;
            let step = find_step(&lg.guide, step)?.id();
            if files.is_empty() {
                return Err(CliError::usage("name at least one file"));
            }
            let secrets = known_secrets(env, &catalog);
            if let Some(why) = secrets.guard_broken() {
                return Err(CliError::state(format!("nothing attached: cutover cannot mask every key ({why})")));
            }
            let by = env.user(g);
            let mut result = Ok(());
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
                        result = Err(CliError::said(Exit::Fail));
                    }
                }
            }
            result
        }
        EvidenceAction::List { guide, json } => {
            find_guide(&catalog, guide)?;
            let list = crate::progress::evidence::list(&state, guide).map_err(CliError::state)?;
            if *json {
                let evidence = list
                    .iter()
                    .map(|a| AttachmentJson {
                        guide,
                        step: &a.step,
                        name: &a.name,
                        at: a.added_at.to_string(),
                        by: &a.added_by,
                        bytes: a.content.len(),
                        truncated: a.truncated,
                    })
                    .collect();
                print_json(out, &ListJson { guide, evidence });
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
            Ok(())
        }
    }
}
