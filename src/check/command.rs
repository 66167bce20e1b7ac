//! The customer's own smoke test: a command named in the user's config (a
//! guide can only refer to it by name). Runs in its own process group, killed
//! whole on timeout or cancel; output capped, redacted and sanitized; the key,
//! if passed, goes in an environment variable, never in argv.

use super::Outcome;
use super::secret::ApiKey;
use crate::config::CommandConfig;
use crate::progress::Verdict;
use crate::sanitize;
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::io::{AsyncRead, AsyncReadExt};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

/// Name of the environment variable that carries the key to the command.
pub const KEY_VAR: &str = "CUTOVER_API_KEY";

/// Output kept in memory: the newest bytes of stdout and stderr together.
/// Beyond this the oldest bytes are dropped while the pipes keep draining, so
/// the child never blocks on a full pipe.
pub const OUTPUT_KEPT: usize = 64 * 1024;

/// The excerpt saved with the check: the last this many bytes of output.
pub const EXCERPT_BYTES: usize = 2 * 1024;

/// How long to wait for the pipes to close after the command itself exited
/// (a background process it started may still hold them).
const PIPE_GRACE: Duration = Duration::from_secs(1);

pub async fn run(
    name: &str,
    cfg: &CommandConfig,
    key: Option<&ApiKey>,
    default_timeout: Duration,
    redact: &(dyn Fn(&str) -> String + Sync),
    cancel: CancellationToken,
) -> Outcome {
    let shown_name = sanitize::line(name);
    let Some((program, args)) = cfg.argv.split_first() else {
        return Outcome {
            verdict: Some(Verdict::Error),
            message: format!("command `{shown_name}` has an empty argv"),
            hint: Some(format!(
                "Set argv in config.toml under [commands.{shown_name}], e.g. argv = [\"./smoke-test.sh\"]."
            )),
            ..Outcome::default()
        };
    };
    let timeout = cfg.timeout_secs.map(Duration::from_secs).unwrap_or(default_timeout);

    let mut command = tokio::process::Command::new(program);
    command
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0)
        .kill_on_drop(true);
    if let Some(dir) = &cfg.cwd {
        command.current_dir(dir);
    }
    match key {
        Some(k) => command.env(KEY_VAR, k.expose()),
        // The command sees exactly the key cutover chose, or none.
        None => command.env_remove(KEY_VAR),
    };

    let started = Instant::now();
    let mut child = match command.spawn() {
        Ok(c) => c,
        Err(e) => {
            return Outcome {
                verdict: Some(Verdict::Error),
                message: format!(
                    "could not start `{shown_name}` ({}): {}",
                    sanitize::line(program),
                    sanitize::line(&e.to_string())
                ),
                hint: Some(format!(
                    "Check argv{} in config.toml under [commands.{shown_name}].",
                    if cfg.cwd.is_some() { " and cwd" } else { "" }
                )),
                ..Outcome::default()
            };
        }
    };
    // With process_group(0) the child leads a new group whose id is its pid.
    let pgid = child.id().and_then(|p| i32::try_from(p).ok());
    let mut guard = GroupGuard(pgid);

    let capture = Arc::new(Mutex::new(Capture::default()));
    let mut readers: Vec<JoinHandle<()>> = Vec::new();
    if let Some(out) = child.stdout.take() {
        readers.push(tokio::spawn(drain(out, capture.clone())));
    }
    if let Some(err) = child.stderr.take() {
        readers.push(tokio::spawn(drain(err, capture.clone())));
    }

    enum End {
        Exited(std::io::Result<std::process::ExitStatus>),
        TimedOut,
        Cancelled,
    }
    let end = tokio::select! {
        status = child.wait() => End::Exited(status),
        _ = tokio::time::sleep(timeout) => End::TimedOut,
        _ = cancel.cancelled() => End::Cancelled,
    };
    let elapsed_ms = started.elapsed().as_millis();

    let mut details = vec![format!("argv: {}", redact_all(&sanitize::line(&cfg.argv.join(" ")), key, redact))];
    if let Some(dir) = &cfg.cwd {
        details.push(format!("cwd: {}", sanitize::line(dir)));
    }

    let (verdict, message, hint) = match end {
        End::TimedOut | End::Cancelled => {
            // The leader has not been reaped yet (its wait was not completed),
            // so the group id still names this group and no other.
            if let Some(pgid) = pgid {
                kill_group(pgid);
            }
            let _ = child.wait().await;
            guard.disarm();
            finish_readers(&mut readers, &mut details).await;
            if matches!(end, End::TimedOut) {
                (
                    Verdict::Indeterminate,
                    format!("`{shown_name}` timed out after {}; process group killed", secs_text(timeout)),
                    Some(format!("Raise timeout_secs under [commands.{shown_name}] if the command needs longer.")),
                )
            } else {
                (Verdict::Indeterminate, format!("`{shown_name}` cancelled; process group killed"), None)
            }
        }
        End::Exited(status) => {
            guard.disarm();
            if !wait_readers(&mut readers, PIPE_GRACE).await {
                // Something the command left running still holds its output.
                // The group id cannot name another group while any member of
                // this one lives, and a group with no members holds no pipe.
                if let Some(pgid) = pgid {
                    kill_group(pgid);
                }
                details.push(
                    "a background process kept the output open after the command exited; its process group was killed"
                        .to_string(),
                );
                finish_readers(&mut readers, &mut details).await;
            }
            match status {
                Ok(s) if s.success() => {
                    (Verdict::Pass, format!("`{shown_name}` passed (exit 0) in {elapsed_ms} ms"), None)
                }
                Ok(s) => match (s.code(), signal_of(&s)) {
                    (Some(code), _) => (Verdict::Fail, format!("`{shown_name}` failed with exit code {code}"), None),
                    (None, Some(sig)) => (
                        Verdict::Fail,
                        format!("`{shown_name}` was killed by signal {sig} ({})", signal_name(sig)),
                        None,
                    ),
                    (None, None) => (Verdict::Fail, format!("`{shown_name}` failed without an exit code"), None),
                },
                Err(e) => (
                    Verdict::Error,
                    format!("could not wait for `{shown_name}`: {}", sanitize::line(&e.to_string())),
                    None,
                ),
            }
        }
    };
    details.push(format!("ran for {elapsed_ms} ms"));

    let (kept, total) = match capture.lock() {
        Ok(c) => (c.bytes.clone(), c.total),
        Err(poisoned) => {
            let c = poisoned.into_inner();
            (c.bytes.clone(), c.total)
        }
    };
    let excerpt = excerpt(&kept, total, key, redact);
    if total > 0 {
        let shown = excerpt.as_ref().map(|e| e.len()).unwrap_or(0);
        details.push(if (shown as u64) < total {
            format!("output: {total} bytes (last {shown} shown)")
        } else {
            format!("output: {total} bytes")
        });
    }

    Outcome { verdict: Some(verdict), message, hint, excerpt, details, ..Outcome::default() }
}

