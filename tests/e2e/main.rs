//! End to end: the real binary in real pseudo-terminals, tmux, the real
//! OpenSSH client against `cutover serve` and against sshd, other Unix
//! accounts, signals. Every test has its own HOME and XDG dirs.

#[path = "../common/mod.rs"]
mod common;

mod binary;
mod checks;
mod cli_reference;
mod copy;
mod handoff;
mod leak;
mod pair;
mod pty;
mod report;
mod serve;
mod ssh_accounts;
mod terminal_faults;
mod tmux;
mod tmux_shared;
