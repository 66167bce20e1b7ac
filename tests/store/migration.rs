//! Schema 1 state files (up to 20 full check runs per step in the state)
//! migrate on their first write: the state keeps each check's latest
//! verdict, slim; the check archive beside it takes every record in full,
//! and every record is found again (the history, the report, `cutover
//! log`). A newer schema is still refused with its line and column.

use crate::common;
use common::pty::{Pty, Sandbox};

/// A state file as cutover wrote it before schema 2: three full runs of two
/// checks on one step, their events, a status.
const SCHEMA_1: &str = r#"# cutover progress state
schema = 1

[guides.postnl.steps.sandbox-api-key]
status = "in_progress"
at = "2026-11-20T09:00:00Z"
by = "alice"

[[guides.postnl.steps.sandbox-api-key.checks]]
at = "2026-11-20T09:01:00Z"
by = "alice"
env = "sandbox"
check = "Sandbox key works (status lookup)"
verdict = "fail"
message = "PostNL refused the key (401 Invalid ApiKey)."
hint = "Copy the key again."
duration_ms = 120
request = "GET https://api-sandbox.postnl.nl/shipment/v2/status/barcode/3SDEVC000000000"
http_status = 401
excerpt = "/fault/faultstring = Invalid ApiKey"
proved = "PostNL accepts the key."
not_proved = "That other APIs are linked."

[[guides.postnl.steps.sandbox-api-key.checks]]
at = "2026-11-20T09:05:00Z"
by = "alice"
env = "sandbox"
check = "Sandbox key configured"
verdict = "pass"
message = "a key for postnl sandbox is set"
duration_ms = 0

[[guides.postnl.steps.sandbox-api-key.checks]]
at = "2026-11-20T09:10:00Z"
by = "bob"
env = "sandbox"
check = "Sandbox key works (status lookup)"
verdict = "pass"
message = "Key accepted: PostNL answered 200."
duration_ms = 98
request = "GET https://api-sandbox.postnl.nl/shipment/v2/status/barcode/3SDEVC000000000"
http_status = 200
excerpt = "/Warnings/0/Message = No shipment found"
proved = "PostNL accepts the key."

[[events]]
at = "2026-11-20T09:01:00Z"
by = "alice"
guide = "postnl"
step = "sandbox-api-key"
what = "check"
detail = "fail (sandbox): PostNL refused the key (401 Invalid ApiKey)."

[[events]]
at = "2026-11-20T09:10:00Z"
by = "bob"
guide = "postnl"
step = "sandbox-api-key"
what = "check"
detail = "pass (sandbox): Key accepted: PostNL answered 200."
"#;

