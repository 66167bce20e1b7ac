//! Shared by the benchmarks: statistics, the release binaries, a sandboxed
//! environment, and a pseudo-terminal whose output is parsed by vt100 and
//! time-stamped per read, so a screen condition is timed to the read that
//! completed it (not to when a poller happened to look).
#![allow(dead_code)]

use portable_pty::{Child, CommandBuilder, MasterPty, PtySize, native_pty_system};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

pub type Error = Box<dyn std::error::Error + Send + Sync>;
pub type Res<T> = Result<T, Error>;

pub fn err(msg: impl Into<String>) -> Error {
    msg.into().into()
}

/// How long any one wait may take before the bench gives up.
pub const DEADLINE: Duration = Duration::from_secs(30);

/// An env var as a number, else `default`.
pub fn env_num(name: &str, default: usize) -> usize {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

/// Median, p99, min and max of a set of samples (milliseconds or counts).
#[derive(Debug, Clone, Copy)]
pub struct Stats {
    pub n: usize,
    pub median: f64,
    pub p99: f64,
    pub min: f64,
    pub max: f64,
}

impl Stats {
    pub fn of(samples: &[f64]) -> Stats {
        let mut v: Vec<f64> = samples.to_vec();
        v.sort_by(|a, b| a.total_cmp(b));
        let n = v.len();
        if n == 0 {
            return Stats { n, median: f64::NAN, p99: f64::NAN, min: f64::NAN, max: f64::NAN };
        }
        let median = if n % 2 == 1 { v[n / 2] } else { (v[n / 2 - 1] + v[n / 2]) / 2.0 };
        let p99 = v[((n as f64 * 0.99).ceil() as usize).clamp(1, n) - 1];
        Stats { n, median, p99, min: v[0], max: v[n - 1] }
    }

    /// "median 12.3 (min 11.0, max 15.2, n 30)"
    pub fn line(&self, unit: &str) -> String {
        format!(
            "median {:.2}{unit} (min {:.2}{unit}, max {:.2}{unit}, p99 {:.2}{unit}, n {})",
            self.median, self.min, self.max, self.p99, self.n
        )
    }
}

pub fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// The machine's load, for the record.
pub fn machine() -> String {
    let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(0);
    let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    let load: Vec<&str> = load.split_whitespace().take(3).collect();
    format!("{cores} cores, load average {}", load.join(" "))
}

pub fn manifest_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR").map(PathBuf::from).unwrap_or_else(|| manifest_dir().join("target"))
}

/// Where the timed binaries are built: a target dir of their own, so that
/// building them (no dev-dependencies) and building the benches (with them)
/// do not keep rebuilding each other's dependencies with other features.
fn bins_dir() -> PathBuf {
    target_dir().join("bench-bins")
}

/// Runs `cargo <args>` with `target` as its target dir, without the
/// variables cargo sets for a running bench: build scripts that watch them
/// would otherwise rebuild, and the binaries would not be the ones a plain
/// `cargo build --release` makes.
fn cargo_build(args: &[&str], target: &std::path::Path) -> Res<()> {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut cmd = std::process::Command::new(cargo);
    for (k, _) in std::env::vars_os() {
        let k = k.to_string_lossy().into_owned();
        if (k.starts_with("CARGO_") && k != "CARGO_HOME") || k == "OUT_DIR" || k.starts_with("RUSTC") {
            cmd.env_remove(k);
        }
    }
    let status = cmd.args(args).env("CARGO_TARGET_DIR", target).current_dir(manifest_dir()).status()?;
    if !status.success() {
        return Err(err(format!("cargo {} failed: {status}", args.join(" "))));
    }
    Ok(())
}

/// Builds the release binary and the floor example with the release
/// profile, so that what is timed is what a user runs. The binary is built
/// alone, as `cargo build --release --bin cutover` makes it, in a target
/// dir of its own: built beside an example it would carry the features the
/// dev-dependencies turn on (hyper's `http2` and `server`, h2; about 1 MB
/// and 3,400 relocations more), and the two feature sets would rebuild
/// each other in one dir.
pub fn build_release() -> Res<()> {
    cargo_build(&["build", "--release", "--locked", "--bin", "cutover"], &bins_dir().join("plain"))?;
    cargo_build(&["build", "--release", "--locked", "--example", "floor"], &bins_dir())
}

