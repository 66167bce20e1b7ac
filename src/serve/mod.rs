//! `cutover serve`: the checklist over SSH, built in. An SSH server (russh)
//! that runs one checklist session per connection on the same state, with
//! invites and an access list deciding who joins and as what. An edge
//! beside the runtime: the app core knows only `app::peers`.
//!
//! Files, in the data dir's `serve/` folder (all 0600):
//! - `host_ed25519`: the host key, shared by every state this user serves;
//! - `<state id>/`: per state file: `server.toml` (where the running server
//!   listens, for `cutover invite`), `server.lock` (held while it runs),
//!   `invites.toml`, `revoked.toml`, `connections.jsonl` (the server log).

pub mod access;
pub mod hostkey;
pub mod hub;
pub mod log;
mod random;
pub mod session;
pub mod term;
pub mod vt;

use crate::app::{App, CheckRequest, Rights};
use crate::clock::Clock;
use crate::config::ServeConfig;
use crate::guide::CheckKind;
use crate::progress::CheckRecord;
use crate::runtime::Checks;
use futures::future::BoxFuture;
use hub::{Hub, Who};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap, VecDeque};
use std::future::Future;
use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio_util::sync::CancellationToken;

/// Where `cutover serve` listens unless told otherwise.
pub const DEFAULT_LISTEN: &str = "127.0.0.1:2222";
/// Connections that have not yet authenticated, at most.
const MAX_UNAUTHENTICATED: usize = 16;
/// Time a connection has to authenticate.
const AUTH_DEADLINE: Duration = Duration::from_secs(10);
/// How often revocations by other processes are looked for.
const REVOKE_POLL: Duration = Duration::from_millis(250);

#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    #[error("{0}")]
    HostKey(#[from] hostkey::HostKeyError),
    #[error("{0}")]
    Access(#[from] access::AccessError),
    #[error("{0}")]
    File(#[from] crate::files::FileError),
    #[error("cannot listen on {addr}: {why}")]
    Listen { addr: String, why: String },
    #[error("a cutover serve already runs for this state (pid {pid}, port {port}); stop it first")]
    Running { pid: u32, port: u16 },
    #[error("{0}")]
    Config(String),
}

/// The serve folder of one state file: `<data>/serve/<16 hex of the
/// state's path>`.
pub fn state_dir(serve_root: &Path, state: &Path) -> PathBuf {
    use sha2::{Digest, Sha256};
    let abs = std::path::absolute(state).unwrap_or_else(|_| state.to_path_buf());
    let parent = abs.parent().and_then(|p| p.canonicalize().ok()).unwrap_or_else(|| abs.clone());
    let full = parent.join(abs.file_name().unwrap_or_default());
    let digest = hex::encode(Sha256::digest(full.as_os_str().as_encoded_bytes()));
    serve_root.join(&digest[..16])
}

/// What a running server tells `cutover invite` (`server.toml`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ServerInfo {
    pub pid: u32,
    pub address: IpAddr,
    pub port: u16,
    pub fingerprint: String,
    pub state: String,
}

/// Reads what the running server for this state wrote, if one runs (its
/// lock is held).
pub fn running_server(dir: &Path) -> Option<ServerInfo> {
    let lock = crate::files::open_or_create(&dir.join("server.lock"), crate::files::OpenMode::Read).ok()?;
    if try_lock(&lock) {
        return None;
    }
    let (bytes, _) = crate::files::read_regular(&dir.join("server.toml"), 64 * 1024).ok()??;
    toml::from_str(&String::from_utf8_lossy(&bytes)).ok()
}

fn try_lock(f: &std::fs::File) -> bool {
    use std::os::fd::AsRawFd;
    // SAFETY: flock on a descriptor the caller owns.
    unsafe { libc::flock(f.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) == 0 }
}

/// How to start a server.
pub struct Options {
    pub listen: SocketAddr,
    pub headless: bool,
    pub state_path: PathBuf,
    /// `<data>/serve`.
    pub serve_root: PathBuf,
    /// `<config>/access.toml`.
    pub access_path: PathBuf,
    pub config: ServeConfig,
    pub clock: Arc<dyn Clock>,
}

/// What every connection shares.
pub struct Shared {
    pub hub: Arc<Hub>,
    pub files: access::Files,
    pub log: log::ConnLog,
    pub config: ServeConfig,
    pub clock: Arc<dyn Clock>,
    pub store_path: PathBuf,
    access_path: PathBuf,
    access: Mutex<Vec<access::Person>>,
    /// The App as the host's checklist was built (App is not Sync).
    template: Mutex<App>,
    checks: Option<Arc<dyn Checks>>,
    editor_rights: Rights,
    hint: Mutex<String>,
    unauthenticated: AtomicUsize,
    /// Open connections, to close them when the server stops.
    handles: Mutex<BTreeMap<u64, (russh::server::Handle, CancellationToken)>>,
    next_conn: std::sync::atomic::AtomicU64,
}

impl Shared {
    /// The access list as it is on disk now; if it has become malformed, the
    /// last good one (and the log says so).
    pub fn access_list(&self) -> Vec<access::Person> {
        match access::load_access_list(&self.access_path) {
            Ok(people) => {
                if let Ok(mut a) = self.access.lock() {
                    a.clone_from(&people);
                }
                people
            }
            Err(e) => {
                tracing::warn!(problem = %e, "access.toml cannot be read; the list read before is used");
                self.access.lock().map(|a| a.clone()).unwrap_or_default()
            }
        }
    }

    /// Writes to the server log, and shows the line in the host's history.
    pub fn record(&self, e: &log::Entry) {
        let e = self.log.write(e);
        self.hub.to_host(crate::app::Action::ServeLog(e.at, e.describe()));
    }

    fn authenticated(&self) {
        let _ = self.unauthenticated.fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1));
    }

    /// "ssh -t -p 2222 USER@127.0.0.1".
    pub fn connect_hint(&self) -> String {
        self.hint.lock().map(|h| h.clone()).unwrap_or_default()
    }

    fn checks_for(&self, who: Who) -> Option<Arc<dyn Checks>> {
        let inner = self.checks.clone()?;
        match who {
            Who::Host => Some(inner),
            Who::Observer => None,
            Who::Editor => Some(Arc::new(EditorChecks { inner, rights: self.editor_rights })),
        }
    }

    fn session_app(&self, grant: &access::Grant, env: &[(String, String)]) -> Option<App> {
        let template = self.template.lock().ok()?;
        Some(session::app_for(&template, grant, env, self.editor_rights))
    }
}

