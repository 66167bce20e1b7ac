//! The commands behind the CLI. Each returns an exit code; output goes to
//! the writers given, so tests can read it.

use crate::app::{App, GuideEntry, Settings};
use crate::cli::{Cli, Command, Global, GuidesAction};
use crate::guide::{Catalog, GuideSource};
use crate::paths::{self, Paths};
use crate::progress::store::{Store, StoreError};
use crate::progress::{Op, Status};
use serde_json::json;
use std::io::Write;
use std::path::PathBuf;
use std::sync::Arc;

/// Exit codes: one table for every command (README "Exit codes" and
/// docs/json.md say the same; a test holds them to it).
pub mod exit {
    /// Success: every check that ran passed.
    pub const OK: i32 = 0;
    /// A check failed, or a guide file is invalid.
    pub const FAIL: i32 = 1;
    /// Usage error: unknown guide, step, status or option.
    pub const USAGE: i32 = 2;
    /// No check failed, but some could not be verified (indeterminate).
    pub const INDETERMINATE: i32 = 3;
    /// The state file cannot be read or written.
    pub const STATE: i32 = 4;
    /// A check could not run: a missing key or config value, or a bug in
    /// the check (cutover's own request was refused).
    pub const NOT_RUN: i32 = 5;

    /// Every code with its meaning, as the README's table shows them.
    pub const TABLE: [(i32, &str); 6] = [
        (OK, "success: every check that ran passed"),
        (FAIL, "a check failed, or a guide file is invalid"),
        (USAGE, "usage error: unknown guide, step, status or option"),
        (INDETERMINATE, "no check failed, but some could not be verified (indeterminate)"),
        (STATE, "the state file cannot be read or written"),
        (NOT_RUN, "a check could not run: a missing key or config value, or a bug in the check"),
    ];
}

/// Everything a command needs from the outside world.
pub struct Env {
    pub paths: Paths,
    pub vars: crate::check::runner::EnvVars,
    pub clock: Arc<dyn crate::clock::Clock>,
}

impl Env {
    pub fn from_process() -> Env {
        let vars: crate::check::runner::EnvVars = Arc::new(|k: &str| std::env::var(k).ok());
        let clock = crate::clock::from_env(vars("CUTOVER_NOW"));
        Env { paths: Paths::resolve(), vars, clock }
    }

    pub fn var(&self, k: &str) -> Option<String> {
        (self.vars)(k)
    }

    pub fn state_path(&self, g: &Global) -> PathBuf {
        g.state.clone().unwrap_or_else(|| self.paths.default_state())
    }

    pub fn user(&self, g: &Global) -> String {
        let vars = self.vars.clone();
        paths::user_name(g.as_name.as_deref(), &move |k| vars(k))
    }

    pub fn catalog(&self) -> Catalog {
        Catalog::load(Some(&self.paths.guides_dir()))
    }

    pub fn lang_pref(&self, g: &Global) -> Vec<String> {
        let mut out: Vec<String> = g.lang.iter().map(|l| l.to_ascii_lowercase()).collect();
        let vars = self.vars.clone();
        out.extend(paths::locale_languages(&move |k| vars(k)));
        out
    }
}

/// The guide named on the command line, or a usage error that lists the
/// known ones.
pub fn find_guide<'a>(
    catalog: &'a Catalog,
    id: &str,
    err: &mut dyn Write,
) -> Result<&'a crate::guide::LoadedGuide, i32> {
    catalog.get(id).ok_or_else(|| {
        let _ = writeln!(err, "cutover: unknown guide {id:?}; known: {}", catalog.ids().join(", "));
        exit::USAGE
    })
}

/// The one place a step argument is read: a bare number is the step's
/// number (guide validation refuses ids made only of digits), anything else
/// its id. An unknown step is a message that lists the valid numbers and ids.
pub fn resolve_step<'a>(guide: &'a crate::guide::Guide, arg: &str) -> Result<&'a crate::guide::Step, String> {
    let arg = arg.trim();
    let found = if !arg.is_empty() && arg.bytes().all(|b| b.is_ascii_digit()) {
        arg.parse::<u32>().ok().and_then(|n| guide.steps.iter().find(|s| s.number == Some(n)))
    } else {
        guide.item(arg)
    };
    found.ok_or_else(|| {
        let steps: Vec<String> = guide
            .steps
            .iter()
            .map(|s| match s.number {
                Some(n) => format!("{n} {}", s.id()),
                None => s.id().to_string(),
            })
            .collect();
        let mut msg = format!(
            "guide {} has no step {:?}; its steps: {}",
            guide.id(),
            crate::sanitize::line(arg),
            steps.join(", ")
        );
        if !guide.troubleshooting.is_empty() {
            let items: Vec<&str> = guide.troubleshooting.iter().map(|s| s.id()).collect();
            msg.push_str(&format!("; troubleshooting: {}", items.join(", ")));
        }
        msg
    })
}

