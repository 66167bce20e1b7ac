//! `cutover check GUIDE [STEP...]`: runs the checks without the terminal,
//! saves the records, prints a table or JSON, and exits with the worst
//! verdict's code.

use super::common::print_json;
use super::common::{find_guide, find_step, open_store};
use super::exit::{CliError, CliResult, Exit};
use super::root::{load_config, real_runner};
use super::{Env, Global};
use crate::check::runner::{CheckRequest, RunOptions, Runner};
use crate::guide::Guide;
use crate::progress::store::Store;
use crate::progress::{CheckRecord, Op, Verdict};
use clap::Args;
use serde::Serialize;
use std::io::{IsTerminal, Write};
use std::path::Path;
use std::sync::Arc;
use tokio_util::sync::CancellationToken;

#[derive(Debug, Args)]
pub struct Check {
    /// The guide: its id (postnl, posti, or one of your own in the guides folder; `cutover guides` lists them).
    #[arg(value_name = "GUIDE")]
    pub guide: String,
    /// Only these steps, by number (5) or id (sandbox-api-key); named steps also run their on-request checks. Default: every step with checks.
    #[arg(value_name = "STEP")]
    pub steps: Vec<String>,
    /// The environment (sandbox or production for postnl; production for posti); default: the guide's sandbox.
    #[arg(long, value_name = "ENV")]
    pub env: Option<String>,
    /// JSON on standard output, one result per check (docs/json.md).
    #[arg(long)]
    pub json: bool,
    /// Allow checks that create data at the carrier.
    #[arg(long)]
    pub allow_writes: bool,
}

impl Check {
    pub async fn run(&self, env: &Env, g: &Global, out: &mut dyn Write, err: &mut dyn Write) -> CliResult {
        crate::logging::init(&env.paths.log_dir(), env.var("CUTOVER_LOG"));
        check_command(env, g, &self.guide, &self.steps, self.env.as_deref(), self.json, self.allow_writes, out, err)
            .await
    }
}

