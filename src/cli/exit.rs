//! Exit codes: one table for every command (README "Exit codes" and
//! docs/json.md say the same; a test holds them to it).

/// Success: every check that ran passed.
pub const OK: i32 = 0;
/// A check failed, or a guide file is invalid.
pub const FAIL: i32 = 1;
/// Usage error: unknown guide, step, status or option.
pub const USAGE: i32 = 2;
/// No check failed, but some could not be verified (indeterminate).
pub const INDETERMINATE: i32 = 3;
/// The state file cannot be read or written.
pub const STATE: i32 = 4;
/// A check could not run: a missing key or config value, or a bug in
/// the check (cutover's own request was refused).
pub const NOT_RUN: i32 = 5;

/// Every code with its meaning, as the README's table shows them.
pub const TABLE: [(i32, &str); 6] = [
    (OK, "success: every check that ran passed"),
    (FAIL, "a check failed, or a guide file is invalid"),
    (USAGE, "usage error: unknown guide, step, status or option"),
    (INDETERMINATE, "no check failed, but some could not be verified (indeterminate)"),
    (STATE, "the state file cannot be read or written"),
    (NOT_RUN, "a check could not run: a missing key or config value, or a bug in the check"),
];
