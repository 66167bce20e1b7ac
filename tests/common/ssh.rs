//! `cutover serve` on a loopback port and the real OpenSSH client joining
//! it in pseudo-terminals: keys made by ssh-keygen, the host key checked
//! against the fingerprint the invite printed (StrictHostKeyChecking=yes).
#![allow(dead_code)]

use super::pty::{CommandBuilder, Pty, Sandbox, wait_until};
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

/// A headless `cutover serve`, killed when dropped.
pub struct Served {
    pub child: Child,
    pub port: u16,
    pub fingerprint: String,
}

impl Served {
    /// A server this test did not start (the host's own, in a PTY): its
    /// port and fingerprint, and a placeholder process that is already
    /// finished.
    pub fn attach(port: u16, fingerprint: String) -> Served {
        let child = Command::new("true").spawn().unwrap();
        Served { child, port, fingerprint }
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts `cutover serve --headless` on a free port; waits for its line.
pub fn serve(sb: &Sandbox, extra: &[&str]) -> Served {
    serve_with(sb, extra, &[])
}

/// As [`serve`], with variables for the server process (keys, URLs).
pub fn serve_with(sb: &Sandbox, extra: &[&str], vars: &[(&str, &str)]) -> Served {
    let mut args = vec!["serve", "--headless", "--listen", "127.0.0.1:0"];
    args.extend_from_slice(extra);
    let mut cmd = sb.command(&args);
    for (k, v) in vars {
        cmd.env(k, v);
    }
    let mut child = cmd.stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
    let stdout = child.stdout.take().unwrap();
    let mut line = String::new();
    BufReader::new(stdout).read_line(&mut line).unwrap();
    // "listening on 127.0.0.1:PORT, host key SHA256:..."
    let rest = line.trim().strip_prefix("listening on 127.0.0.1:").unwrap_or_else(|| {
        let mut e = String::new();
        let _ = std::io::Read::read_to_string(child.stderr.as_mut().unwrap(), &mut e);
        panic!("serve did not start: {line:?} {e}")
    });
    let (port, fp) = rest.split_once(", host key ").unwrap();
    Served { child, port: port.parse().unwrap(), fingerprint: fp.to_string() }
}

/// An ed25519 key pair made by ssh-keygen; returns the private key's path.
pub fn keygen(dir: &Path, name: &str) -> PathBuf {
    let path = dir.join(name);
    let ok = Command::new("ssh-keygen")
        .args(["-q", "-t", "ed25519", "-N", "", "-C", name, "-f"])
        .arg(&path)
        .status()
        .unwrap()
        .success();
    assert!(ok, "ssh-keygen failed");
    path
}

/// `ssh-keygen -lf` of a public key: the fingerprint's column.
pub fn fingerprint_of(pubkey: &Path) -> String {
    let out = Command::new("ssh-keygen").arg("-lf").arg(pubkey).output().unwrap();
    String::from_utf8_lossy(&out.stdout).split_whitespace().nth(1).unwrap().to_string()
}

/// Writes a known_hosts file holding the server's host key, after checking
/// that its fingerprint is the one the server and the invite printed.
pub fn known_hosts(sb: &Sandbox, served: &Served) -> PathBuf {
    let key = sb.path().join("data/cutover/serve/host_ed25519");
    let out = Command::new("ssh-keygen").arg("-y").arg("-f").arg(&key).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let public = String::from_utf8_lossy(&out.stdout).trim().to_string();
    let pubfile = sb.path().join("host.pub");
    std::fs::write(&pubfile, format!("{public}\n")).unwrap();
    assert_eq!(fingerprint_of(&pubfile), served.fingerprint, "the printed fingerprint is the host key's");
    let kh = sb.path().join("known_hosts");
    std::fs::write(&kh, format!("[127.0.0.1]:{} {public}\n", served.port)).unwrap();
    kh
}

/// Makes an invite through the binary; returns (user, the printed line).
pub fn invite(sb: &Sandbox, name: &str, role: &str, extra: &[&str]) -> (String, String) {
    let mut args = vec!["invite", "--name", name, "--role", role];
    args.extend_from_slice(extra);
    let out = sb.command(&args).output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(out.status.success(), "invite failed: {text}{}", String::from_utf8_lossy(&out.stderr));
    let line = text.lines().find(|l| l.trim_start().starts_with("ssh -p")).unwrap().trim().to_string();
    let user = line.split_whitespace().last().unwrap().split('@').next().unwrap().to_string();
    (user, line)
}

/// The ssh command line for joining: no config file, no agent, only this
/// key, the host key checked strictly.
pub fn ssh_command(sb: &Sandbox, served: &Served, key: &Path, user: &str, extra: &[&str]) -> CommandBuilder {
    let kh = sb.path().join("known_hosts");
    let mut cmd = CommandBuilder::new("ssh");
    cmd.args(["-F", "/dev/null", "-o", "StrictHostKeyChecking=yes", "-o", "IdentitiesOnly=yes"]);
    cmd.args(["-o", "BatchMode=yes", "-o", "LogLevel=ERROR", "-o", "ConnectTimeout=10"]);
    cmd.arg("-o");
    cmd.arg(format!("UserKnownHostsFile={}", kh.display()));
    cmd.arg("-i");
    cmd.arg(key);
    cmd.arg("-p");
    cmd.arg(served.port.to_string());
    for e in extra {
        cmd.arg(e);
    }
    cmd.arg(format!("{user}@127.0.0.1"));
    cmd.env_clear();
    cmd.env("PATH", std::env::var("PATH").unwrap_or_default());
    cmd.env("HOME", sb.path().join("home"));
    cmd.env("TERM", "xterm-256color");
    cmd.env("LANG", "C.UTF-8");
    cmd
}

/// Joins in a pseudo-terminal and waits for the guide list.
pub fn join(sb: &Sandbox, served: &Served, key: &Path, user: &str, cols: u16, rows: u16) -> Pty {
    let cmd = ssh_command(sb, served, key, user, &["-tt"]);
    let p = Pty::spawn_command(cmd, cols, rows);
    p.wait_for("postnl");
    p
}

/// Runs ssh without a pty (a command, a subsystem); returns (exit code,
/// stdout and stderr together).
pub fn ssh_output(sb: &Sandbox, served: &Served, key: &Path, user: &str, extra: &[&str]) -> (i32, String) {
    ssh_run(sb, served, key, user, extra, &[])
}

/// As [`ssh_output`], with a command after the destination.
pub fn ssh_run(
    sb: &Sandbox,
    served: &Served,
    key: &Path,
    user: &str,
    extra: &[&str],
    command: &[&str],
) -> (i32, String) {
    let kh = sb.path().join("known_hosts");
    let mut c = Command::new("ssh");
    c.args(["-F", "/dev/null", "-o", "StrictHostKeyChecking=yes", "-o", "IdentitiesOnly=yes", "-o", "BatchMode=yes"]);
    c.args(["-o", "ConnectTimeout=10", "-o"]).arg(format!("UserKnownHostsFile={}", kh.display()));
    c.arg("-i").arg(key).arg("-p").arg(served.port.to_string());
    c.args(extra);
    c.arg(format!("{user}@127.0.0.1"));
    c.args(command);
    c.env_clear().env("PATH", std::env::var("PATH").unwrap_or_default()).env("HOME", sb.path().join("home"));
    c.stdin(Stdio::null());
    let out = c.output().unwrap();
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    (out.status.code().unwrap_or(-1), text)
}

/// Waits until the state file holds `needle`.
pub fn wait_state(sb: &Sandbox, needle: &str) {
    wait_until(&format!("the state file to hold {needle:?}"), || {
        std::fs::read_to_string(sb.state_file()).is_ok_and(|s| s.contains(needle))
    });
}
