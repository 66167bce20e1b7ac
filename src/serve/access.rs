//! Who may join a served checklist, and as what.
//!
//! Two sources:
//! - **Invites** (`cutover invite`), kept by cutover in the serve folder of
//!   the data dir (`invites.toml`, 0600). An invite's SSH user name carries
//!   a one-time token; only its SHA-256 is stored. The first connection
//!   whose key signature verifies binds that key to the invite's name and
//!   role and spends the token; from then on the user name takes only the
//!   bound key, until the invite expires. `--key` binds a key up front.
//! - **The access list** `access.toml` in the config dir, written by people
//!   and never rewritten by cutover: names, roles, OpenSSH public keys. A
//!   malformed file is an error with file:line:col, and the server does not
//!   start rather than guess.
//!
//! A revocation (`cutover access revoke NAME`, `revoked.toml` in the serve
//! folder) overrides both.

use crate::files::{self, FileError};
use jiff::{SignedDuration, Timestamp};
use russh::keys::PublicKey;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};

/// What a person may do in a served checklist.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, PartialOrd, Ord)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Sees everything but keys, changes nothing, runs nothing.
    Observer,
    /// Changes steps and notes, runs sandbox checks that create no data.
    Editor,
}

impl Role {
    pub fn parse(s: &str) -> Option<Role> {
        match s {
            "observer" => Some(Role::Observer),
            "editor" => Some(Role::Editor),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Observer => "observer",
            Role::Editor => "editor",
        }
    }
}

/// Invites expire after this unless told otherwise.
pub const DEFAULT_EXPIRY: SignedDuration = SignedDuration::from_hours(2);
/// An invite's user name starts with this; the token follows.
pub const USER_PREFIX: &str = "join-";
const TOKEN_CHARS: usize = 26;

#[derive(Debug, thiserror::Error)]
pub enum AccessError {
    #[error("{0}")]
    File(#[from] FileError),
    #[error("{file}:{line}:{col}: {message}")]
    Malformed { file: String, line: usize, col: usize, message: String },
    #[error("{0}")]
    Invalid(String),
    /// No token for an invite: the system's randomness failed.
    #[error("{0}")]
    Random(#[from] super::random::RandomError),
}

/// Why a person's name is refused (on the command line or in the access
/// list).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum NameError {
    #[error("the name is empty")]
    Empty,
    #[error("the name holds control characters or escape sequences")]
    Unprintable,
    #[error("the name is longer than 40 characters")]
    TooLong,
}

/// Why an invite's duration is refused; each holds the text given.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DurationError {
    #[error("'{0}' is not a duration (try 30m, 2h or 1d)")]
    NotADuration(String),
    #[error("'{0}': an invite lasts between 1 second and 30 days")]
    OutOfRange(String),
}

