//! The cutover binary: parse the command line, then either run a headless
//! command or the checklist in the terminal.

use clap::Parser;
use cutover::app::{App, Screen};
use cutover::cli::{Cli, Command};
use cutover::commands::{self, Env, exit};
use cutover::runtime::{self, Context, terminal};
use cutover::ui::Theme;
use futures::future::BoxFuture;
use std::io::Write;

fn main() {
    let cli = Cli::parse();
    let env = Env::from_process();
    let mut out = std::io::stdout();
    let mut err = std::io::stderr();
    if let Some(code) = commands::run_headless(&cli, &env, &mut out, &mut err) {
        let _ = out.flush();
        std::process::exit(code);
    }
    let code = match tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build() {
        Ok(rt) => rt.block_on(tui(cli, env)),
        Err(e) => {
            let _ = writeln!(err, "cutover: cannot start: {e}");
            exit::FAIL
        }
    };
    std::process::exit(code);
}

async fn tui(cli: Cli, env: Env) -> i32 {
    let g = cli.global.clone();
    let mut err = std::io::stderr();
    cutover::logging::init(&env.paths.log_dir(), env.var("CUTOVER_LOG"));
    let catalog = env.catalog();
    let (store, progress) = match commands::open_store(&env, &g, &mut err) {
        Ok(x) => x,
        Err(code) => return code,
    };
    let mut app: App = commands::build_app(&env, &g, &catalog, progress, false);
    if let Some(Command::Open { guide }) = &cli.command {
        match app.guides.iter().position(|e| e.guide.id() == guide) {
            Some(i) => {
                app.picker = i;
                open(&mut app, i);
            }
            None => {
                let _ = writeln!(err, "cutover: unknown guide {guide:?}; known: {}", catalog.ids().join(", "));
                return exit::USAGE;
            }
        }
    }
    let theme = Theme { color: env.var("NO_COLOR").is_none_or(|v| v.is_empty()), ascii: g.ascii };
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
        checks: None,
        clock: env.clock.clone(),
        theme,
        shutdown: Some(shutdown_signal()),
        watch: true,
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
        Ok(()) => exit::OK,
        Err(e) => {
            let _ = writeln!(err, "cutover: terminal error: {e}");
            exit::FAIL
        }
    }
}

fn open(app: &mut App, idx: usize) {
    // Same as pressing Enter on the picker.
    app.picker = idx;
    app.screen = Screen::Picker;
    cutover::app::update(
        app,
        cutover::app::Action::Key(cutover::app::input::Key::plain(cutover::app::input::Code::Enter)),
    );
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
