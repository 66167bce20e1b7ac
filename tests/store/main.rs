//! The state on disk: the store's reads and writes, locks, the archive,
//! migration from older formats, malformed files (file:line:col, never
//! overwritten), a change that reads only the guides it touches, and
//! crash safety under kill -9.

#[path = "../common/mod.rs"]
mod common;

mod crash;
mod malformed;
mod migration;
mod presence;
mod splice;
mod store;
