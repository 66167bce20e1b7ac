//! Creating, replacing and reading cutover's files beside a state file.

use super::perm;
use std::fmt;
use std::fs::{self, File, Metadata, OpenOptions};
use std::io::{self, Read, Write};
use std::os::unix::fs::{MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

/// Mode of a new file outside a shared directory.
pub const PRIVATE_FILE: u32 = 0o600;
/// Mode of a new folder outside a shared directory.
pub const PRIVATE_DIR: u32 = 0o700;
/// Mode of a new file in a shared (group-writable, setgid) directory.
pub const SHARED_FILE: u32 = 0o660;
/// Mode of a new folder in a shared directory.
pub const SHARED_DIR: u32 = 0o2770;

/// What went wrong with a file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FileError {
    /// The file system said no. `denied` for a permission problem, whose
    /// message then explains it (owner, group, mode, who we are, the fix).
    Io { file: String, message: String, denied: bool },
    /// Something is where cutover did not expect it (a symlink, a folder).
    Unsafe { file: String, message: String },
}

impl FileError {
    pub fn io(path: &Path, e: &io::Error) -> FileError {
        if perm::is_denied(e) {
            FileError::Io { file: shown(path), message: perm::explain_denied(path), denied: true }
        } else {
            FileError::Io { file: shown(path), message: e.to_string(), denied: false }
        }
    }

    pub fn msg(path: &Path, message: impl Into<String>) -> FileError {
        FileError::Io { file: shown(path), message: message.into(), denied: false }
    }

    pub fn unsafe_path(path: &Path, message: impl Into<String>) -> FileError {
        FileError::Unsafe { file: shown(path), message: message.into() }
    }

    pub fn file(&self) -> &str {
        match self {
            FileError::Io { file, .. } | FileError::Unsafe { file, .. } => file,
        }
    }

    pub fn message(&self) -> &str {
        match self {
            FileError::Io { message, .. } | FileError::Unsafe { message, .. } => message,
        }
    }

    pub fn is_denied(&self) -> bool {
        matches!(self, FileError::Io { denied: true, .. })
    }
}

impl fmt::Display for FileError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.file(), self.message())
    }
}

impl std::error::Error for FileError {}

/// A path as it may be shown on a terminal.
pub fn shown(path: &Path) -> String {
    crate::sanitize::line(&path.display().to_string())
}

/// The folder a file lives in (`.` for a bare name).
pub fn parent_of(path: &Path) -> PathBuf {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

/// How new files and folders in one directory are made.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Policy {
    pub file_mode: u32,
    pub dir_mode: u32,
    /// The group to give them (the shared directory's), None: as created.
    pub gid: Option<u32>,
}

impl Policy {
    pub const PRIVATE: Policy = Policy { file_mode: PRIVATE_FILE, dir_mode: PRIVATE_DIR, gid: None };
}

/// Whether a directory with this metadata is shared: group-writable and
/// setgid.
pub fn is_shared_dir(m: &Metadata) -> bool {
    m.is_dir() && m.mode() & 0o2020 == 0o2020
}

/// The policy for new entries of `dir`: shared (0660/2770, its group) in a
/// group-writable setgid directory, else private (0600/0700).
pub fn policy_for_dir(dir: &Path) -> Policy {
    match fs::metadata(dir) {
        Ok(m) if is_shared_dir(&m) => Policy { file_mode: SHARED_FILE, dir_mode: SHARED_DIR, gid: Some(m.gid()) },
        _ => Policy::PRIVATE,
    }
}

/// The policy for a new file at `path` (from its folder).
pub fn policy_for(path: &Path) -> Policy {
    policy_for_dir(&parent_of(path))
}

/// The mode and group a file written at `path` gets: an existing file's
/// own, else its folder's policy.
fn mode_and_group(path: &Path, existing: Option<&Metadata>) -> (u32, Option<u32>) {
    match existing {
        Some(m) => (m.mode() & 0o666, Some(m.gid())),
        None => {
            let p = policy_for(path);
            (p.file_mode, p.gid)
        }
    }
}

/// Gives an open file its mode (exactly, whatever the umask) and group. A
/// group this user may not give (not a member) is left as it is, with a
/// warning in the log.
pub fn set_mode_and_group(file: &File, path: &Path, mode: u32, gid: Option<u32>) -> Result<(), FileError> {
    if let Some(gid) = gid {
        let have = file.metadata().map_err(|e| FileError::io(path, &e))?;
        if have.gid() != gid
            && let Err(e) = std::os::unix::fs::fchown(file, None, Some(gid))
        {
            tracing::warn!(file = %shown(path), gid, error = %e, "cannot give the file its group");
        }
    }
    file.set_permissions(fs::Permissions::from_mode(mode)).map_err(|e| FileError::io(path, &e))
}

