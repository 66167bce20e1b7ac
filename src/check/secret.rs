//! API keys as a type: masked in Debug and Display, not serializable, and
//! exposed only to the code that sends them.
//!
//! [`SecretStore`] holds one key per (guide, environment), from, in order of
//! precedence: a key typed in at runtime (memory only), an environment
//! variable (`POSTNL_SANDBOX_API_KEY`, or `POSTI_API_KEY` for a guide with a
//! single environment), and the secrets file (`secrets.toml` in the config
//! dir, mode 0600 or stricter).

use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::fmt;
use std::path::Path;

/// An API key. Never printed, never saved.
#[derive(Clone, PartialEq, Eq)]
pub struct ApiKey(String);

impl ApiKey {
    pub fn new(value: impl Into<String>) -> Self {
        ApiKey(value.into())
    }

    /// The key itself, for the HTTP layer and the command runner only.
    pub(crate) fn expose(&self) -> &str {
        &self.0
    }

    /// `••••1a2b` (the last four characters at most, and only if the key is
    /// long enough that they do not give much away).
    pub fn masked(&self) -> String {
        let n = self.0.chars().count();
        if n >= 12 {
            let tail: String = self.0.chars().skip(n - 4).collect();
            format!("••••{tail}")
        } else {
            "••••".to_string()
        }
    }

    /// A short hash of the key, for rate-limit buckets and telling keys
    /// apart; never the key.
    pub fn fingerprint(&self) -> String {
        let digest = Sha256::digest(self.0.as_bytes());
        hex::encode(&digest[..6])
    }
}

impl fmt::Debug for ApiKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ApiKey({})", self.masked())
    }
}

impl fmt::Display for ApiKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.masked())
    }
}

/// Where a key came from.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Source {
    Typed,
    EnvVar(String),
    File,
}

#[derive(Clone)]
struct Entry {
    key: ApiKey,
    /// "typed in", "environment variable POSTNL_SANDBOX_API_KEY", "secrets file"
    described: String,
    source: Source,
}

/// Why a value cannot be a key at all ([`SecretStore::plausible`]); the
/// words never repeat the key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Implausible {
    #[error("the key is empty")]
    Empty,
    #[error("the key contains a line break; paste it on one line")]
    LineBreak,
    #[error("the key contains a space or other whitespace; copy it again without it")]
    Whitespace,
    #[error("the key contains a quote; copy the key without quotes around it")]
    Quote,
    #[error("the key contains a control character")]
    Control,
}

/// The keys cutover knows, per (guide, environment). Holds them in memory
/// only; writes nothing.
///
/// It is also the key guard, and the guard fails closed: it knows every key
/// any source holds (the environment, `secrets.toml`, keys typed with `p`,
/// for every environment of every guide), also keys from a source refused
/// for requests (a `secrets.toml` others can read, an implausible value in a
/// variable) and keys a typed one replaced. When it cannot know them all (a
/// secrets file it cannot read), [`SecretStore::guard_broken`] says why, and
/// nothing that could carry a key may be written.
#[derive(Clone, Default)]
pub struct SecretStore {
    keys: BTreeMap<(String, String), Entry>,
    /// Every key seen, for masking only.
    known: Vec<ApiKey>,
    /// Why the guard may not know every key.
    broken: Option<String>,
    /// Key sources refused for requests, said to the user.
    problems: Vec<String>,
}

impl fmt::Debug for SecretStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut m = f.debug_map();
        for ((g, e), entry) in &self.keys {
            m.entry(&format!("{g}/{e}"), &format_args!("{} ({})", entry.key.masked(), entry.described));
        }
        m.finish()
    }
}

/// Environment variable names that may hold the key of `guide`/`env`, in
/// order: `POSTNL_SANDBOX_API_KEY`, then (for a guide with a single
/// environment) `POSTI_API_KEY`.
pub fn env_var_names(guide: &str, env: &str, single_env: bool) -> Vec<String> {
    let g = crate::config::env_key(guide);
    let mut names = vec![format!("{g}_{}_API_KEY", crate::config::env_key(env))];
    if single_env {
        names.push(format!("{g}_API_KEY"));
    }
    names
}

