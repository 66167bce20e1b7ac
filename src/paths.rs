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
