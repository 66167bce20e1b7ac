//! Presence: who else has this state file open, for pair sessions.
//!
//! Each running cutover writes one small TOML file with a random name in
//! `<state file name>.presence/` beside the state, refreshes it now and
//! then, and deletes it when it stops. A file not refreshed for a while is
//! stale (its cutover was killed) and is deleted by whoever lists; an
//! entry from this host whose process is gone is deleted at once. The
//! folder and files follow the directory's mode and group (see
//! [`crate::files`]), so a shared setgid directory keeps working. An
//! observer only writes into a presence folder that already exists.
//! Everything read back is untrusted: symlinks are never followed and text
//! is sanitized.

use super::store::StoreError;
use crate::files::{self, open_nofollow};
use crate::sanitize;
use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use std::fs::{self, File, Metadata};
use std::io::{self, Read, Write};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Presence files larger than this are not read.
const MAX_PRESENCE_BYTES: u64 = 16 * 1024;
/// Text fields longer than this are cut when listed.
const MAX_FIELD_CHARS: usize = 200;

/// One running cutover on a state file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Presence {
    pub user: String,
    pub host: String,
    pub tty: String,
    /// What this session does in the pair ("driver", "observer", ...).
    pub role: String,
    pub since: Timestamp,
    pub pid: u32,
    pub refreshed: Timestamp,
}

impl Presence {
    fn sanitized(mut self) -> Presence {
        for field in [&mut self.user, &mut self.host, &mut self.tty, &mut self.role] {
            *field = sanitize::line(field).chars().take(MAX_FIELD_CHARS).collect();
        }
        self
    }
}

/// `<state file name>.presence/` beside the state file.
pub fn presence_dir(state_path: &Path) -> PathBuf {
    let name =
        state_path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| "state.toml".to_string());
    let dir = match state_path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    dir.join(format!("{name}.presence"))
}

/// This session's presence file; deleted when dropped.
#[derive(Debug)]
pub struct PresenceHandle {
    path: PathBuf,
    dir: PathBuf,
    presence: Presence,
    /// Whether the folder may be made again if someone removed it.
    create_dir: bool,
    removed: bool,
}

/// Makes sure the presence folder is there: created (the directory's
/// mode and group) when `create` is set, else it must already exist.
fn ensure_presence_dir(dir: &Path, create: bool) -> Result<(), StoreError> {
    if create {
        return Ok(files::ensure_own_dir(dir)?);
    }
    match fs::symlink_metadata(dir) {
        Ok(m) if m.file_type().is_symlink() => Err(files::symlink_refused(dir).into()),
        Ok(m) if m.is_dir() => Ok(()),
        Ok(_) => Err(StoreError::unsafe_path(dir, "is not a directory")),
        Err(e) => Err(StoreError::io(dir, &e)),
    }
}

fn random_name(suffix: &str) -> String {
    let mut name = String::with_capacity(16 + suffix.len());
    for _ in 0..16 {
        name.push(fastrand::alphanumeric().to_ascii_lowercase());
    }
    name.push_str(suffix);
    name
}

/// Creates a new file with a random name in `dir`, exclusively, with the
/// directory's mode and group.
fn create_random(dir: &Path, prefix: &str, suffix: &str) -> Result<(File, PathBuf), StoreError> {
    let mut last = None;
    for _ in 0..8 {
        let path = dir.join(format!("{prefix}{}", random_name(suffix)));
        match files::create_new(&path) {
            Ok(f) => return Ok((f, path)),
            Err(e) if fs::symlink_metadata(&path).is_ok() => last = Some(e),
            Err(e) => return Err(e.into()),
        }
    }
    Err(last.map(StoreError::from).unwrap_or_else(|| StoreError::io_msg(dir, "no free name")))
}

fn to_text(p: &Presence, path: &Path) -> Result<String, StoreError> {
    let body =
        toml::to_string(p).map_err(|e| StoreError::io_msg(path, format!("cannot write presence as TOML: {e}")))?;
    Ok(format!("# cutover presence: who has this state file open. Deleted when that cutover stops.\n{body}"))
}

/// Writes `p` to a new temp file in `dir` (exclusive, random name),
/// so that a reader never sees a half-written entry.
fn write_temp(dir: &Path, p: &Presence) -> Result<PathBuf, StoreError> {
    let (mut file, tmp) = create_random(dir, ".", ".tmp")?;
    let written =
        to_text(p, &tmp).and_then(|text| file.write_all(text.as_bytes()).map_err(|e| StoreError::io(&tmp, &e)));
    match written {
        Ok(()) => Ok(tmp),
        Err(e) => {
            let _ = fs::remove_file(&tmp);
            Err(e)
        }
    }
}

/// Announces `p` beside the state file at `state_path`, creating the
/// presence folder if `create_dir` (an observer passes false: it writes
/// only into a folder that is already there).
pub fn announce(state_path: &Path, p: Presence, create_dir: bool) -> Result<PresenceHandle, StoreError> {
    let dir = presence_dir(state_path);
    ensure_presence_dir(&dir, create_dir)?;
    let tmp = write_temp(&dir, &p)?;
    let mut result = Err(StoreError::io_msg(&dir, "no free name for a presence file"));
    for _ in 0..8 {
        let path = dir.join(random_name(".toml"));
        // A hard link never replaces an existing entry: the name is ours alone.
        match fs::hard_link(&tmp, &path) {
            Ok(()) => {
                result = Ok(path);
                break;
            }
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {}
            // A file system without hard links: a rename to a fresh random name.
            Err(_) => {
                result = fs::rename(&tmp, &path).map(|()| path.clone()).map_err(|e| StoreError::io(&path, &e));
                break;
            }
        }
    }
    let _ = fs::remove_file(&tmp);
    let path = result?;
    Ok(PresenceHandle { path, dir, presence: p, create_dir, removed: false })
}

