//! Every file and folder cutover writes beside a state file goes through
//! here: the state, its lock, the presence folder and its entries, the event
//! archive, the call budget and its lock, evidence, and reports written
//! there.
//!
//! - **Modes follow the directory.** In a directory that is group-writable
//!   and setgid (a shared pair-session directory), new files are `0660` and
//!   new folders `2770`, with the directory's group; anywhere else `0600`
//!   and `0700`. The mode is set explicitly after creating, so the umask
//!   does not matter. A file that is replaced keeps its own mode and group.
//! - **Atomic replace**: an exclusive temp file beside the target, written,
//!   fsynced, given its mode and group, renamed over, the folder fsynced.
//! - **No links followed**: a symbolic link where cutover expects its own
//!   file or folder is refused.
//! - **Permission problems explain themselves**: the file, its owner, group
//!   and mode, the user cutover runs as, and the command that fixes it.

pub mod perm;
pub mod safe;

pub use perm::{explain_denied, is_denied, may_write_dir};
pub use safe::*;