/// [`resolve_step`] for a command: the message goes to `err`, the code is
/// the usage error.
pub fn find_step<'a>(
    guide: &'a crate::guide::Guide,
    arg: &str,
    err: &mut dyn Write,
) -> Result<&'a crate::guide::Step, i32> {
    resolve_step(guide, arg).map_err(|m| {
        let _ = writeln!(err, "cutover: {m}");
        exit::USAGE
    })
}

/// Opens the state for a command, honouring --reset-state.
pub fn open_store(env: &Env, g: &Global, err: &mut dyn Write) -> Result<(Store, crate::progress::Progress), i32> {
    let store = prepare_store(env, g, err)?;
    match store.load() {
        Ok(p) => Ok((store, p)),
        Err(e) => {
            explain_unreadable(&e, err);
            Err(exit::STATE)
        }
    }
}

/// Says why the state file cannot be read, and that nothing was changed.
fn explain_unreadable(e: &StoreError, err: &mut dyn Write) {
    let _ = writeln!(err, "cutover: cannot read the state file: {e}");
    if matches!(e, StoreError::Parse { .. } | StoreError::NewerSchema { .. }) {
        let _ = writeln!(
            err,
            "cutover: nothing was changed. Fix the file by hand, or run with --reset-state to move it aside and start fresh."
        );
    } else {
        // Access, not content: the fix is named in the message.
        let _ = writeln!(err, "cutover: nothing was changed.");
    }
    if matches!(e, StoreError::NewerSchema { .. }) {
        let _ = writeln!(err, "cutover: (a newer cutover wrote it: updating cutover is the better fix)");
    }
}

/// The store for a command, honouring --reset-state, without reading the
/// state (a command that only changes it lets `Store::apply` read it, once).
fn prepare_store(env: &Env, g: &Global, err: &mut dyn Write) -> Result<Store, i32> {
    // A long wait for the lock is said on stderr.
    let store = Store::new(env.state_path(g))
        .with_wait_notice(crate::progress::store::WaitNotice(std::sync::Arc::new(|m: &str| eprintln!("cutover: {m}"))))
        .with_note_redactor(note_redactor(env));
    if g.reset_state {
        // --reset-state is for a file cutover cannot read; progress that
        // reads fine is not thrown away without --force.
        if !g.force && store.load().is_ok() && store.path().exists() {
            let _ = writeln!(
                err,
                "cutover: the state file {} reads fine; --reset-state is for a file cutover cannot read. Nothing was moved. Add --force to start afresh anyway.",
                store.path().display()
            );
            return Err(exit::STATE);
        }
        match store.reset(env.clock.now()) {
            Ok(Some(backup)) => {
                let _ = writeln!(err, "cutover: moved the old state aside to {}", backup.display());
            }
            Ok(None) => {}
            Err(e) => {
                let _ = writeln!(err, "cutover: {e}");
                return Err(exit::STATE);
            }
        }
    }
    Ok(store)
}

pub fn entries(catalog: &Catalog) -> Vec<GuideEntry> {
    catalog.guides.iter().map(|l| GuideEntry::new(l.guide.clone(), l.source.describe())).collect()
}

/// Builds the app for the TUI.
pub fn build_app(env: &Env, g: &Global, catalog: &Catalog, progress: crate::progress::Progress, demo: bool) -> App {
    let settings = Settings {
        lang_pref: env.lang_pref(g),
        user: env.user(g),
        observe: g.observe,
        state_path: env.state_path(g).display().to_string(),
        demo,
    };
    let mut app = App::new(entries(catalog), progress, settings, env.clock.now());
    app.guide_errors = catalog.errors.iter().map(|e| e.to_string()).collect();
    app
}

