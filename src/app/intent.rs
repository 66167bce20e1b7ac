//! What a key asks for (the keymap maps keys to these), and how the help
//! groups them.

/// What a key asks for, in the step list and the picker.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Intent {
    Up,
    Down,
    Top,
    Bottom,
    PageUp,
    PageDown,
    Open,
    Back,
    ToggleDone,
    SetTodo,
    SetInProgress,
    SetDone,
    SetBlocked,
    SetSkipped,
    EditNote,
    Search,
    NextMatch,
    SwitchLanguage,
    Troubleshoot,
    JumpBack,
    ScrollDetailDown,
    ScrollDetailUp,
    RunCheck,
    RunAllChecks,
    SwitchEnv,
    EnterKey,
    Acknowledge,
    Copy,
    Follow,
    Log,
    Report,
    Help,
    Quit,
}

/// What a key is for, in the order the help lists them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Group {
    Move,
    Mark,
    Check,
    Notes,
    View,
    General,
}

impl Group {
    pub const ALL: [Group; 6] = [Group::Move, Group::Mark, Group::Check, Group::Notes, Group::View, Group::General];

    pub fn title(self) -> &'static str {
        match self {
            Group::Move => "Move",
            Group::Mark => "Mark the step",
            Group::Check => "Check",
            Group::Notes => "Notes, copy, report",
            Group::View => "View",
            Group::General => "General",
        }
    }
}

impl Intent {
    pub fn group(self) -> Group {
        use Intent::*;
        match self {
            Up | Down | Top | Bottom | PageUp | PageDown | Open | Back | Search | NextMatch | Troubleshoot
            | JumpBack | Follow => Group::Move,
            ToggleDone | SetTodo | SetInProgress | SetDone | SetBlocked | SetSkipped | Acknowledge => Group::Mark,
            RunCheck | RunAllChecks | SwitchEnv | EnterKey => Group::Check,
            EditNote | Copy | Report | Log => Group::Notes,
            ScrollDetailDown | ScrollDetailUp | SwitchLanguage => Group::View,
            Help | Quit => Group::General,
        }
    }

    /// Whether the key does something on this screen, for this user: the
    /// picker only moves, opens and quits; an observer changes nothing.
    pub fn works(self, picker: bool, observe: bool) -> bool {
        use Intent::*;
        if picker {
            return matches!(self, Up | Down | Top | Bottom | Open | Help | Quit);
        }
        if observe && (self.group() == Group::Mark || matches!(self, EditNote | RunCheck | RunAllChecks | EnterKey)) {
            return false;
        }
        // Enter does nothing in the checklist (the detail is always shown).
        self != Open
    }
}