/// `cutover check <guide> [<step>...]`.
#[allow(clippy::too_many_arguments)]
async fn check_command(
    env: &Env,
    g: &Global,
    guide: &str,
    steps: &[String],
    env_name: Option<&str>,
    json_out: bool,
    allow_writes: bool,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> CliResult {
    if g.observe {
        return Err(CliError::usage("read-only (--observe): checks do not run"));
    }
    let catalog = env.catalog();
    let lg = find_guide(&catalog, guide)?;
    let gd = lg.guide.full().clone();
    // Steps by number or id, as everywhere on the command line.
    let mut ids: Vec<String> = Vec::with_capacity(steps.len());
    for s in steps {
        ids.push(find_step(&gd, s)?.id().to_string());
    }
    let steps = ids.as_slice();
    if let Some(e) = env_name
        && !gd.environments.contains_key(e)
    {
        let names: Vec<&str> = gd.environments.keys().map(String::as_str).collect();
        return Err(CliError::usage(format!("guide {guide} has no environment {e:?}; it has: {}", names.join(", "))));
    }
    let config = load_config(env, g.config.as_deref()).map_err(CliError::usage)?;
    let (store, _) = open_store(env, g, err)?;
    let prefs = env.lang_pref(g);
    let lang = gd.pick_language(&prefs.iter().map(String::as_str).collect::<Vec<_>>());
    let (runner, _) = real_runner(env, &catalog, config, &lang, store.path());
    // A guide of the user's own declares its own base URLs: say so.
    let own_file = match &lg.source {
        crate::guide::GuideSource::File(p) if !lg.overrides_built_in => Some(p.as_path()),
        _ => None,
    };
    run_and_report(env, g, &runner, &store, &gd, steps, env_name, json_out, allow_writes, own_file, out, err).await
}

#[allow(clippy::too_many_arguments)]
pub async fn run_and_report(
    env: &Env,
    g: &Global,
    runner: &Runner,
    store: &Store,
    gd: &Arc<Guide>,
    steps: &[String],
    env_name: Option<&str>,
    json_out: bool,
    allow_writes: bool,
    own_file: Option<&Path>,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> CliResult {
    let by = env.user(g);
    let lang_pref = env.lang_pref(g).into_iter().next().unwrap_or_default();
    let active = env_name.unwrap_or(gd.default_env());
    let named = !steps.is_empty();
    let wanted: Vec<&crate::guide::Step> = if named {
        steps.iter().filter_map(|s| gd.item(s)).collect()
    } else {
        gd.steps.iter().filter(|s| !s.checks.is_empty()).collect()
    };
    let lang = gd.pick_language(&[lang_pref.as_str()]);
    let opts = RunOptions {
        include_on_request: named,
        allow_writes,
        only: None,
        evidence: None,
        run_all: !named,
        lang: Some(lang.clone()),
    };
    // Each step's request, its environment decided once.
    let requests: Vec<CheckRequest> = wanted
        .iter()
        .zip(1..)
        .map(|(st, run_id)| CheckRequest::new(run_id, gd.clone(), st, active, opts.clone()))
        .collect();
    // Before anything runs: every key that is missing, in one line. The
    // checks that need one are not run (the runner says so per check);
    // every other check still runs.
    let plans: Vec<Vec<Option<String>>> = requests.iter().map(|req| missing_keys(runner, req)).collect();
    let mut missing: Vec<String> = Vec::new();
    for var in plans.iter().flatten().flatten() {
        if !missing.contains(var) {
            missing.push(var.clone());
        }
    }
    let not_run = plans.iter().flatten().filter(|m| m.is_some()).count();
    if !missing.is_empty() {
        let _ = writeln!(
            err,
            "cutover: no key in {}: {not_run} {} that {} a key will not run (set {}, add {} to secrets.toml, or type {} in with p in the checklist)",
            missing.join(", "),
            if not_run == 1 { "check" } else { "checks" },
            if not_run == 1 { "needs" } else { "need" },
            if missing.len() == 1 { "it" } else { "them" },
            if missing.len() == 1 { "the key" } else { "the keys" },
            if missing.len() == 1 { "it" } else { "them" },
        );
    }
    let total: usize = plans.iter().map(Vec::len).sum();
    let progress = !json_out && std::io::stderr().is_terminal();
    let mut results: Vec<Row> = Vec::new();
    let mut shown_env = active.to_string();
    let mut save_failed = false;
    for ((step, req), plan) in wanted.into_iter().zip(&requests).zip(plans) {
        shown_env = req.env.clone();
        let records = if progress {
            // One line that never wraps, so that the next one replaces it.
            let width = crossterm::terminal::size().map(|(w, _)| usize::from(w)).unwrap_or(80).max(20) - 1;
            let count = format!("{}/{total} checks", results.len());
            let done = format!("{count} · {}", Summary::of(&results).line_counts());
            let line = format!("{done} · {}", crate::sanitize::line(step_label(step, gd).trim_start()));
            let _ = write!(err, "\r\x1b[2K{}", fit(&line, width));
            let _ = err.flush();
            let shown = ProgressLine { line: &line, count: &count, done: &done, width };
            run_showing_waits(runner, req, &by, &shown, env.clock.as_ref(), err).await
        } else {
            runner.run(req, &by, CancellationToken::new()).await
        };
        let ops: Vec<Op> = records
            .iter()
            .filter(|r| r.verdict != Verdict::Skipped)
            .map(|r| Op::RecordCheck {
                guide: gd.id().to_string(),
                step: step.id().to_string(),
                record: Box::new(r.clone()),
            })
            .collect();
        if !ops.is_empty()
            && let Err(e) = store.apply_touched(&ops, &by, env.clock.now())
        {
            if progress {
                let _ = write!(err, "\r\x1b[2K");
            }
            // Fail closed: the results are shown, but nothing pretends they
            // were saved, and the exit code says so.
            let _ = writeln!(err, "cutover: results not saved: {e}");
            save_failed = true;
        }
        // The runner returns one record per planned check, in plan order.
        for (i, r) in records.into_iter().enumerate() {
            let missing_key = plan.get(i).cloned().flatten();
            results.push(Row { step: step_label(step, gd), id: step.id().to_string(), record: r, missing_key });
        }
    }
    if progress {
        let _ = write!(err, "\r\x1b[2K");
        let _ = err.flush();
    }
    let exit = if save_failed { Exit::State } else { exit_of(results.iter().map(Row::counted)) };
    if json_out {
        let results = results.iter().map(ResultJson::of).collect();
        print_json(out, &CheckJson { guide: gd.id(), env: &shown_env, results });
    } else {
        // On a terminal, a message that would wrap goes under its row.
        let width = std::io::stdout()
            .is_terminal()
            .then(|| crossterm::terminal::size().ok().map(|(w, _)| usize::from(w)))
            .flatten();
        write_table(&results, width, out);
        if results.is_empty() {
            let _ = writeln!(out, "no automated checks to run");
        }
        // Where the keys went, and why there: a base URL that is not the
        // built-in guide's own says where it comes from.
        let mut sent: Vec<(String, String)> = Vec::new();
        for row in &results {
            if let (Some(host), Some(env)) = (&row.record.key_sent_to, &row.record.env)
                && !sent.iter().any(|(h, e)| h == host && e == env)
            {
                sent.push((host.clone(), env.clone()));
            }
        }
        for (host, env) in sent {
            let from = runner
                .url_origin(gd, &env)
                .or_else(|| own_file.map(|p| format!("the guide file {}", p.display())))
                .map(|o| format!(", base URL from {}", crate::sanitize::line(&o)))
                .unwrap_or_default();
            let _ = writeln!(out, "the {env} key went to {}{from}", crate::sanitize::line(&host));
        }
        if !results.is_empty() {
            let _ = writeln!(out, "{}", Summary::of(&results).line());
        }
    }
    match exit {
        Exit::Ok => Ok(()),
        // Said: the table or the JSON, and a save that failed.
        exit => Err(CliError::said(exit)),
    }
}

/// `cutover check --json` (docs/json.md).
#[derive(Serialize)]
struct CheckJson<'a> {
    guide: &'a str,
    env: &'a str,
    results: Vec<ResultJson<'a>>,
}

/// One result per check that was planned (docs/json.md).
#[derive(Serialize)]
struct ResultJson<'a> {
    step: &'a str,
    check: &'a str,
    env: Option<&'a str>,
    verdict: &'static str,
    missing_key: Option<&'a str>,
    message: &'a str,
    hint: Option<&'a str>,
    http_status: Option<u16>,
    request: Option<&'a str>,
    key_sent_to: Option<&'a str>,
    trace_id: Option<&'a str>,
    proved: Option<&'a str>,
    would_prove: Option<&'a str>,
    does_not_prove: Option<&'a str>,
    duration_ms: u64,
    at: String,
    by: &'a str,
}