#[test]
fn a_schema_1_state_migrates_on_its_first_write_and_keeps_every_record() {
    let sb = Sandbox::new();
    std::fs::create_dir_all(sb.state_file().parent().unwrap()).unwrap();
    std::fs::write(sb.state_file(), SCHEMA_1).unwrap();
    // Read as it is: nothing migrates on a read.
    let out = sb.command(&["status", "--json"]).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(std::fs::read_to_string(sb.state_file()).unwrap(), SCHEMA_1);

    // The first write migrates.
    let out = sb.command(&["mark", "postnl", "versioning", "done"]).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let state = std::fs::read_to_string(sb.state_file()).unwrap();
    let parsed: toml::Table = toml::from_str(&state).unwrap();
    assert_eq!(parsed["schema"].as_integer(), Some(2));
    let checks = parsed["guides"]["postnl"]["steps"]["sandbox-api-key"]["checks"].as_array().unwrap();
    assert_eq!(checks.len(), 2, "the latest of each check: {state}");
    for c in checks {
        for gone in ["request", "excerpt", "proved", "not_proved"] {
            assert!(c.get(gone).is_none(), "the state keeps no {gone}: {state}");
        }
        for kept in ["at", "by", "env", "check", "verdict", "message"] {
            assert!(c.get(kept).is_some(), "the state keeps {kept}: {state}");
        }
    }
    assert!(state.contains("Key accepted: PostNL answered 200.") && !state.contains("401 Invalid ApiKey).\"\nhint"));
    // The archive has all three in full.
    let archive = std::fs::read_to_string(sb.state_file().with_file_name("state.checks.toml")).unwrap();
    assert_eq!(archive.matches("[[check]]").count(), 3, "{archive}");
    assert!(archive.contains("/fault/faultstring = Invalid ApiKey") && archive.contains("No shipment found"));

    // Found again: cutover log...
    let out = sb.command(&["log", "postnl", "--json"]).output().unwrap();
    let log: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let runs = log["checks"].as_array().unwrap();
    assert_eq!(runs.len(), 3, "{log}");
    assert!(runs.iter().any(|r| r["record"]["excerpt"] == "/fault/faultstring = Invalid ApiKey"), "{log}");
    assert!(log["events"].as_array().unwrap().iter().any(|e| e["detail"].as_str().unwrap().contains("401")));
    // ...the report, in full...
    let out = sb.command(&["report", "postnl", "--format", "json"]).output().unwrap();
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let step = report["steps"].as_array().unwrap().iter().find(|s| s["step"] == "sandbox-api-key").unwrap().clone();
    let lookup = step["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["check"] == "Sandbox key works (status lookup)")
        .unwrap()
        .clone();
    assert_eq!(lookup["verdict"], "pass");
    assert_eq!(lookup["excerpt"], "/Warnings/0/Message = No shipment found", "{lookup}");
    assert!(lookup["request"].as_str().unwrap().starts_with("GET https://api-sandbox.postnl.nl/"));
    // ...and the history in the checklist.
    let mut p = Pty::spawn(&sb, &["open", "postnl"], 120, 40, &[]);
    p.wait_for("1/10 steps done");
    p.send(b"H");
    p.wait_for("PostNL refused the key (401 Invalid");
    p.send(b"\x1b");
    std::thread::sleep(std::time::Duration::from_millis(300));
    p.send(b"q");
    assert_eq!(p.wait_exit(), 0);

    // A second write does not archive anything twice.
    assert_eq!(sb.command(&["mark", "postnl", "versioning", "todo"]).output().unwrap().status.code(), Some(0));
    let archive = std::fs::read_to_string(sb.state_file().with_file_name("state.checks.toml")).unwrap();
    assert_eq!(archive.matches("[[check]]").count(), 3, "{archive}");
}

/// A state file from before the state kept only its latest events held up
/// to 1,000 of them. Its first write moves all but the latest
/// `EVENTS_KEPT` to the event archive, and every one is found again: the
/// history view (`H`, read from the archive), `cutover log` and `log --json`.
#[test]
fn the_events_a_state_kept_move_to_the_archive_and_every_one_is_shown() {
    let n = 200;
    let mut old = String::from(
        "# cutover progress state\nschema = 1\n\n[guides.postnl.steps.sandbox-api-key]\nstatus = \"in_progress\"\n",
    );
    for i in 0..n {
        old.push_str(&format!(
            "\n[[events]]\nat = \"2026-11-01T{:02}:{:02}:00Z\"\nby = \"alice\"\nguide = \"postnl\"\nstep = \"sandbox-api-key\"\nwhat = \"note\"\ndetail = \"note edited #{i:04}\"\n",
            i / 60,
            i % 60
        ));
    }
    let sb = Sandbox::new();
    std::fs::create_dir_all(sb.state_file().parent().unwrap()).unwrap();
    std::fs::write(sb.state_file(), &old).unwrap();
    let out = sb.command(&["mark", "postnl", "versioning", "done"]).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));

    // The state keeps the latest few; the archive the rest, each once.
    let kept = cutover::progress::EVENTS_KEPT;
    let state = std::fs::read_to_string(sb.state_file()).unwrap();
    assert_eq!(state.matches("\n[[events]]\n").count(), kept, "{state}");
    let archive = std::fs::read_to_string(sb.state_file().with_file_name("state.archive.toml")).unwrap();
    assert_eq!(archive.matches("\n[[events]]\n").count(), n + 1 - kept);
    assert!(archive.contains("note edited #0000") && !state.contains("note edited #0000"));

    // cutover log and log --json: every event, oldest first.
    let out = sb.command(&["log", "postnl"]).output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    let shown: Vec<usize> = (0..n).filter_map(|i| text.find(&format!("note edited #{i:04}"))).collect();
    assert_eq!(shown.len(), n, "{text}");
    assert!(shown.windows(2).all(|w| w[0] < w[1]), "oldest first: {text}");
    assert!(text.trim_end().ends_with("done"), "the mark comes last: {text}");
    let out = sb.command(&["log", "postnl", "--json"]).output().unwrap();
    let log: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let events = log["events"].as_array().unwrap();
    assert_eq!(events.len(), n + 1);
    assert_eq!(events[0]["detail"], "note edited #0000");

    // The history view: the newest first, the oldest (archived) at its end.
    let mut p = Pty::spawn(&sb, &["open", "postnl"], 120, 40, &[]);
    p.wait_for("1/10 steps done");
    p.send(b"H");
    p.wait_for("History of postnl (newest first) ");
    p.wait_for("note edited #0199");
    let mut presses = 0;
    while !p.screen().contains("note edited #0000") {
        assert!(presses < n / 10 + 5, "the oldest event never showed: {}", p.screen());
        p.send(b"\x1b[6~");
        presses += 1;
        std::thread::sleep(std::time::Duration::from_millis(80));
    }
    p.send(b"\x1b");
    std::thread::sleep(std::time::Duration::from_millis(300));
    p.send(b"q");
    assert_eq!(p.wait_exit(), 0);
}

#[test]
fn a_newer_schema_is_still_refused_with_its_line_and_column() {
    let sb = Sandbox::new();
    std::fs::create_dir_all(sb.state_file().parent().unwrap()).unwrap();
    let newer = "# from a newer cutover\nschema = 3\n";
    std::fs::write(sb.state_file(), newer).unwrap();
    let out = sb.command(&["mark", "postnl", "versioning", "done"]).output().unwrap();
    assert_eq!(out.status.code(), Some(4));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("state.toml:2:10") && err.contains("newer"), "{err}");
    assert_eq!(std::fs::read_to_string(sb.state_file()).unwrap(), newer);
}