/// cutover as a user's `cargo build --release` makes it.
pub fn release_bin() -> PathBuf {
    bins_dir().join("plain").join("release").join("cutover")
}

pub fn release_example(name: &str) -> PathBuf {
    bins_dir().join("release").join("examples").join(name)
}

#[path = "../../tests/common/backend.rs"]
pub mod backend;
#[path = "../../tests/common/sandbox.rs"]
mod sandbox;
#[allow(unused_imports)] // not every bench starts the binary
pub use sandbox::Sandbox;

type Probe = Box<dyn FnMut(&vt100::Screen) -> bool + Send>;

struct Shared {
    parser: vt100::Parser,
    total: usize,
    last_read: Option<Instant>,
    probe: Option<Probe>,
    hit: Option<Instant>,
    closed: bool,
}

type Cell = Arc<(Mutex<Shared>, Condvar)>;

fn lock(c: &Cell) -> MutexGuard<'_, Shared> {
    c.0.lock().unwrap_or_else(|p| p.into_inner())
}

/// A pseudo-terminal with a program in it.
pub struct Term {
    shared: Cell,
    master: Box<dyn MasterPty + Send>,
    slave: Option<Box<dyn portable_pty::SlavePty + Send>>,
    writer: Box<dyn Write + Send>,
    child: Option<Box<dyn Child + Send + Sync>>,
}

impl Term {
    /// Opens the terminal and starts reading it; nothing runs in it yet.
    pub fn open(cols: u16, rows: u16) -> Res<Term> {
        let pair = native_pty_system().openpty(PtySize { rows, cols, pixel_width: 0, pixel_height: 0 })?;
        let mut reader = pair.master.try_clone_reader()?;
        let writer = pair.master.take_writer()?;
        let parser = vt100::Parser::new(
            std::num::NonZeroU16::new(rows).ok_or_else(|| err("zero rows"))?,
            std::num::NonZeroU16::new(cols).ok_or_else(|| err("zero cols"))?,
            0,
        );
        let shared: Cell = Arc::new((
            Mutex::new(Shared { parser, total: 0, last_read: None, probe: None, hit: None, closed: false }),
            Condvar::new(),
        ));
        let s2 = shared.clone();
        std::thread::spawn(move || {
            let mut buf = vec![0u8; 64 * 1024];
            loop {
                let n = reader.read(&mut buf);
                let at = Instant::now();
                let mut g = lock(&s2);
                match n {
                    Ok(0) | Err(_) => {
                        g.closed = true;
                        s2.1.notify_all();
                        break;
                    }
                    Ok(n) => {
                        g.parser.process(&buf[..n]);
                        g.total += n;
                        g.last_read = Some(at);
                        let Shared { parser, probe, hit, .. } = &mut *g;
                        if let Some(p) = probe
                            && p(parser.screen())
                        {
                            *hit = Some(at);
                            *probe = None;
                        }
                        s2.1.notify_all();
                    }
                }
            }
        });
        Ok(Term { shared, master: pair.master, slave: Some(pair.slave), writer, child: None })
    }

    /// Starts `bin` in the terminal; returns the instant just before the spawn.
    pub fn spawn(&mut self, bin: &Path, args: &[&str], env: &[(String, String)], cwd: &Path) -> Res<Instant> {
        let mut cmd = CommandBuilder::new(bin);
        cmd.args(args);
        cmd.env_clear();
        cmd.env("PATH", std::env::var("PATH").unwrap_or_default());
        for (k, v) in env {
            cmd.env(k, v);
        }
        cmd.cwd(cwd);
        let slave = self.slave.take().ok_or_else(|| err("this terminal already ran a program"))?;
        let t0 = Instant::now();
        let child = slave.spawn_command(cmd)?;
        drop(slave);
        self.child = Some(child);
        Ok(t0)
    }

