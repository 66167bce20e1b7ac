//! The command-line reference: help for every argument, the values it
//! takes, completions that know the guides and their steps, and a man page
//! with the keys, the environment, the files and the exit codes, naming no
//! page that does not exist.

use crate::common;
use common::pty::Sandbox;

fn run(sb: &Sandbox, args: &[&str]) -> (String, String, Option<i32>) {
    let o = sb.command(args).output().unwrap();
    (String::from_utf8_lossy(&o.stdout).into(), String::from_utf8_lossy(&o.stderr).into(), o.status.code())
}

#[test]
fn every_argument_and_option_of_every_command_has_help() {
    fn walk(cmd: &clap::Command, path: &str, missing: &mut Vec<String>) {
        for a in cmd.get_arguments() {
            if a.get_id() != "help" && a.get_id() != "version" && a.get_help().is_none() {
                missing.push(format!("{path} {}", a.get_id()));
            }
        }
        for s in cmd.get_subcommands() {
            walk(s, &format!("{path} {}", s.get_name()), missing);
        }
    }
    let cmd = <cutover::cli::Cli as clap::CommandFactory>::command();
    let mut missing = Vec::new();
    walk(&cmd, "cutover", &mut missing);
    assert!(missing.is_empty(), "no help text: {missing:?}");
}

#[test]
fn the_man_page_has_keys_environment_files_and_exit_status_and_names_no_missing_page() {
    let sb = Sandbox::new();
    let (man, _, code) = run(&sb, &["man"]);
    assert_eq!(code, Some(0));
    for section in [".SH COMMANDS", ".SH KEYS", ".SH ENVIRONMENT", ".SH FILES", ".SH \"EXIT STATUS\""] {
        assert!(man.contains(section), "{section} missing");
    }
    // No page of its own for a subcommand: none may be named.
    assert!(!man.contains("(1)"), "names a page:\n{man}");
    assert!(!man.contains("cutover\\-open"), "{man}");
    for (code, _) in cutover::cli::exit::TABLE {
        assert!(man.contains(&format!(".TP\n\\fB{code}\\fR\n")), "exit {code} missing");
    }
    // The keys come from the keymap.
    for (_, bindings) in cutover::app::keymap::grouped(false, false) {
        for b in bindings {
            assert!(man.contains(&format!("\\fB{}\\fR", b.label.replace('-', "\\-"))), "key {} missing", b.label);
        }
    }
    for var in ["POSTNL_SANDBOX_API_KEY", "CUTOVER_<GUIDE>_<ENV>_URL", "NO_COLOR", "CUTOVER_STATE"] {
        assert!(man.contains(&var.replace('-', "\\-")), "{var} missing");
    }
    // Every command, with its arguments and the values they take.
    for usage in ["cutover mark", "cutover check", "cutover evidence add", "cutover guides validate"] {
        assert!(man.contains(&format!("\\fB{}\\fR", usage.replace('-', "\\-"))), "{usage} missing");
    }
    assert!(man.contains("Possible values: todo, in_progress, in\\-progress, done, blocked, skipped."), "{man}");
    assert!(man.contains("Possible values: postnl, posti."), "{man}");
    assert!(man.contains("Possible values: production, sandbox."), "{man}");
}

#[test]
fn completions_know_guides_steps_statuses_and_environments() {
    let sb = Sandbox::new();
    for shell in ["bash", "zsh", "fish"] {
        let (script, _, code) = run(&sb, &["completions", shell]);
        assert_eq!(code, Some(0));
        for word in ["postnl", "posti", "sandbox-api-key", "open-omaposti-pro", "in_progress", "blocked", "production"]
        {
            assert!(script.contains(word), "{shell}: {word} missing");
        }
    }
    // A guide of one's own is completed too.
    std::fs::create_dir_all(sb.config_dir().join("guides")).unwrap();
    let own = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/assets/guides/posti.toml"))
        .unwrap()
        .replacen("id = \"posti\"", "id = \"acme-post\"", 1);
    std::fs::write(sb.config_dir().join("guides/acme.toml"), own).unwrap();
    let (script, _, _) = run(&sb, &["completions", "bash"]);
    assert!(script.contains("acme-post"), "own guide not completed");
}

#[test]
fn statuses_are_checked_and_listed_by_the_parser() {
    let sb = Sandbox::new();
    let (_, err, code) = run(&sb, &["mark", "postnl", "3", "finished"]);
    assert_eq!(code, Some(2));
    assert!(err.contains("todo, in_progress, in-progress, done, blocked, skipped"), "{err}");
    let (_, err, code) = run(&sb, &["mark", "postnl", "3", "in-progress"]);
    assert_eq!(code, Some(0), "{err}");
}

