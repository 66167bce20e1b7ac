//! Crash safety: a writer process is killed with SIGKILL at random instants
//! while it saves in a loop. After every kill the state file parses, the
//! archive reads, and every change the writer reported as saved is there,
//! exactly once.
//!
//! `CUTOVER_CRASH_ROUNDS` sets the number of kills (default 60); a heavy
//! run uses 500 or more.

use cutover::progress::store::Store;
use cutover::progress::{Op, Progress};
use jiff::Timestamp;
use std::collections::{BTreeMap, BTreeSet};
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

const CHILD_ENV: &str = "CUTOVER_CRASH_CHILD";
/// Steps the writer cycles through: later saves overwrite earlier ones.
const STEPS: u64 = 20;

fn op(round: u64, n: u64) -> Op {
    Op::SetNote { guide: "g".into(), step: format!("s{}", n % STEPS), note: format!("r{round}-{n}"), base: None }
}

/// Not a test on its own: the writer that gets killed, started by
/// re-running this test binary with the env var set. Saves forever and
/// prints "saved N" after each save returned.
#[test]
fn crash_child() {
    let Ok(path) = std::env::var(CHILD_ENV) else {
        return;
    };
    let round: u64 = std::env::var("CUTOVER_CRASH_ROUND").unwrap().parse().unwrap();
    let store = Store::new(path);
    for n in 1.. {
        // Every other save as `mark` makes it: only the touched guide read
        // and written, the rest of the sealed file kept as it was.
        let by = format!("r{round}-{n}");
        if n % 2 == 0 {
            store.apply(&[op(round, n)], &by, Timestamp::now()).unwrap();
        } else {
            store.apply_touched(&[op(round, n)], &by, Timestamp::now()).unwrap();
        }
        println!("saved {n}");
    }
}

/// `name` as the test harness knows it in this binary (`--exact` needs the
/// module path: `crash::crash_child`).
fn exact(name: &str) -> String {
    let module = module_path!().split_once("::").map_or("", |(_, m)| m);
    format!("{module}::{name}")
}

/// Runs one writer until it has saved at least once, kills it after a short
/// random delay, and returns the highest N it reported as saved.
fn run_and_kill(path: &Path, round: u64) -> u64 {
    run_and_kill_child("crash_child", CHILD_ENV, path, round)
}

/// As [`run_and_kill`], for the writer test `child` started with `env`.
fn run_and_kill_child(child: &str, env: &str, path: &Path, round: u64) -> u64 {
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args(["--exact", &exact(child), "--nocapture", "--test-threads=1"])
        .env(env, path)
        .env("CUTOVER_CRASH_ROUND", round.to_string())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = mpsc::channel();
    let reader = std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            if let Some(n) = line.strip_prefix("saved ").and_then(|n| n.trim().parse::<u64>().ok())
                && tx.send(n).is_err()
            {
                break;
            }
        }
    });
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut saved = 0;
    while saved == 0 {
        match rx.recv_timeout(deadline.saturating_duration_since(Instant::now())) {
            Ok(n) => saved = saved.max(n),
            Err(_) => {
                let _ = child.kill();
                panic!("round {round}: the writer did not save within 60s");
            }
        }
    }
    // The point of the test: somewhere in the middle of a save.
    std::thread::sleep(Duration::from_millis(fastrand::u64(0..80)));
    child.kill().unwrap();
    child.wait().unwrap();
    reader.join().unwrap();
    saved.max(rx.try_iter().max().unwrap_or(0))
}

