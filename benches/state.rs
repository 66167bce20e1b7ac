//! The state file at scale: 100 guides' worth of steps (the two built-in
//! guides with their real step ids, plus 98 synthetic guides of 10 steps),
//! each step with a status, a note (unicode, newlines, quotes) and check
//! records, and 10,000 events, built through the store in batches so the
//! file and its archive look like the real thing (the latest 50 events
//! kept in the state, the rest archived).
//!
//! Timed: `Store::load`, and `Store::apply` of one change (under the lock:
//! read, apply, append the overflowing event to the archive, write a temp
//! file, fsync, rename, fsync the directory), and the same change through
//! `Store::apply_touched` (what `mark` and `check` save with: on a sealed
//! file only the changed guide's tables and the events are read and
//! written). The store always fsyncs and offers no switch, so the same
//! files are measured on tmpfs (where fsync costs next to nothing) and on
//! the work disk. Also timed, in memory: parsing and serializing the text.
//! Target: under 20 ms each without fsync.
//!
//! Then peak memory (VmHWM) of the release TUI on that state: after its
//! first frame, after opening a guide and its history view, and after a
//! status change has been saved. Target: under 20 MB.
//!
//! `cargo bench --bench state` (BENCH_RUNS=n, default 30; BENCH_TMPFS=dir,
//! default /dev/shm; BENCH_KEEP=dir also leaves a copy of the built state
//! and its archives there, to profile a command on it).

mod common;
use common::*;
use cutover::guide::Catalog;
use cutover::progress::store::{Store, from_toml, to_toml};
use cutover::progress::{CheckRecord, Op, Progress, Status, Verdict};
use jiff::{SignedDuration, Timestamp};
use std::path::Path;
use std::time::{Duration, Instant};

const GUIDES: usize = 100;
const STEPS: usize = 10;
const EVENTS: usize = 10_000;
const BATCH: usize = 500;

fn base() -> Res<Timestamp> {
    Ok("2026-01-05T08:00:00Z".parse()?)
}

fn record(n: usize, at: Timestamp) -> CheckRecord {
    let pass = !n.is_multiple_of(4);
    CheckRecord {
        at,
        by: "bench".into(),
        env: Some("sandbox".into()),
        check: "Key accepted".into(),
        verdict: if pass { Verdict::Pass } else { Verdict::Fail },
        message: if pass { "200 OK: key accepted".into() } else { "401: key refused".into() },
        hint: (!pass).then(|| "Check that the sandbox key belongs to this environment.".to_string()),
        duration_ms: 180 + (n % 90) as u64,
        request: Some(format!("GET https://api-sandbox.postnl.nl/shipment/v2/status/barcode/3SDEVC{n:09}")),
        http_status: Some(if pass { 200 } else { 401 }),
        excerpt: Some(format!(
            "{{\"CurrentStatus\":{{\"Shipment\":{{\"Barcode\":\"3SDEVC{n:09}\",\"Status\":{{\"StatusCode\":\"1\",\"StatusDescription\":\"Zending is voorgemeld\"}}}}}}}}"
        )),
        proved: Some("The sandbox key is accepted by the sandbox host.".into()),
        not_proved: Some("That the key works in production.".into()),
        would_prove: None,
        trace_id: None,
        key_sent_to: None,
        details: vec![format!("dns 1 ms · tcp 3 ms · tls 21 ms · first byte {} ms", 150 + n % 40)],
    }
}

/// Guide ids and their step ids: the built-in guides, then synthetic ones.
fn guides() -> Vec<(String, Vec<String>)> {
    let mut out: Vec<(String, Vec<String>)> = Catalog::built_in()
        .guides
        .iter()
        .map(|l| (l.guide.id().to_string(), l.guide.steps.iter().map(|s| s.id().to_string()).collect()))
        .collect();
    let mut n = 0;
    while out.len() < GUIDES {
        n += 1;
        out.push((format!("guide-{n:03}"), (1..=STEPS).map(|s| format!("step-{s:02}")).collect()));
    }
    out
}

