//! The app's state machine (The Elm Architecture): `update(&mut App, Action)
//! -> Vec<Effect>`. Pure: effects are data, only the runtime performs them.

mod copy;
pub mod editor;
pub mod input;
pub mod keymap;
pub mod next;
pub mod peers;
mod run;
mod search;
pub mod state;
mod update;

pub use peers::{Peer, Rights};
pub use state::*;
pub use update::{Action, CheckRequest, Effect, describe_new_events, open_guide, update};

/// One entry per guide of the catalog, in its order, for [`App::new`].
pub fn entries(catalog: &crate::guide::Catalog) -> Vec<GuideEntry> {
    catalog.guides.iter().map(|l| GuideEntry::new(l.guide.clone(), l.source.describe())).collect()
}
