//! One SSH connection: public-key authentication against invites and the
//! access list, one session channel with a pty, and in it a checklist
//! session of its own (size, cursor, mode, language) on the shared state.
//! Nothing else: exec, subsystems (sftp, scp), forwarding of any kind,
//! agent and X11 are refused.

use super::Shared;
use super::access::{self, Grant, Role};
use super::hub::{Ending, Who};
use super::log::Entry;
use super::term::{self, Outbox, SessionBackend, SessionWriter};
use super::vt;
use crate::app::App;
use crate::runtime::{self, Context, PeerLink};
use bytes::Bytes;
use crossterm::event::Event;
use futures::channel::mpsc as fmpsc;
use ratatui::layout::Size;
use russh::server::{Auth, ChannelOpenHandle, Msg, Session};
use russh::{Channel, ChannelId, ChannelWriteHalf, Pty};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;
use tokio::sync::mpsc;

/// Keys and pastes waiting for a session; beyond this, input is dropped.
const INPUT_QUEUE: usize = 256;

/// The handler of one connection.
pub struct Conn {
    shared: Arc<Shared>,
    addr: Option<SocketAddr>,
    grant: Option<(Grant, String)>,
    /// Set once a key is accepted (the auth deadline looks at it).
    pub authed: Arc<AtomicBool>,
    channel: Option<(ChannelId, ChannelWriteHalf<Msg>)>,
    pty: Option<(String, Size)>,
    env: Vec<(String, String)>,
    size: Arc<Mutex<Size>>,
    parser: vt::Parser,
    input: Option<fmpsc::Sender<std::io::Result<Event>>>,
    last_input: Arc<Mutex<Instant>>,
    started: bool,
}

impl Conn {
    pub fn new(shared: Arc<Shared>, addr: Option<SocketAddr>) -> Self {
        Conn {
            shared,
            addr,
            grant: None,
            authed: Arc::new(AtomicBool::new(false)),
            channel: None,
            pty: None,
            env: Vec::new(),
            size: Arc::new(Mutex::new(Size::new(80, 24))),
            parser: vt::Parser::new(),
            input: None,
            last_input: Arc::new(Mutex::new(Instant::now())),
            started: false,
        }
    }

    fn address(&self) -> String {
        self.addr.map(|a| a.to_string()).unwrap_or_else(|| "unknown".into())
    }

    /// Writes a last line to a channel that gets no session, and closes it.
    fn refuse_channel(&mut self, id: ChannelId, line: &str, session: &mut Session) {
        let _ = session.data(id, Bytes::from(format!("cutover serve: {line}\r\n")));
        let _ = session.exit_status_request(id, 1);
        let _ = session.eof(id);
        let _ = session.close(id);
    }
}

impl russh::server::Handler for Conn {
    type Error = russh::Error;

    async fn auth_none(&mut self, _user: &str) -> Result<Auth, Self::Error> {
        Ok(Auth::Reject { proceed_with_methods: Some(publickey_only()), partial_success: false })
    }

    async fn auth_password(&mut self, user: &str, _password: &str) -> Result<Auth, Self::Error> {
        self.shared.record(&Entry::refused(user, None, &self.address(), "password authentication is not offered"));
        Ok(Auth::Reject { proceed_with_methods: Some(publickey_only()), partial_success: false })
    }

