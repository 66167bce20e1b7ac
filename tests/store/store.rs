//! The state file on disk: round trips, damaged files, modes, symlinks,
//! the event archive, concurrent writer processes.

use cutover::progress::store::{Store, StoreError, from_toml, to_toml};
use cutover::progress::{CheckRecord, EVENTS_KEPT, Event, Op, Progress, Status, Verdict};
use jiff::Timestamp;
use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

pub(super) fn t(s: i64) -> Timestamp {
    Timestamp::from_second(1_795_000_000 + s).unwrap()
}

fn status(guide: &str, step: &str, status: Status) -> Op {
    Op::SetStatus { guide: guide.into(), step: step.into(), status, hash: None }
}

fn note(guide: &str, step: &str, text: &str) -> Op {
    Op::SetNote { guide: guide.into(), step: step.into(), note: text.into(), base: None }
}

fn check(message: &str) -> CheckRecord {
    CheckRecord {
        at: t(5),
        by: "bob".into(),
        env: Some("sandbox".into()),
        check: "http".into(),
        verdict: Verdict::Fail,
        message: message.into(),
        hint: Some("check the \"apikey\" header\nand the host".into()),
        duration_ms: 321,
        request: Some("GET https://api-sandbox.postnl.nl/shipment/v2/status/barcode/3STEST".into()),
        http_status: Some(401),
        excerpt: Some("{\"fault\": \"Invalid ApiKey\"}".into()),
        proved: None,
        not_proved: Some("that production keys work".into()),
        would_prove: None,
        trace_id: None,
        key_sent_to: None,
        details: vec!["dns 2ms".into(), "tls 14ms".into()],
    }
}

fn store_in(dir: &Path) -> Store {
    Store::new(dir.join("state.toml"))
}

const TRICKY: &str = "first line\nsecond \"quoted\" line with 'single' and \\ backslash\nünïcødé ✓ 日本語 🚚\n\ttabbed\r\nwindows line\n\"\"\"triple\"\"\"\n";

#[test]
fn round_trip_keeps_everything_and_reads_as_toml() {
    let dir = tempfile::tempdir().unwrap();
    let store = store_in(dir.path());
    let ops = vec![
        status("postnl", "sandbox-api-key", Status::Done),
        note("postnl", "sandbox-api-key", TRICKY),
        Op::RecordCheck {
            guide: "postnl".into(),
            step: "sandbox-api-key".into(),
            record: Box::new(check("key refused: \"Invalid ApiKey\"")),
        },
        status("posti", "order-key", Status::Blocked),
        Op::Acknowledge { guide: "posti".into(), step: "order-key".into(), hash: "deadbeef".into() },
    ];
    let (saved, events) = store.apply(&ops, "alice ✓", t(1)).unwrap();
    assert_eq!(events.len(), ops.len());
    let loaded = store.load().unwrap();
    assert_eq!(loaded, saved);
    assert_eq!(loaded.step("postnl", "sandbox-api-key").unwrap().note, TRICKY);
    // The state keeps the run slim; the check archive keeps it whole.
    let full = check("key refused: \"Invalid ApiKey\"");
    assert_eq!(loaded.step("postnl", "sandbox-api-key").unwrap().checks[0], full.slim());
    let archived = store.archived_checks().unwrap();
    assert_eq!(archived.len(), 1);
    assert_eq!(archived[0].record, full);
    assert_eq!(loaded.events, events);

    let text = fs::read_to_string(store.path()).unwrap();
    assert!(text.starts_with("# "), "starts with a comment: {text}");
    assert!(text.lines().next().unwrap().contains("cutover"));
    assert!(text.lines().next().unwrap().contains("docs/json.md"));
    assert!(text.contains("\n[guides.postnl.steps.sandbox-api-key]\n"), "{text}");
    assert!(text.contains("\n[guides.posti.steps.order-key]\n"), "{text}");
    assert!(text.contains("\n[[guides.postnl.steps.sandbox-api-key.checks]]\n"), "{text}");
    assert!(text.contains("\n[[events]]\n"), "{text}");
    assert!(text.contains("note = \"\"\"\nfirst line\n"), "notes with newlines are multi-line strings: {text}");
    assert!(text.contains("ünïcødé ✓ 日本語 🚚"), "unicode is written as is: {text}");
    // Any TOML reader can read it.
    let table: toml::Table = toml::from_str(&text).unwrap();
    assert_eq!(table["schema"].as_integer(), Some(i64::from(cutover::progress::STATE_SCHEMA)));

    // The pure functions agree with the file.
    assert_eq!(from_toml(&to_toml(&loaded).unwrap(), "x").unwrap(), loaded);
}

