//! The checklist in the terminal: `cutover` (the guide picker), `cutover
//! open GUIDE` and `cutover demo`. The composition root builds the store,
//! the App and the check engine; this enters the terminal and runs the
//! event loop until the App quits.

use super::exit::{CliError, CliResult};
use super::{Env, Global, root};
use crate::runtime::{self, Context, terminal};
use crate::ui::Theme;
use clap::Args;
use futures::future::BoxFuture;
use std::io::Write;

/// Options that only matter to the checklist: in the help of the commands
/// that open it (none, `open`, `demo`), not in that of the others. Given
/// before a command, `--observe` still makes `mark`, `check` and `evidence
/// add` refuse.
#[derive(Debug, Args, Clone, Default)]
#[command(next_help_heading = "Checklist options")]
pub struct TuiOptions {
    /// Only ASCII characters on screen (automatic where Unicode cannot be trusted: TERM=linux, dumb or vt100, or a locale that is not UTF-8).
    #[arg(long)]
    pub ascii: bool,
    /// Capture the mouse (the wheel scrolls the pane under it, a click selects a step); off by default so the terminal's own text selection keeps working.
    #[arg(long)]
    pub mouse: bool,
    /// Read-only: look, but change nothing, run nothing, ask for no key.
    #[arg(long)]
    pub observe: bool,
}

impl TuiOptions {
    pub(super) fn merge(&mut self, other: &TuiOptions) {
        self.ascii |= other.ascii;
        self.mouse |= other.mouse;
        self.observe |= other.observe;
    }
}

/// `cutover demo`'s arguments: the checklist's options.
#[derive(Debug, Args, Clone, Default)]
pub struct Demo {
    #[command(flatten)]
    pub tui: TuiOptions,
}

/// How the checklist starts.
pub enum Start<'a> {
    /// The guide picker.
    Picker,
    /// A guide open (`cutover open GUIDE`).
    Open(&'a str),
    /// The demo: fake carriers on loopback and the demo's own state.
    Demo,
}

pub async fn run(env: &Env, g: &Global, start: Start<'_>) -> CliResult {
    draw_first(env, g, start)?.run().await
}

/// The checklist with its first frame on screen, ready for the event loop.
pub struct Drawn {
    term: terminal::Term,
    app: crate::app::App,
    ctx: Context,
    first: runtime::FirstFrame,
    /// The demo's fake carriers: they serve while this lives.
    demo: Option<crate::demo::Demo>,
    /// The log's folder and `CUTOVER_LOG`, for a log started after the
    /// first frame (nothing before it logs but a built-in guide that does
    /// not read, which the build rules out).
    log: Option<(std::path::PathBuf, Option<String>)>,
}

/// Everything up to the first frame. Nothing in it is async: `cli::main`
/// calls it before the async runtime is built, so the runtime's threads
/// start after the frame is on screen.
pub fn draw_first(env: &Env, g: &Global, start: Start<'_>) -> Result<Drawn, CliError> {
    let mut err = std::io::stderr();
    let built = root::checklist(env, g, matches!(start, Start::Demo), &mut err)?;
    let root::Checklist { mut app, store, checks, loaded_from, demo } = built;
    if let Start::Open(guide) = start {
        open(&mut app, guide)?;
    }
    let session = Session { app, store, checks, loaded_from, peers: None, shutdown: shutdown_signal() };
    let drawn = enter(env, g, session)?;
    Ok(Drawn { demo, log: Some((env.paths.log_dir(), env.var("CUTOVER_LOG"))), ..drawn })
}

/// Opens `guide` in the App, or says which guides there are.
pub fn open(app: &mut crate::app::App, guide: &str) -> Result<(), CliError> {
    match app.guides.iter().position(|e| e.guide.id() == guide) {
        Some(i) => {
            crate::app::open_guide(app, i);
            Ok(())
        }
        None => {
            let known: Vec<&str> = app.guides.iter().map(|e| e.guide.id()).collect();
            Err(CliError::usage(format!("unknown guide {guide:?}; known: {}", known.join(", "))))
        }
    }
}

