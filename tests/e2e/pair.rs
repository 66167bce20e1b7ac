//! Pair sessions: two real instances on one state file.

use crate::common;
use common::pty::{Pty, Sandbox, wait_until};

#[test]
fn a_second_instance_sees_the_first_ones_change_and_who_is_here() {
    let sb = Sandbox::new();
    let mut alice = Pty::spawn(&sb, &["--as", "alice", "open", "postnl"], 110, 30, &[]);
    alice.wait_for("0/10 steps done");
    let mut bob = Pty::spawn(&sb, &["--as", "bob", "--observe", "open", "postnl"], 110, 30, &[]);
    // Nothing saved yet: the observer says so rather than showing ten
    // untouched steps as progress.
    bob.wait_for("no progress saved yet");
    bob.wait_for("OBSERVING");
    assert!(!sb.state_file().exists(), "the observer wrote the state");
    // Presence: each sees the other.
    alice.wait_for("+1: bob (observer)");
    bob.wait_for("+1: alice");
    // Alice ticks step 1; Bob's screen follows, keeping his own cursor.
    bob.send(b"jj");
    bob.wait_for("Step 3");
    alice.send(b" ");
    alice.wait_for("1/10 steps done");
    bob.wait_for("1/10 steps done");
    bob.wait_for("alice: 1. Account details");
    assert!(!bob.screen().contains("no progress saved yet"), "{}", bob.screen());
    assert!(bob.screen().contains("Step 3"), "bob's cursor moved:\n{}", bob.screen());
    // The observer cannot change anything.
    bob.send(b" ");
    bob.wait_for("read-only");
    bob.send(b"q");
    assert_eq!(bob.wait_exit(), 0);
    alice.wait_for("alice"); // still running
    alice.send(b"q");
    assert_eq!(alice.wait_exit(), 0);
    let state = std::fs::read_to_string(sb.state_file()).unwrap();
    assert_eq!(state.matches("status = \"done\"").count(), 1, "{state}");
    // Both presence entries are gone.
    let dir = sb.state_file().with_file_name("state.toml.presence");
    let left: Vec<_> = std::fs::read_dir(&dir).map(|d| d.filter_map(|e| e.ok()).collect()).unwrap_or_default();
    assert!(left.is_empty(), "presence entries left: {left:?}");
}

/// Both edit the same note at once: the second save finds it changed since
/// its editor opened and keeps both texts, each with its author; the one
/// who saved second is told; `cutover log` shows what the note said before.
#[test]
fn two_people_editing_one_note_keep_both_texts() {
    let sb = Sandbox::new();
    // Tall enough that the step's note shows below its text.
    let mut alice = Pty::spawn(&sb, &["--as", "alice", "open", "postnl"], 110, 90, &[]);
    let mut bob = Pty::spawn(&sb, &["--as", "bob", "open", "postnl"], 110, 90, &[]);
    alice.wait_for("0/10 steps done");
    bob.wait_for("+1: alice");
    alice.send(b"e");
    alice.send(b"ticket 4711");
    alice.send(b"\x13"); // Ctrl-S
    alice.wait_for("note saved");
    bob.wait_for("alice edited the note of 1. Account details");
    // Both open the editor on "ticket 4711"; Bob saves first.
    alice.send(b"e");
    bob.send(b"e");
    // Both editors are open before either saves.
    alice.wait_for("type freely");
    bob.wait_for("type freely");
    bob.send(b"\rPostNL says Monday");
    bob.send(b"\x13");
    bob.wait_for("note saved");
    wait_until("bob's note in the file", || {
        std::fs::read_to_string(sb.state_file()).is_ok_and(|s| s.contains("PostNL says Monday"))
    });
    alice.send(b", escalated");
    alice.send(b"\x13");
    alice.wait_for("bob changed this note while you edited it; both texts are kept");
    // Said as soon as Alice saves (her screen already held Bob's text, or
    // the saved state told her); the file holds both once the save lands.
    wait_until("both texts in the file", || {
        std::fs::read_to_string(sb.state_file()).is_ok_and(|s| s.contains("--- alice wrote this while"))
    });
    let state = std::fs::read_to_string(sb.state_file()).unwrap();
    let table: toml::Table = toml::from_str(&state).unwrap();
    assert_eq!(
        table["guides"]["postnl"]["steps"]["servicedesk-access"]["note"].as_str(),
        Some(
            "ticket 4711\nPostNL says Monday\n--- alice wrote this while bob's text above was saved ---\nticket 4711, escalated"
        ),
        "{state}"
    );
    // Both screens show both texts.
    for p in [&alice, &bob] {
        p.wait_for("PostNL says Monday");
        p.wait_for("alice wrote this while bob's text above was saved");
        p.wait_for("ticket 4711, escalated");
    }
    alice.send(b"q");
    bob.send(b"q");
    assert_eq!(alice.wait_exit(), 0);
    assert_eq!(bob.wait_exit(), 0);

    // The earlier texts are in the note history, not in the state file.
    assert_eq!(state.matches("PostNL says Monday").count(), 1, "{state}");
    let log = sb.command(&["log", "postnl"]).output().unwrap();
    let text = String::from_utf8_lossy(&log.stdout);
    assert!(text.contains("note changed meanwhile by bob; both texts kept"), "{text}");
    assert!(text.contains("before: ticket 4711 ⏎ PostNL says Monday"), "{text}");
    assert!(text.contains("before: (empty)"), "{text}");
    let json = sb.command(&["log", "postnl", "--json"]).output().unwrap();
    let v: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    let befores: Vec<&str> = v["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["what"] == "note")
        .map(|e| e["before"].as_str().unwrap_or("<none>"))
        .collect();
    assert_eq!(befores, ["", "ticket 4711", "ticket 4711\nPostNL says Monday"]);
}