#[test]
fn missing_and_empty_files_are_empty_states() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::new(dir.path().join("sub/dir/state.toml"));
    assert_eq!(store.load().unwrap(), Progress::default());
    fs::create_dir_all(dir.path().join("sub/dir")).unwrap();
    fs::write(store.path(), "").unwrap();
    assert_eq!(store.load().unwrap(), Progress::default());
    fs::write(store.path(), "\n  \n\t").unwrap();
    assert_eq!(store.load().unwrap(), Progress::default());
    let (p, _) = store.apply(&[status("g", "s", Status::Done)], "a", t(0)).unwrap();
    assert_eq!(p.status("g", "s"), Status::Done);
}

#[test]
fn missing_directory_is_created_private() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::new(dir.path().join("new/state.toml"));
    store.apply(&[status("g", "s", Status::Done)], "a", t(0)).unwrap();
    let mode = fs::metadata(dir.path().join("new")).unwrap().mode() & 0o777;
    assert_eq!(mode, 0o700);
}

#[test]
fn unknown_guides_and_steps_survive_an_apply() {
    let dir = tempfile::tempdir().unwrap();
    let store = store_in(dir.path());
    let text = "# hand-written\nschema = 1\n\n[guides.retired-carrier.steps.old-step]\nstatus = \"done\"\nnote = \"kept\"\n\n[guides.postnl.steps.step-no-longer-in-guide]\nstatus = \"skipped\"\n";
    fs::write(store.path(), text).unwrap();
    store.apply(&[status("postnl", "sandbox-api-key", Status::InProgress)], "a", t(0)).unwrap();
    let p = store.load().unwrap();
    assert_eq!(p.status("retired-carrier", "old-step"), Status::Done);
    assert_eq!(p.step("retired-carrier", "old-step").unwrap().note, "kept");
    assert_eq!(p.status("postnl", "step-no-longer-in-guide"), Status::Skipped);
    assert_eq!(p.status("postnl", "sandbox-api-key"), Status::InProgress);
}

pub(super) fn dir_names(dir: &Path) -> BTreeSet<String> {
    fs::read_dir(dir).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect()
}

#[test]
fn damaged_files_are_located_and_left_untouched() {
    let valid = "# cutover\nschema = 1\n\n[guides.postnl.steps.a]\nstatus = \"done\"\n";
    let cases: Vec<(&str, Vec<u8>, usize, usize)> = vec![
        ("truncated", b"# cutover\nschema = 1\n\n[guides.postnl.steps.a]\nstatus = \"do".to_vec(), 5, 13),
        ("truncated header", b"schema = 1\n\n[guides.postnl.ste".to_vec(), 3, 0),
        ("binary garbage (valid UTF-8)", b"schema = 1\n\x00\x01\x02\x7f\x1b[2J".to_vec(), 2, 0),
        ("binary garbage", vec![0x89, b'P', b'N', b'G', 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 0x0d], 1, 1),
        ("not UTF-8", b"schema = 1\n# latin-1 below\n[guides.g.steps.s]\nnote = \"caf\xe9\"\n".to_vec(), 4, 12),
        ("wrong type", b"schema = 1\n\n[guides.g.steps.s]\nstatus = 5\n".to_vec(), 4, 0),
        ("wrong schema type", b"schema = \"one\"\n".to_vec(), 1, 0),
        ("unknown status", b"schema = 1\n[guides.g.steps.s]\nstatus = \"finished\"\n".to_vec(), 3, 0),
        ("unknown key", b"schema = 1\n[guides.g.steps.s]\nstatus = \"done\"\ncolour = \"red\"\n".to_vec(), 4, 1),
        ("missing schema", b"[guides.g.steps.s]\nstatus = \"done\"\n".to_vec(), 1, 0),
        ("comment only", b"# nothing here\n".to_vec(), 1, 0),
        ("old schema", b"# x\nschema = 0\n".to_vec(), 2, 10),
    ];
    assert!(from_toml(valid, "v").is_ok());
    for (what, bytes, line, col) in cases {
        let dir = tempfile::tempdir().unwrap();
        let store = store_in(dir.path());
        fs::write(store.path(), &bytes).unwrap();
        let err = store.load().unwrap_err();
        match &err {
            StoreError::Parse { file, line: l, col: c, message } => {
                assert_eq!(*l, line, "{what}: {err}");
                if col > 0 {
                    assert_eq!(*c, col, "{what}: {err}");
                }
                assert!(file.ends_with("state.toml"), "{what}: {err}");
                assert!(!message.is_empty());
                assert!(!message.contains('\u{1b}'), "{what}: message is sanitized");
                assert!(err.to_string().starts_with(&format!("{file}:{l}:{c}: ")), "{what}: {err}");
            }
            other => panic!("{what}: expected a parse error, got {other:?}"),
        }
        assert_eq!(fs::read(store.path()).unwrap(), bytes, "{what}: load left the file alone");
        let before = dir_names(dir.path());
        let err2 = store.apply(&[status("g", "s", Status::Done)], "a", t(0)).unwrap_err();
        assert_eq!(err2, err, "{what}: apply reports the same error");
        assert_eq!(fs::read(store.path()).unwrap(), bytes, "{what}: apply left the file alone");
        let err3 = store.apply_touched(&[status("g", "s", Status::Done)], "a", t(0)).unwrap_err();
        assert_eq!(err3, err, "{what}: a change to one guide reads it whole and reports the same");
        assert_eq!(fs::read(store.path()).unwrap(), bytes, "{what}: and leaves it alone");
        let after: BTreeSet<String> = dir_names(dir.path()).into_iter().filter(|n| !n.ends_with(".lock")).collect();
        assert_eq!(after, before, "{what}: apply wrote nothing but the lock file");
    }
}