impl<'a> ResultJson<'a> {
    fn of(row: &'a Row) -> ResultJson<'a> {
        let r = &row.record;
        ResultJson {
            step: &row.id,
            check: &r.check,
            env: r.env.as_deref(),
            verdict: r.verdict.as_str(),
            missing_key: row.missing_key.as_deref(),
            message: &r.message,
            hint: r.hint.as_deref(),
            http_status: r.http_status,
            request: r.request.as_deref(),
            key_sent_to: r.key_sent_to.as_deref(),
            trace_id: r.trace_id.as_deref(),
            proved: r.proved.as_deref(),
            would_prove: r.would_prove.as_deref(),
            does_not_prove: r.not_proved.as_deref(),
            duration_ms: r.duration_ms,
            at: r.at.to_string(),
            by: &r.by,
        }
    }
}

/// The worst verdict decides (the one ranking, [`Verdict::rank`]): 1 if
/// any failed; else 5 if any could not run; else 3 if any was
/// indeterminate; else 0.
pub fn exit_of(verdicts: impl Iterator<Item = Verdict>) -> Exit {
    match Verdict::worst(verdicts) {
        Some(Verdict::Fail) => Exit::Fail,
        Some(Verdict::Error) => Exit::NotRun,
        Some(Verdict::Indeterminate) => Exit::Indeterminate,
        Some(Verdict::Pass | Verdict::Skipped) | None => Exit::Ok,
    }
}

/// One result of a headless run: the step as shown ("5 sandbox-api-key"),
/// its id, the record, and the key variable that was missing, if the check
/// needed one.
struct Row {
    step: String,
    id: String,
    record: CheckRecord,
    missing_key: Option<String>,
}

impl Row {
    /// The verdict the exit code and the summary count: a check that needed
    /// a missing key did not run, whatever the runner calls it.
    fn counted(&self) -> Verdict {
        if self.missing_key.is_some() { Verdict::Error } else { self.record.verdict }
    }

