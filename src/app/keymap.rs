//! Keys to intents. The help screen is generated from this table, so what
//! it says is what the keys do.

use super::input::{Code, Key};

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
    ScrollDetailDown,
    ScrollDetailUp,
    RunCheck,
    RunAllChecks,
    CancelCheck,
    SwitchEnv,
    EnterKey,
    Acknowledge,
    Copy,
    Log,
    Help,
    Quit,
}

pub struct Binding {
    pub keys: &'static [Key],
    pub label: &'static str,
    pub intent: Intent,
    pub help: &'static str,
}

const fn k(code: Code) -> Key {
    Key { code, ctrl: false, alt: false }
}
const fn c(ch: char) -> Key {
    k(Code::Char(ch))
}

/// Every binding of the normal mode, in help order.
pub const BINDINGS: &[Binding] = &[
    Binding { keys: &[k(Code::Up), c('k')], label: "↑/k", intent: Intent::Up, help: "previous step" },
    Binding { keys: &[k(Code::Down), c('j')], label: "↓/j", intent: Intent::Down, help: "next step" },
    Binding { keys: &[k(Code::Home), c('g')], label: "g/Home", intent: Intent::Top, help: "first step" },
    Binding { keys: &[k(Code::End), c('G'), c('G')], label: "G/End", intent: Intent::Bottom, help: "last item" },
    Binding {
        keys: &[k(Code::Enter), k(Code::Right), c('l')],
        label: "Enter",
        intent: Intent::Open,
        help: "open the guide / the step's detail",
    },
    Binding {
        keys: &[k(Code::Esc), k(Code::Left), c('h')],
        label: "Esc",
        intent: Intent::Back,
        help: "back (to the guide list)",
    },
    Binding { keys: &[c(' '), c('x')], label: "Space/x", intent: Intent::ToggleDone, help: "toggle done" },
    Binding { keys: &[c('d')], label: "d", intent: Intent::SetDone, help: "mark done" },
    Binding { keys: &[c('i')], label: "i", intent: Intent::SetInProgress, help: "mark in progress" },
    Binding { keys: &[c('b')], label: "b", intent: Intent::SetBlocked, help: "mark blocked" },
    Binding { keys: &[c('s')], label: "s", intent: Intent::SetSkipped, help: "mark skipped" },
    Binding { keys: &[c('u')], label: "u", intent: Intent::SetTodo, help: "mark todo (undo)" },
    Binding { keys: &[c('e')], label: "e", intent: Intent::EditNote, help: "edit the step's note" },
    Binding { keys: &[c('/')], label: "/", intent: Intent::Search, help: "search steps" },
    Binding { keys: &[c('n')], label: "n", intent: Intent::NextMatch, help: "next search match" },
    Binding {
        keys: &[c('L'), c('L')],
        label: "L",
        intent: Intent::SwitchLanguage,
        help: "switch the guide's language",
    },
    Binding { keys: &[c('t')], label: "t", intent: Intent::Troubleshoot, help: "jump to the step's troubleshooting" },
    Binding {
        keys: &[k(Code::PageDown), c('J'), c('J')],
        label: "PgDn/J",
        intent: Intent::ScrollDetailDown,
        help: "scroll the detail down",
    },
    Binding {
        keys: &[k(Code::PageUp), c('K'), c('K')],
        label: "PgUp/K",
        intent: Intent::ScrollDetailUp,
        help: "scroll the detail up",
    },
    Binding { keys: &[c('c')], label: "c", intent: Intent::RunCheck, help: "run the step's check" },
    Binding { keys: &[c('C'), c('C')], label: "C", intent: Intent::RunAllChecks, help: "run all checks of the guide" },
    Binding {
        keys: &[c('E'), c('E')],
        label: "E",
        intent: Intent::SwitchEnv,
        help: "switch environment (sandbox/production)",
    },
    Binding {
        keys: &[c('p')],
        label: "p",
        intent: Intent::EnterKey,
        help: "type the API key for the active environment (memory only)",
    },
    Binding {
        keys: &[c('H')],
        label: "H",
        intent: Intent::Log,
        help: "history: the event log of this guide (who changed what, when)",
    },
    Binding {
        keys: &[c('y')],
        label: "y",
        intent: Intent::Copy,
        help: "copy the step's link, email, phone or check as curl (again: next); OSC 52, in tmux needs set-clipboard on",
    },
    Binding { keys: &[c('a')], label: "a", intent: Intent::Acknowledge, help: "acknowledge a changed step as read" },
    Binding { keys: &[c('?'), c('?'), k(Code::F(1))], label: "?", intent: Intent::Help, help: "this help" },
    Binding {
        keys: &[c('q'), Key { code: Code::Char('c'), ctrl: true, alt: false }],
        label: "q",
        intent: Intent::Quit,
        help: "quit",
    },
];

/// The intent of `key` in normal mode, if any.
pub fn intent_for(key: &Key) -> Option<Intent> {
    BINDINGS.iter().find(|b| b.keys.contains(key)).map(|b| b.intent)
}

/// The short hints in the footer, by screen.
pub fn footer_hints(picker: bool, narrow: bool) -> &'static str {
    match (picker, narrow) {
        (true, _) => "↑↓ choose · Enter open · ? help · q quit",
        (false, false) => {
            "↑↓ move · Space done · i/b/s status · e note · c check · / search · L lang · ? help · q quit"
        }
        (false, true) => "Space done · e note · ? help · q quit",
    }
}