#[test]
fn newer_schema_is_refused_with_update_advice_and_left_untouched() {
    let dir = tempfile::tempdir().unwrap();
    let store = store_in(dir.path());
    let bytes = b"# from the future\nschema = 3\nsync = { peer = \"x\" }\n\n[guides.g.steps.s]\nstatus = \"verified\"\nrisk = 2\n";
    fs::write(store.path(), bytes).unwrap();
    let err = store.load().unwrap_err();
    assert!(
        matches!(err, StoreError::NewerSchema { found: 3, supported: cutover::progress::STATE_SCHEMA, .. }),
        "{err:?}"
    );
    assert!(err.to_string().to_lowercase().contains("update cutover"), "{err}");
    assert!(store.apply(&[status("g", "s", Status::Done)], "a", t(0)).is_err());
    assert_eq!(fs::read(store.path()).unwrap(), bytes);
}

#[test]
fn reset_moves_a_damaged_file_aside() {
    let dir = tempfile::tempdir().unwrap();
    let store = store_in(dir.path());
    assert_eq!(store.reset(t(0)).unwrap(), None);
    let garbage = b"\xff\xfe not a state file";
    fs::write(store.path(), garbage).unwrap();
    assert!(store.load().is_err());
    let at: Timestamp = "2026-11-23T10:15:00Z".parse().unwrap();
    let moved = store.reset(at).unwrap().unwrap();
    assert_eq!(moved, dir.path().join("state.toml.broken-20261123T101500Z"));
    assert_eq!(fs::read(&moved).unwrap(), garbage);
    assert!(!store.path().exists());
    assert_eq!(store.load().unwrap(), Progress::default());
    // A second reset in the same second does not overwrite the first.
    fs::write(store.path(), b"also broken [").unwrap();
    let second = store.reset(at).unwrap().unwrap();
    assert_ne!(second, moved);
    assert_eq!(fs::read(&moved).unwrap(), garbage);
    assert_eq!(fs::read(&second).unwrap(), b"also broken [");
    let (p, _) = store.apply(&[status("g", "s", Status::Done)], "a", t(1)).unwrap();
    assert_eq!(p.events.len(), 1);
}

pub(super) fn mode(path: &Path) -> u32 {
    fs::metadata(path).unwrap().mode() & 0o7777
}

#[test]
fn new_files_are_private() {
    let dir = tempfile::tempdir().unwrap();
    let store = store_in(dir.path());
    let ops: Vec<Op> = (0..EVENTS_KEPT + 1).map(|i| status("g", &format!("s{i}"), Status::Done)).collect();
    store.apply(&ops, "a", t(0)).unwrap();
    assert_eq!(mode(store.path()), 0o600);
    assert_eq!(mode(&store.lock_path()), 0o600);
    assert_eq!(mode(&store.archive_path()), 0o600);
}

#[test]
fn a_replaced_state_keeps_its_mode_and_group() {
    let dir = tempfile::tempdir().unwrap();
    let store = store_in(dir.path());
    store.apply(&[status("g", "s", Status::Done)], "a", t(0)).unwrap();
    fs::set_permissions(store.path(), fs::Permissions::from_mode(0o640)).unwrap();
    // A group other than ours where we may give one (root), else our own.
    let mine = fs::metadata(store.path()).unwrap().gid();
    let other = mine + 4242;
    let gid = if std::os::unix::fs::chown(store.path(), None, Some(other)).is_ok() { other } else { mine };
    let ops: Vec<Op> = (0..EVENTS_KEPT + 1).map(|i| status("g", &format!("s{i}"), Status::Done)).collect();
    store.apply(&ops, "a", t(1)).unwrap();
    store.apply(&[note("g", "s", "again")], "a", t(2)).unwrap();
    assert_eq!(mode(store.path()), 0o640);
    assert_eq!(fs::metadata(store.path()).unwrap().gid(), gid);
    // New files follow the directory (private here), not the state.
    assert_eq!(mode(&store.archive_path()), 0o600);
}

