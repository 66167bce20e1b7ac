//! The pure core, in process: guides, progress, the verdict rules, the app's
//! update and its screens (ratatui's TestBackend), the report. No network,
//! no terminal, no other process.

#[path = "../common/mod.rs"]
mod common;

mod evidence;
mod first_frame;
mod fuzz_props;
mod guide_files;
mod guides;
mod keys_doc;
mod pair_view;
mod render;
mod report;
mod update;
mod verdict_corpus;
