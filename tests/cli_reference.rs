//! The command-line reference: help for every argument, the values it
//! takes, completions that know the guides and their steps, and a man page
//! with the keys, the environment, the files and the exit codes, naming no
//! page that does not exist.

mod common;
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
    for shell in ["bash", "zsh"] {
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
