//! The cutover binary: parse the command line, then either run a command or
//! the checklist in the terminal.

use clap::Parser;
use cutover::app::App;
use cutover::checking::{self, TuiChecks};
use cutover::cli::{Cli, Command};
use cutover::commands::{self, Env, exit};
use cutover::runtime::{self, Checks, Context, terminal};
use cutover::ui::Theme;
use futures::future::BoxFuture;
use std::collections::BTreeMap;
use std::io::Write;
use std::sync::Arc;

fn main() {
    let mut env = Env::from_process();
    let mut out = std::io::stdout();
    let mut err = std::io::stderr();
    // Before the arguments are parsed (a parse error would echo them): an
    // argument holding a key is refused, and never repeated.
    let vars: Vec<(String, String)> = std::env::vars().collect();
    let guard = cutover::check::secret::SecretStore::guard_of(&vars, Some(&env.paths.secrets_file()));
    if std::env::args_os().skip(1).any(|a| guard.contains_secret(&a.to_string_lossy())) {
        let _ = writeln!(
            err,
            "cutover: refused: a command-line argument holds an API key (it was not used). Keys come from the environment, secrets.toml or p in the checklist, never from the command line."
        );
        std::process::exit(exit::USAGE);
    }
    // A user name that holds a key is not used as a name.
    if ["USER", "LOGNAME"].iter().any(|v| env.var(v).is_some_and(|name| guard.contains_secret(&name))) {
        let _ = writeln!(
            err,
            "cutover: warning: $USER or $LOGNAME holds an API key; changes are recorded as uid-N instead"
        );
        let vars = env.vars.clone();
        env.vars = Arc::new(move |k: &str| if k == "USER" || k == "LOGNAME" { None } else { vars(k) });
    }
    let cli = Cli::parse();
    if let Some(code) = commands::run_headless(&cli, &env, &mut out, &mut err) {
        let _ = out.flush();
        std::process::exit(code);
    }
    let code = match tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build() {
        Ok(rt) => rt.block_on(async_main(cli, env)),
        Err(e) => {
            let _ = writeln!(err, "cutover: cannot start: {e}");
            exit::FAIL
        }
    };
    let _ = std::io::stdout().flush();
    std::process::exit(code);
}

async fn async_main(cli: Cli, env: Env) -> i32 {
    let mut out = std::io::stdout();
    let mut err = std::io::stderr();
    match &cli.command {
        Some(Command::Check { guide, steps, env: env_name, json, allow_writes }) => {
            cutover::logging::init(&env.paths.log_dir(), env.var("CUTOVER_LOG"));
            checking::check_command(
                &env,
                &cli.global,
                guide,
                steps,
                env_name.as_deref(),
                *json,
                *allow_writes,
                &mut out,
                &mut err,
            )
            .await
        }
        Some(Command::Demo) => tui(cli, env, true).await,
        _ => tui(cli, env, false).await,
    }
}

