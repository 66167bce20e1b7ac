//! Any text through the sanitizer: nothing that controls a terminal comes
//! out, and a second pass changes nothing.
#![no_main]

use cutover::sanitize;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let line = sanitize::line(&text);
    assert!(!line.chars().any(char::is_control), "{line:?}");
    assert_eq!(sanitize::line(&line), line);
    let multi = sanitize::multiline(&text);
    assert!(!multi.chars().any(|c| c.is_control() && c != '\n'), "{multi:?}");
    assert_eq!(sanitize::multiline(&multi), multi);
});
