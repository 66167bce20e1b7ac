//! What `update` asks the runtime to do. Effects are data; only the
//! runtime performs them, and it answers with an `Action`.

use crate::check::secret::ApiKey;
use crate::guide::Guide;
use crate::progress::{Op, Progress};
use std::sync::Arc;

pub use crate::guide::CheckRequest;

#[derive(Debug, Clone, PartialEq)]
pub enum Effect {
    /// Save these operations: the saver applies them to the state file
    /// under its lock, in order (answered by `Action::StateLoaded` or
    /// `Action::SaveFailed`).
    Save(Vec<Op>),
    /// Start the check (answered by `Action::CheckFinished` with the same
    /// run id).
    StartCheck(CheckRequest),
    CancelCheck {
        run_id: u64,
    },
    /// Write the guide's hand-off report beside the state file (answered
    /// by `Action::ReportWritten`).
    WriteReport(ReportJob),
    /// Put text on the clipboard of the terminal the user sits at (OSC 52).
    Clipboard(String),
    /// Keep a typed key in memory for this guide and environment.
    RememberKey {
        guide: String,
        env: String,
        key: ApiKey,
    },
    /// Tell the host's session what a remote editor asked for and may not
    /// run itself (`cutover serve`).
    AskHost(String),
    /// Read every event of a guide, the archived ones included, for the
    /// history view (answered by [`Action::HistoryLoaded`]).
    LoadHistory {
        guide: String,
    },
}

/// A report to write: the guide in the language on screen, the progress as
/// shown, who asks, and whether they only observe (an observer's report
/// goes to their own data dir).
#[derive(Debug, Clone)]
pub struct ReportJob {
    pub guide: Arc<Guide>,
    pub lang: String,
    pub progress: Progress,
    pub by: String,
    pub observe: bool,
}

/// The same job: the same guide (shared, compared by id and version), the
/// same progress, language and asker.
impl PartialEq for ReportJob {
    fn eq(&self, other: &ReportJob) -> bool {
        (Arc::ptr_eq(&self.guide, &other.guide)
            || (self.guide.id() == other.guide.id() && self.guide.version == other.guide.version))
            && self.lang == other.lang
            && self.progress == other.progress
            && self.by == other.by
            && self.observe == other.observe
    }
}