pub fn symlink_refused(path: &Path) -> FileError {
    FileError::unsafe_path(path, "is a symbolic link; cutover does not follow links here (use the real path)")
}

/// The metadata of `path` if it is a regular file, None if missing, an
/// error if it is a symlink or anything else.
pub fn regular_meta(path: &Path) -> Result<Option<Metadata>, FileError> {
    match fs::symlink_metadata(path) {
        Ok(m) if m.file_type().is_symlink() => Err(symlink_refused(path)),
        Ok(m) if !m.is_file() => Err(FileError::unsafe_path(path, "is not a regular file")),
        Ok(m) => Ok(Some(m)),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(FileError::io(path, &e)),
    }
}

/// Opens a file for reading without following a symlink and without
/// blocking on a FIFO.
pub fn open_nofollow(path: &Path) -> io::Result<File> {
    OpenOptions::new().read(true).custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK).open(path)
}

fn open_error(path: &Path, e: &io::Error) -> FileError {
    if e.raw_os_error() == Some(libc::ELOOP) { symlink_refused(path) } else { FileError::io(path, e) }
}

/// Reads a regular file (not through a symlink), at most `max` bytes
/// (larger is refused). None if it is missing.
pub fn read_regular(path: &Path, max: u64) -> Result<Option<(Vec<u8>, Metadata)>, FileError> {
    if regular_meta(path)?.is_none() {
        return Ok(None);
    }
    let file = match open_nofollow(path) {
        Ok(f) => f,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(open_error(path, &e)),
    };
    let meta = file.metadata().map_err(|e| FileError::io(path, &e))?;
    if !meta.is_file() {
        return Err(FileError::unsafe_path(path, "is not a regular file"));
    }
    if meta.len() > max {
        return Err(FileError::unsafe_path(path, format!("is {} bytes, larger than cutover reads", meta.len())));
    }
    let mut bytes = Vec::with_capacity(usize::try_from(meta.len()).unwrap_or(0));
    file.take(max.saturating_add(1)).read_to_end(&mut bytes).map_err(|e| FileError::io(path, &e))?;
    Ok(Some((bytes, meta)))
}

/// How [`open_or_create`] opens.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum OpenMode {
    /// Read only (enough for a lock).
    Read,
    /// Read and append.
    Append,
    /// Read and write.
    ReadWrite,
}

/// Opens (never through a symlink) or creates a permanent file such as a
/// lock or the archive; a new one gets its folder's mode and group.
pub fn open_or_create(path: &Path, how: OpenMode) -> Result<File, FileError> {
    let policy = policy_for(path);
    for _ in 0..3 {
        regular_meta(path)?;
        let mut create = OpenOptions::new();
        create.read(true).write(true).create_new(true).mode(policy.file_mode).custom_flags(libc::O_NOFOLLOW);
        if how == OpenMode::Append {
            create.append(true);
        }
        match create.open(path) {
            Ok(f) => {
                set_mode_and_group(&f, path, policy.file_mode, policy.gid)?;
                return Ok(f);
            }
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {}
            Err(e) => return Err(open_error(path, &e)),
        }
        let mut open = OpenOptions::new();
        open.read(true).custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK);
        match how {
            OpenMode::Append => {
                open.append(true);
            }
            OpenMode::ReadWrite => {
                open.write(true);
            }
            OpenMode::Read => {}
        }
        match open.open(path) {
            Ok(f) => {
                let m = f.metadata().map_err(|e| FileError::io(path, &e))?;
                if !m.is_file() {
                    return Err(FileError::unsafe_path(path, "is not a regular file"));
                }
                return Ok(f);
            }
            // Removed between the two opens: try again.
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(e) => return Err(open_error(path, &e)),
        }
    }
    Err(FileError::msg(path, "keeps appearing and disappearing; is something else managing this directory?"))
}

/// Creates a new file exclusively (failing if anything, a link included,
/// is there), with its folder's mode and group.
pub fn create_new(path: &Path) -> Result<File, FileError> {
    let policy = policy_for(path);
    let f = OpenOptions::new()
        .read(true)
        .write(true)
        .create_new(true)
        .mode(policy.file_mode)
        .custom_flags(libc::O_NOFOLLOW)
        .open(path)
        .map_err(|e| {
            if e.kind() == io::ErrorKind::AlreadyExists {
                FileError::msg(path, "already exists")
            } else {
                open_error(path, &e)
            }
        })?;
    set_mode_and_group(&f, path, policy.file_mode, policy.gid)?;
    Ok(f)
}

