//! `cutover guides [--json]` and `cutover guides validate FILE...`.

use super::Env;
use super::common::print_json;
use super::exit::{CliError, CliResult, Exit};
use crate::guide::GuideSource;
use clap::{Args, Subcommand};
use serde::Serialize;
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

/// `cutover guides --json` (docs/json.md), fields in the JSON's order.
#[derive(Serialize)]
struct GuidesJson<'a> {
    errors: Vec<String>,
    guides: Vec<GuideJson<'a>>,
}

#[derive(Serialize)]
struct GuideJson<'a> {
    id: &'a str,
    languages: &'a [String],
    overrides_built_in: bool,
    source: String,
    steps: usize,
    title: &'a str,
    version: &'a str,
}

impl Guides {
    pub fn run(&self, env: &Env, out: &mut dyn Write, err: &mut dyn Write) -> CliResult {
        guides(env, self.action.as_ref(), self.json, out, err)
    }
}

fn guides(
    env: &Env,
    action: Option<&GuidesAction>,
    json_out: bool,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> CliResult {
    match action {
        Some(GuidesAction::Validate { files }) => {
            if files.is_empty() {
                return Err(CliError::usage("name at least one guide file"));
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
            if bad > 0 { Err(CliError::said(Exit::Fail)) } else { Ok(()) }
        }
        None => {
            let catalog = env.catalog();
            if json_out {
                let guides = catalog
                    .guides
                    .iter()
                    .map(|l| GuideJson {
                        id: l.guide.id(),
                        languages: &l.guide.languages,
                        overrides_built_in: l.overrides_built_in,
                        source: l.source.describe(),
                        steps: l.guide.steps.len(),
                        title: l.guide.title.get("en", &l.guide.languages),
                        version: &l.guide.version,
                    })
                    .collect();
                let errors = catalog.errors.iter().map(|e| e.to_string()).collect();
                print_json(out, &GuidesJson { errors, guides });
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
            if catalog.errors.is_empty() { Ok(()) } else { Err(CliError::said(Exit::Fail)) }
        }
    }
}
