//! Presence beside the state file: who else has it open, one entry per
//! person, stale entries gone, untrusted and never through a link.

use super::store::{dir_names, mode, t};
use cutover::progress::presence::{self, Presence};
use cutover::progress::store::StoreError;
use jiff::Timestamp;
use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::time::Duration;

fn someone(user: &str, at: Timestamp) -> Presence {
    Presence {
        user: user.into(),
        host: "laptop".into(),
        tty: "/dev/pts/3".into(),
        role: "driver".into(),
        since: at,
        pid: 4242,
        refreshed: at,
    }
}

fn presence_dir(state: &Path) -> PathBuf {
    state.with_file_name("state.toml.presence")
}

#[test]
fn presence_announce_list_remove() {
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state.toml");
    let stale = Duration::from_secs(60);
    assert!(presence::list(&state, t(0), stale).is_empty());
    let a = presence::announce(&state, someone("alice", t(0)), true).unwrap();
    let b = presence::announce(&state, someone("bob", t(1)), true).unwrap();
    assert_ne!(a.path(), b.path());
    assert!(a.path().starts_with(presence_dir(&state)));
    assert_eq!(mode(a.path()), 0o600);
    assert_eq!(mode(&presence_dir(&state)), 0o700);
    let listed = presence::list(&state, t(2), stale);
    assert_eq!(listed.iter().map(|p| p.user.as_str()).collect::<Vec<_>>(), vec!["alice", "bob"]);
    assert_eq!(listed[0], someone("alice", t(0)));
    b.remove().unwrap();
    assert_eq!(presence::list(&state, t(2), stale).len(), 1);
    drop(a);
    assert!(presence::list(&state, t(2), stale).is_empty());
    assert!(dir_names(&presence_dir(&state)).is_empty(), "nothing left behind");
}

#[test]
fn presence_follows_a_shared_directory_whatever_the_state_files_mode() {
    let dir = tempfile::tempdir().unwrap();
    fs::set_permissions(dir.path(), fs::Permissions::from_mode(0o2770)).unwrap();
    let state = dir.path().join("state.toml");
    let a = presence::announce(&state, someone("alice", t(0)), true).unwrap();
    assert_eq!(mode(a.path()), 0o660);
    assert_eq!(mode(&presence_dir(&state)) & 0o7777, 0o2770);
}

#[test]
fn an_observer_announces_only_into_an_existing_presence_folder() {
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state.toml");
    assert!(presence::announce(&state, someone("jan", t(0)), false).is_err());
    assert!(!presence_dir(&state).exists(), "an observer created the presence folder");
    let _a = presence::announce(&state, someone("alice", t(0)), true).unwrap();
    let _j = presence::announce(&state, someone("jan", t(0)), false).unwrap();
    assert_eq!(presence::list(&state, t(1), Duration::from_secs(60)).len(), 2);
}

#[test]
fn a_dead_instance_on_this_host_is_gone_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state.toml");
    let mut child = std::process::Command::new("true").spawn().unwrap();
    let dead_pid = child.id();
    child.wait().unwrap();
    let host = cutover::paths::host_name();
    let dead = Presence { host: host.clone(), pid: dead_pid, ..someone("bob", t(0)) };
    let alive = Presence { host, pid: std::process::id(), ..someone("alice", t(0)) };
    let d = presence::announce(&state, dead, true).unwrap();
    std::mem::forget(d);
    let _a = presence::announce(&state, alive, true).unwrap();
    let listed = presence::list(&state, t(1), Duration::from_secs(45));
    assert_eq!(listed.iter().map(|p| p.user.as_str()).collect::<Vec<_>>(), vec!["alice"]);
}

#[test]
fn presence_is_one_entry_per_person_with_a_count() {
    let people = [
        someone("bob", t(0)),
        Presence { pid: 2, ..someone("bob", t(1)) },
        Presence { role: "observer".into(), ..someone("support-jan", t(2)) },
    ];
    assert_eq!(presence::summarize(&people), vec!["bob ×2".to_string(), "support-jan (observer)".to_string()]);
}

#[test]
fn presence_stale_entries_expire_and_refresh_keeps_alive() {
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state.toml");
    let stale = Duration::from_secs(30);
    let mut a = presence::announce(&state, someone("alice", t(0)), true).unwrap();
    let b = presence::announce(&state, someone("bob", t(0)), true).unwrap();
    let b_path = b.path().to_path_buf();
    std::mem::forget(b); // a cutover that was killed: its file stays behind
    assert_eq!(presence::list(&state, t(30), stale).len(), 2);
    a.refresh(t(50)).unwrap();
    assert_eq!(a.presence().refreshed, t(50));
    let listed = presence::list(&state, t(61), stale);
    assert_eq!(listed.iter().map(|p| p.user.as_str()).collect::<Vec<_>>(), vec!["alice"]);
    assert_eq!(listed[0].refreshed, t(50));
    assert!(!b_path.exists(), "the stale entry was deleted");
    assert!(presence::list(&state, t(81), stale).is_empty());
    // Deleted as stale, it comes back on the next refresh.
    a.refresh(t(90)).unwrap();
    assert_eq!(presence::list(&state, t(91), stale).len(), 1);
}

#[test]
fn presence_is_untrusted_and_symlinks_are_not_followed() {
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state.toml");
    let stale = Duration::from_secs(60);
    let _a = presence::announce(&state, someone("alice\u{1b}]0;pwned\u{7}\u{202e}", t(0)), true).unwrap();
    let pdir = presence_dir(&state);
    // A valid entry outside, linked in: not read, and not deleted.
    let outside = dir.path().join("outside.toml");
    let entry = toml::to_string(&someone("mallory", t(0))).unwrap();
    fs::write(&outside, &entry).unwrap();
    std::os::unix::fs::symlink(&outside, pdir.join("evil.toml")).unwrap();
    fs::write(pdir.join("garbage.toml"), b"\xff\xfe\x00").unwrap();
    fs::write(pdir.join("unknown.toml"), format!("{entry}extra = 1\n")).unwrap();
    let listed = presence::list(&state, t(1), stale);
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].user, "alice");
    assert_eq!(fs::read_to_string(&outside).unwrap(), entry, "the link's target is untouched");
    assert!(!pdir.join("garbage.toml").exists());
    assert!(!pdir.join("unknown.toml").exists());
}

#[test]
fn presence_dir_as_symlink_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state.toml");
    let elsewhere = dir.path().join("elsewhere");
    fs::create_dir(&elsewhere).unwrap();
    fs::write(elsewhere.join("x.toml"), toml::to_string(&someone("mallory", t(0))).unwrap()).unwrap();
    std::os::unix::fs::symlink(&elsewhere, presence_dir(&state)).unwrap();
    assert!(matches!(presence::announce(&state, someone("alice", t(0)), true), Err(StoreError::Unsafe { .. })));
    assert!(presence::list(&state, t(1), Duration::from_secs(60)).is_empty());
    assert_eq!(dir_names(&elsewhere).len(), 1);
}
