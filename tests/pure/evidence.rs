//! Evidence attached to a report (`cutover evidence add`): only UTF-8
//! text, never through a link, 0600 files in a 0700 folder, never
//! overwritten, capped in size and redacted across the cut.

use super::report::{KEY, guide, redact, ts};
use cutover::progress::Progress;
use cutover::report::{Format, evidence};
use std::os::unix::fs::{PermissionsExt, symlink};
use std::path::Path;

fn mode(p: &Path) -> u32 {
    std::fs::symlink_metadata(p).map(|m| m.permissions().mode() & 0o777).unwrap_or(0)
}

#[test]
fn add_refuses_binary_and_non_utf8_files() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let state = dir.path().join("state.toml");
    // Why adding a file of these bytes is refused ("" if it is not).
    let refused = |name: &str, bytes: &[u8]| -> String {
        let file = dir.path().join(name);
        std::fs::write(&file, bytes).unwrap_or_else(|e| panic!("{e}"));
        evidence::add(&state, "demo", "access", &file, "a", ts("2026-11-23T10:00:00Z"), &redact)
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default()
    };
    let err = refused("label.pdf", b"%PDF-1.4\n\x00\x01\x02binary");
    assert!(err.contains("binary"), "{err}");
    let err = refused("latin1.txt", b"caf\xe9 au lait");
    assert!(err.contains("not UTF-8"), "{err}");
    assert_eq!(evidence::list(&state, "demo").map(|l| l.len()), Ok(0));
}

#[test]
fn add_refuses_a_symlink_and_never_follows_one() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let state = dir.path().join("state.toml");
    let secret = dir.path().join("secrets.toml");
    std::fs::write(&secret, format!("[demo]\nsandbox = \"{KEY}\"\n")).unwrap_or_else(|e| panic!("{e}"));
    let link = dir.path().join("innocent.txt");
    symlink(&secret, &link).unwrap_or_else(|e| panic!("{e}"));
    let at = ts("2026-11-23T10:00:00Z");
    let err = evidence::add(&state, "demo", "access", &link, "a", at, &redact)
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
    assert!(err.contains("symbolic link"), "{err}");

    // A link planted where the next attachment would go is not written through.
    let edir = evidence::evidence_dir(&state, "demo");
    std::fs::create_dir_all(&edir).unwrap_or_else(|e| panic!("{e}"));
    let victim = dir.path().join("victim.txt");
    std::fs::write(&victim, "precious").unwrap_or_else(|e| panic!("{e}"));
    symlink(&victim, edir.join("access--note-txt.txt")).unwrap_or_else(|e| panic!("{e}"));
    let note = dir.path().join("note.txt");
    std::fs::write(&note, "hello").unwrap_or_else(|e| panic!("{e}"));
    let a = evidence::add(&state, "demo", "access", &note, "a", at, &redact);
    assert!(a.is_ok(), "{a:?}");
    assert_eq!(std::fs::read_to_string(&victim).unwrap_or_default(), "precious");
    assert!(edir.join("access--note-txt-2.txt").is_file());

    // An evidence directory that is itself a link is refused.
    let state2 = dir.path().join("other.toml");
    let elsewhere = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    symlink(elsewhere.path(), dir.path().join("other.evidence")).unwrap_or_else(|e| panic!("{e}"));
    let err = evidence::add(&state2, "demo", "access", &note, "a", at, &redact)
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
    assert!(err.contains("symbolic link"), "{err}");
    assert!(evidence::list(&state2, "demo").is_err());
    assert_eq!(std::fs::read_dir(elsewhere.path()).map(|d| d.count()).unwrap_or(99), 0);
}

