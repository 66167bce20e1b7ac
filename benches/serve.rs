//! `cutover serve` against the way the README describes without it
//! (OpenSSH with a forced `cutover` command), with the release binary and
//! the real OpenSSH client (`ssh -tt`) in a pseudo-terminal of 100x30:
//!
//! 1. Connect to first frame: from the spawn of `ssh` to the read after
//!    which the screen equals, cell for cell, the guide picker the route
//!    settles on (taken from an untimed connection: nothing written for
//!    half a second, and it must be whole: header, the "Guides" box top to
//!    bottom with both guides, the footer). The routes alternate, with the
//!    same client, key type and terminal:
//!    - `cutover serve --headless` on loopback, joined as an observer of
//!      the access list (`access.toml` in the config dir);
//!    - our own `sshd` on a free loopback port (its own config and host
//!      key, `UsePAM no`, root with `PermitRootLogin forced-commands-only`)
//!      and the key line `restrict,pty,environment=...,command="<release
//!      cutover> --observe --as bench --state ..."`: the README's observer
//!      line, run through the account's login shell as sshd does, with the
//!      sandbox's HOME, XDG dirs, locale and clock (so the shell reads no
//!      rc file of this machine's root). Needs root and /usr/sbin/sshd;
//!      otherwise it says why it was skipped;
//!    - the same with `-o KexAlgorithms=curve25519-sha256`, the key
//!      exchange cutover serve negotiates (OpenSSH 9 prefers
//!      sntrup761x25519, which costs the client and sshd more CPU), to tell
//!      the key exchange apart from the rest of the route.
//!
//!    Target: the serve route no slower than the OpenSSH route (as the
//!    client chooses).
//! 2. Keypress to frame: 1 and 8 sessions joined to one `cutover serve`,
//!    each with the postnl guide open; in one of them `j` and `k` alternate,
//!    each timed from the write of the key to the read after which the
//!    screen equals the frame for the new selection, cell for cell. The
//!    other sessions show where everyone is, so each press redraws them
//!    too. Target: p99 under 10 ms with 8 sessions.
//! 3. Memory per additional session: the server's VmRSS (and VmHWM) with 1
//!    and with 8 sessions in the checklist, on a fresh server before any
//!    key was pressed. Target: (rss8 - rss1) / 7 under 2 MiB.
//!
//! The server's config lifts `[serve] connections_per_minute` so that the
//! rounds are not refused as a connection flood.
//!
//! `cargo bench --bench serve` (BENCH_RUNS=n connections per route, default
//! 20; BENCH_PRESSES=n per case, default 300; BENCH_BEFORE=path runs the
//! keypress and memory cases with another build of cutover too, first).

mod common;
use common::*;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

const COLS: u16 = 100;
const ROWS: u16 = 30;
const SSHD: &str = "/usr/sbin/sshd";
/// Sessions of the keypress and memory cases.
const SESSIONS: usize = 8;

fn no_skip(_: &str) -> bool {
    false
}

/// The p-th percentile (0..=100) of a set of samples, nearest rank.
fn percentile(samples: &[f64], p: f64) -> f64 {
    let mut v = samples.to_vec();
    v.sort_by(|a, b| a.total_cmp(b));
    if v.is_empty() {
        return f64::NAN;
    }
    let rank = ((v.len() as f64 * p / 100.0).ceil() as usize).clamp(1, v.len());
    v[rank - 1]
}

/// "p50 12.30 ms, p90 14.00 ms, max 15.20 ms (min 11.00 ms, n 20)"
fn p50_p90(samples: &[f64]) -> String {
    let s = Stats::of(samples);
    format!(
        "p50 {:.2} ms, p90 {:.2} ms, max {:.2} ms (min {:.2} ms, n {})",
        s.median,
        percentile(samples, 90.0),
        s.max,
        s.min,
        s.n
    )
}

/// A field of /proc/PID/status in KiB ("VmRSS", "VmHWM").
fn status_kib(pid: u32, field: &str) -> Res<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
    let prefix = format!("{field}:");
    status
        .lines()
        .find_map(|l| l.strip_prefix(&prefix))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .ok_or_else(|| err(format!("no {field} in /proc/{pid}/status")))
}

