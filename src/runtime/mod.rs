//! The only place that knows every part: it feeds terminal events, check
//! results, saves and signals to `app::update` as actions, performs the
//! effects it returns, and draws when the queue is drained and something
//! visible changed. No render timer: an idle cutover writes nothing.

pub mod input;
pub mod paint;
pub mod terminal;
pub mod watch;

use crate::app::{Action, App, CheckRequest, Effect, update};
use crate::check::secret::ApiKey;
use crate::clock::Clock;
use crate::progress::store::Store;
use crate::progress::{CheckRecord, Op, Progress};
use crate::ui::{self, Theme};
use futures::future::BoxFuture;
use futures::{Stream, StreamExt};
use ratatui::Terminal;
use ratatui::backend::Backend;
use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

/// Runs checks for the TUI. The real one wraps `check::runner::Runner`;
/// tests can pass their own.
pub trait Checks: Send + Sync + 'static {
    /// Runs `req`; a wait for the call budget on the way is told to `waits`
    /// (it becomes `Action::CheckWaiting`).
    fn run(
        &self,
        req: CheckRequest,
        by: String,
        cancel: CancellationToken,
        waits: crate::check::runner::WaitReport,
    ) -> BoxFuture<'static, Vec<CheckRecord>>;
    fn set_key(&self, guide: &str, env: &str, key: ApiKey);
    /// Prepares whatever the first check would otherwise wait for (HTTP
    /// clients); called off the event loop after the first frame.
    fn warm_up(&self) {}
}

/// Where clipboard escape sequences are written.
pub type ClipboardSink = Box<dyn Fn(&str) + Send + Sync>;

pub struct Context {
    pub store: Store,
    pub checks: Option<Arc<dyn Checks>>,
    pub clock: Arc<dyn Clock>,
    pub theme: Theme,
    /// A future that resolves when the process is asked to stop (SIGTERM,
    /// SIGHUP, SIGINT). None in tests.
    pub shutdown: Option<BoxFuture<'static, ()>>,
    /// Watch the state file for other instances' changes.
    pub watch: bool,
    /// The state file's id taken just before the app's progress was read
    /// from it (`watch::file_id`); None: not known, so the file is read
    /// once more when the watcher starts.
    pub loaded_from: Option<watch::FileId>,
    /// Where reports go when the state's directory is not writable (an
    /// observer's own data dir).
    pub report_fallback_dir: Option<std::path::PathBuf>,
    /// This instance, to announce beside the state file. None: no presence.
    pub presence: Option<crate::progress::presence::Presence>,
    /// Where OSC 52 clipboard sequences go (the terminal). None: no copy.
    pub clipboard: Option<ClipboardSink>,
    /// The other sessions of a served checklist (`cutover serve`). None:
    /// this checklist runs alone.
    pub peers: Option<PeerLink>,
    /// A last pass over every frame before it is sent (a remote session of
    /// `cutover serve` blanks the last characters of key masks).
    pub frame_filter: Option<fn(&mut ratatui::buffer::Buffer)>,
    /// Write the guide's URLs as OSC 8 hyperlinks (`ui::link::supported`
    /// says for the terminal cutover runs in; a served session's terminal
    /// is not known, so it gets none).
    pub hyperlinks: bool,
}

fn draw(app: &App, ctx: &Context, f: &mut ratatui::Frame) -> Vec<ui::link::Hyperlink> {
    ui::Canvas::on_frame(f, |canvas| draw_on(app, ctx, canvas))
}

fn draw_on(app: &App, ctx: &Context, canvas: &mut ui::Canvas) -> Vec<ui::link::Hyperlink> {
    let links = ui::paint(app, &ctx.theme, canvas);
    if let Some(filter) = ctx.frame_filter {
        filter(canvas.buffer_mut());
    }
    links
}

/// How one session of a served checklist talks to the server: what the
/// server tells it arrives as actions, and after every change the session
/// shows its view (`app::peers::view`) and passes on what it asks the
/// host.
pub struct PeerLink {
    /// Taken by the event loop when it starts.
    pub inbox: Option<mpsc::UnboundedReceiver<Action>>,
    pub publish: Box<dyn Fn(crate::app::peers::View) + Send + Sync>,
    pub ask_host: Box<dyn Fn(String) + Send + Sync>,
}

