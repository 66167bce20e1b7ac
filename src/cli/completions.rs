//! `cutover completions SHELL`.

use super::exit::CliResult;
use super::{Cli, Env};
use clap::Args;
use std::io::Write;

#[derive(Debug, Args)]
pub struct Completions {
    /// The shell to complete for.
    #[arg(value_name = "SHELL")]
    pub shell: clap_complete::Shell,
}

impl Completions {
    pub fn run(&self, env: &Env, out: &mut dyn Write) -> CliResult {
        completions(env, self.shell, out)
    }
}

/// Shell completions: subcommands and options, statuses, and the guide
/// ids, step numbers and ids and environments of the guides known now.
fn completions(env: &Env, shell: clap_complete::Shell, out: &mut dyn Write) -> CliResult {
    let mut cmd = super::with_values(<Cli as clap::CommandFactory>::command(), &env.catalog());
    clap_complete::generate(shell, &mut cmd, "cutover", out);
    if shell == clap_complete::Shell::Fish {
        let _ = out.write_all(fish_positionals(&cmd, &env.catalog()).as_bytes());
    }
    Ok(())
}

/// The fish functions the positional completions below use.
const FISH_HELPERS: &str = r#"
# Values of the positional arguments (clap's fish script completes options only).
function __fish_cutover_words
    # The words typed so far after `cutover`, without options and their values.
    set -l skip 0
    for w in (commandline -opc)[2..-1]
        if test $skip = 1
            set skip 0
            continue
        end
        switch $w
            case VALUE_OPTIONS
                set skip 1
            case '-*'
            case '*'
                echo $w
        end
    end
end

function __fish_cutover_at
    # __fish_cutover_at MIN MAX GUIDE PATH...: true if the next word is
    # positional MIN to MAX (from 0, MAX "any": no end) of the command PATH,
    # and its first positional is GUIDE ("-": any).
    set -l min $argv[1]
    set -l max $argv[2]
    set -l guide $argv[3]
    set -l path $argv[4..-1]
    set -l words (__fish_cutover_words)
    set -l depth (count $path)
    test (count $words) -ge $depth; or return 1
    for i in (seq $depth)
        test "$words[$i]" = "$path[$i]"; or return 1
    end
    set -l n (math (count $words) - $depth)
    if test $guide != -
        test $n -ge 1; or return 1
        set -l at (math $depth + 1)
        test "$words[$at]" = $guide; or return 1
    end
    test $n -ge $min; or return 1
    test $max = any; or test $n -le $max
end
"#;

/// clap's fish script completes options only; this completes the values
/// of positional arguments too, as bash and zsh do: guide ids, statuses,
/// shells, and a guide's own step numbers and ids once the guide is typed.
fn fish_positionals(cmd: &clap::Command, catalog: &crate::guide::Catalog) -> String {
    let mut takes_value: Vec<String> = Vec::new();
    collect_value_options(cmd, &mut takes_value);
    takes_value.sort();
    takes_value.dedup();
    let cases: Vec<String> = takes_value.iter().map(|o| format!("'{o}'")).collect();
    let mut out = FISH_HELPERS.replace("VALUE_OPTIONS", &cases.join(" "));
    positionals(cmd, catalog, &[], &mut out);
    out
}

fn collect_value_options(cmd: &clap::Command, out: &mut Vec<String>) {
    for a in cmd.get_arguments().filter(|a| !a.is_positional() && a.get_action().takes_values()) {
        out.extend(a.get_long().map(|l| format!("--{l}")));
        out.extend(a.get_short().map(|s| format!("-{s}")));
    }
    for s in cmd.get_subcommands() {
        collect_value_options(s, out);
    }
}

fn positionals(cmd: &clap::Command, catalog: &crate::guide::Catalog, path: &[&str], out: &mut String) {
    let line = |out: &mut String, min: usize, max: &str, guide: &str, values: &[(String, String)]| {
        if values.is_empty() {
            return;
        }
        let values: Vec<String> =
            values.iter().map(|(v, help)| format!("{}\\t'{}'", fish_escape(v), fish_escape(help))).collect();
        out.push_str(&format!(
            "complete -c cutover -n \"__fish_cutover_at {min} {max} {} {}\" -f -a \"{}\"\n",
            fish_escape(guide),
            path.join(" "),
            values.join("\n")
        ));
    };
    if !path.is_empty() {
        for (i, a) in cmd.get_positionals().enumerate() {
            let many = matches!(a.get_num_args(), Some(r) if r.max_values() > 1);
            let max = if many { "any".to_string() } else { i.to_string() };
            if matches!(a.get_id().as_str(), "step" | "steps") {
                // A guide's own steps, by number and by id.
                for l in &catalog.guides {
                    let g = &l.guide;
                    let mut values = Vec::new();
                    for s in g.all_items() {
                        let title = s.title.get("en", &g.languages).to_string();
                        if let Some(n) = s.number {
                            values.push((n.to_string(), title.clone()));
                        }
                        values.push((s.id().to_string(), title));
                    }
                    line(out, i, &max, g.id(), &values);
                }
                continue;
            }
            let values: Vec<(String, String)> = a
                .get_possible_values()
                .iter()
                .filter(|v| !v.is_hide_set())
                .map(|v| (v.get_name().to_string(), v.get_help().map(|h| h.to_string()).unwrap_or_default()))
                .collect();
            line(out, i, &max, "-", &values);
        }
    }
    for s in cmd.get_subcommands().filter(|s| s.get_name() != "help") {
        let mut p = path.to_vec();
        p.push(s.get_name());
        positionals(s, catalog, &p, out);
    }
}

/// For text inside fish's single quotes within double quotes: no quote,
/// backslash, dollar or newline can end either early.
fn fish_escape(s: &str) -> String {
    s.chars()
        .filter_map(|c| match c {
            '\'' | '"' | '\\' | '$' | '`' | '(' | ')' => None,
            '\n' | '\t' => Some(' '),
            c if c.is_control() => None,
            c => Some(c),
        })
        .collect()
}
