//! Interim store (replaced by the locked, atomic store).

use super::model::{Event, Op, Progress};
use std::path::{Path, PathBuf};

#[derive(Debug)]
pub enum StoreError {
    Parse { file: String, line: usize, col: usize, message: String },
    NewerSchema { file: String, found: u32, supported: u32 },
    Io { file: String, message: String },
    Unsafe { file: String, message: String },
}

impl std::fmt::Display for StoreError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            StoreError::Parse { file, line, col, message } => write!(f, "{file}:{line}:{col}: {message}"),
            StoreError::NewerSchema { file, found, supported } => {
                write!(f, "{file}: state schema {found} is newer than this cutover reads ({supported}); update cutover")
            }
            StoreError::Io { file, message } | StoreError::Unsafe { file, message } => {
                write!(f, "{file}: {message}")
            }
        }
    }
}

impl std::error::Error for StoreError {}

#[derive(Debug, Clone)]
pub struct Store {
    path: PathBuf,
}

impl Store {
    pub fn new(path: impl Into<PathBuf>) -> Store {
        Store { path: path.into() }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn load(&self) -> Result<Progress, StoreError> {
        match std::fs::read_to_string(&self.path) {
            Ok(s) => toml::from_str(&s).map_err(|e| StoreError::Parse {
                file: self.path.display().to_string(),
                line: 1,
                col: 1,
                message: e.to_string(),
            }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Progress::default()),
            Err(e) => Err(StoreError::Io { file: self.path.display().to_string(), message: e.to_string() }),
        }
    }

    pub fn apply(&self, ops: &[Op], by: &str, at: jiff::Timestamp) -> Result<(Progress, Vec<Event>), StoreError> {
        let mut p = self.load()?;
        let events = ops.iter().map(|op| p.apply(op, by, at)).collect();
        let text = toml::to_string(&p)
            .map_err(|e| StoreError::Io { file: self.path.display().to_string(), message: e.to_string() })?;
        if let Some(dir) = self.path.parent() {
            let _ = std::fs::create_dir_all(dir);
        }
        std::fs::write(&self.path, text)
            .map_err(|e| StoreError::Io { file: self.path.display().to_string(), message: e.to_string() })?;
        Ok((p, events))
    }

    pub fn archived_events(&self) -> Result<Vec<Event>, StoreError> {
        Ok(Vec::new())
    }

    pub fn reset(&self, at: jiff::Timestamp) -> Result<Option<PathBuf>, StoreError> {
        let _ = at;
        Ok(None)
    }
}
