//! Exit codes: one table for every command (README "Exit codes" and
//! docs/json.md say the same; a test holds them to it), and the error a
//! command fails with, which carries its code.

use std::fmt;

/// How a command ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    /// Success: every check that ran passed.
    Ok = 0,
    /// A check failed, or a guide file is invalid.
    Fail = 1,
    /// Usage error: unknown guide, step, status or option.
    Usage = 2,
    /// No check failed, but some could not be verified (indeterminate).
    Indeterminate = 3,
    /// The state file cannot be read or written.
    State = 4,
    /// A check could not run: a missing key or config value, or a bug in
    /// the check (cutover's own request was refused).
    NotRun = 5,
}

impl Exit {
    /// The process's exit status.
    pub fn code(self) -> u8 {
        self as u8
    }
}

impl From<Exit> for std::process::ExitCode {
    fn from(e: Exit) -> std::process::ExitCode {
        std::process::ExitCode::from(e.code())
    }
}

/// Every code with its meaning, as the README's table shows them.
pub const TABLE: [(i32, &str); 6] = [
    (Exit::Ok as i32, "success: every check that ran passed"),
    (Exit::Fail as i32, "a check failed, or a guide file is invalid"),
    (Exit::Usage as i32, "usage error: unknown guide, step, status or option"),
    (Exit::Indeterminate as i32, "no check failed, but some could not be verified (indeterminate)"),
    (Exit::State as i32, "the state file cannot be read or written"),
    (Exit::NotRun as i32, "a check could not run: a missing key or config value, or a bug in the check"),
];

/// Why a command did not succeed: its exit code, and what to say on
/// standard error (None: it was said already, as it happened).
#[derive(Debug, thiserror::Error)]
pub struct CliError {
    pub exit: Exit,
    pub message: Option<String>,
}

impl fmt::Display for CliError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.message {
            Some(m) => write!(f, "cutover: {m}"),
            None => write!(f, "cutover: exit {}", self.exit.code()),
        }
    }
}

impl CliError {
    pub fn new(exit: Exit, message: impl fmt::Display) -> CliError {
        CliError { exit, message: Some(message.to_string()) }
    }

    /// A usage error (exit 2): an unknown guide, step, status or option.
    pub fn usage(message: impl fmt::Display) -> CliError {
        CliError::new(Exit::Usage, message)
    }

    /// The state (or a file beside it) cannot be read or written (exit 4).
    pub fn state(message: impl fmt::Display) -> CliError {
        CliError::new(Exit::State, message)
    }

    /// Something failed (exit 1).
    pub fn fail(message: impl fmt::Display) -> CliError {
        CliError::new(Exit::Fail, message)
    }

    /// The exit code alone: what went wrong was said already.
    pub fn said(exit: Exit) -> CliError {
        CliError { exit, message: None }
    }
}

/// What a command returns.
pub type CliResult = Result<(), CliError>;

/// The exit code of a command's result, its message said on `err`.
pub fn finish(result: CliResult, err: &mut dyn std::io::Write) -> Exit {
    match result {
        Ok(()) => Exit::Ok,
        Err(e) => {
            if e.message.is_some() {
                let _ = writeln!(err, "{e}");
            }
            e.exit
        }
    }
}