pub fn status(
    env: &Env,
    g: &Global,
    guide: Option<&str>,
    json_out: bool,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> i32 {
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

#[allow(clippy::too_many_arguments)] // the command's arguments, as the CLI gives them
pub fn mark(
    env: &Env,
    g: &Global,
    guide: &str,
    step: &str,
    status: &str,
    note: Option<&str>,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> i32 {
    if g.observe {
        let _ = writeln!(err, "cutover: read-only (--observe): nothing was changed");
        return exit::USAGE;
    }
    let catalog = env.catalog();
    let lg = match find_guide(&catalog, guide, err) {
        Ok(l) => l,
        Err(code) => return code,
    };
    let gd = &lg.guide;
    let st = match find_step(gd, step, err) {
        Ok(s) => s,
        Err(code) => return code,
    };
    let step = st.id();
    let status: Status = match status.parse() {
        Ok(s) => s,
        Err(e) => {
            let _ = writeln!(err, "cutover: {e}");
            return exit::USAGE;
        }
    };
    // The state is read once, by the save itself, under its lock.
    let store = match prepare_store(env, g, err) {
        Ok(s) => s,
        Err(code) => return code,
    };
    let warn_requires = |progress: &crate::progress::Progress, err: &mut dyn Write| {
        if status != Status::Done {
            return;
        }
        let prefs = env.lang_pref(g);
        let lang = gd.pick_language(&prefs.iter().map(String::as_str).collect::<Vec<_>>());
        let title = |s: &crate::guide::Step| crate::sanitize::line(s.title.get(&lang, &gd.languages));
        let missing: Vec<String> = st
            .requires
            .iter()
            .map(|r| r.get_ref().as_str())
            .filter(|r| !progress.status(guide, r).is_closed())
            .map(|r| gd.item(r).map(title).unwrap_or_else(|| r.to_string()))
            .collect();
        if !missing.is_empty() {
            let _ = writeln!(
                err,
                "cutover: warning: \"{}\" needs \"{}\" first (marked anyway)",
                title(st),
                missing.join("\", \"")
            );
        }
    };
    if let Some(n) = note {
        let guard = known_secrets(env, &catalog);
        if let Some(why) = guard.guard_broken() {
            let _ = writeln!(err, "cutover: not saved: cutover cannot tell whether the note holds a key ({why})");
            return exit::STATE;
        }
        if guard.contains_secret(n) {
            let _ = writeln!(err, "cutover: not saved: the note contains an API key; remove it first");
            return exit::USAGE;
        }
    }
    let mut ops =
        vec![Op::SetStatus { guide: guide.into(), step: step.into(), status, hash: Some(crate::guide::step_hash(st)) }];
    if let Some(n) = note {
        // No editor opened on an earlier text: the note given replaces
        // what is there (the text it replaces is kept in the note history
        // and `cutover log` shows it).
        ops.push(Op::SetNote { guide: guide.into(), step: step.into(), note: n.to_string(), base: None });
    }
    match store.apply(&ops, &env.user(g), env.clock.now()) {
        Ok((progress, _)) => {
            warn_requires(&progress, err);
            let _ = writeln!(out, "{guide} {step}: {status}");
            exit::OK
        }
        Err(e @ (StoreError::Parse { .. } | StoreError::NewerSchema { .. })) => {
            explain_unreadable(&e, err);
            exit::STATE
        }
        Err(e) => {
            let _ = writeln!(err, "cutover: not saved: {e}");
            exit::STATE
        }
    }
}

pub fn guides(
    env: &Env,
    action: Option<&GuidesAction>,
    json_out: bool,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> i32 {
    match action {
        Some(GuidesAction::Validate { files }) => {
            if files.is_empty() {
                let _ = writeln!(err, "cutover: name at least one guide file");
                return exit::USAGE;
            }
            let mut bad = 0;
            for f in files {
                let shown = f.display().to_string();
                match crate::guide::catalog::read_guide_file_with_warnings(f) {
                    Ok((gd, warnings)) => {
                        for w in warnings {
                            let _ = writeln!(out, "{}:{}:{}: warning: {}", w.file, w.line, w.col, w.message);
                        }
                        let _ = writeln!(
                            out,
                            "{shown}: ok ({} \"{}\", {} steps)",
                            gd.id(),
                            gd.title.get("en", &gd.languages),
                            gd.steps.len()
                        );
                    }
                    Err(errors) => {
                        bad += 1;
                        for e in errors {
                            let _ = writeln!(out, "{e}");
                        }
                    }
                }
            }
            if bad > 0 { exit::FAIL } else { exit::OK }
        }
        None => {
            let catalog = env.catalog();
            if json_out {
                let list: Vec<serde_json::Value> = catalog
                    .guides
                    .iter()
                    .map(|l| json!({"id": l.guide.id(), "title": l.guide.title.get("en", &l.guide.languages), "version": l.guide.version, "languages": l.guide.languages, "source": l.source.describe(), "overrides_built_in": l.overrides_built_in, "steps": l.guide.steps.len()}))
                    .collect();
                let errors: Vec<String> = catalog.errors.iter().map(|e| e.to_string()).collect();
                let _ = writeln!(
                    out,
                    "{}",
                    serde_json::to_string_pretty(&json!({"guides": list, "errors": errors})).unwrap_or_default()
                );
            } else {
                let title_w = catalog
                    .guides
                    .iter()
                    .map(|l| l.guide.title.get("en", &l.guide.languages).chars().count())
                    .max()
                    .unwrap_or(0);
                for l in &catalog.guides {
                    let src = match &l.source {
                        GuideSource::BuiltIn => "built-in".to_string(),
                        GuideSource::File(p) => format!(
                            "{}{}",
                            p.display(),
                            if l.overrides_built_in { " (overrides the built-in)" } else { "" }
                        ),
                    };
                    let _ = writeln!(
                        out,
                        "{:<10} {:<title_w$} {:<8} {}",
                        l.guide.id(),
                        l.guide.title.get("en", &l.guide.languages),
                        l.guide.languages.join(","),
                        src
                    );
                }
                for e in &catalog.errors {
                    let _ = writeln!(err, "skipped: {e}");
                }
            }
            if catalog.errors.is_empty() { exit::OK } else { exit::FAIL }
        }
    }
}

/// `cutover log <guide>`: every event of a guide, archived ones included,
/// oldest first.
pub fn log(env: &Env, g: &Global, guide: &str, json_out: bool, out: &mut dyn Write, err: &mut dyn Write) -> i32 {
    let catalog = env.catalog();
    if let Err(code) = find_guide(&catalog, guide, err) {
        return code;
    }
    let (store, _) = match open_store(env, g, err) {
        Ok(x) => x,
        Err(code) => return code,
    };
    let mut events = match store.all_events() {
        Ok(e) => e,
        Err(e) => {
            let _ = writeln!(err, "cutover: cannot read the event log: {e}");
            return exit::STATE;
        }
    };
    events.retain(|e| e.guide == guide);
    // What each note said before a change, from the note history.
    let history = crate::progress::notes::read(store.path()).unwrap_or_else(|e| {
        let _ = writeln!(err, "cutover: warning: earlier note texts not shown: {e}");
        Vec::new()
    });
    let mut used = Vec::new();
    let before: Vec<Option<&str>> =
        events.iter().map(|e| crate::progress::notes::before_of(&history, &mut used, e)).collect();
    if json_out {
        // Every check run in full, from the check archive.
        let checks: Vec<serde_json::Value> = store
            .archived_checks()
            .unwrap_or_default()
            .into_iter()
            .filter(|a| a.guide == guide)
            .map(|a| json!({"step": a.step, "record": a.record}))
            .collect();
        let list: Vec<serde_json::Value> = events
            .iter()
            .zip(&before)
            .map(|(e, before)| {
                let mut v = json!({"at": e.at.to_string(), "by": e.by, "guide": e.guide, "step": e.step, "what": e.what, "detail": e.detail});
                if let Some(b) = before {
                    v["before"] = json!(b);
                }
                v
            })
            .collect();
        let _ = writeln!(
            out,
            "{}",
            serde_json::to_string_pretty(&json!({"guide": guide, "events": list, "checks": checks}))
                .unwrap_or_default()
        );
    } else {
        for (e, before) in events.iter().zip(&before) {
            let line = format!(
                "{}  {:<12} {:<24} {:<7} {}",
                e.at.strftime("%Y-%m-%d %H:%M:%S"),
                e.by,
                e.step,
                e.what,
                e.detail
            );
            let _ = writeln!(out, "{}", crate::sanitize::line(&line));
            if let Some(b) = before {
                // One line per event: line breaks shown as ⏎.
                let shown = if b.is_empty() { "(empty)".to_string() } else { b.replace('\n', " ⏎ ") };
                let _ = writeln!(out, "{:<21}before: {}", "", crate::sanitize::line(&shown));
            }
        }
        if events.is_empty() {
            let _ = writeln!(out, "no events yet for {guide}");
        }
    }
    exit::OK
}

/// The key guard: every key cutover knows about, from every source (also
/// sources refused for requests), for redacting files, notes and reports.
/// Check [`crate::check::secret::SecretStore::guard_broken`] before writing
/// anything that could carry a key.
pub fn known_secrets(env: &Env, catalog: &Catalog) -> crate::check::secret::SecretStore {
    let vars = env.vars.clone();
    crate::check::secret::SecretStore::load_for(
        &move |k| vars(k),
        Some(&env.paths.secrets_file()),
        &catalog.environments(),
    )
}

/// The key guard for the note history: a note's earlier text is redacted
/// with every key cutover knows before it is kept. Built when a note
/// changes (not when the state is opened), from the sources as they are
/// then; a guard that cannot know every key refuses (the save fails closed).
pub fn note_redactor(env: &Env) -> crate::progress::notes::Redactor {
    let vars = env.vars.clone();
    let secrets_file = env.paths.secrets_file();
    let guides_dir = env.paths.guides_dir();
    crate::progress::notes::Redactor(Arc::new(move |text: &str| {
        let vars = vars.clone();
        let catalog = Catalog::load(Some(&guides_dir));
        let guard = crate::check::secret::SecretStore::load_for(
            &move |k| vars(k),
            Some(&secrets_file),
            &catalog.environments(),
        );
        match guard.guard_broken() {
            Some(why) => Err(why.to_string()),
            None => Ok(guard.redact(text)),
        }
    }))
}

/// Renders the hand-off report of `guide` from the saved state.
pub fn render_report(
    guide: &crate::guide::Guide,
    lang: &str,
    progress: &crate::progress::Progress,
    state_path: &std::path::Path,
    by: &str,
    now: jiff::Timestamp,
    format: crate::report::Format,
) -> Result<String, String> {
    let hashes: std::collections::BTreeMap<String, String> =
        guide.all_items().map(|s| (s.id().to_string(), crate::guide::step_hash(s))).collect();
    let evidence = crate::report::evidence::list(state_path, guide.id())?;
    let shown = state_path.display().to_string();
    // The state keeps each check's latest verdict; the report shows it in
    // full (request, excerpt, what it proved) from the check archive.
    let progress = &Store::new(state_path).with_full_records(progress.clone());
    let input = crate::report::ReportInput {
        guide,
        lang,
        progress,
        hashes: &hashes,
        evidence: &evidence,
        now,
        generated_by: by,
        state_path: &shown,
    };
    Ok(crate::report::render(&input, format))
}

pub fn report(
    env: &Env,
    g: &Global,
    guide: &str,
    format: crate::cli::Format,
    output: Option<&std::path::Path>,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> i32 {
    let catalog = env.catalog();
    let lg = match find_guide(&catalog, guide, err) {
        Ok(l) => l,
        Err(code) => return code,
    };
    let (store, progress) = match open_store(env, g, err) {
        Ok(x) => x,
        Err(code) => return code,
    };
    let prefs = env.lang_pref(g);
    let lang = lg.guide.pick_language(&prefs.iter().map(String::as_str).collect::<Vec<_>>());
    let format = match format {
        crate::cli::Format::Md => crate::report::Format::Markdown,
        crate::cli::Format::Json => crate::report::Format::Json,
        crate::cli::Format::Html => crate::report::Format::Html,
    };
    let guard = known_secrets(env, &catalog);
    if let Some(why) = guard.guard_broken() {
        let _ = writeln!(err, "cutover: no report written: cutover cannot mask every key ({why})");
        return exit::STATE;
    }
    let text = match render_report(&lg.guide, &lang, &progress, store.path(), &env.user(g), env.clock.now(), format) {
        // The last boundary: whatever the state holds, no key leaves in a
        // report.
        Ok(t) => guard.redact(&t),
        Err(e) => {
            let _ = writeln!(err, "cutover: {e}");
            return exit::STATE;
        }
    };
    match output {
        // Beside a shared state the report is group-readable like the rest.
        Some(path) => match crate::files::write_atomic(path, text.as_bytes(), ".report-") {
            Ok(()) => {
                let _ = writeln!(err, "cutover: report written to {}", path.display());
                exit::OK
            }
            Err(e) => {
                let _ = writeln!(err, "cutover: cannot write the report: {e}");
                exit::STATE
            }
        },
        None => {
            let _ = write!(out, "{text}");
            exit::OK
        }
    }
}

pub fn evidence(
    env: &Env,
    g: &Global,
    action: &crate::cli::EvidenceAction,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> i32 {
    let catalog = env.catalog();
    let state = env.state_path(g);
    match action {
        crate::cli::EvidenceAction::Add { guide, step, files } => {
            if g.observe {
                let _ = writeln!(err, "cutover: read-only (--observe): nothing was attached");
                return exit::USAGE;
            }
            let lg = match find_guide(&catalog, guide, err) {
                Ok(l) => l,
                Err(code) => return code,
            };
            let step = match find_step(&lg.guide, step, err) {
                Ok(s) => s.id(),
                Err(code) => return code,
            };
            if files.is_empty() {
                let _ = writeln!(err, "cutover: name at least one file");
                return exit::USAGE;
            }
            let secrets = known_secrets(env, &catalog);
            if let Some(why) = secrets.guard_broken() {
                let _ = writeln!(err, "cutover: nothing attached: cutover cannot mask every key ({why})");
                return exit::STATE;
            }
            let by = env.user(g);
            let mut code = exit::OK;
            for f in files {
                match crate::report::evidence::add(&state, guide, step, f, &by, env.clock.now(), &|t: &str| {
                    secrets.redact(t)
                }) {
                    Ok(a) => {
                        let cut = if a.truncated { " (cut to the size limit)" } else { "" };
                        let _ = writeln!(out, "{guide} {step}: attached {}{cut}", crate::sanitize::line(&a.name));
                    }
                    Err(e) => {
                        let _ = writeln!(err, "cutover: {}: {e}", f.display());
                        code = exit::FAIL;
                    }
                }
            }
            code
        }
        crate::cli::EvidenceAction::List { guide, json } => {
            if let Err(code) = find_guide(&catalog, guide, err) {
                return code;
            }
            let list = match crate::report::evidence::list(&state, guide) {
                Ok(l) => l,
                Err(e) => {
                    let _ = writeln!(err, "cutover: {e}");
                    return exit::STATE;
                }
            };
            if *json {
                let items: Vec<serde_json::Value> = list
                    .iter()
                    .map(|a| json!({"guide": guide, "step": a.step, "name": a.name, "at": a.added_at.to_string(), "by": a.added_by, "bytes": a.content.len(), "truncated": a.truncated}))
                    .collect();
                let _ = writeln!(
                    out,
                    "{}",
                    serde_json::to_string_pretty(&json!({"guide": guide, "evidence": items})).unwrap_or_default()
                );
            } else {
                for a in &list {
                    let _ = writeln!(
                        out,
                        "{:<24} {:<30} {} {}",
                        a.step,
                        crate::sanitize::line(&a.name),
                        a.added_at,
                        crate::sanitize::line(&a.added_by)
                    );
                }
            }
            exit::OK
        }
    }
}

/// Shell completions: subcommands and options, statuses, and the guide
/// ids, step numbers and ids and environments of the guides known now.
pub fn completions(env: &Env, shell: clap_complete::Shell, out: &mut dyn Write) -> i32 {
    let mut cmd = crate::cli::with_values(<Cli as clap::CommandFactory>::command(), &env.catalog());
    clap_complete::generate(shell, &mut cmd, "cutover", out);
    exit::OK
}

pub fn man(env: &Env, out: &mut dyn Write) -> i32 {
    let cmd = crate::cli::with_values(<Cli as clap::CommandFactory>::command(), &env.catalog());
    match crate::cli::man_page(cmd, out) {
        Ok(()) => exit::OK,
        Err(_) => exit::FAIL,
    }
}

/// Dispatches commands that do not need the terminal. `None` for the TUI.
pub fn run_headless(cli: &Cli, env: &Env, out: &mut dyn Write, err: &mut dyn Write) -> Option<i32> {
    let g = &cli.global;
    Some(match cli.command.as_ref()? {
        Command::Status { guide, json } => status(env, g, guide.as_deref(), *json, out, err),
        Command::Mark { guide, step, status: st, note } => mark(env, g, guide, step, st, note.as_deref(), out, err),
        Command::Guides { action, json } => guides(env, action.as_ref(), *json, out, err),
        Command::Completions { shell } => completions(env, *shell, out),
        Command::Man => man(env, out),
        Command::Open { .. } | Command::Demo | Command::Check { .. } => return None,
        Command::Log { guide, json } => log(env, g, guide, *json, out, err),
        Command::Report { guide, format, output } => report(env, g, guide, *format, output.as_deref(), out, err),
        Command::Evidence { action } => evidence(env, g, action, out, err),
    })
}
