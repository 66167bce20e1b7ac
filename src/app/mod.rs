//! The app's state machine (The Elm Architecture): `update(&mut App, Action)
//! -> Vec<Effect>`. Pure: effects are data, only the runtime performs them.
//!
//! The message is [`Action`] (`action.rs`), what a key asks for an
//! [`Intent`] (`intent.rs`, mapped from keys by `keymap.rs`), what the
//! runtime is asked to do an [`Effect`] (`effect.rs`). `update.rs` takes the
//! runtime's messages, `keys.rs` the keys; `steps.rs` moves and marks,
//! `run.rs` asks for checks, `line.rs` is the one-line prompt. Imports go
//! one way: update -> keys -> (run, steps, search, copy) -> state.

mod action;
mod copy;
pub mod editor;
mod effect;
pub mod input;
mod intent;
pub mod keymap;
mod keys;
mod line;
mod news;
pub mod next;
pub mod peers;
mod run;
mod search;
pub mod state;
mod steps;
mod update;

pub use action::Action;
pub use effect::{CheckRequest, Effect, ReportJob};
pub use intent::{Group, Intent};
pub use line::{LineInput, LinePurpose, Typed};
pub use news::describe_new_events;
pub use peers::{Peer, Rights};
pub use state::*;
pub use steps::open_guide;
pub use update::update;

/// One entry per guide of the catalog, in its order, for [`App::new`].
pub fn entries(catalog: &crate::guide::Catalog) -> Vec<GuideEntry> {
    // A built-in guide's step hashes were computed when it was built.
    catalog
        .guides
        .iter()
        .map(|l| GuideEntry { guide: l.guide.clone(), source: l.source.describe(), hashes: l.step_hashes() })
        .collect()
}