impl SecretStore {
    /// A store with no key at all (`cutover demo`, tests).
    pub fn empty() -> Self {
        SecretStore::default()
    }

    /// Loads the keys for the built-in guides' environments from `env` and
    /// `secrets_file`. Use [`SecretStore::load_for`] when user guides add
    /// environments of their own.
    pub fn load(env: &dyn Fn(&str) -> Option<String>, secrets_file: Option<&Path>) -> SecretStore {
        let catalog = crate::guide::Catalog::built_in();
        let targets: Vec<(String, Vec<String>)> = catalog
            .guides
            .iter()
            .map(|l| (l.guide.id().to_string(), l.guide.environments.keys().cloned().collect()))
            .collect();
        Self::load_for(env, secrets_file, &targets)
    }

    /// Loads keys for `targets` (guide id, its environment names) from the
    /// environment variables, and every key in the secrets file. Never
    /// fails: a source refused for requests still makes its keys known to
    /// the guard, and [`SecretStore::problems`] says what was refused; a
    /// secrets file that cannot be read at all breaks the guard.
    pub fn load_for(
        env: &dyn Fn(&str) -> Option<String>,
        secrets_file: Option<&Path>,
        targets: &[(String, Vec<String>)],
    ) -> SecretStore {
        let mut store = SecretStore::empty();
        if let Some(path) = secrets_file {
            let read = read_secrets_file(path);
            for (guide, envs) in &read.keys {
                for (name, value) in envs {
                    let key = ApiKey::new(value.clone());
                    store.learn(&key);
                    if read.usable {
                        store.keys.insert(
                            (guide.clone(), name.clone()),
                            Entry { key, described: "secrets file".into(), source: Source::File },
                        );
                    }
                }
            }
            for v in &read.mask_only {
                store.learn(&ApiKey::new(v.clone()));
            }
            store.problems.extend(read.problems);
            if let Some(why) = read.broken {
                store.problems.push(why.clone());
                store.broken = Some(why);
            }
        }
        for (guide, envs) in targets {
            let single = envs.len() == 1;
            for e in envs {
                let mut taken = false;
                for var in env_var_names(guide, e, single) {
                    let Some(value) = env(&var) else { continue };
                    let value = value.trim().to_string();
                    if value.is_empty() {
                        continue;
                    }
                    // Known to the guard whatever it looks like.
                    store.learn(&ApiKey::new(value.clone()));
                    if let Err(why) = Self::plausible(&value) {
                        store.problems.push(format!("environment variable {var}: {why}; it is not used"));
                        continue;
                    }
                    if taken {
                        continue;
                    }
                    taken = true;
                    let described = format!("environment variable {var}");
                    store.keys.insert(
                        (guide.clone(), e.clone()),
                        Entry { key: ApiKey::new(value), described, source: Source::EnvVar(var) },
                    );
                }
            }
        }
        store
    }

    /// A guard for what arrives before any guide is read (the command line,
    /// `$USER`): every value of a variable named `*_API_KEY` and every key
    /// in the secrets file (also one refused for requests).
    pub fn guard_of(vars: &[(String, String)], secrets_file: Option<&Path>) -> SecretStore {
        let mut store = SecretStore::empty();
        for (name, value) in vars {
            if name.ends_with("_API_KEY") && !value.trim().is_empty() {
                store.learn(&ApiKey::new(value.trim().to_string()));
            }
        }
        if let Some(path) = secrets_file {
            let read = read_secrets_file(path);
            for v in read.keys.values().flat_map(|e| e.values()).chain(read.mask_only.iter()) {
                store.learn(&ApiKey::new(v.clone()));
            }
            store.broken = read.broken;
        }
        store
    }

    /// Remembers `key` for masking (every form it travels in).
    fn learn(&mut self, key: &ApiKey) {
        if !key.expose().is_empty() && !self.known.contains(key) {
            self.known.push(key.clone());
        }
    }

    /// Key sources refused for requests (their keys are still masked).
    pub fn problems(&self) -> &[String] {
        &self.problems
    }

    /// Why the guard may not know every key: then nothing that could carry
    /// a key (a note, evidence, a report) may be written.
    pub fn guard_broken(&self) -> Option<&str> {
        self.broken.as_deref()
    }