/// Writes a new file exclusively and fsyncs it (see [`create_new`]).
pub fn write_new(path: &Path, bytes: &[u8]) -> Result<(), FileError> {
    let mut f = create_new(path)?;
    let written = f.write_all(bytes).and_then(|()| f.sync_all());
    if let Err(e) = written {
        let _ = fs::remove_file(path);
        return Err(FileError::io(path, &e));
    }
    sync_dir(&parent_of(path))
}

/// Makes sure `dir` is a real folder (not a link), creating it and any
/// missing parents, each with the mode and group its own parent gives.
pub fn ensure_dir(dir: &Path) -> Result<(), FileError> {
    match fs::symlink_metadata(dir) {
        Ok(m) if m.is_dir() => return Ok(()),
        Ok(m) if m.file_type().is_symlink() => {
            // A link to a folder the user named is fine; one cutover made is not.
            return match fs::metadata(dir) {
                Ok(t) if t.is_dir() => Ok(()),
                _ => Err(symlink_refused(dir)),
            };
        }
        Ok(_) => return Err(FileError::unsafe_path(dir, "is not a folder")),
        Err(e) if e.kind() == io::ErrorKind::NotFound => {}
        Err(e) => return Err(FileError::io(dir, &e)),
    }
    if let Some(parent) = dir.parent()
        && !parent.as_os_str().is_empty()
    {
        ensure_dir(parent)?;
    }
    create_dir(dir).or_else(|e| match e {
        // Someone else made it first.
        FileError::Io { .. } if fs::symlink_metadata(dir).is_ok_and(|m| m.is_dir()) => Ok(()),
        e => Err(e),
    })
}

/// Creates one folder beside the state (its parent must exist), refusing a
/// link in its place; an existing folder is left as it is.
pub fn ensure_own_dir(dir: &Path) -> Result<(), FileError> {
    match fs::symlink_metadata(dir) {
        Ok(m) if m.file_type().is_symlink() => Err(symlink_refused(dir)),
        Ok(m) if m.is_dir() => Ok(()),
        Ok(_) => Err(FileError::unsafe_path(dir, "is not a folder")),
        Err(e) if e.kind() == io::ErrorKind::NotFound => match create_dir(dir) {
            Ok(()) => Ok(()),
            Err(_) if fs::symlink_metadata(dir).is_ok_and(|m| m.is_dir()) => Ok(()),
            Err(e) => Err(e),
        },
        Err(e) => Err(FileError::io(dir, &e)),
    }
}

/// mkdir with the parent's policy, then the exact mode and group.
fn create_dir(dir: &Path) -> Result<(), FileError> {
    let policy = policy_for(dir);
    fs::create_dir(dir).map_err(|e| FileError::io(dir, &e))?;
    let d = OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_DIRECTORY | libc::O_NOFOLLOW)
        .open(dir)
        .map_err(|e| open_error(dir, &e))?;
    set_mode_and_group(&d, dir, policy.dir_mode, policy.gid)
}

/// Fsyncs a folder, so that a rename in it survives a crash.
pub fn sync_dir(dir: &Path) -> Result<(), FileError> {
    let d =
        OpenOptions::new().read(true).custom_flags(libc::O_DIRECTORY).open(dir).map_err(|e| FileError::io(dir, &e))?;
    d.sync_all().map_err(|e| FileError::io(dir, &e))
}

/// Replaces `path` with `bytes` atomically: an exclusive temp file beside
/// it (named `<prefix><random>.tmp`), written, fsynced, given the old
/// file's mode and group (a new file: its folder's), renamed over, the
/// folder fsynced. A symlink at `path` is refused, never replaced.
pub fn write_atomic(path: &Path, bytes: &[u8], prefix: &str) -> Result<(), FileError> {
    write_atomic_seen(path, bytes, prefix, |_| {})
}

