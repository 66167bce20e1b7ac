//! `cutover man`: the man page, in roff, from the command line's own
//! definition, the keymap and the exit table.

use super::exit::{CliError, CliResult};
use super::{Cli, Env};
use std::io::Write;

/// `cutover man`.
pub fn run(env: &Env, out: &mut dyn Write) -> CliResult {
    let cmd = super::with_values(<Cli as clap::CommandFactory>::command(), &env.catalog());
    man_page(cmd, out).map_err(|e| CliError::fail(format!("cannot write the man page: {e}")))
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
    for (code, what) in super::exit::TABLE {
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

const ENVIRONMENT: [(&str, &str); 13] = [
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
    (
        "CUTOVER_HYPERLINKS",
        "1: write the guide's URLs as OSC 8 hyperlinks; 0: never. Unset: where the terminal is known to show them (by TERM_PROGRAM, TERM, VTE_VERSION, KONSOLE_VERSION or WT_SESSION; inside tmux from 3.4 on), never with --ascii or TERM=dumb or linux.",
    ),
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
