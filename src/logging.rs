//! Logs go to a file in the data dir, never to the terminal: nothing is
//! printed while the TUI runs. `CUTOVER_LOG` sets the filter (default info):
//! a level (`debug`), or targets with levels (`cutover=debug,rustls=warn`).

use std::io::Write;
use std::path::{Path, PathBuf};

/// Starts logging to `dir/cutover.log`; returns false if a logger was
/// already set. The folder and the file are made on the first line logged,
/// not here: a start that logs nothing before its first frame does not
/// wait for them. If the file cannot be opened, cutover runs on without
/// logs.
pub fn init(dir: &Path, filter: Option<String>) -> bool {
    let filter = filter
        .and_then(|f| f.parse::<tracing_subscriber::filter::Targets>().ok())
        .unwrap_or_else(|| tracing_subscriber::filter::Targets::new().with_default(tracing::Level::INFO));
    use tracing_subscriber::layer::SubscriberExt;
    use tracing_subscriber::util::SubscriberInitExt;
    let file = LazyFile { dir: dir.to_path_buf(), file: None, failed: false };
    tracing_subscriber::registry()
        .with(tracing_subscriber::fmt::layer().with_ansi(false).with_writer(std::sync::Mutex::new(file)))
        .with(filter)
        .try_init()
        .is_ok()
}

/// The log file, opened (and its folder made) on the first write; once
/// that fails, lines are dropped.
struct LazyFile {
    dir: PathBuf,
    file: Option<std::fs::File>,
    failed: bool,
}

impl LazyFile {
    fn open(dir: &Path) -> std::io::Result<std::fs::File> {
        std::fs::create_dir_all(dir)?;
        let mut opts = std::fs::OpenOptions::new();
        opts.create(true).append(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            opts.mode(0o600);
        }
        opts.open(dir.join("cutover.log"))
    }
}

impl Write for LazyFile {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if self.file.is_none() && !self.failed {
            match LazyFile::open(&self.dir) {
                Ok(f) => self.file = Some(f),
                Err(_) => self.failed = true,
            }
        }
        match self.file.as_mut() {
            Some(f) => f.write(buf),
            None => Ok(buf.len()),
        }
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.file.as_mut().map_or(Ok(()), |f| f.flush())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_file_is_made_on_the_first_write_with_its_folder() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("a/logs");
        let mut f = LazyFile { dir: dir.clone(), file: None, failed: false };
        assert!(!dir.exists(), "nothing is made before a line is logged");
        f.write_all(b"one\n").unwrap();
        f.write_all(b"two\n").unwrap();
        f.flush().unwrap();
        assert_eq!(std::fs::read_to_string(dir.join("cutover.log")).unwrap(), "one\ntwo\n");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(dir.join("cutover.log")).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
    }

    #[test]
    fn a_file_that_cannot_be_opened_drops_lines() {
        let tmp = tempfile::tempdir().unwrap();
        // A file where the folder should be.
        std::fs::write(tmp.path().join("logs"), "").unwrap();
        let mut f = LazyFile { dir: tmp.path().join("logs"), file: None, failed: false };
        assert_eq!(f.write(b"line\n").unwrap(), 5);
        assert!(f.failed);
        assert!(f.file.is_none());
    }

    #[test]
    fn the_filter_takes_a_level_or_targets() {
        let t: tracing_subscriber::filter::Targets = "cutover=debug,rustls=warn".parse().unwrap();
        assert!(t.would_enable("cutover::check", &tracing::Level::DEBUG));
        assert!(!t.would_enable("rustls::client", &tracing::Level::INFO));
        let t: tracing_subscriber::filter::Targets = "debug".parse().unwrap();
        assert!(t.would_enable("anything", &tracing::Level::DEBUG));
        assert!(!t.would_enable("anything", &tracing::Level::TRACE));
    }
}