/// What the checklist runs with in the terminal.
pub struct Session {
    pub app: crate::app::App,
    pub store: crate::progress::store::Store,
    pub checks: Option<std::sync::Arc<dyn crate::runtime::Checks>>,
    pub loaded_from: Option<crate::runtime::watch::FileId>,
    /// The host's session of `cutover serve`.
    pub peers: Option<runtime::PeerLink>,
    /// Resolves when the checklist is to end.
    pub shutdown: BoxFuture<'static, ()>,
}

/// Enters the terminal and runs the checklist's event loop until the App
/// quits or `shutdown` resolves.
pub async fn run_terminal(env: &Env, g: &Global, session: Session) -> CliResult {
    enter(env, g, session)?.run().await
}

/// Enters the terminal and draws the first frame.
fn enter(env: &Env, g: &Global, session: Session) -> Result<Drawn, CliError> {
    let Session { mut app, store, checks, loaded_from, peers, shutdown } = session;
    let vars = env.vars.clone();
    let ascii = g.ascii || crate::ui::theme::unicode_untrusted(&move |k: &str| vars(k));
    let theme = Theme { color: env.var("NO_COLOR").is_none_or(|v| v.is_empty()), ascii };
    let hyperlinks = crate::ui::link::supported(&|k: &str| env.var(k), ascii);
    let entered = terminal::enter_raw(g.mouse).and_then(|seq| Ok((seq, terminal::area()?)));
    let (mut out, area) = match entered {
        Ok(e) => e,
        Err(e) => {
            terminal::restore();
            return Err(CliError::fail(format!("cannot use this terminal: {e}")));
        }
    };
    let ctx = Context {
        store,
        checks,
        clock: env.clock.clone(),
        theme,
        shutdown: Some(shutdown),
        watch: true,
        loaded_from,
        report_fallback_dir: Some(env.paths.data_dir.join("reports")),
        presence: Some(crate::progress::presence::Presence {
            user: app.settings.user.clone(),
            host: crate::paths::host_name(),
            tty: crate::paths::tty_name(),
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
        peers,
        frame_filter: None,
        hyperlinks,
    };
    // The first frame goes out in one write with the mode sequences; the
    // terminal (and its second buffer) is made after it.
    let (shown, first) = app.with_shown_guide(|app| runtime::paint_first(area, app, &ctx, &mut out));
    let mut stdout = std::io::stdout();
    match stdout.write_all(&out).and_then(|()| stdout.flush()).and_then(|()| terminal::attach(shown)) {
        Ok(term) => Ok(Drawn { term, app, ctx, first, demo: None, log: None }),
        Err(e) => {
            terminal::restore();
            Err(CliError::fail(format!("terminal error: {e}")))
        }
    }
}

impl Drawn {
    /// Runs the event loop until the App quits; the terminal is restored
    /// whatever the end.
    pub async fn run(self) -> CliResult {
        let Drawn { mut term, mut app, ctx, first, demo, log } = self;
        if let Some((dir, filter)) = log {
            crate::logging::init(&dir, filter);
        }
        // The terminal's reader (a thread) starts after the first frame.
        let events = crossterm::event::EventStream::new();
        let result = runtime::run_after(&mut term, &mut app, events, ctx, first).await;
        terminal::restore();
        drop(demo);
        match result {
            Ok(()) if app.unsaved.is_some() => {
                let why = app.unsaved.as_deref().unwrap_or_default();
                Err(CliError::state(format!("quit with a change that was not saved: {why}")))
            }
            Ok(()) => Ok(()),
            Err(e) => Err(CliError::fail(format!("terminal error: {e}"))),
        }
    }
}

/// Resolves on SIGTERM, SIGHUP (an SSH connection dropping) or SIGINT.
pub fn shutdown_signal() -> BoxFuture<'static, ()> {
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