/// In a group-writable setgid directory every file cutover makes is 0660
/// and every folder 2770, with the directory's group, whatever the umask.
#[test]
fn in_a_shared_directory_everything_is_group_shared_whatever_the_umask() {
    let dir = tempfile::tempdir().unwrap();
    let shared = dir.path().join("shared");
    fs::create_dir(&shared).unwrap();
    let gid = fs::metadata(&shared).unwrap().gid();
    fs::set_permissions(&shared, fs::Permissions::from_mode(0o2770)).unwrap();
    let state = shared.join("acme.toml");
    let bin = env!("CARGO_BIN_EXE_cutover");
    let home = dir.path().join("home");
    fs::create_dir(&home).unwrap();
    let evidence = dir.path().join("call.txt");
    fs::write(&evidence, "GET /x\n200 OK\n").unwrap();
    let sh = |cmd: &str| {
        let out = Command::new("sh")
            .arg("-c")
            .arg(format!("umask 077; exec {cmd}"))
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("HOME", &home)
            .env("XDG_DATA_HOME", home.join("data"))
            .env("XDG_CONFIG_HOME", home.join("config"))
            .env("USER", "alice")
            .env("CUTOVER_STATE", &state)
            .output()
            .unwrap();
        assert!(out.status.success(), "{cmd}: {}", String::from_utf8_lossy(&out.stderr));
    };
    sh(&format!("'{bin}' mark postnl servicedesk-access done --note first"));
    sh(&format!("'{bin}' evidence add postnl servicedesk-access '{}'", evidence.display()));
    sh(&format!("'{bin}' report postnl -o '{}'", shared.join("report.md").display()));
    // Enough events to start the archive.
    let ops: Vec<Op> = (0..EVENTS_KEPT + 1).map(|i| note("postnl", "servicedesk-access", &format!("n{i}"))).collect();
    Store::new(&state).apply(&ops, "alice", t(1)).unwrap();
    let mut seen = Vec::new();
    let mut stack = vec![shared.clone()];
    while let Some(d) = stack.pop() {
        for e in fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            let m = fs::symlink_metadata(&p).unwrap();
            if m.is_dir() {
                assert_eq!(m.mode() & 0o7777, 0o2770, "{}", p.display());
                stack.push(p.clone());
            } else {
                assert_eq!(m.mode() & 0o7777, 0o660, "{}", p.display());
            }
            assert_eq!(m.gid(), gid, "{}", p.display());
            seen.push(p.file_name().unwrap().to_string_lossy().into_owned());
        }
    }
    for want in ["acme.toml", "acme.toml.lock", "acme.archive.toml", "acme.evidence", "postnl", "report.md"] {
        assert!(seen.iter().any(|s| s == want), "{want} missing from {seen:?}");
    }
}

#[test]
fn symlinked_state_is_refused_and_target_untouched() {
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("elsewhere.toml");
    let content = "schema = 1\n[guides.g.steps.s]\nstatus = \"done\"\n";
    fs::write(&target, content).unwrap();
    let store = store_in(dir.path());
    std::os::unix::fs::symlink(&target, store.path()).unwrap();
    assert!(matches!(store.load(), Err(StoreError::Unsafe { .. })));
    assert!(matches!(store.apply(&[status("g", "s", Status::Todo)], "a", t(0)), Err(StoreError::Unsafe { .. })));
    assert!(matches!(store.reset(t(0)), Err(StoreError::Unsafe { .. })));
    assert_eq!(fs::read_to_string(&target).unwrap(), content);
    assert!(fs::symlink_metadata(store.path()).unwrap().file_type().is_symlink());
    let msg = store.load().unwrap_err().to_string();
    assert!(msg.contains("symbolic link"), "{msg}");
}