/// The OSC 52 sequence that puts `text` on the clipboard. The payload is
/// base64, so no byte of the text can end the sequence early.
pub fn osc52(text: &str) -> String {
    const A: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let bytes = text.as_bytes();
    let mut b64 = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let n = (u32::from(chunk[0]) << 16)
            | (u32::from(*chunk.get(1).unwrap_or(&0)) << 8)
            | u32::from(*chunk.get(2).unwrap_or(&0));
        b64.push(A[(n >> 18) as usize & 63] as char);
        b64.push(A[(n >> 12) as usize & 63] as char);
        b64.push(if chunk.len() > 1 { A[(n >> 6) as usize & 63] as char } else { '=' });
        b64.push(if chunk.len() > 2 { A[n as usize & 63] as char } else { '=' });
    }
    format!("\x1b]52;c;{b64}\x07")
}

/// The first frame, on screen: what the event loop goes on from.
pub struct FirstFrame {
    /// The guide's URLs as hyperlinks, as written with the frame.
    links: terminal::Links,
}

/// Draws the first frame through `terminal` (served sessions and tests;
/// the checklist's own start draws it without one, [`paint_first`]). It
/// needs nothing but the App: no watcher, no presence, no HTTP client;
/// all of those start after it.
pub fn first_frame<B>(terminal: &mut Terminal<B>, app: &App, ctx: &Context) -> std::io::Result<FirstFrame>
where
    B: Backend,
    std::io::Error: From<B::Error>,
{
    let mut links = terminal::Links::new(ctx.hyperlinks);
    terminal::draw(terminal, &mut links, |f| draw(app, ctx, f))?;
    Ok(FirstFrame { links })
}

/// The first frame without a terminal: drawn into one buffer of `area`,
/// its bytes (as the terminal would write them on a blank screen, see
/// [`paint`]) appended to `out`. Returns the buffer, which is what the
/// screen shows once `out` is written, for [`terminal::attach`].
pub fn paint_first(
    area: ratatui::layout::Rect,
    app: &App,
    ctx: &Context,
    out: &mut Vec<u8>,
) -> (ratatui::buffer::Buffer, FirstFrame) {
    let mut buf = paint::blank(area);
    let mut canvas = ui::Canvas::new(&mut buf);
    let found = draw_on(app, ctx, &mut canvas);
    let cursor = canvas.cursor();
    let mut links = terminal::Links::new(ctx.hyperlinks);
    let cells = links.prepare(&mut buf, found);
    paint::on_blank(&buf, out);
    if !cells.is_empty() {
        paint::cells(cells.iter().map(|(x, y, c)| (*x, *y, c)), out);
    }
    if let Some(at) = cursor {
        paint::show_cursor(at, out);
    }
    (buf, FirstFrame { links })
}

/// Runs the app until it quits. Generic over the backend and the input
/// stream, so tests drive the real loop with `TestBackend`.
pub async fn run<B, S>(terminal: &mut Terminal<B>, app: &mut App, events: S, ctx: Context) -> std::io::Result<()>
where
    B: Backend,
    S: Stream<Item = std::io::Result<crossterm::event::Event>> + Unpin,
    std::io::Error: From<B::Error>,
{
    let first = first_frame(terminal, app, &ctx)?;
    run_after(terminal, app, events, ctx, first).await
}