    fn verdict_word(&self) -> &'static str {
        match self.counted() {
            Verdict::Error => "not run",
            v => v.as_str(),
        }
    }
}

/// `s` cut to `width` columns.
/// The progress line of `cutover check` on a terminal, for one step.
struct ProgressLine<'a> {
    /// "3/8 checks · 3 pass · Step 7 label".
    line: &'a str,
    /// "3/8 checks".
    count: &'a str,
    /// "3/8 checks · 3 pass".
    done: &'a str,
    width: usize,
}

impl ProgressLine<'_> {
    /// The line while the step's check waits for the call budget: "3/8
    /// checks · 3 pass · waiting 23 s for the rate limit (sandbox allows 15
    /// calls a minute)"; where that does not fit, the counts go first,
    /// then the reason is said shorter, then not at all.
    fn waiting(&self, w: &crate::guide::BudgetWait, now: jiff::Timestamp) -> String {
        let secs = w.secs_left(now);
        let env = crate::sanitize::line(&w.env);
        let (done, count) = (self.done, self.count);
        let candidates = match w.per_minute {
            Some(n) => {
                let wait = format!("waiting {secs} s for the rate limit");
                vec![
                    format!("{done} · {wait} ({})", w.why()),
                    format!("{count} · {wait} ({})", w.why()),
                    format!("{count} · {wait} ({env}: {n} calls a minute)"),
                    format!("{count} · {wait}"),
                ]
            }
            None => {
                let wait = format!("waiting {secs} s: {}", w.why());
                vec![format!("{done} · {wait}"), format!("{count} · {wait}")]
            }
        };
        let fits = |c: &&String| unicode_width::UnicodeWidthStr::width(c.as_str()) <= self.width;
        match candidates.iter().find(fits) {
            Some(c) => c.clone(),
            None => fit(candidates.last().map(String::as_str).unwrap_or_default(), self.width),
        }
    }
}

/// Runs `req`, and while it waits for the call budget ("run all" waits
/// instead of giving up) says so on the progress line, once a second.
async fn run_showing_waits(
    runner: &Runner,
    req: &CheckRequest,
    by: &str,
    shown: &ProgressLine<'_>,
    clock: &dyn crate::clock::Clock,
    err: &mut dyn Write,
) -> Vec<CheckRecord> {
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let runner = runner.reporting_waits(Arc::new(move |w| {
        let _ = tx.send(w);
    }));
    let mut run = std::pin::pin!(runner.run(req, by, CancellationToken::new()));
    let mut waiting: Option<crate::guide::BudgetWait> = None;
    // What the caller wrote already.
    let mut last = fit(shown.line, shown.width);
    let mut every = tokio::time::interval(std::time::Duration::from_secs(1));
    loop {
        tokio::select! {
            records = &mut run => return records,
            Some(w) = rx.recv() => waiting = w,
            _ = every.tick() => {}
        }
        let text = match &waiting {
            Some(w) => shown.waiting(w, clock.now()),
            None => fit(shown.line, shown.width),
        };
        if text != last {
            let _ = write!(err, "\r\x1b[2K{text}");
            let _ = err.flush();
            last = text;
        }
    }
}

