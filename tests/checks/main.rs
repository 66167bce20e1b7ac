//! The checks against the world they touch: loopback HTTP servers (the
//! fake carrier, wiremock, hand-written TLS and slow servers), shell
//! commands and temp dirs, through the runner as the app uses it.

#[path = "../common/mod.rs"]
mod common;

mod edges;
mod fake_carrier;
mod http;
mod in_process;
mod runner;
