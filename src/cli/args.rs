//! The arguments: one definition, from which the help, the shell
//! completions and the man page are generated. Each command's own
//! arguments live in its file (`super::status::Status`, ...); this file
//! holds the options every command takes and the list of commands.

use super::tui::{Demo, TuiOptions};
use super::{access, check, completions, evidence, guides, invite, log, mark, open, report, serve, status};
use clap::{Args, Parser, Subcommand};
use std::ffi::OsString;
use std::path::PathBuf;

#[derive(Debug, Parser)]
#[command(name = "cutover", version, about = "Walks you through a carrier's API migration, step by step, and proves each step with a real check.", long_about = None)]
pub struct Cli {
    #[command(flatten)]
    pub global: Global,
    /// Without a command: the guide picker's options.
    #[command(flatten)]
    pub tui: TuiOptions,
    #[command(subcommand)]
    pub command: Option<Command>,
}

impl Cli {
    /// Reads the command line (`args` with the program's name first). The
    /// two starts typed most, none (the guide picker) and `open GUIDE`,
    /// read without building clap's command tree of every command, which
    /// took a sixth of the time to the first frame; anything else, or
    /// `CUTOVER_STATE` or `CUTOVER_CONFIG` set (`is_set`), is clap's.
    /// Tests prove the short way reads what clap reads.
    pub fn read(args: Vec<OsString>, is_set: &dyn Fn(&str) -> bool) -> Cli {
        Cli::quick(&args, is_set).unwrap_or_else(|| Cli::parse_from(args))
    }

    /// The short way, where it applies.
    pub fn quick(args: &[OsString], is_set: &dyn Fn(&str) -> bool) -> Option<Cli> {
        if is_set("CUTOVER_STATE") || is_set("CUTOVER_CONFIG") {
            return None;
        }
        let words: Vec<&str> = args.get(1..)?.iter().map(|a| a.to_str()).collect::<Option<_>>()?;
        let command = match words.as_slice() {
            [] => None,
            ["open", guide] if plain_word(guide) => {
                Some(Command::Open(open::Open { guide: guide.to_string(), tui: TuiOptions::default() }))
            }
            _ => return None,
        };
        Some(Cli { global: Global::default(), tui: TuiOptions::default(), command })
    }

    /// The options in effect: the global ones, with the checklist's from
    /// wherever they were given (`cutover --observe open postnl` or
    /// `cutover open postnl --observe`).
    pub fn options(&self) -> Global {
        let mut g = self.global.clone();
        let mut tui = self.tui.clone();
        match &self.command {
            Some(Command::Open(o)) => tui.merge(&o.tui),
            Some(Command::Demo(d)) => tui.merge(&d.tui),
            Some(Command::Serve(s)) => tui.merge(&s.tui),
            _ => {}
        }
        (g.ascii, g.mouse, g.observe) = (tui.ascii, tui.mouse, tui.observe);
        g
    }
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
    /// From [`TuiOptions`], set by [`Cli::options`].
    #[arg(skip)]
    pub ascii: bool,
    #[arg(skip)]
    pub mouse: bool,
    #[arg(skip)]
    pub observe: bool,
    /// Move an unreadable state file aside to a timestamped backup and start fresh.
    #[arg(long, global = true)]
    pub reset_state: bool,
    /// With --reset-state: move the state aside even though it reads fine.
    #[arg(long, global = true, requires = "reset_state")]
    pub force: bool,
}

/// A word that clap can only read as a value: no option, no space, nothing
/// outside ASCII letters, digits and `-_.`.
fn plain_word(s: &str) -> bool {
    !s.is_empty() && !s.starts_with('-') && s.chars().all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
}

/// The commands. A new one: a file in `src/cli/` with its arguments (a
/// `#[derive(Args)]` struct) and its `run`, a variant here (its doc comment
/// is the command's help line), and its arm in `super::run`.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Open a guide in the checklist (the default without a command is the guide picker).
    Open(open::Open),
    /// Progress of every guide, or one.
    Status(status::Status),
    /// Set a step's status: todo, in_progress (or in-progress), done, blocked, skipped (no question asked; --note sets the note).
    Mark(mark::Mark),
    /// Run the automated checks of a guide (or of some steps) and save the evidence.
    Check(check::Check),
    /// The hand-off report: every step, who and when, verdicts with redacted evidence, blockers.
    Report(report::Report),
    /// Your own request/response files for the validation set (redacted of configured keys on the way in).
    Evidence(evidence::Evidence),
    /// The event log of a guide: who changed what, when.
    Log(log::Log),
    /// List the guides, or validate a guide file.
    Guides(guides::Guides),
    /// A local fake carrier API with demo keys, and the checklist pointed at it.
    Demo(Demo),
    /// The checklist over SSH for pair sessions: invites and roles, no shell (see cutover invite).
    Serve(serve::Serve),
    /// A line to send to someone who joins the running cutover serve (as editor or observer).
    Invite(invite::Invite),
    /// Who may join cutover serve (list), and taking someone's access away (revoke).
    Access(access::Access),
    /// Shell completions for bash, zsh, fish, elvish or powershell.
    Completions(completions::Completions),
    /// The man page, in roff.
    Man,
}

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

#[cfg(test)]
mod tests {
    use super::*;

    fn argv(words: &[&str]) -> Vec<OsString> {
        std::iter::once("cutover").chain(words.iter().copied()).map(OsString::from).collect()
    }

    /// Where the short way reads a command line, it reads what clap reads;
    /// everything else it leaves to clap.
    #[test]
    fn the_short_way_reads_what_clap_reads_and_nothing_else() {
        let unset = |_: &str| false;
        for words in [&[][..], &["open", "postnl"], &["open", "posti"], &["open", "my-guide_2.v1"], &["open", "help"]] {
            let quick = Cli::quick(&argv(words), &unset).unwrap_or_else(|| panic!("{words:?}: not read the short way"));
            let clap = Cli::try_parse_from(argv(words)).unwrap_or_else(|e| panic!("{words:?}: {e}"));
            assert_eq!(format!("{quick:?}"), format!("{clap:?}"), "{words:?}");
        }
        for words in [
            &["open"][..],
            &["open", "--help"],
            &["open", "-h"],
            &["open", "postnl", "--observe"],
            &["open", "a", "b"],
            &["open", "gids met spatie"],
            &["open", "gïds"],
            &["open", ""],
            &["--observe"],
            &["--state", "x.toml", "open", "postnl"],
            &["status"],
            &["demo"],
            &["-V"],
        ] {
            assert!(Cli::quick(&argv(words), &unset).is_none(), "{words:?} must be clap's");
        }
        for var in ["CUTOVER_STATE", "CUTOVER_CONFIG"] {
            let set = move |k: &str| k == var;
            assert!(Cli::quick(&argv(&[]), &set).is_none(), "{var} set: clap reads it");
            assert!(Cli::quick(&argv(&["open", "postnl"]), &set).is_none(), "{var} set: clap reads it");
        }
        assert!(Cli::quick(&[], &unset).is_none(), "no program name");
        use std::os::unix::ffi::OsStringExt;
        let odd = vec![OsString::from("cutover"), OsString::from("open"), OsString::from_vec(vec![0xff, b'x'])];
        assert!(Cli::quick(&odd, &unset).is_none(), "not UTF-8");
    }
}
