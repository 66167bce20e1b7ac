//! Where things live: config, data (state) and logs, from `directories`
//! (XDG on Linux), each overridable.

use std::path::{Path, PathBuf};

#[derive(Debug, Clone)]
pub struct Paths {
    pub config_dir: PathBuf,
    pub data_dir: PathBuf,
}

impl Paths {
    /// The platform's directories for cutover; None if there is no home.
    pub fn platform() -> Option<Paths> {
        let dirs = directories::ProjectDirs::from("", "", "cutover")?;
        Some(Paths { config_dir: dirs.config_dir().to_path_buf(), data_dir: dirs.data_dir().to_path_buf() })
    }

    /// The platform's, else `./.cutover`.
    pub fn resolve() -> Paths {
        Paths::platform().unwrap_or_else(|| Paths {
            config_dir: PathBuf::from(".cutover/config"),
            data_dir: PathBuf::from(".cutover/data"),
        })
    }

    pub fn default_state(&self) -> PathBuf {
        self.data_dir.join("state.toml")
    }

    pub fn config_file(&self) -> PathBuf {
        self.config_dir.join("config.toml")
    }

    pub fn secrets_file(&self) -> PathBuf {
        self.config_dir.join("secrets.toml")
    }

    pub fn guides_dir(&self) -> PathBuf {
        self.config_dir.join("guides")
    }

    pub fn log_dir(&self) -> PathBuf {
        self.data_dir.join("logs")
    }
}

/// The directory that holds `state`, for files that live beside it.
pub fn beside(state: &Path, name: &str) -> PathBuf {
    state.parent().map(|p| p.join(name)).unwrap_or_else(|| PathBuf::from(name))
}

/// Languages in order of preference from the locale variables
/// (`LC_ALL`, `LC_MESSAGES`, `LANG`): "nl_NL.UTF-8" gives "nl".
pub fn locale_languages(env: &dyn Fn(&str) -> Option<String>) -> Vec<String> {
    let mut out = Vec::new();
    for var in ["LC_ALL", "LC_MESSAGES", "LANG"] {
        if let Some(v) = env(var) {
            let lang: String =
                v.chars().take_while(|c| c.is_ascii_alphabetic()).collect::<String>().to_ascii_lowercase();
            if lang.len() == 2 && !out.contains(&lang) {
                out.push(lang);
            }
            if !v.is_empty() {
                break;
            }
        }
    }
    out
}

/// `--as`, else `$USER`, else `$LOGNAME`, else a stable name from the uid.
pub fn user_name(as_name: Option<&str>, env: &dyn Fn(&str) -> Option<String>) -> String {
    let pick = as_name
        .map(str::to_string)
        .or_else(|| env("USER"))
        .or_else(|| env("LOGNAME"))
        .map(|s| crate::sanitize::line(s.trim()))
        .filter(|s| !s.is_empty());
    match pick {
        Some(name) => name.chars().take(64).collect(),
        // SAFETY: getuid has no preconditions and cannot fail.
        None => format!("uid-{}", unsafe { libc::getuid() }),
    }
}

/// This machine's name, for presence ("alice@build-01").
pub fn host_name() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .or_else(|_| std::fs::read_to_string("/etc/hostname"))
        .map(|s| crate::sanitize::line(s.trim()))
        .unwrap_or_else(|_| "localhost".into())
}

/// The terminal this instance runs on (`/dev/pts/3`), for presence.
pub fn tty_name() -> String {
    std::fs::read_link("/proc/self/fd/0").map(|p| p.display().to_string()).unwrap_or_else(|_| "?".into())
}

/// Why a file from outside cutover (a guide, `config.toml`, evidence) is not
/// read.
#[derive(Debug)]
pub enum ReadRefused {
    Missing,
    /// A FIFO, socket, device or folder (or a symlink to one): reading it
    /// could block or never end.
    NotRegular(&'static str),
    TooLarge(u64),
    Io(std::io::Error),
}

impl std::error::Error for ReadRefused {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            ReadRefused::Io(e) => Some(e),
            _ => None,
        }
    }
}

impl std::fmt::Display for ReadRefused {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ReadRefused::Missing => f.write_str("no such file"),
            ReadRefused::NotRegular(what) => write!(f, "it is {what}, not a regular file; it is skipped"),
            ReadRefused::TooLarge(max) => write!(f, "it is larger than {max} bytes"),
            ReadRefused::Io(e) => write!(f, "cannot read: {e}"),
        }
    }
}

/// Reads a file from outside cutover: only a regular file (a symlink to one
/// is fine), opened without blocking, at most `max` bytes. A FIFO among the
/// guides can then never hang a command.
pub fn read_regular_file(path: &std::path::Path, max: u64) -> Result<Vec<u8>, ReadRefused> {
    use std::io::Read;
    use std::os::unix::fs::{FileTypeExt, OpenOptionsExt};
    let kind = |t: std::fs::FileType| -> Option<&'static str> {
        if t.is_file() {
            None
        } else if t.is_fifo() {
            Some("a FIFO")
        } else if t.is_socket() {
            Some("a socket")
        } else if t.is_block_device() || t.is_char_device() {
            Some("a device")
        } else if t.is_dir() {
            Some("a folder")
        } else {
            Some("not a file")
        }
    };
    match std::fs::metadata(path) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Err(ReadRefused::Missing),
        Err(e) => return Err(ReadRefused::Io(e)),
        Ok(m) => {
            if let Some(what) = kind(m.file_type()) {
                return Err(ReadRefused::NotRegular(what));
            }
        }
    }
    let file =
        std::fs::OpenOptions::new().read(true).custom_flags(libc::O_NONBLOCK).open(path).map_err(ReadRefused::Io)?;
    // The file may have been swapped between the look and the open.
    let meta = file.metadata().map_err(ReadRefused::Io)?;
    if let Some(what) = kind(meta.file_type()) {
        return Err(ReadRefused::NotRegular(what));
    }
    let mut bytes = Vec::new();
    file.take(max + 1).read_to_end(&mut bytes).map_err(ReadRefused::Io)?;
    if bytes.len() as u64 > max {
        return Err(ReadRefused::TooLarge(max));
    }
    Ok(bytes)
}