/// The newest [`OUTPUT_KEPT`] bytes of combined output, and how many came.
#[derive(Debug, Default)]
struct Capture {
    bytes: Vec<u8>,
    total: u64,
}

impl Capture {
    fn push(&mut self, chunk: &[u8]) {
        self.total += chunk.len() as u64;
        self.bytes.extend_from_slice(chunk);
        // Trim in batches so that a flood of small chunks is not quadratic.
        if self.bytes.len() > 2 * OUTPUT_KEPT {
            let cut = self.bytes.len() - OUTPUT_KEPT;
            self.bytes.drain(..cut);
        }
    }
}

async fn drain(mut pipe: impl AsyncRead + Unpin, capture: Arc<Mutex<Capture>>) {
    let mut buf = vec![0u8; 16 * 1024];
    loop {
        match pipe.read(&mut buf).await {
            Ok(0) | Err(_) => break,
            Ok(n) => match capture.lock() {
                Ok(mut c) => c.push(&buf[..n]),
                Err(poisoned) => poisoned.into_inner().push(&buf[..n]),
            },
        }
    }
}

/// True if every reader finished within `grace`.
async fn wait_readers(readers: &mut [JoinHandle<()>], grace: Duration) -> bool {
    let deadline = tokio::time::Instant::now() + grace;
    for r in readers.iter_mut() {
        if r.is_finished() {
            continue;
        }
        if tokio::time::timeout_at(deadline, &mut *r).await.is_err() {
            return false;
        }
    }
    true
}

/// Gives the readers a moment to collect what the killed group wrote; a pipe
/// still held open by a process outside the group is given up on.
async fn finish_readers(readers: &mut [JoinHandle<()>], details: &mut Vec<String>) {
    if !wait_readers(readers, PIPE_GRACE).await {
        for r in readers.iter() {
            r.abort();
        }
        details.push("output may be incomplete: a process outside the group kept it open".to_string());
    }
}

/// Kills the command's group if `run` is dropped (its task aborted) before
/// the group's leader was reaped, so that no part of it outlives the check.
struct GroupGuard(Option<i32>);

impl GroupGuard {
    /// The leader has been reaped: its id may name someone else from now on.
    fn disarm(&mut self) {
        self.0 = None;
    }
}

impl Drop for GroupGuard {
    fn drop(&mut self) {
        if let Some(pgid) = self.0 {
            kill_group(pgid);
        }
    }
}

fn kill_group(pgid: i32) {
    if pgid <= 1 {
        return;
    }
    // SAFETY: kill(2) takes plain integers and touches no memory of ours. A
    // negative pid addresses the process group `pgid`, which the child
    // created with process_group(0); pgid > 1, so this never means "every
    // process" (-1) or our own group (0).
    let rc = unsafe { libc::kill(-pgid, libc::SIGKILL) };
    if rc != 0 {
        tracing::debug!(pgid, error = %std::io::Error::last_os_error(), "killing the command's process group");
    }
}

fn signal_of(status: &std::process::ExitStatus) -> Option<i32> {
    use std::os::unix::process::ExitStatusExt;
    status.signal()
}