/// [`write_atomic`], handing `before_rename` the finished file's metadata
/// (inode, length, mtime: what `path` shows once renamed) before it takes
/// the place of the old one, so that a watcher woken by the rename can
/// already tell it from another process's file; the folder's fsync after
/// the rename can take long on a busy disk.
pub fn write_atomic_seen(
    path: &Path,
    bytes: &[u8],
    prefix: &str,
    before_rename: impl FnOnce(&Metadata),
) -> Result<(), FileError> {
    let dir = parent_of(path);
    ensure_dir(&dir)?;
    let existing = regular_meta(path)?;
    let (mode, gid) = mode_and_group(path, existing.as_ref());
    let mut tmp = tempfile::Builder::new()
        .prefix(prefix)
        .suffix(".tmp")
        .permissions(fs::Permissions::from_mode(PRIVATE_FILE))
        .tempfile_in(&dir)
        .map_err(|e| FileError::io(&dir, &e))?;
    let tmp_path = tmp.path().to_path_buf();
    tmp.write_all(bytes).map_err(|e| FileError::io(&tmp_path, &e))?;
    set_mode_and_group(tmp.as_file(), &tmp_path, mode, gid)?;
    tmp.as_file().sync_all().map_err(|e| FileError::io(&tmp_path, &e))?;
    // The target may have become a symlink since it was looked at.
    regular_meta(path)?;
    before_rename(&tmp.as_file().metadata().map_err(|e| FileError::io(&tmp_path, &e))?);
    tmp.persist(path).map_err(|e| FileError::io(path, &e.error))?;
    sync_dir(&dir)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_file_seen_before_the_rename_is_the_file_at_the_path_after_it() {
        use std::os::unix::fs::MetadataExt;
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("state.toml");
        fs::write(&f, "old").unwrap();
        let old = fs::symlink_metadata(&f).unwrap();
        let mut seen = None;
        write_atomic_seen(&f, b"the new text", ".s.", |m| seen = Some((m.ino(), m.len(), m.modified().ok()))).unwrap();
        let now = fs::symlink_metadata(&f).unwrap();
        assert_eq!(seen, Some((now.ino(), now.len(), now.modified().ok())));
        assert_ne!(now.ino(), old.ino(), "a new file took the old one's place");
        assert_eq!(fs::read(&f).unwrap(), b"the new text");
    }

    fn mode(p: &Path) -> u32 {
        fs::symlink_metadata(p).map(|m| m.mode() & 0o7777).unwrap_or(0)
    }

    #[test]
    fn private_dir_gives_private_modes_whatever_the_umask() {
        let d = tempfile::tempdir().unwrap();
        fs::set_permissions(d.path(), fs::Permissions::from_mode(0o755)).unwrap();
        let f = d.path().join("a.toml");
        write_atomic(&f, b"x", ".a.").unwrap();
        assert_eq!(mode(&f), 0o600);
        let sub = d.path().join("x/y");
        ensure_dir(&sub).unwrap();
        assert_eq!(mode(&sub), 0o700);
        assert_eq!(mode(&d.path().join("x")), 0o700);
    }

    #[test]
    fn shared_dir_gives_group_modes() {
        let d = tempfile::tempdir().unwrap();
        fs::set_permissions(d.path(), fs::Permissions::from_mode(0o2770)).unwrap();
        let f = d.path().join("a.toml");
        write_atomic(&f, b"x", ".a.").unwrap();
        assert_eq!(mode(&f), 0o660);
        let lock = d.path().join("a.toml.lock");
        drop(open_or_create(&lock, OpenMode::Read).unwrap());
        assert_eq!(mode(&lock), 0o660);
        let sub = d.path().join("p");
        ensure_own_dir(&sub).unwrap();
        assert_eq!(mode(&sub), 0o2770);
        write_new(&sub.join("e"), b"y").unwrap();
        assert_eq!(mode(&sub.join("e")), 0o660);
    }

    #[test]
    fn replaced_file_keeps_its_mode() {
        let d = tempfile::tempdir().unwrap();
        fs::set_permissions(d.path(), fs::Permissions::from_mode(0o2770)).unwrap();
        let f = d.path().join("a.toml");
        fs::write(&f, "old").unwrap();
        fs::set_permissions(&f, fs::Permissions::from_mode(0o640)).unwrap();
        write_atomic(&f, b"new", ".a.").unwrap();
        assert_eq!(mode(&f), 0o640);
        assert_eq!(fs::read_to_string(&f).unwrap(), "new");
    }

    #[test]
    fn symlinks_are_refused() {
        let d = tempfile::tempdir().unwrap();
        let target = d.path().join("t");
        fs::write(&target, "keep").unwrap();
        let link = d.path().join("l");
        std::os::unix::fs::symlink(&target, &link).unwrap();
        assert!(matches!(write_atomic(&link, b"x", ".l."), Err(FileError::Unsafe { .. })));
        assert!(matches!(open_or_create(&link, OpenMode::Read), Err(FileError::Unsafe { .. })));
        assert!(create_new(&link).is_err());
        assert!(matches!(read_regular(&link, 10), Err(FileError::Unsafe { .. })));
        let dlink = d.path().join("dl");
        std::os::unix::fs::symlink(d.path(), &dlink).unwrap();
        assert!(matches!(ensure_own_dir(&dlink), Err(FileError::Unsafe { .. })));
        assert_eq!(fs::read_to_string(&target).unwrap(), "keep");
    }
}