/// The event loop, from a first frame already on screen.
pub async fn run_after<B, S>(
    terminal: &mut Terminal<B>,
    app: &mut App,
    mut events: S,
    mut ctx: Context,
    first: FirstFrame,
) -> std::io::Result<()>
where
    B: Backend,
    S: Stream<Item = std::io::Result<crossterm::event::Event>> + Unpin,
    std::io::Error: From<B::Error>,
{
    let mut links = first.links;
    let (tx, mut rx) = mpsc::unbounded_channel::<Action>();
    let saver = spawn_saver(ctx.store.clone(), app.settings.user.clone(), ctx.clock.clone(), tx.clone());
    let mut cancels: HashMap<u64, CancellationToken> = HashMap::new();
    let mut shutdown = ctx.shutdown.take().unwrap_or_else(|| Box::pin(futures::future::pending()));
    let mut inbox = ctx.peers.as_mut().and_then(|p| p.inbox.take());
    let mut last_view: Option<crate::app::peers::View> = None;
    let mut last_time_sig = time_signature(app);

    let (changed_tx, mut changed_rx) = mpsc::unbounded_channel::<()>();
    let _watch = if ctx.watch {
        let guard = watch::spawn(ctx.store.path(), changed_tx.clone());
        // A change saved between the first load and the watcher's start
        // would go unseen: read again, but only if the file is not the one
        // the app was loaded from (the state is read once at start-up).
        if watch::changed_since_load(ctx.store.path(), ctx.loaded_from) {
            let _ = changed_tx.send(());
        }
        Some(guard)
    } else {
        drop(changed_tx);
        None
    };

    let (reload_tx, mut reload_rx) = mpsc::unbounded_channel::<Reloaded>();
    let (mut reloading, mut reload_again) = (false, false);

    let presence_stop = CancellationToken::new();
    let presence_task = ctx.presence.take().map(|p| {
        spawn_presence(ctx.store.path().to_path_buf(), p, ctx.clock.clone(), tx.clone(), presence_stop.clone())
    });
    if let Some(checks) = ctx.checks.clone() {
        tokio::task::spawn_blocking(move || checks.warm_up());
    }
    loop {
        // Tick only while something animates (a spinner), or once a minute
        // for relative times. A rate-limit countdown on screen, or checks
        // that all wait for the call budget: once a second until it is
        // over (the spinner steps once a second, the seconds count down).
        // Another session's check shows (with a spinner) only on the step
        // it runs.
        let peer_running = !crate::app::peers::running_on_screen(app).is_empty();
        let calling = app.running.values().any(|r| r.waiting.is_none());
        let tick = if calling || peer_running {
            Duration::from_millis(120)
        } else if !app.running.is_empty() || app.countdown().is_some() {
            Duration::from_secs(1)
        } else {
            Duration::from_secs(60)
        };
        let mut dirty = false;
        let mut resized = false;
        tokio::select! {
            biased;
            _ = &mut shutdown => {
                dirty |= dispatch(app, Action::Shutdown, &tx, &saver.ops, &ctx, &mut cancels);
            }
            Some(action) = rx.recv() => {
                dirty |= dispatch(app, action, &tx, &saver.ops, &ctx, &mut cancels);
            }
            Some(action) = async {
                match inbox.as_mut() {
                    Some(rx) => rx.recv().await,
                    None => futures::future::pending().await,
                }
            } => {
                // The other sessions move with every key they get: drawn only
                // when what this screen shows of them changed.
                let width = terminal.size().map(|s| s.width).unwrap_or(0);
                let before = matches!(action, Action::Peers(_)).then(|| crate::ui::others_signature(app, width));
                let changed = dispatch(app, action, &tx, &saver.ops, &ctx, &mut cancels);
                dirty |= match before {
                    Some(before) => before != crate::ui::others_signature(app, width),
                    None => changed,
                };
            }
            ev = events.next() => match ev {
                Some(Ok(ev)) => match input::convert(ev, app, || {
                    terminal.size().ok().map(|s| ratatui::layout::Rect::new(0, 0, s.width, s.height))
                }) {
                    input::Input::Action(a) => dirty |= dispatch(app, a, &tx, &saver.ops, &ctx, &mut cancels),
                    input::Input::Resize => resized = true,
                    input::Input::Redraw => {
                        terminal.clear()?;
                        links.forget();
                        dirty = true;
                    }
                    input::Input::Ignore => {}
                },
                Some(Err(_)) | None => {
                    // The terminal went away (SSH drop without SIGHUP).
                    dispatch(app, Action::Shutdown, &tx, &saver.ops, &ctx, &mut cancels);
                }
            },
            Some(()) = changed_rx.recv() => {
                // Read in the background, once per burst of saves; a change
                // seen while a read is under way reads again after it.
                while changed_rx.try_recv().is_ok() {}
                if reloading {
                    reload_again = true;
                } else {
                    reloading = true;
                    spawn_reload(ctx.store.clone(), app.settings.observe, reload_tx.clone());
                }
            }
            Some(loaded) = reload_rx.recv() => {
                if let Some(problem) = loaded.problem.clone()
                    && problem != app.state_problem
                {
                    dirty |= dispatch(app, Action::StateProblem(problem), &tx, &saver.ops, &ctx, &mut cancels);
                }
                reloading = false;
                // An own save finished after this read began: what it read
                // may be older than what the saver handed us. Read again.
                let stale = loaded.saves_before != ctx.store.saves();
                if reload_again || stale {
                    reload_again = false;
                    reloading = true;
                    spawn_reload(ctx.store.clone(), app.settings.observe, reload_tx.clone());
                }
                if !stale
                    && let Some(progress) = loaded.progress
                    && progress != app.progress
                {
                    dirty |= dispatch(app, Action::StateLoaded { progress, external: true }, &tx, &saver.ops, &ctx, &mut cancels);
                }
            }
            _ = tokio::time::sleep(tick) => {
                let spinning = !app.running.is_empty() || peer_running;
                // Through the same dispatch as every message; what is
                // redrawn is decided by what the tick changed on screen.
                dispatch(app, Action::Tick(ctx.clock.now()), &tx, &saver.ops, &ctx, &mut cancels);
                let sig = time_signature(app);
                dirty |= spinning || sig != last_time_sig;
                last_time_sig = sig;
            }
        }
        // Drain whatever else is queued before drawing once.
        while let Ok(action) = rx.try_recv() {
            dirty |= dispatch(app, action, &tx, &saver.ops, &ctx, &mut cancels);
        }
        if let Some(p) = &ctx.peers {
            let view = crate::app::peers::view(app);
            if last_view.as_ref() != Some(&view) {
                (p.publish)(view.clone());
                last_view = Some(view);
            }
        }
        if app.quit {
            break;
        }
        if resized {
            terminal.autoresize()?;
            dirty = true;
        }
        if dirty {
            terminal::draw(terminal, &mut links, |f| draw(app, &ctx, f))?;
        }
    }
    // Let queued saves finish, and take our presence entry away, before
    // leaving.
    drop(saver.ops);
    let _ = saver.task.await;
    presence_stop.cancel();
    if let Some(t) = presence_task {
        let _ = t.await;
    }
    Ok(())
}

