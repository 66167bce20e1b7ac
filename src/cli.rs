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
    /// Only ASCII characters on screen (the checklist; automatic where Unicode cannot be trusted: TERM=linux, dumb or vt100, or a locale that is not UTF-8).
    #[arg(long, global = true)]
    pub ascii: bool,
    /// The checklist captures the mouse (wheel scrolls, click selects); off by default so the terminal's own text selection keeps working.
    #[arg(long, global = true)]
    pub mouse: bool,
    /// Read-only: look, but change nothing, run nothing, ask for no key (the checklist; mark, check and evidence add refuse).
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
    Open {
        /// The guide: its id (postnl, posti, or one of your own in the guides folder; `cutover guides` lists them).
        #[arg(value_name = "GUIDE")]
        guide: String,
    },
    /// Progress of every guide, or one.
    Status {
        /// Only this guide (postnl, posti, or one of your own); default: every guide.
        #[arg(value_name = "GUIDE")]
        guide: Option<String>,
        /// JSON on standard output (docs/json.md).
        #[arg(long)]
        json: bool,
    },
    /// Set a step's status: todo, in_progress (or in-progress), done, blocked, skipped (no question asked; --note sets the note).
    Mark {
        /// The guide: its id (postnl, posti, or one of your own in the guides folder; `cutover guides` lists them).
        #[arg(value_name = "GUIDE")]
        guide: String,
        /// The step: its number (3) or its id (create-password).
        #[arg(value_name = "STEP")]
        step: String,
        /// The new status.
        #[arg(value_name = "STATUS", value_parser = STATUSES)]
        status: String,
        /// Also set the step's note.
        #[arg(long)]
        note: Option<String>,
    },
    /// Run the automated checks of a guide (or of some steps) and save the evidence.
    Check {
        /// The guide: its id (postnl, posti, or one of your own in the guides folder; `cutover guides` lists them).
        #[arg(value_name = "GUIDE")]
        guide: String,
        /// Only these steps, by number (5) or id (sandbox-api-key); named steps also run their on-request checks. Default: every step with checks.
        #[arg(value_name = "STEP")]
        steps: Vec<String>,
        /// The environment (sandbox or production for postnl; production for posti); default: the guide's sandbox.
        #[arg(long, value_name = "ENV")]
        env: Option<String>,
        /// JSON on standard output, one result per check (docs/json.md).
        #[arg(long)]
        json: bool,
        /// Allow checks that create data at the carrier.
        #[arg(long)]
        allow_writes: bool,
    },
    /// The hand-off report: every step, who and when, verdicts with redacted evidence, blockers.
    Report {
        /// The guide: its id (postnl, posti, or one of your own in the guides folder; `cutover guides` lists them).
        #[arg(value_name = "GUIDE")]
        guide: String,
        /// The format: Markdown, JSON or a self-contained HTML page.
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
        /// The guide: its id (postnl, posti, or one of your own in the guides folder; `cutover guides` lists them).
        #[arg(value_name = "GUIDE")]
        guide: String,
        /// JSON on standard output (docs/json.md).
        #[arg(long)]
        json: bool,
    },
    /// List the guides, or validate a guide file.
    Guides {
        #[command(subcommand)]
        action: Option<GuidesAction>,
        /// JSON on standard output (docs/json.md).
        #[arg(long)]
        json: bool,
    },
    /// A local fake carrier API with demo keys, and the checklist pointed at it.
    Demo,
    /// Shell completions for bash, zsh, fish, elvish or powershell.
    Completions {
        /// The shell to complete for.
        #[arg(value_name = "SHELL")]
        shell: clap_complete::Shell,
    },
    /// The man page, in roff.
    Man,
}

#[derive(Debug, Subcommand)]
pub enum GuidesAction {
    /// Check a guide file: every problem with file:line:col; exit 1 if any.
    Validate {
        /// Guide files (TOML, docs/guide-format.md).
        #[arg(value_name = "FILE", required = true, value_hint = clap::ValueHint::FilePath)]
        files: Vec<PathBuf>,
    },
}

