//! `cutover completions SHELL`.

use super::{Cli, Env, exit};
use clap::Args;
use std::io::Write;

#[derive(Debug, Args)]
pub struct Completions {
    /// The shell to complete for.
    #[arg(value_name = "SHELL")]
    pub shell: clap_complete::Shell,
}

impl Completions {
    pub fn run(&self, env: &Env, out: &mut dyn Write) -> i32 {
        completions(env, self.shell, out)
    }
}

/// Shell completions: subcommands and options, statuses, and the guide
/// ids, step numbers and ids and environments of the guides known now.
fn completions(env: &Env, shell: clap_complete::Shell, out: &mut dyn Write) -> i32 {
    let mut cmd = super::with_values(<Cli as clap::CommandFactory>::command(), &env.catalog());
    clap_complete::generate(shell, &mut cmd, "cutover", out);
    exit::OK
}
