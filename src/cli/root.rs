//! The composition root: where the store, the check runner and the App
//! are built from the outside world (paths, variables, config, keys), for
//! the checklist (`cutover`, `cutover open`, `cutover demo`) and for
//! `cutover check`. Nothing below `cli/` builds them.

use super::common::open_store;
use super::exit::CliError;
use super::{Env, Global};
use crate::app::{App, CheckRequest, Settings};
use crate::check::ratelimit::RateLimiter;
use crate::check::reach::{Resolve, SystemResolver};
use crate::check::runner::{Runner, RunnerDeps};
use crate::check::secret::{ApiKey, SecretStore};
use crate::config::Config;
use crate::guide::Catalog;
use crate::progress::CheckRecord;
use crate::progress::store::Store;
use crate::runtime::Checks;
use futures::future::BoxFuture;
use std::collections::BTreeMap;
use std::io::Write;
use std::path::Path;
use std::sync::{Arc, RwLock};
use tokio_util::sync::CancellationToken;

/// Everything the checklist runs with.
pub struct Checklist {
    pub app: App,
    pub store: Store,
    /// The check engine; None when checks cannot run (the App says why).
    pub checks: Option<Arc<dyn Checks>>,
    /// The state file as it was just before the App's progress was read.
    pub loaded_from: Option<crate::runtime::watch::FileId>,
    /// The demo's fake carriers: they serve while this lives.
    pub demo: Option<crate::demo::Demo>,
}

/// Builds the checklist's store, App and check engine: the real carriers,
/// or (`demo`) the demo's fakes.
pub fn checklist(env: &Env, g: &Global, demo: bool, err: &mut dyn Write) -> Result<Checklist, CliError> {
    let mut g = g.clone();
    if demo && g.state.is_none() {
        // The demo keeps its own progress, apart from the real one.
        g.state = Some(env.paths.data_dir.join("demo-state.toml"));
    }
    let catalog = env.catalog();
    // An observer sees why there is nothing to show (no state yet, no read
    // access) in the checklist itself, and the state when it appears.
    let mut state_problem = None;
    // The state is read once: what the file was just before that read, so
    // that the look after the watcher starts reads it again only if a save
    // landed in between.
    let loaded_from = crate::runtime::watch::file_id(&env.state_path(&g));
    let (store, progress) = if g.observe && !g.reset_state {
        let store = Store::new(env.state_path(&g));
        let progress = store.load_observed().unwrap_or_else(|problem| {
            state_problem = Some(problem.to_string());
            Default::default()
        });
        (store, progress)
    } else {
        open_store(env, &g, err)?
    };
    let mut app = build_app(env, &g, &catalog, progress, demo);
    app.state_problem = state_problem;
    let lang = app.lang.values().next().cloned().unwrap_or_else(|| "en".into());

    if demo {
        return match crate::demo::start(env.clock.clone(), &lang, store.path()) {
            Ok(d) => {
                app.secret_guard = key_guard(&d.secrets);
                app.curl = curl_builder(&d.runner);
                let c = TuiChecks { runner: d.runner.clone(), secrets: d.secrets.clone() };
                Ok(Checklist { app, store, checks: Some(Arc::new(c)), loaded_from, demo: Some(d) })
            }
            Err(e) => Err(CliError::fail(e)),
        };
    }
    let config = load_config(env, g.config.as_deref()).map_err(CliError::usage)?;
    for (gid, gc) in &config.guides {
        if let Some(secs) = gc.fresh_for.as_deref().and_then(crate::guide::parse_duration) {
            app.fresh_override.insert(gid.clone(), secs);
        }
    }
    app.check_timeout_secs = config.checks.timeout_secs;
    let (runner, secrets) = real_runner(env, &catalog, config, &lang, store.path());
    app.overridden_urls = overridden_urls(&runner, &catalog);
    app.url_origins = url_origins(&runner, &catalog);
    app.curl = curl_builder(&runner);
    if !g.observe
        && let Some(problem) =
            crate::check::ratelimit::sharing_problem(&crate::check::ratelimit::budget_path(store.path()))
    {
        app.say(
            crate::app::Tone::Warning,
            format!("call budget not shared: this cutover counts only its own calls ({problem})"),
        );
    }
    app.secret_guard = key_guard(&secrets);
    if let Ok(s) = secrets.read()
        && !s.problems().is_empty()
    {
        // Said, not hidden in the log: which key source was refused.
        app.say(crate::app::Tone::Warning, s.problems().join("; ").replace('\n', " "));
    }
    let checks: Option<Arc<dyn Checks>> = Some(Arc::new(TuiChecks { runner, secrets }));
    Ok(Checklist { app, store, checks, loaded_from, demo: None })
}