/// The report of a saved state whose evidence folder is a link is not
/// made, and says why in a kind the caller can tell apart.
#[test]
fn a_saved_report_refuses_a_linked_evidence_folder() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let state = dir.path().join("state.toml");
    let elsewhere = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    symlink(elsewhere.path(), dir.path().join("state.evidence")).unwrap_or_else(|e| panic!("{e}"));
    let made = cutover::report::render_saved(
        &guide(),
        "en",
        &Progress::default(),
        &state,
        "a",
        ts("2026-11-23T10:00:00Z"),
        Format::Markdown,
    );
    let err = made.err();
    assert!(
        matches!(err, Some(cutover::report::ReportError::Evidence(evidence::EvidenceError::LinkedDir(_)))),
        "{err:?}"
    );
    let said = err.map(|e| e.to_string()).unwrap_or_default();
    assert!(
        said.ends_with("state.evidence is a symbolic link: cutover does not follow links in its evidence directory"),
        "{said}"
    );
}

#[test]
fn add_keeps_0600_and_never_overwrites() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let state = dir.path().join("state.toml");
    let file = dir.path().join("call.json");
    std::fs::write(&file, "{\"first\": true}").unwrap_or_else(|e| panic!("{e}"));
    let at = ts("2026-11-23T10:00:00Z");
    let first = evidence::add(&state, "demo", "access", &file, "alice", at, &redact);
    assert!(first.is_ok(), "{first:?}");
    std::fs::write(&file, "{\"second\": true}").unwrap_or_else(|e| panic!("{e}"));
    let later = ts("2026-11-23T11:00:00Z");
    let second = evidence::add(&state, "demo", "access", &file, "bob", later, &redact);
    assert!(second.is_ok(), "{second:?}");

    let edir = evidence::evidence_dir(&state, "demo");
    assert_eq!(edir, dir.path().join("state.evidence").join("demo"));
    assert_eq!(mode(&edir), 0o700);
    assert_eq!(mode(&dir.path().join("state.evidence")), 0o700);
    let mut names: Vec<String> = std::fs::read_dir(&edir)
        .map(|d| d.filter_map(|e| e.ok()).map(|e| e.file_name().to_string_lossy().into_owned()).collect())
        .unwrap_or_default();
    names.sort();
    assert_eq!(
        names,
        ["access--call-json-2.toml", "access--call-json-2.txt", "access--call-json.toml", "access--call-json.txt"]
    );
    for n in &names {
        assert_eq!(mode(&edir.join(n)), 0o600, "{n}");
    }
    let list = evidence::list(&state, "demo").unwrap_or_default();
    let got: Vec<(&str, &str, &str)> =
        list.iter().map(|a| (a.name.as_str(), a.added_by.as_str(), a.content.as_str())).collect();
    assert_eq!(got, [("call.json", "alice", "{\"first\": true}"), ("call.json", "bob", "{\"second\": true}")]);
}

#[test]
fn add_caps_the_size_and_redacts_across_the_cut() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let state = dir.path().join("state.toml");
    let big = dir.path().join("big.log");
    let mut text = String::new();
    while text.len() < evidence::MAX_BYTES + 200_000 {
        text.push_str("GET /shipment/v2/status apikey: ");
        text.push_str(KEY);
        text.push_str(" \u{1b}[1mok\u{1b}[0m\n");
    }
    std::fs::write(&big, &text).unwrap_or_else(|e| panic!("{e}"));
    let a = evidence::add(&state, "demo", "access", &big, "a", ts("2026-11-23T10:00:00Z"), &redact)
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(a.truncated);
    assert!(a.content.len() <= evidence::MAX_BYTES);
    assert!(a.content.len() > evidence::MAX_BYTES / 2);
    assert!(!a.content.contains(KEY));
    // No fragment of the key survives at the cut either.
    assert!(
        !a.content.contains("FAKEKEY"),
        "{:?}",
        a.content.find("FAKEKEY").map(|i| (
            i,
            a.content.len(),
            &a.content[i.saturating_sub(60)..(i + 60).min(a.content.len())]
        ))
    );
    assert!(!a.content.contains('\u{1b}'));
    let listed = evidence::list(&state, "demo").unwrap_or_default();
    assert_eq!(listed.first().map(|l| l.truncated), Some(true));
}
