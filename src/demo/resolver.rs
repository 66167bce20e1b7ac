//! The demo's resolver: every name is loopback.

use crate::check::reach::Resolve;
use futures::future::BoxFuture;

/// A resolver for the demo: every name is loopback, so nothing the demo
/// does can leave this machine.
#[derive(Debug)]
pub struct LoopbackResolver;

impl Resolve for LoopbackResolver {
    fn resolve(&self, _host: &str, port: u16) -> BoxFuture<'static, std::io::Result<Vec<std::net::SocketAddr>>> {
        Box::pin(async move { Ok(vec![std::net::SocketAddr::from(([127, 0, 0, 1], port))]) })
    }
}