/// A remote editor's checks: whatever the App asks, nothing beyond the
/// editor's rights reaches the runner, and a typed key is not taken.
struct EditorChecks {
    inner: Arc<dyn Checks>,
    rights: Rights,
}

impl EditorChecks {
    fn allowed(&self, req: &CheckRequest) -> bool {
        let g = &req.guide;
        let Some(step) = req.step() else { return false };
        let production = g.environments.get(&req.env).is_none_or(|e| !e.sandbox);
        let command = step.checks.iter().any(|c| c.kind() == CheckKind::Command);
        (self.rights.production || !production)
            && (self.rights.commands || !command)
            && (self.rights.writes || !req.opts.allow_writes)
    }
}

impl Checks for EditorChecks {
    fn run(
        &self,
        req: CheckRequest,
        by: String,
        cancel: CancellationToken,
        waits: crate::check::runner::WaitReport,
    ) -> BoxFuture<'static, Vec<CheckRecord>> {
        if !self.allowed(&req) {
            tracing::warn!(guide = %req.guide.id(), step = %req.step, env = %req.env, "a remote editor's check was refused");
            return Box::pin(async { Vec::new() });
        }
        self.inner.run(req, by, cancel, waits)
    }

    fn set_key(&self, _guide: &str, _env: &str, _key: crate::check::secret::ApiKey) {}

    fn warm_up(&self) {
        self.inner.warm_up();
    }
}

/// A running server.
pub struct Server {
    pub addr: SocketAddr,
    pub fingerprint: String,
    pub shared: Arc<Shared>,
    dir: PathBuf,
    stop: CancellationToken,
    tasks: Vec<tokio::task::JoinHandle<()>>,
    _lock: std::fs::File,
}