fn fit(s: &str, width: usize) -> String {
    use unicode_width::UnicodeWidthChar;
    let mut used = 0;
    s.chars()
        .take_while(|c| {
            used += c.width().unwrap_or(0);
            used <= width
        })
        .collect()
}

/// " 5 sandbox-api-key" (numbers aligned to the guide's last), or the id
/// alone for a troubleshooting item.
fn step_label(step: &crate::guide::Step, gd: &Guide) -> String {
    let w = gd.steps.iter().filter_map(|s| s.number).max().unwrap_or(0).to_string().len();
    match step.number {
        Some(n) => format!("{n:>w$} {}", step.id()),
        None => step.id().to_string(),
    }
}

/// For each check the runner plans for `step`, in plan order: the key
/// variable it needs and that is missing, or `None` (no key needed, a key
/// is there, or the check will not run anyway).
fn missing_keys(runner: &Runner, req: &CheckRequest) -> Vec<Option<String>> {
    use crate::check::http::KEY_PLACEHOLDER;
    use crate::check::runner::Planned;
    use crate::guide::CheckKind;
    let (gd, env) = (&req.guide, &req.env);
    let Some(step) = req.step() else { return Vec::new() };
    let has_key = runner.secrets().read().map(|s| s.get(gd.id(), env).is_some()).unwrap_or(false);
    let var = crate::check::secret::env_var_names(gd.id(), env, gd.environments.len() == 1).pop();
    let uses_key = |r: &crate::guide::RequestSpec| r.headers.values().any(|v| v.contains(KEY_PLACEHOLDER));
    runner
        .plan_request(req)
        .into_iter()
        .map(|(i, planned)| {
            let spec = step.checks.get(i)?;
            let needs = matches!(planned, Planned::Run)
                && match spec.kind() {
                    CheckKind::Secret => true,
                    CheckKind::Http => uses_key(&spec.request()),
                    CheckKind::Probes => spec.probes.iter().any(|p| uses_key(&p.request())),
                    // Without its config entry it fails for that first.
                    CheckKind::Command => {
                        spec.pass_key
                            && spec.command.as_ref().is_some_and(|c| runner.config().commands.contains_key(c.get_ref()))
                    }
                    _ => false,
                };
            if needs && !has_key { var.clone() } else { None }
        })
        .collect()
}

/// Counts by verdict, for the progress line and the closing summary.
#[derive(Default)]
struct Summary {
    total: usize,
    pass: usize,
    fail: usize,
    indeterminate: usize,
    not_run: usize,
    skipped: usize,
}

impl Summary {
    fn of(rows: &[Row]) -> Summary {
        let mut s = Summary { total: rows.len(), ..Summary::default() };
        for r in rows {
            match r.counted() {
                Verdict::Pass => s.pass += 1,
                Verdict::Fail => s.fail += 1,
                Verdict::Indeterminate => s.indeterminate += 1,
                Verdict::Error => s.not_run += 1,
                Verdict::Skipped => s.skipped += 1,
            }
        }
        s
    }

    /// "5 pass, 1 fail, 2 skipped": pass always, the others when not zero.
    fn line_counts(&self) -> String {
        let mut parts = vec![format!("{} pass", self.pass)];
        for (n, word) in [
            (self.fail, "fail"),
            (self.indeterminate, "indeterminate"),
            (self.not_run, "not run"),
            (self.skipped, "skipped"),
        ] {
            if n > 0 {
                parts.push(format!("{n} {word}"));
            }
        }
        parts.join(", ")
    }

