//! `cutover access list|revoke`: who may join `cutover serve` for this
//! state (the access list in the config dir, invites, revocations), and
//! taking someone's access away. A running server ends a revoked person's
//! sessions within a second.

use super::exit::{CliError, CliResult, Exit};
use super::{Env, Global};
use crate::serve::{self, access};
use clap::{Args, Subcommand};
use serde::Serialize;
use std::io::Write;

#[derive(Debug, Args)]
pub struct Access {
    #[command(subcommand)]
    pub command: AccessCommand,
}

#[derive(Debug, Subcommand)]
pub enum AccessCommand {
    /// Everyone who may join: the access list, invites (open, bound, expired) and revocations.
    List {
        /// One JSON object: people, invites, revoked.
        #[arg(long)]
        json: bool,
    },
    /// End NAME's open sessions within a second and refuse them from then on (invites and access list alike).
    Revoke {
        /// The name from the invite or the access list.
        #[arg(value_name = "NAME")]
        name: String,
    },
}

#[derive(Debug, Serialize)]
struct PersonJson {
    name: String,
    role: &'static str,
    keys: Vec<String>,
    revoked: bool,
}

#[derive(Debug, Serialize)]
struct InviteJson {
    id: String,
    name: String,
    role: &'static str,
    expires: jiff::Timestamp,
    state: &'static str,
    key: Option<String>,
    revoked: bool,
}

#[derive(Debug, Serialize)]
struct ListJson {
    people: Vec<PersonJson>,
    invites: Vec<InviteJson>,
    revoked: Vec<access::Revocation>,
}

impl Access {
    pub fn run(&self, env: &Env, g: &Global, out: &mut dyn Write, err: &mut dyn Write) -> CliResult {
        let dir = serve::state_dir(&env.paths.data_dir.join("serve"), &env.state_path(g));
        let files = access::Files { dir: dir.clone() };
        let access_path = env.paths.config_dir.join("access.toml");
        let loaded = (|| -> Result<_, access::AccessError> {
            Ok((access::load_access_list(&access_path)?, files.load_invites()?, files.load_revoked()?))
        })();
        let (people, invites, revoked) = match loaded {
            Ok(x) => x,
            Err(e) => {
                let _ = writeln!(err, "cutover access: {e}");
                return Err(CliError::said(Exit::Usage));
            }
        };
        match &self.command {
            AccessCommand::List { json } => {
                let now = env.clock.now();
                let list = ListJson {
                    people: people
                        .iter()
                        .map(|p| PersonJson {
                            name: p.name.clone(),
                            role: p.role.as_str(),
                            keys: p.keys.iter().map(serve::hostkey::fingerprint).collect(),
                            revoked: revoked.contains(&p.name),
                        })
                        .collect(),
                    invites: invites
                        .invites
                        .iter()
                        .map(|i| InviteJson {
                            id: i.id.clone(),
                            name: i.name.clone(),
                            role: i.role.as_str(),
                            expires: i.expires,
                            state: if i.expires <= now {
                                "expired"
                            } else if i.bound_at.is_some() {
                                "joined"
                            } else {
                                "open"
                            },
                            key: i
                                .key
                                .as_deref()
                                .and_then(|k| access::parse_key(k).ok())
                                .map(|k| serve::hostkey::fingerprint(&k)),
                            revoked: revoked.contains(&i.name),
                        })
                        .collect(),
                    revoked: revoked.revoked.clone(),
                };
                if *json {
                    return match serde_json::to_string(&list) {
                        Ok(s) => {
                            let _ = writeln!(out, "{s}");
                            Ok(())
                        }
                        Err(e) => {
                            let _ = writeln!(err, "cutover access: {e}");
                            Err(CliError::said(Exit::Fail))
                        }
                    };
                }
                print_list(&list, out);
                Ok(())
            }
            AccessCommand::Revoke { name } => {
                let known = people.iter().any(|p| &p.name == name) || invites.invites.iter().any(|i| &i.name == name);
                if !known {
                    let _ = writeln!(
                        err,
                        "cutover access: nobody named {:?} has an invite or an access list entry (cutover access list shows who has)",
                        crate::sanitize::line(name)
                    );
                    return Err(CliError::said(Exit::Usage));
                }
                let by = env.user(g);
                match files.revoke(name, &by, env.clock.now()) {
                    Ok(new) => {
                        serve::log::ConnLog::new(&dir, env.clock.clone()).write(&serve::log::Entry::event(
                            "revoked",
                            Some(name),
                            &format!("by {by}"),
                        ));
                        let running = if serve::running_server(&dir).is_some() {
                            " Their open sessions end within a second."
                        } else {
                            ""
                        };
                        let already = if new { "" } else { " (already revoked)" };
                        let _ = writeln!(out, "revoked {name}{already}: refused from now on.{running}");
                        Ok(())
                    }
                    Err(e) => {
                        let _ = writeln!(err, "cutover access: {e}");
                        Err(CliError::said(Exit::Fail))
                    }
                }
            }
        }
    }
}

fn print_list(list: &ListJson, out: &mut dyn Write) {
    let mark = |r: bool| if r { " (revoked)" } else { "" };
    let _ = writeln!(out, "Access list (access.toml in the config dir):");
    if list.people.is_empty() {
        let _ = writeln!(out, "  nobody");
    }
    for p in &list.people {
        let _ = writeln!(out, "  {:<20} {:<8} {}{}", p.name, p.role, p.keys.join(", "), mark(p.revoked));
    }
    let _ = writeln!(out, "Invites:");
    if list.invites.is_empty() {
        let _ = writeln!(out, "  none");
    }
    for i in &list.invites {
        let key = i.key.as_deref().unwrap_or("no key yet");
        let _ = writeln!(
            out,
            "  {:<20} {:<8} {:<8} until {}  {}  {}{}",
            i.name,
            i.role,
            i.state,
            i.expires,
            i.id,
            key,
            mark(i.revoked)
        );
    }
}
