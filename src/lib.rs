//! cutover: a terminal app that walks an integration engineer through a
//! carrier's API migration, step by step, and proves each step with a real
//! check.
//!
//! Pure core: [`guide`], [`progress::model`], [`check::classify`], [`app`].
//! Thin edges: [`progress::store`], the rest of [`check`], [`runtime`], [`ui`],
//! [`serve`] (the checklist over SSH).

pub mod app;
pub mod check;
pub mod cli;
pub mod clock;
pub mod config;
pub mod demo;
pub mod files;
pub mod guide;
pub mod logging;
pub mod paths;
pub mod progress;
pub mod report;
pub mod runtime;
pub mod sanitize;
pub mod serve;
pub mod ui;
