//! `cutover report GUIDE [--format md|json|html] [-o FILE]`.

use super::common::{find_guide, known_secrets, open_store};
use super::exit::{CliError, CliResult};
use super::{Env, Global};
use clap::{Args, ValueEnum};
use std::io::Write;
use std::path::PathBuf;

#[derive(Debug, Args)]
pub struct Report {
    /// The guide: its id (postnl, posti, or one of your own in the guides folder; `cutover guides` lists them).
    #[arg(value_name = "GUIDE")]
    pub guide: String,
    /// The format: Markdown, JSON or a self-contained HTML page.
    #[arg(long, value_enum, default_value = "md")]
    pub format: Format,
    /// Write to FILE instead of standard output.
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum Format {
    /// Markdown
    Md,
    /// JSON (docs/json.md)
    Json,
    /// one HTML page, styles included
    Html,
}

impl Report {
    pub fn run(&self, env: &Env, g: &Global, out: &mut dyn Write, err: &mut dyn Write) -> CliResult {
        report(env, g, &self.guide, self.format, self.output.as_deref(), out, err)
    }
}

fn report(
    env: &Env,
    g: &Global,
    guide: &str,
    format: Format,
    output: Option<&std::path::Path>,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> CliResult {
    let catalog = env.catalog();
    let lg = find_guide(&catalog, guide)?;
    let (store, progress) = open_store(env, g, err)?;
    let prefs = env.lang_pref(g);
    let lang = lg.guide.pick_language(&prefs.iter().map(String::as_str).collect::<Vec<_>>());
    let format = match format {
        Format::Md => crate::report::Format::Markdown,
        Format::Json => crate::report::Format::Json,
        Format::Html => crate::report::Format::Html,
    };
    let guard = known_secrets(env, &catalog);
    if let Some(why) = guard.guard_broken() {
        return Err(CliError::state(format!("no report written: cutover cannot mask every key ({why})")));
    }
    let text = match crate::report::render_saved(
        &lg.guide,
        &lang,
        &progress,
        store.path(),
        &env.user(g),
        env.clock.now(),
        format,
    ) {
        // The last boundary: whatever the state holds, no key leaves in a
        // report.
        Ok(t) => guard.redact(&t),
        Err(e) => return Err(CliError::state(e)),
    };
    match output {
        // Beside a shared state the report is group-readable like the rest.
        Some(path) => match crate::files::write_atomic(path, text.as_bytes(), ".report-") {
            Ok(()) => {
                let _ = writeln!(err, "cutover: report written to {}", path.display());
                Ok(())
            }
            Err(e) => Err(CliError::state(format!("cannot write the report: {e}"))),
        },
        None => {
            let _ = write!(out, "{text}");
            Ok(())
        }
    }
}
