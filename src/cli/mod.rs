//! The command line: the arguments (`args.rs`), one file per command, and
//! the composition root (`root.rs`) that builds the store, the check runner
//! and the App. The layers below never import this one.
//!
//! A new command: a file here with its arguments (a `#[derive(Args)]`
//! struct) and its `run`, a variant in [`Command`], and its arm in
//! [`dispatch`].

mod access;
mod args;
mod check;
mod common;
mod completions;
mod env;
mod evidence;
pub mod exit;
mod guides;
mod invite;
mod log;
mod man;
mod mark;
mod open;
mod report;
pub mod root;
mod serve;
mod status;
mod tui;

pub use args::{Cli, Command, Global, with_values};
pub use common::resolve_step;
pub use env::Env;

use exit::{CliError, CliResult, Exit};
use std::io::Write;
use std::process::ExitCode;
use std::sync::Arc;

/// The binary's `main`: reads the process's environment and arguments,
/// runs the command, says why it failed (if it did), and returns its exit
/// code.
pub fn main() -> ExitCode {
    let mut env = Env::from_process();
    let mut err = std::io::stderr();
    // Before the arguments are parsed (a parse error would echo them): an
    // argument holding a key is refused, and never repeated.
    let vars: Vec<(String, String)> = std::env::vars().collect();
    let guard = crate::check::secret::SecretStore::guard_of(&vars, Some(&env.paths.secrets_file()));
    if std::env::args_os().skip(1).any(|a| guard.contains_secret(&a.to_string_lossy())) {
        let _ = writeln!(
            err,
            "cutover: refused: a command-line argument holds an API key (it was not used). Keys come from the environment, secrets.toml or p in the checklist, never from the command line."
        );
        return Exit::Usage.into();
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
    let cli = Cli::read(std::env::args_os().collect(), &|k| std::env::var_os(k).is_some());
    // The checklist's first frame needs no async runtime: it is on screen
    // before the runtime's threads start.
    let drawn = tui_start(&cli).map(|start| tui::draw_first(&env, &cli.options(), start));
    let result = run_async(drawn, cli, &env, &mut err);
    let _ = std::io::stdout().flush();
    exit::finish(result, &mut err).into()
}

/// The async runtime and what runs on it: the checklist's event loop after
/// its first frame, or any other command. Its own function, never inlined:
/// the futures it holds take some 60 KiB of stack, which a start would
/// otherwise touch, page by page, before its first frame.
#[inline(never)]
fn run_async(drawn: Option<Result<tui::Drawn, CliError>>, cli: Cli, env: &Env, err: &mut std::io::Stderr) -> CliResult {
    match tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build() {
        Ok(rt) => {
            let result = rt.block_on(async {
                match drawn {
                    Some(drawn) => drawn?.run().await,
                    None => dispatch(cli, env, &mut std::io::stdout(), err).await,
                }
            });
            // Whatever still runs in the background (a watcher, a stuck
            // read) does not hold the exit.
            rt.shutdown_background();
            result
        }
        Err(e) => {
            // A first frame may be on screen.
            crate::runtime::terminal::restore();
            Err(CliError::fail(format!("cannot start: {e}")))
        }
    }
}

/// How the checklist starts, when the arguments open it.
fn tui_start(cli: &Cli) -> Option<tui::Start<'_>> {
    match &cli.command {
        None => Some(tui::Start::Picker),
        Some(Command::Open(o)) => Some(tui::Start::Open(&o.guide)),
        Some(Command::Demo(_)) => Some(tui::Start::Demo),
        Some(_) => None,
    }
}

/// Runs the command the arguments name; no command is the checklist's
/// guide picker.
pub async fn dispatch(cli: Cli, env: &Env, out: &mut dyn Write, err: &mut dyn Write) -> CliResult {
    let g = &cli.options();
    let Some(command) = &cli.command else { return tui::run(env, g, tui::Start::Picker).await };
    match command {
        Command::Open(c) => c.run(env, g).await,
        Command::Status(c) => c.run(env, g, out, err),
        Command::Mark(c) => c.run(env, g, out, err),
        Command::Check(c) => c.run(env, g, out, err).await,
        Command::Report(c) => c.run(env, g, out, err),
        Command::Evidence(c) => c.run(env, g, out, err),
        Command::Log(c) => c.run(env, g, out, err),
        Command::Guides(c) => c.run(env, out, err),
        Command::Demo(_) => tui::run(env, g, tui::Start::Demo).await,
        Command::Serve(c) => c.run(env, g).await,
        Command::Invite(c) => c.run(env, g, out, err),
        Command::Access(c) => c.run(env, g, out, err),
        Command::Completions(c) => c.run(env, out),
        Command::Man => man::run(env, out),
    }
}
