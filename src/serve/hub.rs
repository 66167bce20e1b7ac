//! Every session of one server: who is here, where each one is, and the
//! messages between them (presence, following, a running check, a request
//! for the host). Each session has its own inbox; nothing here waits on a
//! session, so a stalled one delays nobody.

use crate::app::peers::View;
use crate::app::{Action, Peer};
use std::collections::BTreeMap;
use std::sync::Mutex;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

/// Who a session is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Who {
    Host,
    Editor,
    Observer,
}

impl Who {
    pub fn as_str(self) -> &'static str {
        match self {
            Who::Host => "host",
            Who::Editor => "editor",
            Who::Observer => "observer",
        }
    }
}

struct Member {
    name: String,
    who: Who,
    inbox: mpsc::UnboundedSender<Action>,
    view: View,
    /// Cancelled to end the session; the reason is said on its screen.
    end: CancellationToken,
    why: std::sync::Arc<Mutex<Option<String>>>,
}

/// A session's membership; leaving the hub when dropped.
pub struct Membership {
    pub id: u64,
    hub: std::sync::Arc<Hub>,
}

impl Drop for Membership {
    fn drop(&mut self) {
        self.hub.leave(self.id);
    }
}

/// How a session learns that it must end, and why.
#[derive(Clone)]
pub struct Ending {
    pub token: CancellationToken,
    why: std::sync::Arc<Mutex<Option<String>>>,
}

impl Ending {
    pub fn why(&self) -> Option<String> {
        self.why.lock().ok().and_then(|w| w.clone())
    }

    pub fn end(&self, why: &str) {
        if let Ok(mut w) = self.why.lock()
            && w.is_none()
        {
            *w = Some(why.to_string());
        }
        self.token.cancel();
    }
}

#[derive(Default)]
pub struct Hub {
    members: Mutex<BTreeMap<u64, Member>>,
    next: std::sync::atomic::AtomicU64,
}

impl Hub {
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a session; its inbox and how it is ended come back.
    pub fn join(
        self: &std::sync::Arc<Self>,
        name: &str,
        who: Who,
    ) -> (Membership, mpsc::UnboundedReceiver<Action>, Ending) {
        let id = self.next.fetch_add(1, std::sync::atomic::Ordering::SeqCst) + 1;
        let (tx, rx) = mpsc::unbounded_channel();
        let ending = Ending { token: CancellationToken::new(), why: Default::default() };
        let member = Member {
            name: crate::sanitize::line(name),
            who,
            inbox: tx,
            view: View::default(),
            end: ending.token.clone(),
            why: ending.why.clone(),
        };
        if let Ok(mut m) = self.members.lock() {
            m.insert(id, member);
            broadcast(&m);
        }
        (Membership { id, hub: self.clone() }, rx, ending)
    }

    fn leave(&self, id: u64) {
        if let Ok(mut m) = self.members.lock() {
            m.remove(&id);
            broadcast(&m);
        }
    }

    /// A session's view changed: the others hear of it.
    pub fn publish(&self, id: u64, view: View) {
        if let Ok(mut m) = self.members.lock() {
            if let Some(me) = m.get_mut(&id) {
                if me.view == view {
                    return;
                }
                me.view = view;
            }
            // The one that moved has the same others as before.
            broadcast_except(&m, Some(id));
        }
    }

    /// Tells the host's session (and, headless, nobody: it is logged).
    pub fn tell_host(&self, text: &str) {
        tracing::info!(message = %crate::sanitize::line(text), "for the host");
        if let Ok(m) = self.members.lock() {
            for member in m.values().filter(|x| x.who == Who::Host) {
                let _ = member.inbox.send(Action::Notice(text.to_string()));
            }
        }
    }

    /// Hands an action to the host's session.
    pub fn to_host(&self, action: Action) {
        if let Ok(m) = self.members.lock() {
            for member in m.values().filter(|x| x.who == Who::Host) {
                let _ = member.inbox.send(action.clone());
            }
        }
    }

    /// Ends every session of `name`; how many there were.
    pub fn end_named(&self, name: &str, why: &str) -> usize {
        let Ok(m) = self.members.lock() else { return 0 };
        let mut n = 0;
        for member in m.values().filter(|x| x.name == name && x.who != Who::Host) {
            end(member, why);
            n += 1;
        }
        n
    }

    /// Ends every remote session.
    pub fn end_all(&self, why: &str) {
        if let Ok(m) = self.members.lock() {
            for member in m.values().filter(|x| x.who != Who::Host) {
                end(member, why);
            }
        }
    }

    /// Remote sessions now.
    pub fn remote_count(&self) -> usize {
        self.members.lock().map(|m| m.values().filter(|x| x.who != Who::Host).count()).unwrap_or(0)
    }
}

fn end(member: &Member, why: &str) {
    if let Ok(mut w) = member.why.lock()
        && w.is_none()
    {
        *w = Some(why.to_string());
    }
    member.end.cancel();
}

/// Every session hears about every other one.
fn broadcast(members: &BTreeMap<u64, Member>) {
    broadcast_except(members, None);
}

fn broadcast_except(members: &BTreeMap<u64, Member>, skip: Option<u64>) {
    for (id, member) in members.iter().filter(|(id, _)| Some(**id) != skip) {
        let others: Vec<Peer> = members
            .iter()
            .filter(|(other, _)| *other != id)
            .map(|(other, m)| Peer {
                id: *other,
                name: m.name.clone(),
                role: m.who.as_str().into(),
                view: m.view.clone(),
            })
            .collect();
        let _ = member.inbox.send(Action::Peers(others));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn last_peers(rx: &mut mpsc::UnboundedReceiver<Action>) -> Vec<Peer> {
        let mut last = None;
        while let Ok(a) = rx.try_recv() {
            if let Action::Peers(p) = a {
                last = Some(p);
            }
        }
        last.unwrap_or_default()
    }

    #[test]
    fn sessions_see_each_other_and_their_places() {
        let hub = std::sync::Arc::new(Hub::new());
        let (host, mut host_rx, _) = hub.join("alice", Who::Host);
        let (jan, mut jan_rx, jan_end) = hub.join("jan\x1b[2J", Who::Observer);
        let peers = last_peers(&mut host_rx);
        assert_eq!(peers.len(), 1);
        assert_eq!(peers[0].summary(), "jan (observer) · guide list");
        hub.publish(jan.id, View { guide: Some("postnl".into()), step: Some(("s6".into(), 6)), running: vec![] });
        assert_eq!(last_peers(&mut host_rx)[0].summary(), "jan (observer) · step 6");
        assert_eq!(last_peers(&mut jan_rx)[0].name, "alice");
        // Moving tells the others, not the one that moved.
        hub.publish(jan.id, View { guide: Some("postnl".into()), step: Some(("s7".into(), 7)), running: vec![] });
        assert!(jan_rx.try_recv().is_err());
        assert_eq!(last_peers(&mut host_rx)[0].summary(), "jan (observer) · step 7");

        assert_eq!(hub.end_named("jan", "your access was revoked"), 1);
        assert!(jan_end.token.is_cancelled());
        assert_eq!(jan_end.why().as_deref(), Some("your access was revoked"));
        drop(jan);
        assert!(last_peers(&mut host_rx).is_empty());
        drop(host);
    }
}
