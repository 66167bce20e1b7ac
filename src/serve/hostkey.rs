//! The server's ed25519 host key: made on the first start in the data dir
//! (mode 0600) and reused, so a joiner's `known_hosts` stays valid. A key
//! file others can read, or a link in its place, stops the server: a host
//! key anyone else has read proves nothing.

use crate::files::{self, FileError};
use russh::keys::ssh_key::private::Ed25519Keypair;
use russh::keys::{HashAlg, PrivateKey};
use std::os::unix::fs::MetadataExt;
use std::path::Path;

/// The key file's name in the serve folder.
pub const FILE: &str = "host_ed25519";

/// Why the host key cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum HostKeyError {
    #[error("{0}")]
    File(#[from] FileError),
    #[error(
        "{file}: the host key can be read by others (mode {mode:04o}); it is not used. Make it private (chmod 600 {file}) or remove it to make a new one"
    )]
    Exposed { file: String, mode: u32 },
    #[error("{file}: not an OpenSSH private key ({why}); remove it to make a new one")]
    Unreadable { file: String, why: String },
    #[error("{file}: holds a {algorithm} key; cutover serves with ed25519 only (remove it to make a new one)")]
    NotEd25519 { file: String, algorithm: String },
    #[error("no randomness for a new host key: {0}")]
    Random(#[source] super::random::RandomError),
}

/// Loads the host key from `dir`, making one on the first start. Returns
/// the key and whether it was new.
pub fn load_or_create(dir: &Path) -> Result<(PrivateKey, bool), HostKeyError> {
    files::ensure_dir(dir)?;
    let path = dir.join(FILE);
    if let Some((bytes, meta)) = files::read_regular(&path, 64 * 1024)? {
        let mode = meta.mode() & 0o777;
        if mode & 0o077 != 0 {
            return Err(HostKeyError::Exposed { file: files::shown(&path), mode });
        }
        let key = PrivateKey::from_openssh(&bytes)
            .map_err(|e| HostKeyError::Unreadable { file: files::shown(&path), why: e.to_string() })?;
        if key.algorithm() != russh::keys::Algorithm::Ed25519 {
            return Err(HostKeyError::NotEd25519 { file: files::shown(&path), algorithm: key.algorithm().to_string() });
        }
        return Ok((key, false));
    }
    let mut seed = [0u8; 32];
    super::random::fill(&mut seed).map_err(HostKeyError::Random)?;
    let key = PrivateKey::from(Ed25519Keypair::from_seed(&seed));
    seed.fill(0);
    let pem = key
        .to_openssh(russh::keys::ssh_key::LineEnding::LF)
        .map_err(|e| HostKeyError::Unreadable { file: files::shown(&path), why: e.to_string() })?;
    write_private(&path, pem.as_bytes())?;
    Ok((key, true))
}

/// Writes a file only its owner can read, whatever folder it is in.
pub fn write_private(path: &Path, bytes: &[u8]) -> Result<(), FileError> {
    use std::io::Write;
    use std::os::unix::fs::PermissionsExt;
    let dir = files::parent_of(path);
    files::ensure_dir(&dir)?;
    files::regular_meta(path)?;
    let mut tmp = tempfile::Builder::new()
        .prefix(".serve.")
        .suffix(".tmp")
        .permissions(std::fs::Permissions::from_mode(0o600))
        .tempfile_in(&dir)
        .map_err(|e| FileError::io(&dir, &e))?;
    let tmp_path = tmp.path().to_path_buf();
    tmp.write_all(bytes).map_err(|e| FileError::io(&tmp_path, &e))?;
    tmp.as_file().set_permissions(std::fs::Permissions::from_mode(0o600)).map_err(|e| FileError::io(&tmp_path, &e))?;
    tmp.as_file().sync_all().map_err(|e| FileError::io(&tmp_path, &e))?;
    files::regular_meta(path)?;
    tmp.persist(path).map_err(|e| FileError::io(path, &e.error))?;
    files::sync_dir(&dir)
}

/// The fingerprint as `ssh-keygen -lf` prints it in its second column.
pub fn fingerprint(key: &russh::keys::PublicKey) -> String {
    key.fingerprint(HashAlg::Sha256).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn made_once_private_and_reused() {
        let d = tempfile::tempdir().unwrap();
        let (a, new) = load_or_create(d.path()).unwrap();
        assert!(new);
        let mode = std::fs::metadata(d.path().join(FILE)).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        let (b, new) = load_or_create(d.path()).unwrap();
        assert!(!new);
        assert_eq!(fingerprint(a.public_key()), fingerprint(b.public_key()));
        assert!(fingerprint(a.public_key()).starts_with("SHA256:"));
    }

    #[test]
    fn a_readable_key_or_a_link_stops_the_server() {
        let d = tempfile::tempdir().unwrap();
        load_or_create(d.path()).unwrap();
        let f = d.path().join(FILE);
        std::fs::set_permissions(&f, std::fs::Permissions::from_mode(0o640)).unwrap();
        let e = load_or_create(d.path()).unwrap_err().to_string();
        assert!(e.contains("can be read by others") && e.contains("0640"), "{e}");

        let other = tempfile::tempdir().unwrap();
        let link_dir = other.path().join("serve");
        std::fs::create_dir(&link_dir).unwrap();
        std::os::unix::fs::symlink(&f, link_dir.join(FILE)).unwrap();
        let e = load_or_create(&link_dir).unwrap_err().to_string();
        assert!(e.contains("symbolic link"), "{e}");
    }
}