/// Every op that builds the state, in order: each makes one event.
fn ops() -> Res<Vec<(Op, Timestamp)>> {
    let t0 = base()?;
    let mut out = Vec::with_capacity(EVENTS);
    let all: Vec<(String, String)> =
        guides().into_iter().flat_map(|(g, steps)| steps.into_iter().map(move |s| (g.clone(), s))).collect();
    let mut n = 0usize;
    let mut at = || {
        n += 1;
        t0 + SignedDuration::from_secs(60 * n as i64)
    };
    let mut k = 0;
    while out.len() < EVENTS {
        let (g, s) = &all[k % all.len()];
        let round = k / all.len();
        let op = match round {
            0 => Op::SetStatus { guide: g.clone(), step: s.clone(), status: Status::InProgress, hash: None },
            1 => Op::SetNote {
                guide: g.clone(),
                step: s.clone(),
                note: format!(
                    "Ticket #{k}: waiting for the \"activation\" mail from 'Servicedesk'.\nSpåra försändelser · 配送 {k} ✓\nBack-slash \\ and a tab\tin it."
                ),
                base: None,
            },
            2..=6 => {
                let t = at();
                out.push((Op::RecordCheck { guide: g.clone(), step: s.clone(), record: Box::new(record(k, t)) }, t));
                k += 1;
                continue;
            }
            7 => Op::SetStatus {
                guide: g.clone(),
                step: s.clone(),
                status: if k % 3 == 0 { Status::Blocked } else { Status::Done },
                hash: Some(format!("{:016x}", k * 7919)),
            },
            _ => Op::SetNote {
                guide: g.clone(),
                step: s.clone(),
                note: format!("Edited again ({round}).\nTicket #{k}"),
                base: None,
            },
        };
        out.push((op, at()));
        k += 1;
    }
    Ok(out)
}

fn build(store: &Store) -> Res<Duration> {
    let ops = ops()?;
    let start = Instant::now();
    for chunk in ops.chunks(BATCH) {
        let list: Vec<Op> = chunk.iter().map(|(op, _)| op.clone()).collect();
        let at = chunk.last().map(|(_, t)| *t).ok_or_else(|| err("empty batch"))?;
        store.apply(&list, "bench", at)?;
    }
    Ok(start.elapsed())
}

fn size(p: &Path) -> u64 {
    std::fs::metadata(p).map(|m| m.len()).unwrap_or(0)
}

fn copy_state(from: &Store, to_dir: &Path) -> Res<Store> {
    let to = Store::new(to_dir.join("state.toml"));
    std::fs::copy(from.path(), to.path())?;
    std::fs::copy(from.archive_path(), to.archive_path())?;
    if from.checks_archive_path().exists() {
        std::fs::copy(from.checks_archive_path(), to.checks_archive_path())?;
    }
    Ok(to)
}

/// The same progress as a schema-1 file: every check record in full in the
/// state (up to 20 per step, as schema 1 kept them), no check archive.
fn as_schema_1(store: &Store, dir: &Path) -> Res<Store> {
    let mut p = store.load()?;
    for a in store.archived_checks()? {
        let step = p.guides.entry(a.guide).or_default().steps.entry(a.step).or_default();
        if !step.checks.iter().any(|c| c.same_run(&a.record)) {
            step.checks.push(a.record);
        }
    }
    for r in p.guides.values_mut().flat_map(|g| g.steps.values_mut()) {
        r.checks.sort_by_key(|c| c.at);
        let excess = r.checks.len().saturating_sub(cutover::progress::CHECK_HISTORY);
        r.checks.drain(..excess);
    }
    p.schema = 1;
    let to = Store::new(dir.join("state.toml"));
    std::fs::create_dir_all(dir)?;
    std::fs::write(to.path(), to_toml(&p)?)?;
    std::fs::copy(store.archive_path(), to.archive_path())?;
    Ok(to)
}

/// Set in the helper process that runs a command and measures it.
const SPAWNER: &str = "CUTOVER_BENCH_SPAWNER";

