//! `cutover guides [--json]` and `cutover guides validate FILE...`.

use super::{Env, exit};
use crate::guide::GuideSource;
use clap::{Args, Subcommand};
use serde_json::json;
use std::io::Write;
use std::path::PathBuf;

#[derive(Debug, Args)]
pub struct Guides {
    #[command(subcommand)]
    pub action: Option<GuidesAction>,
    /// JSON on standard output (docs/json.md).
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Subcommand)]
pub enum GuidesAction {
    /// Check a guide file: every problem with file:line:col; exit 1 if any.
    Validate {
        /// Guide files (TOML, docs/guide-format.md).
        #[arg(value_name = "FILE", required = true, value_hint = clap::ValueHint::FilePath)]
        files: Vec<PathBuf>,
    },
}

impl Guides {
    pub fn run(&self, env: &Env, out: &mut dyn Write, err: &mut dyn Write) -> i32 {
        guides(env, self.action.as_ref(), self.json, out, err)
    }
}

fn guides(env: &Env, action: Option<&GuidesAction>, json_out: bool, out: &mut dyn Write, err: &mut dyn Write) -> i32 {
    match action {
        Some(GuidesAction::Validate { files }) => {
            if files.is_empty() {
                let _ = writeln!(err, "cutover: name at least one guide file");
                return exit::USAGE;
            }
            let mut bad = 0;
            for f in files {
                let shown = f.display().to_string();
                match crate::guide::catalog::read_guide_file_with_warnings(f) {
                    Ok((gd, warnings)) => {
                        for w in warnings {
                            let _ = writeln!(out, "{}:{}:{}: warning: {}", w.file, w.line, w.col, w.message);
                        }
                        let _ = writeln!(
                            out,
                            "{shown}: ok ({} \"{}\", {} steps)",
                            gd.id(),
                            gd.title.get("en", &gd.languages),
                            gd.steps.len()
                        );
                    }
                    Err(errors) => {
                        bad += 1;
                        for e in errors {
                            let _ = writeln!(out, "{e}");
                        }
                    }
                }
            }
            if bad > 0 { exit::FAIL } else { exit::OK }
        }
        None => {
            let catalog = env.catalog();
            if json_out {
                let list: Vec<serde_json::Value> = catalog
                    .guides
                    .iter()
                    .map(|l| json!({"id": l.guide.id(), "title": l.guide.title.get("en", &l.guide.languages), "version": l.guide.version, "languages": l.guide.languages, "source": l.source.describe(), "overrides_built_in": l.overrides_built_in, "steps": l.guide.steps.len()}))
                    .collect();
                let errors: Vec<String> = catalog.errors.iter().map(|e| e.to_string()).collect();
                let _ = writeln!(
                    out,
                    "{}",
                    serde_json::to_string_pretty(&json!({"guides": list, "errors": errors})).unwrap_or_default()
                );
            } else {
                let title_w = catalog
                    .guides
                    .iter()
                    .map(|l| l.guide.title.get("en", &l.guide.languages).chars().count())
                    .max()
                    .unwrap_or(0);
                for l in &catalog.guides {
                    let src = match &l.source {
                        GuideSource::BuiltIn => "built-in".to_string(),
                        GuideSource::File(p) => format!(
                            "{}{}",
                            p.display(),
                            if l.overrides_built_in { " (overrides the built-in)" } else { "" }
                        ),
                    };
                    let _ = writeln!(
                        out,
                        "{:<10} {:<title_w$} {:<8} {}",
                        l.guide.id(),
                        l.guide.title.get("en", &l.guide.languages),
                        l.guide.languages.join(","),
                        src
                    );
                }
                for e in &catalog.errors {
                    let _ = writeln!(err, "skipped: {e}");
                }
            }
            if catalog.errors.is_empty() { exit::OK } else { exit::FAIL }
        }
    }
}
