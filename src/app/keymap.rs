//! Keys to intents. The help screen is generated from this table, so what
//! it says is what the keys do.

use super::input::{Code, Key};
pub use super::intent::{Group, Intent};

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
    Binding {
        keys: &[c('b')],
        label: "b",
        intent: Intent::SetBlocked,
        help: "mark blocked (asks why: kept as the note, listed in the report)",
    },
    Binding { keys: &[c('s')], label: "s", intent: Intent::SetSkipped, help: "mark skipped" },
    Binding { keys: &[c('u')], label: "u", intent: Intent::SetTodo, help: "mark todo (undo)" },
    Binding {
        keys: &[c('e')],
        label: "e",
        intent: Intent::EditNote,
        help: "edit the step's note (Enter new line, Ctrl-S or Esc saves, Ctrl-C discards)",
    },
    Binding { keys: &[c('/')], label: "/", intent: Intent::Search, help: "search steps" },
    Binding { keys: &[c('n')], label: "n", intent: Intent::NextMatch, help: "next search match" },
    Binding {
        keys: &[c('L'), c('L')],
        label: "L",
        intent: Intent::SwitchLanguage,
        help: "switch the guide's language",
    },
    Binding {
        keys: &[c('t')],
        label: "t",
        intent: Intent::Troubleshoot,
        help: "jump to the step's troubleshooting (again: its next item)",
    },
    Binding {
        keys: &[k(Code::Backspace), Key::ctrl('o')],
        label: "Bksp/^O",
        intent: Intent::JumpBack,
        help: "back to the step t jumped from (Backspace or Ctrl-O)",
    },
    Binding {
        keys: &[k(Code::PageDown), c('J'), c('J')],
        label: "PgDn/J",
        intent: Intent::ScrollDetailDown,
        help: "scroll the detail down a page",
    },
    Binding {
        keys: &[k(Code::PageUp), c('K'), c('K')],
        label: "PgUp/K",
        intent: Intent::ScrollDetailUp,
        help: "scroll the detail up a page",
    },
    Binding {
        keys: &[c('c')],
        label: "c",
        intent: Intent::RunCheck,
        help: "run the step's checks (while running: cancel)",
    },
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
        keys: &[c('R')],
        label: "R",
        intent: Intent::Report,
        help: "write the hand-off report (Markdown) next to the state file",
    },
    Binding {
        keys: &[c('H')],
        label: "H",
        intent: Intent::Log,
        help: "history: the event log of this guide (who changed what, when)",
    },
    Binding {
        keys: &[c('f')],
        label: "f",
        intent: Intent::Follow,
        help: "follow another cutover serve session (again: next one)",
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

/// What a binding says in the help where it is shown.
pub fn help_text(b: &Binding, picker: bool) -> &'static str {
    match (b.intent, picker) {
        (Intent::Open, true) => "open the guide",
        (Intent::Up, true) => "previous guide",
        (Intent::Down, true) => "next guide",
        (Intent::Top, true) => "first guide",
        (Intent::Bottom, true) => "last guide",
        (Intent::Back, true) => "quit",
        (Intent::Back, false) => "back to the guide list (first: cancel the step's running check)",
        _ => b.help,
    }
}

/// The bindings that work here, grouped by what they do.
pub fn grouped(picker: bool, observe: bool) -> Vec<(Group, Vec<&'static Binding>)> {
    Group::ALL
        .iter()
        .map(|g| (*g, BINDINGS.iter().filter(|b| b.intent.group() == *g && b.intent.works(picker, observe)).collect()))
        .filter(|(_, v): &(Group, Vec<&Binding>)| !v.is_empty())
        .collect()
}

/// The keys table of the README, generated from the bindings (a test keeps
/// the README's copy equal to it).
pub fn markdown_table() -> String {
    let mut out = String::from("| key | what it does |\n|---|---|\n");
    for (g, bindings) in grouped(false, false) {
        out.push_str(&format!("| **{}** | |\n", g.title()));
        for b in bindings {
            out.push_str(&format!("| `{}` | {} |\n", b.label, help_text(b, false).replace('|', "\\|")));
        }
    }
    out
}

/// The hints in the footer: what acts on the selected step first (from the
/// verdict strip), then the keys most used; at most `max` of them.
pub fn footer_keys(app: &super::App, max: usize) -> Vec<(&'static str, &'static str)> {
    use super::Screen;
    let mut out: Vec<(&'static str, &'static str)> = Vec::new();
    if app.screen == Screen::Picker {
        return vec![("↑↓", "choose"), ("Enter", "open"), ("?", "help"), ("q", "quit")];
    }
    if let (Some(g), Some(step)) = (app.guide(), app.selected_step()) {
        for k in super::next::next_for(app, g, step).keys {
            out.push((k.key, k.what));
        }
    }
    let observe = app.settings.observe;
    let common: &[(&'static str, &'static str)] = if observe {
        &[("↑↓", "move"), ("/", "search"), ("H", "history"), ("R", "report"), ("?", "help"), ("q", "quit")]
    } else {
        &[
            ("Space", "done"),
            ("↑↓", "move"),
            ("e", "note"),
            ("c", "check"),
            ("b", "blocked"),
            ("/", "search"),
            ("?", "help"),
            ("q", "quit"),
        ]
    };
    // ? and q always fit: they go last, whatever else is cut.
    let tail = 2;
    for (k, w) in common.iter().take(common.len() - tail) {
        if out.len() + tail >= max {
            break;
        }
        if !out.iter().any(|(ok, _)| ok == k) {
            out.push((k, w));
        }
    }
    out.truncate(max.saturating_sub(tail));
    out.extend_from_slice(&common[common.len() - tail..]);
    out
}