/// CPU time a process has used (user and system), in milliseconds.
fn cpu_ms(pid: u32) -> Res<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat"))?;
    // After the command name in parentheses: state is field 3, utime 14,
    // stime 15.
    let rest = stat.rsplit_once(')').map(|(_, r)| r).ok_or_else(|| err("malformed /proc/<pid>/stat"))?;
    let f: Vec<&str> = rest.split_whitespace().collect();
    let ticks =
        |i: usize| f.get(i).and_then(|v| v.parse::<f64>().ok()).ok_or_else(|| err("malformed /proc/<pid>/stat"));
    // SAFETY: sysconf has no preconditions.
    let hz = unsafe { libc::sysconf(libc::_SC_CLK_TCK) }.max(1) as f64;
    Ok((ticks(11)? + ticks(12)?) * 1000.0 / hz)
}

fn mib(kib: u64) -> f64 {
    kib as f64 / 1024.0
}

/// A program on PATH, as a full path.
fn on_path(name: &str) -> Option<PathBuf> {
    std::env::var_os("PATH").and_then(|p| std::env::split_paths(&p).map(|d| d.join(name)).find(|p| p.is_file()))
}

fn run(cmd: &mut Command) -> Res<String> {
    let out = cmd.output()?;
    if !out.status.success() {
        return Err(err(format!("{cmd:?} failed: {}", String::from_utf8_lossy(&out.stderr))));
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// An ed25519 key pair made by ssh-keygen; (private key path, public line).
fn keygen(dir: &Path, name: &str) -> Res<(PathBuf, String)> {
    let path = dir.join(name);
    run(Command::new("ssh-keygen").args(["-q", "-t", "ed25519", "-N", "", "-C", name, "-f"]).arg(&path))?;
    let public = std::fs::read_to_string(path.with_extension("pub"))?.trim().to_string();
    Ok((path, public))
}

/// How the client reaches one route.
struct Route {
    name: &'static str,
    port: u16,
    user: String,
    known_hosts: PathBuf,
    home: PathBuf,
    /// More `ssh` options.
    options: Vec<String>,
}

impl Route {
    /// `ssh -tt` as tests/common/ssh.rs runs it: no config file, no agent,
    /// only this key, the host key checked strictly.
    fn ssh_args(&self, key: &Path) -> Vec<String> {
        let mut a: Vec<String> = ["-F", "/dev/null", "-o", "StrictHostKeyChecking=yes", "-o", "IdentitiesOnly=yes"]
            .map(String::from)
            .to_vec();
        a.extend(["-o", "BatchMode=yes", "-o", "LogLevel=ERROR", "-o", "ConnectTimeout=10"].map(String::from));
        a.push("-o".into());
        a.push(format!("UserKnownHostsFile={}", self.known_hosts.display()));
        a.push("-i".into());
        a.push(key.display().to_string());
        a.push("-p".into());
        a.push(self.port.to_string());
        a.extend(self.options.iter().cloned());
        a.push("-tt".into());
        a.push(format!("{}@127.0.0.1", self.user));
        a
    }

    fn client_env(&self) -> Vec<(String, String)> {
        vec![
            ("HOME".into(), self.home.display().to_string()),
            ("TERM".into(), "xterm-256color".into()),
            ("LANG".into(), "C.UTF-8".into()),
        ]
    }

    /// Starts `ssh -tt` in a new terminal; (terminal, instant before the spawn).
    fn connect(&self, ssh: &Path, key: &Path) -> Res<(Term, Instant)> {
        let mut term = Term::open(COLS, ROWS)?;
        let args = self.ssh_args(key);
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let t0 = term.spawn(ssh, &args, &self.client_env(), &self.home)?;
        Ok((term, t0))
    }

    /// The negotiated key exchange and cipher, from `ssh -v` (untimed).
    fn negotiated(&self, ssh: &Path, key: &Path) -> String {
        let args = self.ssh_args(key).into_iter().map(|a| match a.as_str() {
            "-tt" => "-T".to_string(),
            "LogLevel=ERROR" => "LogLevel=DEBUG1".to_string(),
            _ => a,
        });
        let mut cmd = Command::new(ssh);
        cmd.arg("-v").args(args);
        cmd.env_clear().envs(self.client_env()).stdin(Stdio::null()).stdout(Stdio::null()).stderr(Stdio::piped());
        let Ok(out) = cmd.output() else { return "unknown".into() };
        let text = String::from_utf8_lossy(&out.stderr);
        let kex = text.lines().find_map(|l| l.split_once("kex: algorithm: ").map(|(_, k)| k.trim().to_string()));
        let cipher = text.lines().find_map(|l| {
            l.split_once("kex: server->client cipher: ")
                .and_then(|(_, c)| c.split_whitespace().next())
                .map(String::from)
        });
        format!("kex {}, cipher {}", kex.unwrap_or_else(|| "?".into()), cipher.unwrap_or_else(|| "?".into()))
    }
}

/// One connection to first frame: from the spawn of ssh to the read after
/// which the screen equals `want`; then `q`, and the client must exit 0.
fn connect_once(route: &Route, ssh: &Path, key: &Path, want: Arc<vt100::Screen>) -> Res<f64> {
    let mut term = Term::open(COLS, ROWS)?;
    term.arm(move |s| same_screen(s, &want, &no_skip));
    let args = route.ssh_args(key);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let t0 = term.spawn(ssh, &args, &route.client_env(), &route.home)?;
    let hit = term.wait_hit(DEADLINE).map_err(|e| err(format!("{}: {e}", route.name)))?;
    let code = term.quit()?;
    if code != 0 {
        return Err(err(format!("{}: ssh exited with {code} after q", route.name)));
    }
    Ok(ms(hit.duration_since(t0)))
}

/// The frame a route settles on, from an untimed connection; an error if it
/// is not whole.
fn reference(route: &Route, ssh: &Path, key: &Path) -> Res<vt100::Screen> {
    let (mut term, _) = route.connect(ssh, key)?;
    term.wait_for(picker_whole).map_err(|e| err(format!("{}: {e}", route.name)))?;
    term.wait_quiet(Duration::from_millis(500))?;
    let screen = term.screen();
    term.quit()?;
    if !picker_whole(&screen) {
        return Err(err(format!("{}: the settled frame is not whole:\n{}", route.name, screen.contents())));
    }
    Ok(screen)
}

/// A headless `cutover serve`, killed when dropped.
struct Served {
    child: Child,
    port: u16,
    known_hosts: PathBuf,
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A sandbox for `cutover serve` whose access list holds `keys` as
/// observers p0, p1, ...; its config lifts the connection rate limit.
fn serve_sandbox(keys: &[String]) -> Res<Sandbox> {
    let sb = Sandbox::new();
    let config = sb.config_dir();
    std::fs::create_dir_all(&config)?;
    std::fs::write(config.join("config.toml"), "[serve]\nconnections_per_minute = 100000\n")?;
    let mut access = String::new();
    for (i, k) in keys.iter().enumerate() {
        access.push_str(&format!("[[person]]\nname = \"p{i}\"\nrole = \"observer\"\nkeys = [\"{k}\"]\n\n"));
    }
    std::fs::write(config.join("access.toml"), access)?;
    Ok(sb)
}

/// Progress saved by the host before anyone joins: step 1 of postnl done,
/// so that every route shows a saved state.
fn seed_state(bin: &Path, sb: &Sandbox) -> Res<()> {
    let state = sb.state_file().display().to_string();
    run(Command::new(bin)
        .args(["--state", &state, "mark", "postnl", "1", "done", "--as", "host"])
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .envs(sb.env())
        .current_dir(sb.path()))?;
    Ok(())
}

/// The cells that differ between two screens, for an error.
fn differences(a: &vt100::Screen, b: &vt100::Screen) -> String {
    let (r, c) = a.size();
    let mut diffs = Vec::new();
    for y in 0..r.get() {
        for x in 0..c.get() {
            if !same_cell(a.cell(y, x), b.cell(y, x)) {
                diffs.push(format!("{y},{x}: {:?} -> {:?}", a.cell(y, x), b.cell(y, x)));
            }
        }
    }
    diffs.truncate(10);
    diffs.join("\n")
}

/// Starts `cutover --state STATE serve --headless --listen 127.0.0.1:0` and
/// writes a known_hosts file with its host key.
fn serve(bin: &Path, sb: &Sandbox) -> Res<Served> {
    let state = sb.state_file();
    let mut child = Command::new(bin)
        .args(["--state", &state.display().to_string(), "serve", "--headless", "--listen", "127.0.0.1:0"])
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .envs(sb.env())
        .current_dir(sb.path())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()?;
    let stdout = child.stdout.take().ok_or_else(|| err("no stdout"))?;
    let mut line = String::new();
    BufReader::new(stdout).read_line(&mut line)?;
    // "listening on 127.0.0.1:PORT, host key SHA256:..."
    let port = line
        .trim()
        .strip_prefix("listening on 127.0.0.1:")
        .and_then(|r| r.split_once(", host key "))
        .and_then(|(p, _)| p.parse().ok());
    let Some(port) = port else {
        let _ = child.kill();
        return Err(err(format!("cutover serve did not start: {line:?}")));
    };
    let host_key = sb.path().join("data/cutover/serve/host_ed25519");
    let public = run(Command::new("ssh-keygen").arg("-y").arg("-f").arg(&host_key))?;
    let known_hosts = sb.path().join("known_hosts");
    std::fs::write(&known_hosts, format!("[127.0.0.1]:{port} {}\n", public.trim()))?;
    Ok(Served { child, port, known_hosts })
}

/// Our own sshd on a loopback port, killed when dropped.
struct Sshd {
    child: Child,
    port: u16,
    known_hosts: PathBuf,
    _dir: tempfile::TempDir,
}

impl Drop for Sshd {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Why the OpenSSH route cannot run here, if it cannot.
fn sshd_missing() -> Option<String> {
    // SAFETY: no preconditions.
    if unsafe { libc::geteuid() } != 0 {
        return Some("needs root to run its own sshd and log in with a forced command".into());
    }
    if !Path::new(SSHD).exists() {
        return Some(format!("{SSHD} is missing (install openssh-server)"));
    }
    None
}

/// sshd on a free loopback port that takes only `pubkey`, for root, with a
/// forced command: the release cutover on `sb`'s state, as the observer
/// line of the README has it. The sandbox's environment comes from the key
/// line (`environment=`), so the forced command sees the same HOME, XDG
/// dirs, locale and clock as the server of the other route.
fn sshd(bin: &Path, sb: &Sandbox, pubkey: &str) -> Res<Sshd> {
    let dir = tempfile::tempdir()?;
    let port = std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
    let (host_key, host_pub) = keygen(dir.path(), "host_ed25519")?;
    let mut options = String::from("restrict,pty");
    for (k, v) in sb.env() {
        options.push_str(&format!(",environment=\"{k}={v}\""));
    }
    let state = sb.state_file();
    options.push_str(&format!(",command=\"{} --observe --as bench --state {}\"", bin.display(), state.display()));
    let authorized = dir.path().join("authorized_keys");
    std::fs::write(&authorized, format!("{options} {pubkey}\n"))?;
    let config = dir.path().join("sshd_config");
    std::fs::write(
        &config,
        format!(
            "Port {port}\nListenAddress 127.0.0.1\nHostKey {}\nPidFile {}\nAuthorizedKeysFile {}\n\
             PasswordAuthentication no\nKbdInteractiveAuthentication no\nUsePAM no\n\
             PermitRootLogin forced-commands-only\nAllowUsers root\nPermitUserEnvironment yes\n\
             PrintMotd no\nPrintLastLog no\nStrictModes no\nLogLevel ERROR\n\
             MaxStartups 100\nPerSourceMaxStartups none\n",
            host_key.display(),
            dir.path().join("sshd.pid").display(),
            authorized.display(),
        ),
    )?;
    // The privilege separation folder the package's service would make.
    std::fs::create_dir_all("/run/sshd")?;
    run(Command::new(SSHD).args(["-t", "-f"]).arg(&config))?;
    let log = dir.path().join("sshd.log");
    let child = Command::new(SSHD).args(["-D", "-f"]).arg(&config).arg("-E").arg(&log).spawn()?;
    let start = Instant::now();
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        if start.elapsed() > DEADLINE {
            return Err(err(format!(
                "sshd did not listen; log: {}",
                std::fs::read_to_string(&log).unwrap_or_default()
            )));
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    let known_hosts = dir.path().join("known_hosts");
    std::fs::write(&known_hosts, format!("[127.0.0.1]:{port} {host_pub}\n"))?;
    Ok(Sshd { child, port, known_hosts, _dir: dir })
}

/// The processes running `bin` whose command line holds `needle`.
fn pids_of(bin: &Path, needle: &str) -> Vec<u32> {
    let mut out = Vec::new();
    let Ok(dir) = std::fs::read_dir("/proc") else { return out };
    for e in dir.flatten() {
        let Some(pid) = e.file_name().to_str().and_then(|s| s.parse::<u32>().ok()) else { continue };
        let exe = std::fs::read_link(e.path().join("exe")).ok();
        let cmdline = std::fs::read(e.path().join("cmdline")).unwrap_or_default();
        let cmdline = String::from_utf8_lossy(&cmdline).replace('\0', " ");
        if exe.as_deref() == Some(bin) && cmdline.contains(needle) {
            out.push(pid);
        }
    }
    out
}

/// Connect to first frame, both routes alternating.
fn first_frame(bin: &Path, ssh: &Path, runs: usize) -> Res<()> {
    let keys_dir = tempfile::tempdir()?;
    let (key, public) = keygen(keys_dir.path(), "id_bench")?;
    let serve_sb = serve_sandbox(std::slice::from_ref(&public))?;
    seed_state(bin, &serve_sb)?;
    let served = serve(bin, &serve_sb)?;
    let mut routes = vec![Route {
        name: "cutover serve",
        port: served.port,
        user: "p0".into(),
        known_hosts: served.known_hosts.clone(),
        home: serve_sb.path().join("home"),
        options: Vec::new(),
    }];
    let ssh_sb = Sandbox::new();
    seed_state(bin, &ssh_sb)?;
    let sshd = match sshd_missing() {
        Some(why) => Err(why),
        None => sshd(bin, &ssh_sb, &public).map_err(|e| format!("sshd could not be started: {e}")),
    };
    if let Ok(d) = &sshd {
        let openssh = |name, options: &[&str]| Route {
            name,
            port: d.port,
            user: "root".into(),
            known_hosts: d.known_hosts.clone(),
            home: ssh_sb.path().join("home"),
            options: options.iter().map(|o| o.to_string()).collect(),
        };
        // As the client chooses (OpenSSH 9 prefers sntrup761x25519), and
        // with the key exchange cutover serve negotiates, to tell the key
        // exchange apart from the rest of the route.
        routes.push(openssh("OpenSSH, forced command", &[]));
        routes.push(openssh("OpenSSH, forced command, curve25519", &["-o", "KexAlgorithms=curve25519-sha256"]));
    }

    let mut timed = Vec::new();
    for route in &routes {
        let want = Arc::new(reference(route, ssh, &key)?);
        println!("  {}: {}", route.name, route.negotiated(ssh, &key));
        timed.push((route, want, Vec::new()));
    }
    // The OpenSSH route's memory: one cutover process per session.
    let mut per_process = None;
    if let Some(r) = routes.get(1) {
        let (term, _) = r.connect(ssh, &key)?;
        term.wait_for(picker_whole)?;
        term.wait_quiet(Duration::from_millis(300))?;
        let state = ssh_sb.state_file().display().to_string();
        if let [pid] = pids_of(bin, &state)[..] {
            per_process = Some((status_kib(pid, "VmRSS")?, status_kib(pid, "VmHWM")?));
        }
        drop(term);
    }

    for i in 0..runs {
        let n = timed.len();
        for k in 0..n {
            // Alternate the order so that a burst of load hits all alike.
            let (route, want, samples) = &mut timed[if i % 2 == 0 { k } else { n - 1 - k }];
            samples.push(connect_once(route, ssh, &key, want.clone())?);
        }
    }
    for (route, _, samples) in &timed {
        println!("{:<52} {}", format!("{}, connect to first frame:", route.name), p50_p90(samples));
    }
    match &sshd {
        Err(why) => println!("OpenSSH route: skipped: {why}"),
        Ok(_) => {
            let serve = &timed[0].2;
            for (route, _, other) in &timed[1..] {
                let ratio = Stats::of(serve).median / Stats::of(other).median;
                let pairs: Vec<f64> = serve.iter().zip(other).map(|(a, b)| a / b).collect();
                println!(
                    "  serve / {}: ratio of medians {ratio:.2}x, per pair {}",
                    route.name,
                    Stats::of(&pairs).line("x")
                );
            }
            let ratio = Stats::of(serve).median / Stats::of(&timed[1].2).median;
            println!(
                "  target: no slower than the OpenSSH route (at most 1.00x): {ratio:.2}x, {}",
                if ratio <= 1.0 { "met" } else { "missed" }
            );
        }
    }
    if let Some((rss, hwm)) = per_process {
        println!(
            "  OpenSSH route: one cutover process per session, VmRSS {:.1} MiB (VmHWM {:.1} MiB) at its first frame",
            mib(rss),
            mib(hwm)
        );
    }
    drop(served);
    Ok(())
}

/// Joins as `p{i}` and opens the postnl guide (Enter on the picker).
fn join_postnl(route: &Route, ssh: &Path, key: &Path) -> Res<Term> {
    let (mut term, _) = route.connect(ssh, key)?;
    term.wait_for(picker_whole)?;
    term.wait_quiet(Duration::from_millis(100))?;
    term.send(b"\r")?;
    term.wait_text("Steps (10)")?;
    term.wait_quiet(Duration::from_millis(100))?;
    Ok(term)
}

/// Times `presses` alternating `j`/`k` presses on a checklist showing the
/// first step; the frame for each selection is taken first, untimed.
fn presses(term: &mut Term, presses: usize) -> Res<Vec<f64>> {
    term.wait_quiet(Duration::from_millis(200))?;
    let a = term.screen();
    term.send(b"j")?;
    term.wait_quiet(Duration::from_millis(100))?;
    let b = term.screen();
    if same_screen(&a, &b, &no_skip) {
        return Err(err("j did not change the screen"));
    }
    term.send(b"k")?;
    term.wait_quiet(Duration::from_millis(100))?;
    let back = term.screen();
    if !same_screen(&a, &back, &no_skip) {
        return Err(err(format!(
            "k did not bring the first frame back:\n{}\n{}",
            differences(&a, &back),
            back.contents()
        )));
    }
    let mut out = Vec::with_capacity(presses);
    for i in 0..presses {
        let (key, want) = if i % 2 == 0 { (b"j", b.clone()) } else { (b"k", a.clone()) };
        term.arm(move |s| same_screen(s, &want, &no_skip));
        let t = term.send(key)?;
        let hit = term.wait_hit(Duration::from_secs(10))?;
        out.push(ms(hit.saturating_duration_since(t)));
        // Idle between presses: let any trailing output land first.
        term.wait_quiet(Duration::from_millis(15))?;
    }
    Ok(out)
}

fn keypress_line(out: &mut Vec<String>, what: &str, v: &[f64], target: bool) {
    let s = Stats::of(v);
    out.push(format!(
        "{:<44} p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms (min {:.2} ms, n {})",
        format!("{what}:"),
        s.median,
        s.p99,
        s.max,
        s.min,
        s.n
    ));
    if target {
        out.push(format!(
            "  p99 {:.2} ms (target: under 10 ms): {}",
            s.p99,
            if s.p99 < 10.0 { "met" } else { "missed" }
        ));
    }
}

/// Memory per session, then keypress with 8 and with 1 session, on one
/// fresh server.
fn sessions(bin: &Path, ssh: &Path, n_presses: usize) -> Res<Vec<String>> {
    let mut out = Vec::new();
    let keys_dir = tempfile::tempdir()?;
    let mut keys = Vec::new();
    for i in 0..SESSIONS {
        keys.push(keygen(keys_dir.path(), &format!("id_p{i}"))?);
    }
    let publics: Vec<String> = keys.iter().map(|(_, p)| p.clone()).collect();
    let sb = serve_sandbox(&publics)?;
    seed_state(bin, &sb)?;
    let served = serve(bin, &sb)?;
    let pid = served.child.id();
    let route = |i: usize| Route {
        name: "cutover serve",
        port: served.port,
        user: format!("p{i}"),
        known_hosts: served.known_hosts.clone(),
        home: sb.path().join("home"),
        options: Vec::new(),
    };
    let settle = || std::thread::sleep(Duration::from_millis(500));
    settle();
    let rss0 = status_kib(pid, "VmRSS")?;
    let mut terms = vec![join_postnl(&route(0), ssh, &keys[0].0)?];
    settle();
    let (rss1, hwm1) = (status_kib(pid, "VmRSS")?, status_kib(pid, "VmHWM")?);
    for (i, (key, _)) in keys.iter().enumerate().skip(1) {
        terms.push(join_postnl(&route(i), ssh, key)?);
    }
    // Everyone sees everyone: the first session's header lists 7 others.
    terms[0].wait_text("+7")?;
    for t in &terms {
        t.wait_quiet(Duration::from_millis(100))?;
    }
    settle();
    let (rss8, hwm8) = (status_kib(pid, "VmRSS")?, status_kib(pid, "VmHWM")?);
    let per = (mib(rss8) - mib(rss1)) / (SESSIONS - 1) as f64;
    let per_hwm = (mib(hwm8) - mib(hwm1)) / (SESSIONS - 1) as f64;
    out.push(format!(
        "server memory (VmRSS): {:.1} MiB with no session, {:.1} MiB with 1, {:.1} MiB with {SESSIONS} (VmHWM {:.1} / {:.1} MiB)",
        mib(rss0),
        mib(rss1),
        mib(rss8),
        mib(hwm1),
        mib(hwm8)
    ));
    out.push(format!(
        "  per additional session: {per:.2} MiB VmRSS, {per_hwm:.2} MiB VmHWM (target: under 2 MiB): {}",
        if per < 2.0 { "met" } else { "missed" }
    ));
    out.push(format!("  the first session: {:.2} MiB VmRSS", mib(rss1) - mib(rss0)));

    let others_before: Vec<usize> = terms[1..].iter().map(Term::total).collect();
    let cpu_before = cpu_ms(pid)?;
    let eight = presses(&mut terms[0], n_presses)?;
    let cpu_eight = (cpu_ms(pid)? - cpu_before) / n_presses.max(1) as f64;
    let rss_after = status_kib(pid, "VmRSS")?;
    // Each press moves p0 in everyone's view of it: what the others got.
    let others: Vec<usize> = terms[1..].iter().zip(&others_before).map(|(t, b)| t.total() - b).collect();
    // The others go; the first stays alone.
    for mut t in terms.drain(1..) {
        t.quit()?;
    }
    let start = Instant::now();
    while terms[0].contents().lines().next().is_none_or(|l| l.contains('+')) {
        if start.elapsed() > DEADLINE {
            return Err(err(format!("the others did not leave:\n{}", terms[0].contents())));
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    terms[0].wait_quiet(Duration::from_millis(300))?;
    let cpu_before = cpu_ms(pid)?;
    let one = presses(&mut terms[0], n_presses)?;
    let cpu_one = (cpu_ms(pid)? - cpu_before) / n_presses.max(1) as f64;
    keypress_line(&mut out, "1 session, j/k to redrawn frame", &one, false);
    keypress_line(&mut out, &format!("{SESSIONS} sessions, j/k to redrawn frame"), &eight, true);
    out.push(format!(
        "  server CPU per press (user + system, including the untimed frames): {cpu_one:.2} ms with 1 session, {cpu_eight:.2} ms with {SESSIONS}"
    ));
    out.push(format!(
        "  meanwhile each of the other {} sessions received {}..{} bytes ({:.0} per press)",
        others.len(),
        others.iter().min().unwrap_or(&0),
        others.iter().max().unwrap_or(&0),
        others.iter().sum::<usize>() as f64 / others.len().max(1) as f64 / n_presses.max(1) as f64
    ));
    out.push(format!("  server VmRSS after the {SESSIONS}-session presses: {:.1} MiB", mib(rss_after)));
    terms[0].quit()?;
    Ok(out)
}

fn main() -> Res<()> {
    build_release()?;
    let bin = release_bin();
    let ssh = on_path("ssh").ok_or_else(|| err("ssh (the OpenSSH client) is not on PATH"))?;
    if on_path("ssh-keygen").is_none() {
        return Err(err("ssh-keygen is not on PATH"));
    }
    let runs = env_num("BENCH_RUNS", 20);
    let n_presses = env_num("BENCH_PRESSES", 300);
    println!("serve: {runs} connections per route, {n_presses} presses per case, {COLS}x{ROWS}, {}", machine());
    first_frame(&bin, &ssh, runs)?;
    // BENCH_BEFORE=path: the sessions part also with another build (the
    // one before a change), right before this one.
    if let Some(before) = std::env::var_os("BENCH_BEFORE") {
        for line in sessions(Path::new(&before), &ssh, n_presses)? {
            println!("before: {line}");
        }
    }
    for line in sessions(&bin, &ssh, n_presses)? {
        println!("{line}");
    }
    println!("machine after: {}", machine());
    Ok(())
}