#[test]
fn symlinked_lock_or_archive_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let store = store_in(dir.path());
    let victim = dir.path().join("victim");
    std::os::unix::fs::symlink(&victim, store.lock_path()).unwrap();
    assert!(matches!(store.apply(&[status("g", "s", Status::Done)], "a", t(0)), Err(StoreError::Unsafe { .. })));
    assert!(!victim.exists(), "the link was not followed");
    assert!(!store.path().exists());
    fs::remove_file(store.lock_path()).unwrap();

    fs::write(&victim, "precious").unwrap();
    std::os::unix::fs::symlink(&victim, store.archive_path()).unwrap();
    let ops: Vec<Op> = (0..EVENTS_KEPT + 1).map(|i| status("g", &format!("s{i}"), Status::Done)).collect();
    assert!(matches!(store.apply(&ops, "a", t(0)), Err(StoreError::Unsafe { .. })));
    assert!(matches!(store.archived_events(), Err(StoreError::Unsafe { .. })));
    assert_eq!(fs::read_to_string(&victim).unwrap(), "precious");
    assert!(!store.path().exists(), "nothing saved when the archive cannot be written");
}

fn step_ops(range: std::ops::Range<usize>) -> Vec<Op> {
    range.map(|i| status("g", &format!("s{i:05}"), Status::Done)).collect()
}

fn steps_of(events: &[Event]) -> Vec<String> {
    events.iter().map(|e| e.step.clone()).collect()
}

fn names(range: std::ops::Range<usize>) -> Vec<String> {
    range.map(|i| format!("s{i:05}")).collect()
}

#[test]
fn event_overflow_moves_to_the_archive_in_order() {
    let dir = tempfile::tempdir().unwrap();
    let store = store_in(dir.path());
    const K: usize = EVENTS_KEPT;
    store.apply(&step_ops(0..K + 50), "a", t(0)).unwrap();
    let p = store.load().unwrap();
    assert_eq!(p.events.len(), K);
    assert_eq!(steps_of(&p.events), names(50..K + 50));
    assert_eq!(steps_of(&store.archived_events().unwrap()), names(0..50));
    let archive_before = fs::read(store.archive_path()).unwrap();

    store.apply(&step_ops(K + 50..K + 80), "a", t(1)).unwrap();
    let p = store.load().unwrap();
    assert_eq!(steps_of(&p.events), names(80..K + 80));
    assert_eq!(steps_of(&store.archived_events().unwrap()), names(0..80));
    // Every event is still there, once, in order.
    assert_eq!(steps_of(&store.all_events().unwrap()), names(0..K + 80));
    let archive_after = fs::read(store.archive_path()).unwrap();
    assert!(archive_after.starts_with(&archive_before), "the archive is appended to, never rewritten");
    // The archive is readable TOML too.
    let table: toml::Table = toml::from_str(std::str::from_utf8(&archive_after).unwrap()).unwrap();
    assert_eq!(table["events"].as_array().map(|a| a.len()), Some(80));
}

/// One guide's events (the history view, `cutover log GUIDE`): what every
/// event holds of that guide, in order, archived ones included, whether
/// the state is read by the call or handed to it.
#[test]
fn a_guides_events_are_all_of_its_events_in_order() {
    let dir = tempfile::tempdir().unwrap();
    let store = store_in(dir.path());
    let ops: Vec<Op> =
        (0..EVENTS_KEPT * 3).map(|i| status(["postnl", "posti", "x"][i % 3], &format!("s{i}"), Status::Done)).collect();
    for batch in ops.chunks(17) {
        store.apply(batch, "a", t(0)).unwrap();
    }
    let all = store.all_events().unwrap();
    assert!(store.archived_events().unwrap().len() > EVENTS_KEPT, "most are archived");
    let state = store.load().unwrap();
    for guide in ["postnl", "posti", "x", "none"] {
        let want: Vec<Event> = all.iter().filter(|e| e.guide == guide).cloned().collect();
        assert_eq!(store.guide_events(guide).unwrap(), want, "{guide}");
        assert_eq!(store.guide_events_of(&state, guide).unwrap(), want, "{guide}, state handed over");
    }
}

#[test]
fn archive_append_interrupted_before_the_save_is_not_duplicated() {
    let dir = tempfile::tempdir().unwrap();
    let store = store_in(dir.path());
    const K: usize = EVENTS_KEPT;
    store.apply(&step_ops(0..K), "a", t(0)).unwrap();
    let saved = fs::read(store.path()).unwrap();
    // A save that archived 10 events and then died before its rename:
    store.apply(&step_ops(K..K + 10), "a", t(1)).unwrap();
    fs::write(store.path(), &saved).unwrap();
    let raw = fs::read_to_string(store.archive_path()).unwrap();
    assert_eq!(raw.matches("[[events]]").count(), 10, "the archive holds the 10 events");
    // ...which are still in the state file too: the readers show them once.
    assert!(store.archived_events().unwrap().is_empty());
    assert_eq!(steps_of(&store.all_events().unwrap()), names(0..K));
    assert_eq!(steps_of(&store.guide_events("g").unwrap()), names(0..K));
    // The next save archives the same 10 oldest events: they are recognised.
    let later = 2 * K + 100;
    store.apply(&step_ops(later..later + 10), "b", t(2)).unwrap();
    let mut all = store.archived_events().unwrap();
    all.extend(store.load().unwrap().events);
    let expected: Vec<String> = names(0..K).into_iter().chain(names(later..later + 10)).collect();
    assert_eq!(steps_of(&all), expected);
    assert_eq!(steps_of(&store.all_events().unwrap()), expected);
}