    /// Sets a key typed in at runtime (memory only); it wins over every other
    /// source. Check it with [`SecretStore::plausible`] first.
    pub fn set(&mut self, guide: &str, env: &str, key: ApiKey) {
        // Adds to what the guard knows; the key it replaces stays known.
        self.learn(&key);
        self.keys.insert(
            (guide.to_string(), env.to_string()),
            Entry { key, described: "typed in".into(), source: Source::Typed },
        );
    }

    /// Forgets a typed-in key (keys from other sources stay until reload).
    pub fn forget_typed(&mut self, guide: &str, env: &str) {
        let k = (guide.to_string(), env.to_string());
        if self.keys.get(&k).is_some_and(|e| e.source == Source::Typed) {
            self.keys.remove(&k);
        }
    }

    pub fn get(&self, guide: &str, env: &str) -> Option<&ApiKey> {
        self.keys.get(&(guide.to_string(), env.to_string())).map(|e| &e.key)
    }

    /// Where the key of `guide`/`env` came from: "environment variable
    /// POSTNL_SANDBOX_API_KEY", "secrets file" or "typed in".
    pub fn source(&self, guide: &str, env: &str) -> Option<&str> {
        self.keys.get(&(guide.to_string(), env.to_string())).map(|e| e.described.as_str())
    }

    /// True if no key is known.
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// Whether `key` can be a key at all: not empty, no whitespace, no
    /// quotes, no line breaks. Says nothing about the carrier's format; the
    /// message never repeats the key.
    pub fn plausible(key: &str) -> Result<(), Implausible> {
        if key.is_empty() {
            return Err(Implausible::Empty);
        }
        if key.contains(['\n', '\r']) {
            return Err(Implausible::LineBreak);
        }
        if key.chars().any(char::is_whitespace) {
            return Err(Implausible::Whitespace);
        }
        if key.contains(['"', '\'', '`']) {
            return Err(Implausible::Quote);
        }
        if key.chars().any(char::is_control) {
            return Err(Implausible::Control);
        }
        Ok(())
    }

    /// A short hash of `key` (for rate-limit buckets); never the key.
    pub fn fingerprint(key: &ApiKey) -> String {
        key.fingerprint()
    }

    /// Every key the guard knows: those in use and those only masked.
    fn all_keys(&self) -> Vec<&ApiKey> {
        let mut keys: Vec<&ApiKey> = self.known.iter().collect();
        for e in self.keys.values() {
            if !keys.contains(&&e.key) {
                keys.push(&e.key);
            }
        }
        keys.retain(|k| !k.expose().is_empty());
        keys
    }

    /// `text` with every known key replaced by its mask: whole, in any
    /// letter case, any run of [`KEY_RUN`] of its characters (a truncated
    /// key), percent-encoded, and base64-encoded (standard and URL-safe,
    /// with or without padding, alone or inside `Basic` credentials).
    pub fn redact(&self, text: &str) -> String {
        let mut keys = self.all_keys();
        // Longest first, so that a key containing another is masked whole.
        keys.sort_by_key(|k| std::cmp::Reverse(k.expose().len()));
        let mut out = text.to_string();
        for k in keys {
            let mask = k.masked();
            for form in travel_forms(k.expose()) {
                out = redact_one(&out, &form, &mask);
            }
        }
        out
    }

    /// True if `text` holds any known key in any form [`SecretStore::redact`]
    /// masks.
    pub fn contains_secret(&self, text: &str) -> bool {
        self.redact(text) != text
    }
}

/// The forms a key travels in besides itself: percent-encoded, and the
/// parts of its base64 encodings that depend on the key alone (at each of
/// the three alignments it can have inside a longer value, such as
/// `Basic base64(user:key)`), standard and URL-safe.
fn travel_forms(key: &str) -> Vec<String> {
    let mut forms = vec![key.to_string()];
    let pct = percent_encode(key);
    if pct != key {
        forms.push(pct);
    }
    for offset in 0..3usize {
        let mut bytes = vec![0u8; offset];
        bytes.extend_from_slice(key.as_bytes());
        let enc = base64(&bytes);
        // Characters touching the prefix or the padding depend on more than
        // the key: drop them.
        let skip = if offset == 0 { 0 } else { (offset * 4).div_ceil(3) };
        let keep_end = if offset == 0 && key.len().is_multiple_of(3) { enc.len() } else { enc.len().saturating_sub(3) };
        if keep_end > skip + KEY_RUN / 2 {
            let core = enc[skip..keep_end].trim_end_matches('=').to_string();
            let url = core.replace('+', "-").replace('/', "_");
            if url != core {
                forms.push(url);
            }
            forms.push(core);
        }
    }
    forms.sort();
    forms.dedup();
    forms
}