fn signal_name(sig: i32) -> &'static str {
    match sig {
        libc::SIGHUP => "SIGHUP",
        libc::SIGINT => "SIGINT",
        libc::SIGQUIT => "SIGQUIT",
        libc::SIGILL => "SIGILL",
        libc::SIGABRT => "SIGABRT",
        libc::SIGBUS => "SIGBUS",
        libc::SIGFPE => "SIGFPE",
        libc::SIGKILL => "SIGKILL",
        libc::SIGSEGV => "SIGSEGV",
        libc::SIGPIPE => "SIGPIPE",
        libc::SIGALRM => "SIGALRM",
        libc::SIGTERM => "SIGTERM",
        libc::SIGUSR1 => "SIGUSR1",
        libc::SIGUSR2 => "SIGUSR2",
        _ => "unknown signal",
    }
}

/// The caller's redaction, plus the key itself as a second line of defence.
fn redact_all(text: &str, key: Option<&ApiKey>, redact: &(dyn Fn(&str) -> String + Sync)) -> String {
    let mut out = redact(text);
    if let Some(k) = key
        && !k.expose().is_empty()
    {
        out = out.replace(k.expose(), &k.masked());
    }
    out
}

/// Redacted, sanitized, the last [`EXCERPT_BYTES`] of the output. Redaction
/// runs on everything kept before it is cut, so a key is never cut in half
/// at the excerpt's edge; and again after sanitizing, in case escape
/// sequences had split a key.
fn excerpt(kept: &[u8], total: u64, key: Option<&ApiKey>, redact: &(dyn Fn(&str) -> String + Sync)) -> Option<String> {
    if kept.is_empty() {
        return None;
    }
    let text = String::from_utf8_lossy(kept);
    let clean = redact_all(&sanitize::multiline(&redact_all(&text, key, redact)), key, redact);
    let mut start = clean.len().saturating_sub(EXCERPT_BYTES);
    while !clean.is_char_boundary(start) {
        start += 1;
    }
    let mut tail = &clean[start..];
    let cut = start > 0 || (kept.len() as u64) < total;
    if cut {
        // Start at a line boundary when there is one close by.
        if let Some(nl) = tail.find('\n').filter(|&i| i < 200 && i + 1 < tail.len()) {
            tail = &tail[nl + 1..];
        }
    }
    let tail = tail.trim_end();
    if tail.is_empty() {
        return None;
    }
    Some(if cut { format!("…\n{tail}") } else { tail.to_string() })
}

fn secs_text(d: Duration) -> String {
    let ms = d.as_millis();
    if ms.is_multiple_of(1000) { format!("{} s", ms / 1000) } else { format!("{:.1} s", d.as_secs_f64()) }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ident(s: &str) -> String {
        s.to_string()
    }

    #[test]
    fn capture_keeps_the_newest_bytes() {
        let mut c = Capture::default();
        for i in 0..100u8 {
            c.push(&[i; 4096]);
        }
        assert_eq!(c.total, 409_600);
        assert!(c.bytes.len() <= 2 * OUTPUT_KEPT);
        assert_eq!(c.bytes.last(), Some(&99));
    }

    #[test]
    fn excerpt_is_the_tail_and_redacted() {
        let key = ApiKey::new("sekrit-key-123456");
        let mut out = String::new();
        for i in 0..500 {
            out.push_str(&format!("line {i}\n"));
        }
        out.push_str("key=sekrit-key-123456\n");
        let ex = excerpt(out.as_bytes(), out.len() as u64, Some(&key), &ident).unwrap_or_default();
        assert!(ex.len() <= EXCERPT_BYTES + 8, "{}", ex.len());
        assert!(ex.starts_with("…\nline "), "{ex}");
        assert!(ex.ends_with("key=••••3456"), "{ex}");
        assert!(!ex.contains("sekrit"));
    }

    #[test]
    fn excerpt_of_nothing_is_none() {
        assert_eq!(excerpt(b"", 0, None, &ident), None);
        assert_eq!(excerpt(b"\n\n", 2, None, &ident), None);
    }

    #[test]
    fn secs_text_reads_well() {
        assert_eq!(secs_text(Duration::from_secs(20)), "20 s");
        assert_eq!(secs_text(Duration::from_millis(1500)), "1.5 s");
    }

    #[tokio::test]
    async fn empty_argv_is_an_error() {
        let cfg = CommandConfig { argv: vec![], cwd: None, timeout_secs: None };
        let out = run("smoke", &cfg, None, Duration::from_secs(5), &ident, CancellationToken::new()).await;
        assert_eq!(out.verdict, Some(Verdict::Error));
        assert!(out.message.contains("empty argv"), "{}", out.message);
    }

    #[tokio::test]
    async fn missing_program_is_an_error() {
        let cfg = CommandConfig { argv: vec!["./definitely-not-here-cutover".into()], cwd: None, timeout_secs: None };
        let out = run("smoke", &cfg, None, Duration::from_secs(5), &ident, CancellationToken::new()).await;
        assert_eq!(out.verdict, Some(Verdict::Error));
        assert!(out.message.starts_with("could not start `smoke`"), "{}", out.message);
    }
}