    async fn auth_keyboard_interactive<'a>(
        &'a mut self,
        _user: &str,
        _submethods: &str,
        _response: Option<russh::server::Response<'a>>,
    ) -> Result<Auth, Self::Error> {
        Ok(Auth::Reject { proceed_with_methods: Some(publickey_only()), partial_success: false })
    }

    async fn auth_publickey(
        &mut self,
        user: &str,
        key: russh::server::VerifiedPublicKey<'_>,
    ) -> Result<Auth, Self::Error> {
        let key = key.public_key.clone();
        let fp = super::hostkey::fingerprint(&key);
        let shared = self.shared.clone();
        let who = user.to_string();
        let now = shared.clock.now();
        let decided = tokio::task::spawn_blocking(move || {
            let people = shared.access_list();
            access::authorize(&shared.files, &people, &who, &key, now)
        })
        .await
        .unwrap_or(Err(access::Refusal::Unknown));
        match decided {
            Ok(grant) => {
                self.authed.store(true, Ordering::SeqCst);
                self.shared.authenticated();
                self.shared.record(&Entry::joined(&grant, &fp, &self.address()));
                let what = if grant.first_join { "joined" } else { "is back" };
                self.shared.hub.tell_host(&format!(
                    "{} {what} as {} from {}, key {fp}",
                    grant.name,
                    grant.role.as_str(),
                    self.address()
                ));
                self.grant = Some((grant, fp));
                Ok(Auth::Accept)
            }
            Err(why) => {
                // The log names the invite's id, never the token.
                let shown = shown_user(user);
                self.shared.record(&Entry::refused(&shown, Some(&fp), &self.address(), &why.describe()));
                Ok(Auth::Reject { proceed_with_methods: Some(publickey_only()), partial_success: false })
            }
        }
    }

    async fn channel_open_session(
        &mut self,
        channel: Channel<Msg>,
        reply: ChannelOpenHandle,
        _session: &mut Session,
    ) -> Result<(), Self::Error> {
        if self.grant.is_none() || self.channel.is_some() {
            reply.reject(russh::ChannelOpenFailure::AdministrativelyProhibited).await;
            return Ok(());
        }
        let id = channel.id();
        // Input comes through the handler's callbacks; the read half is not
        // needed (and, unread, would hold up the connection).
        let (read, write) = channel.split();
        drop(read);
        self.channel = Some((id, write));
        reply.accept().await;
        Ok(())
    }

    async fn channel_open_direct_tcpip(
        &mut self,
        _channel: Channel<Msg>,
        host: &str,
        port: u32,
        _oa: &str,
        _op: u32,
        reply: ChannelOpenHandle,
        _session: &mut Session,
    ) -> Result<(), Self::Error> {
        self.refused_request(&format!("port forwarding to {}:{port}", crate::sanitize::line(host)));
        reply.reject(russh::ChannelOpenFailure::AdministrativelyProhibited).await;
        Ok(())
    }

    async fn channel_open_x11(
        &mut self,
        _channel: Channel<Msg>,
        _a: &str,
        _p: u32,
        reply: ChannelOpenHandle,
        _session: &mut Session,
    ) -> Result<(), Self::Error> {
        reply.reject(russh::ChannelOpenFailure::AdministrativelyProhibited).await;
        Ok(())
    }

    async fn channel_open_direct_streamlocal(
        &mut self,
        _channel: Channel<Msg>,
        _path: &str,
        reply: ChannelOpenHandle,
        _session: &mut Session,
    ) -> Result<(), Self::Error> {
        self.refused_request("socket forwarding");
        reply.reject(russh::ChannelOpenFailure::AdministrativelyProhibited).await;
        Ok(())
    }

    async fn tcpip_forward(&mut self, _a: &str, _p: &mut u32, _s: &mut Session) -> Result<bool, Self::Error> {
        self.refused_request("remote port forwarding");
        Ok(false)
    }

    async fn streamlocal_forward(&mut self, _p: &str, _s: &mut Session) -> Result<bool, Self::Error> {
        self.refused_request("remote socket forwarding");
        Ok(false)
    }

    async fn agent_request(&mut self, _c: ChannelId, _s: &mut Session) -> Result<bool, Self::Error> {
        Ok(false)
    }

    async fn x11_request(
        &mut self,
        channel: ChannelId,
        _single: bool,
        _proto: &str,
        _cookie: &str,
        _screen: u32,
        session: &mut Session,
    ) -> Result<(), Self::Error> {
        let _ = session.channel_failure(channel);
        Ok(())
    }

    #[allow(clippy::too_many_arguments)]
    async fn pty_request(
        &mut self,
        channel: ChannelId,
        term_name: &str,
        cols: u32,
        rows: u32,
        _pw: u32,
        _ph: u32,
        _modes: &[(Pty, u32)],
        session: &mut Session,
    ) -> Result<(), Self::Error> {
        let size = term::clamp_size(cols, rows);
        if let Ok(mut s) = self.size.lock() {
            *s = size;
        }
        let name: String = crate::sanitize::line(term_name).chars().take(40).collect();
        self.pty = Some((name, size));
        let _ = session.channel_success(channel);
        Ok(())
    }

    async fn env_request(
        &mut self,
        channel: ChannelId,
        name: &str,
        value: &str,
        session: &mut Session,
    ) -> Result<(), Self::Error> {
        // Only the language is taken from a client: never CUTOVER_*, keys or
        // proxies, which would point the host's checks elsewhere.
        let wanted = name == "LANG" || name.starts_with("LC_");
        if wanted && self.env.len() < 16 && value.len() < 64 {
            self.env.push((name.to_string(), crate::sanitize::line(value)));
            let _ = session.channel_success(channel);
        } else {
            let _ = session.channel_failure(channel);
        }
        Ok(())
    }

    async fn exec_request(
        &mut self,
        channel: ChannelId,
        data: &[u8],
        session: &mut Session,
    ) -> Result<(), Self::Error> {
        let cmd: String = crate::sanitize::line(&String::from_utf8_lossy(data)).chars().take(60).collect();
        self.refused_request(&format!("running a command ({cmd})"));
        // Accepted only to say why nothing runs: the client shows the line,
        // then the exit status 1.
        let _ = session.channel_success(channel);
        let hint = self.shared.connect_hint();
        self.refuse_channel(channel, &format!("no commands here, only the checklist: {hint}"), session);
        Ok(())
    }

    async fn subsystem_request(
        &mut self,
        channel: ChannelId,
        name: &str,
        session: &mut Session,
    ) -> Result<(), Self::Error> {
        self.refused_request(&format!("the {} subsystem", crate::sanitize::line(name)));
        let _ = session.channel_failure(channel);
        self.refuse_channel(channel, "no file transfer or subsystems here, only the checklist", session);
        Ok(())
    }

    async fn shell_request(&mut self, channel: ChannelId, session: &mut Session) -> Result<(), Self::Error> {
        let Some((grant, fp)) = self.grant.clone() else {
            let _ = session.channel_failure(channel);
            return Ok(());
        };
        let Some((term_name, _)) = self.pty.clone() else {
            let _ = session.channel_success(channel);
            let hint = self.shared.connect_hint();
            self.refuse_channel(channel, &format!("the checklist needs a terminal: connect with {hint}"), session);
            return Ok(());
        };
        if self.started {
            let _ = session.channel_failure(channel);
            return Ok(());
        }
        if self.shared.hub.remote_count() >= self.shared.config.max_sessions {
            let _ = session.channel_success(channel);
            let max = self.shared.config.max_sessions;
            self.refuse_channel(
                channel,
                &format!("{max} sessions are open, the most this host allows; try again later"),
                session,
            );
            return Ok(());
        }
        let Some((id, write)) = self.channel.take() else {
            let _ = session.channel_failure(channel);
            return Ok(());
        };
        let _ = session.channel_success(channel);
        self.started = true;
        let (tx, rx) = fmpsc::channel(INPUT_QUEUE);
        self.input = Some(tx.clone());
        let start = SessionStart {
            grant,
            fingerprint: fp,
            address: self.address(),
            term: term_name,
            env: std::mem::take(&mut self.env),
            size: self.size.clone(),
            last_input: self.last_input.clone(),
        };
        let shared = self.shared.clone();
        let handle = session.handle();
        tokio::spawn(async move {
            let how = run_session(shared.clone(), start.clone(), write, rx, tx).await;
            shared.record(&Entry::left(&start.grant, &start.fingerprint, &start.address, &how));
            let _ = handle.exit_status_request(id, 0).await;
            let _ = handle.eof(id).await;
            let _ = handle.close(id).await;
        });
        Ok(())
    }

    async fn data(&mut self, _channel: ChannelId, data: &[u8], _session: &mut Session) -> Result<(), Self::Error> {
        let Some(tx) = self.input.as_mut() else { return Ok(()) };
        if let Ok(mut t) = self.last_input.lock() {
            *t = Instant::now();
        }
        for ev in self.parser.feed(data) {
            // A full queue drops input rather than holding the connection.
            let _ = tx.try_send(Ok(ev));
        }
        Ok(())
    }

    #[allow(clippy::too_many_arguments)]
    async fn window_change_request(
        &mut self,
        _channel: ChannelId,
        cols: u32,
        rows: u32,
        _pw: u32,
        _ph: u32,
        _session: &mut Session,
    ) -> Result<(), Self::Error> {
        let size = term::clamp_size(cols, rows);
        if let Ok(mut s) = self.size.lock() {
            *s = size;
        }
        if let Some(tx) = self.input.as_mut() {
            let _ = tx.try_send(Ok(Event::Resize(size.width, size.height)));
        }
        Ok(())
    }
}