#[test]
fn killed_writers_never_lose_a_reported_save() {
    let rounds: u64 = std::env::var("CUTOVER_CRASH_ROUNDS").ok().and_then(|v| v.parse().ok()).unwrap_or(60);
    let dir = tempfile::tempdir().unwrap();
    let store = Store::new(dir.path().join("state.toml"));
    // Start at the event limit, so every save also appends to the archive.
    let seed_n = cutover::progress::EVENTS_KEPT as u64 - 5;
    let seed: Vec<Op> = (0..seed_n).map(|i| op(0, i)).collect();
    store.apply(&seed, "seed", Timestamp::now()).unwrap();
    // Two other guides around "g", whose text the touched-only saves keep
    // as it was (one event each).
    let neighbours = [("a", "before g"), ("zz", "after g")];
    for (guide, note) in neighbours {
        let op = Op::SetNote { guide: guide.into(), step: "s".into(), note: note.into(), base: None };
        store.apply(&[op], guide, Timestamp::now()).unwrap();
    }

    let started = Instant::now();
    let mut reported: BTreeSet<String> = BTreeSet::new();
    let mut total_saves = 0;
    // Where the kills landed, as far as the files show it.
    let (mut temp_left, mut archive_ahead) = (0, 0);
    for round in 1..=rounds {
        let saved = run_and_kill(store.path(), round);
        total_saves += saved;
        if tmp_files(dir.path()) > 0 {
            temp_left += 1;
        }
        let raw_archive = std::fs::read_to_string(store.archive_path()).unwrap_or_default();
        if raw_archive.matches("\n[[events]]\n").count() > store.archived_events().unwrap().len() {
            archive_ahead += 1;
        }
        let p: Progress =
            store.load().unwrap_or_else(|e| panic!("round {round}: the state does not parse after a kill: {e}"));
        let all = store.all_events().unwrap_or_else(|e| panic!("round {round}: the archive does not read: {e}"));

        for (guide, note) in neighbours {
            assert_eq!(p.step(guide, "s").map(|r| r.note.as_str()), Some(note), "round {round}: guide {guide}");
        }
        // Each step holds this round's latest write to it, or a later one.
        for k in 0..STEPS {
            let Some(last) = (1..=saved).rev().find(|n| n % STEPS == k) else {
                continue;
            };
            let note = p.step("g", &format!("s{k}")).map(|r| r.note.clone()).unwrap_or_default();
            let n: u64 = note
                .strip_prefix(&format!("r{round}-"))
                .and_then(|n| n.parse().ok())
                .unwrap_or_else(|| panic!("round {round}: step s{k} has {note:?}"));
            assert!(n >= last, "round {round}: step s{k} has r{round}-{n}, but r{round}-{last} was reported saved");
        }
        // Every reported save has its event, and no event is there twice.
        reported.extend((1..=saved).map(|n| format!("r{round}-{n}")));
        let mut count: BTreeMap<&str, usize> = BTreeMap::new();
        for e in &all {
            *count.entry(e.by.as_str()).or_default() += 1;
        }
        assert_eq!(count.get("seed"), Some(&(seed_n as usize)), "round {round}: seed events");
        if let Some((by, n)) = count.iter().find(|(by, n)| **by != "seed" && **n > 1) {
            panic!("round {round}: event of {by} appears {n} times");
        }
        if let Some(missing) = reported.iter().find(|by| !count.contains_key(by.as_str())) {
            panic!("round {round}: the event of {missing} was reported saved but is gone");
        }
    }
    let elapsed = started.elapsed();

    // Temp files the killed writers left behind are cleaned up by the next save.
    store.apply(&[op(0, 0)], "cleanup", Timestamp::now()).unwrap();
    assert_eq!(tmp_files(dir.path()), 0, "temp files left behind");
    eprintln!(
        "{rounds} kill rounds in {elapsed:?}: {total_saves} reported saves, {} events archived; killed mid-write of the temp file {temp_left} times, between archive append and rename {archive_ahead} times",
        store.archived_events().unwrap().len()
    );
}

fn tmp_files(dir: &Path) -> usize {
    std::fs::read_dir(dir)
        .unwrap()
        .filter(|e| e.as_ref().is_ok_and(|e| e.file_name().to_string_lossy().ends_with(".tmp")))
        .count()
}

const CHECKS_CHILD_ENV: &str = "CUTOVER_CRASH_CHECKS_CHILD";