/// How often this instance refreshes its presence entry and looks at the
/// others'; entries not refreshed for `PRESENCE_STALE` are gone.
const PRESENCE_EVERY: Duration = Duration::from_secs(5);
const PRESENCE_STALE: Duration = Duration::from_secs(45);

/// Announces this instance, keeps the entry fresh, and reports who else is
/// here when that changes. An instance that cannot write there still runs.
fn spawn_presence(
    state: std::path::PathBuf,
    me: crate::progress::presence::Presence,
    clock: Arc<dyn Clock>,
    tx: mpsc::UnboundedSender<Action>,
    stop: CancellationToken,
) -> tokio::task::JoinHandle<()> {
    use crate::progress::presence;
    tokio::spawn(async move {
        let my_pid = me.pid;
        // An observer writes nothing into the shared directory but its own
        // entry, and only into a presence folder that is already there.
        let observer = me.role == "observer";
        let mut me = Some(me);
        let mut handle: Option<presence::PresenceHandle> = None;
        let mut last: Option<Vec<String>> = None;
        let mut last_problem: Option<Option<String>> = None;
        loop {
            let st = state.clone();
            let now = clock.now();
            let pending = if handle.is_none() { me.clone() } else { None };
            let (h, others, problem) = tokio::task::spawn_blocking(move || {
                let mut problem = None;
                let mut h = handle;
                if let Some(h) = h.as_mut() {
                    if let Err(e) = h.refresh(now) {
                        problem = Some(e.to_string());
                    }
                } else if let Some(p) = pending {
                    match presence::announce(&st, p, !observer) {
                        Ok(x) => h = Some(x),
                        Err(e) => problem = Some(e.to_string()),
                    }
                }
                let others: Vec<presence::Presence> =
                    presence::list(&st, now, PRESENCE_STALE).into_iter().filter(|p| p.pid != my_pid).collect();
                (h, presence::summarize(&others), problem)
            })
            .await
            .unwrap_or((None, Vec::new(), None));
            handle = h;
            if handle.is_some() {
                me = None;
            }
            if last.as_ref() != Some(&others) {
                let _ = tx.send(Action::PresenceChanged(others.clone()));
                last = Some(others);
            }
            if last_problem.as_ref() != Some(&problem) {
                if let Some(p) = &problem {
                    tracing::info!(problem = %p, "this instance is not announced to the others");
                }
                let _ = tx.send(Action::NotAnnounced(problem.clone()));
                last_problem = Some(problem);
            }
            tokio::select! {
                _ = stop.cancelled() => break,
                _ = tokio::time::sleep(PRESENCE_EVERY) => {}
            }
        }
        if let Some(h) = handle {
            let _ = tokio::task::spawn_blocking(move || h.remove()).await;
        }
    })
}