#[test]
fn archive_continues_after_a_reset() {
    let dir = tempfile::tempdir().unwrap();
    let store = store_in(dir.path());
    const K: usize = EVENTS_KEPT;
    store.apply(&step_ops(0..K + 5), "a", t(0)).unwrap();
    store.reset(t(1)).unwrap();
    let after = 5 * K + 100;
    store.apply(&step_ops(after..after + K + 3), "a", t(2)).unwrap();
    let archived = store.archived_events().unwrap();
    let expected: Vec<String> = names(0..5).into_iter().chain(names(after..after + 3)).collect();
    assert_eq!(steps_of(&archived), expected, "nothing from either history is lost or skipped");
}

#[test]
fn torn_archive_tail_is_tolerated() {
    let dir = tempfile::tempdir().unwrap();
    let store = store_in(dir.path());
    const K: usize = EVENTS_KEPT;
    store.apply(&step_ops(0..K + 3), "a", t(0)).unwrap();
    let saved = fs::read(store.path()).unwrap();
    let archive = fs::read(store.archive_path()).unwrap();
    // A crash in the middle of appending two more entries.
    store.apply(&step_ops(K + 3..K + 5), "a", t(1)).unwrap();
    let longer = fs::read(store.archive_path()).unwrap();
    let cut = archive.len() + (longer.len() - archive.len()) * 2 / 3;
    fs::write(store.archive_path(), &longer[..cut]).unwrap();
    fs::write(store.path(), &saved).unwrap();
    // The first new entry is complete but its event is still in the state
    // file; the torn second one is skipped.
    assert_eq!(steps_of(&store.archived_events().unwrap()), names(0..3));
    assert_eq!(steps_of(&store.all_events().unwrap()), names(0..K + 3));
    store.apply(&step_ops(K + 5..K + 7), "a", t(2)).unwrap();
    let mut all = store.archived_events().unwrap();
    all.extend(store.load().unwrap().events);
    let expected: Vec<String> = names(0..K + 3).into_iter().chain(names(K + 5..K + 7)).collect();
    assert_eq!(steps_of(&all), expected);
}

/// The history view reads one guide's events: every one of them, from the
/// archive and the state, once and in order, also while an interrupted save
/// has left some in both.
#[test]
fn guide_events_are_every_event_of_one_guide_once() {
    let dir = tempfile::tempdir().unwrap();
    let store = store_in(dir.path());
    const K: usize = EVENTS_KEPT;
    let ops = |range: std::ops::Range<usize>| -> Vec<Op> {
        range.map(|i| status(if i % 3 == 0 { "a" } else { "b" }, &format!("s{i:05}"), Status::Done)).collect()
    };
    let of = |guide: &str, range: std::ops::Range<usize>| -> Vec<String> {
        range.filter(|i| (i % 3 == 0) == (guide == "a")).map(|i| format!("s{i:05}")).collect()
    };
    store.apply(&ops(0..3 * K), "a", t(0)).unwrap();
    assert!(!store.archived_events().unwrap().is_empty(), "most events are archived");
    assert_eq!(steps_of(&store.guide_events("a").unwrap()), of("a", 0..3 * K));
    assert_eq!(steps_of(&store.guide_events("b").unwrap()), of("b", 0..3 * K));
    assert!(store.guide_events("c").unwrap().is_empty());
    // A save that appended to the archive and died before its rename.
    let saved = fs::read(store.path()).unwrap();
    store.apply(&ops(3 * K..3 * K + 20), "a", t(1)).unwrap();
    fs::write(store.path(), &saved).unwrap();
    assert_eq!(steps_of(&store.guide_events("a").unwrap()), of("a", 0..3 * K));
    store.apply(&ops(3 * K + 20..3 * K + 30), "a", t(2)).unwrap();
    let want: Vec<String> = of("a", 0..3 * K).into_iter().chain(of("a", 3 * K + 20..3 * K + 30)).collect();
    assert_eq!(steps_of(&store.guide_events("a").unwrap()), want);
    let all_a: Vec<Event> = store.all_events().unwrap().into_iter().filter(|e| e.guide == "a").collect();
    assert_eq!(store.guide_events("a").unwrap(), all_a);
}

