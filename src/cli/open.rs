//! `cutover open GUIDE`: the checklist with a guide open.

use super::tui::{self, Start};
use super::{Env, Global};
use clap::Args;

#[derive(Debug, Args)]
pub struct Open {
    /// The guide: its id (postnl, posti, or one of your own in the guides folder; `cutover guides` lists them).
    #[arg(value_name = "GUIDE")]
    pub guide: String,
    #[command(flatten)]
    pub tui: super::tui::TuiOptions,
}

impl Open {
    pub async fn run(&self, env: &Env, g: &Global) -> super::exit::CliResult {
        tui::run(env, g, Start::Open(&self.guide)).await
    }
}
