//! `cutover serve` end to end: the real binary serving on a loopback port,
//! the real OpenSSH client joining in pseudo-terminals with keys made by
//! ssh-keygen, the host key checked against the fingerprint the invite
//! printed. Invites, roles, refusals, revocation, resize, follow, a
//! stalled client, eight sessions, SIGTERM.

use crate::common;
use common::pty::{Pty, Sandbox, wait_until};
use common::ssh::{self, Served};
use std::path::PathBuf;

struct World {
    sb: Sandbox,
    served: Served,
}

fn world() -> World {
    let sb = Sandbox::new();
    let served = ssh::serve(&sb, &[]);
    ssh::known_hosts(&sb, &served);
    World { sb, served }
}

impl World {
    fn key(&self, name: &str) -> PathBuf {
        ssh::keygen(self.sb.path(), name)
    }

    /// An invite for `name` and a session joined with a new key.
    fn joined(&self, name: &str, role: &str) -> (Pty, String, PathBuf) {
        let (user, _) = ssh::invite(&self.sb, name, role, &[]);
        let key = self.key(&format!("id_{name}"));
        let p = ssh::join(&self.sb, &self.served, &key, &user, 100, 30);
        (p, user, key)
    }
}

fn open_postnl(p: &mut Pty) {
    p.send(b"\r");
    p.wait_for("Steps (10)");
}

#[test]
fn an_invite_joins_with_the_printed_host_key_and_an_editors_change_reaches_the_state_and_others() {
    let w = world();
    let (line_user, line) = ssh::invite(&w.sb, "jan", "editor", &[]);
    assert!(line.starts_with(&format!("ssh -p {} join-", w.served.port)), "{line}");
    assert!(line_user.len() >= 5 + 26 && !line_user[5..].starts_with('-'));
    let out = w.sb.command(&["invite", "--name", "x", "--role", "observer", "--json"]).output().unwrap();
    let j: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    for k in ["ssh", "user", "host", "port", "fingerprint", "role", "name", "expires"] {
        assert!(j.get(k).is_some(), "--json has {k}: {j}");
    }
    assert_eq!(j["fingerprint"], w.served.fingerprint.as_str());
    assert_eq!(j["port"], w.served.port);

    let key = w.key("id_jan");
    let mut jan = ssh::join(&w.sb, &w.served, &key, &line_user, 100, 30);
    open_postnl(&mut jan);
    let (mut piet, _, _) = w.joined("piet", "observer");
    open_postnl(&mut piet);
    piet.wait_for("jan (editor)");
    jan.wait_for("piet (observer)");

    // jan ticks step 1: the state file says so, and piet's screen too.
    jan.send(b" ");
    ssh::wait_state(&w.sb, "by = \"jan\"");
    piet.wait_for("1/10 steps done");

    // piet may change nothing.
    let before = std::fs::read_to_string(w.sb.state_file()).unwrap();
    piet.send(b"j ");
    piet.wait_for("read-only");
    piet.send(b"p");
    std::thread::sleep(std::time::Duration::from_millis(300));
    assert_eq!(std::fs::read_to_string(w.sb.state_file()).unwrap(), before, "an observer changed the state");

    // The server log names people and fingerprints, never the token.
    let log = std::fs::read_to_string(find_log(&w.sb)).unwrap();
    assert!(log.contains("\"name\":\"jan\"") && log.contains(&ssh::fingerprint_of(&key.with_extension("pub"))));
    assert!(!log.contains(&line_user[5..]), "the token reached the server log");
}

fn find_log(sb: &Sandbox) -> PathBuf {
    let serve = sb.path().join("data/cutover/serve");
    for e in std::fs::read_dir(&serve).unwrap() {
        let p = e.unwrap().path().join("connections.jsonl");
        if p.exists() {
            return p;
        }
    }
    panic!("no server log under {}", serve.display());
}