/// Starts the server: host key, access list, lock, listener. Nothing is
/// served until all of them are in order.
pub async fn start(opts: Options, template: App, checks: Option<Arc<dyn Checks>>) -> Result<Server, ServeError> {
    let (key, _new) = hostkey::load_or_create(&opts.serve_root)?;
    let fingerprint = hostkey::fingerprint(key.public_key());
    let dir = state_dir(&opts.serve_root, &opts.state_path);
    crate::files::ensure_dir(&dir)?;
    let lock = crate::files::open_or_create(&dir.join("server.lock"), crate::files::OpenMode::Read)?;
    if !try_lock(&lock) {
        let info = running_server(&dir);
        return Err(ServeError::Running {
            pid: info.as_ref().map(|i| i.pid).unwrap_or(0),
            port: info.map(|i| i.port).unwrap_or(0),
        });
    }
    let people = access::load_access_list(&opts.access_path)?;
    let mut editor_rights = Rights { type_keys: false, production: false, commands: false, writes: false };
    for what in &opts.config.editors_may {
        match what.as_str() {
            "production" => editor_rights.production = true,
            "command" => editor_rights.commands = true,
            "writes" => editor_rights.writes = true,
            other => {
                return Err(ServeError::Config(format!(
                    "config.toml: [serve] editors_may: '{}' is not production, command or writes",
                    crate::sanitize::line(other)
                )));
            }
        }
    }
    // Headless, no host can confirm: nothing may create data.
    if opts.headless {
        editor_rights.writes = false;
    }
    let listener = tokio::net::TcpListener::bind(opts.listen)
        .await
        .map_err(|e| ServeError::Listen { addr: opts.listen.to_string(), why: e.to_string() })?;
    let addr =
        listener.local_addr().map_err(|e| ServeError::Listen { addr: opts.listen.to_string(), why: e.to_string() })?;
    let shown_host = if addr.ip().is_unspecified() { crate::paths::host_name() } else { addr.ip().to_string() };
    let shared = Arc::new(Shared {
        hub: Arc::new(Hub::new()),
        files: access::Files { dir: dir.clone() },
        log: log::ConnLog::new(&dir, opts.clock.clone()),
        config: opts.config.clone(),
        clock: opts.clock.clone(),
        store_path: opts.state_path.clone(),
        access_path: opts.access_path.clone(),
        access: Mutex::new(people),
        template: Mutex::new(template),
        checks,
        editor_rights,
        hint: Mutex::new(format!("ssh -t -p {} USER@{shown_host} (the user name from your invite)", addr.port())),
        unauthenticated: AtomicUsize::new(0),
        handles: Mutex::new(BTreeMap::new()),
        next_conn: std::sync::atomic::AtomicU64::new(0),
    });
    let info = ServerInfo {
        pid: std::process::id(),
        address: addr.ip(),
        port: addr.port(),
        fingerprint: fingerprint.clone(),
        state: opts.state_path.display().to_string(),
    };
    let text = toml::to_string(&info).map_err(|e| ServeError::Config(e.to_string()))?;
    hostkey::write_private(&dir.join("server.toml"), text.as_bytes())?;
    shared.record(&log::Entry::event("started", None, &format!("listening on {addr}, host key {fingerprint}")));

    let config = Arc::new(russh::server::Config {
        methods: russh::MethodSet::from(&[russh::MethodKind::PublicKey][..]),
        auth_rejection_time: Duration::from_millis(300),
        auth_rejection_time_initial: Some(Duration::ZERO),
        keys: vec![key],
        max_auth_attempts: opts.config.auth_attempts.max(1),
        inactivity_timeout: Some(Duration::from_secs(opts.config.idle_minutes.saturating_mul(60) + 120)),
        keepalive_interval: Some(Duration::from_secs(30)),
        nodelay: true,
        ..Default::default()
    });
    let stop = CancellationToken::new();
    let accept = tokio::spawn(accept_loop(listener, config, shared.clone(), stop.clone()));
    let revokes = tokio::spawn(watch_revocations(shared.clone(), stop.clone()));
    Ok(Server { addr, fingerprint, shared, dir, stop, tasks: vec![accept, revokes], _lock: lock })
}

impl Server {
    /// Tells every session "the host ended the session", closes the
    /// connections and stops listening; within 2 s even when a client has
    /// stalled.
    pub async fn stop(self) {
        self.shared.hub.end_all("the host ended the session");
        let deadline = Instant::now() + Duration::from_millis(1500);
        while self.shared.hub.remote_count() > 0 && Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        self.stop.cancel();
        let conns: Vec<_> = self.shared.handles.lock().map(|h| h.values().cloned().collect()).unwrap_or_default();
        // Every connection is told at once; a stalled one is cut off.
        let told = futures::future::join_all(conns.iter().map(|(h, _)| {
            h.disconnect(russh::Disconnect::ByApplication, "the host ended the session".into(), "en".into())
        }));
        let _ = tokio::time::timeout(Duration::from_millis(300), told).await;
        for (_, kill) in &conns {
            kill.cancel();
        }
        for t in self.tasks {
            t.abort();
        }
        let _ = std::fs::remove_file(self.dir.join("server.toml"));
        self.shared.record(&log::Entry::event("stopped", None, "the host ended the session"));
    }
}

