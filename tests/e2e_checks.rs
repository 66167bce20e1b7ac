//! End to end: a check run from the TUI, against the demo's loopback fake
//! carrier, shows its verdict on screen and lands in the state file.

mod common;
use common::pty::{Pty, Sandbox};

#[test]
fn a_check_run_from_the_tui_shows_its_verdict_and_saves_it() {
    let sb = Sandbox::new();
    let mut p = Pty::spawn(&sb, &["demo"], 110, 34, &[]);
    p.wait_for("Guides");
    p.send(b"\r");
    p.wait_for("0/10 steps done");
    p.wait_for("DEMO");
    // Step 5: the sandbox key check.
    p.send(b"jjjj");
    p.wait_for("Step 5");
    p.send(b"c");
    p.wait_for("Key accepted");
    p.send(b"q");
    assert_eq!(p.wait_exit(), 0);
    let state = std::fs::read_to_string(sb.path().join("data/cutover/demo-state.toml")).unwrap();
    assert!(state.contains("[[guides.postnl.steps.sandbox-api-key.checks]]"), "{state}");
    assert!(state.contains("verdict = \"pass\""), "{state}");
    assert!(!state.contains("demo-sandbox-key-0001"), "the key reached the state file");
    let screen_bytes = p.raw.lock().unwrap().clone();
    assert!(!String::from_utf8_lossy(&screen_bytes).contains("demo-sandbox-key-0001"), "the key reached the screen");
    // The real state was not touched by the demo.
    assert!(!sb.state_file().exists());
}