async fn tui(cli: Cli, env: Env, demo: bool) -> i32 {
    let mut g = cli.global.clone();
    let mut err = std::io::stderr();
    cutover::logging::init(&env.paths.log_dir(), env.var("CUTOVER_LOG"));
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
    let loaded_from = runtime::watch::file_id(&env.state_path(&g));
    let (store, progress) = if g.observe && !g.reset_state {
        let store = cutover::progress::store::Store::new(env.state_path(&g));
        let progress = store.load_observed().unwrap_or_else(|problem| {
            state_problem = Some(problem);
            Default::default()
        });
        (store, progress)
    } else {
        match commands::open_store(&env, &g, &mut err) {
            Ok(x) => x,
            Err(code) => return code,
        }
    };
    let mut app: App = commands::build_app(&env, &g, &catalog, progress, demo);
    app.state_problem = state_problem;
    let guides: BTreeMap<String, Arc<cutover::guide::Guide>> =
        app.guides.iter().map(|e| (e.guide.id().to_string(), e.guide.clone())).collect();
    let lang = app.lang.values().next().cloned().unwrap_or_else(|| "en".into());

    // The check engine: the real carriers, or the demo's fakes.
    let mut _demo_guard = None;
    let checks: Option<Arc<dyn Checks>> = if demo {
        match checking::start_demo(&env, &lang, store.path()) {
            Ok(d) => {
                app.secret_guard = key_guard(&d.secrets);
                app.curl = curl_builder(&d.runner);
                let c = TuiChecks { runner: d.runner.clone(), guides, secrets: d.secrets.clone() };
                _demo_guard = Some(d);
                Some(Arc::new(c))
            }
            Err(e) => {
                let _ = writeln!(err, "cutover: {e}");
                return exit::FAIL;
            }
        }
    } else {
        let config = match checking::load_config(&env, g.config.as_deref()) {
            Ok(c) => c,
            Err(e) => {
                let _ = writeln!(err, "cutover: {e}");
                return exit::USAGE;
            }
        };
        for (gid, gc) in &config.guides {
            if let Some(secs) = gc.fresh_for.as_deref().and_then(cutover::guide::parse_duration) {
                app.fresh_override.insert(gid.clone(), secs);
            }
        }
        app.check_timeout_secs = config.checks.timeout_secs;
        match checking::real_runner(&env, &catalog, config, &lang, store.path()) {
            Ok((runner, secrets)) => {
                app.overridden_urls = checking::overridden_urls(&runner, &catalog);
                app.url_origins = checking::url_origins(&runner, &catalog);
                app.curl = curl_builder(&runner);
                if !g.observe
                    && let Some(problem) = cutover::check::ratelimit::sharing_problem(
                        &cutover::check::ratelimit::budget_path(store.path()),
                    )
                {
                    app.say(
                        cutover::app::Tone::Warning,
                        format!("call budget not shared: this cutover counts only its own calls ({problem})"),
                    );
                }
                app.secret_guard = key_guard(&secrets);
                if let Ok(s) = secrets.read()
                    && !s.problems().is_empty()
                {
                    // Said, not hidden in the log: which key source was refused.
                    app.say(cutover::app::Tone::Warning, s.problems().join("; ").replace('\n', " "));
                }
                Some(Arc::new(TuiChecks { runner, guides, secrets }))
            }
            Err(e) => {
                // Checks cannot run (a secrets file with loose permissions):
                // the checklist still works, and says why checks do not.
                app.say(cutover::app::Tone::Error, format!("checks are off: {e}"));
                None
            }
        }
    };

    if let Some(Command::Open { guide }) = &cli.command {
        match app.guides.iter().position(|e| e.guide.id() == guide) {
            Some(i) => cutover::app::open_guide(&mut app, i),
            None => {
                let _ = writeln!(err, "cutover: unknown guide {guide:?}; known: {}", catalog.ids().join(", "));
                return exit::USAGE;
            }
        }
    }
    let vars = env.vars.clone();
    let ascii = g.ascii || cutover::ui::theme::unicode_untrusted(&move |k: &str| vars(k));
    let theme = Theme { color: env.var("NO_COLOR").is_none_or(|v| v.is_empty()), ascii };
    let mut term = match terminal::enter(g.mouse) {
        Ok(t) => t,
        Err(e) => {
            terminal::restore();
            let _ = writeln!(err, "cutover: cannot use this terminal: {e}");
            return exit::FAIL;
        }
    };
    let ctx = Context {
        store,
        checks,
        clock: env.clock.clone(),
        theme,
        shutdown: Some(shutdown_signal()),
        watch: true,
        loaded_from,
        report_fallback_dir: Some(env.paths.data_dir.join("reports")),
        presence: Some(cutover::progress::presence::Presence {
            user: app.settings.user.clone(),
            host: cutover::paths::host_name(),
            tty: cutover::paths::tty_name(),
            role: if g.observe { "observer".into() } else { "driver".into() },
            since: env.clock.now(),
            pid: std::process::id(),
            refreshed: env.clock.now(),
        }),
        clipboard: Some(Box::new(|seq: &str| {
            let mut out = std::io::stdout();
            let _ = out.write_all(seq.as_bytes());
            let _ = out.flush();
        })),
    };
    let events = crossterm::event::EventStream::new();
    let result = runtime::run(&mut term, &mut app, events, ctx).await;
    terminal::restore();
    match result {
        Ok(()) if app.unsaved.is_some() => {
            let why = app.unsaved.as_deref().unwrap_or_default();
            let _ = writeln!(err, "cutover: quit with a change that was not saved: {why}");
            exit::STATE
        }
        Ok(()) => exit::OK,
        Err(e) => {
            let _ = writeln!(err, "cutover: terminal error: {e}");
            exit::FAIL
        }
    }
}

/// The TUI's key guard over the runner's key store: it finds every form of
/// every known key, and when the store cannot know them all it refuses to
/// let a note be written.
fn key_guard(secrets: &Arc<std::sync::RwLock<cutover::check::secret::SecretStore>>) -> cutover::app::SecretGuard {
    if let Some(why) = secrets.read().ok().and_then(|s| s.guard_broken().map(str::to_string)) {
        return cutover::app::SecretGuard::broken(why);
    }
    let guard = secrets.clone();
    cutover::app::SecretGuard::new(Arc::new(move |text: &str| {
        // A poisoned lock cannot vouch for the text: treat it as holding a key.
        guard.read().map(|s| s.contains_secret(text)).unwrap_or(true)
    }))
}

/// Resolves on SIGTERM, SIGHUP (an SSH connection dropping) or SIGINT.
fn shutdown_signal() -> BoxFuture<'static, ()> {
    Box::pin(async {
        use tokio::signal::unix::{SignalKind, signal};
        let (Ok(mut term), Ok(mut hup), Ok(mut int)) =
            (signal(SignalKind::terminate()), signal(SignalKind::hangup()), signal(SignalKind::interrupt()))
        else {
            return futures::future::pending().await;
        };
        tokio::select! {
            _ = term.recv() => {}
            _ = hup.recv() => {}
            _ = int.recv() => {}
        }
    })
}

/// Copy as curl builds the command as the runner sends the check: its base
/// URL (overrides, the demo's fake) and config values.
fn curl_builder(runner: &cutover::check::runner::Runner) -> cutover::app::CurlBuilder {
    let runner = runner.clone();
    cutover::app::CurlBuilder(Some(Arc::new(move |g, env, req| runner.curl(g, env, req))))
}
