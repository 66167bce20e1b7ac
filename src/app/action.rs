//! The messages `update` takes: keys and what the runtime reports (a save,
//! a check's records, another instance's change, a signal).

use super::input::Key;
use crate::progress::{CheckRecord, Op, Progress};
use jiff::Timestamp;

#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    Key(Key),
    Paste(String),
    /// The mouse wheel over the detail pane (`--mouse`): scroll it by
    /// this many rows (up if negative), never past its end.
    ScrollDetail(i16),
    /// A click on a step of the list (`--mouse`): its index in `items()`.
    Select(usize),
    /// The clock moved (only sent while something time-dependent shows).
    Tick(Timestamp),
    /// The state as saved by us (`external: false`) or as changed by another instance.
    StateLoaded {
        progress: Progress,
        external: bool,
    },
    /// A save did not happen: why, the ops it held, and what the file holds
    /// now (None if it could not be read either).
    SaveFailed {
        why: String,
        ops: Vec<Op>,
        on_disk: Option<Box<Progress>>,
    },
    CheckFinished {
        run_id: u64,
        guide: String,
        step: String,
        records: Vec<CheckRecord>,
    },
    /// A running check waits for its call budget until `wait.until`
    /// (Some), or goes on (None).
    CheckWaiting {
        run_id: u64,
        guide: String,
        step: String,
        wait: Option<crate::guide::BudgetWait>,
    },
    /// Who else has the state open.
    PresenceChanged(Vec<String>),
    /// This instance could not announce itself (Some: why), or now has.
    NotAnnounced(Option<String>),
    /// For an observer: why the state cannot be shown (Some), or that it
    /// can again (None).
    StateProblem(Option<String>),
    /// A save waits for the state lock ("held by bob (pid 4242) for 3 s").
    Waiting(String),
    /// SIGTERM, SIGHUP or Ctrl-C from outside: save what can be saved, quit.
    Shutdown,
    /// The other sessions of a served checklist, as they are now.
    Peers(Vec<super::Peer>),
    /// Something the server tells this session (a join, an editor's request).
    Notice(String),
    /// A line of the server log (the host's session only).
    ServeLog(Timestamp, String),
    /// The hand-off report was written ([`super::Effect::WriteReport`]):
    /// where (a file, or a served observer's clipboard), or why not.
    ReportWritten(Result<crate::report::ReportPlace, crate::report::ReportError>),
    /// Every event of a guide, archived ones included, oldest first, for the
    /// history view; or why they could not be read.
    HistoryLoaded {
        guide: String,
        events: Result<Vec<crate::progress::Event>, crate::progress::store::StoreError>,
    },
}