async fn accept_loop(
    listener: tokio::net::TcpListener,
    config: Arc<russh::server::Config>,
    shared: Arc<Shared>,
    stop: CancellationToken,
) {
    let mut recent: HashMap<IpAddr, VecDeque<Instant>> = HashMap::new();
    loop {
        let (stream, peer) = tokio::select! {
            _ = stop.cancelled() => return,
            r = listener.accept() => match r {
                Ok(x) => x,
                Err(e) => {
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
        };
        let now = Instant::now();
        let times = recent.entry(peer.ip()).or_default();
        while times.front().is_some_and(|t| now.duration_since(*t) > Duration::from_secs(60)) {
            times.pop_front();
        }
        if times.len() >= shared.config.connections_per_minute as usize {
            shared.record(&log::Entry::refused(
                "",
                None,
                &peer.to_string(),
                "too many new connections from this address in a minute",
            ));
            continue;
        }
        times.push_back(now);
        if recent.len() > 4096 {
            recent.retain(|_, t| !t.is_empty());
        }
        if shared.unauthenticated.load(Ordering::SeqCst) >= MAX_UNAUTHENTICATED {
            shared.record(&log::Entry::refused(
                "",
                None,
                &peer.to_string(),
                "too many connections waiting to authenticate",
            ));
            continue;
        }
        shared.unauthenticated.fetch_add(1, Ordering::SeqCst);
        let conn = session::Conn::new(shared.clone(), Some(peer));
        let authed = conn.authed.clone();
        let (config, shared) = (config.clone(), shared.clone());
        let kill = CancellationToken::new();
        tokio::spawn(async move {
            let _ = stream.set_nodelay(true);
            let stream = Killable { inner: stream, killed: Box::pin(kill.clone().cancelled_owned()) };
            if let Ok(running) = russh::server::run_stream(config, stream, conn).await {
                let handle = running.handle();
                let conn_id = shared.next_conn.fetch_add(1, Ordering::SeqCst);
                if let Ok(mut h) = shared.handles.lock() {
                    h.insert(conn_id, (handle.clone(), kill.clone()));
                }
                let deadline = {
                    let (authed, kill) = (authed.clone(), kill.clone());
                    tokio::spawn(async move {
                        tokio::time::sleep(AUTH_DEADLINE).await;
                        if !authed.load(Ordering::SeqCst) {
                            // Said if the key exchange got that far; the
                            // socket is closed either way.
                            let _ = tokio::time::timeout(
                                Duration::from_millis(200),
                                handle.disconnect(
                                    russh::Disconnect::ByApplication,
                                    "authentication took too long".into(),
                                    "en".into(),
                                ),
                            )
                            .await;
                            kill.cancel();
                        }
                    })
                };
                let _ = running.await;
                deadline.abort();
                if let Ok(mut h) = shared.handles.lock() {
                    h.remove(&conn_id);
                }
            }
            if !authed.load(Ordering::SeqCst) {
                shared.authenticated();
            }
        });
    }
}

/// A connection's socket that reads and writes nothing more once killed
/// (a client that never finishes authenticating).
struct Killable {
    inner: tokio::net::TcpStream,
    killed: std::pin::Pin<Box<tokio_util::sync::WaitForCancellationFutureOwned>>,
}

impl Killable {
    fn dead(&mut self, cx: &mut std::task::Context<'_>) -> bool {
        self.killed.as_mut().poll(cx).is_ready()
    }
}

fn aborted() -> std::io::Error {
    std::io::Error::new(std::io::ErrorKind::ConnectionAborted, "closed by the server")
}

impl tokio::io::AsyncRead for Killable {
    fn poll_read(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        buf: &mut tokio::io::ReadBuf<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        if self.dead(cx) {
            return std::task::Poll::Ready(Err(aborted()));
        }
        std::pin::Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl tokio::io::AsyncWrite for Killable {
    fn poll_write(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        buf: &[u8],
    ) -> std::task::Poll<std::io::Result<usize>> {
        if self.dead(cx) {
            return std::task::Poll::Ready(Err(aborted()));
        }
        std::pin::Pin::new(&mut self.inner).poll_write(cx, buf)
    }

    fn poll_flush(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::pin::Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::pin::Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

/// Ends the sessions of everyone revoked, by this process or another,
/// within a fraction of a second.
async fn watch_revocations(shared: Arc<Shared>, stop: CancellationToken) {
    let mut seen: Option<(std::time::SystemTime, u64)> = None;
    loop {
        tokio::select! {
            _ = stop.cancelled() => return,
            _ = tokio::time::sleep(REVOKE_POLL) => {}
        }
        let path = shared.files.revoked();
        let stamp = std::fs::metadata(&path).ok().and_then(|m| m.modified().ok().map(|t| (t, m.len())));
        if stamp.is_none() || stamp == seen {
            continue;
        }
        seen = stamp;
        let files = shared.files.clone();
        let revoked = tokio::task::spawn_blocking(move || files.load_revoked()).await;
        if let Ok(Ok(r)) = revoked {
            for rev in &r.revoked {
                let n = shared.hub.end_named(&rev.name, "your access was revoked by the host");
                if n > 0 {
                    shared.hub.tell_host(&format!("{}'s access was revoked: {n} session(s) closed", rev.name));
                }
            }
        }
    }
}
