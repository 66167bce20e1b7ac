//! The hand-off report: cutover's proof of a migration, in one file, for the
//! carrier's servicedesk or a support engineer.
//!
//! Pure: [`build`] turns the guide, the progress and the attached evidence
//! into a [`Report`] (every value from outside already passed through
//! [`crate::sanitize`]); the three renderers only lay that out. The JSON
//! rendering is the [`Report`] itself, so all formats carry the same facts.
//! The attachments are kept beside the state ([`crate::progress::evidence`]).

mod build;
mod html;
mod json;
mod markdown;
mod markup;
mod model;
mod saved;
mod text;
mod validation;

pub use crate::progress::evidence::{self, Attachment};
pub use build::build;
pub use model::*;
pub use saved::{CLIPBOARD_MAX, ReportError, ReportPlace, render_saved};
pub(crate) use text::*;

use crate::guide::Guide;
use crate::progress::Progress;
use crate::sanitize;
use jiff::Timestamp;
use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

/// The report's JSON format version (`schema` in the output).
pub const REPORT_SCHEMA: u32 = 1;

/// What the report is rendered as.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Markdown,
    Html,
    Json,
}

impl Format {
    /// The usual file extension (`md`, `html`, `json`).
    pub fn extension(self) -> &'static str {
        match self {
            Format::Markdown => "md",
            Format::Html => "html",
            Format::Json => "json",
        }
    }
}

/// A report format's name that is none of them (sanitized).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown report format {0:?}: use markdown, html or json")]
pub struct UnknownFormat(pub String);

impl FromStr for Format {
    type Err = UnknownFormat;
    fn from_str(s: &str) -> Result<Self, UnknownFormat> {
        match s.trim().to_ascii_lowercase().as_str() {
            "markdown" | "md" => Ok(Format::Markdown),
            "html" | "htm" => Ok(Format::Html),
            "json" => Ok(Format::Json),
            _ => Err(UnknownFormat(sanitize::line(s))),
        }
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Format::Markdown => "markdown",
            Format::Html => "html",
            Format::Json => "json",
        })
    }
}

/// Everything the report is made of.
pub struct ReportInput<'a> {
    pub guide: &'a Guide,
    /// Language of the guide's texts in the report (falls back as
    /// [`Text::get`] does).
    pub lang: &'a str,
    pub progress: &'a Progress,
    /// The current content hash per step id ([`crate::guide::step_hash`]),
    /// to flag steps that changed after they were marked.
    pub hashes: &'a BTreeMap<String, String>,
    /// The guide's attachments ([`evidence::list`]).
    pub evidence: &'a [Attachment],
    pub now: Timestamp,
    /// Who made the report.
    pub generated_by: &'a str,
    /// The state file, as shown to the reader.
    pub state_path: &'a str,
}

/// Renders the report in `format`.
pub fn render(input: &ReportInput, format: Format) -> String {
    let report = build(input);
    match format {
        Format::Markdown => markdown::render(&report),
        Format::Html => html::render(&report),
        Format::Json => json::render(&report),
    }
}
