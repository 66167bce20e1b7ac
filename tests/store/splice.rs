//! A change that reads and writes only the guides it touches
//! (`Store::apply_touched`, what `cutover mark` and `cutover check` save
//! with): on a sealed file it writes the same bytes a whole read, apply and
//! write does; a file whose seal does not match is read whole, its problems
//! located and the file left as it is.

use super::store::t;
use cutover::progress::store::{Store, StoreError};
use cutover::progress::{CheckRecord, Op, Progress, Status, Verdict};
use proptest::prelude::*;
use sha2::{Digest, Sha256};
use std::fs;
use std::path::Path;

const GUIDES: [&str; 7] = ["007", "A1", "a", "postnl", "posti", "x-1_b", "zz"];
const STEPS: [&str; 4] = ["go-live", "s.2", "sandbox key", "step-01"];
const NOTES: [&str; 8] = [
    "",
    "plain",
    "two\nlines",
    "[guides.zz.steps.step-01]\n[[events]]\nstatus = \"todo\"",
    "\"\"\"triple\"\"\" and '''single''' \\ back",
    "ünïcødé ✓ 日本語 🚚\ttab\r\nwindows",
    "ends in a quote\"",
    "# not a comment\n\n\nblank lines",
];

fn record(n: usize) -> CheckRecord {
    CheckRecord {
        at: t(n as i64),
        by: "bob".into(),
        env: Some(if n.is_multiple_of(2) { "sandbox" } else { "production" }.into()),
        check: format!("check {}", n % 3),
        verdict: if n.is_multiple_of(3) { Verdict::Fail } else { Verdict::Pass },
        message: NOTES[n % NOTES.len()].into(),
        hint: (n % 2 == 1).then(|| "check the \"apikey\" header".to_string()),
        duration_ms: n as u64,
        request: Some(format!("GET https://api-sandbox.postnl.nl/x/{n}")),
        http_status: Some(200),
        excerpt: Some("{\"a\": [1]}".into()),
        proved: Some("the key is accepted".into()),
        not_proved: None,
        would_prove: None,
        trace_id: None,
        key_sent_to: None,
        details: vec!["dns 1 ms".into(), "[tls] 2 ms".into()],
    }
}

/// An op from four numbers: which kind, guide, step and text.
fn op((kind, g, s, n): (u8, usize, usize, usize)) -> Op {
    let (guide, step) = (GUIDES[g % GUIDES.len()].to_string(), STEPS[s % STEPS.len()].to_string());
    match kind % 4 {
        0 => Op::SetStatus { guide, step, status: Status::ALL[n % 5], hash: Some(format!("{n:016x}")) },
        1 => Op::SetNote { guide, step, note: NOTES[n % NOTES.len()].into(), base: None },
        2 => Op::RecordCheck { guide, step, record: Box::new(record(n)) },
        _ => Op::Acknowledge { guide, step, hash: format!("{n:08x}") },
    }
}

fn ops() -> impl Strategy<Value = Vec<Op>> {
    prop::collection::vec((any::<u8>(), 0..9usize, 0..9usize, 0..64usize).prop_map(op), 1..6)
}

/// Every file in `dir` (name, bytes), the lock aside.
fn files(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut out: Vec<(String, Vec<u8>)> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap())
        .map(|e| (e.file_name().to_string_lossy().into_owned(), fs::read(e.path()).unwrap()))
        .filter(|(n, _)| !n.ends_with(".lock"))
        .collect();
    out.sort();
    out
}

fn copy_dir(from: &Path, to: &Path) {
    for (name, bytes) in files(from) {
        fs::write(to.join(name), bytes).unwrap();
    }
}

/// `p` with only the guides `ops` name.
fn only_touched(mut p: Progress, ops: &[Op]) -> Progress {
    p.guides.retain(|g, _| ops.iter().any(|o| o.guide() == g));
    p
}

/// The seal cutover writes, recomputed for `text` (what someone forging a
/// seal would do).
fn reseal(text: &str) -> String {
    let (above, seal) = text.trim_end_matches('\n').rsplit_once('\n').unwrap();
    let prefix = &seal[..seal.rfind(' ').unwrap() + 1];
    let above = format!("{above}\n");
    format!("{above}{prefix}{}\n", hex::encode(Sha256::digest(above.as_bytes())))
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    /// Built in a few saves (some events overflowing to the archive), then
    /// one more change: touched-only and whole write the same files, and
    /// return the same progress for the guides the change names.
    #[test]
    fn a_change_to_some_guides_writes_what_a_whole_write_does(
        history in prop::collection::vec(ops(), 1..14),
        change in ops(),
    ) {
        let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
        let whole = Store::new(a.path().join("state.toml"));
        for (i, batch) in history.iter().enumerate() {
            whole.apply(batch, "alice", t(100 + i as i64)).unwrap();
        }
        copy_dir(a.path(), b.path());
        let touched = Store::new(b.path().join("state.toml"));
        let (p_whole, ev_whole) = whole.apply(&change, "bob", t(1000)).unwrap();
        let (p_touched, ev_touched) = touched.apply_touched(&change, "bob", t(1000)).unwrap();
        prop_assert_eq!(files(a.path()), files(b.path()));
        prop_assert_eq!(&p_touched, &only_touched(p_whole.clone(), &change));
        prop_assert_eq!(ev_touched, ev_whole);
        prop_assert_eq!(touched.load().unwrap(), p_whole);
    }
}

