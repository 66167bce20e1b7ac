//! `cutover status [GUIDE]`: progress of every guide, or one.

use super::common::{find_guide, open_store};
use super::{Env, Global, exit};
use clap::Args;
use serde_json::json;
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

impl Status {
    pub fn run(&self, env: &Env, g: &Global, out: &mut dyn Write, err: &mut dyn Write) -> i32 {
        status(env, g, self.guide.as_deref(), self.json, out, err)
    }
}

fn status(env: &Env, g: &Global, guide: Option<&str>, json_out: bool, out: &mut dyn Write, err: &mut dyn Write) -> i32 {
    let catalog = env.catalog();
    if let Some(id) = guide
        && let Err(code) = find_guide(&catalog, id, err)
    {
        return code;
    }
    let (_, progress) = match open_store(env, g, err) {
        Ok(x) => x,
        Err(code) => return code,
    };
    let wanted: Vec<&crate::guide::LoadedGuide> =
        catalog.guides.iter().filter(|l| guide.is_none_or(|id| l.guide.id() == id)).collect();
    let prefs = env.lang_pref(g);
    if json_out {
        let guides: Vec<serde_json::Value> = wanted
            .iter()
            .map(|l| {
                let gd = &l.guide;
                let lang = gd.pick_language(&prefs.iter().map(String::as_str).collect::<Vec<_>>());
                let steps: Vec<serde_json::Value> = gd
                    .all_items()
                    .map(|s| {
                        let r = progress.step(gd.id(), s.id()).cloned().unwrap_or_default();
                        json!({
                            "id": s.id(),
                            "number": s.number,
                            "title": s.title.get(&lang, &gd.languages),
                            "troubleshooting": gd.is_troubleshooting(s.id()),
                            "status": r.status.as_str(),
                            "note": r.note,
                            "by": r.by,
                            "at": r.at.map(|t| t.to_string()),
                            "verdict": r.verdict().map(|(v, _)| v.as_str()),
                        })
                    })
                    .collect();
                let (done, total) = progress.counts(gd.id(), gd.steps.iter().map(|s| s.id()));
                json!({"id": gd.id(), "title": gd.title.get(&lang, &gd.languages), "version": gd.version, "done": done, "total": total, "steps": steps})
            })
            .collect();
        let _ = writeln!(out, "{}", serde_json::to_string_pretty(&json!({ "guides": guides })).unwrap_or_default());
        return exit::OK;
    }
    for l in wanted {
        let gd = &l.guide;
        let lang = gd.pick_language(&prefs.iter().map(String::as_str).collect::<Vec<_>>());
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
    exit::OK
}
