//! Any bytes as a guide file: no panic, and every error points at a line
//! that exists.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(src) = std::str::from_utf8(data) else { return };
    if let Err(errors) = cutover::guide::parse_guide(src, "fuzz.toml") {
        assert!(!errors.is_empty(), "an error list is never empty");
        let lines = src.split('\n').count();
        for e in errors {
            assert!(e.line >= 1 && e.line <= lines, "line {} of {lines}: {}", e.line, e.message);
            assert!(e.col >= 1, "column {}", e.col);
            assert!(!e.message.chars().any(char::is_control), "control character in {:?}", e.message);
        }
    }
});