/// What fish offers after `line`, from the script cutover generates.
fn fish_complete(script: &std::path::Path, line: &str) -> Vec<String> {
    let o = std::process::Command::new("fish")
        .arg("--no-config")
        .arg("-c")
        .arg(format!("source {}; complete -C '{line}'", script.display()))
        .output()
        .unwrap_or_else(|e| panic!("fish must be installed for this test (.ci/run installs it): {e}"));
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(o.stderr.is_empty(), "fish said: {}", String::from_utf8_lossy(&o.stderr));
    String::from_utf8_lossy(&o.stdout).lines().map(|l| l.split('\t').next().unwrap_or_default().to_string()).collect()
}

#[test]
fn fish_completes_guides_steps_statuses_and_environments_like_bash_and_zsh() {
    let sb = Sandbox::new();
    let (script, _, code) = run(&sb, &["completions", "fish"]);
    assert_eq!(code, Some(0));
    let path = sb.path().join("cutover.fish");
    std::fs::write(&path, script).unwrap();
    let has = |line: &str, want: &[&str], not: &[&str]| {
        let got = fish_complete(&path, line);
        for w in want {
            assert!(got.iter().any(|g| g == w), "{line:?}: {w} missing from {got:?}");
        }
        for n in not {
            assert!(!got.iter().any(|g| g == n), "{line:?}: {n} offered: {got:?}");
        }
    };
    has("cutover open ", &["postnl", "posti"], &["todo"]);
    // A guide's own steps, by number and id, once the guide is typed.
    has("cutover mark posti ", &["1", "open-omaposti-pro"], &["sandbox-api-key"]);
    has("cutover mark postnl ", &["5", "sandbox-api-key"], &["open-omaposti-pro"]);
    // Options and their values do not count as positionals.
    has("cutover --as bob mark postnl 3 ", &["todo", "in_progress", "blocked"], &["postnl", "5"]);
    has("cutover check --env sandbox postnl ", &["5", "sandbox-api-key"], &[]);
    // check takes many steps.
    has("cutover check postnl 5 ", &["8", "sandbox-integration"], &[]);
    has("cutover evidence add postnl ", &["8", "sandbox-integration"], &[]);
    has("cutover check postnl --env ", &["sandbox", "production"], &[]);
    has("cutover status ", &["postnl", "posti"], &[]);
    has("cutover completions ", &["bash", "zsh", "fish"], &[]);
}

#[test]
fn checklist_options_are_in_the_help_of_the_commands_that_open_it_only() {
    let sb = Sandbox::new();
    let tui_only = ["--ascii", "--mouse", "--observe"];
    for args in [&["--help"][..], &["open", "--help"], &["demo", "--help"]] {
        let (help, _, code) = run(&sb, args);
        assert_eq!(code, Some(0), "{args:?}");
        for o in tui_only {
            assert!(help.contains(&format!("      {o} ")), "{args:?} does not offer {o}:\n{help}");
        }
    }
    let headless: &[&[&str]] = &[
        &["man"],
        &["completions"],
        &["status"],
        &["mark"],
        &["check"],
        &["report"],
        &["log"],
        &["evidence"],
        &["evidence", "add"],
        &["evidence", "list"],
        &["guides"],
        &["guides", "validate"],
    ];
    for cmd in headless {
        let mut args = cmd.to_vec();
        args.push("--help");
        let (help, _, code) = run(&sb, &args);
        assert_eq!(code, Some(0), "{args:?}");
        assert!(help.contains("--state"), "{args:?}: the global options are still there:\n{help}");
        for o in tui_only {
            assert!(!help.contains(o), "{args:?} offers {o}:\n{help}");
        }
    }
    // The man page lists them under the checklist's commands, not the others.
    let (man, _, _) = run(&sb, &["man"]);
    let section = |name: &str| {
        let start = man.find(&format!(".TP\n\\fBcutover {name}\\fR")).unwrap_or_else(|| panic!("{name} missing"));
        let rest = &man[start + 4..];
        rest[..rest.find(".TP\n\\fBcutover ").unwrap_or(rest.len())].to_string()
    };
    assert!(section("open").contains("\\-\\-observe"), "{}", section("open"));
    assert!(section("demo").contains("\\-\\-mouse"), "{}", section("demo"));
    assert!(!section("mark").contains("\\-\\-observe"), "{}", section("mark"));
    // Given before or after `open`, they take effect; before a command that
    // changes the state, --observe still refuses.
    for argv in [&["cutover", "--observe", "open", "postnl"][..], &["cutover", "open", "postnl", "--observe"]] {
        let cli = <cutover::cli::Cli as clap::Parser>::try_parse_from(argv).unwrap();
        assert!(cli.options().observe, "{argv:?}");
    }
    let cli = <cutover::cli::Cli as clap::Parser>::try_parse_from(["cutover", "demo", "--ascii", "--mouse"]).unwrap();
    assert!(cli.options().ascii && cli.options().mouse && !cli.options().observe);
    let (_, err, code) = run(&sb, &["--observe", "mark", "postnl", "3", "done"]);
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("read-only (--observe): nothing was changed"), "{err}");
    let (_, err, code) = run(&sb, &["mark", "postnl", "3", "done", "--observe"]);
    assert_eq!(code, Some(2));
    assert!(err.contains("unexpected argument '--observe'"), "{err}");
}