/// Why a public key is refused.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("not an OpenSSH public key: {0}")]
    NotOpenSsh(#[source] russh::keys::ssh_key::Error),
    /// The file said to hold the key cannot be read.
    #[error("{0}")]
    File(#[source] crate::paths::ReadRefused),
}

/// One invite as stored. The token itself is never stored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Invite {
    /// `join-` and the first characters of the token's hash: names the
    /// invite in logs without being able to join with it.
    pub id: String,
    pub token_sha256: String,
    pub name: String,
    pub role: Role,
    pub created: Timestamp,
    pub expires: Timestamp,
    pub by: String,
    /// The key bound to this invite (OpenSSH format), once someone joined
    /// with it or `--key` named it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bound_at: Option<Timestamp>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Invites {
    #[serde(default, rename = "invite")]
    pub invites: Vec<Invite>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Revocation {
    pub name: String,
    pub at: Timestamp,
    pub by: String,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Revoked {
    #[serde(default, rename = "revoked")]
    pub revoked: Vec<Revocation>,
}

impl Revoked {
    pub fn contains(&self, name: &str) -> bool {
        self.revoked.iter().any(|r| r.name == name)
    }
}

/// One person of the access list.
#[derive(Debug, Clone, PartialEq)]
pub struct Person {
    pub name: String,
    pub role: Role,
    pub keys: Vec<PublicKey>,
}

/// The serve folder's files for one state.
#[derive(Debug, Clone)]
pub struct Files {
    pub dir: PathBuf,
}

impl Files {
    pub fn invites(&self) -> PathBuf {
        self.dir.join("invites.toml")
    }
    pub fn revoked(&self) -> PathBuf {
        self.dir.join("revoked.toml")
    }
    fn lock(&self) -> PathBuf {
        self.dir.join("access.lock")
    }

    pub fn load_invites(&self) -> Result<Invites, AccessError> {
        load_toml(&self.invites())
    }

    pub fn load_revoked(&self) -> Result<Revoked, AccessError> {
        load_toml(&self.revoked())
    }

    /// Changes the invites under the folder's lock (another process may be
    /// binding or adding one at the same moment).
    pub fn update_invites<T>(&self, f: impl FnOnce(&mut Invites) -> T) -> Result<T, AccessError> {
        let _lock = Lock::take(&self.lock())?;
        let mut inv = self.load_invites()?;
        let out = f(&mut inv);
        write_toml(&self.invites(), &inv)?;
        Ok(out)
    }

    pub fn revoke(&self, name: &str, by: &str, at: Timestamp) -> Result<bool, AccessError> {
        let _lock = Lock::take(&self.lock())?;
        let mut r = self.load_revoked()?;
        if r.contains(name) {
            return Ok(false);
        }
        r.revoked.push(Revocation { name: name.to_string(), at, by: by.to_string() });
        write_toml(&self.revoked(), &r)?;
        Ok(true)
    }
}

fn load_toml<T: for<'de> Deserialize<'de> + Default>(path: &Path) -> Result<T, AccessError> {
    let Some((bytes, _)) = files::read_regular(path, 4 * 1024 * 1024)? else { return Ok(T::default()) };
    let text = String::from_utf8_lossy(&bytes);
    toml::from_str(&text).map_err(|e| malformed(path, &text, &e))
}

fn write_toml<T: Serialize>(path: &Path, value: &T) -> Result<(), AccessError> {
    let text = toml::to_string(value).map_err(|e| AccessError::Invalid(e.to_string()))?;
    super::hostkey::write_private(path, text.as_bytes())?;
    Ok(())
}

fn malformed(path: &Path, text: &str, e: &toml::de::Error) -> AccessError {
    let (line, col) = e.span().map(|s| crate::guide::parse::line_col(text, s.start)).unwrap_or((1, 1));
    AccessError::Malformed { file: files::shown(path), line, col, message: e.message().to_string() }
}

/// An exclusive lock held while it lives.
struct Lock(std::fs::File);

impl Lock {
    fn take(path: &Path) -> Result<Lock, FileError> {
        use std::os::fd::AsRawFd;
        let f = files::open_or_create(path, files::OpenMode::ReadWrite)?;
        // SAFETY: flock on a descriptor this function owns.
        let rc = unsafe { libc::flock(f.as_raw_fd(), libc::LOCK_EX) };
        if rc != 0 {
            return Err(FileError::io(path, &std::io::Error::last_os_error()));
        }
        Ok(Lock(f))
    }
}

impl Drop for Lock {
    fn drop(&mut self) {
        use std::os::fd::AsRawFd;
        // SAFETY: unlocking the descriptor this value owns.
        unsafe { libc::flock(self.0.as_raw_fd(), libc::LOCK_UN) };
    }
}

/// The SHA-256 of a token, hex.
pub fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// Equal in time that does not depend on where they differ.
pub fn ct_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// A new invite user name: `join-` and 26 characters of base32 (130
/// random bits), lowercase letters and digits only.
pub fn new_user_name() -> Result<String, super::random::RandomError> {
    const ALPHABET: &[u8; 32] = b"abcdefghijklmnopqrstuvwxyz234567";
    let mut bytes = [0u8; TOKEN_CHARS];
    super::random::fill(&mut bytes)?;
    let token: String = bytes.iter().map(|b| char::from(ALPHABET[usize::from(b & 31)])).collect();
    Ok(format!("{USER_PREFIX}{token}"))
}

/// A name given on the command line or in the access list: printable, short,
/// and safe on every screen.
pub fn check_name(name: &str) -> Result<String, NameError> {
    let clean = crate::sanitize::line(name).trim().to_string();
    if clean.is_empty() {
        return Err(NameError::Empty);
    }
    if clean != name {
        return Err(NameError::Unprintable);
    }
    if clean.chars().count() > 40 {
        return Err(NameError::TooLong);
    }
    Ok(clean)
}

/// Parses `2h`, `30m`, `90s`, `1d` (or a bare number of minutes).
pub fn parse_duration(s: &str) -> Result<SignedDuration, DurationError> {
    let s = s.trim();
    let (num, unit) = s.split_at(s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len()));
    let n: i64 = num.parse().map_err(|_| DurationError::NotADuration(s.to_string()))?;
    let secs = match unit {
        "s" => n,
        "m" | "" => n * 60,
        "h" => n * 3600,
        "d" => n * 86_400,
        _ => return Err(DurationError::NotADuration(s.to_string())),
    };
    if secs <= 0 || secs > 30 * 86_400 {
        return Err(DurationError::OutOfRange(s.to_string()));
    }
    Ok(SignedDuration::from_secs(secs))
}

/// Parses one OpenSSH public key line.
pub fn parse_key(line: &str) -> Result<PublicKey, KeyError> {
    PublicKey::from_openssh(line.trim()).map_err(KeyError::NotOpenSsh)
}

/// The key without its comment, for comparing.
fn key_data(k: &PublicKey) -> String {
    let mut k = k.clone();
    k.set_comment("");
    k.to_openssh().unwrap_or_default()
}

pub fn same_key(a: &PublicKey, b: &PublicKey) -> bool {
    a.key_data() == b.key_data()
}

/// Reads `access.toml`. Missing: nobody. Malformed: an error that says
/// where.
pub fn load_access_list(path: &Path) -> Result<Vec<Person>, AccessError> {
    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    struct File {
        #[serde(default)]
        person: Vec<Entry>,
    }
    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Entry {
        name: toml::Spanned<String>,
        role: toml::Spanned<String>,
        keys: Vec<toml::Spanned<String>>,
    }
    let Some((bytes, _)) = files::read_regular(path, 4 * 1024 * 1024)? else { return Ok(Vec::new()) };
    let text = String::from_utf8_lossy(&bytes).into_owned();
    let file: File = toml::from_str(&text).map_err(|e| malformed(path, &text, &e))?;
    let at = |span: std::ops::Range<usize>, message: String| {
        let (line, col) = crate::guide::parse::line_col(&text, span.start);
        AccessError::Malformed { file: files::shown(path), line, col, message }
    };
    let mut people: Vec<Person> = Vec::new();
    for e in file.person {
        let name = check_name(e.name.get_ref()).map_err(|m| at(e.name.span(), m.to_string()))?;
        if people.iter().any(|p| p.name == name) {
            return Err(at(e.name.span(), format!("'{name}' is listed twice")));
        }
        let role = Role::parse(e.role.get_ref())
            .ok_or_else(|| at(e.role.span(), format!("role '{}' is not editor or observer", e.role.get_ref())))?;
        let mut keys = Vec::new();
        for k in &e.keys {
            keys.push(parse_key(k.get_ref()).map_err(|m| at(k.span(), m.to_string()))?);
        }
        if keys.is_empty() {
            return Err(at(e.name.span(), format!("'{name}' has no keys")));
        }
        people.push(Person { name, role, keys });
    }
    Ok(people)
}

/// Who joined, as what, and by which route.
#[derive(Debug, Clone, PartialEq)]
pub struct Grant {
    pub name: String,
    pub role: Role,
    /// `invite join-ab12…` or `access list`.
    pub via: String,
    /// The invite's key was bound by this connection (the host's session
    /// announces it).
    pub first_join: bool,
}

/// Why a connection is refused (logged; the client only hears no).
#[derive(Debug, Clone, PartialEq)]
pub enum Refusal {
    Unknown,
    Expired,
    Revoked(String),
    OtherKey,
}

impl Refusal {
    pub fn describe(&self) -> String {
        match self {
            Refusal::Unknown => "no invite or access list entry for this user name".into(),
            Refusal::Expired => "the invite has expired".into(),
            Refusal::Revoked(n) => format!("{n}'s access was revoked"),
            Refusal::OtherKey => "the invite is bound to another key".into(),
        }
    }
}

/// Decides one authentication attempt whose key signature has verified.
/// Binds the key to an unbound invite (spending its token); everything is
/// read fresh, so invites and revocations by other processes count at once.
pub fn authorize(
    files: &Files,
    access: &[Person],
    user: &str,
    key: &PublicKey,
    now: Timestamp,
) -> Result<Grant, Refusal> {
    let revoked = files.load_revoked().unwrap_or_default();
    if let Some(token) = user.strip_prefix(USER_PREFIX) {
        let hash = token_hash(token);
        let decided = files.update_invites(|inv| {
            // Every invite is compared, so the time taken says nothing
            // about which one (or how much of one) matched.
            let mut found: Option<usize> = None;
            for (i, invite) in inv.invites.iter().enumerate() {
                if ct_eq(invite.token_sha256.as_bytes(), hash.as_bytes()) {
                    found = Some(i);
                }
            }
            let i = found.ok_or(Refusal::Unknown)?;
            let invite = &mut inv.invites[i];
            if invite.expires <= now {
                return Err(Refusal::Expired);
            }
            if revoked.contains(&invite.name) {
                return Err(Refusal::Revoked(invite.name.clone()));
            }
            let first_join = match &invite.key {
                Some(bound) => {
                    let bound = parse_key(bound).map_err(|_| Refusal::OtherKey)?;
                    if !same_key(&bound, key) {
                        return Err(Refusal::OtherKey);
                    }
                    invite.bound_at.is_none()
                }
                None => {
                    invite.key = Some(key_data(key));
                    true
                }
            };
            if first_join {
                invite.bound_at = Some(now);
            }
            Ok(Grant { name: invite.name.clone(), role: invite.role, via: format!("invite {}", invite.id), first_join })
        });
        return decided.unwrap_or(Err(Refusal::Unknown));
    }
    let person = access.iter().find(|p| p.name == user).ok_or(Refusal::Unknown)?;
    if revoked.contains(&person.name) {
        return Err(Refusal::Revoked(person.name.clone()));
    }
    if !person.keys.iter().any(|k| same_key(k, key)) {
        return Err(Refusal::OtherKey);
    }
    Ok(Grant { name: person.name.clone(), role: person.role, via: "access list".into(), first_join: false })
}

/// Makes a new invite and stores its hash. Returns the user name to send.
pub fn create_invite(
    files: &Files,
    name: &str,
    role: Role,
    expires_in: SignedDuration,
    key: Option<&PublicKey>,
    by: &str,
    now: Timestamp,
) -> Result<(String, Invite), AccessError> {
    let user = new_user_name()?;
    let token = user.trim_start_matches(USER_PREFIX);
    let hash = token_hash(token);
    // Whole seconds: the invite line says when it ends.
    let now = now.round(jiff::Unit::Second).unwrap_or(now);
    let invite = Invite {
        id: format!("{USER_PREFIX}{}", &hash[..8]),
        token_sha256: hash,
        name: name.to_string(),
        role,
        created: now,
        expires: now.checked_add(expires_in).map_err(|e| AccessError::Invalid(e.to_string()))?,
        by: by.to_string(),
        key: key.map(key_data),
        bound_at: None,
    };
    let stored = invite.clone();
    files.update_invites(move |inv| {
        inv.invites.retain(|i| i.expires > now);
        inv.invites.push(stored);
    })?;
    Ok((user, invite))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(seed: u8) -> PublicKey {
        let kp = russh::keys::ssh_key::private::Ed25519Keypair::from_seed(&[seed; 32]);
        russh::keys::PrivateKey::from(kp).public_key().clone()
    }

    fn now() -> Timestamp {
        "2026-12-01T12:00:00Z".parse().unwrap()
    }

    #[test]
    fn an_invite_binds_the_first_key_and_refuses_others() {
        let d = tempfile::tempdir().unwrap();
        let files = Files { dir: d.path().to_path_buf() };
        let (user, _) = create_invite(&files, "jan", Role::Editor, DEFAULT_EXPIRY, None, "alice", now()).unwrap();
        assert!(user.starts_with("join-") && user.len() == 5 + TOKEN_CHARS);
        assert!(user.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-'));
        let stored = std::fs::read_to_string(files.invites()).unwrap();
        assert!(!stored.contains(user.trim_start_matches(USER_PREFIX)), "the token is stored only as a hash");

        let g = authorize(&files, &[], &user, &key(1), now()).unwrap();
        assert_eq!((g.name.as_str(), g.role, g.first_join), ("jan", Role::Editor, true));
        let again = authorize(&files, &[], &user, &key(1), now()).unwrap();
        assert!(!again.first_join);
        assert_eq!(authorize(&files, &[], &user, &key(2), now()), Err(Refusal::OtherKey));
        let late = now().checked_add(SignedDuration::from_hours(3)).unwrap();
        assert_eq!(authorize(&files, &[], &user, &key(1), late), Err(Refusal::Expired));
        assert_eq!(authorize(&files, &[], "join-nothing", &key(1), now()), Err(Refusal::Unknown));
    }

    #[test]
    fn a_key_named_up_front_and_a_revocation() {
        let d = tempfile::tempdir().unwrap();
        let files = Files { dir: d.path().to_path_buf() };
        let (user, _) =
            create_invite(&files, "piet", Role::Observer, DEFAULT_EXPIRY, Some(&key(7)), "alice", now()).unwrap();
        assert_eq!(authorize(&files, &[], &user, &key(1), now()), Err(Refusal::OtherKey));
        assert!(authorize(&files, &[], &user, &key(7), now()).unwrap().first_join);
        assert!(files.revoke("piet", "alice", now()).unwrap());
        assert_eq!(authorize(&files, &[], &user, &key(7), now()), Err(Refusal::Revoked("piet".into())));
    }

    #[test]
    fn the_access_list_names_people_and_says_where_it_is_wrong() {
        let d = tempfile::tempdir().unwrap();
        let path = d.path().join("access.toml");
        let k = key(3).to_openssh().unwrap();
        std::fs::write(
            &path,
            format!("[[person]]\nname = \"sam\"\nrole = \"observer\"\nkeys = [\"{k} sam@laptop\"]\n"),
        )
        .unwrap();
        let people = load_access_list(&path).unwrap();
        let files = Files { dir: d.path().join("serve") };
        let g = authorize(&files, &people, "sam", &key(3), now()).unwrap();
        assert_eq!((g.role, g.via.as_str()), (Role::Observer, "access list"));
        assert_eq!(authorize(&files, &people, "sam", &key(4), now()), Err(Refusal::OtherKey));

        std::fs::write(&path, "[[person]]\nname = \"sam\"\nrole = \"admin\"\nkeys = []\n").unwrap();
        let e = load_access_list(&path).unwrap_err().to_string();
        assert!(e.ends_with("access.toml:3:8: role 'admin' is not editor or observer"), "{e}");
        std::fs::write(&path, "[[person]]\nname = \"sam\"\nrole = \"editor\"\nkeys = [\"ssh-ed25519 nope\"]\n")
            .unwrap();
        let e = load_access_list(&path).unwrap_err().to_string();
        assert!(e.contains("access.toml:4:9: not an OpenSSH public key"), "{e}");
    }

    #[test]
    fn durations_and_names() {
        assert_eq!(parse_duration("2h").unwrap(), SignedDuration::from_hours(2));
        assert_eq!(parse_duration("45").unwrap(), SignedDuration::from_mins(45));
        assert!(parse_duration("2 weeks").is_err());
        assert!(parse_duration("0m").is_err());
        assert!(check_name("jan\x1b[31m").is_err());
        assert_eq!(check_name("Jan de Vries").unwrap(), "Jan de Vries");
    }

    /// The kinds a caller can tell apart, with the words `cutover invite`
    /// and the access list's file:line:col print.
    #[test]
    fn refusals_say_why() {
        let said = |r: Result<SignedDuration, DurationError>| r.err().map(|e| e.to_string());
        assert_eq!(said(parse_duration("2 weeks")), Some("'2 weeks' is not a duration (try 30m, 2h or 1d)".into()));
        assert_eq!(said(parse_duration("31d")), Some("'31d': an invite lasts between 1 second and 30 days".into()));
        assert_eq!(check_name(" "), Err(NameError::Empty));
        assert_eq!(check_name("jan\x1b[31m"), Err(NameError::Unprintable));
        assert_eq!(
            check_name(&"x".repeat(41)).err().map(|e| e.to_string()),
            Some("the name is longer than 40 characters".into())
        );
        let bad = parse_key("ssh-ed25519 nonsense").err();
        assert!(matches!(bad, Some(KeyError::NotOpenSsh(_))), "{bad:?}");
        assert!(bad.is_some_and(|e| e.to_string().starts_with("not an OpenSSH public key: ")));
    }
}