struct Saver {
    ops: mpsc::UnboundedSender<Vec<Op>>,
    task: tokio::task::JoinHandle<()>,
}

/// One task applies saves in order, so a slower save can never overwrite a
/// newer one on screen.
fn spawn_saver(store: Store, user: String, clock: Arc<dyn Clock>, tx: mpsc::UnboundedSender<Action>) -> Saver {
    let (ops_tx, mut ops_rx) = mpsc::unbounded_channel::<Vec<Op>>();
    // A save that waits for the lock says so in the footer.
    let notices = tx.clone();
    let store = store.with_wait_notice(crate::progress::store::WaitNotice(Arc::new(move |m: &str| {
        let _ = notices.send(Action::Waiting(m.to_string()));
    })));
    let task = tokio::spawn(async move {
        while let Some(ops) = ops_rx.recv().await {
            let store = store.clone();
            let user = user.clone();
            let at = clock.now();
            let result = tokio::task::spawn_blocking(move || {
                let r = store.apply(&ops, &user, at);
                // After a failed save, what the file really holds.
                let on_disk = r.is_err().then(|| store.load().ok().map(Box::new)).flatten();
                (r, ops, on_disk)
            })
            .await;
            let action = match result {
                Ok((Ok((progress, _events)), _, _)) => Action::StateLoaded { progress, external: false },
                Ok((Err(e), ops, on_disk)) => Action::SaveFailed { why: e.to_string(), ops, on_disk },
                Err(e) => Action::SaveFailed { why: e.to_string(), ops: Vec::new(), on_disk: None },
            };
            let _ = tx.send(action);
        }
    });
    Saver { ops: ops_tx, task }
}

/// Reads the state file off the event loop, after a short pause so that a
/// burst of saves is read once; sends what it read (None if it could not).
/// An observer also learns whether the state can be shown at all.
fn spawn_reload(store: Store, observe: bool, tx: mpsc::UnboundedSender<Reloaded>) {
    tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(30)).await;
        let saves_before = store.saves();
        let (progress, problem) = tokio::task::spawn_blocking(move || {
            // Our own save: the saver has already handed us its result.
            if store.is_own_last_save() {
                return (None, None);
            }
            tracing::debug!("state file read again after a change");
            if observe {
                match store.load_observed() {
                    Ok(p) => (Some(p), Some(None)),
                    Err(problem) => (None, Some(Some(problem.to_string()))),
                }
            } else {
                (store.load().ok(), None)
            }
        })
        .await
        .unwrap_or((None, None));
        let _ = tx.send(Reloaded { progress, problem, saves_before });
    });
}

/// What a background read of the state file found, and how many own saves
/// had been made when it began.
struct Reloaded {
    progress: Option<Progress>,
    /// For an observer: why the state cannot be shown (Some(None): it can).
    problem: Option<Option<String>>,
    saves_before: u64,
}