#[test]
fn a_spent_invite_takes_only_its_key_and_other_ways_in_are_refused() {
    let w = world();
    let (mut jan, user, key) = w.joined("jan", "editor");
    jan.send(b"q");
    jan.wait_exit();

    // Another key with the same user name: refused.
    let other = w.key("id_mallory");
    let (code, text) = ssh::ssh_output(&w.sb, &w.served, &other, &user, &["-tt"]);
    assert_ne!(code, 0, "{text}");
    assert!(text.contains("Permission denied"), "{text}");
    // Password authentication is not even offered.
    let (_, text) = ssh::ssh_output(
        &w.sb,
        &w.served,
        &other,
        &user,
        &["-o", "PreferredAuthentications=password,keyboard-interactive"],
    );
    assert!(text.contains("Permission denied (publickey)"), "{text}");

    // The bound key: a command is refused, and so are sftp and forwarding.
    let (code, text) = ssh::ssh_run(&w.sb, &w.served, &key, &user, &[], &["id"]);
    assert_ne!(code, 0);
    assert!(text.contains("no commands here, only the checklist"), "{text}");
    let (code, text) = ssh::ssh_output(&w.sb, &w.served, &key, &user, &["-s", "sftp"]);
    assert_ne!(code, 0, "{text}");
    let (code, text) = ssh::ssh_output(&w.sb, &w.served, &key, &user, &["-W", "127.0.0.1:22"]);
    assert_ne!(code, 0);
    assert!(text.contains("prohibited"), "{text}");
    let (code, text) = ssh::ssh_output(
        &w.sb,
        &w.served,
        &key,
        &user,
        &["-N", "-o", "ExitOnForwardFailure=yes", "-R", "0:127.0.0.1:22"],
    );
    assert_ne!(code, 0, "{text}");
    // Without a pty: one line that says how to connect.
    let (_, text) = ssh::ssh_output(&w.sb, &w.served, &key, &user, &["-T"]);
    assert!(text.contains("needs a terminal: connect with ssh -t"), "{text}");
}

#[test]
fn revoking_ends_a_live_session_and_refuses_it_after() {
    let w = world();
    let (mut jan, user, key) = w.joined("jan", "editor");
    let out = w.sb.command(&["access", "revoke", "jan"]).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    jan.wait_for("revoked");
    jan.wait_exit();
    let (code, text) = ssh::ssh_output(&w.sb, &w.served, &key, &user, &["-tt"]);
    assert_ne!(code, 0, "{text}");
    let list = w.sb.command(&["access", "list", "--json"]).output().unwrap();
    let j: serde_json::Value = serde_json::from_slice(&list.stdout).unwrap();
    assert_eq!(j["invites"][0]["revoked"], true, "{j}");
}

#[test]
fn each_session_has_its_size_and_language_and_follows_another() {
    let w = world();
    let (mut jan, _, _) = w.joined("jan", "editor");
    open_postnl(&mut jan);
    // A resize reaches the session: the screen is redrawn at the new size.
    jan.resize(140, 40);
    wait_until("a redraw at 140 columns", || jan.screen().lines().any(|l| l.trim_end().len() > 100));

    // A Dutch client gets the Dutch guide; a URL override is not taken.
    let (user, _) = ssh::invite(&w.sb, "piet", "editor", &[]);
    let key = w.key("id_piet");
    let cmd = ssh::ssh_command(
        &w.sb,
        &w.served,
        &key,
        &user,
        &["-tt", "-o", "SetEnv=LANG=nl_NL.UTF-8 CUTOVER_POSTNL_SANDBOX_URL=http://127.0.0.9:1"],
    );
    let mut piet = Pty::spawn_command(cmd, 100, 30);
    piet.wait_for("postnl");
    piet.send(b"\r");
    piet.wait_for("Stappen");
    assert!(!piet.screen().contains("127.0.0.9"), "a client's variable pointed the checks elsewhere");

    // piet follows jan: jan moves, piet's cursor goes along.
    piet.send(b"f");
    piet.wait_for("FOLLOWING jan");
    jan.send(b"jjj");
    piet.wait_for("Step 4");
    // Moving by hand stops following.
    piet.send(b"k");
    piet.wait_for("stopped following jan");
}

