//! A sandbox for one run of the real binary: its own HOME and XDG dirs, a
//! pinned locale, user and clock. Shared by the tests and the benchmarks.
#![allow(dead_code)]

use std::path::{Path, PathBuf};

pub struct Sandbox {
    pub dir: tempfile::TempDir,
}

impl Sandbox {
    pub fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        for d in ["home", "config", "data", "cache", "state"] {
            std::fs::create_dir_all(dir.path().join(d)).unwrap();
        }
        Sandbox { dir }
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    pub fn state_file(&self) -> PathBuf {
        self.path().join("data/cutover/state.toml")
    }

    pub fn config_dir(&self) -> PathBuf {
        self.path().join("config/cutover")
    }

    /// The environment every spawned cutover gets: its own HOME and XDG
    /// dirs, a pinned locale, user and clock.
    pub fn env(&self) -> Vec<(String, String)> {
        let p = self.path();
        vec![
            ("HOME".into(), p.join("home").display().to_string()),
            ("XDG_CONFIG_HOME".into(), p.join("config").display().to_string()),
            ("XDG_DATA_HOME".into(), p.join("data").display().to_string()),
            ("XDG_CACHE_HOME".into(), p.join("cache").display().to_string()),
            ("XDG_STATE_HOME".into(), p.join("state").display().to_string()),
            ("LANG".into(), "en_US.UTF-8".into()),
            ("LC_ALL".into(), "en_US.UTF-8".into()),
            ("USER".into(), "tester".into()),
            ("TERM".into(), "xterm-256color".into()),
            ("CUTOVER_NOW".into(), "2026-11-23T10:00:00Z".into()),
        ]
    }
}