/// Updates the app and performs the effects. Returns whether to redraw.
fn dispatch(
    app: &mut App,
    action: Action,
    tx: &mpsc::UnboundedSender<Action>,
    saves: &mpsc::UnboundedSender<Vec<Op>>,
    ctx: &Context,
    cancels: &mut HashMap<u64, CancellationToken>,
) -> bool {
    for effect in update(app, action) {
        match effect {
            Effect::Save(ops) => {
                let _ = saves.send(ops);
            }
            Effect::StartCheck(req) => {
                let Some(checks) = ctx.checks.clone() else {
                    let _ = tx.send(Action::CheckFinished {
                        run_id: req.run_id,
                        guide: req.guide.id().to_string(),
                        step: req.step.clone(),
                        records: Vec::new(),
                    });
                    continue;
                };
                let token = CancellationToken::new();
                cancels.insert(req.run_id, token.clone());
                let tx = tx.clone();
                let by = app.settings.user.clone();
                let (run_id, guide, step) = (req.run_id, req.guide.id().to_string(), req.step.clone());
                let waits: crate::check::runner::WaitReport = {
                    let (tx, guide, step) = (tx.clone(), guide.clone(), step.clone());
                    Arc::new(move |wait| {
                        let _ =
                            tx.send(Action::CheckWaiting { run_id, guide: guide.clone(), step: step.clone(), wait });
                    })
                };
                tokio::spawn(async move {
                    let records = checks.run(req, by, token, waits).await;
                    let _ = tx.send(Action::CheckFinished { run_id, guide, step, records });
                });
            }
            Effect::CancelCheck { run_id } => {
                if let Some(t) = cancels.remove(&run_id) {
                    t.cancel();
                }
            }
            Effect::RememberKey { guide, env, key } => {
                if let Some(c) = &ctx.checks {
                    c.set_key(&guide, &env, key);
                }
            }
            Effect::Clipboard(text) => {
                if let Some(sink) = &ctx.clipboard {
                    sink(&osc52(&text));
                }
            }
            Effect::WriteReport(job) => {
                // Answered with a message, as every effect is. A served
                // observer has no folder of its own on this host: its report
                // goes to its clipboard.
                let (state, now) = (ctx.store.path(), ctx.clock.now());
                let made = match (&ctx.report_fallback_dir, &ctx.clipboard) {
                    (None, Some(sink)) if job.observe => copy_report(&job, state, now, sink),
                    _ => write_report(&job, state, ctx.report_fallback_dir.as_deref(), now)
                        .map(crate::report::ReportPlace::File),
                };
                let _ = tx.send(Action::ReportWritten(made));
            }
            Effect::LoadHistory { guide } => {
                // Off the event loop: the archive may hold many events.
                let (store, tx) = (ctx.store.clone(), tx.clone());
                tokio::task::spawn_blocking(move || {
                    let events = store.guide_events(&guide);
                    let _ = tx.send(Action::HistoryLoaded { guide, events });
                });
            }
            Effect::AskHost(text) => {
                if let Some(p) = &ctx.peers {
                    (p.ask_host)(text);
                }
            }
        }
    }
    true
}

/// The Markdown hand-off report of the job's guide.
fn render_report(
    job: &crate::app::ReportJob,
    state_path: &std::path::Path,
    now: jiff::Timestamp,
) -> Result<String, crate::report::ReportError> {
    crate::report::render_saved(
        &job.guide,
        &job.lang,
        &job.progress,
        state_path,
        &job.by,
        now,
        crate::report::Format::Markdown,
    )
}

/// Puts the Markdown hand-off report on the session's clipboard (OSC 52),
/// when it is short enough for one.
fn copy_report(
    job: &crate::app::ReportJob,
    state_path: &std::path::Path,
    now: jiff::Timestamp,
    sink: &ClipboardSink,
) -> Result<crate::report::ReportPlace, crate::report::ReportError> {
    let text = render_report(job, state_path, now)?;
    let limit = crate::report::CLIPBOARD_MAX;
    if text.len() > limit {
        return Err(crate::report::ReportError::TooLongToCopy { bytes: text.len(), limit });
    }
    sink(&osc52(&text));
    Ok(crate::report::ReportPlace::Clipboard { bytes: text.len() })
}

/// Writes the Markdown hand-off report beside the state file (an
/// observer's: in the fallback dir), and says where, or why not.
fn write_report(
    job: &crate::app::ReportJob,
    state_path: &std::path::Path,
    fallback_dir: Option<&std::path::Path>,
    now: jiff::Timestamp,
) -> Result<std::path::PathBuf, crate::report::ReportError> {
    let guide = job.guide.id();
    let text = render_report(job, state_path, now)?;
    let name = format!("{guide}-report-{}.md", now.strftime("%Y%m%dT%H%M%SZ"));
    // An observer writes nothing into the shared directory: its reports go
    // to its own data dir.
    let mut dirs: Vec<std::path::PathBuf> = Vec::new();
    if !job.observe {
        dirs.push(crate::files::parent_of(state_path));
    }
    dirs.extend(fallback_dir.map(std::path::Path::to_path_buf));
    let mut problems = Vec::new();
    for dir in dirs {
        match crate::files::ensure_dir(&dir).and_then(|()| write_new_numbered(&dir, &name, text.as_bytes())) {
            Ok(path) => return Ok(path),
            Err(e) => problems.push(e),
        }
    }
    Err(if problems.is_empty() {
        crate::report::ReportError::NoFolder
    } else {
        crate::report::ReportError::NotWritten(problems)
    })
}