#[test]
fn a_stalled_client_delays_nobody_and_catches_up_when_it_runs_again() {
    let w = world();
    let (mut stalled, _, _) = w.joined("sam", "observer");
    open_postnl(&mut stalled);
    let (mut jan, _, _) = w.joined("jan", "editor");
    open_postnl(&mut jan);
    let (mut piet, _, _) = w.joined("piet", "observer");
    open_postnl(&mut piet);
    let pid = stalled.pid().unwrap() as i32;
    // SAFETY: stopping and continuing our own child.
    unsafe { libc::kill(pid, libc::SIGSTOP) };
    // Plenty of output for the stopped client while jan works: down to the
    // last step and back up, forty times, each leg waited for on jan's
    // screen (a leg's end shows only when all its keys are done), so no
    // key is queued behind another and none is dropped.
    for round in 0..40 {
        if round % 2 == 0 {
            jan.send(b"jjjjjjjjj");
            jan.wait_for("Step 10 ");
        } else {
            jan.send(b"kkkkkkkkk");
            jan.wait_for("Step 1 ");
        }
    }
    jan.send(b"jjjj");
    jan.wait_for("Step 5");
    jan.send(b" ");
    ssh::wait_state(&w.sb, "by = \"jan\"");
    piet.wait_for("1/10 steps done");
    unsafe { libc::kill(pid, libc::SIGCONT) };
    stalled.wait_for("1/10 steps done");
}

#[test]
fn an_observers_report_goes_to_its_clipboard_and_nothing_is_written_on_the_host() {
    let w = world();
    let (mut piet, _, _) = w.joined("piet", "observer");
    open_postnl(&mut piet);
    piet.send(b"R");
    piet.wait_for("report copied to your clipboard");
    let report = common::pty::last_clipboard(&piet.raw.lock().unwrap()).expect("an OSC 52 sequence");
    assert!(report.starts_with("# "), "{report}");
    assert!(report.contains("PostNL"), "{report}");
    assert!(report.lines().count() > 20, "the whole report: {report}");
    let mut found = Vec::new();
    common::pty::files_under(w.sb.path(), &mut found);
    found.retain(|p| p.file_name().is_some_and(|n| n.to_string_lossy().contains("-report-")));
    assert!(found.is_empty(), "a file on the host: {found:?}");
}

#[test]
fn eight_sessions_at_once_and_the_ninth_is_told() {
    let w = world();
    let mut sessions = Vec::new();
    for i in 0..8 {
        sessions.push(w.joined(&format!("p{i}"), "observer").0);
    }
    sessions[0].wait_for("+7");
    // Settled, an idle session writes nothing.
    std::thread::sleep(std::time::Duration::from_millis(500));
    let before = sessions[0].raw.lock().unwrap().len();
    std::thread::sleep(std::time::Duration::from_millis(1500));
    assert_eq!(sessions[0].raw.lock().unwrap().len(), before, "an idle session wrote to its client");
    let (user, _) = ssh::invite(&w.sb, "late", "observer", &[]);
    let key = w.key("id_late");
    let (_, text) = ssh::ssh_output(&w.sb, &w.served, &key, &user, &["-tt"]);
    assert!(text.contains("8 sessions are open"), "{text}");
}

#[test]
fn sigterm_tells_every_session_and_exits_cleanly() {
    let mut w = world();
    let (mut jan, _, _) = w.joined("jan", "editor");
    let (mut piet, _, _) = w.joined("piet", "observer");
    let pid = w.served.child.id() as i32;
    let start = std::time::Instant::now();
    // SAFETY: signalling our own child.
    unsafe { libc::kill(pid, libc::SIGTERM) };
    jan.wait_for("the host ended the session");
    piet.wait_for("the host ended the session");
    let status = w.served.child.wait().unwrap();
    eprintln!("serve stopped {} ms after SIGTERM", start.elapsed().as_millis());
    assert!(status.success(), "{status:?}");
    jan.wait_exit();
    piet.wait_exit();
}

