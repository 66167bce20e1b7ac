//! The README's pair session with real Unix accounts: two engineers and a
//! support observer, one shared group, each logging in through a real sshd
//! on loopback (its own host key, config and port; the system's sshd is
//! never touched). The accounts and the group are made for this run and
//! removed after it. Needs root (CI runs as root) and OpenSSH (`.ci/run`
//! installs it); without root it says it was skipped and why.

use crate::common;
use common::pty::{CommandBuilder, Pty, wait_until};
use std::fs;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::{Child, Command};

const SSHD: &str = "/usr/sbin/sshd";

use common::accounts::{public_binary, remove_accounts, run};

/// Everything this run made outside its temp dir, removed on drop (also
/// when an assertion fails).
struct World {
    users: Vec<String>,
    group: String,
    sshd: Option<Child>,
    base: tempfile::TempDir,
}

impl Drop for World {
    fn drop(&mut self) {
        if let Some(mut c) = self.sshd.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
        remove_accounts(&self.users, &self.group);
        let _ = &self.base;
    }
}

fn mode(p: &Path) -> u32 {
    fs::symlink_metadata(p).unwrap().mode() & 0o7777
}

/// The README's observer line, with this run's key, state and binary.
fn readme_observer_line(bin: &Path, state: &Path, pubkey: &str) -> String {
    let readme = fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    let line = readme
        .lines()
        .find(|l| l.starts_with("restrict,pty,command=\"cutover --observe"))
        .expect("the README has the observer's authorized_keys line");
    let key_at = line.find(" ssh-ed25519 ").expect("the line ends in a key");
    let options = &line[..key_at];
    assert!(options.contains("/srv/cutover/acme.toml"), "{options}");
    let options = options
        .replace("command=\"cutover ", &format!("command=\"{} ", bin.display()))
        .replace("/srv/cutover/acme.toml", &state.display().to_string());
    format!("{options} {}", pubkey.trim())
}

