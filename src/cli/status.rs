//! `cutover status [GUIDE]`: progress of every guide, or one.

use super::common::{find_guide, open_store, print_json};
use super::exit::CliResult;
use super::{Env, Global};
use clap::Args;
use serde::Serialize;
use std::io::Write;

#[derive(Debug, Args)]
pub struct Status {
    /// Only this guide (postnl, posti, or one of your own); default: every guide.
    #[arg(value_name = "GUIDE")]
    pub guide: Option<String>,
    /// JSON on standard output (docs/json.md).
    #[arg(long)]
    pub json: bool,
}

/// `cutover status --json` (docs/json.md). Fields in the order the JSON
/// has always had them (alphabetical).
#[derive(Serialize)]
struct StatusJson<'a> {
    guides: Vec<GuideJson<'a>>,
}

#[derive(Serialize)]
struct GuideJson<'a> {
    done: usize,
    id: &'a str,
    steps: Vec<StepJson<'a>>,
    title: &'a str,
    total: usize,
    version: &'a str,
}

#[derive(Serialize)]
struct StepJson<'a> {
    at: Option<String>,
    by: Option<String>,
    id: &'a str,
    note: String,
    number: Option<u32>,
    status: &'static str,
    title: &'a str,
    troubleshooting: bool,
    verdict: Option<&'static str>,
}

impl Status {
    pub fn run(&self, env: &Env, g: &Global, out: &mut dyn Write, err: &mut dyn Write) -> CliResult {
        let catalog = env.catalog();
        let guide = self.guide.as_deref();
        if let Some(id) = guide {
            find_guide(&catalog, id)?;
        }
        let (_, progress) = open_store(env, g, err)?;
        let wanted: Vec<&crate::guide::LoadedGuide> =
            catalog.guides.iter().filter(|l| guide.is_none_or(|id| l.guide.id() == id)).collect();
        let prefs = env.lang_pref(g);
        let prefs: Vec<&str> = prefs.iter().map(String::as_str).collect();
        if self.json {
            let langs: Vec<String> = wanted.iter().map(|l| l.guide.pick_language(&prefs)).collect();
            let guides = wanted
                .iter()
                .zip(&langs)
                .map(|(l, lang)| {
                    let gd = &l.guide;
                    let steps = gd
                        .all_items()
                        .map(|s| {
                            let r = progress.step(gd.id(), s.id()).cloned().unwrap_or_default();
                            StepJson {
                                at: r.at.map(|t| t.to_string()),
                                by: r.by.clone(),
                                id: s.id(),
                                note: r.note.clone(),
                                number: s.number,
                                status: r.status.as_str(),
                                title: s.title.get(lang, &gd.languages),
                                troubleshooting: gd.is_troubleshooting(s.id()),
                                verdict: r.verdict().map(|(v, _)| v.as_str()),
                            }
                        })
                        .collect();
                    let (done, total) = progress.counts(gd.id(), gd.steps.iter().map(|s| s.id()));
                    GuideJson {
                        done,
                        id: gd.id(),
                        steps,
                        title: gd.title.get(lang, &gd.languages),
                        total,
                        version: &gd.version,
                    }
                })
                .collect();
            print_json(out, &StatusJson { guides });
            return Ok(());
        }
        for l in wanted {
            let gd = &l.guide;
            let lang = gd.pick_language(&prefs);
            let (done, total) = progress.counts(gd.id(), gd.steps.iter().map(|s| s.id()));
            let _ = writeln!(out, "{} — {} ({done}/{total} done)", gd.id(), gd.title.get(&lang, &gd.languages));
            for s in gd.all_items() {
                let r = progress.step(gd.id(), s.id()).cloned().unwrap_or_default();
                let num = s.number.map(|n| format!("{n:>2}")).unwrap_or_else(|| " -".into());
                let who = match (&r.by, r.at) {
                    (Some(b), Some(at)) => format!("  ({} {})", crate::sanitize::line(b), at),
                    _ => String::new(),
                };
                let verdict = r.verdict().map(|(v, _)| format!("  [{v}]")).unwrap_or_default();
                let _ = writeln!(
                    out,
                    "  {num} {:<11} {:<26} {}{verdict}{who}",
                    r.status.as_str(),
                    s.id(),
                    s.title.get(&lang, &gd.languages)
                );
            }
        }
        Ok(())
    }
}