/// The helper: runs argv[1..] (the environment as given), waits for it with
/// wait4 and prints "<wall ms> <max RSS KiB>". It is this bench binary
/// started afresh, so it is small: a child's `ru_maxrss` counts the memory
/// of the process it was spawned from (the kernel keeps the larger of the
/// two at exec), and this bench itself holds the whole state it built.
fn spawner() -> Res<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (bin, rest) = args.split_first().ok_or_else(|| err("spawner: no command"))?;
    let mut cmd = std::process::Command::new(bin);
    cmd.args(rest).env_remove(SPAWNER).stdout(std::process::Stdio::null()).stderr(std::process::Stdio::null());
    let t = Instant::now();
    let child = cmd.spawn()?;
    let pid = child.id() as libc::pid_t;
    let mut status_code: libc::c_int = 0;
    // SAFETY: an all-zero rusage is a valid value to be filled in.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: waits for our own child, whose pid we hold; the pointers are valid.
    let r = unsafe { libc::wait4(pid, &mut status_code, 0, &mut usage) };
    let took = ms(t.elapsed());
    std::mem::forget(child);
    if r != pid || !libc::WIFEXITED(status_code) || libc::WEXITSTATUS(status_code) != 0 {
        return Err(err(format!("{} failed ({status_code})", rest.join(" "))));
    }
    println!("{took} {}", usage.ru_maxrss);
    Ok(())
}

/// Runs the release binary with `args` on `state` through the helper
/// process: wall time and the command's own peak memory (max RSS, KiB).
fn run_once(bin: &Path, state: &Path, args: &[&str]) -> Res<(f64, u64)> {
    let sb = Sandbox::new();
    let mut cmd = std::process::Command::new(std::env::current_exe()?);
    cmd.arg(bin).args(args).env_clear();
    for (k, v) in sb.env() {
        cmd.env(k, v);
    }
    let out = cmd.env("CUTOVER_STATE", state).env(SPAWNER, "1").stderr(std::process::Stdio::inherit()).output()?;
    let text = String::from_utf8_lossy(&out.stdout);
    let mut parts = text.split_whitespace();
    match (out.status.success(), parts.next().and_then(|t| t.parse().ok()), parts.next().and_then(|r| r.parse().ok())) {
        (true, Some(t), Some(rss)) => Ok((t, rss)),
        _ => Err(err(format!("cutover {} failed: {text}", args.join(" ")))),
    }
}

/// `cutover mark` on `state`: wall time and peak memory.
fn mark_once(bin: &Path, state: &Path, status: &str) -> Res<(f64, u64)> {
    run_once(bin, state, &["mark", "postnl", "go-live", status])
}

fn time_marks(bin: &Path, what: &str, state: &Path, runs: usize) -> Res<(Stats, u64)> {
    let mut times = Vec::new();
    let mut peak = 0;
    for i in 0..runs {
        let (t, rss) = mark_once(bin, state, if i % 2 == 0 { "done" } else { "skipped" })?;
        times.push(t);
        peak = peak.max(rss);
    }
    let stats = Stats::of(&times);
    println!("  {what}: cutover mark        {}; peak {:.1} MiB", stats.line(" ms"), peak as f64 / 1024.0);
    Ok((stats, peak))
}

fn time_store(what: &str, store: &Store, runs: usize) -> Res<()> {
    let mut load = Vec::new();
    let mut apply = Vec::new();
    let mut touched = Vec::new();
    let at = base()? + SignedDuration::from_hours(24 * 30);
    // One untimed round to warm the page cache.
    store.load()?;
    for i in 0..runs {
        let t = Instant::now();
        let p = store.load()?;
        load.push(ms(t.elapsed()));
        if p.events.len() != cutover::progress::EVENTS_KEPT {
            return Err(err(format!(
                "expected {} events in the state, found {}",
                cutover::progress::EVENTS_KEPT,
                p.events.len()
            )));
        }
        let status = if i % 2 == 0 { Status::Skipped } else { Status::Done };
        let op = Op::SetStatus { guide: "postnl".into(), step: "go-live".into(), status, hash: None };
        let t = Instant::now();
        store.apply(std::slice::from_ref(&op), "bench", at + SignedDuration::from_secs(i as i64))?;
        apply.push(ms(t.elapsed()));
        let t = Instant::now();
        store.apply_touched(
            &[op],
            "bench",
            at + SignedDuration::from_secs(i as i64) + SignedDuration::from_millis(1),
        )?;
        touched.push(ms(t.elapsed()));
    }
    println!("  {what}: load                 {}", Stats::of(&load).line(" ms"));
    println!("  {what}: apply one change    {}", Stats::of(&apply).line(" ms"));
    println!("  {what}: the same, touched only (mark, check) {}", Stats::of(&touched).line(" ms"));
    Ok(())
}

