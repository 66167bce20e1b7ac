//! Wiring the check engine to the TUI and to `cutover check` / `cutover
//! demo`: where the runner's dependencies come from.

use crate::app::CheckRequest;
use crate::check::fake::{FakeCarrier, FakeOptions};
use crate::check::ratelimit::RateLimiter;
use crate::check::reach::{Resolve, SystemResolver};
use crate::check::runner::{RunOptions, Runner, RunnerDeps};
use crate::check::secret::{ApiKey, SecretStore};
use crate::commands::{Env, exit};
use crate::config::Config;
use crate::guide::{Catalog, Guide};
use crate::progress::store::Store;
use crate::progress::{CheckRecord, Op, Verdict};
use futures::future::BoxFuture;
use serde_json::json;
use std::collections::BTreeMap;
use std::io::{IsTerminal, Write};
use std::path::Path;
use std::sync::{Arc, RwLock};
use tokio_util::sync::CancellationToken;

/// The runner as the TUI's event loop uses it.
pub struct TuiChecks {
    pub runner: Runner,
    pub guides: BTreeMap<String, Arc<Guide>>,
    pub secrets: Arc<RwLock<SecretStore>>,
}

impl crate::runtime::Checks for TuiChecks {
    fn run(&self, req: CheckRequest, by: String, cancel: CancellationToken) -> BoxFuture<'static, Vec<CheckRecord>> {
        let runner = self.runner.clone();
        let guide = self.guides.get(&req.guide).cloned();
        Box::pin(async move {
            let Some(guide) = guide else { return Vec::new() };
            let opts = RunOptions {
                include_on_request: req.include_on_request,
                allow_writes: req.allow_writes,
                only: None,
                evidence: req.evidence,
                run_all: req.run_all,
                lang: req.lang,
            };
            runner.run_step(&guide, &req.step, &req.env, opts, &by, cancel).await
        })
    }

    fn set_key(&self, guide: &str, env: &str, key: ApiKey) {
        if let Ok(mut s) = self.secrets.write() {
            s.set(guide, env, key);
        }
    }

    fn warm_up(&self) {
        self.runner.warm_up();
    }
}

/// Loads the config named by `--config` or the default one.
pub fn load_config(env: &Env, path: Option<&Path>) -> Result<Config, String> {
    let p = path.map(Path::to_path_buf).unwrap_or_else(|| env.paths.config_file());
    Config::load(&p).map_err(|e| e.to_string())
}

/// Everything the runner needs, from the real environment.
pub fn real_runner(
    env: &Env,
    catalog: &Catalog,
    config: Config,
    lang: &str,
    state_path: &Path,
) -> Result<(Runner, Arc<RwLock<SecretStore>>), String> {
    let vars = env.vars.clone();
    // Keys for every guide's environments, the user's own guides included.
    let targets = catalog.environments();
    let secrets = SecretStore::load_for(&move |k| vars(k), Some(&env.paths.secrets_file()), &targets);
    let secrets = Arc::new(RwLock::new(secrets));
    let limiter = RateLimiter::new(Some(crate::check::ratelimit::budget_path(state_path)), env.clock.clone());
    // `[checks.resolve]` answers some names without DNS (curl's --resolve).
    let resolver: Arc<dyn Resolve> = if config.checks.resolve.is_empty() {
        Arc::new(SystemResolver)
    } else {
        Arc::new(crate::check::reach::MappedResolver {
            map: config.checks.resolve.clone(),
            inner: Arc::new(SystemResolver),
        })
    };
    let deps = RunnerDeps {
        config,
        secrets: secrets.clone(),
        clock: env.clock.clone(),
        resolver,
        rate_limiter: limiter,
        env_vars: env.vars.clone(),
        lang: lang.to_string(),
    };
    Ok((Runner::new(deps)?, secrets))
}