    /// From now on, the first read after which `probe` holds is recorded.
    /// If it holds already, that is recorded at once.
    pub fn arm(&self, mut probe: impl FnMut(&vt100::Screen) -> bool + Send + 'static) {
        let mut g = lock(&self.shared);
        g.hit = None;
        if probe(g.parser.screen()) {
            g.hit = Some(Instant::now());
        } else {
            g.probe = Some(Box::new(probe));
        }
    }

    /// Waits for the armed probe; the instant of the read that satisfied it.
    pub fn wait_hit(&self, deadline: Duration) -> Res<Instant> {
        let start = Instant::now();
        let mut g = lock(&self.shared);
        loop {
            if let Some(at) = g.hit {
                return Ok(at);
            }
            let left = deadline.saturating_sub(start.elapsed());
            if left.is_zero() || g.closed {
                g.probe = None;
                return Err(err(format!(
                    "screen condition not met in {deadline:?}{}; screen:\n{}",
                    if g.closed { " (terminal closed)" } else { "" },
                    g.parser.screen().contents()
                )));
            }
            g = self.shared.1.wait_timeout(g, left).unwrap_or_else(|p| p.into_inner()).0;
        }
    }

    /// Waits until `probe` holds; the instant of the read that made it so.
    pub fn wait_for(&self, probe: impl FnMut(&vt100::Screen) -> bool + Send + 'static) -> Res<Instant> {
        self.arm(probe);
        self.wait_hit(DEADLINE)
    }

    pub fn wait_text(&self, text: &str) -> Res<Instant> {
        let t = text.to_string();
        self.wait_for(move |s| s.contents().contains(&t))
    }

    /// Waits until nothing has been read for `gap`.
    pub fn wait_quiet(&self, gap: Duration) -> Res<()> {
        let start = Instant::now();
        let mut g = lock(&self.shared);
        loop {
            let since = g.last_read.map(|t| t.max(start)).unwrap_or(start);
            let quiet = since.elapsed();
            if quiet >= gap || g.closed {
                return Ok(());
            }
            if start.elapsed() > DEADLINE {
                return Err(err(format!("the terminal never went quiet for {gap:?}")));
            }
            g = self.shared.1.wait_timeout(g, gap - quiet).unwrap_or_else(|p| p.into_inner()).0;
        }
    }

    /// Writes keys; the instant just before the write.
    pub fn send(&mut self, bytes: &[u8]) -> Res<Instant> {
        let t = Instant::now();
        self.writer.write_all(bytes)?;
        self.writer.flush()?;
        Ok(t)
    }

    /// Bytes read so far.
    pub fn total(&self) -> usize {
        lock(&self.shared).total
    }

    pub fn screen(&self) -> vt100::Screen {
        lock(&self.shared).parser.screen().clone()
    }

    pub fn contents(&self) -> String {
        lock(&self.shared).parser.screen().contents()
    }

    /// Resizes the terminal and the parser's idea of it.
    pub fn resize(&self, cols: u16, rows: u16) -> Res<()> {
        let mut g = lock(&self.shared);
        g.parser.screen_mut().set_size(
            std::num::NonZeroU16::new(rows).ok_or_else(|| err("zero rows"))?,
            std::num::NonZeroU16::new(cols).ok_or_else(|| err("zero cols"))?,
        );
        self.master.resize(PtySize { rows, cols, pixel_width: 0, pixel_height: 0 })?;
        Ok(())
    }

    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().and_then(|c| c.process_id())
    }

    /// Sends `q` and waits for the exit code; kills the program if it
    /// does not exit in time.
    pub fn quit(&mut self) -> Res<u32> {
        self.send(b"q")?;
        let start = Instant::now();
        let child = self.child.as_mut().ok_or_else(|| err("nothing runs in this terminal"))?;
        while start.elapsed() < DEADLINE {
            if let Some(status) = child.try_wait()? {
                return Ok(status.exit_code());
            }
            std::thread::sleep(Duration::from_millis(5));
        }
        let _ = child.kill();
        Err(err("the program did not exit after q"))
    }
}