/// Who wrote a note is kept with the step, so that a note changed meanwhile
/// names its author also when that note's event has long been archived.
#[test]
fn a_note_author_is_known_after_its_event_is_archived() {
    let dir = tempfile::tempdir().unwrap();
    let store = store_in(dir.path());
    store.apply(&[note("g", "s", "ticket 4711")], "bob", t(0)).unwrap();
    store.apply(&step_ops(0..EVENTS_KEPT + 10), "carol", t(1)).unwrap();
    assert!(store.load().unwrap().events.iter().all(|e| e.what != "note"), "bob's note event is archived");
    let edit = Op::SetNote { guide: "g".into(), step: "s".into(), note: "mine".into(), base: Some(String::new()) };
    let (p, events) = store.apply(&[edit], "alice", t(2)).unwrap();
    assert_eq!(
        p.step("g", "s").unwrap().note,
        "ticket 4711\n--- alice wrote this while bob's text above was saved ---\nmine"
    );
    assert_eq!(events[0].detail, "note changed meanwhile by bob; both texts kept");
    assert_eq!(p.step("g", "s").unwrap().note_by.as_deref(), Some("alice"));
}

// ---- concurrent writer processes ----

const WRITER_ENV: &str = "CUTOVER_TEST_WRITER";

/// Not a test on its own: a writer process for `concurrent_writers_*`,
/// started by re-running this test binary with the env var set.
#[test]
fn writer_child() {
    let Ok(path) = std::env::var(WRITER_ENV) else {
        return;
    };
    let id: usize = std::env::var("CUTOVER_TEST_WRITER_ID").unwrap().parse().unwrap();
    let ops: usize = std::env::var("CUTOVER_TEST_WRITER_OPS").unwrap().parse().unwrap();
    let store = Store::new(path);
    let mut rng = fastrand::Rng::with_seed(id as u64);
    for i in 0..ops {
        let by = format!("w{id}-{i}");
        let op = writer_op(id, i, &mut rng);
        store.apply(&[op], &by, Timestamp::now()).unwrap();
        // Random pauses, so the writers interleave differently every run.
        if rng.u8(..4) == 0 {
            std::thread::sleep(Duration::from_micros(rng.u64(..2000)));
        }
    }
}

/// Writer `id`'s operation number `i`: every tenth one on the step all
/// writers share, the others on a step of its own, each a random kind (a
/// status, a note or a check record). The same `rng` sequence in the test
/// tells what each operation was.
fn writer_op(id: usize, i: usize, rng: &mut fastrand::Rng) -> Op {
    let by = format!("w{id}-{i}");
    if i % 10 == 9 {
        return note("g", "shared", &by);
    }
    let step = format!("w{id}-s{i}");
    match rng.u8(..3) {
        0 => status("g", &step, Status::ALL[rng.usize(..Status::ALL.len())]),
        1 => note("g", &step, &by),
        _ => Op::RecordCheck { guide: "g".into(), step, record: Box::new(check(&by)) },
    }
}

/// `name` as the test harness knows it in this binary (`--exact` needs the
/// module path: `store::writer_child`).
fn exact(name: &str) -> String {
    let module = module_path!().split_once("::").map_or("", |(_, m)| m);
    format!("{module}::{name}")
}

fn spawn_writer(path: &Path, id: usize, ops: usize) -> std::process::Child {
    Command::new(std::env::current_exe().unwrap())
        .args(["--exact", &exact("writer_child"), "--nocapture", "--test-threads=1"])
        .env(WRITER_ENV, path)
        .env("CUTOVER_TEST_WRITER_ID", id.to_string())
        .env("CUTOVER_TEST_WRITER_OPS", ops.to_string())
        .stdout(Stdio::null())
        .spawn()
        .unwrap()
}

