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
use std::io::Write;
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
    let deps = RunnerDeps {
        config,
        secrets: secrets.clone(),
        clock: env.clock.clone(),
        resolver: Arc::new(SystemResolver),
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
    for s in steps {
        if gd.item(s).is_none() {
            let _ = writeln!(err, "cutover: guide {guide} has no step {s:?}");
            return exit::USAGE;
        }
    }
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
    let mut results = Vec::new();
    let mut shown_env = active.clone();
    let mut save_failed = false;
    for step in wanted {
        let step_env = runner.env_for(gd, step.id(), &active);
        shown_env = step_env.clone();
        let opts = RunOptions {
            include_on_request: named,
            allow_writes,
            only: None,
            evidence: None,
            run_all: !named,
            lang: Some(gd.pick_language(&[lang_pref.as_str()])),
        };
        let records = runner.run_step(gd, step.id(), &active, opts, &by, CancellationToken::new()).await;
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
            // Fail closed: the results are shown, but nothing pretends they
            // were saved, and the exit code says so.
            let _ = writeln!(err, "cutover: results not saved: {e}");
            save_failed = true;
        }
        for r in records {
            results.push((step.id().to_string(), r));
        }
    }
    let code = if save_failed { exit::STATE } else { exit_code(results.iter().map(|(_, r)| r.verdict)) };
    if json_out {
        let list: Vec<serde_json::Value> = results
            .iter()
            .map(|(step, r)| {
                json!({"step": step, "check": r.check, "env": r.env, "verdict": r.verdict.as_str(), "message": r.message, "hint": r.hint, "http_status": r.http_status, "request": r.request, "key_sent_to": r.key_sent_to, "trace_id": r.trace_id, "proved": r.proved, "would_prove": r.would_prove, "does_not_prove": r.not_proved, "duration_ms": r.duration_ms, "at": r.at.to_string(), "by": r.by})
            })
            .collect();
        let _ = writeln!(
            out,
            "{}",
            serde_json::to_string_pretty(&json!({"guide": gd.id(), "env": shown_env, "results": list}))
                .unwrap_or_default()
        );
    } else {
        for (step, r) in &results {
            let env = r.env.as_deref().unwrap_or("-");
            let status = r.http_status.map(|s| format!(" [{s}]")).unwrap_or_default();
            let _ = writeln!(
                out,
                "{:<13} {:<22} {:<11} {:<30} {}{status} ({} ms)",
                r.verdict.as_str(),
                step,
                env,
                crate::sanitize::line(&r.check),
                crate::sanitize::line(&r.message),
                r.duration_ms
            );
            if let Some(h) = &r.hint {
                let _ = writeln!(out, "{:<13} what to do: {}", "", crate::sanitize::line(h));
            }
        }
        if results.is_empty() {
            let _ = writeln!(out, "no automated checks to run");
        }
        // Where the keys went, and why there: a base URL that is not the
        // built-in guide's own says where it comes from.
        let mut sent: Vec<(String, String)> = Vec::new();
        for (_, r) in &results {
            if let (Some(host), Some(env)) = (&r.key_sent_to, &r.env)
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