/// A big sealed state, one guide changed: the other guides' text is kept
/// byte for byte, and the file reads back whole.
#[test]
fn the_other_guides_text_is_kept_as_it_was() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::new(dir.path().join("state.toml"));
    let many: Vec<Op> = (0..300)
        .map(|i| Op::SetNote {
            guide: format!("g{:03}", i % 30),
            step: format!("s{i}"),
            note: NOTES[i % NOTES.len()].into(),
            base: None,
        })
        .collect();
    store.apply(&many, "alice", t(1)).unwrap();
    let before = fs::read_to_string(store.path()).unwrap();
    let (p, _) = store
        .apply_touched(
            &[Op::SetStatus { guide: "g007".into(), step: "s7".into(), status: Status::Done, hash: None }],
            "bob",
            t(2),
        )
        .unwrap();
    assert_eq!(p.guides.keys().collect::<Vec<_>>(), ["g007"], "only the touched guide comes back");
    let after = fs::read_to_string(store.path()).unwrap();
    let section = |text: &str, g: &str| -> String {
        text.split("\n\n").filter(|t| t.contains(&format!("[guides.{g}."))).collect::<Vec<_>>().join("\n\n")
    };
    for g in ["g000", "g006", "g008", "g029"] {
        assert_eq!(section(&after, g), section(&before, g), "{g} as it was");
    }
    assert_ne!(section(&after, "g007"), section(&before, "g007"));
    let all = store.load().unwrap();
    assert_eq!(all.guides.len(), 30);
    assert_eq!(all.status("g007", "s7"), Status::Done);
}

/// Step `s` of guide `g` set to `status`.
fn set(g: &str, status: Status) -> Op {
    Op::SetStatus { guide: g.into(), step: "s".into(), status, hash: None }
}

/// A sealed state of guides a and b, each with step s done, and its text.
fn two_guides() -> (tempfile::TempDir, Store, String) {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::new(dir.path().join("state.toml"));
    store.apply(&[set("a", Status::Done), set("b", Status::Done)], "alice", t(1)).unwrap();
    let text = fs::read_to_string(store.path()).unwrap();
    (dir, store, text)
}

/// Edited by hand, the seal no longer matches: the whole file is read, a
/// valid edit is kept (and the file sealed again), a broken one is located
/// and nothing is written.
#[test]
fn a_hand_edit_is_read_whole() {
    let (_dir, store, text) = two_guides();

    // A valid edit to another guide: kept, and the file is sealed again.
    let edited = text.replacen("status = \"done\"", "status = \"blocked\"", 1);
    fs::write(store.path(), &edited).unwrap();
    store.apply_touched(&[set("b", Status::Skipped)], "bob", t(2)).unwrap();
    let p = store.load().unwrap();
    assert_eq!((p.status("a", "s"), p.status("b", "s")), (Status::Blocked, Status::Skipped));
    let resealed = fs::read_to_string(store.path()).unwrap();
    assert_eq!(reseal(&resealed), resealed, "sealed again");

    // A broken edit to another guide: located, the file left as it is.
    let broken = resealed.replacen("status = \"blocked\"", "status = \"finished\"", 1);
    fs::write(store.path(), &broken).unwrap();
    let line = broken.lines().position(|l| l.contains("finished")).unwrap() + 1;
    match store.apply_touched(&[set("b", Status::Done)], "bob", t(3)) {
        Err(StoreError::Parse { line: l, .. }) => assert_eq!(l, line),
        other => panic!("expected a located parse error, got {other:?}"),
    }
    assert_eq!(fs::read_to_string(store.path()).unwrap(), broken, "left as it is");
}

/// The seal is trusted, not proven: a broken guide under a seal someone
/// recomputed is kept verbatim by a change to another guide (it is not
/// read), while a whole read still finds it. What the seal spares is
/// reading; it never makes cutover lose or rewrite text.
#[test]
fn a_forged_seal_spares_the_read_and_keeps_the_text() {
    let (_dir, store, text) = two_guides();
    let forged = reseal(&text.replacen("status = \"done\"", "status = \"finished\"", 1));
    fs::write(store.path(), &forged).unwrap();
    store.apply_touched(&[set("b", Status::Skipped)], "bob", t(2)).unwrap();
    let after = fs::read_to_string(store.path()).unwrap();
    assert!(after.contains("[guides.a.steps.s]\nstatus = \"finished\""), "a's text kept verbatim:\n{after}");
    assert!(matches!(store.load(), Err(StoreError::Parse { .. })), "a whole read still refuses it");
    assert!(matches!(store.apply(&[set("b", Status::Done)], "bob", t(3)), Err(StoreError::Parse { .. })));
}