impl Conn {
    fn refused_request(&self, what: &str) {
        let name = self.grant.as_ref().map(|(g, _)| g.name.clone()).unwrap_or_else(|| "(not signed in)".into());
        let fp = self.grant.as_ref().map(|(_, f)| f.as_str());
        self.shared.record(&Entry::refused(&name, fp, &self.address(), &format!("refused {what}")));
    }
}

fn publickey_only() -> russh::MethodSet {
    russh::MethodSet::from(&[russh::MethodKind::PublicKey][..])
}

/// A user name as logs may show it: an invite's token never appears.
pub fn shown_user(user: &str) -> String {
    match user.strip_prefix(access::USER_PREFIX) {
        Some(token) => format!("{}{}", access::USER_PREFIX, &access::token_hash(token)[..8]),
        None => crate::sanitize::line(user).chars().take(40).collect(),
    }
}

#[derive(Clone)]
struct SessionStart {
    grant: Grant,
    fingerprint: String,
    address: String,
    term: String,
    env: Vec<(String, String)>,
    size: Arc<Mutex<Size>>,
    last_input: Arc<Mutex<Instant>>,
}

/// Runs one remote checklist session until it quits or is ended; says how
/// it ended.
async fn run_session(
    shared: Arc<Shared>,
    start: SessionStart,
    write: ChannelWriteHalf<Msg>,
    events: fmpsc::Receiver<std::io::Result<Event>>,
    repaint: fmpsc::Sender<std::io::Result<Event>>,
) -> String {
    let who = match start.grant.role {
        Role::Editor => Who::Editor,
        Role::Observer => Who::Observer,
    };
    let Some(mut app) = shared.session_app(&start.grant, &start.env) else {
        return "the server could not start a session".into();
    };
    let (member, inbox, ending) = shared.hub.join(&start.grant.name, who);

    let outbox = Arc::new(Outbox::default());
    let (out_tx, mut out_rx) = mpsc::unbounded_channel::<Bytes>();
    let sender = {
        let outbox = outbox.clone();
        let mut repaint = repaint;
        tokio::spawn(async move {
            while let Some(frame) = out_rx.recv().await {
                let n = frame.len();
                if write.data_bytes(frame).await.is_err() {
                    break;
                }
                if outbox.sent(n) {
                    let _ = repaint.try_send(Ok(Event::FocusGained));
                }
            }
        })
    };
    let mut backend = SessionBackend::new(SessionWriter::new(outbox, out_tx.clone()), start.size.clone());
    let _ = backend.write_raw(term::ENTER);
    let idle = idle_watch(&shared, &start, &ending);
    let how = match ratatui::Terminal::new(backend) {
        Ok(mut terminal) => {
            let vars = {
                let term_name = start.term.clone();
                let env = start.env.clone();
                move |k: &str| {
                    if k == "TERM" {
                        return Some(term_name.clone());
                    }
                    env.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone())
                }
            };
            let theme = crate::ui::Theme { color: true, ascii: crate::ui::theme::unicode_untrusted(&vars) };
            let hub = shared.hub.clone();
            let id = member.id;
            let host_hub = shared.hub.clone();
            let clip = out_tx.clone();
            let token = ending.token.clone();
            let ctx = Context {
                store: crate::progress::store::Store::new(shared.store_path.clone()),
                checks: shared.checks_for(who),
                clock: shared.clock.clone(),
                theme,
                shutdown: Some(Box::pin(async move { token.cancelled().await })),
                watch: true,
                loaded_from: None,
                report_fallback_dir: None,
                presence: None,
                clipboard: Some(Box::new(move |seq: &str| {
                    let _ = clip.send(Bytes::from(seq.to_string()));
                })),
                frame_filter: Some(term::hide_key_tails),
                // What the client's terminal shows is not known here.
                hyperlinks: false,
                peers: Some(PeerLink {
                    inbox: Some(inbox),
                    publish: Box::new(move |view| hub.publish(id, view)),
                    ask_host: Box::new(move |text| host_hub.tell_host(&text)),
                }),
            };
            let r = runtime::run(&mut terminal, &mut app, events, ctx).await;
            let why = ending.why();
            let line = why.clone().unwrap_or_else(|| "session closed".into());
            let _ = terminal.backend_mut().write_raw(term::LEAVE);
            let _ = out_tx.send(Bytes::from(format!("cutover serve: {line}\r\n")));
            match (r, why) {
                (Err(e), _) => format!("terminal error: {e}"),
                (Ok(()), Some(w)) => w,
                (Ok(()), None) => "quit".into(),
            }
        }
        Err(e) => format!("terminal error: {e}"),
    };
    idle.abort();
    drop(out_tx);
    drop(member);
    // What is queued goes out, unless the client has stalled: then the
    // connection is closed without waiting for it.
    let _ = tokio::time::timeout(std::time::Duration::from_millis(800), sender).await;
    how
}