impl PresenceHandle {
    pub fn presence(&self) -> &Presence {
        &self.presence
    }

    /// The presence file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Rewrites the file (atomically) with `refreshed = now`. Recreates it
    /// if someone deleted it as stale meanwhile.
    pub fn refresh(&mut self, now: Timestamp) -> Result<(), StoreError> {
        self.presence.refreshed = now;
        ensure_presence_dir(&self.dir, self.create_dir)?;
        let tmp = write_temp(&self.dir, &self.presence)?;
        let written = fs::rename(&tmp, &self.path).map_err(|e| StoreError::io(&self.path, &e));
        if written.is_err() {
            let _ = fs::remove_file(&tmp);
        }
        written
    }

    /// Deletes the presence file.
    pub fn remove(mut self) -> Result<(), StoreError> {
        self.delete()
    }

    fn delete(&mut self) -> Result<(), StoreError> {
        if self.removed {
            return Ok(());
        }
        self.removed = true;
        match fs::remove_file(&self.path) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(StoreError::io(&self.path, &e)),
        }
    }
}

impl Drop for PresenceHandle {
    fn drop(&mut self) {
        let _ = self.delete();
    }
}

/// Reads one presence file, never through a symlink. None if unreadable.
fn read_entry(path: &Path) -> Option<Presence> {
    let file = open_nofollow(path).ok()?;
    let meta = file.metadata().ok()?;
    if !meta.is_file() || meta.len() > MAX_PRESENCE_BYTES {
        return None;
    }
    let mut text = String::new();
    file.take(MAX_PRESENCE_BYTES).read_to_string(&mut text).ok()?;
    toml::from_str(&text).ok()
}

/// Everyone present on the state file at `state_path`, oldest session
/// first. Entries not refreshed within `stale_after` of `now`, unreadable
/// ones and symlinks are skipped and deleted if possible.
pub fn list(state_path: &Path, now: Timestamp, stale_after: Duration) -> Vec<Presence> {
    let dir = presence_dir(state_path);
    match fs::symlink_metadata(&dir) {
        Ok(m) if m.is_dir() => {}
        _ => return Vec::new(),
    }
    let Ok(entries) = fs::read_dir(&dir) else {
        return Vec::new();
    };
    let stale_ms = i64::try_from(stale_after.as_millis()).unwrap_or(i64::MAX);
    let host = crate::paths::host_name();
    let mut out = Vec::new();
    for entry in entries.flatten() {
        let path = entry.path();
        let name = entry.file_name();
        let name = name.to_string_lossy();
        let Ok(meta) = fs::symlink_metadata(&path) else {
            continue;
        };
        if name.starts_with('.') {
            // A temp file from a refresh that died: delete once it is old.
            if meta.is_file() && name.ends_with(".tmp") && is_old(&meta, now, stale_ms) {
                let _ = fs::remove_file(&path);
            }
            continue;
        }
        if meta.file_type().is_symlink() {
            // Unlinking removes the link itself, never its target.
            let _ = fs::remove_file(&path);
            continue;
        }
        if !meta.is_file() || !name.ends_with(".toml") {
            continue;
        }
        match read_entry(&path) {
            Some(p)
                if now.as_millisecond().saturating_sub(p.refreshed.as_millisecond()) <= stale_ms
                    && !(p.host == host && process_gone(p.pid)) =>
            {
                out.push(p.sanitized())
            }
            _ => {
                let _ = fs::remove_file(&path);
            }
        }
    }
    out.sort_by(|a, b| (a.since, &a.user, a.pid).cmp(&(b.since, &b.user, b.pid)));
    out
}

/// True if no process `pid` runs on this host (a process of another user
/// still counts as running).
fn process_gone(pid: u32) -> bool {
    let Ok(pid) = libc::pid_t::try_from(pid) else {
        return false;
    };
    if pid <= 0 {
        return false;
    }
    // SAFETY: signal 0 only checks whether the process exists.
    let rc = unsafe { libc::kill(pid, 0) };
    rc != 0 && io::Error::last_os_error().raw_os_error() == Some(libc::ESRCH)
}

/// Who else is here, one entry per person and role: "bob",
/// "support-jan (observer)", "alice ×2" for two instances.
pub fn summarize(others: &[Presence]) -> Vec<String> {
    let mut people: Vec<(String, String, usize)> = Vec::new();
    for p in others {
        match people.iter_mut().find(|(u, r, _)| *u == p.user && *r == p.role) {
            Some(e) => e.2 += 1,
            None => people.push((p.user.clone(), p.role.clone(), 1)),
        }
    }
    people
        .into_iter()
        .map(|(user, role, n)| {
            let mut s = user;
            if n > 1 {
                s.push_str(&format!(" ×{n}"));
            }
            if role != "driver" {
                s.push_str(&format!(" ({role})"));
            }
            s
        })
        .collect()
}

fn is_old(meta: &Metadata, now: Timestamp, stale_ms: i64) -> bool {
    let Ok(modified) = Timestamp::from_second(meta.mtime()) else {
        return false;
    };
    now.as_millisecond().saturating_sub(modified.as_millisecond()) > stale_ms
}
