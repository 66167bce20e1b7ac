//! Pair sessions: two real instances on one state file.

mod common;
use common::pty::{Pty, Sandbox};

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
    bob.wait_for("alice: servicedesk-access");
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
