//! Any bytes as a state file: no panic, located errors, and whatever parses
//! survives being saved and read again unchanged.
#![no_main]

use cutover::progress::store::{StoreError, from_toml, to_toml};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(src) = std::str::from_utf8(data) else { return };
    match from_toml(src, "state.toml") {
        Ok(p) => {
            let again = to_toml(&p).expect("a parsed state serializes");
            let back = from_toml(&again, "state.toml").expect("a saved state reads back");
            assert_eq!(back, p, "round trip changed the state");
        }
        Err(StoreError::Parse { line, col, message, .. }) => {
            let lines = src.split('\n').count();
            assert!(line >= 1 && line <= lines, "line {line} of {lines}: {message}");
            assert!(col >= 1);
            assert!(!message.chars().any(char::is_control), "control character in {message:?}");
        }
        Err(StoreError::NewerSchema { found, supported, .. }) => assert!(found > supported),
        Err(other) => panic!("parsing text gave a non-parse error: {other}"),
    }
});
