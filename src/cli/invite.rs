//! `cutover invite`: one line to send to the person who joins a running
//! `cutover serve` (for the same `--state`), with the host key's
//! fingerprint to check it against. The token in the user name is stored
//! only as its hash.

use super::exit::{CliError, CliResult, Exit};
use super::{Env, Global};
use crate::serve::{self, access};
use clap::Args;
use serde::Serialize;
use std::io::Write;

#[derive(Debug, Args)]
pub struct Invite {
    /// What the person may do: editor (steps, notes, sandbox checks that create no data) or observer (look only).
    #[arg(long, value_name = "ROLE", value_parser = ["editor", "observer"])]
    pub role: String,
    /// Who it is for: shown in presence, in the history and in the server log.
    #[arg(long, value_name = "NAME")]
    pub name: String,
    /// How long the invite can be used (30m, 2h, 1d).
    #[arg(long, value_name = "DURATION", default_value = "2h")]
    pub expires: String,
    /// Bind the invite to this public key up front (an OpenSSH public key, or a .pub file), so a leaked line is worthless.
    #[arg(long, value_name = "PUBKEY")]
    pub key: Option<String>,
    /// The host name or address to print, when the server listens on all interfaces.
    #[arg(long, value_name = "HOST")]
    pub host: Option<String>,
    /// One JSON object: ssh, user, host, port, fingerprint, role, name, expires.
    #[arg(long)]
    pub json: bool,
}

/// What `--json` prints (docs/json.md).
#[derive(Debug, Serialize)]
struct InviteJson<'a> {
    ssh: String,
    user: &'a str,
    host: &'a str,
    port: u16,
    fingerprint: &'a str,
    role: &'a str,
    name: &'a str,
    expires: jiff::Timestamp,
}

impl Invite {
    pub fn run(&self, env: &Env, g: &Global, out: &mut dyn Write, err: &mut dyn Write) -> CliResult {
        let fail = |err: &mut dyn Write, msg: String| {
            let _ = writeln!(err, "cutover invite: {msg}");
            CliError::said(Exit::Usage)
        };
        let name = match access::check_name(&self.name) {
            Ok(n) => n,
            Err(e) => return Err(fail(err, format!("--name: {e}"))),
        };
        let Some(role) = access::Role::parse(&self.role) else {
            return Err(fail(err, format!("--role {:?} is not editor or observer", self.role)));
        };
        let expires_in = match access::parse_duration(&self.expires) {
            Ok(d) => d,
            Err(e) => return Err(fail(err, format!("--expires: {e}"))),
        };
        let key = match self.key.as_deref().map(read_key).transpose() {
            Ok(k) => k,
            Err(e) => return Err(fail(err, format!("--key: {e}"))),
        };
        let state = env.state_path(g);
        let dir = serve::state_dir(&env.paths.data_dir.join("serve"), &state);
        let Some(server) = serve::running_server(&dir) else {
            return Err(fail(
                err,
                format!("no cutover serve is running for {}: start `cutover serve` first", state.display()),
            ));
        };
        let host = match (&self.host, server.address) {
            (Some(h), _) => crate::sanitize::line(h),
            (None, a) if a.is_unspecified() => crate::paths::host_name(),
            (None, a) => a.to_string(),
        };
        let files = access::Files { dir: dir.clone() };
        let by = env.user(g);
        let now = env.clock.now();
        let (user, invite) = match access::create_invite(&files, &name, role, expires_in, key.as_ref(), &by, now) {
            Ok(x) => x,
            Err(e) => {
                let _ = writeln!(err, "cutover invite: {e}");
                return Err(CliError::said(Exit::Fail));
            }
        };
        let log = serve::log::ConnLog::new(&dir, env.clock.clone());
        log.write(&serve::log::Entry::event(
            "invited",
            Some(&name),
            &format!("{} as {}, until {}", invite.id, role.as_str(), invite.expires),
        ));
        let ssh = format!("ssh -p {} {user}@{host}", server.port);
        if self.json {
            let j = InviteJson {
                ssh: ssh.clone(),
                user: &user,
                host: &host,
                port: server.port,
                fingerprint: &server.fingerprint,
                role: role.as_str(),
                name: &name,
                expires: invite.expires,
            };
            return match serde_json::to_string(&j) {
                Ok(s) => {
                    let _ = writeln!(out, "{s}");
                    Ok(())
                }
                Err(e) => Err(fail(err, e.to_string())),
            };
        }
        let bound =
            if key.is_some() { ", only for the key you named" } else { "; the first key that joins is bound to it" };
        let until = invite.expires.strftime("%Y-%m-%d %H:%M UTC");
        let _ = writeln!(out, "Send this line to {name} ({}, until {until}{bound}):", role.as_str());
        let _ = writeln!(out);
        let _ = writeln!(out, "  {ssh}");
        let _ = writeln!(out);
        let _ = writeln!(
            out,
            "Host key {}: ssh shows it on the first connection; it must be exactly this.",
            server.fingerprint
        );
        Ok(())
    }
}

/// An OpenSSH public key, given as the key itself or as a file holding it.
fn read_key(arg: &str) -> Result<russh::keys::PublicKey, access::KeyError> {
    if arg.trim_start().starts_with("ssh-") || arg.trim_start().starts_with("ecdsa-") {
        return access::parse_key(arg);
    }
    let bytes =
        crate::paths::read_regular_file(std::path::Path::new(arg), 64 * 1024).map_err(access::KeyError::File)?;
    access::parse_key(&String::from_utf8_lossy(&bytes))
}