/// Writes a new file `name` in `dir` (or `name-2`, ... if taken), with the
/// directory's mode and group; never replaces a file or follows a link.
fn write_new_numbered(
    dir: &std::path::Path,
    name: &str,
    bytes: &[u8],
) -> Result<std::path::PathBuf, crate::files::FileError> {
    let (stem, ext) = name.rsplit_once('.').unwrap_or((name, ""));
    for n in 1..100 {
        let candidate = if n == 1 { name.to_string() } else { format!("{stem}-{n}.{ext}") };
        let path = dir.join(candidate);
        if std::fs::symlink_metadata(&path).is_ok() {
            continue;
        }
        return crate::files::write_new(&path, bytes).map(|()| path);
    }
    Err(crate::files::FileError::msg(dir, "too many reports with the same name"))
}

/// A fingerprint of every relative time on screen ("3 min ago"), so the
/// minute tick redraws only when one of them would read differently.
fn time_signature(app: &App) -> u64 {
    let mut h = std::collections::hash_map::DefaultHasher::new();
    if let Some(gp) = app.progress.guides.get(app.guide_id()) {
        for r in gp.steps.values() {
            if let Some(at) = r.at {
                crate::clock::ago(at, app.now).hash(&mut h);
            }
            for c in &r.checks {
                crate::clock::ago(c.at, app.now).hash(&mut h);
            }
        }
    }
    app.countdown().hash(&mut h);
    h.finish()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;

    fn job(note: &str) -> crate::app::ReportJob {
        let catalog = crate::guide::Catalog::built_in();
        let guide = catalog.guides.iter().find(|g| g.guide.id() == "postnl").map(|g| g.guide.full().clone());
        let Some(guide) = guide else { panic!("the built-in postnl guide") };
        let mut progress = crate::progress::Progress::default();
        let at = jiff::Timestamp::UNIX_EPOCH;
        let op = Op::SetNote { guide: "postnl".into(), step: "sandbox-api-key".into(), note: note.into(), base: None };
        progress.apply(&op, "jan", at);
        crate::app::ReportJob { guide, lang: "en".into(), progress, by: "jan".into(), observe: true }
    }

    fn sink() -> (ClipboardSink, Arc<Mutex<Vec<String>>>) {
        let got: Arc<Mutex<Vec<String>>> = Arc::default();
        let into = got.clone();
        (Box::new(move |seq: &str| into.lock().unwrap_or_else(|p| p.into_inner()).push(seq.to_string())), got)
    }

    #[test]
    fn a_served_observers_report_goes_whole_to_the_clipboard_or_says_it_is_too_long() {
        let dir = std::env::temp_dir().join(format!("cutover-copy-report-{}", std::process::id()));
        let state = dir.join("state.toml");
        let now = jiff::Timestamp::UNIX_EPOCH;

        let (to, got) = sink();
        let Ok(crate::report::ReportPlace::Clipboard { bytes }) = copy_report(&job("short note"), &state, now, &to)
        else {
            panic!("a short report is copied")
        };
        let sent = got.lock().unwrap_or_else(|p| p.into_inner()).clone();
        assert_eq!(sent.len(), 1);
        let text = render_report(&job("short note"), &state, now).unwrap_or_default();
        assert_eq!(bytes, text.len());
        assert_eq!(sent[0], osc52(&text), "the whole report, as OSC 52");

        let (to, got) = sink();
        let long = "x".repeat(crate::report::CLIPBOARD_MAX + 1);
        match copy_report(&job(&long), &state, now, &to) {
            Err(crate::report::ReportError::TooLongToCopy { bytes, limit }) => {
                assert!(bytes > limit && limit == crate::report::CLIPBOARD_MAX);
            }
            other => panic!("{other:?}"),
        }
        assert!(got.lock().unwrap_or_else(|p| p.into_inner()).is_empty(), "nothing half sent");
        assert!(!dir.exists(), "nothing written");
    }
}
