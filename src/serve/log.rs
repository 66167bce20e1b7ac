//! The server log: every connection (who, role, key fingerprint, from
//! where, when, how it ended) and every invite and revocation, one JSON
//! object per line in the serve folder (`connections.jsonl`, 0600). Never
//! in the state file: an observer's arrival writes nothing shared. Tokens
//! never appear, only the invite's id. `cutover log` and `H` merge it in.

use super::access::Grant;
use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

pub const FILE: &str = "connections.jsonl";

/// One line of the server log (docs/json.md).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Entry {
    pub at: Timestamp,
    /// `joined`, `left`, `refused`, `invited`, `revoked`, `started`, `stopped`.
    pub event: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fingerprint: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address: Option<String>,
    /// `invite join-1a2b3c4d` or `access list`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub via: Option<String>,
    /// Why refused, how a session ended, what was started.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

impl Entry {
    fn new(event: &str) -> Entry {
        Entry {
            at: Timestamp::UNIX_EPOCH,
            event: event.into(),
            name: None,
            role: None,
            fingerprint: None,
            address: None,
            via: None,
            detail: None,
        }
    }

    pub fn joined(g: &Grant, fingerprint: &str, address: &str) -> Entry {
        Entry {
            name: Some(g.name.clone()),
            role: Some(g.role.as_str().into()),
            fingerprint: Some(fingerprint.into()),
            address: Some(address.into()),
            via: Some(g.via.clone()),
            ..Entry::new("joined")
        }
    }

    pub fn left(g: &Grant, fingerprint: &str, address: &str, how: &str) -> Entry {
        Entry { detail: Some(how.into()), event: "left".into(), ..Entry::joined(g, fingerprint, address) }
    }

    pub fn refused(name: &str, fingerprint: Option<&str>, address: &str, why: &str) -> Entry {
        Entry {
            name: Some(name.into()),
            fingerprint: fingerprint.map(str::to_string),
            address: Some(address.into()),
            detail: Some(why.into()),
            ..Entry::new("refused")
        }
    }

    pub fn event(event: &str, name: Option<&str>, detail: &str) -> Entry {
        Entry { name: name.map(str::to_string), detail: Some(detail.into()), ..Entry::new(event) }
    }

    /// One line for `cutover log` and the history view.
    pub fn describe(&self) -> String {
        let who = self.name.as_deref().unwrap_or("");
        let role = self.role.as_deref().map(|r| format!(" ({r})")).unwrap_or_default();
        let fp = self.fingerprint.as_deref().map(|f| format!(" key {f}")).unwrap_or_default();
        let from = self.address.as_deref().map(|a| format!(" from {a}")).unwrap_or_default();
        let detail = self.detail.as_deref().map(|d| format!(": {d}")).unwrap_or_default();
        crate::sanitize::line(&format!("serve: {who}{role} {}{fp}{from}{detail}", self.event))
    }
}

/// Appends to the server log; a log that cannot be written is said once in
/// the process log and does not stop the server.
#[derive(Debug)]
pub struct ConnLog {
    path: PathBuf,
    lock: Mutex<()>,
    clock: std::sync::Arc<dyn crate::clock::Clock>,
}

impl ConnLog {
    pub fn new(dir: &Path, clock: std::sync::Arc<dyn crate::clock::Clock>) -> ConnLog {
        ConnLog { path: dir.join(FILE), lock: Mutex::new(()), clock }
    }

    /// Writes the entry, stamped with the clock's time; returns it stamped.
    pub fn write(&self, e: &Entry) -> Entry {
        let e = Entry { at: self.clock.now(), ..e.clone() };
        self.append(&e);
        e
    }

    fn append(&self, e: &Entry) {
        let Ok(line) = serde_json::to_string(e) else { return };
        tracing::info!(event = %e.event, name = ?e.name, fingerprint = ?e.fingerprint, address = ?e.address, detail = ?e.detail, "serve");
        let _guard = self.lock.lock();
        let written = crate::files::open_or_create(&self.path, crate::files::OpenMode::Append)
            .map_err(|e| e.to_string())
            .and_then(|mut f| {
                use std::os::unix::fs::PermissionsExt;
                let _ = f.set_permissions(std::fs::Permissions::from_mode(0o600));
                f.write_all(format!("{line}\n").as_bytes()).map_err(|e| e.to_string())
            });
        if let Err(why) = written {
            tracing::warn!(%why, "the server log could not be written");
        }
    }
}

/// Reads a server log; lines that do not parse (a torn last line) are
/// skipped.
pub fn read(dir: &Path) -> Vec<Entry> {
    let Ok(Some((bytes, _))) = crate::files::read_regular(&dir.join(FILE), 64 * 1024 * 1024) else {
        return Vec::new();
    };
    String::from_utf8_lossy(&bytes).lines().filter_map(|l| serde_json::from_str(l).ok()).collect()
}