/// The App for the checklist: the catalog's guides, the progress read, and
/// the settings from the command line and the environment.
pub fn build_app(env: &Env, g: &Global, catalog: &Catalog, progress: crate::progress::Progress, demo: bool) -> App {
    let settings = Settings {
        lang_pref: env.lang_pref(g),
        user: env.user(g),
        observe: g.observe,
        state_path: env.state_path(g).display().to_string(),
        demo,
        rights: Default::default(),
    };
    let mut app = App::new(crate::app::entries(catalog), progress, settings, env.clock.now());
    app.guide_errors = catalog.errors.iter().map(|e| e.to_string()).collect();
    app
}

/// The TUI's key guard over the runner's key store: it finds every form of
/// every known key, and when the store cannot know them all it refuses to
/// let a note be written.
fn key_guard(secrets: &Arc<RwLock<SecretStore>>) -> crate::app::SecretGuard {
    if let Some(why) = secrets.read().ok().and_then(|s| s.guard_broken().map(str::to_string)) {
        return crate::app::SecretGuard::broken(why);
    }
    let guard = secrets.clone();
    crate::app::SecretGuard::new(Arc::new(move |text: &str| {
        // A poisoned lock cannot vouch for the text: treat it as holding a key.
        guard.read().map(|s| s.contains_secret(text)).unwrap_or(true)
    }))
}

/// Copy as curl builds the command as the runner sends the check: its base
/// URL (overrides, the demo's fake) and config values.
fn curl_builder(runner: &Runner) -> crate::app::CurlBuilder {
    let runner = runner.clone();
    crate::app::CurlBuilder(Some(Arc::new(move |g, env, req| runner.curl(g, env, req))))
}

/// The runner as the TUI's event loop uses it.
pub struct TuiChecks {
    pub runner: Runner,
    pub secrets: Arc<RwLock<SecretStore>>,
}

impl Checks for TuiChecks {
    fn run(
        &self,
        req: CheckRequest,
        by: String,
        cancel: CancellationToken,
        waits: crate::check::runner::WaitReport,
    ) -> BoxFuture<'static, Vec<CheckRecord>> {
        let runner = self.runner.reporting_waits(waits);
        Box::pin(async move { runner.run(&req, &by, cancel).await })
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
pub fn load_config(env: &Env, path: Option<&Path>) -> Result<Config, crate::config::ConfigError> {
    let p = path.map(Path::to_path_buf).unwrap_or_else(|| env.paths.config_file());
    Config::load(&p)
}

/// Everything the runner needs, from the real environment.
pub fn real_runner(
    env: &Env,
    catalog: &Catalog,
    config: Config,
    lang: &str,
    state_path: &Path,
) -> (Runner, Arc<RwLock<SecretStore>>) {
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
    (Runner::new(deps), secrets)
}

/// Where each guide environment's base URL comes from, when it is not a
/// built-in guide's own: (guide, env) -> "CUTOVER_POSTNL_SANDBOX_URL",
/// "config.toml" or "the guide file <path>" (a guide of the user's own may
/// declare its base URLs; one replacing a built-in may not).
pub fn url_origins(runner: &Runner, catalog: &Catalog) -> BTreeMap<(String, String), String> {
    let mut out = BTreeMap::new();
    for l in &catalog.guides {
        // A base URL is the guide's id and environments: its head.
        let guide = l.guide.head();
        for env in guide.environments.keys() {
            let origin = runner.url_origin(guide, env).or_else(|| match &l.source {
                crate::guide::GuideSource::File(p) if !l.overrides_built_in => {
                    Some(format!("the guide file {}", p.display()))
                }
                _ => None,
            });
            if let Some(o) = origin {
                out.insert((guide.id().to_string(), env.clone()), crate::sanitize::line(&o));
            }
        }
    }
    out
}

/// Overridden base URLs, for the banner: (guide, env) -> URL.
pub fn overridden_urls(runner: &Runner, catalog: &Catalog) -> BTreeMap<(String, String), String> {
    let mut out = BTreeMap::new();
    for l in &catalog.guides {
        let guide = l.guide.head();
        for env in guide.environments.keys() {
            if runner.base_url_overridden(guide, env)
                && let Some(u) = runner.base_url(guide, env)
            {
                out.insert((guide.id().to_string(), env.clone()), u);
            }
        }
    }
    out
}