#[derive(Debug, Subcommand)]
pub enum EvidenceAction {
    /// Attach files to a step.
    Add {
        /// The guide: its id (postnl, posti, or one of your own in the guides folder; `cutover guides` lists them).
        #[arg(value_name = "GUIDE")]
        guide: String,
        /// The step: its number (8) or its id (sandbox-integration).
        #[arg(value_name = "STEP")]
        step: String,
        /// The files to attach (request and response dumps, screenshots, logs).
        #[arg(value_name = "FILE", required = true, value_hint = clap::ValueHint::FilePath)]
        files: Vec<PathBuf>,
    },
    /// The files attached to a guide's steps.
    List {
        /// The guide: its id (postnl, posti, or one of your own in the guides folder; `cutover guides` lists them).
        #[arg(value_name = "GUIDE")]
        guide: String,
        /// JSON on standard output (docs/json.md).
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum Format {
    /// Markdown
    Md,
    /// JSON (docs/json.md)
    Json,
    /// one HTML page, styles included
    Html,
}

/// The statuses `mark` takes (in-progress is the same as in_progress).
pub const STATUSES: [&str; 6] = ["todo", "in_progress", "in-progress", "done", "blocked", "skipped"];

/// The command line with the values the catalog knows filled in, for the
/// shell completions and the man page: guide ids, step numbers and ids,
/// environments. (Parsing does not restrict them: a guide added later is
/// still accepted.)
pub fn with_values(cmd: clap::Command, catalog: &crate::guide::Catalog) -> clap::Command {
    use clap::builder::PossibleValue;
    let guides: Vec<PossibleValue> = catalog
        .guides
        .iter()
        .map(|l| {
            PossibleValue::new(l.guide.id().to_string()).help(l.guide.title.get("en", &l.guide.languages).to_string())
        })
        .collect();
    let mut steps: Vec<PossibleValue> = Vec::new();
    let mut seen: Vec<String> = Vec::new();
    for l in &catalog.guides {
        for s in l.guide.all_items() {
            let title = s.title.get("en", &l.guide.languages).to_string();
            let mut names = vec![s.id().to_string()];
            if let Some(n) = s.number {
                names.push(n.to_string());
            }
            for name in names {
                if !seen.contains(&name) {
                    seen.push(name.clone());
                    steps.push(PossibleValue::new(name).help(format!("{}: {title}", l.guide.id())));
                }
            }
        }
    }
    let mut envs: Vec<String> = catalog.guides.iter().flat_map(|l| l.guide.environments.keys().cloned()).collect();
    envs.sort();
    envs.dedup();
    fill(cmd, &guides, &steps, &envs)
}

fn fill(
    mut cmd: clap::Command,
    guides: &[clap::builder::PossibleValue],
    steps: &[clap::builder::PossibleValue],
    envs: &[String],
) -> clap::Command {
    use clap::builder::PossibleValuesParser;
    // mut_arg puts an argument last: every one is touched, in order, so
    // that the positionals keep theirs.
    let ids: Vec<String> = cmd.get_arguments().filter(|a| !a.is_global_set()).map(|a| a.get_id().to_string()).collect();
    for id in ids {
        let values: Option<Vec<clap::builder::PossibleValue>> = match id.as_str() {
            "guide" => Some(guides.to_vec()),
            "step" | "steps" => Some(steps.to_vec()),
            "env" => Some(envs.iter().map(|e| clap::builder::PossibleValue::new(e.clone())).collect()),
            _ => None,
        };
        cmd = cmd.mut_arg(id, |a| match values {
            Some(v) => a.value_parser(PossibleValuesParser::new(v)),
            None => a,
        });
    }
    let subs: Vec<String> = cmd.get_subcommands().map(|s| s.get_name().to_string()).collect();
    for name in subs {
        cmd = cmd.mut_subcommand(name, |s| fill(s, guides, steps, envs));
    }
    cmd
}

/// Escapes text for roff: backslashes, and a leading dot or quote.
fn roff(s: &str) -> String {
    let s = s.replace('\\', "\\e").replace('-', "\\-");
    if s.starts_with('.') || s.starts_with('\'') { format!("\\&{s}") } else { s }
}

/// The man page: clap's title, name, synopsis, description and options,
/// then every command with its arguments (in this page: no page of its own
/// is named), the keys of the checklist (from the keymap), ENVIRONMENT,
/// FILES and EXIT STATUS (from the exit table).
pub fn man_page(cmd: clap::Command, out: &mut dyn std::io::Write) -> std::io::Result<()> {
    let man = clap_mangen::Man::new(cmd.clone());
    man.render_title(out)?;
    man.render_name_section(out)?;
    man.render_synopsis_section(out)?;
    man.render_description_section(out)?;
    man.render_options_section(out)?;
    writeln!(out, ".SH COMMANDS")?;
    for sub in cmd.get_subcommands() {
        man_command(out, "cutover", sub)?;
    }
    writeln!(out, ".SH KEYS")?;
    writeln!(out, "In the checklist (\\fB?\\fR shows the keys that work where you are):")?;
    for (group, bindings) in crate::app::keymap::grouped(false, false) {
        writeln!(out, ".SS {}", roff(group.title()))?;
        for b in bindings {
            writeln!(out, ".TP\n\\fB{}\\fR\n{}", roff(b.label), roff(crate::app::keymap::help_text(b, false)))?;
        }
    }
    writeln!(out, ".SH ENVIRONMENT")?;
    for (var, what) in ENVIRONMENT {
        writeln!(out, ".TP\n\\fB{}\\fR\n{}", roff(var), roff(what))?;
    }
    writeln!(out, ".SH FILES")?;
    for (file, what) in FILES {
        writeln!(out, ".TP\n\\fI{}\\fR\n{}", roff(file), roff(what))?;
    }
    writeln!(out, ".SH \"EXIT STATUS\"")?;
    for (code, what) in crate::commands::exit::TABLE {
        writeln!(out, ".TP\n\\fB{code}\\fR\n{}", roff(what))?;
    }
    man.render_version_section(out)?;
    Ok(())
}

fn man_command(out: &mut dyn std::io::Write, parent: &str, sub: &clap::Command) -> std::io::Result<()> {
    if sub.is_hide_set() {
        return Ok(());
    }
    let name = format!("{parent} {}", sub.get_name());
    let mut usage = format!("\\fB{}\\fR", roff(&name));
    for a in sub.get_positionals() {
        let v = a
            .get_value_names()
            .and_then(|v| v.first())
            .map(|v| v.to_string())
            .unwrap_or_else(|| a.get_id().to_string());
        let many = matches!(a.get_num_args(), Some(r) if r.max_values() > 1);
        let v = format!("\\fI{}\\fR{}", roff(&v), if many { "..." } else { "" });
        usage.push(' ');
        usage.push_str(&if a.is_required_set() { v } else { format!("[{v}]") });
    }
    writeln!(out, ".TP\n{usage}")?;
    if let Some(about) = sub.get_about() {
        writeln!(out, "{}", roff(&about.to_string()))?;
    }
    let args: Vec<&clap::Arg> = sub.get_arguments().filter(|a| !a.is_global_set() && !a.is_hide_set()).collect();
    if !args.is_empty() {
        writeln!(out, ".RS")?;
        for a in args {
            let value = a.get_value_names().and_then(|v| v.first()).map(|v| roff(v)).unwrap_or_default();
            let takes = a.get_action().takes_values();
            let label = match (a.get_long(), a.get_short()) {
                (Some(l), Some(s)) if takes => format!("\\-{s}, \\-\\-{} <{value}>", roff(l)),
                (Some(l), None) if takes => format!("\\-\\-{} <{value}>", roff(l)),
                (Some(l), Some(s)) => format!("\\-{s}, \\-\\-{}", roff(l)),
                (Some(l), None) => format!("\\-\\-{}", roff(l)),
                _ => value,
            };
            let mut text = a.get_help().map(|h| roff(&h.to_string())).unwrap_or_default();
            if !text.is_empty() && !text.ends_with('.') {
                text.push('.');
            }
            let values: Vec<String> =
                a.get_possible_values().iter().filter(|v| !v.is_hide_set()).map(|v| v.get_name().to_string()).collect();
            // Steps are many: `cutover status GUIDE` lists them.
            if takes && !values.is_empty() && values.len() <= 12 {
                text.push_str(&format!(" Possible values: {}.", roff(&values.join(", "))));
            }
            if let Some(d) = a.get_default_values().first() {
                text.push_str(&format!(" Default: {}.", roff(&d.to_string_lossy())));
            }
            writeln!(out, ".TP\n\\fB{label}\\fR\n{text}")?;
        }
        writeln!(out, ".RE")?;
    }
    for s in sub.get_subcommands() {
        man_command(out, &name, s)?;
    }
    Ok(())
}

const ENVIRONMENT: [(&str, &str); 12] = [
    (
        "POSTNL_SANDBOX_API_KEY, POSTNL_PRODUCTION_API_KEY, POSTI_API_KEY",
        "The carriers' API keys; for a guide of your own <GUIDE>_<ENV>_API_KEY. They win over secrets.toml; a key typed in with p wins over both.",
    ),
    (
        "CUTOVER_<GUIDE>_<ENV>_URL",
        "A base URL instead of the guide's (a test server, say); the banner and check output say so.",
    ),
    ("CUTOVER_STATE", "The state file (as --state)."),
    ("CUTOVER_CONFIG", "The config file (as --config)."),
    ("CUTOVER_LOG", "The log level of the log file (error, warn, info, debug, trace); the log is redacted."),
    ("CUTOVER_API_KEY", "Set by cutover for a command check that passes the key on (pass_key), never read."),
    ("USER, LOGNAME", "Your name in the state file and the event log, unless --as names it."),
    ("NO_COLOR", "Set and not empty: no colours (emphasis stays)."),
    ("TERM", "linux, dumb or a vt100-style terminal: ASCII only, as --ascii."),
    (
        "LC_ALL, LC_CTYPE, LANG",
        "The guide's language, when the guide has it; a locale that is set and not UTF-8 means ASCII only.",
    ),
    (
        "XDG_CONFIG_HOME, XDG_DATA_HOME",
        "Where the config and data folders are (default ~/.config/cutover, ~/.local/share/cutover).",
    ),
    ("HOME", "The base of the default folders."),
];

const FILES: [(&str, &str); 7] = [
    ("~/.config/cutover/config.toml", "Settings: guide variables, API versions, base URLs, command checks, timeouts."),
    ("~/.config/cutover/secrets.toml", "API keys per guide and environment; must be mode 0600."),
    ("~/.config/cutover/guides/", "Guide files of your own (TOML); one with a built-in's id replaces it."),
    (
        "~/.local/share/cutover/state.toml",
        "Progress: statuses, notes, check verdicts, the event log (shareable between people, mode 0660 in a setgid folder).",
    ),
    ("~/.local/share/cutover/demo-state.toml", "The demo's progress, apart from the real one."),
    ("~/.local/share/cutover/evidence/", "Files attached with cutover evidence add, redacted of keys."),
    ("~/.local/share/cutover/logs/", "The log files (redacted)."),
];
