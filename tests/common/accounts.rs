//! Real Unix accounts for the tests that need other uids (CI runs as root):
//! commands that must succeed, a copy of the binary every account can run,
//! and removing what a run created.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;

/// Runs `cmd`; a failure fails the test with its stderr.
pub fn run(cmd: &str, args: &[&str]) {
    let out = Command::new(cmd).args(args).output().unwrap_or_else(|e| panic!("{cmd}: {e}"));
    assert!(out.status.success(), "{cmd} {args:?}: {}", String::from_utf8_lossy(&out.stderr));
}

/// The test binary copied to `dir/bin/cutover`, mode 0755, where every
/// account can run it (the build dir may not be reachable for them).
pub fn public_binary(dir: &Path) -> PathBuf {
    let bin_dir = dir.join("bin");
    std::fs::create_dir(&bin_dir).unwrap();
    let bin = bin_dir.join("cutover");
    std::fs::copy(env!("CARGO_BIN_EXE_cutover"), &bin).unwrap();
    std::fs::set_permissions(&bin, std::fs::Permissions::from_mode(0o755)).unwrap();
    bin
}

/// Removes the accounts (their processes first, then the account and its
/// home) and the group. Never fails: it runs on drop, also after a failed
/// assertion.
pub fn remove_accounts(users: &[String], group: &str) {
    for u in users {
        let _ = Command::new("pkill").args(["-KILL", "-u", u]).status();
        let _ = Command::new("userdel").args(["-r", "-f", u]).status();
    }
    let _ = Command::new("groupdel").arg(group).status();
}