fn time_memory(text: &str, runs: usize) -> Res<()> {
    let mut parse = Vec::new();
    let mut ser = Vec::new();
    let mut p = Progress::default();
    for _ in 0..runs {
        let t = Instant::now();
        p = from_toml(text, "state.toml")?;
        parse.push(ms(t.elapsed()));
        let t = Instant::now();
        let out = to_toml(&p)?;
        ser.push(ms(t.elapsed()));
        std::hint::black_box(out);
    }
    std::hint::black_box(p);
    println!("  in memory: parse the text     {}", Stats::of(&parse).line(" ms"));
    println!("  in memory: serialize          {}", Stats::of(&ser).line(" ms"));
    Ok(())
}

/// Peak RSS of the release TUI with `state` (None: an empty state).
fn tui_memory(bin: &Path, state: Option<&Path>) -> Res<(u64, u64, u64)> {
    let sb = Sandbox::new();
    let mut env = sb.env();
    if let Some(s) = state {
        env.push(("CUTOVER_STATE".into(), s.display().to_string()));
    }
    let mut term = Term::open(100, 30)?;
    term.spawn(bin, &[], &env, sb.path())?;
    term.wait_text("Guides")?;
    term.wait_quiet(Duration::from_millis(300))?;
    let pid = term.pid().ok_or_else(|| err("no pid"))?;
    let first = vm_hwm_kib(pid)?;
    term.send(b"\r")?;
    term.wait_text("steps done")?;
    term.send(b"H")?;
    term.wait_quiet(Duration::from_millis(300))?;
    let history = vm_hwm_kib(pid)?;
    term.send(b"\x1b")?;
    term.wait_quiet(Duration::from_millis(200))?;
    let before = term.contents();
    term.send(b" ")?;
    term.wait_for(move |s| s.contents() != before)?;
    term.wait_quiet(Duration::from_millis(1000))?;
    let saved = vm_hwm_kib(pid)?;
    let code = term.quit()?;
    if code != 0 {
        return Err(err(format!("cutover exited with {code}")));
    }
    Ok((first, history, saved))
}

