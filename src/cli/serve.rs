//! `cutover serve [GUIDE]`: the checklist over SSH. With a terminal, the
//! host's own checklist runs in the same process; `--headless` (or no
//! terminal) runs the server alone and prints one line when it listens.

use super::exit::{CliError, CliResult, Exit};
use super::{Env, Global, root, tui};
use crate::serve::{self, hub::Who};
use clap::Args;
use std::io::{IsTerminal, Write};
use std::net::SocketAddr;

#[derive(Debug, Args)]
pub struct Serve {
    /// The guide the host's session opens (default: the guide picker).
    #[arg(value_name = "GUIDE")]
    pub guide: Option<String>,
    /// Address and port to listen on; port 0 picks a free one. Beyond loopback only when named, with a warning.
    #[arg(long, value_name = "ADDR:PORT", default_value = serve::DEFAULT_LISTEN)]
    pub listen: String,
    /// The server alone, without the host's checklist (also when there is no terminal); nobody can then run a check that creates data.
    #[arg(long)]
    pub headless: bool,
    /// The host's checklist's options.
    #[command(flatten)]
    pub tui: super::tui::TuiOptions,
}

impl Serve {
    pub async fn run(&self, env: &Env, g: &Global) -> CliResult {
        let mut err = std::io::stderr();
        crate::logging::init(&env.paths.log_dir(), env.var("CUTOVER_LOG"));
        let listen: SocketAddr = match self.listen.parse() {
            Ok(a) => a,
            Err(_) => {
                let _ =
                    writeln!(err, "cutover serve: --listen {:?} is not ADDR:PORT (e.g. 127.0.0.1:2222)", self.listen);
                return Err(CliError::said(Exit::Usage));
            }
        };
        let config = root::load_config(env, g.config.as_deref()).map_err(CliError::usage)?;
        let built = root::checklist(env, g, false, &mut err)?;
        let root::Checklist { mut app, store, checks, loaded_from, demo: _demo } = built;
        if let Some(guide) = &self.guide {
            tui::open(&mut app, guide)?;
        }
        if !listen.ip().is_loopback() {
            let _ = writeln!(
                err,
                "cutover serve: warning: listening on {listen}, beyond this machine. Only invites and the access list let anyone in, but never listen on a public address without an access list (config dir: access.toml); reach a host behind NAT with ssh -R to a jump host or a VPN instead."
            );
        }
        let headless = self.headless || !std::io::stdin().is_terminal() || !std::io::stdout().is_terminal();
        let opts = serve::Options {
            listen,
            headless,
            state_path: store.path().to_path_buf(),
            serve_root: env.paths.data_dir.join("serve"),
            access_path: env.paths.config_dir.join("access.toml"),
            config: config.serve.clone(),
            clock: env.clock.clone(),
        };
        let server = match serve::start(opts, app.clone(), checks.clone()).await {
            Ok(s) => s,
            Err(e) => {
                let _ = writeln!(err, "cutover serve: {e}");
                return Err(CliError::said(match e {
                    serve::ServeError::Config(_) | serve::ServeError::Access(_) => Exit::Usage,
                    _ => Exit::Fail,
                }));
            }
        };
        let (addr, fp) = (server.addr, server.fingerprint.clone());
        if headless {
            let mut out = std::io::stdout();
            let _ = writeln!(out, "listening on {addr}, host key {fp}");
            let _ = out.flush();
            tui::shutdown_signal().await;
            server.stop().await;
            return Ok(());
        }
        let (member, inbox, ending) = server.shared.hub.join(&app.settings.user, Who::Host);
        app.serving = Some(format!("serving on {addr} · host key {fp}"));
        app.say(
            crate::app::Tone::Info,
            format!("serving on {addr} · host key {fp} · invite with: cutover invite --name NAME --role editor"),
        );
        let hub = server.shared.hub.clone();
        let id = member.id;
        let peers = crate::runtime::PeerLink {
            inbox: Some(inbox),
            publish: Box::new(move |view| hub.publish(id, view)),
            // The host's own requests need nobody's permission.
            ask_host: Box::new(|_| {}),
        };
        let token = ending.token.clone();
        let shutdown: futures::future::BoxFuture<'static, ()> = Box::pin(async move {
            tokio::select! {
                _ = tui::shutdown_signal() => {}
                _ = token.cancelled() => {}
            }
        });
        let session = tui::Session { app, store, checks, loaded_from, peers: Some(peers), shutdown };
        let result = tui::run_terminal(env, g, session).await;
        drop(member);
        server.stop().await;
        result
    }
}
