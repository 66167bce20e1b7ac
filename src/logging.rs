//! Logs go to a file in the data dir, never to the terminal: nothing is
//! printed while the TUI runs. `CUTOVER_LOG` sets the filter (default info).

use std::path::Path;

/// Starts file logging; returns false if the log file cannot be opened
/// (cutover runs on without logs).
pub fn init(dir: &Path, filter: Option<String>) -> bool {
    if std::fs::create_dir_all(dir).is_err() {
        return false;
    }
    let path = dir.join("cutover.log");
    let mut opts = std::fs::OpenOptions::new();
    opts.create(true).append(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let Ok(file) = opts.open(&path) else {
        return false;
    };
    let filter = tracing_subscriber::EnvFilter::try_new(filter.unwrap_or_else(|| "info".to_string()))
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(false)
        .with_writer(std::sync::Mutex::new(file))
        .try_init()
        .is_ok()
}