/// Where each guide environment's base URL comes from, when it is not a
/// built-in guide's own: (guide, env) -> "CUTOVER_POSTNL_SANDBOX_URL",
/// "config.toml" or "the guide file <path>" (a guide of the user's own may
/// declare its base URLs; one replacing a built-in may not).
pub fn url_origins(runner: &Runner, catalog: &Catalog) -> BTreeMap<(String, String), String> {
    let mut out = BTreeMap::new();
    for l in &catalog.guides {
        for env in l.guide.environments.keys() {
            let origin = runner.url_origin(&l.guide, env).or_else(|| match &l.source {
                crate::guide::GuideSource::File(p) if !l.overrides_built_in => {
                    Some(format!("the guide file {}", p.display()))
                }
                _ => None,
            });
            if let Some(o) = origin {
                out.insert((l.guide.id().to_string(), env.clone()), crate::sanitize::line(&o));
            }
        }
    }
    out
}

/// Overridden base URLs, for the banner: (guide, env) -> URL.
pub fn overridden_urls(runner: &Runner, catalog: &Catalog) -> BTreeMap<(String, String), String> {
    let mut out = BTreeMap::new();
    for l in &catalog.guides {
        for env in l.guide.environments.keys() {
            if runner.base_url_overridden(&l.guide, env)
                && let Some(u) = runner.base_url(&l.guide, env)
            {
                out.insert((l.guide.id().to_string(), env.clone()), u);
            }
        }
    }
    out
}