#[test]
fn invite_without_a_server_is_a_usage_error() {
    let sb = Sandbox::new();
    let out = sb.command(&["invite", "--name", "jan", "--role", "editor"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("start `cutover serve` first"), "{err}");
}

#[test]
fn the_hosts_own_checklist_runs_beside_the_server_and_alone_does_what_editors_may_not() {
    let sb = Sandbox::new();
    let mut host = Pty::spawn(&sb, &["serve", "postnl", "--listen", "127.0.0.1:0"], 120, 36, &[]);
    host.wait_for("serving on 127.0.0.1:");
    // The fingerprint the host sees is the one the invite prints.
    let out = sb.command(&["invite", "--name", "jan", "--role", "editor", "--json"]).output().unwrap();
    let j: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let fp = j["fingerprint"].as_str().unwrap().to_string();
    host.send(b"?");
    host.wait_for(&fp);
    host.send(b"q");
    let served = Served::attach(j["port"].as_u64().unwrap() as u16, fp);
    ssh::known_hosts(&sb, &served);
    let key = ssh::keygen(sb.path(), "id_jan");
    let mut jan = ssh::join(&sb, &served, &key, j["user"].as_str().unwrap(), 120, 36);
    host.wait_for("jan joined as editor");
    host.wait_for("jan (editor)");
    jan.send(b"\r");
    jan.wait_for("Steps (10)");
    // A key is typed only by the host.
    jan.send(b"p");
    jan.wait_for("only the host can type a key");
    // A production check: the editor is told, the host sees the request.
    jan.send(b"G");
    jan.wait_for("Step 10");
    jan.send(b"c");
    jan.wait_for("only the host can run checks in production");
    host.wait_for("jan asks the host to run");
    // The host quits: the editor is told and disconnected.
    host.send(b"q");
    jan.wait_for("the host ended the session");
    jan.wait_exit();
    assert_eq!(host.wait_exit(), 0);
    drop(served);
}

#[test]
fn a_connection_that_does_not_authenticate_is_closed_after_ten_seconds() {
    use std::io::{Read, Write};
    let w = world();
    let mut s = std::net::TcpStream::connect(("127.0.0.1", w.served.port)).unwrap();
    s.set_read_timeout(Some(std::time::Duration::from_secs(30))).unwrap();
    s.write_all(b"SSH-2.0-OpenSSH_9.2 slowpoke\r\n").unwrap();
    let start = std::time::Instant::now();
    let mut buf = [0u8; 4096];
    // Read until the server closes; it never gets a key exchange from us.
    loop {
        match s.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(_) => {}
        }
    }
    let waited = start.elapsed();
    assert!(waited >= std::time::Duration::from_secs(9), "closed after {waited:?}");
    assert!(waited < std::time::Duration::from_secs(25), "still open after {waited:?}");
}

#[test]
fn an_editor_runs_a_sandbox_check_with_the_hosts_key_and_sees_no_character_of_it() {
    let sb = Sandbox::new();
    const KEY: &str = "0f3c9a7e-5b21-4d8e-9c44-77e1a2b3wxyz";
    // Nothing leaves loopback: the sandbox URL points at a closed port.
    let served = ssh::serve_with(
        &sb,
        &[],
        &[("POSTNL_SANDBOX_API_KEY", KEY), ("CUTOVER_POSTNL_SANDBOX_URL", "http://127.0.0.1:9")],
    );
    ssh::known_hosts(&sb, &served);
    let (user, _) = ssh::invite(&sb, "jan", "editor", &[]);
    let key = ssh::keygen(sb.path(), "id_jan");
    let mut jan = ssh::join(&sb, &served, &key, &user, 120, 36);
    jan.send(b"\r");
    jan.wait_for("Steps (10)");
    jan.send(b"jjjj");
    jan.wait_for("Step 5");
    jan.send(b"c");
    jan.wait_for("connection refused by 127.0.0.1:9");
    ssh::wait_state(&sb, "by = \"jan\"");
    // The secret check's line, further down the step.
    jan.send(b"JJ");
    jan.wait_for("••••••••");
    let raw = String::from_utf8_lossy(&jan.raw.lock().unwrap()).to_string();
    assert!(raw.contains("••••••••"), "the mask is shown");
    for part in [KEY, &KEY[KEY.len() - 4..], &KEY[..8]] {
        assert!(!raw.contains(part), "the remote screen showed {part:?}");
    }
    // The state keeps the host's usual mask, never the key.
    let state = std::fs::read_to_string(sb.state_file()).unwrap();
    assert!(!state.contains(KEY));
}

#[test]
fn a_change_by_another_process_on_the_same_state_shows_in_a_session() {
    let w = world();
    let (mut piet, _, _) = w.joined("piet", "observer");
    open_postnl(&mut piet);
    let out = w.sb.command(&["mark", "postnl", "3", "done", "--as", "alice"]).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    piet.wait_for("1/10 steps done");
}