    /// "8 checks: 5 pass, 1 fail, 2 skipped".
    fn line(&self) -> String {
        format!("{} {}: {}", self.total, if self.total == 1 { "check" } else { "checks" }, self.line_counts())
    }
}

/// The results in aligned columns: verdict, step, environment, check,
/// message; the hint under the message. A check that did not run for a
/// missing key says only that (the line before the run named the key).
fn write_table(rows: &[Row], width: Option<usize>, out: &mut dyn Write) {
    use unicode_width::UnicodeWidthStr;
    let cells: Vec<[String; 4]> = rows
        .iter()
        .map(|r| {
            [
                r.verdict_word().to_string(),
                crate::sanitize::line(&r.step),
                crate::sanitize::line(r.record.env.as_deref().unwrap_or("-")),
                crate::sanitize::line(&r.record.check),
            ]
        })
        .collect();
    let mut widths = [0usize; 4];
    for c in &cells {
        for (w, cell) in widths.iter_mut().zip(c) {
            *w = (*w).max(cell.width());
        }
    }
    let pad = |s: &str, w: usize| format!("{s}{}", " ".repeat(w.saturating_sub(s.width())));
    let indent = widths[0] + 2;
    for (row, c) in rows.iter().zip(&cells) {
        let r = &row.record;
        let message = match &row.missing_key {
            Some(var) => format!("no key ({var})"),
            None => {
                let status = r.http_status.map(|s| format!(" [{s}]")).unwrap_or_default();
                format!("{}{status} ({} ms)", crate::sanitize::line(&r.message), r.duration_ms)
            }
        };
        let cols = format!(
            "{}  {}  {}  {}",
            pad(&c[0], widths[0]),
            pad(&c[1], widths[1]),
            pad(&c[2], widths[2]),
            pad(&c[3], widths[3])
        );
        if width.is_some_and(|w| cols.width() + 2 + message.width() > w) {
            let _ = writeln!(out, "{}", cols.trim_end());
            let _ = writeln!(out, "{}{message}", " ".repeat(indent));
        } else {
            let _ = writeln!(out, "{}", format!("{cols}  {message}").trim_end());
        }
        if row.missing_key.is_none()
            && let Some(h) = &r.hint
        {
            let _ = writeln!(out, "{}what to do: {}", " ".repeat(indent), crate::sanitize::line(h));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::ProgressLine;
    use crate::guide::BudgetWait;
    use jiff::Timestamp;

    #[test]
    fn a_wait_on_the_progress_line_keeps_the_seconds_where_the_reason_does_not_fit() {
        let now = Timestamp::from_second(1_795_000_000).unwrap_or(Timestamp::UNIX_EPOCH);
        let until = Timestamp::from_second(1_795_000_023).unwrap_or(Timestamp::UNIX_EPOCH);
        let w = BudgetWait { until, env: "sandbox".into(), per_minute: Some(15) };
        let line = |width| {
            let shown =
                ProgressLine { line: "", count: "2/13 checks", done: "2/13 checks · 1 pass, 1 skipped", width };
            shown.waiting(&w, now)
        };
        assert_eq!(
            line(120),
            "2/13 checks · 1 pass, 1 skipped · waiting 23 s for the rate limit (sandbox allows 15 calls a minute)"
        );
        assert_eq!(line(79), "2/13 checks · waiting 23 s for the rate limit (sandbox: 15 calls a minute)");
        assert_eq!(line(50), "2/13 checks · waiting 23 s for the rate limit");
        assert_eq!(line(20), "2/13 checks · waitin");
        let held = BudgetWait { per_minute: None, ..w.clone() };
        let shown = ProgressLine { line: "", count: "2/13 checks", done: "2/13 checks · 1 pass", width: 79 };
        assert_eq!(shown.waiting(&held, now), "2/13 checks · 1 pass · waiting 23 s: the server asked for a pause");
    }
}