impl Drop for Term {
    fn drop(&mut self) {
        if let Some(c) = self.child.as_mut()
            && let Ok(None) = c.try_wait()
        {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

/// Two cells look the same: same text (a cell never written and a written
/// space both show blank) and the same colours and attributes.
pub fn same_cell(x: Option<&vt100::Cell>, y: Option<&vt100::Cell>) -> bool {
    let text = |c: &vt100::Cell| if c.contents().is_empty() { " ".to_string() } else { c.contents().to_string() };
    match (x, y) {
        (Some(x), Some(y)) => {
            text(x) == text(y)
                && x.fgcolor() == y.fgcolor()
                && x.bgcolor() == y.bgcolor()
                && x.bold() == y.bold()
                && x.italic() == y.italic()
                && x.underline() == y.underline()
                && x.inverse() == y.inverse()
                && x.is_wide() == y.is_wide()
        }
        (None, None) => true,
        _ => false,
    }
}

/// True if every cell of `a` equals the cell of `b` at the same place
/// (contents and attributes), skipping cells for which `skip` says so.
pub fn same_screen(a: &vt100::Screen, b: &vt100::Screen, skip: &dyn Fn(&str) -> bool) -> bool {
    let (rows, cols) = a.size();
    if b.size() != (rows, cols) {
        return false;
    }
    for r in 0..rows.get() {
        for c in 0..cols.get() {
            let (x, y) = (a.cell(r, c), b.cell(r, c));
            if let (Some(x), Some(y)) = (x, y)
                && (skip(x.contents()) || skip(y.contents()))
            {
                continue;
            }
            if !same_cell(x, y) {
                return false;
            }
        }
    }
    true
}

/// Cells that differ between two screens of the same size, and the number
/// of runs they form (a run: changed cells next to each other on one row,
/// which one cursor positioning could cover), and the UTF-8 bytes of the
/// new contents.
pub struct Diff {
    pub cells: usize,
    pub runs: usize,
    pub content_bytes: usize,
}

pub fn diff(before: &vt100::Screen, after: &vt100::Screen) -> Diff {
    let (rows, cols) = after.size();
    let mut d = Diff { cells: 0, runs: 0, content_bytes: 0 };
    for r in 0..rows.get() {
        let mut in_run = false;
        for c in 0..cols.get() {
            let changed = !same_cell(before.cell(r, c), after.cell(r, c));
            if changed {
                d.cells += 1;
                d.content_bytes += after.cell(r, c).map(|x| x.contents().len().max(1)).unwrap_or(1);
                if !in_run {
                    d.runs += 1;
                }
            }
            in_run = changed;
        }
    }
    d
}

/// The rows of a screen, as text.
pub fn rows(s: &vt100::Screen) -> Vec<String> {
    let (_, cols) = s.size();
    s.rows(0, cols.get()).collect()
}

/// VmHWM (peak resident set) of a process, in KiB.
pub fn vm_hwm_kib(pid: u32) -> Res<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .ok_or_else(|| err("no VmHWM in /proc/<pid>/status"))
}

/// The header on the first row, the footer with its keys on the last.
pub fn header_and_footer(rows: &[String]) -> bool {
    rows.first().is_some_and(|r| r.trim_start().starts_with("cutover"))
        && rows.last().is_some_and(|r| r.contains("q quit"))
}

/// The picker is whole: header, the "Guides" box from its top border to its
/// bottom border with both built-in guides in it, and the footer.
pub fn picker_whole(s: &vt100::Screen) -> bool {
    let rows = rows(s);
    let Some(top) = rows.iter().position(|r| {
        let t = r.trim_end();
        t.starts_with("┌ Guides") && t.ends_with('┐')
    }) else {
        return false;
    };
    let bottom = rows.iter().skip(top + 1).any(|r| {
        let t = r.trim_end();
        t.starts_with('└') && t.ends_with('┘')
    });
    let text = s.contents();
    bottom && header_and_footer(&rows) && text.contains("PostNL") && text.contains("Posti")
}