/// `cutover check <guide> [<step>...]`.
#[allow(clippy::too_many_arguments)]
pub async fn check_command(
    env: &Env,
    g: &crate::cli::Global,
    guide: &str,
    steps: &[String],
    env_name: Option<&str>,
    json_out: bool,
    allow_writes: bool,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> i32 {
    if g.observe {
        let _ = writeln!(err, "cutover: read-only (--observe): checks do not run");
        return exit::USAGE;
    }
    let catalog = env.catalog();
    let lg = match crate::commands::find_guide(&catalog, guide, err) {
        Ok(l) => l,
        Err(code) => return code,
    };
    let gd = Arc::new(lg.guide.clone());
    // Steps by number or id, as everywhere on the command line.
    let mut ids: Vec<String> = Vec::with_capacity(steps.len());
    for s in steps {
        match crate::commands::find_step(&gd, s, err) {
            Ok(st) => ids.push(st.id().to_string()),
            Err(code) => return code,
        }
    }
    let steps = ids.as_slice();
    if let Some(e) = env_name
        && !gd.environments.contains_key(e)
    {
        let names: Vec<&str> = gd.environments.keys().map(String::as_str).collect();
        let _ = writeln!(err, "cutover: guide {guide} has no environment {e:?}; it has: {}", names.join(", "));
        return exit::USAGE;
    }
    let config = match load_config(env, g.config.as_deref()) {
        Ok(c) => c,
        Err(e) => {
            let _ = writeln!(err, "cutover: {e}");
            return exit::USAGE;
        }
    };
    let (store, _) = match crate::commands::open_store(env, g, err) {
        Ok(x) => x,
        Err(code) => return code,
    };
    let prefs = env.lang_pref(g);
    let lang = gd.pick_language(&prefs.iter().map(String::as_str).collect::<Vec<_>>());
    let (runner, _) = match real_runner(env, &catalog, config, &lang, store.path()) {
        Ok(x) => x,
        Err(e) => {
            let _ = writeln!(err, "cutover: {e}");
            return exit::USAGE;
        }
    };
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
    g: &crate::cli::Global,
    runner: &Runner,
    store: &Store,
    gd: &Guide,
    steps: &[String],
    env_name: Option<&str>,
    json_out: bool,
    allow_writes: bool,
    own_file: Option<&Path>,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> i32 {
    let by = env.user(g);
    let lang_pref = env.lang_pref(g).into_iter().next().unwrap_or_default();
    let default_env = gd
        .environments
        .iter()
        .find(|(_, e)| e.sandbox)
        .or_else(|| gd.environments.iter().next())
        .map(|(n, _)| n.clone())
        .unwrap_or_default();
    let active = env_name.map(str::to_string).unwrap_or(default_env);
    let named = !steps.is_empty();
    let wanted: Vec<&crate::guide::Step> = if named {
        steps.iter().filter_map(|s| gd.item(s)).collect()
    } else {
        gd.steps.iter().filter(|s| !s.checks.is_empty()).collect()
    };
    let lang = gd.pick_language(&[lang_pref.as_str()]);
    let opts_for = |_: &crate::guide::Step| RunOptions {
        include_on_request: named,
        allow_writes,
        only: None,
        evidence: None,
        run_all: !named,
        lang: Some(lang.clone()),
    };
    // Before anything runs: every key that is missing, in one line. The
    // checks that need one are not run (the runner says so per check);
    // every other check still runs.
    let plans: Vec<Vec<Option<String>>> =
        wanted.iter().map(|st| missing_keys(runner, gd, st, &active, &opts_for(st))).collect();
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
    let mut shown_env = active.clone();
    let mut save_failed = false;
    for (step, plan) in wanted.into_iter().zip(plans) {
        let step_env = runner.env_for(gd, step.id(), &active);
        shown_env = step_env.clone();
        if progress {
            // One line that never wraps, so that the next one replaces it.
            let width = crossterm::terminal::size().map(|(w, _)| usize::from(w)).unwrap_or(80).max(20) - 1;
            let line = format!(
                "{}/{total} checks · {} · {}",
                results.len(),
                Summary::of(&results).line_counts(),
                crate::sanitize::line(step_label(step, gd).trim_start())
            );
            let _ = write!(err, "\r\x1b[2K{}", fit(&line, width));
            let _ = err.flush();
        }
        let records = runner.run_step(gd, step.id(), &active, opts_for(step), &by, CancellationToken::new()).await;
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
            && let Err(e) = store.apply(&ops, &by, env.clock.now())
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
    let code = if save_failed { exit::STATE } else { exit_code(results.iter().map(Row::counted)) };
    if json_out {
        let list: Vec<serde_json::Value> = results
            .iter()
            .map(|row| {
                let r = &row.record;
                json!({"step": row.id, "check": r.check, "env": r.env, "verdict": r.verdict.as_str(), "missing_key": row.missing_key, "message": r.message, "hint": r.hint, "http_status": r.http_status, "request": r.request, "key_sent_to": r.key_sent_to, "trace_id": r.trace_id, "proved": r.proved, "would_prove": r.would_prove, "does_not_prove": r.not_proved, "duration_ms": r.duration_ms, "at": r.at.to_string(), "by": r.by})
            })
            .collect();
        let _ = writeln!(
            out,
            "{}",
            serde_json::to_string_pretty(&json!({"guide": gd.id(), "env": shown_env, "results": list}))
                .unwrap_or_default()
        );
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
    code
}

/// The worst verdict decides (the one ranking, [`Verdict::rank`]): 1 if
/// any failed; else 5 if any could not run; else 3 if any was
/// indeterminate; else 0.
pub fn exit_code(verdicts: impl Iterator<Item = Verdict>) -> i32 {
    match Verdict::worst(verdicts) {
        Some(Verdict::Fail) => exit::FAIL,
        Some(Verdict::Error) => exit::NOT_RUN,
        Some(Verdict::Indeterminate) => exit::INDETERMINATE,
        Some(Verdict::Pass | Verdict::Skipped) | None => exit::OK,
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
fn missing_keys(
    runner: &Runner,
    gd: &Guide,
    step: &crate::guide::Step,
    active: &str,
    opts: &RunOptions,
) -> Vec<Option<String>> {
    use crate::check::http::KEY_PLACEHOLDER;
    use crate::check::runner::Planned;
    use crate::guide::CheckKind;
    let env = runner.env_for(gd, step.id(), active);
    let has_key = runner.secrets().read().map(|s| s.get(gd.id(), &env).is_some()).unwrap_or(false);
    let var = crate::check::secret::env_var_names(gd.id(), &env, gd.environments.len() == 1).pop();
    let uses_key = |r: &crate::guide::RequestSpec| r.headers.values().any(|v| v.contains(KEY_PLACEHOLDER));
    runner
        .plan(gd, step.id(), active, opts)
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

/// A resolver for the demo: every name is loopback, so nothing the demo
/// does can leave this machine.
#[derive(Debug)]
pub struct LoopbackResolver;

impl Resolve for LoopbackResolver {
    fn resolve(&self, _host: &str, port: u16) -> BoxFuture<'static, std::io::Result<Vec<std::net::SocketAddr>>> {
        Box::pin(async move { Ok(vec![std::net::SocketAddr::from(([127, 0, 0, 1], port))]) })
    }
}

/// The demo's fake carriers and the runner pointed at them.
pub struct Demo {
    pub sandbox: FakeCarrier,
    pub production: FakeCarrier,
    pub runner: Runner,
    pub secrets: Arc<RwLock<SecretStore>>,
}

pub fn start_demo(env: &Env, lang: &str, state_path: &Path) -> Result<Demo, String> {
    let (sandbox, production) =
        FakeCarrier::start_pair(FakeOptions::demo()).map_err(|e| format!("cannot start the demo carrier: {e}"))?;
    let mut urls: BTreeMap<String, String> = BTreeMap::new();
    urls.insert("CUTOVER_POSTNL_SANDBOX_URL".into(), sandbox.url());
    urls.insert("CUTOVER_POSTNL_PRODUCTION_URL".into(), production.url());
    urls.insert("CUTOVER_POSTI_PRODUCTION_URL".into(), format!("{}/shippingapi/api", sandbox.url()));
    let mut keys: BTreeMap<String, String> = BTreeMap::new();
    keys.insert("POSTNL_SANDBOX_API_KEY".into(), FakeOptions::DEMO_POSTNL_SANDBOX_KEY.into());
    keys.insert("POSTNL_PRODUCTION_API_KEY".into(), FakeOptions::DEMO_POSTNL_PRODUCTION_KEY.into());
    keys.insert("POSTI_API_KEY".into(), FakeOptions::DEMO_POSTI_KEY.into());
    // The demo ignores the real environment's keys and URLs entirely.
    let secrets = SecretStore::load(&|k| keys.get(k).cloned(), None);
    let secrets = Arc::new(RwLock::new(secrets));
    let demo_config: Config = Config::parse(DEMO_CONFIG, "demo config").map_err(|e| e.to_string())?;
    let url_vars: crate::check::runner::EnvVars = Arc::new(move |k: &str| urls.get(k).cloned());
    let deps = RunnerDeps {
        config: demo_config,
        secrets: secrets.clone(),
        clock: env.clock.clone(),
        resolver: Arc::new(LoopbackResolver),
        rate_limiter: RateLimiter::new(
            Some(crate::paths::beside(state_path, "demo-ratelimit.toml")),
            env.clock.clone(),
        ),
        env_vars: url_vars,
        lang: lang.to_string(),
    };
    Ok(Demo { sandbox, production, runner: Runner::new(deps)?, secrets })
}

const DEMO_CONFIG: &str = r#"
[guides.postnl.vars]
customer_code = "DEVC"
customer_number = "11223344"

[guides.postnl.versions]
shippingstatus = "v2"
barcode = "v1_1"
locations = "v2"

[guides.posti]
logistics_contracts = ["654321"]
transport_ids = ["876543"]

[commands.smoke-test]
argv = ["sh", "-c", "echo 'demo smoke test: pretending to book a sandbox shipment'; test -n \"$CUTOVER_API_KEY\""]
timeout_secs = 10
"#;