/// `writers` processes apply `ops` single-op changes each to one state file
/// that already holds `seed` events (near the limit: the writers also move
/// events to the archive).
fn concurrent_writers(writers: usize, ops: usize, seed: usize) {
    let dir = tempfile::tempdir().unwrap();
    let store = store_in(dir.path());
    if seed > 0 {
        let seed: Vec<Op> = (0..seed).map(|i| note("seed", &format!("s{}", i % 10), "seed")).collect();
        store.apply(&seed, "seed", t(0)).unwrap();
    }
    let started = std::time::Instant::now();
    let children: Vec<_> = (0..writers).map(|id| spawn_writer(store.path(), id, ops)).collect();
    for mut child in children {
        assert!(child.wait().unwrap().success());
    }
    eprintln!("{writers} writers x {ops} ops: {:?}", started.elapsed());

    let p = store.load().unwrap();
    let mut last_shared = BTreeSet::new();
    for id in 0..writers {
        let mut rng = fastrand::Rng::with_seed(id as u64);
        for i in 0..ops {
            let op = writer_op(id, i, &mut rng);
            if rng.u8(..4) == 0 {
                rng.u64(..2000);
            }
            let step = p.step("g", &format!("w{id}-s{i}"));
            match op {
                _ if i % 10 == 9 => {}
                Op::SetStatus { status, .. } => {
                    assert_eq!(step.map(|r| r.status), Some(status), "w{id} op {i}: status kept")
                }
                Op::SetNote { note, .. } => {
                    assert_eq!(step.map(|r| r.note.as_str()), Some(note.as_str()), "w{id} op {i}: note kept")
                }
                Op::RecordCheck { record, .. } => assert!(
                    step.is_some_and(|r| r.checks.iter().any(|c| c.message == record.message)),
                    "w{id} op {i}: check record kept"
                ),
                other => panic!("unexpected op {other:?}"),
            }
        }
        if let Some(i) = (0..ops).rev().find(|i| i % 10 == 9) {
            last_shared.insert(format!("w{id}-{i}"));
        }
    }
    let shared = p.step("g", "shared").map(|r| r.note.clone()).unwrap_or_default();
    assert!(last_shared.contains(&shared), "shared step holds some writer's last write, not {shared:?}");

    let mut all = store.archived_events().unwrap();
    all.extend(p.events.iter().cloned());
    assert_eq!(all.iter().filter(|e| e.by == "seed").count(), seed);
    let mut seen: BTreeMap<String, usize> = BTreeMap::new();
    let mut last_i: BTreeMap<usize, usize> = BTreeMap::new();
    for e in all.iter().filter(|e| e.by != "seed") {
        *seen.entry(e.by.clone()).or_default() += 1;
        let (w, i) = e.by.trim_start_matches('w').split_once('-').unwrap();
        let (w, i): (usize, usize) = (w.parse().unwrap(), i.parse().unwrap());
        if let Some(prev) = last_i.insert(w, i) {
            assert!(prev < i, "writer {w}'s events are in order");
        }
    }
    assert_eq!(seen.len(), writers * ops, "every op has its event");
    assert!(seen.values().all(|n| *n == 1), "and exactly once");
}

#[test]
fn concurrent_writers_two_processes() {
    // Near the event limit: the writers also move events to the archive.
    concurrent_writers(2, 200, EVENTS_KEPT * 17 / 20);
}

#[test]
fn concurrent_writers_four_processes() {
    concurrent_writers(4, 150, 0);
}

#[test]
fn threads_in_one_process_do_not_lose_changes() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("state.toml");
    let handles: Vec<_> = (0..4)
        .map(|id| {
            let store = Store::new(path.clone());
            std::thread::spawn(move || {
                for i in 0..25 {
                    store.apply(&[note("g", &format!("t{id}-{i}"), "x")], "t", Timestamp::now()).unwrap();
                }
            })
        })
        .collect();
    for h in handles {
        h.join().unwrap();
    }
    let store = Store::new(path);
    let p = store.load().unwrap();
    assert_eq!(p.guides["g"].steps.len(), 100);
    assert_eq!(p.events.len(), EVENTS_KEPT.min(100));
    assert_eq!(store.all_events().unwrap().len(), 100, "every change has its event, in the state or the archive");
}

#[test]
fn a_store_knows_its_own_last_save_from_anothers() {
    let dir = tempfile::tempdir().unwrap();
    let mine = store_in(dir.path());
    let clone = mine.clone();
    assert!(!mine.is_own_last_save(), "nothing saved yet");
    mine.apply(&[status("g", "a", Status::Done)], "me", t(0)).unwrap();
    assert!(mine.is_own_last_save() && clone.is_own_last_save(), "a clone shares what was saved");
    // Another instance (its own Store) saves: now there is something new.
    let other = store_in(dir.path());
    other.apply(&[status("g", "b", Status::Done)], "you", t(1)).unwrap();
    assert!(!mine.is_own_last_save());
    assert!(other.is_own_last_save());
    // A hand edit is new too.
    mine.apply(&[status("g", "c", Status::Done)], "me", t(2)).unwrap();
    let text = fs::read_to_string(mine.path()).unwrap();
    fs::write(mine.path(), format!("{text}\n# edited by hand\n")).unwrap();
    assert!(!mine.is_own_last_save());
}
