//! What a command needs from the outside world: paths, environment
//! variables, the clock.

use super::Global;
use crate::guide::Catalog;
use crate::paths::{self, Paths};
use std::path::PathBuf;
use std::sync::Arc;

/// Everything a command needs from the outside world.
pub struct Env {
    pub paths: Paths,
    pub vars: crate::check::runner::EnvVars,
    pub clock: Arc<dyn crate::clock::Clock>,
}

impl Env {
    pub fn from_process() -> Env {
        let vars: crate::check::runner::EnvVars = Arc::new(|k: &str| std::env::var(k).ok());
        let clock = crate::clock::from_env(vars("CUTOVER_NOW"));
        Env { paths: Paths::resolve(), vars, clock }
    }

    pub fn var(&self, k: &str) -> Option<String> {
        (self.vars)(k)
    }

    pub fn state_path(&self, g: &Global) -> PathBuf {
        g.state.clone().unwrap_or_else(|| self.paths.default_state())
    }

    pub fn user(&self, g: &Global) -> String {
        let vars = self.vars.clone();
        paths::user_name(g.as_name.as_deref(), &move |k| vars(k))
    }

    pub fn catalog(&self) -> Catalog {
        Catalog::load(Some(&self.paths.guides_dir()))
    }

    pub fn lang_pref(&self, g: &Global) -> Vec<String> {
        let mut out: Vec<String> = g.lang.iter().map(|l| l.to_ascii_lowercase()).collect();
        let vars = self.vars.clone();
        out.extend(paths::locale_languages(&move |k| vars(k)));
        out
    }
}
