//! The README's tmux variant of a pair session, as written: the engineer
//! starts cutover in tmux on a socket in the shared setgid directory, makes
//! it group-writable and admits the support account read-only with
//! `server-access -r`; support attaches, sees the checklist as it changes
//! and cannot type into it; another member of the group is refused. Real
//! Unix accounts and a group, made for this run and removed after it
//! (needs root, as CI runs; without root it says it was skipped and why).
//! Needs tmux 3.3 or later (`.ci/run` installs tmux).

use crate::common;
use common::pty::{CommandBuilder, Pty, wait_until};
use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::process::{Command, Output};

use common::accounts::{public_binary, remove_accounts, run};

/// Accounts and group of this run, removed on drop.
struct World {
    users: Vec<String>,
    group: String,
    socket: String,
    owner: String,
}

impl Drop for World {
    fn drop(&mut self) {
        let _ = as_user(&self.owner, &format!("tmux -S '{}' kill-server", self.socket));
        remove_accounts(&self.users, &self.group);
    }
}

/// A home of the user's own (removed with the account).
fn home(user: &str) -> String {
    format!("/tmp/{user}-home")
}

/// `sh -c line` as `user` with its groups, a home of its own and no
/// locale.
fn as_user(user: &str, line: &str) -> Output {
    Command::new("setpriv")
        .args(["--reuid", user, "--regid", user, "--init-groups", "--", "sh", "-c", line])
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("HOME", home(user))
        .env("TERM", "xterm-256color")
        .output()
        .unwrap()
}

/// The README's tmux block, its paths, binary and viewer replaced by this
/// run's.
fn readme_tmux_lines() -> Vec<String> {
    let readme = fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    let lines: Vec<String> = readme
        .lines()
        .filter(|l| l.starts_with("tmux -S /srv/cutover/tmux.sock") || l.starts_with("chmod 660 /srv/cutover"))
        .map(str::to_string)
        .collect();
    assert_eq!(lines.len(), 4, "the README's tmux block: {lines:?}");
    lines
}

#[test]
fn a_read_only_viewer_on_the_readme_tmux_socket() {
    // SAFETY: no preconditions.
    if unsafe { libc::geteuid() } != 0 {
        eprintln!(
            "SKIPPED a_read_only_viewer_on_the_readme_tmux_socket: needs root to create Unix accounts (CI runs as root)"
        );
        return;
    }
    let version = Command::new("tmux").arg("-V").output().expect("tmux is needed (.ci/run installs it)");
    let version = String::from_utf8_lossy(&version.stdout).to_string();
    let (major, minor) = version
        .trim()
        .trim_start_matches("tmux ")
        .split_once('.')
        .map(|(a, b)| (a.parse::<u32>().unwrap_or(0), b.chars().take_while(char::is_ascii_digit).collect::<String>()))
        .unwrap_or_default();
    assert!(
        major > 3 || major == 3 && minor.parse::<u32>().unwrap_or(0) >= 3,
        "server-access needs tmux 3.3: {version}"
    );

    let tag = format!("ct{}", std::process::id() % 100_000);
    let (alice, support, other, group) = (format!("{tag}a"), format!("{tag}s"), format!("{tag}o"), format!("{tag}g"));
    let base = tempfile::tempdir().unwrap();
    fs::set_permissions(base.path(), fs::Permissions::from_mode(0o755)).unwrap();
    let srv = base.path().join("srv");
    let socket = srv.join("tmux.sock").display().to_string();
    let mut world = World { users: vec![], group: group.clone(), socket: socket.clone(), owner: alice.clone() };
    run("groupadd", &[&group]);
    for u in [&alice, &support, &other] {
        run("useradd", &["-m", "-d", &home(u), "-s", "/bin/sh", "-G", &group, u]);
        world.users.push(u.clone());
    }
    let bin = public_binary(base.path());
    run("install", &["-d", "-m", "2770", "-g", &group, srv.to_str().unwrap()]);

    let lines: Vec<String> = readme_tmux_lines()
        .into_iter()
        .map(|l| {
            l.replace(" cutover --state", &format!(" {} --state", bin.display()))
                .replace("/srv/cutover", srv.to_str().unwrap())
                .replace("-r support", &format!("-r {support}"))
        })
        .collect();
    // Alice: the session, the socket for the group, support read-only. Her
    // own attach (the last line) is the person at the keyboard: here she
    // types through send-keys instead.
    for line in &lines[..3] {
        let out = as_user(&alice, line);
        assert!(out.status.success(), "{line}: {}", String::from_utf8_lossy(&out.stderr));
    }
    let mode = fs::metadata(&socket).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o660, "the socket after the README's chmod");
    use std::os::unix::fs::MetadataExt;
    assert_eq!(fs::metadata(&socket).unwrap().gid(), fs::metadata(&srv).unwrap().gid(), "the socket's group");

    // Support attaches as the README says, in a real terminal.
    let viewer_line = &lines[3];
    let mut cmd = CommandBuilder::new("setpriv");
    cmd.args(["--reuid", &support, "--regid", &support, "--init-groups", "--", "sh", "-c", viewer_line]);
    cmd.env_clear();
    cmd.env("PATH", std::env::var("PATH").unwrap_or_default());
    cmd.env("HOME", home(&support));
    cmd.env("TERM", "xterm-256color");
    let mut viewer = Pty::spawn_command(cmd, 100, 30);
    viewer.wait_for("0/10 steps done");
    // Nothing the viewer types reaches cutover.
    viewer.send(b" ");
    viewer.send(b"j ");
    std::thread::sleep(std::time::Duration::from_millis(500));
    let pane = |who: &str| {
        String::from_utf8_lossy(&as_user(who, &format!("tmux -S '{socket}' capture-pane -p -t pair")).stdout)
            .into_owned()
    };
    assert!(pane(&alice).contains("0/10 steps done"), "the viewer's keys changed the checklist:\n{}", pane(&alice));
    let state = srv.join("acme.toml");
    assert!(!fs::read_to_string(&state).unwrap_or_default().contains("done"), "the viewer marked a step");
    // Alice's change shows on the viewer's screen.
    let out = as_user(&alice, &format!("tmux -S '{socket}' send-keys -t pair Space"));
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    viewer.wait_for("1/10 steps done");
    wait_until("alice's change saved", || fs::read_to_string(&state).is_ok_and(|s| s.contains("status = \"done\"")));
    // Another member of the group, not admitted, is refused (tmux 3.3a
    // says so but exits 0): what it sends does not arrive.
    let out = as_user(&other, &format!("tmux -S '{socket}' send-keys -t pair j Space"));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("access not allowed"),
        "a user not added could connect: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    std::thread::sleep(std::time::Duration::from_millis(500));
    assert!(pane(&alice).contains("1/10 steps done"), "{}", pane(&alice));
    viewer.send(b"q");
}