fn check_op(round: u64, n: u64) -> Op {
    Op::RecordCheck {
        guide: "g".into(),
        step: format!("s{}", n % STEPS),
        record: Box::new(cutover::progress::CheckRecord {
            at: Timestamp::from_second(1_800_000_000 + (round * 100_000 + n) as i64).unwrap(),
            by: "writer".into(),
            env: Some("sandbox".into()),
            check: "Key accepted".into(),
            verdict: cutover::progress::Verdict::Pass,
            message: format!("r{round}-{n}"),
            hint: None,
            duration_ms: 1,
            request: Some(format!("GET https://api.example.test/r{round}/{n}")),
            http_status: Some(200),
            excerpt: Some(format!("/n = {n}")),
            proved: None,
            would_prove: None,
            not_proved: None,
            trace_id: None,
            key_sent_to: None,
            details: vec![],
        }),
    }
}

/// The writer for the check archive: each save records a check run (the
/// full record appended to the check archive, fsynced, then the state with
/// its slim latest renamed in), so every kill can land between the two.
#[test]
fn crash_checks_child() {
    let Ok(path) = std::env::var(CHECKS_CHILD_ENV) else {
        return;
    };
    let round: u64 = std::env::var("CUTOVER_CRASH_ROUND").unwrap().parse().unwrap();
    let store = Store::new(path);
    for n in 1.. {
        // Every other save as `cutover check` makes it (touched guide only).
        if n % 2 == 0 {
            store.apply(&[check_op(round, n)], "writer", Timestamp::now()).unwrap();
        } else {
            store.apply_touched(&[check_op(round, n)], "writer", Timestamp::now()).unwrap();
        }
        println!("saved {n}");
    }
}

/// Kill -9 during saves that touch both the state and the check archive:
/// after every kill the state parses, the archive reads, every check run
/// reported as saved is in the archive exactly once, and each step's slim
/// latest in the state is the newest run the archive holds for it (or a
/// later one whose save the kill cut short).
#[test]
fn killed_writers_never_lose_a_check_record() {
    let rounds: u64 = std::env::var("CUTOVER_CRASH_ROUNDS").ok().and_then(|v| v.parse().ok()).unwrap_or(30);
    let dir = tempfile::tempdir().unwrap();
    let store = Store::new(dir.path().join("state.toml"));
    let mut between = 0;
    for round in 1..=rounds {
        let saved = run_and_kill_child("crash_checks_child", CHECKS_CHILD_ENV, store.path(), round);

        let p: Progress = store.load().unwrap_or_else(|e| panic!("round {round}: the state does not parse: {e}"));
        let runs = store.archived_checks().unwrap_or_else(|e| panic!("round {round}: the archive does not read: {e}"));
        let mut count: BTreeMap<String, usize> = BTreeMap::new();
        for a in &runs {
            *count.entry(a.record.message.clone()).or_default() += 1;
        }
        for n in 1..=saved {
            let m = format!("r{round}-{n}");
            assert_eq!(count.get(&m), Some(&1), "round {round}: the reported run {m} is not in the archive once");
            assert!(
                runs.iter().any(|a| a.record.message == m && a.record.excerpt.as_deref() == Some(&format!("/n = {n}")))
            );
        }
        // The archive may hold one run more than was reported: the kill came
        // after the archive's fsync and before the state's rename.
        if count.keys().any(|m| m == &format!("r{round}-{}", saved + 1)) {
            between += 1;
        }
        for k in 0..STEPS {
            let Some(r) = p.step("g", &format!("s{k}")) else { continue };
            assert_eq!(r.checks.len(), 1, "round {round}: one slim latest per check");
            assert!(
                r.checks[0].request.is_none() && r.checks[0].excerpt.is_none(),
                "round {round}: the state stays slim"
            );
        }
    }
    eprintln!(
        "{rounds} kill rounds on check saves; a kill landed between the archive append and the state rename {between} times"
    );
}