/// Ends a session that has had no input for the configured idle time.
fn idle_watch(shared: &Arc<Shared>, start: &SessionStart, ending: &Ending) -> tokio::task::JoinHandle<()> {
    let limit = std::time::Duration::from_secs(shared.config.idle_minutes.saturating_mul(60).max(1));
    let last = start.last_input.clone();
    let ending = ending.clone();
    let minutes = shared.config.idle_minutes;
    tokio::spawn(async move {
        loop {
            let since = last.lock().map(|t| t.elapsed()).unwrap_or_default();
            if since >= limit {
                ending.end(&format!("no input for {minutes} minutes: the session was closed"));
                return;
            }
            tokio::time::sleep((limit - since).min(std::time::Duration::from_secs(5))).await;
        }
    })
}

/// The App for a new session: the host's checklist as it was built, with
/// this person's name, role and language.
pub fn app_for(template: &App, grant: &Grant, env: &[(String, String)], rights: crate::app::Rights) -> App {
    let mut app = template.clone();
    app.settings.user = grant.name.clone();
    app.settings.observe = grant.role == Role::Observer;
    app.settings.rights = rights;
    app.message = None;
    let what = match grant.role {
        Role::Editor => "you can mark steps, write notes and run sandbox checks",
        Role::Observer => "you can look, not change",
    };
    app.say(crate::app::Tone::Info, format!("joined as {}: {what} · f follows someone · ? keys", grant.role.as_str()));
    let var = |k: &str| env.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
    let langs = crate::paths::locale_languages(&var);
    if !langs.is_empty() {
        app.settings.lang_pref = langs;
        let wanted: Vec<&str> = app.settings.lang_pref.iter().map(String::as_str).collect();
        for e in &app.guides {
            app.lang.insert(e.guide.id().to_string(), e.guide.pick_language(&wanted));
        }
    }
    app
}