#[test]
fn two_engineers_and_an_observer_over_real_ssh_logins() {
    // SAFETY: no preconditions.
    if unsafe { libc::geteuid() } != 0 {
        eprintln!(
            "SKIPPED two_engineers_and_an_observer_over_real_ssh_logins: needs root to create Unix accounts and run sshd (CI runs as root)"
        );
        return;
    }
    assert!(Path::new(SSHD).exists(), "{SSHD} missing: .ci/run installs openssh-server");
    let tag = format!("cv{}{}", std::process::id() % 100_000, fastrand_suffix());
    let (alice, bob, support, group) = (format!("{tag}a"), format!("{tag}b"), format!("{tag}s"), format!("{tag}g"));
    let base = tempfile::tempdir().unwrap();
    fs::set_permissions(base.path(), fs::Permissions::from_mode(0o755)).unwrap();
    let mut world = World { users: vec![], group: group.clone(), sshd: None, base };
    let root = world.base.path().to_path_buf();

    // The binary where every account can run it.
    let bin = public_binary(&root);

    // The README: a group, the accounts in it, a setgid group directory.
    run("groupadd", &[&group]);
    let homes = root.join("home");
    fs::create_dir(&homes).unwrap();
    fs::set_permissions(&homes, fs::Permissions::from_mode(0o755)).unwrap();
    let keys = root.join("keys");
    fs::create_dir(&keys).unwrap();
    for u in [&alice, &bob, &support] {
        let home = homes.join(u);
        run("useradd", &["-m", "-d", home.to_str().unwrap(), "-s", "/bin/sh", "-G", &group, u]);
        world.users.push(u.clone());
        // Not locked (pubkey only): sshd without PAM refuses a locked account.
        run("usermod", &["-p", "*", u]);
        run("ssh-keygen", &["-q", "-t", "ed25519", "-N", "", "-f", keys.join(u).to_str().unwrap()]);
    }
    let srv = root.join("srv");
    run("install", &["-d", "-m", "2770", "-g", &group, srv.to_str().unwrap()]);
    let state = srv.join("acme.toml");
    let gid = fs::metadata(&srv).unwrap().gid();

    for u in [&alice, &bob, &support] {
        let pubkey = fs::read_to_string(keys.join(format!("{u}.pub"))).unwrap();
        let line = if *u == support { readme_observer_line(&bin, &state, &pubkey) } else { pubkey };
        let ssh_dir = homes.join(u).join(".ssh");
        fs::create_dir_all(&ssh_dir).unwrap();
        fs::write(ssh_dir.join("authorized_keys"), format!("{line}\n")).unwrap();
        fs::set_permissions(ssh_dir.join("authorized_keys"), fs::Permissions::from_mode(0o600)).unwrap();
        fs::set_permissions(&ssh_dir, fs::Permissions::from_mode(0o700)).unwrap();
        run("chown", &["-R", &format!("{u}:{u}"), ssh_dir.to_str().unwrap()]);
    }

    // Our own sshd on a free loopback port.
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let host_key = root.join("host_key");
    run("ssh-keygen", &["-q", "-t", "ed25519", "-N", "", "-f", host_key.to_str().unwrap()]);
    let config = root.join("sshd_config");
    fs::write(
        &config,
        format!(
            "Port {port}\nListenAddress 127.0.0.1\nHostKey {}\nPidFile {}\nAuthorizedKeysFile .ssh/authorized_keys\n\
             PasswordAuthentication no\nKbdInteractiveAuthentication no\nUsePAM no\nPermitRootLogin no\n\
             AllowUsers {alice} {bob} {support}\nPrintMotd no\nPrintLastLog no\nStrictModes yes\nLogLevel VERBOSE\n",
            host_key.display(),
            root.join("sshd.pid").display()
        ),
    )
    .unwrap();
    // The privilege separation folder the package's service would make.
    fs::create_dir_all("/run/sshd").unwrap();
    let log = root.join("sshd.log");
    world.sshd = Some(
        Command::new(SSHD).args(["-D", "-f", config.to_str().unwrap(), "-E", log.to_str().unwrap()]).spawn().unwrap(),
    );
    wait_until("sshd to listen", || std::net::TcpStream::connect(("127.0.0.1", port)).is_ok());

    let login = |user: &str, remote: Option<&str>| -> Pty {
        let mut cmd = CommandBuilder::new("ssh");
        cmd.env_clear();
        cmd.env("PATH", std::env::var("PATH").unwrap_or_default());
        cmd.env("TERM", "xterm-256color");
        cmd.env("HOME", root.display().to_string());
        let key = keys.join(user);
        let port = port.to_string();
        for a in [
            "-tt",
            "-F",
            "/dev/null",
            "-i",
            key.to_str().unwrap(),
            "-p",
            &port,
            "-o",
            "StrictHostKeyChecking=no",
            "-o",
            "UserKnownHostsFile=/dev/null",
            "-o",
            "BatchMode=yes",
            "-o",
            "LogLevel=ERROR",
            &format!("{user}@127.0.0.1"),
        ] {
            cmd.arg(a);
        }
        if let Some(r) = remote {
            cmd.arg(r);
        }
        Pty::spawn_command(cmd, 100, 30)
    };
    let readme_cmd = format!("{} --state {} open postnl", bin.display(), state.display());
    let sshd_log = || fs::read_to_string(&log).unwrap_or_default();

    // The first engineer: the first change creates the shared files.
    let mut a = login(&alice, Some(&readme_cmd));
    let shown = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| a.wait_for("0/10 steps done")));
    assert!(shown.is_ok(), "alice's login failed; sshd log:\n{}", sshd_log());
    a.send(b" ");
    a.wait_for("1/10 steps done");
    wait_until("the state file", || state.exists());

    // The second engineer, no hand fix in between.
    let mut b = login(&bob, Some(&readme_cmd));
    b.wait_for("1/10 steps done");
    b.wait_for(&format!("+1: {alice}"));
    a.wait_for(&format!("+1: {bob}"));
    b.send(b"j");
    b.wait_for("Step 2");
    b.send(b" ");
    b.wait_for("2/10 steps done");
    a.wait_for("2/10 steps done");
    a.wait_for(&format!("{bob}: "));

    // The observer: its forced command, whatever the client asks for.
    let mut s = login(&support, Some("sh -c 'echo shell'"));
    s.wait_for("2/10 steps done");
    s.wait_for("OBSERVING");
    assert!(!s.screen().contains("not announced"), "{}", s.screen());
    a.wait_for("support-jan (observer)");
    s.send(b" ");
    s.wait_for("read-only");
    s.send(b"R");
    s.wait_for("report written to");
    let reports = homes.join(&support).join(".local/share/cutover/reports");
    wait_until("the observer's report", || fs::read_dir(&reports).map(|d| d.count() > 0).unwrap_or(false));

    for p in [&mut s, &mut b, &mut a] {
        p.send(b"q");
        p.wait_exit();
    }

    // Every file beside the state: 0660 (folders 2770), the shared group;
    // nothing left by the observer.
    let support_uid = fs::metadata(homes.join(&support)).unwrap().uid();
    let mut seen: Vec<PathBuf> = Vec::new();
    let mut stack = vec![srv.clone()];
    while let Some(d) = stack.pop() {
        for e in fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            let m = fs::symlink_metadata(&p).unwrap();
            if m.is_dir() {
                assert_eq!(mode(&p), 0o2770, "{}", p.display());
                stack.push(p.clone());
            } else {
                assert_eq!(mode(&p), 0o660, "{}", p.display());
            }
            assert_eq!(m.gid(), gid, "{} has another group", p.display());
            assert_ne!(m.uid(), support_uid, "the observer wrote {}", p.display());
            seen.push(p);
        }
    }
    let names: Vec<String> = seen.iter().map(|p| p.file_name().unwrap().to_string_lossy().into_owned()).collect();
    for want in ["acme.toml", "acme.toml.lock", "acme.toml.presence"] {
        assert!(names.iter().any(|n| n == want), "{want} missing: {names:?}");
    }
    let text = fs::read_to_string(&state).unwrap();
    assert_eq!(text.matches("status = \"done\"").count(), 2, "{text}");
    assert!(text.contains(&format!("by = \"{alice}\"")) && text.contains(&format!("by = \"{bob}\"")), "{text}");
}

fn fastrand_suffix() -> String {
    let t = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.subsec_nanos()).unwrap_or(0);
    (0..3).map(|i| char::from(b'a' + ((t >> (i * 5)) % 26) as u8)).collect()
}
