//! What several commands share: finding the guide and the step named on
//! the command line, opening the state, the key guards.

use super::exit::{CliError, Exit};
use super::{Env, Global};
use crate::guide::Catalog;
use crate::progress::store::{Store, StoreError};
use std::io::Write;
use std::sync::Arc;

/// The guide named on the command line, or a usage error that lists the
/// known ones.
pub fn find_guide<'a>(catalog: &'a Catalog, id: &str) -> Result<&'a crate::guide::LoadedGuide, CliError> {
    catalog.get(id).ok_or_else(|| CliError::usage(format!("unknown guide {id:?}; known: {}", catalog.ids().join(", "))))
}

/// The one place a step argument is read: a bare number is the step's
/// number (guide validation refuses ids made only of digits), anything else
/// its id. An unknown step is a message that lists the valid numbers and ids.
pub fn resolve_step<'a>(guide: &'a crate::guide::Guide, arg: &str) -> Result<&'a crate::guide::Step, UnknownStep> {
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
        UnknownStep(msg)
    })
}

/// A step argument that names no step of the guide: the message lists the
/// steps it has.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct UnknownStep(pub String);

/// [`resolve_step`] for a command: an unknown step is a usage error.
pub fn find_step<'a>(guide: &'a crate::guide::Guide, arg: &str) -> Result<&'a crate::guide::Step, CliError> {
    resolve_step(guide, arg).map_err(CliError::usage)
}

/// Opens the state for a command, honouring --reset-state.
pub fn open_store(env: &Env, g: &Global, err: &mut dyn Write) -> Result<(Store, crate::progress::Progress), CliError> {
    let store = prepare_store(env, g, err)?;
    match store.load() {
        Ok(p) => Ok((store, p)),
        Err(e) => Err(explain_unreadable(&e, err)),
    }
}

/// Says why the state file cannot be read, and that nothing was changed:
/// the error, said.
pub fn explain_unreadable(e: &StoreError, err: &mut dyn Write) -> CliError {
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
    CliError::said(Exit::State)
}

/// The store for a command, honouring --reset-state, without reading the
/// state (a command that only changes it lets `Store::apply` read it, once).
pub fn prepare_store(env: &Env, g: &Global, err: &mut dyn Write) -> Result<Store, CliError> {
    // A long wait for the lock is said on stderr.
    let store = Store::new(env.state_path(g))
        .with_wait_notice(crate::progress::store::WaitNotice(std::sync::Arc::new(|m: &str| eprintln!("cutover: {m}"))))
        .with_note_redactor(note_redactor(env));
    if g.reset_state {
        // --reset-state is for a file cutover cannot read; progress that
        // reads fine is not thrown away without --force.
        if !g.force && store.load().is_ok() && store.path().exists() {
            return Err(CliError::state(format!(
                "the state file {} reads fine; --reset-state is for a file cutover cannot read. Nothing was moved. Add --force to start afresh anyway.",
                store.path().display()
            )));
        }
        match store.reset(env.clock.now()) {
            Ok(Some(backup)) => {
                let _ = writeln!(err, "cutover: moved the old state aside to {}", backup.display());
            }
            Ok(None) => {}
            Err(e) => return Err(CliError::state(e)),
        }
    }
    Ok(store)
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
pub fn note_redactor(env: &Env) -> crate::progress::store::notes::Redactor {
    let vars = env.vars.clone();
    let secrets_file = env.paths.secrets_file();
    let guides_dir = env.paths.guides_dir();
    crate::progress::store::notes::Redactor(Arc::new(move |text: &str| {
        let vars = vars.clone();
        let catalog = Catalog::load(Some(&guides_dir));
        let guard = crate::check::secret::SecretStore::load_for(
            &move |k| vars(k),
            Some(&secrets_file),
            &catalog.environments(),
        );
        match guard.guard_broken() {
            Some(why) => Err(crate::progress::store::notes::GuardBroken(why.to_string())),
            None => Ok(guard.redact(text)),
        }
    }))
}

/// Writes `value` as pretty JSON and a line break (docs/json.md).
pub fn print_json(out: &mut dyn Write, value: &impl serde::Serialize) {
    let _ = writeln!(out, "{}", serde_json::to_string_pretty(value).unwrap_or_default());
}