fn main() -> Res<()> {
    if std::env::var_os(SPAWNER).is_some() {
        return spawner();
    }
    build_release()?;
    let runs = env_num("BENCH_RUNS", 30);
    println!("state: {GUIDES} guides, {EVENTS} events, {runs} runs, {}", machine());

    let tmpfs_root = std::env::var("BENCH_TMPFS").unwrap_or_else(|_| "/dev/shm".to_string());
    let tmpfs = tempfile::Builder::new().prefix("cutover-bench").tempdir_in(&tmpfs_root)?;
    let disk_root = manifest_dir().join("target");
    let disk = tempfile::Builder::new().prefix("cutover-bench").tempdir_in(&disk_root)?;

    let built = Store::new(tmpfs.path().join("built").join("state.toml"));
    let took = build(&built)?;
    let p = built.load()?;
    let steps: usize = p.guides.values().map(|g| g.steps.len()).sum();
    let checks: usize = p.guides.values().flat_map(|g| g.steps.values()).map(|s| s.checks.len()).sum();
    let all = built.all_events()?.len();
    println!(
        "built through the store in {:.1} s ({} applies of {BATCH} ops, on tmpfs): {} guides, {steps} steps, {checks} check records, {} events in the state, {all} events in all",
        took.as_secs_f64(),
        EVENTS / BATCH,
        p.guides.len(),
        p.events.len()
    );
    println!("state file {} KiB, archive {} KiB", size(built.path()) / 1024, size(&built.archive_path()) / 1024);

    if let Some(keep) = std::env::var_os("BENCH_KEEP") {
        let keep = std::path::PathBuf::from(keep);
        std::fs::create_dir_all(&keep)?;
        let kept = copy_state(&built, &keep)?;
        println!("kept a copy: {}", kept.path().display());
    }
    let on_tmpfs = copy_state(&built, tmpfs.path())?;
    let on_disk = copy_state(&built, disk.path())?;
    time_store("tmpfs", &on_tmpfs, runs)?;
    time_store("disk ", &on_disk, runs)?;
    let text = std::fs::read_to_string(on_disk.path())?;
    time_memory(&text, runs)?;

    let bin = release_bin();
    println!(
        "state file {} KiB, check archive {} KiB, event archive {} KiB",
        size(on_disk.path()) / 1024,
        size(&on_disk.checks_archive_path()) / 1024,
        size(&on_disk.archive_path()) / 1024
    );
    // A mark on this state against a mark on a fresh one (target: within
    // 3x), and every command's peak memory (target: under 30 MiB).
    let fresh_dir = tempfile::Builder::new().prefix("cutover-bench").tempdir_in(&disk_root)?;
    let fresh = fresh_dir.path().join("state.toml");
    let mark_runs = runs.clamp(5, 30);
    let (fresh_stats, fresh_peak) = time_marks(&bin, "fresh state", &fresh, mark_runs)?;
    let (big_stats, big_peak) = time_marks(&bin, "this state ", on_disk.path(), mark_runs)?;
    println!(
        "  mark on this state / on a fresh one: {:.2}x (median), peaks {:.1} / {:.1} MiB",
        big_stats.median / fresh_stats.median,
        big_peak as f64 / 1024.0,
        fresh_peak as f64 / 1024.0
    );
    // The commands that read the archives too, on this state.
    for args in [
        &["status", "--json"][..],
        &["log", "postnl"][..],
        &["log", "postnl", "--json"][..],
        &["report", "postnl", "--format", "json"][..],
    ] {
        let mut peak = 0;
        let mut times = Vec::new();
        for _ in 0..mark_runs.min(5) {
            let (t, rss) = run_once(&bin, on_disk.path(), args)?;
            times.push(t);
            peak = peak.max(rss);
        }
        println!(
            "  this state : cutover {:<28} {}; peak {:.1} MiB",
            args.join(" "),
            Stats::of(&times).line(" ms"),
            peak as f64 / 1024.0
        );
    }
    // The first, migrating write of a schema-1 file of the same progress.
    let old_dir = tempfile::Builder::new().prefix("cutover-bench").tempdir_in(&disk_root)?;
    let old = as_schema_1(&on_disk, old_dir.path())?;
    println!("  schema-1 file of the same progress: {} KiB", size(old.path()) / 1024);
    let (t, rss) = mark_once(&bin, old.path(), "done")?;
    println!(
        "  first write of the schema-1 file (migrates): {t:.1} ms, peak {:.1} MiB; after it: state {} KiB, check archive {} KiB",
        rss as f64 / 1024.0,
        size(old.path()) / 1024,
        size(&old.checks_archive_path()) / 1024
    );

    let (first, history, saved) = tui_memory(&bin, Some(on_disk.path()))?;
    println!(
        "TUI peak memory (VmHWM) on this state: {:.1} MiB after the first frame, {:.1} MiB with a guide's history open, {:.1} MiB after a save (target: under 20 MB)",
        first as f64 / 1024.0,
        history as f64 / 1024.0,
        saved as f64 / 1024.0
    );
    let (first, history, saved) = tui_memory(&bin, None)?;
    println!(
        "TUI peak memory on an empty state, for comparison: {:.1} / {:.1} / {:.1} MiB",
        first as f64 / 1024.0,
        history as f64 / 1024.0,
        saved as f64 / 1024.0
    );
    println!("machine after: {}", machine());
    Ok(())
}
