//! The command line: one definition, from which the help, the shell
//! completions and the man page are generated.

use clap::{Args, Parser, Subcommand, ValueEnum};
use std::path::PathBuf;

#[derive(Debug, Parser)]
#[command(name = "cutover", version, about = "Walks you through a carrier's API migration, step by step, and proves each step with a real check.", long_about = None)]
pub struct Cli {
    #[command(flatten)]
    pub global: Global,
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Args, Clone, Default)]
pub struct Global {
    /// The state file (default: state.toml in the data dir).
    #[arg(long, global = true, env = "CUTOVER_STATE", value_name = "PATH")]
    pub state: Option<PathBuf>,
    /// The config file (default: config.toml in the config dir).
    #[arg(long, global = true, env = "CUTOVER_CONFIG", value_name = "PATH")]
    pub config: Option<PathBuf>,
    /// Language of the guide text (e.g. nl, en, sv); default: the locale's if the guide has it.
    #[arg(long, global = true, value_name = "LANG")]
    pub lang: Option<String>,
    /// Your name in the state file and the event log (default: $USER).
    #[arg(long = "as", global = true, value_name = "NAME")]
    pub as_name: Option<String>,
    /// Only ASCII characters on screen.
    #[arg(long, global = true)]
    pub ascii: bool,
    /// Capture the mouse (scrolling); off by default so the terminal's own text selection keeps working.
    #[arg(long, global = true)]
    pub mouse: bool,
    /// Read-only: look, but change nothing, run nothing, ask for no key.
    #[arg(long, global = true)]
    pub observe: bool,
    /// Move an unreadable state file aside to a timestamped backup and start fresh.
    #[arg(long, global = true)]
    pub reset_state: bool,
    /// With --reset-state: move the state aside even though it reads fine.
    #[arg(long, global = true, requires = "reset_state")]
    pub force: bool,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Open a guide in the checklist (the default without a command is the guide picker).
    Open { guide: String },
    /// Progress of every guide, or one.
    Status {
        guide: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// Set a step's status: todo, in_progress (or in-progress), done, blocked, skipped.
    Mark {
        guide: String,
        step: String,
        status: String,
        /// Also set the step's note.
        #[arg(long)]
        note: Option<String>,
    },
    /// Run the automated checks of a guide (or of some steps) and save the evidence.
    Check {
        guide: String,
        steps: Vec<String>,
        #[arg(long, value_name = "ENV")]
        env: Option<String>,
        #[arg(long)]
        json: bool,
        /// Allow checks that create data at the carrier.
        #[arg(long)]
        allow_writes: bool,
    },
    /// The hand-off report: every step, who and when, verdicts with redacted evidence, blockers.
    Report {
        guide: String,
        #[arg(long, value_enum, default_value = "md")]
        format: Format,
        /// Write to FILE instead of standard output.
        #[arg(short, long, value_name = "FILE")]
        output: Option<PathBuf>,
    },
    /// Your own request/response files for the validation set (redacted of configured keys on the way in).
    Evidence {
        #[command(subcommand)]
        action: EvidenceAction,
    },
    /// The event log of a guide: who changed what, when.
    Log {
        guide: String,
        #[arg(long)]
        json: bool,
    },
    /// List the guides, or validate a guide file.
    Guides {
        #[command(subcommand)]
        action: Option<GuidesAction>,
        #[arg(long)]
        json: bool,
    },
    /// A local fake carrier API with demo keys, and the checklist pointed at it.
    Demo,
    /// Shell completions for bash, zsh, fish, elvish or powershell.
    Completions { shell: clap_complete::Shell },
    /// The man page, in roff.
    Man,
}

#[derive(Debug, Subcommand)]
pub enum GuidesAction {
    /// Check a guide file: every problem with file:line:col; exit 1 if any.
    Validate { files: Vec<PathBuf> },
}

#[derive(Debug, Subcommand)]
pub enum EvidenceAction {
    /// Attach files to a step.
    Add { guide: String, step: String, files: Vec<PathBuf> },
    /// The files attached to a guide's steps.
    List {
        guide: String,
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum Format {
    Md,
    Json,
    Html,
}