/// Percent-encoded as a URL path segment or query value would carry it.
fn percent_encode(s: &str) -> String {
    super::encode::encode_segment(s)
}

fn base64(bytes: &[u8]) -> String {
    const A: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [chunk[0], *chunk.get(1).unwrap_or(&0), *chunk.get(2).unwrap_or(&0)];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(A[((n >> (18 - 6 * i)) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// The shortest run of a key's characters that is masked on its own (a
/// server's error message may quote a key cut short).
pub const KEY_RUN: usize = 12;

/// Masks `key` in `text`: whole and in any letter case, and any run of
/// [`KEY_RUN`] or more of its characters (a truncated key).
fn redact_one(text: &str, key: &str, mask: &str) -> String {
    let key_l = key.to_ascii_lowercase();
    // ASCII lower-casing keeps every byte offset.
    let text_l = text.to_ascii_lowercase();
    let run = KEY_RUN.min(key_l.len());
    if run == 0 || text_l.len() < run {
        return text.to_string();
    }
    let is_part = |from: usize, to: usize| {
        text.is_char_boundary(from)
            && text.is_char_boundary(to)
            && text_l.get(from..to).is_some_and(|part| key_l.contains(part))
    };
    let mut out = String::with_capacity(text.len());
    let (mut i, mut last) = (0, 0);
    while i + run <= text_l.len() {
        if is_part(i, i + run) {
            let mut end = i + run;
            while end < text_l.len() && is_part(i, end + 1) {
                end += 1;
            }
            // A run must be the whole key when the key is short.
            if key_l.len() >= KEY_RUN || end - i == key_l.len() {
                out.push_str(&text[last..i]);
                out.push_str(mask);
                last = end;
                i = end;
                continue;
            }
        }
        i += 1;
    }
    out.push_str(&text[last..]);
    out
}

/// What reading `secrets.toml` gave.
#[derive(Default)]
struct SecretsRead {
    /// Every key the file holds, by guide and environment.
    keys: BTreeMap<String, BTreeMap<String, String>>,
    /// The keys may be used for requests (the file is private).
    usable: bool,
    /// Values that cannot be keys (a space, a quote): masked, never used.
    mask_only: Vec<String>,
    problems: Vec<String>,
    /// The file exists but could not be read whole: the guard cannot know
    /// its keys.
    broken: Option<String>,
}

/// Reads `secrets.toml`: `[guide] env = "key"`. A file that others can read
/// or write is refused for requests, ssh-style, but its keys are still read
/// so that they are masked everywhere; it may be a symlink to a regular
/// file (the mode rule applies to the target). Never quotes the file's
/// content in a message.
fn read_secrets_file(path: &Path) -> SecretsRead {
    let shown = path.display();
    let mut out = SecretsRead { usable: true, ..SecretsRead::default() };
    let meta = match std::fs::metadata(path) {
        Ok(m) => m,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return out,
        Err(e) => {
            out.broken = Some(format!("{shown}: cannot read the secrets file: {}", e.kind()));
            return out;
        }
    };
    if !meta.is_file() {
        out.broken = Some(format!("{shown}: the secrets file is not a regular file; it is ignored"));
        return out;
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = meta.permissions().mode() & 0o777;
        if mode & 0o077 != 0 {
            out.usable = false;
            out.problems.push(format!(
                "Permissions {mode:04o} for '{shown}' are too open.\n\
                 The secrets file holds API keys and must not be accessible by others; its keys are not used for requests (they are still masked everywhere).\n\
                 Fix: chmod 600 {shown}"
            ));
        }
    }
    // Only a regular file, opened without blocking, at most 1 MB.
    let bytes = match crate::paths::read_regular_file(path, 1024 * 1024) {
        Ok(b) => b,
        Err(e) => {
            out.broken = Some(format!("{shown}: the secrets file cannot be used: {e}"));
            return out;
        }
    };
    let Ok(text) = String::from_utf8(bytes) else {
        out.broken = Some(format!("{shown}: the secrets file is not valid UTF-8"));
        return out;
    };
    let table: toml::Table = match toml::from_str(&text) {
        Ok(t) => t,
        Err(e) => {
            let (line, col) = e.span().map(|s| crate::guide::parse::line_col(&text, s.start)).unwrap_or((1, 1));
            // The parser's message can quote the text around the error, which
            // may be a key: say where, not what.
            out.broken = Some(format!("{shown}:{line}:{col}: the secrets file is not valid TOML"));
            return out;
        }
    };
    for (guide, v) in table {
        let Some(envs) = v.as_table() else {
            out.broken =
                Some(format!("{shown}: `{guide}` must be a table: [{guide}] with lines like production = \"...\""));
            continue;
        };
        let mut m = BTreeMap::new();
        for (env, value) in envs {
            let Some(s) = value.as_str() else {
                out.broken = Some(format!("{shown}: [{guide}] {env} must be a string in quotes"));
                continue;
            };
            let s = s.trim();
            if s.is_empty() {
                continue;
            }
            if let Err(why) = SecretStore::plausible(s) {
                out.problems.push(format!("{shown}: [{guide}] {env}: {why}; it is not used"));
                // Known for masking, not for use.
                out.mask_only.push(s.to_string());
                continue;
            }
            m.insert(env.clone(), s.to_string());
        }
        out.keys.insert(guide, m);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &str = "k3y-abcdefghijklmnop-1a2b";

    fn env_of(pairs: &'static [(&'static str, &'static str)]) -> impl Fn(&str) -> Option<String> {
        move |name: &str| pairs.iter().find(|(k, _)| *k == name).map(|(_, v)| v.to_string())
    }

    fn targets() -> Vec<(String, Vec<String>)> {
        vec![
            ("postnl".into(), vec!["production".into(), "sandbox".into()]),
            ("posti".into(), vec!["production".into()]),
        ]
    }

    #[test]
    fn masks_and_fingerprints_without_the_key() {
        let k = ApiKey::new(KEY);
        assert_eq!(k.masked(), "••••1a2b");
        assert!(!format!("{k:?} {k}").contains("abcdefgh"));
        let fp = SecretStore::fingerprint(&k);
        assert_eq!(fp.len(), 12);
        assert!(!KEY.contains(&fp));
        assert_ne!(fp, SecretStore::fingerprint(&ApiKey::new("other-key-value-1234")));
        assert_eq!(ApiKey::new("short").masked(), "••••");
    }

    #[test]
    fn env_vars_by_guide_and_env_and_single_env_alias() {
        let env = env_of(&[("POSTNL_SANDBOX_API_KEY", "sandbox-key-123456"), ("POSTI_API_KEY", "posti-key-abcdef")]);
        let s = SecretStore::load_for(&env, None, &targets());
        assert_eq!(s.get("postnl", "sandbox").map(|k| k.expose()), Some("sandbox-key-123456"));
        assert_eq!(s.source("postnl", "sandbox"), Some("environment variable POSTNL_SANDBOX_API_KEY"));
        assert!(s.get("postnl", "production").is_none());
        assert_eq!(s.get("posti", "production").map(|k| k.expose()), Some("posti-key-abcdef"));
        assert_eq!(s.source("posti", "production"), Some("environment variable POSTI_API_KEY"));
    }

    #[test]
    fn multi_env_guide_ignores_the_short_name() {
        let env = env_of(&[("POSTNL_API_KEY", "whatever-key-1234")]);
        let s = SecretStore::load_for(&env, None, &targets());
        assert!(s.is_empty());
    }

    #[test]
    fn typed_key_wins_and_is_reported() {
        let env = env_of(&[("POSTNL_SANDBOX_API_KEY", "from-env-123456")]);
        let mut s = SecretStore::load_for(&env, None, &targets());
        s.set("postnl", "sandbox", ApiKey::new("typed-key-abcdef"));
        assert_eq!(s.get("postnl", "sandbox").map(|k| k.expose()), Some("typed-key-abcdef"));
        assert_eq!(s.source("postnl", "sandbox"), Some("typed in"));
        s.forget_typed("postnl", "sandbox");
        assert!(s.get("postnl", "sandbox").is_none());
    }

    #[test]
    fn implausible_env_key_is_refused_without_echo_but_still_masked() {
        let env = env_of(&[("POSTNL_SANDBOX_API_KEY", "has space-secretpart"), ("POSTI_API_KEY", "posti-key-abcdef")]);
        let s = SecretStore::load_for(&env, None, &targets());
        let err = s.problems().join("\n");
        assert!(err.contains("POSTNL_SANDBOX_API_KEY"), "{err}");
        assert!(!err.contains("secretpart"), "{err}");
        // Not used for a request...
        assert!(s.get("postnl", "sandbox").is_none());
        // ...but known to the guard, and the other keys still load.
        assert!(s.contains_secret("note: has space-secretpart"));
        assert_eq!(s.get("posti", "production").map(|k| k.expose()), Some("posti-key-abcdef"));
        assert!(s.guard_broken().is_none());
    }

    #[test]
    fn the_guard_knows_every_key_from_every_source_at_once() {
        let env = env_of(&[
            ("POSTI_PRODUCTION_API_KEY", "posti-long-name-11111"),
            ("POSTI_API_KEY", "posti-short-name-2222"),
        ]);
        let mut s = SecretStore::load_for(&env, None, &targets());
        assert_eq!(s.get("posti", "production").map(|k| k.expose()), Some("posti-long-name-11111"));
        // A typed key adds to what the guard knows; it pushes nothing out.
        s.set("posti", "production", ApiKey::new("posti-typed-key-33333"));
        for k in ["posti-long-name-11111", "posti-short-name-2222", "posti-typed-key-33333"] {
            assert!(s.contains_secret(&format!("x {k} y")), "{k}");
        }
        s.forget_typed("posti", "production");
        assert!(s.contains_secret("posti-typed-key-33333"), "a key once typed stays masked");
    }

    #[test]
    fn redaction_catches_encoded_forms() {
        let mut s = SecretStore::empty();
        s.set("postnl", "sandbox", ApiKey::new("k3y+with/odd=chars-1a2b3c4d"));
        let key = "k3y+with/odd=chars-1a2b3c4d";
        let b64 = |b: &[u8]| base64(b);
        let forms = [
            b64(key.as_bytes()),
            b64(key.as_bytes()).trim_end_matches('=').to_string(),
            b64(key.as_bytes()).replace('+', "-").replace('/', "_"),
            format!("Authorization: Basic {}", b64(format!("alice:{key}").as_bytes())),
            format!("Basic {}", b64(format!("ab:{key}").as_bytes())),
            format!("Basic {}", b64(format!("abc:{key}").as_bytes())),
            percent_encode(key),
            percent_encode(key).to_lowercase(),
        ];
        for f in forms {
            let r = s.redact(&f);
            assert!(r.contains("••••"), "{f} -> {r}");
            let core = &b64(key.as_bytes())[4..20];
            assert!(!r.contains(core), "{f} -> {r}");
        }
    }

    #[test]
    fn plausible_rules() {
        assert!(SecretStore::plausible("abc-DEF_123.xyz").is_ok());
        for bad in ["", "a b", "a\nb", "\"abc\"", "'abc'", "a\tb", "a\u{7}b"] {
            assert!(SecretStore::plausible(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn redact_and_contains() {
        let mut s = SecretStore::empty();
        s.set("postnl", "sandbox", ApiKey::new(KEY));
        let text = format!("GET /x?apikey={KEY} and again {KEY}");
        assert!(s.contains_secret(&text));
        let r = s.redact(&text);
        assert!(!r.contains(KEY));
        assert_eq!(r.matches("••••1a2b").count(), 2);
        assert!(!s.contains_secret("nothing here"));
        assert!(!format!("{s:?}").contains(KEY));
    }

    #[test]
    fn redaction_catches_any_case_and_any_run_of_twelve() {
        let mut s = SecretStore::empty();
        s.set("postnl", "sandbox", ApiKey::new(KEY));
        let upper = KEY.to_ascii_uppercase();
        let cut = &KEY[3..3 + KEY_RUN];
        let tail = &KEY[KEY.len() - 14..];
        for text in [format!("key {upper} refused"), format!("apikey '{cut}…' invalid"), format!("…{tail}")] {
            let r = s.redact(&text);
            for w in KEY.as_bytes().windows(KEY_RUN) {
                let w = String::from_utf8_lossy(w).to_ascii_lowercase();
                assert!(!r.to_ascii_lowercase().contains(&w), "{text:?} -> {r:?}");
            }
        }
        // Shorter runs, and text that merely shares letters, stay.
        let short = &KEY[..KEY_RUN - 1];
        assert_eq!(s.redact(&format!("x{short}x")), format!("x{short}x"));
        assert_eq!(s.redact("plain words, nothing secret"), "plain words, nothing secret");
        assert_eq!(s.redact("é€ and ünïcode"), "é€ and ünïcode");
    }

    #[cfg(unix)]
    #[test]
    fn secrets_file_mode_and_content() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().ok();
        let Some(dir) = dir else { return };
        let path = dir.path().join("secrets.toml");
        let _ = std::fs::write(
            &path,
            format!("[postnl]\nsandbox = \"{KEY}\"\n\n[posti]\nproduction = \"posti-file-key-999\"\n"),
        );
        let _ = std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644));
        let none = |_: &str| None;
        let open = SecretStore::load_for(&none, Some(&path), &targets());
        let err = open.problems().join("\n");
        assert!(err.contains("too open"), "{err}");
        assert!(err.contains(&format!("chmod 600 {}", path.display())), "{err}");
        assert!(!err.contains(KEY));
        // Refused for requests, still known to the guard: fails closed.
        assert!(open.get("postnl", "sandbox").is_none());
        assert!(open.contains_secret(&format!("my key is {KEY}")));
        assert!(open.contains_secret("posti-file-key-999"));
        assert!(open.guard_broken().is_none());

        let _ = std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600));
        let s = SecretStore::load_for(&none, Some(&path), &targets());
        assert_eq!(s.get("postnl", "sandbox").map(|k| k.expose()), Some(KEY));
        assert_eq!(s.source("postnl", "sandbox"), Some("secrets file"));
        assert_eq!(s.get("posti", "production").map(|k| k.expose()), Some("posti-file-key-999"));

        // The environment wins over the file.
        let env = env_of(&[("POSTNL_SANDBOX_API_KEY", "env-key-0000000")]);
        let s = SecretStore::load_for(&env, Some(&path), &targets());
        assert_eq!(s.get("postnl", "sandbox").map(|k| k.expose()), Some("env-key-0000000"));

        let _ = std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o400));
        assert!(SecretStore::load_for(&none, Some(&path), &targets()).problems().is_empty());
    }

    #[cfg(unix)]
    #[test]
    fn broken_secrets_file_does_not_quote_keys() {
        use std::os::unix::fs::PermissionsExt;
        let Some(dir) = tempfile::tempdir().ok() else {
            return;
        };
        let path = dir.path().join("secrets.toml");
        let _ = std::fs::write(&path, format!("postnl = \"{KEY}\"\n[posti\nproduction = \"{KEY}"));
        let _ = std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600));
        let none = |_: &str| None;
        // A file the guard cannot read whole breaks it: nothing that could
        // carry a key may be written, and it says why without the key.
        let s = SecretStore::load_for(&none, Some(&path), &targets());
        let err = s.guard_broken().unwrap_or_default().to_string();
        assert!(err.contains("secrets.toml"), "{err}");
        assert!(!err.contains("abcdefgh"), "{err}");
        let _ = std::fs::write(&path, format!("postnl = \"{KEY}\"\n"));
        let s = SecretStore::load_for(&none, Some(&path), &targets());
        let err = s.guard_broken().unwrap_or_default().to_string();
        assert!(err.contains("must be a table"), "{err}");
        assert!(!err.contains("abcdefgh"), "{err}");
    }

    #[test]
    fn missing_secrets_file_is_fine() {
        let none = |_: &str| None;
        let s = SecretStore::load_for(&none, Some(Path::new("no/such/dir/secrets.toml")), &targets());
        assert!(s.is_empty() && s.guard_broken().is_none() && s.problems().is_empty());
    }
}
